"""Trace speed over a 10-step chain among many events (issue 17: ≤ 100 ms at 1M events; this machine is shared,
so the default is 100,000 events), beside a plain repeated-query baseline in the same run.

    python bench/trace_bench.py                          # 100,000 events on SQLite, 30 traces each way
    python bench/trace_bench.py --events 20000 --repeat 10
    python bench/trace_bench.py --database-url postgresql://postgres@127.0.0.1:5432/test
    python bench/trace_bench.py --events 1000000 --store-file /tmp/trace-1m.db   # built once, reused after

The store holds ``--events / 10`` chains of ten events each (a farm lot commissioned, transformed into a
product lot, packed on a pallet, shipped, received, unpacked, transformed again, shipped, received, sold),
every chain with its own identifiers, written through the capture service's storage path (hashes, the
identifier projection, one transaction per 10,000 events; schema validation is skipped: it costs the same
per event whatever the store holds, and is not what is measured). One chain in the middle is traced back from
its last lot and forward from its first. The baseline walks the same chain the way a client of the standard
query would: one SimpleEventQuery (``MATCH_anyEPC`` and ``MATCH_anyEPCClass``) per identifier reached, reading
the events and following their inputs, outputs, parents and children. Both must reach the same ten events.
Prints p50/p95 per trace and the load time. Nothing is asserted.

Then recalls (issue 17: the recall list "within seconds"): from the product lot of ``--recalls`` other chains,
each a full recall — trace back to the source lot, forward to every lot, a ``recalled`` event captured per
lot through the capture path — and its XLSX list, beside the two traces it is built on as the baseline.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from zhulian.access import CLI_ADMIN  # noqa: E402
from zhulian.store import Store  # noqa: E402
from zhulian.trace.identifiers import canonical  # noqa: E402
from zhulian.trace.recall import RecallService  # noqa: E402
from zhulian.trace.service import TraceService  # noqa: E402

CONTEXT = ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"]
BATCH = 10_000


def chain(number: int) -> list[dict[str, Any]]:
    """Ten events of one farm-to-shop chain; identifiers unique to ``number``."""
    lot = [f"urn:epc:class:lgtin:4012345.0{k}2345.C{number}" for k in range(3)]
    pallet = f"urn:epc:id:sscc:4012345.{number:010d}"
    farm, plant, shop = (f"urn:epc:id:sgln:4012345.0000{k}.{number}" for k in range(1, 4))

    def event(step: int, kind: str, biz_step: str, where: str, **fields: Any) -> dict[str, Any]:
        day, hour = 1 + step // 24, step % 24
        return {"type": kind, "eventTime": f"2024-06-{day:02d}T{hour:02d}:{number % 60:02d}:00+08:00",
                "eventTimeZoneOffset": "+08:00", "bizStep": biz_step, "readPoint": {"id": where}, **fields}

    def quantity(index: int) -> list[dict[str, Any]]:
        return [{"epcClass": lot[index], "quantity": 100, "uom": "KGM"}]

    return [
        event(0, "ObjectEvent", "commissioning", farm, action="ADD", quantityList=quantity(0)),
        event(1, "TransformationEvent", "commissioning", plant, inputQuantityList=quantity(0),
              outputQuantityList=quantity(1)),
        event(2, "AggregationEvent", "packing", plant, action="ADD", parentID=pallet, childQuantityList=quantity(1)),
        event(3, "ObjectEvent", "shipping", plant, action="OBSERVE", epcList=[pallet],
              destinationList=[{"type": "location", "destination": shop}]),
        event(4, "ObjectEvent", "receiving", shop, action="OBSERVE", epcList=[pallet]),
        event(5, "AggregationEvent", "unpacking", shop, action="DELETE", parentID=pallet,
              childQuantityList=quantity(1)),
        event(6, "TransformationEvent", "commissioning", shop, inputQuantityList=quantity(1),
              outputQuantityList=quantity(2)),
        event(7, "ObjectEvent", "shipping", shop, action="OBSERVE", quantityList=quantity(2)),
        event(8, "ObjectEvent", "receiving", shop, action="OBSERVE", quantityList=quantity(2)),
        event(9, "ObjectEvent", "retail_selling", shop, action="OBSERVE", quantityList=quantity(2)),
    ]


def load(service: TraceService, chains: int) -> float:
    started = time.perf_counter()
    document = {"@context": CONTEXT, "type": "EPCISDocument"}
    pending: list[dict[str, Any]] = []
    for number in range(chains):
        pending += [service._prepare(e, document, "") for e in chain(number)]  # the capture's own storage path
        if len(pending) >= BATCH or number == chains - 1:
            service._store(CLI_ADMIN, pending, len(pending), "rollback", [], "bench")
            pending = []
    return time.perf_counter() - started


def repeated_queries(service: TraceService, start: str, direction: str) -> set[str]:
    """The baseline: one standard query per identifier reached, following the events' lists in Python."""
    frontier, seen, found = [canonical(start)], set(), set()
    while frontier:
        identifier = frontier.pop()
        if identifier in seen:
            continue
        seen.add(identifier)
        for parameter in ("MATCH_anyEPC", "MATCH_anyEPCClass"):
            events, _ = service.query(CLI_ADMIN, {parameter: identifier, "perPage": "1000"})
            for event in events:
                found.add(event["eventID"])
                frontier += [canonical(x) for x in _linked(event, identifier, direction)]
    return found


def _linked(event: dict[str, Any], identifier: str, direction: str) -> list[str]:
    """What an event leads to from ``identifier``: back from an output to the inputs, forward from an input to
    the outputs, and either way between a parent and its children when they are packed (no time windows)."""
    def named(*fields: str) -> list[str]:
        found = []
        for field in fields:
            value = event.get(field, [])
            items = value if isinstance(value, list) else [value]
            found += [q["epcClass"] if isinstance(q, dict) else q for q in items]
        return found

    inputs, outputs = named("inputQuantityList", "inputEPCList"), named("outputQuantityList", "outputEPCList")
    children, parent = named("childQuantityList", "childEPCs"), named("parentID")
    def has(values: list[str]) -> bool:
        return identifier in {canonical(x) for x in values}

    if direction == "back" and has(outputs):
        return inputs
    if direction == "forward" and has(inputs):
        return outputs
    if event.get("action") == "ADD" and has(children):
        return parent
    if event.get("action") == "ADD" and has(parent):
        return children
    return []


def timed(work: Any, repeat: int) -> tuple[list[float], Any]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = work()
        times.append((time.perf_counter() - started) * 1000)
    return times, result


def report(label: str, times: list[float]) -> None:
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    print(f"  {label:<44} p50 {statistics.median(times):7.1f} ms   p95 {p95:7.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=100_000, help="events in the store (≤ 100,000 here)")
    parser.add_argument("--repeat", type=int, default=30, help="traces timed each way")
    parser.add_argument("--recalls", type=int, default=10, help="recalls timed, each from another chain")
    parser.add_argument("--database-url", help="default: a SQLite file in a temporary folder")
    parser.add_argument("--store-file", type=Path, help="a SQLite file kept after the run: a store it already "
                        "holds with these events is reused, not built again (a 1M-event build takes an hour here)")
    args = parser.parse_args()
    chains = max(1, args.events // 10)
    with tempfile.TemporaryDirectory() as folder:
        store = Store(args.database_url or f"sqlite:///{(args.store_file or Path(folder) / 'trace.db').resolve()}")
        store.migrate()
        service = TraceService(store)
        if service.last_seq() >= chains * 10:
            print(f"{chains * 10:,} events ({chains:,} ten-step chains) on {store.engine.dialect.name}, "
                  f"reused from {args.store_file}")
        else:
            seconds = load(service, chains)
            print(f"{chains * 10:,} events ({chains:,} ten-step chains) on {store.engine.dialect.name}, "
                  f"loaded in {seconds:.1f} s ({chains * 10 / seconds:,.0f} events/s)")
        middle = chains // 2
        first, last = chain(middle)[0]["quantityList"][0]["epcClass"], chain(middle)[9]["quantityList"][0]["epcClass"]
        for direction, start in (("back", last), ("forward", first)):
            traced, answer = timed(lambda: service.trace(CLI_ADMIN, start, direction), args.repeat)
            baseline, reached = timed(lambda: repeated_queries(service, start, direction), args.repeat)
            same = {e["eventID"] for e in answer["events"]} == reached
            print(f"trace {direction} from {start}: {answer['count']} events, {len(answer['identifiers'])} "
                  f"identifiers (baseline reaches {len(reached)}; same events: {same})")
            report(f"trace service (what /api/v1/trace/{direction} runs)", traced)
            report("baseline: one SimpleEventQuery per identifier", baseline)
        time_recalls(store, chains, args.recalls)
        store.close()


def time_recalls(store: Store, chains: int, count: int) -> None:
    service, recalls = TraceService(store), RecallService(store)
    starts = [chain(number)[1]["outputQuantityList"][0]["epcClass"]
              for number in range(chains // 3, chains // 3 + min(count, chains))]
    traced, recalled, listed, lots = [], [], [], 0
    for start in starts:
        traced += timed(lambda: (service.trace(CLI_ADMIN, start, "back"),  # noqa: B023 — run at once
                                 service.trace(CLI_ADMIN, start, "forward")), 1)[0]  # noqa: B023
        took, case = timed(lambda: recalls.recall(CLI_ADMIN, start, "bench"), 1)  # noqa: B023
        recalled += took
        listed += timed(lambda: recalls.spreadsheet(CLI_ADMIN, case["id"]), 1)[0]  # noqa: B023
        lots += len(case["lots"])
    print(f"{len(starts)} recalls, {lots / len(starts):.0f} lots each (a recalled event captured per lot)")
    report("baseline: trace back and forward", traced)
    report("recall (traces, capture of recalled events)", recalled)
    report("recall list as XLSX", listed)


if __name__ == "__main__":
    from common import report_at_exit  # the bench's own folder leads sys.path

    report_at_exit()
    main()
