"""The core's write contract (issue 12): imports change only what a file gives, reference data never
overwrites an edit, every write is audited once per changed record, concurrent writers conflict instead
of merging, and a killed import or reload leaves nothing behind. Each test runs on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path

import openpyxl
import psycopg
import pytest
import sqlalchemy as sa

import zhulian

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from zhulian.access import CLI_ADMIN, create_key, revoke_key
from zhulian.config import Settings
from zhulian.errors import ZhulianError
from zhulian.exchange.service import ExchangeService
from zhulian.records import RecordService
from zhulian.records import reference as loader
from zhulian.region import reference_records
from zhulian.registry.service import RegistryService
from zhulian.store import Store
from zhulian.store.tables import audit_log
from zhulian.web.app import create_app

from tests.portal_forms import csrf_of, finished_job_page

SRC = Path(zhulian.__file__).resolve().parents[1]  # the subprocesses run the code this test imported
MOE = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "universities" / "moe_hei_list_2017.csv"
FULL = ["name.zh", "pids.moe", "kind", "city", "website", "founded", "keywords", "description.zh"]
SYSU = ["中山大学", "4144010558", "university", "440100", "https://www.sysu.edu.cn", "1924", "医学;工程",
        "广州的综合性大学"]

RECORDS = reference_records()


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([header, *rows])
    return path


def write_xlsx(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    for row in [header, *rows]:
        sheet.append([cell if cell != "" else None for cell in row])
    book.save(path)
    return path


def audit(store: Store, **where: str) -> list[dict]:
    entries = RecordService(store).audit(CLI_ADMIN, limit=1000)
    return [e for e in entries if all(e[k] == v for k, v in where.items())]


@pytest.fixture
def cli(run, database_url: str, monkeypatch: pytest.MonkeyPatch):
    """``run`` on the same database as the ``store`` fixture (on SQLite too), so a test reads what the CLI wrote."""
    monkeypatch.setenv("ZHULIAN_DATABASE_URL", database_url)
    return run


# -- partial imports -------------------------------------------------------------------------------------

@pytest.mark.parametrize("writer", [write_csv, write_xlsx], ids=["csv", "xlsx"])
def test_a_sheet_with_fewer_columns_changes_only_its_columns(run, tmp_path, database_url, writer) -> None:
    suffix = ".csv" if writer is write_csv else ".xlsx"
    run("import", writer(tmp_path / f"full{suffix}", FULL, [SYSU]), "--type", "organization")
    narrow = writer(tmp_path / f"narrow{suffix}", ["name.zh", "pids.moe", "kind", "city", "website"],
                    [["中山大学", "4144010558", "university", "440100", ""]])  # an empty cell: no value given
    report = json.loads(run("import", narrow, "--type", "organization", "--json").output)
    assert (report["updated"], report["unchanged"]) == (0, 1)

    renamed = writer(tmp_path / f"renamed{suffix}", ["name.en", "pids.moe", "name.zh"],
                     [["Sun Yat-sen University", "4144010558", "中山大学"]])
    report = json.loads(run("import", renamed, "--type", "organization", "--json").output)
    assert report["updated"] == 1 and report["changes_shown"][0]["changed"] == ["name.en"]
    record = json.loads(run("get", "moe:4144010558", "--json").output)
    assert (record["website"], record["founded"], record["keywords"], record["description"]) == (
        "https://www.sysu.edu.cn", "1924", ["医学", "工程"], {"zh": "广州的综合性大学"})
    assert record["name"] == {"zh": "中山大学", "en": "Sun Yat-sen University"} and record["revision"] == 2


def test_clear_empty_clears_the_given_columns_and_reports_them(run, tmp_path) -> None:
    run("import", write_csv(tmp_path / "full.csv", FULL, [SYSU]), "--type", "organization")
    sheet = write_csv(tmp_path / "clear.csv", ["pids.moe", "name.zh", "website", "keywords"],
                      [["4144010558", "中山大学", "", "医学"]])
    report_path = tmp_path / "report.json"
    run("import", sheet, "--type", "organization", "--clear-empty", "--report", report_path)
    [change] = json.loads(report_path.read_text(encoding="utf-8"))["changes"]
    assert (change["row"], change["changed"], change["cleared"]) == (2, ["keywords", "website"], ["website"])
    record = json.loads(run("get", "moe:4144010558", "--json").output)
    assert "website" not in record and record["keywords"] == ["医学"] and record["founded"] == "1924"


def test_a_row_that_would_empty_a_required_field_is_refused_with_its_reason(run, tmp_path) -> None:
    run("import", write_csv(tmp_path / "full.csv", FULL, [SYSU]), "--type", "organization")
    sheet = write_csv(tmp_path / "blank.csv", ["pids.moe", "name.zh", "city"], [["4144010558", "", "440100"]])
    refused = json.loads(run("import", sheet, "--type", "organization", "--clear-empty", "--json", code=2).output)
    [problem] = refused["problems_shown"]
    assert (problem["row"], problem["column"], refused["committed"]) == (2, "name.zh", False)
    assert json.loads(run("get", "moe:4144010558", "--json").output)["name"]["zh"] == "中山大学"


def test_json_imports_are_partial_too(run, tmp_path) -> None:
    run("import", write_csv(tmp_path / "full.csv", FULL, [SYSU]), "--type", "organization")
    path = tmp_path / "update.json"
    path.write_text(json.dumps([{"type": "organization", "pids": {"moe": "4144010558"}, "name": {"zh": "中山大学"},
                                 "website": None, "aliases": ["中大"]}], ensure_ascii=False), encoding="utf-8")
    run("import", path)
    record = json.loads(run("get", "moe:4144010558", "--json").output)
    assert record["website"] == "https://www.sysu.edu.cn" and record["aliases"] == ["中大"]
    run("import", path, "--clear-empty")
    assert "website" not in json.loads(run("get", "moe:4144010558", "--json").output)


def test_an_organisation_import_keeps_the_registry_hook(store, tmp_path) -> None:
    service = RecordService(store)
    ExchangeService(service).import_file(CLI_ADMIN, write_csv(tmp_path / "a.csv", FULL, [SYSU]),
                                         type_name="organization")
    variant = write_csv(tmp_path / "b.csv", ["name.zh", "pids.moe", "kind", "city"],
                        [["中山大學", "4144010558", "university", "440100"]])
    report = ExchangeService(service).import_file(CLI_ADMIN, variant, type_name="organization")
    record = store.get("moe:4144010558")
    assert report.updated == 1 and record["name"]["zh"] == "中山大学" and "中山大學" in record["aliases"]
    assert record["website"] == "https://www.sysu.edu.cn"


# -- the API and the portal ------------------------------------------------------------------------------

@pytest.fixture
def client(store, tmp_path) -> TestClient:
    settings = Settings(data_dir=tmp_path / "data", rate_per_key=0, rate_per_address=0)
    return TestClient(create_app(settings, store=store))


def test_api_import_is_partial_and_clears_only_on_request(client, store, tmp_path) -> None:
    admin = {"Authorization": f"Bearer {create_key(store, 'admin')[1]}"}
    full = write_csv(tmp_path / "full.csv", FULL, [SYSU]).read_bytes()
    assert client.post("/api/v1/import/orgs", files={"file": ("full.csv", full)}, headers=admin).status_code == 200
    narrow = "pids.moe,name.zh,website\n4144010558,中山大学,\n".encode()
    body = client.post("/api/v1/import/orgs", files={"file": ("n.csv", narrow)}, headers=admin).json()
    assert body["summary"]["unchanged"] == 1 and body["changes"] == []
    body = client.post("/api/v1/import/orgs?clear_empty=true", files={"file": ("n.csv", narrow)}, headers=admin).json()
    assert [(c["row"], c["cleared"]) for c in body["changes"]] == [(2, ["website"])]
    record = store.get("moe:4144010558")
    assert "website" not in record and record["founded"] == "1924"
    [entry] = audit(store, action="update")
    assert entry["detail"]["batch"] == body["summary"]["import_id"] and entry["detail"]["file"] == "n.csv"


def test_portal_upload_is_partial(client, store, tmp_path) -> None:
    ExchangeService(RecordService(store)).import_file(CLI_ADMIN, write_csv(tmp_path / "full.csv", FULL, [SYSU]),
                                     type_name="organization")
    _key, secret = create_key(store, "admin", name="管理员")
    form = client.get("/signin").text
    client.post("/signin", data={"key": secret, "csrf": csrf_of(form)}, follow_redirects=False)
    page = client.get("/data").text
    narrow = "pids.moe,name.zh,website,founded\n4144010558,中山大学,https://sysu.example.cn,\n".encode()
    report = finished_job_page(client, client.post("/data/import", data={"type": "organization", "csrf": csrf_of(page)},
                                                   files={"file": ("narrow.csv", narrow, "text/csv")}))
    assert 'id="changes"' in report and "website" in report
    record = store.get("moe:4144010558")
    assert record["website"] == "https://sysu.example.cn" and record["founded"] == "1924"
    assert record["description"] == {"zh": "广州的综合性大学"}


# -- PATCH, PUT and concurrent writers ---------------------------------------------------------------------

def test_patch_merges_and_put_replaces_over_http(client, store) -> None:
    admin = {"Authorization": f"Bearer {create_key(store, 'admin')[1]}"}
    created = client.post("/api/v1/orgs", json={"name": {"zh": "甲所"}, "website": "https://a.example.cn",
                                                "keywords": ["储能"]}, headers=admin)
    url, tag = created.headers["Location"], created.headers["ETag"]
    patched = client.patch(url, json={"keywords": ["电池"]}, headers={**admin, "If-Match": tag})
    assert patched.json()["website"] == "https://a.example.cn" and patched.json()["keywords"] == ["电池"]
    replaced = client.put(url, json={"name": {"zh": "甲所"}}, headers={**admin, "If-Match": patched.headers["ETag"]})
    assert "website" not in replaced.json() and replaced.json().get("keywords", []) == []


def test_two_concurrent_writers_one_wins_the_other_is_told(client, store) -> None:
    admin = {"Authorization": f"Bearer {create_key(store, 'admin')[1]}"}
    created = client.post("/api/v1/orgs", json={"name": {"zh": "乙所"}}, headers=admin)
    url, tag = created.headers["Location"], created.headers["ETag"]
    start = threading.Barrier(2)
    answers: list = [None, None]

    def write(index: int, change: dict) -> None:
        start.wait()
        answers[index] = client.patch(url, json=change, headers={**admin, "If-Match": tag})

    threads = [threading.Thread(target=write, args=(0, {"website": "https://one.example.cn"})),
               threading.Thread(target=write, args=(1, {"keywords": ["二"]}))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(a.status_code for a in answers) == [200, 412]
    winner = next(a for a in answers if a.status_code == 200).json()
    record = store.get(winner["id"])  # the winner's change alone: nothing merged
    assert record["revision"] == 2 and bool(record.get("website")) != bool(record.get("keywords"))
    assert record == {**winner, "relations": []}


def test_concurrent_service_writers_conflict_rather_than_overwrite(store) -> None:
    service = RecordService(store)
    record = service.create(CLI_ADMIN, {"type": "organization", "name": {"zh": "丙所"}})
    start = threading.Barrier(4)
    outcomes: list[str] = []

    def write(n: int) -> None:
        start.wait()
        try:
            service.replace(CLI_ADMIN, record["id"], {"type": "organization", "name": {"zh": f"丙所{n}"}},
                            expected_revision=1)
            outcomes.append("ok")
        except ZhulianError as error:
            outcomes.append(error.code)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["ok", "stale", "stale", "stale"]
    assert store.get(record["id"])["revision"] == 2 and len(audit(store, record_id=record["id"])) == 2


# -- reference data --------------------------------------------------------------------------------------

def test_a_user_edit_survives_demo_twice_and_the_second_run_changes_nothing(cli, store) -> None:
    cli("demo", "--no-serve")
    service = RecordService(store)
    edited = service.patch(CLI_ADMIN, "ref:org-sysu", {"website": "https://www.sysu.edu.cn/new"})
    seq, entries = store.last_seq(), len(audit(store))
    for _ in range(2):
        assert "无改动 no change" in cli("demo", "--no-serve").output
    assert store.last_seq() == seq and len(audit(store)) == entries
    assert store.get("ref:org-sysu")["website"] == edited["website"]


def test_an_import_after_the_region_is_never_reverted_by_a_reload(cli, store, tmp_path) -> None:
    cli("init", "--with-region")
    narrow = write_csv(tmp_path / "moe.csv", ["name.zh", "pids.moe", "kind", "city", "website"],
                       [["中山大学", "4144010558", "university", "440100", "https://imported.example.cn"]])
    cli("import", narrow, "--type", "organization")
    seq = store.last_seq()
    assert "无改动 no change" in cli("init", "--with-region").output and store.last_seq() == seq
    record = store.get("ref:org-sysu")
    assert record["website"] == "https://imported.example.cn" and record["description"]["en"]


def test_the_moe_list_and_the_region_never_undo_each_other(cli, store, tmp_path) -> None:
    if not MOE.exists():
        pytest.skip(f"the shared data file {MOE} is absent (it sits beside the project checkout in ../shared/data)")
    with MOE.open(encoding="utf-8", newline="") as handle:  # the Guangdong universities of the real list
        rows = [row for row in csv.reader(handle) if row[-1] in ("province_gb_prefix", "44")]
    guangdong = write_csv(tmp_path / "moe-44.csv", rows[0], rows[1:])
    cli("init", "--with-region")
    curated = store.get("ref:org-sysu")
    cli("import", guangdong, "--mapping", "moe-universities")
    sysu = store.get("ref:org-sysu")
    for field in ("description", "website", "aliases", "name"):
        assert sysu[field] == curated[field], field
    assert sysu["keywords"] == [*curated["keywords"], "本科"]  # the list's level joins the curated keywords
    assert sysu["pids"]["ref"] == "org-sysu"
    seq = store.last_seq()
    assert "无改动 no change" in cli("init", "--with-region").output
    again = json.loads(cli("import", guangdong, "--mapping", "moe-universities", "--json").output)
    assert (again["created"], again["updated"], store.last_seq()) == (0, 0, seq)


def test_a_changed_package_is_shown_and_applied_only_on_request(cli, store, monkeypatch) -> None:
    cli("init", "--with-region")
    RecordService(store).patch(CLI_ADMIN, "ref:org-sysu", {"aliases": ["中大", "SYSU", "逸仙"]})
    changed = [dict(r) for r in RECORDS]
    position = next(i for i, r in enumerate(changed) if r["pids"]["ref"] == "org-sysu")
    changed[position] = {**changed[position], "website": "https://www.sysu.edu.cn/", "aliases": ["中大"],
                         "founded": "1924"}
    monkeypatch.setattr(loader, "reference_records", lambda: changed)

    before = store.get("ref:org-sysu")
    assert "zhulian region diff" in cli("init", "--with-region").output  # says the package changed
    filled = store.get("ref:org-sysu")  # an unset field is filled; nothing else moves
    assert filled["founded"] == "1924" and filled["website"] == before["website"]
    [diff] = json.loads(cli("region", "diff", "--json").output)
    assert diff["ref"] == "org-sysu" and diff["fill"] == []
    assert [u["field"] for u in diff["upstream"]] == ["website"] and [k["field"] for k in diff["kept"]] == ["aliases"]
    assert store.get("ref:org-sysu")["revision"] == filled["revision"]  # diff wrote nothing

    cli("region", "apply")
    applied = store.get("ref:org-sysu")
    assert applied["website"] == "https://www.sysu.edu.cn/" and applied["aliases"] == ["中大", "SYSU", "逸仙"]
    [entry] = [e for e in audit(store, record_id=applied["id"]) if e["revision"] == applied["revision"]]
    assert entry["detail"]["reference"] == {"website": "https://www.sysu.edu.cn/"}
    assert entry["detail"]["batch"].startswith("region_") and entry["actor"] == CLI_ADMIN.id
    assert json.loads(cli("region", "diff", "--json").output)[0]["upstream"] == []


def test_a_reference_record_with_an_id_is_created_under_that_id(store, monkeypatch) -> None:
    from zhulian.model import new_id

    given = new_id("organization")
    packaged = [{**RECORDS[0], "id": given}, *RECORDS[1:]]
    monkeypatch.setattr(loader, "reference_records", lambda: packaged)
    assert loader.load_region(store, CLI_ADMIN)["created"] == len(RECORDS)
    assert store.get(f"ref:{RECORDS[0]['pids']['ref']}")["id"] == given
    assert loader.load_region(store, CLI_ADMIN) == {"unchanged": len(RECORDS)}


# -- one audited write path --------------------------------------------------------------------------------

def test_audit_counts_one_entry_per_changed_record(cli, store, tmp_path) -> None:
    rows = [["甲研究院", "", "institute", "440100", "", "", "", ""], ["乙研究院", "", "institute", "440300", "", "", "", ""],
            SYSU]
    imported = json.loads(cli("import", write_csv(tmp_path / "three.csv", FULL, rows), "--type", "organization",
                              "--json").output)
    entries = json.loads(cli("audit", "--json", "--limit", "1000").output)
    assert len(entries) == 3 and {e["detail"]["batch"] for e in entries} == {imported["import_id"]}
    assert {(e["action"], e["actor"], e["origin"].startswith("cli@")) for e in entries} == {
        ("create", CLI_ADMIN.id, True)}

    cli("init", "--with-region")  # one entry per record it created or filled: 中山大学 existed and is filled
    region = json.loads(cli("audit", "--json", "--limit", "1000").output)[3:]
    assert len(region) == len({e["record_id"] for e in region}) == len(RECORDS)
    assert [e["record_id"] for e in region if e["action"] == "update"] == [store.get("moe:4144010558")["id"]]
    cli("init", "--with-region")
    assert len(json.loads(cli("audit", "--json", "--limit", "1000").output)) == 3 + len(region)

    seq = len(audit(store))
    loser, survivor = store.get("ref:org-gdufe"), store.get("ref:org-jnu")
    RegistryService(store).merge(CLI_ADMIN, loser["id"], survivor["id"], origin="test")
    merged = [e for e in audit(store) if e["seq"] > seq]
    referrers = {e["record_id"] for e in merged} - {loser["id"], survivor["id"]}
    assert [e["action"] for e in merged[:2]] == ["merge", "merge"] and referrers
    assert len(merged) == len({e["record_id"] for e in merged}) == 2 + len(referrers)
    assert all(e["detail"]["merged"] == loser["id"] and e["detail"]["batch"] == merged[0]["detail"]["batch"]
               for e in merged)

    key, _secret = create_key(store, "reader", principal=CLI_ADMIN, origin="test")
    revoke_key(store, key["id"], principal=CLI_ADMIN, origin="test")
    assert [(e["action"], e["detail"]["key"]) for e in audit(store)[-2:]] == [("key_create", key["id"]),
                                                                             ("key_revoke", key["id"])]
    with pytest.raises(ZhulianError) as refused:
        create_key(store, "admin", principal=_reader(store))
    assert refused.value.code == "forbidden"


def _reader(store: Store):
    from zhulian.access.keys import principal_by_id

    key, _secret = create_key(store, "reader")
    return principal_by_id(store, key["id"])


# -- killed midway -----------------------------------------------------------------------------------------

WRITER_NAME = "zhulian-writer-under-test"


def _snapshot(store: Store) -> tuple:
    with store.engine.connect() as connection:
        entries = connection.execute(sa.select(sa.func.count()).select_from(audit_log)).scalar_one()
    return store.last_seq(), store.counts(), entries


def _environment(database_url: str, tmp_path: Path) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(SRC), "ZHULIAN_DATA_DIR": str(tmp_path / "data")}
    env["ZHULIAN_DATABASE_URL"] = database_url
    env["PGAPPNAME"] = WRITER_NAME  # libpq names the writer's sessions, so that only its writes are watched
    return env


def _writing(database_url: str) -> bool:
    """Whether some other connection holds the store's write transaction right now."""
    if database_url.startswith("sqlite"):
        connection = sqlite3.connect(sa.make_url(database_url).database, timeout=0, isolation_level=None)
        try:
            connection.execute("BEGIN IMMEDIATE")
            connection.execute("ROLLBACK")
            return False
        except sqlite3.OperationalError:
            return True
        finally:
            connection.close()
    # The feed lock is taken only at commit, so a writer is seen by the transaction id its first write gets.
    with psycopg.connect(database_url.replace("postgresql+psycopg", "postgresql"), autocommit=True) as connection:
        return connection.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = %s "
                                  "AND backend_xid IS NOT NULL", (WRITER_NAME,)).fetchone()[0] > 0


def _kill_while_writing(command: list[str], env: dict[str, str], database_url: str) -> None:
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while not _writing(database_url):
            assert process.poll() is None, "the writer ended before it was seen writing"
            assert time.monotonic() < deadline, "the writer never began writing"
            time.sleep(0.005)
        time.sleep(0.2)
        assert process.poll() is None, "the writer finished before it could be killed"
    finally:
        process.send_signal(signal.SIGKILL)  # also when an assertion above failed, so that its message is what shows
        process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL


def test_an_import_killed_midway_leaves_store_and_audit_log_as_they_were(store, database_url, tmp_path) -> None:
    ExchangeService(RecordService(store)).import_file(CLI_ADMIN, write_csv(tmp_path / "one.csv", FULL, [SYSU]),
                                     type_name="organization")
    rows = [[f"测试研究院{n}", "", "institute", "440100", f"https://r{n}.example.cn", "", "", ""]
            for n in range(20_000)] + [[*SYSU[:4], "https://changed.example.cn", "", "", ""]]
    big = write_csv(tmp_path / "big.csv", FULL, rows)
    before = _snapshot(store)
    _kill_while_writing([sys.executable, "-m", "zhulian.cli", "import", str(big), "--type", "organization"],
                        _environment(database_url, tmp_path), database_url)
    assert _snapshot(store) == before
    assert store.get("moe:4144010558")["website"] == SYSU[4]


def test_a_region_reload_killed_midway_leaves_store_and_audit_log_as_they_were(store, database_url,
                                                                               tmp_path) -> None:
    loader.load_region(store, CLI_ADMIN)
    before = _snapshot(store)
    # A release with many more reference records, so that the reload is caught in the middle.
    script = ("import sys; from zhulian.records import reference as loader; from zhulian.store import Store; "
              "extra = [{'type': 'organization', 'pids': {'ref': f'org-test-{n}'}, 'name': {'zh': f'参考机构{n}'},"
              " 'city': '440100'} for n in range(5000)]; packaged = loader.reference_records() + extra; "
              "loader.reference_records = lambda: packaged; "
              "loader.load_region(Store(sys.argv[1]))")
    _kill_while_writing([sys.executable, "-c", script, database_url], _environment(database_url, tmp_path),
                        database_url)
    assert _snapshot(store) == before
