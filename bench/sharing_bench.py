"""Booking speed against a long history (issue 19: bookings of one instrument never overlap, checked on every
request), beside the same requests without the slot index in the same run.

    python bench/sharing_bench.py                      # 100,000 bookings on SQLite, 300 requests each way
    python bench/sharing_bench.py --history 20000 --requests 100
    python bench/sharing_bench.py --database-url postgresql://postgres@127.0.0.1:5432/test

The store holds ``--history`` one-hour bookings, written straight to the table in batches (their cost is not what
is measured): half are the measured instrument's past, completed use, back to back; half are confirmed bookings
still ahead at 1,000 other instruments of the region. The measured instrument is open around the clock. Then
``--requests`` new one-hour bookings for free future slots go through ``SharingService.book`` (the overlap check,
the insert and its audit entry in one write transaction), followed by as many requests for the slots just taken
(each answered 409). The baseline runs the same requests after dropping the slot index (instrument, end): the
check then finds active bookings by their state, i.e. every instrument's upcoming bookings. Prints p50/p95 per
request. Nothing is asserted. On PostgreSQL the exclusion constraint's GiST index stays in both runs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import sqlalchemy as sa  # noqa: E402

from zhulian.access import CLI_ADMIN  # noqa: E402
from zhulian.errors import ZhulianError  # noqa: E402
from zhulian.sharing import SharingService  # noqa: E402
from zhulian.sharing.profile import CHINA  # noqa: E402
from zhulian.sharing.tables import bookings  # noqa: E402
from zhulian.store import Store  # noqa: E402

BATCH = 10_000
PROFILE = {"services": [{"code": "imaging", "name": "成像", "unit": "hour",
                         "rates": {"internal": 100, "external": 200, "enterprise": 300}}],
           "opening": [{"days": [1, 2, 3, 4, 5, 6, 7], "opens": "00:00", "closes": "24:00"}], "max_hours": 24}


def history(instrument: str, count: int, today: dt.datetime) -> list[dict]:
    past, ahead = count - count // 2, count // 2
    slots = [(instrument, today - dt.timedelta(hours=past - n), "completed") for n in range(past)]
    slots += [(f"ins_other{n % 1000:022d}", today + dt.timedelta(hours=n // 1000), "confirmed") for n in range(ahead)]
    return [_row(number, *slot) for number, slot in enumerate(slots)]


def _row(number: int, instrument: str, begins: dt.datetime, state: str) -> dict:
    stamp = begins.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    ends = (begins + dt.timedelta(hours=1)).astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    done = state == "completed"
    return {"id": f"bkg_hist{number:020d}", "instrument_id": instrument, "node": "440100", "city": "440100",
            "host": "中山大学", "start_at": stamp, "end_at": ends, "service": "imaging", "samples": 1,
            "purpose": "历史使用", "user_id": f"key_{number % 500}", "user_role": "reader", "user_name": "用户",
            "organization": None, "user_class": "external", "user_city": "440300", "state": state, "reason": None,
            "hours_used": 1.0 if done else None, "samples_used": 1 if done else None,
            "fee_fen": 20_000 if done else None, "rate_fen": 20_000 if done else None, "unit": "hour" if done else None,
            "rating": None, "comment": None, "created": stamp, "confirmed_at": stamp,
            "completed_at": stamp if done else None, "updated": stamp, "origin_node": None}


def requests(service: SharingService, instrument: str, first: dt.datetime, count: int) -> tuple[list[float], int]:
    """``count`` free slots, then the same slots again (each one 409); milliseconds per request, refusals."""
    timings, refused = [], 0
    for attempt in range(2):
        for n in range(count):
            begins = first + dt.timedelta(hours=n)
            started = time.perf_counter()
            try:
                service.book(CLI_ADMIN, instrument, start=begins.isoformat(),
                             end=(begins + dt.timedelta(hours=1)).isoformat(), service="imaging", purpose="测试")
            except ZhulianError as error:
                assert error.status == 409 and attempt == 1, error
                refused += 1
            timings.append((time.perf_counter() - started) * 1000)
    return timings, refused


def analyse(store: Store) -> None:
    """Fresh planner statistics, so both runs are planned knowing the table as it is."""
    with store.transaction() as writer:
        writer.connection.execute(sa.text("ANALYZE sharing_bookings" if store.is_postgres else "ANALYZE"))


def summary(label: str, timings: list[float], refused: int) -> str:
    ordered = sorted(timings)
    p95 = ordered[int(len(ordered) * 0.95) - 1]
    return f"{label:<34} p50 {statistics.median(ordered):7.2f} ms   p95 {p95:7.2f} ms   ({len(ordered)} requests, {refused} × 409)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--history", type=int, default=100_000, help="past bookings of the instrument (≤ 100,000)")
    parser.add_argument("--requests", type=int, default=300, help="new bookings asked for, each way")
    parser.add_argument("--database-url", default=None)
    options = parser.parse_args()
    if not 1 <= options.history <= 100_000:
        parser.error("--history must be 1 to 100,000 on this shared machine")
    folder = tempfile.mkdtemp(prefix="zhulian-sharing-bench-")
    store = Store(options.database_url or f"sqlite:///{folder}/bench.db")
    store.migrate()
    service = SharingService(store)
    instrument = store.create({"type": "instrument", "name": {"zh": "基准测试电镜"}, "host": "中山大学",
                               "city": "440100", "node": "440100"})["id"]
    service.set_profile(CLI_ADMIN, instrument, PROFILE)
    today = dt.datetime.combine(dt.datetime.now(CHINA).date(), dt.time(0), CHINA)
    started = time.perf_counter()
    rows = history(instrument, options.history, today)
    for offset in range(0, len(rows), BATCH):
        with store.transaction() as writer:
            writer.connection.execute(bookings.insert(), rows[offset:offset + BATCH])
    print(f"{store.engine.dialect.name}: {options.history:,} bookings written in "
          f"{time.perf_counter() - started:.1f} s")
    analyse(store)
    indexed, refused = requests(service, instrument, today + dt.timedelta(days=30), options.requests)
    print(summary("with the slot index", indexed, refused))
    with store.transaction() as writer:
        writer.connection.execute(sa.text("DROP INDEX ix_sharing_bookings_slot"))
    analyse(store)
    plain, refused = requests(service, instrument, today + dt.timedelta(days=90), options.requests)
    print(summary("baseline: no slot index", plain, refused))
    store.close()
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    from common import report_at_exit  # the bench's own folder leads sys.path

    report_at_exit()
    main()
