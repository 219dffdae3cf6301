"""What hostile input costs (issue 20), beside an ordinary input measured in the same run.

1. Reading a JSON array upload: the bounded-depth reader (``formats._json_items`` over ijson's events) against
   ijson's own item builder, on N ordinary records: the price of refusing a deep nest before building it.
2. A real server (``zhulian serve``, SQLite in a temporary folder): seconds and peak RSS rise for an ordinary
   dry-run upload, then for a 60 KB nested JSON upload, a nested request body and an XLSX bomb.

    python bench/hostile_bench.py [--records 100000] [--bomb-mib 512]
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import tempfile
import time
from pathlib import Path

import httpx
import ijson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.test_hostile import NESTED, Server, measured, xlsx_bomb  # noqa: E402
from zhulian.access import create_key  # noqa: E402
from zhulian.exchange.formats import _json_items  # noqa: E402
from zhulian.store import Store  # noqa: E402


def reader_figures(count: int) -> None:
    records = [{"type": "organization", "name": {"zh": f"机构{i}", "en": f"Org {i}"}, "city": "440100",
                "aliases": ["甲", "乙"], "relations": [{"predicate": "lead_unit", "object": "org_01"}]}
               for i in range(count)]
    data = json.dumps(records, ensure_ascii=False).encode()
    started = time.perf_counter()
    baseline = sum(1 for _ in ijson.items(io.BytesIO(data), "item", use_float=True))
    baseline_s = time.perf_counter() - started
    started = time.perf_counter()
    bounded = sum(1 for _ in _json_items(ijson.basic_parse(io.BytesIO(data), use_float=True)))
    bounded_s = time.perf_counter() - started
    assert baseline == bounded == count
    print(f"JSON array of {count:,} records ({len(data) / 1e6:.1f} MB): ijson.items {baseline_s:.2f} s, "
          f"bounded reader {bounded_s:.2f} s")


def server_figures(bomb_mib: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/zhulian.db"
        store = Store(url)
        store.migrate()
        key = {"Authorization": f"Bearer {create_key(store, 'publisher', node='440100')[1]}"}
        store.close()
        bomb = xlsx_bomb(bomb_mib)
        server = Server(url, Path(folder) / "data")
        try:
            upload = f"{server.url}/api/v1/import/orgs?dry_run=true"
            ordinary = json.dumps([{"name": {"zh": f"机构{i}"}, "city": "440100"} for i in range(1500)],
                                  ensure_ascii=False).encode()
            cases = {
                f"ordinary JSON upload ({len(ordinary) // 1024} KB, baseline)":
                    lambda: httpx.post(upload, headers=key, files={"file": ("a.json", ordinary)}, timeout=60),
                f"nested JSON upload ({len(NESTED) // 1024} KB)":
                    lambda: httpx.post(upload, headers=key, files={"file": ("a.json", NESTED)}, timeout=60),
                "nested request body, no key":
                    lambda: httpx.post(f"{server.url}/api/v1/orgs", content=NESTED, timeout=60,
                                       headers={"Content-Type": "application/json"}),
                f"XLSX bomb ({len(bomb) // 1024} KB, one {bomb_mib} MiB cell)":
                    lambda: httpx.post(upload, headers=key, files={"file": ("b.xlsx", bomb)}, timeout=60),
            }
            for name, send in cases.items():
                send()  # once to load what the path loads; the second is measured
                response, seconds, rise = measured(server, send)
                print(f"{name}: HTTP {response.status_code}, {seconds:.2f} s, peak RSS rise {rise / 2**20:.1f} MiB, "
                      f"answer {len(response.content):,} bytes")
        finally:
            server.stop()


if __name__ == "__main__":
    from common import report_at_exit  # the bench's own folder leads sys.path

    report_at_exit()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--bomb-mib", type=int, default=512)
    arguments = parser.parse_args()
    reader_figures(min(arguments.records, 100_000))
    server_figures(arguments.bomb_mib)
