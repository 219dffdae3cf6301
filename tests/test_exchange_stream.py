"""Imports stream: memory stays flat however long the file, and a process killed mid-import leaves the store
exactly as it was (nothing commits before the end)."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import tracemalloc
from pathlib import Path

import sqlalchemy as sa

from zhulian.exchange.importer import import_file
from zhulian.store import Store
from zhulian.store.tables import metadata


def many_orgs(path: Path, rows: int, *, first_city: str = "440100") -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["name.zh", "pids.ref", "city", "keywords"])
        for n in range(rows):
            writer.writerow([f"测试机构{n:06d}", f"org-{n}", first_city if n == 0 else "440300", "测试;流式导入"])
    return path


def snapshot(store: Store) -> dict:
    with store.engine.connect() as connection:
        tables = {table.name: sorted(repr(tuple(row)) for row in connection.execute(sa.select(table)))
                  for table in metadata.sorted_tables}
    return {"tables": tables, "last_seq": store.last_seq()}


def test_memory_stays_flat_while_a_long_file_streams(tmp_path: Path) -> None:
    """6,000 rows: the memory Python holds after 5,800 rows is what it held after 1,000 (SQLite only: the
    streaming is the exchange's and the same on both databases; the full 1M-row figure is in bench/)."""
    store = Store(f"sqlite:///{tmp_path / 'z.db'}")
    store.migrate()
    path = many_orgs(tmp_path / "orgs.csv", 12_000)
    samples: dict[int, tuple[int, int]] = {}

    def progress(rows: int, _position: int, _total: int) -> None:
        if rows in (6_000, 11_800):
            samples[rows] = tracemalloc.get_traced_memory()

    tracemalloc.start()
    try:
        report = import_file(store, path, type_name="organization", progress=progress, batch_size=500)
    finally:
        tracemalloc.stop()
    assert report.created == 12_000 and report.committed
    (current_early, peak_early), (current_late, peak_late) = samples[6_000], samples[11_800]
    # Bounded caches fill during the first few thousand rows (pydantic-core's recent strings, about 1.5 MB;
    # the registry's name-key postings, at most a hundred ids a key); anything kept per row beyond them
    # would show here as ~5,800 × its size.
    assert current_late - current_early < 2_500_000, samples
    assert peak_late - peak_early < 2_500_000, samples


KILLABLE = """
import sys
from zhulian.exchange.importer import import_file
from zhulian.store import Store

def progress(rows, position, total):
    print(rows, flush=True)

import_file(Store(sys.argv[1]), sys.argv[2], type_name="organization", progress=progress, batch_size=200)
print("finished", flush=True)
"""


def test_a_process_killed_mid_import_leaves_the_store_exactly_as_before(store: Store, database_url: str,
                                                                        tmp_path: Path) -> None:
    first = import_file(store, many_orgs(tmp_path / "seed.csv", 3), type_name="organization")
    assert first.created == 3
    before = snapshot(store)
    # the same three records changed, then many new ones: the kill comes after several batches were written
    big = many_orgs(tmp_path / "big.csv", 40_000, first_city="440600")
    script = tmp_path / "killable.py"
    script.write_text(KILLABLE, encoding="utf-8")
    process = subprocess.Popen([sys.executable, str(script), database_url, str(big)], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env={**os.environ})
    try:
        rows = 0
        for line in process.stdout:
            assert line.strip() != "finished", "the import ended before it could be killed"
            rows = int(line)
            if rows >= 2_000:
                break
        assert rows >= 2_000, process.stderr.read()
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == -signal.SIGKILL
    assert snapshot(store) == before
    assert store.get("ref:org-0")["city"] == "440100"
    # and the store takes writes as before
    assert import_file(store, many_orgs(tmp_path / "after.csv", 4), type_name="organization").created == 1
