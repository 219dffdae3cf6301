"""Module-feed harvest speed: trace events replicated from a city node to a hub through ``trace.events``
(``GET /api/v1/feeds/trace.events``), beside capturing the same events on a hub directly, in the same run.

    python bench/module_feed_bench.py                    # 2,000 events (200 ten-step chains), 3 rounds
    python bench/module_feed_bench.py --events 20000 --page 1000

The city's store (SQLite) is filled by capturing ``bench/trace_bench.py``'s chains as EPCIS documents, then served
in-process (the app over an ASGI transport: no sockets, so the figures are the feed's and the harvester's work,
not loopback's). The harvest: the hub pulls every page — JSON, the page schema, the trace module's check of each
event against GS1's schema, duplicate rules, projections, origins and cursor in one transaction per page. The
baseline captures the same documents into a fresh hub store (the same schema validation, hashing and
projections, one transaction per document). Rounds alternate the two, each into a fresh SQLite hub; medians
are printed with the load. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient  # noqa: E402

from bench.common import BenchFailed, alternate_whole_runs, machine, report_at_exit, work_folder  # noqa: E402
from bench.trace_bench import CONTEXT, chain  # noqa: E402
from zhulian.access import CLI_ADMIN, create_key  # noqa: E402
from zhulian.config import Settings  # noqa: E402
from zhulian.federation.harvester import Harvester  # noqa: E402
from zhulian.store import Store  # noqa: E402
from zhulian.trace.service import TraceService  # noqa: E402
from zhulian.web.app import create_app  # noqa: E402

PER_DOCUMENT = 5_000


def documents(events: int) -> list[dict[str, Any]]:
    every = [event for number in range(max(1, events // 10)) for event in chain(number)]
    return [{"@context": CONTEXT, "type": "EPCISDocument", "schemaVersion": "2.0",
             "creationDate": "2024-06-30T00:00:00Z", "epcisBody": {"eventList": every[start:start + PER_DOCUMENT]}}
            for start in range(0, len(every), PER_DOCUMENT)]


def capture(store: Store, captured: list[dict[str, Any]]) -> int:
    service = TraceService(store)
    return sum(service.capture(CLI_ADMIN, document)["storedCount"] for document in captured)


def harvest_round(folder: Path, transport: Any, key: str, page: int) -> tuple[float, int]:
    settings = Settings(data_dir=folder, node_name="hub", harvest_page=page)
    hub = Store.from_settings(settings)
    harvester = Harvester(hub, settings, transport=transport)
    try:
        harvester.add("city", "http://city.test", key)
        started = time.perf_counter()
        outcome = harvester.harvest("city")
        seconds = time.perf_counter() - started
    finally:
        harvester.close()
        hub.close()
    if not outcome.ok:
        raise BenchFailed(f"harvest failed: {outcome.error}")
    return seconds, outcome.feeds["trace.events"]["stored"]


def capture_round(folder: Path, captured: list[dict[str, Any]]) -> tuple[float, int]:
    hub = Store.from_settings(Settings(data_dir=folder))
    try:
        started = time.perf_counter()
        stored = capture(hub, captured)
        return time.perf_counter() - started, stored
    finally:
        hub.close()


def all_stored(name: str, total: int, seconds: float, stored: int) -> float:
    if stored != total:
        raise BenchFailed(f"{name} stored {stored:,} of {total:,} events")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=2_000)
    parser.add_argument("--page", type=int, default=500, help="entries per feed page (ZHULIAN_HARVEST_PAGE)")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    captured = documents(args.events)
    total = sum(len(d["epcisBody"]["eventList"]) for d in captured)
    with work_folder("zhulian-modfeed-") as folder:
        settings = Settings(data_dir=folder / "city", node_name="city", rate_per_key=0, rate_per_address=0)
        city = Store.from_settings(settings)
        started = time.perf_counter()
        if capture(city, captured) != total:
            raise BenchFailed("the city did not store every event")
        print(f"city: {total:,} events captured in {time.perf_counter() - started:.1f} s; {machine()}", flush=True)
        key = create_key(city, "harvester")[1]
        with TestClient(create_app(settings, store=city), base_url="http://city.test") as client:
            def harvest(n: int) -> float:
                return all_stored("harvest", total, *harvest_round(folder / f"harvest-{n}", client._transport, key,
                                                                   args.page))

            def capture_on_hub(n: int) -> float:
                return all_stored("capture", total, *capture_round(folder / f"capture-{n}", captured))

            median = alternate_whole_runs({"harvest": harvest, "capture": capture_on_hub}, args.rounds, total,
                                          "events")
        city.close()
    harvest_s, capture_s = median["harvest"], median["capture"]
    print(f"{total:,} 溯源事件 trace events, page {args.page}, SQLite hub, median of {args.rounds}: "
          f"采集 harvest {total / harvest_s:,.0f} events/s   直接采集 capture on the hub {total / capture_s:,.0f} "
          f"events/s   比值 harvest/capture time {harvest_s / capture_s:.2f}×   {machine()}")


if __name__ == "__main__":
    report_at_exit()
    main()
