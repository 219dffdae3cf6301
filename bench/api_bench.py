"""API speed over HTTP from a second process, beside the same work done in-process (DESIGN §5, issue 5).

    python bench/api_bench.py                    # 100,000 CSL papers plus the region, 20 clients, 10 s a run
    python bench/api_bench.py --records 20000 --seconds 5

Loads the papers through the csl mapping into a fresh SQLite data folder, builds the search index, starts
``zhulian serve --workers N`` for each ``--workers`` count and drives it with ``--clients`` concurrent
connections on loopback — with wrk when it is installed (a C client that leaves the CPU to the server),
otherwise from this process with httpx: search queries from a fixed list, and GETs of single records by id. The baseline
runs the same searches and reads through the services in-process, so the difference is the HTTP layer.
Prints requests/s, p50/p95 latency, the server's worker count and RSS. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from import_bench import build, csl_rows  # noqa: E402  (the same papers the import benchmark builds)

QUERIES = ["协同创新", "微电子", "科技金融", "遗传多样性", "数值模拟", "钙钛矿 太阳电池", "供应链 管理", "高炉 煤气",
           "深度学习", "中山大学", "\"图像识别\"", "模具 -塑料", "水产 OR 养殖", "粤港澳", "新能源汽车"]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


def report(label: str, latencies: list[float], seconds: float) -> None:
    print(f"{label:<34} {len(latencies) / seconds:9.0f} req/s   p50 {percentile(latencies, .5) * 1000:7.1f} ms   "
          f"p95 {percentile(latencies, .95) * 1000:7.1f} ms   n={len(latencies)}")


async def drive(urls: list[str], clients: int, seconds: float) -> tuple[list[float], int]:
    latencies: list[float] = []
    failures = 0
    deadline = time.perf_counter() + seconds
    async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=clients)) as client:
        async def worker(offset: int) -> None:
            nonlocal failures
            n = offset
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                response = await client.get(urls[n % len(urls)])
                latencies.append(time.perf_counter() - started)
                failures += response.status_code != 200
                n += clients
        await asyncio.gather(*(worker(i) for i in range(clients)))
    return latencies, failures


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


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="server worker counts to run")
    args = parser.parse_args()

    from zhulian.access import ANONYMOUS
    from zhulian.config import Settings
    from zhulian.exchange import import_file
    from zhulian.records import RecordService
    from zhulian.region.loader import load_region
    from zhulian.search.service import SearchService
    from zhulian.store import Store

    folder = Path(tempfile.mkdtemp(prefix="zhulian-api-bench-"))
    settings = Settings(data_dir=folder / "data", rate_per_key=0, rate_per_address=0)
    store = Store.from_settings(settings)
    load_region(store)
    papers = folder / "papers.tsv"
    build(papers, args.records, csl_rows())
    started = time.perf_counter()
    imported = import_file(store, papers, mapping="csl", skip_invalid=True)
    print(f"loaded {imported.created:,} papers in {time.perf_counter() - started:.1f} s")
    search = SearchService(store, settings=settings)
    started = time.perf_counter()
    search.rebuild()
    print(f"search index built in {time.perf_counter() - started:.1f} s")
    ids = [r["id"] for r in store.query("paper", limit=2000).results]

    records = RecordService(store)
    print(f"\nin-process baseline ({args.seconds:g} s each, one thread)")
    report("search (service)", in_process([lambda q=q: search.search(q, per_page=10) for q in QUERIES],
                                         args.seconds), args.seconds)
    report("get one record (service)", in_process([lambda i=i: records.get(ANONYMOUS, i) for i in ids],
                                                   args.seconds), args.seconds)

    for workers in args.workers:
        over_http(settings, workers, args, ids)


def over_http(settings, workers: int, args: argparse.Namespace, ids: list[str]) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "ZHULIAN_DATA_DIR": str(settings.data_dir), "ZHULIAN_RATE_PER_KEY": "0",
           "ZHULIAN_RATE_PER_ADDRESS": "0"}
    server = subprocess.Popen([sys.executable, "-m", "zhulian.cli", "serve", "--port", str(port),
                               "--workers", str(workers)], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                httpx.get(base + "/api/v1/regions", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        time.sleep(2 if workers > 1 else 0)  # every worker up, not only the first
        search_paths = [f"/api/v1/search?q={quote(q)}&per_page=10" for q in QUERIES]
        record_paths = [f"/api/v1/papers/{i}" for i in ids]
        client = "wrk (C)" if shutil.which("wrk") else "httpx (Python, in this process)"
        print(f"\nover HTTP: {workers} uvicorn worker(s), {args.clients} concurrent clients, {args.seconds:g} s "
              f"each, client {client}")
        for label, paths in (("GET /api/v1/search", search_paths), ("GET /api/v1/papers/{id}", record_paths)):
            load(label, base, paths, args)
        print(f"server RSS {server_rss(server.pid):.0f} MiB over {workers} worker(s) and the supervisor")
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def load(label: str, base: str, paths: list[str], args: argparse.Namespace) -> None:
    if not shutil.which("wrk"):
        latencies, failures = asyncio.run(drive([base + path for path in paths], args.clients, args.seconds))
        report(label, latencies, args.seconds)
        print(f"{'':34} non-200 answers: {failures}")
        return
    script = Path(tempfile.mkdtemp()) / "paths.lua"
    script.write_text(WRK_SCRIPT.replace("PATHS", ",".join(json.dumps(path) for path in paths)), encoding="utf-8")
    done = subprocess.run(["wrk", "-t", "2", "-c", str(args.clients), "-d", f"{args.seconds:g}s", "-s", str(script),
                           base], capture_output=True, text=True, check=True)
    line = next(line for line in done.stdout.splitlines() if line.startswith("ZL "))
    requests, p50_us, p95_us, seconds_us, non_2xx = (float(v) for v in line.split()[1:])
    print(f"{label:<34} {requests / seconds_us * 1e6:9.0f} req/s   p50 {p50_us / 1000:7.1f} ms   "
          f"p95 {p95_us / 1000:7.1f} ms   n={requests:.0f}   non-2xx {non_2xx:.0f}")


WRK_SCRIPT = """
paths = {PATHS}
counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", paths[(counter % #paths) + 1])
end
done = function(summary, latency, requests)
  io.write(string.format("ZL %d %f %f %f %d\\n", summary.requests, latency:percentile(50),
                         latency:percentile(95), summary.duration, summary.errors.status))
end
"""


def server_rss(pid: int) -> float:
    """The supervisor's RSS and its worker processes' together."""
    children = Path(f"/proc/{pid}/task/{pid}/children")
    pids = [pid] + [int(c) for c in children.read_text().split()] if children.exists() else [pid]
    return sum(rss_mib(p) for p in pids)

if __name__ == "__main__":
    main()
