"""Harvest speed: records replicated from a node to a hub over loopback HTTP, beside a local import of the
same records in the same run (DESIGN §5).

    python bench/harvest_bench.py                  # 100,000 papers
    python bench/harvest_bench.py --records 20000  # a quicker run

The source node's store is filled by importing CSL papers (the import benchmark's builder), then served by a
real ``zhulian serve`` process; the hub (SQLite, in this process) harvests its whole feed through
``Harvester`` — HTTP, JSON, page checks, origin bookkeeping, the store's upserts with revisions, projections
and its own change feed. The baseline imports the same TSV into a fresh store. The two take turns, each into a
fresh store; figures are printed, medians of ``--runs`` rounds; nothing is asserted.

Costs (issue 14): a harvested page is written through the same ``Writer.upsert_many`` as an import, so the
import benchmark's profile applies to it; on top of that, the harvester wrote each changed record's audit entry
as its own SQLAlchemy ``INSERT`` (compiled and executed per record). Writing them with ``Writer.log_many`` as
one multi-row insert halved the harvest time at 10,000 papers (median of 3, same session, load 17-24 on 2 cores:
116 → 227 rec/s; harvest/local-import time 2.18× → 1.41×). Not profiled on its own: under that load the
source node's server did not start within the profiler script's 60 s.

Round 2026-11-30 (py-spy on the harvesting process and on the source's ``zhulian serve``, 20,000 papers):
- The source node, started just after its import, rebuilt its search index in the background on both cores
  during the timed harvest. The bench now waits for the index (``/api/v1/search/status``) before timing.
- Source: the feed decoded every record from the ``data`` column (json.loads, 7% of the server's samples) for
  JSONResponse to encode it again. It now copies each record's stored text into the page (``orjson.Fragment``,
  ``feed_page_json``). Reading the whole feed over HTTP without decoding went from 19,300 to 43,000 rec/s.
- Hub: ``Writer.upsert_many`` took 74% of the writing thread (``pinyin_sort_key`` 11% of all samples,
  ``validate_record`` 8%, flush 7%). The fetch really does overlap: the writer waited on it in under 1% of the
  samples. But its Python work takes the GIL from the writer: 13% of samples. Half of that was ``read_json``
  (json.loads plus a depth walk), and two-thirds of ``FeedPage.model_validate`` was copying each record dict.
  ``read_json`` now reads by orjson within its limits (depth checked a level at a time; anything orjson refuses
  or might read differently goes to the standard library), for every JSON input. A record is checked to be an
  object, not copied. Fetch, decode and check together went from 11,400 to 18,000 rec/s (``_fetch_page`` in a loop, no
  writing). The page's lag is written in its own transaction, and the origin, origin-revision and audit rows
  are built straight from the written entries. The bookkeeping was already set-based (one look-up per 500 ids)
  and is about 5% of samples now; the commit is 3-5%.
- ``python bench/harvest_bench.py --records 20000 --runs 3`` (medians; load 2.5-5 on 2 cores). Both rows use
  this bench, with old and new ``src``:
  before: harvest 2,311 rec/s, local import 3,241 rows/s (1.40x)
  after: 2,784 against 3,459 (1.24x)
  At 100,000 with ``--runs 1``, load 6-7.6: before 2,146 against 3,117 (1.45x); after 2,328 against 3,100 (1.33x).
  The 5,000 goal now depends on the store's write path: ``upsert_many`` is about two-thirds of the hub's
  samples. The fetch path alone is not the limit: about 55 µs a record in all. About 30 µs of that is decoding
  and checking, which hold the GIL; that is what will be left once the write path is faster.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.common import BenchFailed, alternate_whole_runs, report_at_exit  # noqa: E402
from bench.import_bench import build, csl_rows, import_into  # noqa: E402
from tests.federation.cluster import free_port, wait_until_up  # noqa: E402


def harvest_once(folder: Path, url: str, key: str, page: int) -> tuple[float, int]:
    from zhulian.config import Settings
    from zhulian.federation.harvester import Harvester

    hub_folder = folder / f"hub-{time.monotonic_ns()}"
    settings = Settings(data_dir=hub_folder, node_name="hub", harvest_page=page)
    from zhulian.store import Store

    store = Store.from_settings(settings)
    harvester = Harvester(store, settings)
    harvester.add("source", url, key)
    started = time.perf_counter()
    outcome = harvester.harvest("source")
    seconds = time.perf_counter() - started
    harvester.close()
    store.close()
    if not outcome.ok:
        raise BenchFailed(f"harvest failed: {outcome.error}")
    return seconds, outcome.created


def wait_until_indexed(url: str, timeout_s: float = 1800) -> float:
    """Seconds until the source node's search index holds the imported records: a node that has just started
    indexes them in the background with both cores, which would time that rebuild rather than the harvest."""
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        status = httpx.get(f"{url}/api/v1/search/status", timeout=30).json()
        if status["built"] and status["lag"] == 0 and not status["rebuilding"]:
            return time.monotonic() - started
        time.sleep(1)
    raise BenchFailed(f"the source node had not built its search index after {timeout_s:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--page", type=int, default=1000, help="entries per feed page (the protocol's maximum)")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="zhulian-harvest-") as tmp:
        folder = Path(tmp)
        tsv = folder / "papers.tsv"
        build(tsv, args.records, csl_rows())
        source_dir = folder / "source"
        source_dir.mkdir()
        import_into(f"sqlite:///{source_dir / 'zhulian.db'}", tsv)
        env = {**os.environ, "ZHULIAN_DATA_DIR": str(source_dir), "ZHULIAN_NODE_NAME": "source",
               "ZHULIAN_RATE_PER_KEY": "0", "ZHULIAN_RATE_PER_ADDRESS": "0"}
        env.pop("ZHULIAN_DATABASE_URL", None)
        created = subprocess.run([sys.executable, "-m", "zhulian.cli", "keys", "create", "--role", "harvester",
                                  "--name", "bench", "--json"], env=env, capture_output=True, text=True, check=True)
        key = json.loads(created.stdout)["key"]
        port = free_port()
        server = subprocess.Popen([sys.executable, "-m", "zhulian.cli", "serve", "--port", str(port)], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}"
        try:
            wait_until_up(url, server)
            indexed_s = wait_until_indexed(url)
            print(f"源节点已建好检索索引 the source node's search index was built in {indexed_s:.0f} s; harvesting now")

            def harvest(run: int) -> float:
                seconds, created = harvest_once(folder, url, key, args.page)
                if created != args.records:
                    raise BenchFailed(f"the harvest created {created:,} of {args.records:,} records")
                return seconds

            def local_import(run: int) -> float:
                return import_into(f"sqlite:///{folder / f'local-{run}.db'}", tsv)[0]

            median = alternate_whole_runs({"harvest": harvest, "local import": local_import}, args.runs,
                                          args.records, "records")
        finally:
            server.terminate()
            server.wait()
    harvest_s, import_s = median["harvest"], median["local import"]
    print(f"{args.records:,} 篇论文 papers, page {args.page}, median of {args.runs}: "
          f"采集 harvest {args.records / harvest_s:,.0f} rec/s   本地导入 local import {args.records / import_s:,.0f} rows/s   "
          f"比值 harvest/import time {harvest_s / import_s:.2f}×")


if __name__ == "__main__":
    report_at_exit()
    main()
