"""Record GETs while a large import runs through the API (issue 13): an import is a background job, and the
server's workers keep answering reads meanwhile.

A real `zhulian serve --workers N` holds `--records` papers; 20 clients GET single records for `--seconds`, once
with nothing else running (the baseline, same run) and once while a `--rows`-row CSV import is sent with
`Prefer: respond-async` and followed at `/api/v1/jobs/{id}` until it ends. Rounds alternate and figures are
medians; the run fails if any GET errs or times out, or the import job does not succeed.

    python bench/import_while_reading.py --records 20000 --rows 20000 --workers 2
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from api_bench import drive, loaded_papers, report, served, server_cpu_seconds, server_peak_mb  # noqa: E402
from common import BenchFailed, machine, percentile, work_folder  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=20_000, help="papers in the store before the run")
    parser.add_argument("--rows", type=int, default=20_000, help="organisation rows in the imported file")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=8, help="length of one baseline run")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=10)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    with work_folder("zhulian-import-while-reading-") as folder:
        run(folder, args)


def run(folder: Path, args: argparse.Namespace) -> None:
    from zhulian.access import create_key

    settings, store = loaded_papers(folder, args.records)
    ids = [r["id"] for r in store.query("paper", limit=2000).results]
    secret = create_key(store, "admin", name="bench")[1]
    store.close()
    files = [organisations(folder / f"orgs-{n}.csv", args.rows, n) for n in range(args.rounds)]
    with served(settings, args.workers, ZHULIAN_MAX_UPLOAD_BYTES=str(1 << 30)) as (base, server):
        urls = [f"{base}/api/v1/papers/{i}" for i in ids]
        print(f"\n{args.workers} worker(s), {args.clients} clients GETting single records; "
              f"imports of {args.rows:,} organisation rows; {machine()}")
        quiet: list[list[float]] = []
        busy: list[list[float]] = []
        import_seconds: list[float] = []
        for round_no in range(args.rounds):
            quiet.append(asyncio.run(drive(urls, args.clients, args.seconds, args.timeout)))
            latencies, took = reads_during_import(base, secret, files[round_no], urls, args)
            busy.append(latencies)
            import_seconds.append(took)
        for label, runs, seconds in (("GET one record, nothing else running", quiet, [args.seconds] * args.rounds),
                                     ("GET one record, during the import", busy, import_seconds)):
            medians = {"p50": sorted(percentile(r, .5) for r in runs)[len(runs) // 2],
                       "p95": sorted(percentile(r, .95) for r in runs)[len(runs) // 2]}
            rates = sorted(len(r) / s for r, s in zip(runs, seconds, strict=True))
            report(label, medians, rates[len(rates) // 2])
        print(f"  import job: {sorted(import_seconds)[len(import_seconds) // 2]:.1f} s median for {args.rows:,} rows"
              f" ({args.rows / sorted(import_seconds)[len(import_seconds) // 2]:,.0f} rows/s)")
        print(f"  server: CPU {server_cpu_seconds(server.pid):.1f} s, peak RSS {server_peak_mb(server.pid):,.0f} MB")


def reads_during_import(base: str, secret: str, path: Path, urls: list[str],
                        args: argparse.Namespace) -> tuple[list[float], float]:
    """GET latencies for as long as the import job runs, and how long it ran."""
    auth = {"Authorization": f"Bearer {secret}"}
    started = time.monotonic()
    answer = httpx.post(f"{base}/api/v1/import/orgs", headers={**auth, "Prefer": "respond-async"}, timeout=120,
                        files={"file": (path.name, path.read_bytes(), "text/csv")})
    if answer.status_code != 202:
        raise BenchFailed(f"the import was not accepted as a job: {answer.status_code} {answer.text[:300]}")
    job_url = base + answer.headers["Location"]
    finished = threading.Event()
    outcome: dict = {}

    def follow() -> None:
        while True:
            job = httpx.get(job_url, headers=auth, timeout=30).json()
            if job["state"] in ("succeeded", "failed"):
                outcome.update(job)
                finished.set()
                return
            time.sleep(0.2)

    threading.Thread(target=follow, daemon=True).start()
    latencies: list[float] = []
    while not finished.is_set():
        latencies += asyncio.run(drive(urls, args.clients, 1.0, args.timeout))
    took = time.monotonic() - started
    if outcome.get("state") != "succeeded" or not outcome["result"]["ok"]:
        raise BenchFailed(f"the import job did not succeed: {str(outcome)[:500]}")
    return latencies, took


def organisations(path: Path, rows: int, round_no: int) -> Path:
    with path.open("w", encoding="utf-8") as handle:
        handle.write("name.zh,kind,city,website\n")
        for n in range(rows):
            handle.write(f"基准企业{round_no}-{n:06d}有限公司,enterprise,440300,https://e{round_no}-{n}.example.cn\n")
    return path


if __name__ == "__main__":
    main()
