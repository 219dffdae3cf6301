"""Import speed, measured beside a baseline in the same run (DESIGN §5).

    python bench/import_bench.py                 # 100,000 papers into SQLite and PostgreSQL, median of 3 runs
    python bench/import_bench.py --papers 20000 --runs 5
    python bench/import_bench.py --rows 1000000  # also: peak memory importing a 1,000,000-row CSV (SQLite)

The papers are built from the real CSL records in ../shared/data/csl (title, abstract, keywords, discipline,
category; each copy gets its own ``csl`` identifier), written as the CSL TSV, and imported through the ``csl``
mapping: format and encoding detection, mapping, validation, duplicate checks, the store's upserts with
revisions, projections and the change feed. The baseline inserts the same rows into a plain table in the same
database, a bare ``executemany`` on SQLite and a bare ``COPY`` on PostgreSQL. Each run imports into a fresh
store and fills a fresh baseline table, the two taking turns; the medians over ``--runs`` are printed with the
machine's load. Figures are printed; nothing is asserted.

The floor is what the database itself needs for what the store writes: one import's statements (every insert,
look-up and COPY, with their parameters, caught from SQLAlchemy's cursor events and psycopg's COPY) are sent
again, in one transaction, straight through the driver into a fresh store. It shows how far the bare one-table
insert can be approached while a record writes its revision, projections, change feed and audit entry, and
how much of an import is the Python around the database. The importer's hook implementations (the registry
module and its pinyin tables, a one-off second or two per process) are loaded before the clock starts.

Profile (pyinstrument and cProfile, 10,000 papers into SQLite, 2026-11-30, load 6-11 on 2 cores), before the
write-path work of issue 14: wall time went to the store's ``Writer._plan`` (30%: the standard library's JSON
encoder for the record, revision and audit rows, python-ulid's per-character id encoding, ``Paper.label()``
raising AttributeError through pydantic's ``__getattr__``, ``model_dump``), the driver's ``executemany`` and
the commit (25%: SQLite itself, six tables and nine indexes), per-row pydantic validation (12%), reading and
mapping the TSV (12%: ``Mapping.apply``, ``unflatten``), a per-row generator reordering insert parameters (5%),
``field_units`` twice per row (4%) and the change report's JSON lines (3%). The first three went to orjson,
a ten-bits-a-step ULID encoder, a field read from ``__dict__`` and ``operator.itemgetter``; what remains is
led by the database's own inserts and commit, pydantic validation and serialisation, and the TSV mapping.

Second round (py-spy, cProfile and per-stage thread CPU time, 20,000 papers into SQLite, 2026-11-30, load 4-7 on 2
cores shared with two other benches, so shares rather than times):

* the cyclic garbage collector was a sixth of the import's CPU (``gc.callbacks``): every full collection walked
  pypinyin's 190,000 phrase lists again, loaded by the registry's hook and the sort key. They are frozen out of
  its view once loaded (``text.analysis._pypinyin_tables``); collections during an import now take ~0.1 s in 20,000
  rows. A process-wide ``gc.freeze`` for the length of each import (an earlier version) was taken out because a
  library call must not change the collector for the other threads of a server; this one happens once.
* the pinyin sort key was a fifth of the writer's planning: it reads one table of toneless readings made once,
  readings the same without tones counting once (32 -> 16 µs a title, the same keys on 9,500 titles and abstracts).
  A form in two C passes (a regex substitution for characters of several readings, then ``str.translate``) was
  slower, 45 µs: nearly every title has such a character and the substitution calls back into Python for each.
* the database's work (executemany and commit, 25 % of the wall time) ran after Python's, on the same core. A bulk
  ``upsert_many`` now flushes on the writer's own thread while the importer reads, maps and validates the next
  batch; SQLite's ``sqlite3_step`` and PostgreSQL's server run without the interpreter lock, so on an idle second
  core they overlap. The main thread waited 0.5 s of an 8 s run at the points that need the rows written.
* per row, in thread CPU time under that load: planning the rows 96 µs (the sort key 18, serialising 9, the id 7,
  filter fields 6, the rest model_dump and building the rows), pydantic validation 26, mapping the cells 23, the
  audit entry 8 + 3, the changed units 7 + 4, the batch's look-ups 6, the change report 3. ≥ 20,000 rows/s is
  50 µs a row for all of it, and the writer's thread spent 45 µs a row (its CPU time, under that load) in the
  database's own work for the six rows and two copies of the JSON a paper writes, before the audit rows and the
  commit: the goal needs fewer rows and bytes written per record (the JSON once, as the issue says), not only
  less Python.

Third round (the floor, 20,000 papers, 2026-11-30, a machine whose bare executemany ran at 67,000-80,000 rows/s,
load 1-6): one import sends 140,000 rows in 140 statements (a paper is a record, a revision, a pid, three
projected values and an audit entry). Replayed bare into SQLite they took 1.9-2.7 s, 7,400-12,000 papers/s, 6-9× the
bare one-table insert: the commit 0.67 s, record_fields 0.44, records 0.37, revisions 0.16, the audit log 0.12,
pids 0.10. Two changes came of it: the latest revision's JSON is no longer written beside the record's (a
placeholder; ``revision_data`` reads it from ``records``), and ``ix_record_fields_number`` indexes only the rows
that hold a number. Replayed with both, the floor rose to 13,400-14,500 papers/s from 7,600-10,400 in the same
runs, and 20,000 papers take 57 MB of SQLite instead of 83. Into PostgreSQL the floor is 3,800 papers/s, 15× a
bare COPY: records 1.3 s (JSONB parsing, four indexes), record_fields 1.3 s (a foreign-key check per row),
the staged revisions and their move into the feed 1.3 s together, pids 0.5, the look-ups 0.4, the audit log 0.3.
Either way the floor alone is below the issue's 20,000 and 10,000 rows/s, and above its 3×.

PostgreSQL comes from ZHULIAN_BENCH_POSTGRES_URL (default: ZHULIAN_TEST_POSTGRES_URL or the local server,
database ``test``); the run uses a fresh schema and drops it afterwards.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import os
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from itertools import count
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import DATA, machine  # noqa: E402

CSL = DATA / "csl" / "csl_full_fields_union.tsv"
POSTGRES_URL = os.environ.get("ZHULIAN_BENCH_POSTGRES_URL",
                              os.environ.get("ZHULIAN_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"))
HEADER = ["id", "title", "abstract", "keywords", "discipline", "category"]


def csl_rows() -> list[list[str]]:
    if not CSL.exists():
        sys.exit(f"The CSL data is absent: {CSL} (it sits beside the project checkout in ../shared/data).")
    with CSL.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle, delimiter="\t"))[1:]
    # keywords longer than the model's 100 characters are source damage (one record); drop those keywords
    return [[r[0], r[1], r[2], ";".join(k for k in r[3].split(";") if len(k) <= 100), r[4], r[5]] for r in rows]


def build(path: Path, count: int, source: list[list[str]]) -> None:
    """``count`` papers cycling through the CSL records, each with its own identifier."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
        writer.writerow(HEADER)
        for n in range(count):
            base = source[n % len(source)]
            copy = n // len(source)
            title = base[1] if copy == 0 else f"{base[1]}（{copy}）"
            writer.writerow([f"bench-{n:07d}", title, *base[2:]])


def read_rows(path: Path) -> list[tuple[str, ...]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return [tuple(row) for row in list(csv.reader(handle, delimiter="\t"))[1:]]


# -- the store ------------------------------------------------------------------------------------------

def fresh_store(url: str) -> Any:
    """A migrated store at ``url``, with the importer's hook implementations loaded (module imports, once per
    process: not an import's work)."""
    from zhulian import hooks
    from zhulian.store import Store

    hooks.implementations("resolve_incoming")
    store = Store(url)
    store.migrate()
    return store


def import_into(url: str, path: Path) -> tuple[float, float, object]:
    """Wall and CPU seconds of importing ``path`` into a fresh store at ``url``, and the import's report."""
    from zhulian.exchange.importer import import_file

    store = fresh_store(url)
    started, cpu = time.perf_counter(), time.process_time()
    report = import_file(store, path, mapping="csl")
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    store.close()
    return elapsed, cpu, report


# -- the store's floor: the import's own statements, replayed bare ----------------------------------------------

def captured_import(url: str, path: Path) -> list[tuple[str, str, object]]:
    """Every statement an import into a fresh store at ``url`` sends the database, in order, with its
    parameters: ``("execute" | "executemany", sql, parameters)`` from SQLAlchemy's cursor events, and
    ``("copy", sql, rows)`` for PostgreSQL's COPY, which goes to psycopg directly."""
    import psycopg
    from sqlalchemy import event

    from zhulian.exchange.importer import import_file

    store = fresh_store(url)
    sent: list[tuple[str, str, object]] = []

    def on_execute(_connection, _cursor, sql, parameters, _context, many) -> None:  # type: ignore[no-untyped-def]
        if sql.split(None, 1)[0].upper() not in ("BEGIN", "COMMIT", "ROLLBACK"):
            sent.append(("executemany" if many else "execute", sql, parameters))

    plain_copy = psycopg.Cursor.copy

    @contextlib.contextmanager
    def recorded_copy(cursor, sql, *args, **kwargs):  # type: ignore[no-untyped-def]
        rows: list[object] = []
        with plain_copy(cursor, sql, *args, **kwargs) as copy:
            yield _RecordingCopy(copy, rows)
        sent.append(("copy", str(sql), rows))

    event.listen(store.engine, "before_cursor_execute", on_execute)
    psycopg.Cursor.copy = recorded_copy  # type: ignore[method-assign]
    try:
        import_file(store, path, mapping="csl")
    finally:
        psycopg.Cursor.copy = plain_copy  # type: ignore[method-assign]
        store.close()
    return sent


class _RecordingCopy:
    def __init__(self, copy: object, rows: list[object]) -> None:
        self.copy, self.rows = copy, rows

    def write_row(self, row: object) -> None:
        self.rows.append(row)
        self.copy.write_row(row)  # type: ignore[attr-defined]


def replay(url: str, sent: list[tuple[str, str, object]]) -> float:
    """Seconds to send ``sent`` again, in one transaction, straight through the driver, into a fresh store at
    ``url``: the database's own work for what the import asked of it, with no Python per record around it."""
    store = fresh_store(url)
    connection = store.engine.raw_connection()
    cursor = connection.cursor()
    try:
        started = time.perf_counter()
        if not store.is_postgres:
            cursor.execute("BEGIN IMMEDIATE")
        for kind, sql, parameters in sent:
            if kind == "copy":
                with cursor.connection.cursor() as raw, raw.copy(sql) as copy:  # type: ignore[attr-defined]
                    for row in parameters:  # type: ignore[attr-defined]
                        copy.write_row(row)
            elif kind == "executemany":
                cursor.executemany(sql, parameters)
            else:
                cursor.execute(sql, parameters)
                if cursor.description is not None:
                    cursor.fetchall()
        connection.commit() if store.is_postgres else cursor.execute("COMMIT")
        return time.perf_counter() - started
    finally:
        cursor.close()
        connection.close()
        store.close()


# -- the baseline -----------------------------------------------------------------------------------------

BASELINE_TABLE = ("CREATE TABLE bench_plain (id TEXT PRIMARY KEY, title TEXT, abstract TEXT, keywords TEXT, "
                  "discipline TEXT, category TEXT)")


def baseline_sqlite(path: Path, rows: list[tuple[str, ...]]) -> float:
    path.unlink(missing_ok=True)
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    connection.execute(BASELINE_TABLE)
    started = time.perf_counter()
    connection.execute("BEGIN")
    connection.executemany("INSERT INTO bench_plain VALUES (?, ?, ?, ?, ?, ?)", rows)
    connection.execute("COMMIT")
    elapsed = time.perf_counter() - started
    connection.close()
    return elapsed


def baseline_postgres(url: str, rows: list[tuple[str, ...]]) -> float:
    import psycopg

    with psycopg.connect(url) as connection:
        connection.execute("DROP TABLE IF EXISTS bench_plain")
        connection.execute(BASELINE_TABLE)
        connection.commit()
        started = time.perf_counter()
        with connection.cursor() as cursor, cursor.copy("COPY bench_plain FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        connection.commit()
        return time.perf_counter() - started


def postgres_schema() -> tuple[str, str] | None:
    """A fresh schema and the URL that works in it; None when no server answers."""
    import psycopg

    schema = f"zl_bench_{uuid.uuid4().hex[:10]}"
    try:
        with psycopg.connect(POSTGRES_URL, autocommit=True, connect_timeout=3) as connection:
            connection.execute(f'CREATE SCHEMA "{schema}"')
    except psycopg.Error as error:
        print(f"PostgreSQL 不可用，跳过 / PostgreSQL unreachable at {POSTGRES_URL}: {str(error).strip()}")
        return None
    separator = "&" if "?" in POSTGRES_URL else "?"
    return schema, f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"


def fresh_schema(schemas: list[tuple[str, str]]) -> str:
    """The URL of a new schema, kept in ``schemas`` to be dropped at the end."""
    schema = postgres_schema()
    if schema is None:
        sys.exit("PostgreSQL stopped answering during the run")
    schemas.append(schema)
    return schema[1]


def drop_schema(schema: str) -> None:
    import psycopg

    with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
        connection.execute(f'DROP SCHEMA "{schema}" CASCADE')


def compare(name: str, baseline_name: str, rows: list[tuple[str, ...]], runs: int,
            fresh_url: Callable[[], str], baseline: Callable[[], float], path: Path) -> None:
    """``runs`` imports into fresh stores, ``runs`` baseline inserts and ``runs`` replays of one import's own
    statements (the store's floor, into fresh stores too), taking turns; prints each run and the medians."""
    sent = captured_import(fresh_url(), path)
    imports, cpus, baselines, floors = [], [], [], []
    for run in range(runs):
        seconds, cpu, outcome = import_into(fresh_url(), path)
        if outcome.created != len(rows) or outcome.invalid:
            sys.exit(f"{name}: the import created {outcome.created:,} of {len(rows):,} rows, {outcome.invalid} invalid")
        imports.append(seconds)
        cpus.append(cpu)
        baselines.append(baseline())
        floors.append(replay(fresh_url(), sent))
        print(f"  {name} run {run + 1}: import {len(rows) / seconds:,.0f} rows/s ({seconds:.1f} s, "
              f"this process's CPU {cpu:.1f} s), {baseline_name} {len(rows) / baselines[-1]:,.0f} rows/s "
              f"({baselines[-1]:.2f} s), floor {len(rows) / floors[-1]:,.0f} rows/s ({floors[-1]:.2f} s)   "
              f"{machine()}", flush=True)
    seconds, cpu = statistics.median(imports), statistics.median(cpus)
    base, floor = statistics.median(baselines), statistics.median(floors)
    rate, base_rate, floor_rate = len(rows) / seconds, len(rows) / base, len(rows) / floor
    print(f"{name:<11} 导入 import {rate:>9,.0f} rows/s ({seconds:6.1f} s, CPU {cpu:5.1f} s, created {len(rows):,})   "
          f"基线 {baseline_name} {base_rate:>9,.0f} rows/s ({base:5.2f} s)   比值 ratio {base_rate / rate:4.1f}×   "
          f"median of {runs}", flush=True)
    print(f"{'':<11} 下限 floor {floor_rate:>9,.0f} rows/s ({floor:5.2f} s: the import's {len(sent):,} statements "
          f"replayed bare) = {base_rate / floor_rate:4.1f}× the bare insert; the import takes "
          f"{floor_rate / rate:4.1f}× the floor", flush=True)


# -- 1M rows: peak memory -----------------------------------------------------------------------------------

def child_import(path: str, url: str) -> None:
    seconds, _cpu, report = import_into(url, Path(path))
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"{report.rows} {report.created} {report.invalid} {seconds:.3f} {peak_kib}")


def million(rows: int, source: list[list[str]], folder: Path) -> None:
    path = folder / f"papers-{rows}.tsv"
    print(f"生成 building {rows:,} 行 rows → {path.name} …", flush=True)
    build(path, rows, source)
    size = path.stat().st_size
    url = f"sqlite:///{folder / 'million.db'}"
    result = subprocess.run([sys.executable, __file__, "--child-import", str(path), url], capture_output=True,
                            text=True, check=False)
    if result.returncode != 0:
        print(result.stderr[-2000:])
        return
    read, created, invalid, seconds, peak_kib = result.stdout.split()
    print(f"{int(read):,} 行 rows ({size / 1e6:,.0f} MB CSV) → SQLite: {int(read) / float(seconds):,.0f} rows/s "
          f"({float(seconds):.0f} s, created {int(created):,}, invalid {invalid}); "
          f"峰值内存 peak RSS {int(peak_kib) / 1024:,.0f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--papers", type=int, default=100_000, help="papers in the speed run (default 100,000)")
    parser.add_argument("--runs", type=int, default=3, help="imports (and baseline inserts) per database (default 3)")
    parser.add_argument("--rows", type=int, default=0, help="also import a CSV of this many rows and print peak RSS")
    parser.add_argument("--child-import", nargs=2, metavar=("PATH", "URL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_import:
        child_import(*args.child_import)
        return
    source = csl_rows()
    schemas: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory(prefix="zhulian-bench-") as folder:
        folder_path = Path(folder)
        path = folder_path / "papers.tsv"
        build(path, args.papers, source)
        rows = read_rows(path)
        print(f"{args.papers:,} 篇论文 papers from {len(source):,} CSL records, {path.stat().st_size / 1e6:,.0f} MB TSV; "
              f"import = detect + map + validate + upsert (revisions, projections, change feed); {machine()}")
        databases = count(1)
        compare("SQLite", "executemany", rows, args.runs,
                lambda: f"sqlite:///{folder_path / f'bench-{next(databases)}.db'}",
                lambda: baseline_sqlite(folder_path / "plain.db", rows), path)
        try:
            if (schema := postgres_schema()) is not None:
                schemas.append(schema)
                compare("PostgreSQL", "COPY", rows, args.runs, lambda: fresh_schema(schemas),
                        lambda: baseline_postgres(schemas[0][1], rows), path)
        finally:
            for schema, _url in schemas:
                drop_schema(schema)
        if args.rows:
            million(args.rows, source, folder_path)

if __name__ == "__main__":
    main()
