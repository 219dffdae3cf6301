"""Hostile input costs nothing (issue 20): each case the probe reproduced, as an attacker or a careless client
sends it, on SQLite and PostgreSQL. The memory cases run against a real server process and measure its RSS."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import stat
import subprocess
import sys
import threading
import time
import warnings
import zipfile
from pathlib import Path

import httpx
import openpyxl
import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from tests.federation.cluster import free_port, wait_until_up
from zhulian.access import CLI_ADMIN, Principal, create_key
from zhulian.config import Settings
from zhulian.exchange.service import ExchangeService
from zhulian.records import RecordService
from zhulian.records.reference import load_region
from zhulian.store import Store
from zhulian.store.engine import WRITE_WAIT_S
from zhulian.web.app import create_app

NESTED = b"[" * 30_000 + b"]" * 30_000  # 60 KB that once took a server from 290 MB to 2.5 GB
MEMORY_CEILING = 100 * 1024 * 1024
FORMULA_START = tuple("=+-@＝＋－＠\t\r")


def app_client(store: Store, tmp_path: Path, **settings) -> TestClient:
    options = {"rate_per_key": 0, "rate_per_address": 0} | settings
    return TestClient(create_app(Settings(data_dir=tmp_path / "data", **options), store=store),
                      raise_server_exceptions=False)


def bearer(store: Store, role: str, node: str | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {create_key(store, role, node=node)[1]}"}


def error_of(response: httpx.Response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.text[:500]
    error = response.json()["error"]
    assert error["message"] and re.search(r"[\u4e00-\u9fff]", error["message_zh"]), error
    assert code is None or error["code"] == code, error
    return error


# -- a real server, for the cases measured in memory and time ------------------------------------------------

class Server:
    def __init__(self, database_url: str, data_dir: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "ZHULIAN_DATA_DIR": str(data_dir), "ZHULIAN_DATABASE_URL": database_url,
               "ZHULIAN_RATE_PER_KEY": "0", "ZHULIAN_RATE_PER_ADDRESS": "0"}
        self.process = subprocess.Popen([sys.executable, "-m", "zhulian.cli", "serve", "--port", str(self.port)],
                                        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wait_until_up(self.url, self.process)

    def memory(self, field: str) -> int:
        """``VmRSS`` (now) or ``VmHWM`` (the peak so far) of the server process, in bytes."""
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        return int(re.search(rf"^{field}:\s+(\d+) kB", status, re.M)[1]) * 1024

    def reset_peak(self) -> None:
        Path(f"/proc/{self.process.pid}/clear_refs").write_text("5")  # VmHWM := VmRSS

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=20)


@pytest.fixture
def server(store, database_url, tmp_path):
    running = Server(database_url, tmp_path / "server")
    yield running
    running.stop()


def xlsx_bomb(cell_mib: int) -> bytes:
    """A real workbook whose second row holds one cell of ``cell_mib`` MiB of one letter: about 1 KB a MiB."""
    book = openpyxl.Workbook()
    book.active.append(["名称 name.zh", "城市 city"])
    plain = io.BytesIO()
    book.save(plain)
    bomb = io.BytesIO()
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as out:
        for member in source.infolist():
            if member.filename != "xl/worksheets/sheet1.xml":
                out.writestr(member, source.read(member.filename))
                continue
            head, tail = source.read(member.filename).split(b"</row>", 1)
            with out.open(member.filename, "w", force_zip64=True) as sheet:
                sheet.write(head + b'</row><row r="2"><c r="A2" t="inlineStr"><is><t>')
                block = b"A" * (1 << 20)
                for _ in range(cell_mib):
                    sheet.write(block)
                sheet.write(b"</t></is></c></row>" + tail)
    return bomb.getvalue()


@pytest.fixture(scope="module")
def bomb() -> bytes:
    return xlsx_bomb(256)  # 256 MiB from about 250 KB: well past the ceiling if it were read


def measured(server: Server, send) -> tuple[httpx.Response, float, int]:
    """The answer to ``send()``, the seconds it took and how far the server's peak memory rose over its
    memory just before."""
    server.reset_peak()
    before = server.memory("VmRSS")
    started = time.perf_counter()
    response = send()
    seconds = time.perf_counter() - started
    return response, seconds, server.memory("VmHWM") - before


def test_nested_json_and_an_xlsx_bomb_cost_a_real_server_nothing(server, store, bomb) -> None:
    key = bearer(store, "publisher", "440100")
    upload = f"{server.url}/api/v1/import/orgs?dry_run=true"
    # Warm up: the readers' libraries are loaded once, by an ordinary import.
    warm = httpx.post(upload, headers=key, files={"file": ("ok.json", b'[{"name": {"zh": "\xe4\xb8\x80"}}]')}, timeout=30)
    assert warm.status_code in (200, 422), warm.text
    attacks = {
        "nested JSON upload": lambda: httpx.post(upload, headers=key, files={"file": ("a.json", NESTED)}, timeout=30),
        "nested JSONL line": lambda: httpx.post(upload, headers=key, files={"file": ("a.jsonl", b'{"a":' + NESTED + b"}\n")},
                                                timeout=30),
        "nested body, no key": lambda: httpx.post(f"{server.url}/api/v1/orgs", content=NESTED, timeout=30,
                                                  headers={"Content-Type": "application/json"}),
        "XLSX bomb (256 MiB cell)": lambda: httpx.post(upload, headers=key, files={"file": ("bomb.xlsx", bomb)}, timeout=30),
        "XLSX bomb as traced steps": lambda: httpx.post(f"{server.url}/api/v1/trace/steps/import", headers=key,
                                                        files={"file": ("bomb.xlsx", bomb)}, timeout=30),
        "a lone CR in a CSV of steps": lambda: httpx.post(f"{server.url}/api/v1/trace/steps/import", headers=key,
                                                          files={"file": ("steps.csv", b"\r0")}, timeout=30),
    }
    for name, attack in attacks.items():
        response, seconds, rise = measured(server, attack)
        assert 400 <= response.status_code < 500, (name, response.status_code, response.text[:300])
        assert len(response.content) < 100_000, name  # the report quotes no huge cell back
        assert seconds < 2, (name, seconds)
        assert rise < MEMORY_CEILING, (name, rise)
    assert "A" * 1000 not in response.text
    assert server.process.poll() is None


def test_the_cli_refuses_a_nested_json_file_at_once(run, tmp_path) -> None:
    nested = tmp_path / "nested.json"
    nested.write_bytes(b'[{"name": ' + b"[" * 200_000 + b"]" * 200_000 + b"}]")
    started = time.perf_counter()
    result = run("import", nested, "--type", "organization", code=2)
    assert time.perf_counter() - started < 5
    assert "嵌套超过" in result.output and "nested deeper than" in result.output


def test_jsonl_lines_nested_too_deep_are_reported_as_that_rows_problem(run, tmp_path) -> None:
    lines = tmp_path / "orgs.jsonl"
    lines.write_bytes(b'{"name": {"zh": "\xe5\xb9\xbf\xe5\xb7\x9e\xe6\xb5\x8b\xe8\xaf\x95"}, "city": "440100"}\n'
                      + b'{"a": ' + NESTED + b"}\n")
    result = run("import", lines, "--type", "organization", "--skip-invalid")
    assert "嵌套超过" in result.output or "nested deeper" in result.output
    assert "新建 created 1" in result.output


# -- formulas: no CSV or XLSX the platform produces holds a live one -------------------------------------------

HOSTILE_NAMES = ['=HYPERLINK("http://evil.example","x")', "＝1+1", " =1+1", "@SUM(A1:A2)", "+1+1", "-1+1",
                 "\t=1+1", "'=1+1"]


def live_formulas(content: bytes, fmt: str) -> list[str]:
    cells: list[str] = []
    if fmt == "csv":
        for row in csv.reader(io.StringIO(content.decode("utf-8-sig"))):
            cells += row
    else:
        book = openpyxl.load_workbook(io.BytesIO(content))
        for sheet in book.worksheets:
            for row in sheet.iter_rows():
                for cell in row:
                    if cell.data_type == "f":
                        cells.append(f"formula {cell.coordinate}: {cell.value}")
                    elif isinstance(cell.value, str):
                        cells.append(cell.value)
    return [c for c in cells if c.startswith("formula ") or c.lstrip(" \u3000").startswith(FORMULA_START)
            or c.startswith(("\t", "\r"))]


def test_no_export_holds_a_live_formula(store, tmp_path) -> None:
    load_region(store)
    records = RecordService(store)
    # Organisations in the collaboration network and policies with targets get hostile names and titles.
    networked = list(dict.fromkeys(relation["object"] for platform in store.iterate("platform", None)
                                   for relation in platform.get("relations") or [] if "object" in relation))
    assert len(networked) >= len(HOSTILE_NAMES)
    for record_id, name in zip(networked, HOSTILE_NAMES):
        records.patch(CLI_ADMIN, record_id, {"name": {"zh": name}})
    policies = [r for r in store.iterate("policy", None) if r.get("targets")]
    for policy in policies[:2]:
        records.patch(CLI_ADMIN, policy["id"], {"title": {"zh": "=cmd|' /C calc'!A0"}})
    client = app_client(store, tmp_path)
    with client:
        deadline = time.monotonic() + 30
        while client.get("/api/v1/network/status").json().get("position") != store.last_seq():
            assert time.monotonic() < deadline, "the network follower did not catch up"
            time.sleep(0.05)
        codes = [i["code"] for i in client.get("/api/v1/indicators").json()["results"]][:2]
        urls = [f"/api/v1/export/{c}.{{fmt}}" for c in ("orgs", "policies", "platforms")]
        urls += [f"/api/v1/network/export/{t}.{{fmt}}" for t in ("organisations", "links", "cities", "circles", "roles")]
        urls += ["/api/v1/targets/progress?format={fmt}"] + [f"/api/v1/indicators/{c}/series?format={{fmt}}" for c in codes]
        seen = ""
        for url in urls:
            for fmt in ("csv", "xlsx"):
                response = client.get(url.format(fmt=fmt))
                assert response.status_code == 200, (url, fmt, response.text[:300])
                assert live_formulas(response.content, fmt) == [], (url, fmt)
                if fmt == "csv":
                    seen += response.content.decode("utf-8-sig")
    assert "'=HYPERLINK" in seen and "'＝1+1" in seen and "'@SUM" in seen and "'=cmd" in seen


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_table_writer_neutralises_every_cell_it_writes(fmt) -> None:
    from zhulian.exchange.formats import TableWriter

    buffer = io.BytesIO()
    writer = TableWriter(buffer, fmt)
    writer.header(HOSTILE_NAMES)
    writer.row(HOSTILE_NAMES + [12, None, "plain text"])
    writer.extra_sheet("notes", [HOSTILE_NAMES])
    writer.close()
    assert live_formulas(buffer.getvalue(), fmt) == []


def test_an_export_with_formula_like_text_imports_back_unchanged(store, tmp_path) -> None:
    from zhulian.exchange.exporter import export_records
    from zhulian.exchange.formats import open_source

    records = RecordService(store)
    for name in HOSTILE_NAMES:
        records.create(CLI_ADMIN, {"type": "organization", "name": {"zh": name}, "kind": "enterprise"})
    stored = sorted(r["name"]["zh"] for r in store.iterate("organization", None))  # as the store keeps them
    assert "＝1+1" in stored and "'=1+1" in stored
    for fmt in ("csv", "xlsx"):
        target = tmp_path / f"orgs.{fmt}"
        export_records(store, "organization", fmt, target)
        with open_source(target) as source:
            rows = [cells for _n, cells in source.rows()]
        column = rows[0].index(next(h for h in rows[0] if h and "name.zh" in h))
        assert sorted(r[column] for r in rows[1:]) == stored


# -- two companies are never one -----------------------------------------------------------------------------

@pytest.mark.parametrize("first, second", [("ABC科技有限公司", "XYZ科技有限公司"), ("IBM中国研究院", "SAP中国研究院"),
                                           ("IBM 中国研究院", "SAP 中国研究院")])
def test_names_differing_in_their_latin_letters_stay_two_organisations(run, tmp_path, first, second) -> None:
    for number, name in enumerate((first, second)):
        path = tmp_path / f"{number}.jsonl"
        path.write_text(json.dumps({"name": {"zh": name}, "kind": "enterprise", "city": "440100"}, ensure_ascii=False),
                        encoding="utf-8")
        assert "新建 created 1" in run("import", path, "--type", "organization").output
    names = [r["name"]["zh"] for r in json.loads(run("list", "organization", "--json").output)]
    assert sorted(names) == sorted([first, second])


def test_a_bilingual_name_still_meets_its_chinese_name() -> None:
    from zhulian.registry.normalize import name_keys

    assert "中山大学" in name_keys("中山大学 Sun Yat-sen University")
    assert set(name_keys("ABC科技有限公司")).isdisjoint(name_keys("XYZ科技有限公司"))


# -- no 500s ---------------------------------------------------------------------------------------------------

def test_malformed_requests_get_a_4xx_never_a_500(store, tmp_path) -> None:
    client = app_client(store, tmp_path)
    admin = bearer(store, "admin")
    org = client.post("/api/v1/orgs", json={"name": {"zh": "广州测试机构"}}, headers=admin).json()
    requests = [
        ("GET", "/api/v1/papers?filter=year:99999999999999999999", None),
        ("GET", "/api/v1/papers?filter=year:>99999999999999999999", None),
        ("GET", "/api/v1/orgs?cursor=eyJvZmZzZXQiOiAtNX0=", None),  # offset -5
        ("GET", "/api/v1/orgs?cursor=eyJvZmZzZXQiOiA5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OX0=", None),  # offset 10^27
        ("GET", "/api/v1/orgs?filter=city:44%000100", None),
        ("GET", "/api/v1/orgs/uscc:9144%0001", None),
        ("GET", f"/api/v1/orgs/{org['id']}?revision=99999999999999999999999", None),
        ("POST", "/api/v1/registry/review/99999999999999999999999", {"decision": "same"}),
        ("POST", "/api/v1/registry/review/-9223372036854775809", {"decision": "same"}),
        ("POST", "/api/v1/orgs", {"name": {"zh": "名称\x00含空字符"}}),
        ("POST", "/api/v1/registry/merge", json.loads("[" * 500 + "]" * 500)),
    ]
    for method, url, body in requests:
        response = client.request(method, url, json=body, headers=admin)
        assert 400 <= response.status_code < 500, (method, url, response.status_code, response.text[:300])
        error_of(response, response.status_code)
    nested = client.post("/api/v1/registry/merge", content=NESTED, headers={**admin, "Content-Type": "application/json"})
    error_of(nested, 400, "invalid")


# -- CSRF on the API when a cookie signs the request in ------------------------------------------------------

def test_a_cookie_authenticated_api_write_needs_the_csrf_token(store, tmp_path) -> None:
    client = app_client(store, tmp_path)
    secret = create_key(store, "publisher", node="440100")[1]
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/signin").text)[1]
    assert client.post("/signin", data={"key": secret, "csrf": token}, follow_redirects=False).status_code == 303
    upload = {"file": ("orgs.jsonl", '{"name": {"zh": "跨站提交的机构"}, "city": "440100"}\n'.encode())}
    error_of(client.post("/api/v1/import/orgs", files=upload), 403, "csrf")
    error_of(client.post("/api/v1/orgs", json={"name": {"zh": "跨站"}}, headers={"X-CSRF-Token": "guess"}), 403, "csrf")
    assert client.get("/api/v1/orgs", params={"filter": "city:440100"}).json()["meta"]["count"] == 0
    session_token = re.search(r'name="csrf" value="([^"]+)"', client.get("/data").text)[1]
    accepted = client.post("/api/v1/import/orgs", files=upload, headers={"X-CSRF-Token": session_token})
    assert accepted.status_code == 200, accepted.text
    assert client.get("/api/v1/orgs", params={"filter": "city:440100"}).json()["meta"]["count"] == 1


# -- rate limits that hold ---------------------------------------------------------------------------------------

def test_inventing_keys_or_spelling_one_key_many_ways_wins_no_requests(store, tmp_path) -> None:
    client = app_client(store, tmp_path, rate_per_address=3, rate_per_key=3)
    invented = [client.get("/api/v1/regions", headers={"Authorization": f"Bearer made-up-{i}"}).status_code
                for i in range(5)]
    assert invented[:3] == [200, 200, 200] and invented[3:] == [429, 429]
    secret = create_key(store, "reader")[1]
    other = app_client(store, tmp_path / "other", rate_per_address=100, rate_per_key=3)
    spellings = [f"Bearer {secret}", f"bearer {secret}", f"BEARER {secret}", f"Bearer  {secret}", f"Bearer {secret} ",
                 f"  Bearer {secret}", f"BeArEr {secret}"]
    statuses = [other.get("/api/v1/regions", headers={"Authorization": s}).status_code for s in spellings]
    # the first request finds the key valid; the next three spend its bucket; the rest wait
    assert statuses[:4] == [200] * 4 and set(statuses[4:]) == {429}


def test_x_forwarded_for_counts_only_from_a_trusted_proxy(store, tmp_path) -> None:
    def statuses(trusted: str, folder: str) -> list[int]:
        app = create_app(Settings(data_dir=tmp_path / folder, rate_per_address=3, rate_per_key=0,
                                  trusted_proxies=trusted), store=store)
        client = TestClient(app, client=("127.0.0.1", 40000))
        return [client.get("/api/v1/regions", headers={"X-Forwarded-For": f"203.0.113.{i}"}).status_code
                for i in range(6)]

    assert statuses("", "direct")[3:] == [429, 429, 429]  # a client cannot name itself anew
    assert statuses("127.0.0.1/32", "proxied") == [200] * 6  # behind the proxy, six clients


def test_workers_share_their_rate_buckets(store, tmp_path) -> None:
    settings = Settings(data_dir=tmp_path / "data", rate_per_address=4, rate_per_key=0)
    workers = [TestClient(create_app(settings, store=store)) for _ in range(2)]
    statuses = [workers[i % 2].get("/api/v1/regions").status_code for i in range(6)]
    assert statuses[:4] == [200] * 4 and statuses[4:] == [429, 429]


# -- preconditions (issue 15) and ETags naming their record (case 12) --------------------------------------------

def test_writes_need_an_if_match_naming_this_record_at_its_revision(store, tmp_path) -> None:
    client = app_client(store, tmp_path)
    gz = bearer(store, "publisher", "440100")
    first = client.post("/api/v1/orgs", json={"name": {"zh": "甲机构"}}, headers=gz)
    second = client.post("/api/v1/orgs", json={"name": {"zh": "乙机构"}}, headers=gz)
    url = f"/api/v1/orgs/{first.json()['id']}"
    for method in ("PATCH", "PUT", "DELETE"):
        body = None if method == "DELETE" else {"name": {"zh": "甲机构"}, "aliases": ["甲"]}
        missing = error_of(client.request(method, url, json=body, headers=gz), 428, "precondition_required")
        assert first.headers["ETag"] in missing["message"] and "If-Match" in missing["message_zh"]
        for tag in (second.headers["ETag"], f"W/{first.headers['ETag']}", '"stale"', "garbage"):
            error_of(client.request(method, url, json=body, headers={**gz, "If-Match": tag}), 412, "stale")
    assert client.get(url).json()["revision"] == 1
    listed = f'{second.headers["ETag"]}, {first.headers["ETag"]}'
    assert client.patch(url, json={"aliases": ["甲"]}, headers={**gz, "If-Match": listed}).status_code == 200
    assert client.patch(url, json={"aliases": ["丙"]}, headers={**gz, "If-Match": "*"}).status_code == 200


# -- uploads over the limit, the documented statuses, headers and file modes --------------------------------

def test_a_chunked_upload_over_the_limit_is_413_in_both_languages(store, tmp_path) -> None:
    client = app_client(store, tmp_path, max_upload_bytes=20_000)
    boundary = "zhulianboundary"

    def chunks():
        yield (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\n"
               "Content-Type: text/csv\r\n\r\nname.zh,city\r\n").encode()
        for _ in range(50):
            yield "广州测试机构,440100\r\n".encode() * 40
        yield f"\r\n--{boundary}--\r\n".encode()

    response = client.post("/api/v1/import/orgs", content=chunks(), headers={
        **bearer(store, "publisher", "440100"), "Content-Type": f"multipart/form-data; boundary={boundary}"})
    error = error_of(response, 413, "too_large")
    assert "字节" in error["message_zh"]


def test_openapi_documents_the_statuses_the_api_answers_and_405_says_what_is_allowed(store, tmp_path) -> None:
    client = app_client(store, tmp_path)
    paths = client.get("/openapi.json").json()["paths"]
    patch = paths["/api/v1/{collection}/{ref}"]["patch"]["responses"]
    assert {"400", "401", "403", "404", "409", "412", "413", "415", "428", "429"} <= set(patch)
    for path, operations in paths.items():
        for operation in operations.values():
            assert {"400", "429"} <= set(operation["responses"])
            # FastAPI's 422 is answered as 400; only a refused import answers 422, with its report
            assert "422" not in operation["responses"] or path == "/api/v1/import/{collection}"
    refused = paths["/api/v1/import/{collection}"]["post"]["responses"]["422"]["content"]["application/json"]
    assert refused["schema"] == {"$ref": "#/components/schemas/ImportReport"}
    progress = paths["/api/v1/targets/progress"]["get"]["responses"]["200"]["content"]
    assert {"application/json", "text/csv"} <= set(progress) and any("spreadsheetml" in kind for kind in progress)
    response = client.put("/openapi.json")
    error_of(response, 405, "method_not_allowed")
    assert "GET" in response.headers["Allow"]
    page = client.put("/signin")  # a page answers in HTML, with the same header
    assert page.status_code == 405 and "GET" in page.headers["Allow"]


def test_security_headers_secure_cookies_and_a_private_database_file(store, tmp_path) -> None:
    client = app_client(store, tmp_path)
    for path in ("/", "/api/v1/regions", "/no-such-page"):
        headers = client.get(path).headers
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
        assert headers["X-Frame-Options"] == "DENY" and headers["X-Content-Type-Options"] == "nosniff"
    assert "secure" not in client.get("/signin").headers["set-cookie"].lower()
    https = TestClient(create_app(Settings(data_dir=tmp_path / "data", rate_per_key=0, rate_per_address=0), store=store),
                       base_url="https://testserver")
    assert "secure" in https.get("/signin").headers["set-cookie"].lower()
    private = Store(f"sqlite:///{tmp_path / 'fresh' / 'zhulian.db'}")
    private.migrate()
    private.close()
    assert stat.S_IMODE((tmp_path / "fresh" / "zhulian.db").stat().st_mode) == 0o600


def test_utf16_without_a_byte_order_mark_imports(run, tmp_path) -> None:
    for encoding in ("utf-16-le", "utf-16-be"):
        path = tmp_path / f"{encoding}.csv"
        path.write_bytes(f"name.zh,kind,city\n一号测试机构{encoding[-2:]},enterprise,440100\n".encode(encoding))
        assert "新建 created 1" in run("import", path, "--type", "organization").output


# -- a long import never stalls another writer (case 7) -------------------------------------------------------

def _timed(send) -> tuple[httpx.Response, float]:
    started = time.perf_counter()
    response = send()
    return response, time.perf_counter() - started


def test_a_long_import_never_stalls_another_principals_writes(store, tmp_path) -> None:
    """An import job holds its transaction open half-way (paused in its progress report, after 600 rows
    are written) while another node's publisher PATCHes a record the imported rows relate to and POSTs a
    new one. PostgreSQL answers them at once; SQLite has one write lock, so it answers a bilingual 503 with
    Retry-After once it has waited WRITE_WAIT_S. Once, they waited for the whole import (PostgreSQL) or got a
    500 (SQLite)."""
    client = app_client(store, tmp_path)
    jobs = client.app.state.jobs
    key = create_key(store, "publisher", node="440100")[0]
    importer = Principal(key["id"], "publisher", node="440100")
    sz = bearer(store, "publisher", "440300")
    target = client.post("/api/v1/orgs", json={"name": {"zh": "深圳被引用机构"}, "city": "440300"}, headers=sz)
    path = tmp_path / "机构.csv"
    path.write_text("name.zh,kind,city,member_of\n" + "".join(
        f"导入机构{n},enterprise,440100,{target.json()['id']}\n" for n in range(1500)), encoding="utf-8")
    exchange = ExchangeService(RecordService(store))
    paused, release = threading.Event(), threading.Event()

    def work(progress):
        def report(rows: int, position: int, total: int) -> None:
            progress(position, total)
            if rows >= 600 and not paused.is_set():
                paused.set()
                release.wait(120)

        return exchange.import_file(importer, path, type_name="organization", progress=report,
                                    batch_size=200).summary()

    job = jobs.submit(importer, "import", work, on_end=paused.set)
    assert paused.wait(120) and jobs.get(importer, job.id).state == "running", jobs.get(importer, job.id).error
    answers: dict[str, tuple[httpx.Response, float]] = {}

    def write() -> None:
        answers["patch"] = _timed(lambda: client.patch(
            f"/api/v1/orgs/{target.json()['id']}", json={"aliases": ["深圳甲"]},
            headers={**sz, "If-Match": target.headers["ETag"]}))
        answers["post"] = _timed(lambda: client.post("/api/v1/orgs", json={"name": {"zh": "深圳新机构"}}, headers=sz))

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    writer.join(4 * WRITE_WAIT_S)
    release.set()
    finished = jobs.wait(importer, job.id)
    assert not writer.is_alive(), "another principal's write waited for the whole import"
    assert finished.state == "succeeded" and finished.result["created"] == 1500, finished
    if store.is_postgres:
        assert [answers[k][0].status_code for k in ("patch", "post")] == [200, 201], answers
        assert max(seconds for _, seconds in answers.values()) < 3, answers
    else:
        for response, seconds in answers.values():
            error = error_of(response, 503, "busy")
            assert seconds < WRITE_WAIT_S + 8 and int(response.headers["Retry-After"]) >= 1, (seconds, response.headers)
            assert "导入" in error["message_zh"] and "import" in error["message"]
        retried = client.patch(f"/api/v1/orgs/{target.json()['id']}", json={"aliases": ["深圳甲"]},
                               headers={**sz, "If-Match": target.headers["ETag"]})
        assert retried.status_code == 200, retried.text


# -- relations only to records the writer can read (case 10) --------------------------------------------------

def test_a_relation_to_a_record_the_writer_cannot_read_is_refused(store, tmp_path) -> None:
    """A publisher cannot make a public record name another node's internal one: anonymous readers would see
    its id and pids in exports, OAI and search. Refused at the one write path: POST, PATCH and import."""
    client = app_client(store, tmp_path)
    gz, sz = bearer(store, "publisher", "440100"), bearer(store, "publisher", "440300")
    hidden = client.post("/api/v1/orgs", json={"name": {"zh": "深圳内部机构"}, "access": "internal",
                                               "pids": {"moe": "4144099999"}}, headers=sz)
    assert hidden.status_code == 201, hidden.text
    hidden = hidden.json()
    shown = client.post("/api/v1/orgs", json={"name": {"zh": "深圳公开机构"}}, headers=sz).json()
    for ref in (hidden["id"], "moe:4144099999"):
        error = error_of(client.post("/api/v1/platforms", headers=gz, json={
            "name": {"zh": "广州平台"}, "relations": [{"predicate": "lead_unit", "object": ref}]}), 400, "invalid")
        [problem] = error["details"]
        assert problem["field"] == "relations.0.object" and "lead_unit" in problem["reason"], problem
        assert "lead_unit" in problem["reason_zh"] and "牵头单位" in problem["reason_zh"]
    platform = client.post("/api/v1/platforms", headers=gz, json={
        "name": {"zh": "广州平台"}, "relations": [{"predicate": "lead_unit", "object": shown["id"]}]})
    assert platform.status_code == 201, platform.text
    error = error_of(client.patch(f"/api/v1/platforms/{platform.json()['id']}", headers={
        **gz, "If-Match": platform.headers["ETag"]}, json={"relations": [
            {"predicate": "partner_unit", "object": hidden["id"]}]}), 400, "invalid")
    assert "partner_unit" in error["details"][0]["reason"]
    upload = f"name.zh,city,lead_unit\n广州导入平台,440100,{hidden['id']}\n".encode()
    imported = client.post("/api/v1/import/platforms", files={"file": ("平台.csv", upload)}, headers=gz).json()
    assert not imported["ok"] and imported["summary"]["created"] == 0, imported
    assert any("lead_unit" in problem["reason"] and "lead_unit" in problem["reason_zh"]
               for problem in imported["problems"]), imported["problems"]
    anonymous = client.get("/api/v1/platforms", params={"expand": "true"}).text
    assert hidden["id"] not in anonymous
    admin = bearer(store, "admin")
    related = client.post("/api/v1/platforms", headers=admin, json={
        "name": {"zh": "省级平台"}, "relations": [{"predicate": "lead_unit", "object": hidden["id"]}]})
    assert related.status_code == 201, related.text  # an administrator reads every record
