"""Import speed, measured beside a baseline in the same run (DESIGN §5).

    python bench/import_bench.py                 # 100,000 papers into SQLite and PostgreSQL
    python bench/import_bench.py --rows 1000000  # also: peak memory importing a 1,000,000-row CSV (SQLite)

The papers are built from the real CSL records in ../shared/data/csl (title, abstract, keywords, discipline,
category; each copy gets its own ``csl`` identifier), written as the CSL TSV, and imported through the ``csl``
mapping: format and encoding detection, mapping, validation, duplicate checks, the store's upserts with
revisions, projections and the change feed. The baseline inserts the same rows with a bare ``executemany``
into a plain table in the same database. Figures are printed; nothing is asserted.

PostgreSQL comes from ZHULIAN_BENCH_POSTGRES_URL (default: ZHULIAN_TEST_POSTGRES_URL or the local server,
database ``test``); the run uses a fresh schema and drops it afterwards.
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import DATA  # noqa: E402

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

def import_into(url: str, path: Path) -> tuple[float, object]:
    from zhulian.exchange.importer import import_file
    from zhulian.store import Store

    store = Store(url)
    store.migrate()
    started = time.perf_counter()
    report = import_file(store, path, mapping="csl")
    elapsed = time.perf_counter() - started
    store.close()
    return elapsed, report


# -- the baseline -----------------------------------------------------------------------------------------

BASELINE_TABLE = ("CREATE TABLE bench_plain (id TEXT PRIMARY KEY, title TEXT, abstract TEXT, keywords TEXT, "
                  "discipline TEXT, category TEXT)")


def baseline_sqlite(path: Path, rows: list[tuple[str, ...]]) -> float:
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
        connection.execute(BASELINE_TABLE)
        connection.commit()
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.executemany("INSERT INTO bench_plain VALUES (%s, %s, %s, %s, %s, %s)", rows)
        connection.commit()
        return time.perf_counter() - started


def postgres_schema() -> tuple[str, str] | None:
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


def drop_schema(schema: str) -> None:
    import psycopg

    with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
        connection.execute(f'DROP SCHEMA "{schema}" CASCADE')


def report_line(name: str, rows: int, seconds: float, baseline: float, outcome: object) -> None:
    rate, base_rate = rows / seconds, rows / baseline
    print(f"{name:<11} 导入 import {rate:>9,.0f} rows/s ({seconds:6.1f} s; created {outcome.created:,}, "
          f"invalid {outcome.invalid})   基线 executemany {base_rate:>9,.0f} rows/s ({baseline:5.2f} s)   "
          f"比值 ratio {base_rate / rate:4.1f}×")


# -- 1M rows: peak memory -----------------------------------------------------------------------------------

def child_import(path: str, url: str) -> None:
    seconds, report = import_into(url, Path(path))
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
    parser.add_argument("--rows", type=int, default=0, help="also import a CSV of this many rows and print peak RSS")
    parser.add_argument("--child-import", nargs=2, metavar=("PATH", "URL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_import:
        child_import(*args.child_import)
        return
    source = csl_rows()
    with tempfile.TemporaryDirectory(prefix="zhulian-bench-") as folder:
        folder_path = Path(folder)
        path = folder_path / "papers.tsv"
        build(path, args.papers, source)
        rows = read_rows(path)
        print(f"{args.papers:,} 篇论文 papers from {len(source):,} CSL records, {path.stat().st_size / 1e6:,.0f} MB TSV; "
              "import = detect + map + validate + upsert (revisions, projections, change feed)")
        seconds, outcome = import_into(f"sqlite:///{folder_path / 'bench.db'}", path)
        baseline = baseline_sqlite(folder_path / "plain.db", rows)
        report_line("SQLite", args.papers, seconds, baseline, outcome)
        schema = postgres_schema()
        if schema is not None:
            try:
                seconds, outcome = import_into(schema[1], path)
                baseline = baseline_postgres(schema[1], rows)
                report_line("PostgreSQL", args.papers, seconds, baseline, outcome)
            finally:
                drop_schema(schema[0])
        del rows
        if args.rows:
            million(args.rows, source, folder_path)


if __name__ == "__main__":
    main()
