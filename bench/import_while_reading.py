"""Record GETs while a large import runs through the API (issue 13): an import is a background job, and the
server's workers keep answering reads meanwhile.

A real `zhulian serve --workers N` holds `--records` papers; `--clients` connections GET single records, once
with nothing else running (the baseline, same run, `--seconds` long) and once for as long as a `--rows`-row CSV
import, sent with `Prefer: respond-async`, runs as a job (followed at `/api/v1/jobs/{id}` until it ends). Rounds
alternate and figures are medians; the run fails if any GET errs or times out, or the import job does not succeed.

The load comes from wrk (Debian: `apt-get install wrk`), a C load generator: an in-Python client spent more CPU
than the server on this 2-core machine and measured itself. The client's own CPU is printed beside the figures.

    python bench/import_while_reading.py --records 20000 --rows 20000 --workers 2 --rounds 3
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from api_bench import loaded_papers, served, server_cpu_seconds, server_peak_mb  # noqa: E402
from common import BenchFailed, machine, work_folder  # noqa: E402

# Requests cycle through the record paths, one file line each; ``done`` prints what the bench reads back.
WRK_SCRIPT = """
local paths = {}
for line in io.lines(os.getenv("ZHULIAN_BENCH_PATHS")) do paths[#paths + 1] = line end
local n = 0
request = function()
  n = n % #paths + 1
  return wrk.format("GET", paths[n])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("ZHULIAN requests=%d errors=%d p50_us=%d p95_us=%d seconds=%f\\n", summary.requests,
    e.connect + e.read + e.write + e.status + e.timeout, latency:percentile(50), latency:percentile(95),
    summary.duration / 1e6))
end
"""


@dataclass
class Load:
    requests: int
    p50_ms: float
    p95_ms: float
    seconds: float
    client_cpu: float  # seconds of CPU wrk itself used

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=20_000, help="papers in the store before the run")
    parser.add_argument("--rows", type=int, default=20_000, help="organisation rows in the imported file")
    parser.add_argument("--clients", type=int, default=20, help="concurrent connections, each one request at a time")
    parser.add_argument("--seconds", type=float, default=8, help="length of one baseline run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=10)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise BenchFailed("wrk is not installed: apt-get install -y wrk (Debian/Ubuntu) / 未安装 wrk，请先安装")
    print(f"machine: {machine()}")
    with work_folder("zhulian-import-while-reading-") as folder:
        run(folder, args)


def run(folder: Path, args: argparse.Namespace) -> None:
    from zhulian.access import create_key

    settings, store = loaded_papers(folder, args.records)
    paths = folder / "paths.txt"
    paths.write_text("".join(f"/api/v1/papers/{r['id']}\n" for r in store.query("paper", limit=2000).results))
    script = folder / "get.lua"
    script.write_text(WRK_SCRIPT)
    secret = create_key(store, "admin", name="bench")[1]
    store.close()
    files = [organisations(folder / f"orgs-{n}.csv", args.rows, n) for n in range(args.rounds)]
    with served(settings, args.workers, ZHULIAN_MAX_UPLOAD_BYTES=str(1 << 30)) as (base, server):
        print(f"\n{args.workers} worker(s), {args.clients} connections (wrk) GETting single records; "
              f"imports of {args.rows:,} organisation rows; {machine()}")
        quiet: list[Load] = []
        busy: list[Load] = []
        for round_no in range(args.rounds):
            quiet.append(wrk(base, script, paths, args, stop=None))
            busy.append(reads_during_import(base, secret, files[round_no], script, paths, args))
            print(f"  round {round_no + 1}: p95 {quiet[-1].p95_ms:.1f} ms quiet, {busy[-1].p95_ms:.1f} ms during "
                  f"the import ({busy[-1].seconds:.1f} s); {machine()}")
        for label, runs in (("GET one record, nothing else running", quiet),
                            ("GET one record, during the import", busy)):
            print(f"  {label:<40} {median(r.rate for r in runs):9.0f} req/s   p50 {median(r.p50_ms for r in runs):7.1f}"
                  f" ms   p95 {median(r.p95_ms for r in runs):7.1f} ms   client CPU "
                  f"{median(100 * r.client_cpu / r.seconds for r in runs):.0f}% of one core")
        took = median(r.seconds for r in busy)
        print(f"  import job: {took:.1f} s median for {args.rows:,} rows ({args.rows / took:,.0f} rows/s)")
        print(f"  server: CPU {server_cpu_seconds(server.pid):.1f} s, peak RSS {server_peak_mb(server.pid):,.0f} MB")


def wrk(base: str, script: Path, paths: Path, args: argparse.Namespace, stop: threading.Event | None) -> Load:
    """One wrk run: ``--seconds`` long, or, given ``stop``, until it is set (wrk ends on SIGINT and reports)."""
    seconds = f"{args.seconds:g}s" if stop is None else "3600s"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    process = subprocess.Popen(
        ["wrk", "-t", "2", "-c", str(args.clients), "-d", seconds, "--timeout", f"{args.timeout:g}s", "-s",
         str(script), base], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "ZHULIAN_BENCH_PATHS": str(paths)})
    if stop is not None:
        stop.wait()
        process.send_signal(signal.SIGINT)
    output = process.communicate(timeout=args.seconds + 60)[0]
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    found = re.search(r"ZHULIAN requests=(\d+) errors=(\d+) p50_us=(\d+) p95_us=(\d+) seconds=([\d.]+)", output)
    if found is None:
        raise BenchFailed(f"wrk printed no figures: {output[-500:]}")
    requests, errors, p50, p95, took = int(found[1]), int(found[2]), int(found[3]), int(found[4]), float(found[5])
    if errors or requests == 0:
        raise BenchFailed(f"{errors} of {requests} GETs failed or timed out: {output[-500:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Load(requests, p50 / 1000, p95 / 1000, took, cpu)


def reads_during_import(base: str, secret: str, path: Path, script: Path, paths: Path,
                        args: argparse.Namespace) -> Load:
    """The GETs for as long as the import job runs; ``seconds`` is how long it ran."""
    auth = {"Authorization": f"Bearer {secret}"}
    answer = httpx.post(f"{base}/api/v1/import/orgs", headers={**auth, "Prefer": "respond-async"}, timeout=120,
                        files={"file": (path.name, path.read_bytes(), "text/csv")})
    if answer.status_code != 202:
        raise BenchFailed(f"the import was not accepted as a job: {answer.status_code} {answer.text[:300]}")
    job_url = base + answer.headers["Location"]
    finished = threading.Event()
    outcome: dict = {}

    def follow() -> None:
        try:
            while True:
                answer = httpx.get(job_url, headers=auth, timeout=30)
                if answer.status_code != 200:
                    outcome["error"] = f"GET {job_url}: {answer.status_code} {answer.text[:300]}"
                    return
                if answer.json()["state"] in ("succeeded", "failed"):
                    outcome.update(answer.json())
                    return
                time.sleep(0.5)
        finally:
            finished.set()  # stops wrk whatever happened

    threading.Thread(target=follow, daemon=True).start()
    load = wrk(base, script, paths, args, stop=finished)
    if outcome.get("state") != "succeeded" or not outcome["result"]["ok"]:
        raise BenchFailed(f"the import job did not succeed: {str(outcome)[:500]}")
    return load


def median(values) -> float:
    ordered = sorted(values)
    return ordered[len(ordered) // 2]


def organisations(path: Path, rows: int, round_no: int) -> Path:
    with path.open("w", encoding="utf-8") as handle:
        handle.write("name.zh,kind,city,website\n")
        for n in range(rows):
            handle.write(f"基准企业{round_no}-{n:06d}有限公司,enterprise,440300,https://e{round_no}-{n}.example.cn\n")
    return path


if __name__ == "__main__":
    main()
