"""API speed over HTTP from a second process, beside the same work done in-process (DESIGN §5, issues 5 and 21).

    python bench/api_bench.py                    # 100,000 CSL papers plus the region, 20 clients, 10 s a run
    python bench/api_bench.py --records 20000 --seconds 5
    python bench/api_bench.py --url http://127.0.0.1:8000 --seconds 5   # drive a server that is already running

Loads the papers through the csl mapping into a temporary SQLite data folder (removed at the end, however the run
ends), builds the search index, starts ``zhulian serve --workers N`` for each ``--workers`` count and drives it
with ``--clients`` concurrent connections on loopback from this process (httpx): searches with the ``type`` and
``city`` facets, 20 a page, over broad words (研究, 技术 …), narrow pairs of real keywords and the query language,
and GETs of single records by id. The in-process baseline runs the same searches and reads through the services,
alternating with the HTTP runs, so the difference is the HTTP layer; medians over ``--rounds`` runs are printed.

Every answer is checked: a timeout, a socket error or a non-2xx answer fails the run (exit 1, the reason on
stderr), as does a run that completed no request at all — a stalled server never prints as a result. The server's
CPU time and peak RSS and the machine's load are printed beside the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import BenchFailed, alternate, machine, percentile, peak_memory_mb, stage, work_folder  # noqa: E402
from import_bench import build, csl_rows  # noqa: E402  (the same papers the import benchmark builds)

BROAD = ["研究", "技术", "方法", "系统", "分析"]
NARROW = ["微电子", "科技金融", "遗传多样性", "数值模拟", "钙钛矿 太阳电池", "供应链 管理", "高炉 煤气", "深度学习",
          "中山大学", "\"图像识别\"", "模具 -塑料", "水产 OR 养殖", "粤港澳", "新能源汽车", "协同创新"]
FACETS = "&group_by=type,city&per_page=20"


class Failures:
    """Everything that went wrong in a run, by kind, so the run can be refused with its reason."""

    def __init__(self) -> None:
        self.kinds: dict[str, int] = {}
        self.example = ""

    def add(self, kind: str, example: str) -> None:
        self.kinds[kind] = self.kinds.get(kind, 0) + 1
        self.example = self.example or example

    def check(self, label: str, done: int) -> None:
        if self.kinds:
            raise BenchFailed(f"{label}: {', '.join(f'{n} {kind}' for kind, n in self.kinds.items())} "
                              f"(first: {self.example}); {done} requests answered well")
        if done == 0:
            raise BenchFailed(f"{label}: no request completed")


async def drive(urls: list[str], clients: int, seconds: float, timeout: float) -> list[float]:
    """Latencies of every good answer; any bad one fails the run once the time is up."""
    latencies: list[float] = []
    failures = Failures()
    deadline = time.perf_counter() + seconds
    async with httpx.AsyncClient(timeout=timeout, limits=httpx.Limits(max_connections=clients)) as client:
        async def worker(offset: int) -> None:
            n = offset
            while time.perf_counter() < deadline:
                url = urls[n % len(urls)]
                n += clients
                started = time.perf_counter()
                try:
                    response = await client.get(url)
                except httpx.TimeoutException:
                    failures.add("timeouts", f"{url} took over {timeout:g} s")
                    continue
                except httpx.HTTPError as error:
                    failures.add("socket errors", f"{url}: {type(error).__name__} {error}")
                    await asyncio.sleep(0.05)  # a refused connection fails at once: do not spin
                    continue
                if not 200 <= response.status_code < 300:
                    failures.add("non-2xx answers", f"{url} → {response.status_code} {response.text[:200]}")
                    continue
                latencies.append(time.perf_counter() - started)
        await asyncio.gather(*(worker(i) for i in range(clients)))
    failures.check(urls[0].split("?")[0], len(latencies))
    return latencies


def in_process(calls: list, seconds: float) -> list[float]:
    latencies = []
    deadline = time.perf_counter() + seconds
    n = 0
    while time.perf_counter() < deadline:
        started = time.perf_counter()
        calls[n % len(calls)]()
        latencies.append(time.perf_counter() - started)
        n += 1
    return latencies


def report(label: str, figures: dict[str, float], count: float) -> None:
    print(f"  {label:<40} {count:9.0f} req/s   p50 {figures['p50'] * 1000:7.1f} ms   p95 {figures['p95'] * 1000:7.1f} ms")


def search_paths() -> list[str]:
    return [f"/api/v1/search?q={quote(q)}{FACETS}" for q in BROAD + NARROW]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--rounds", type=int, default=3, help="alternated runs of each, medians reported")
    parser.add_argument("--timeout", type=float, default=10, help="seconds before a request counts as failed")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="server worker counts to run")
    parser.add_argument("--url", help="drive this running server instead of loading and starting one")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    if args.url:
        paths = search_paths()
        latencies = asyncio.run(drive([args.url.rstrip("/") + p for p in paths], args.clients, args.seconds,
                                      args.timeout))
        report("GET /api/v1/search (facets)", {"p50": percentile(latencies, .5), "p95": percentile(latencies, .95)},
               len(latencies) / args.seconds)
        return
    with work_folder("zhulian-api-bench-") as folder:
        run_all(folder, args)


def run_all(folder: Path, args: argparse.Namespace) -> None:
    from zhulian.access import ANONYMOUS
    from zhulian.records import RecordService
    from zhulian.search.service import SearchService

    settings, store = loaded_papers(folder, args.records)
    search = SearchService(store, settings=settings)
    with stage("index build"):
        search.rebuild()
    ids = [r["id"] for r in store.query("paper", limit=2000).results]
    records = RecordService(store)
    queries = BROAD + NARROW
    local = {"search (service, in-process)": lambda: in_process(
                [lambda q=q: search.search(q, per_page=20, group_by="type,city") for q in queries], args.seconds),
             "get one record (service, in-process)": lambda: in_process(
                [lambda i=i: records.get(ANONYMOUS, i) for i in ids], args.seconds)}
    for workers in args.workers:
        over_http(settings, workers, args, ids, local)


def loaded_papers(folder: Path, records: int) -> tuple[Any, Any]:
    """Settings (no rate limits) and a store in ``folder`` holding the region and ``records`` CSL papers."""
    from zhulian.config import Settings
    from zhulian.exchange import import_file
    from zhulian.records.reference import load_region
    from zhulian.store import Store

    settings = Settings(data_dir=folder / "data", rate_per_key=0, rate_per_address=0)
    store = Store.from_settings(settings)
    load_region(store)
    papers = folder / "papers.tsv"
    build(papers, records, csl_rows())
    with stage("load"):
        imported = import_file(store, papers, mapping="csl", skip_invalid=True)
    print(f"loaded {imported.created:,} papers")
    return settings, store


@contextmanager
def served(settings: Any, workers: int, **environment: str) -> Iterator[tuple[str, subprocess.Popen]]:
    """A real ``zhulian serve`` on a free port over the settings' data folder, rate limits off, once every worker
    answers; stopped with SIGTERM afterwards (a server that does not stop within 30 s fails the run)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "ZHULIAN_DATA_DIR": str(settings.data_dir), "ZHULIAN_RATE_PER_KEY": "0",
           "ZHULIAN_RATE_PER_ADDRESS": "0", **environment}
    server = subprocess.Popen([sys.executable, "-m", "zhulian.cli", "serve", "--port", str(port),
                               "--workers", str(workers)], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base, server)
        time.sleep(2 if workers > 1 else 0)  # every worker up, not only the first
        yield base, server
        if server.poll() is not None:
            raise BenchFailed(f"the server exited ({server.returncode}) during the run")
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            raise BenchFailed("the server did not stop within 30 s of SIGTERM") from None


def over_http(settings, workers: int, args: argparse.Namespace, ids: list[str], local: dict) -> None:
    with served(settings, workers) as (base, server):
        record_paths = [f"/api/v1/papers/{i}" for i in ids]
        print(f"\n{workers} uvicorn worker(s), {args.clients} concurrent clients (httpx), {args.seconds:g} s a run, "
              f"{args.rounds} rounds alternating with the in-process baseline; medians; {machine()}")
        cpu = server_cpu_seconds(server.pid)
        for (label, paths), (local_label, baseline) in zip(
                (("GET /api/v1/search (type+city facets, 20)", search_paths()),
                 ("GET /api/v1/papers/{id}", record_paths)), local.items(), strict=True):
            counts: dict[str, list[int]] = {label: [], local_label: []}

            def http(label=label, paths=paths, counts=counts) -> list[float]:
                latencies = asyncio.run(drive([base + p for p in paths], args.clients, args.seconds, args.timeout))
                counts[label].append(len(latencies))
                return latencies

            def here(local_label=local_label, baseline=baseline, counts=counts) -> list[float]:
                latencies = baseline()
                counts[local_label].append(len(latencies))
                return latencies

            figures = alternate({label: http, local_label: here}, args.rounds)
            for name, values in figures.items():
                report(name, values, sorted(counts[name])[len(counts[name]) // 2] / args.seconds)
        print(f"  server: CPU {server_cpu_seconds(server.pid) - cpu:.1f} s during the HTTP runs, "
              f"peak RSS {server_peak_mb(server.pid):,.0f} MB over {workers} worker(s) and the supervisor")


def wait_until_up(base: str, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 600  # a shared machine at load 15 on 2 cores took over 120 s to start two workers
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise BenchFailed(f"the server exited ({server.returncode}): {server.stderr.read().decode()[-2000:]}")
        try:
            if httpx.get(base + "/api/v1/search?q=研究", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise BenchFailed("the server did not answer a search within 600 s")


def _tree(pid: int) -> list[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children")
    return [pid] + [int(c) for c in children.read_text().split()] if children.exists() else [pid]


def server_cpu_seconds(pid: int) -> float:
    """User and system CPU time of the server and its workers so far."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for p in _tree(pid):
        fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def server_peak_mb(pid: int) -> float:
    return sum(peak_memory_mb(p) for p in _tree(pid))


if __name__ == "__main__":
    main()
