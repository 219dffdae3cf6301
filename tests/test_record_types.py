"""A record type added by one module folder only (tests/modules/gauges, loaded the way ZHULIAN_MODULES loads
a module) is imported, exported, listed, searched, fed and harvested like the core's own, on SQLite and
PostgreSQL; and the core's own types are declared the same way."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from tests.modules.gauges.commands import register as register_commands
from zhulian import plugins
from zhulian.access import create_key
from zhulian.config import Settings
from zhulian.errors import ZhulianError
from zhulian.exchange.exporter import export_records
from zhulian.exchange.importer import import_file
from zhulian.exchange.template import write_template
from zhulian.federation.harvester import Harvester
from zhulian.model import MODELS, RECORD_TYPES, RecordType, register, resolve_type
from zhulian.store import Store
from zhulian.web.app import create_app

REPO = Path(__file__).resolve().parents[1]
MODULE = "tests.modules.gauges"
GAUGES = [  # name, gauge code, level, pollutants, altitude, commissioned, city, operator
    ("广州市监测站", "1345A", "国控", "PM2.5;O3", "30", "2013-01", "440100", "moe:4144010558"),
    ("荔园", "1356A", "省控", "PM2.5;NO2", "12", "2016-05", "440300", ""),
    ("佛山湾", "1370A", "市控", "SO2", "8", "2018", "440600", ""),
]


@pytest.fixture
def gauges():
    plugins.add_module(MODULE)
    yield
    plugins.remove_module(MODULE)


def gauges_csv(path: Path) -> Path:
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["type", "name.zh", "pids.gauge", "level", "pollutants", "altitude_m", "commissioned",
                         "city", "operated_by"])
        writer.writerows(("gauge", *row) for row in GAUGES)
    return path


def test_a_module_type_end_to_end(gauges, database_url: str, store: Store, tmp_path: Path,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    university = store.create({"type": "organization", "name": {"zh": "中山大学"}, "pids": {"moe": "4144010558"}})

    # import (CSV): every row, with the module's choices in Chinese and its relation resolved; again: no change
    source = gauges_csv(tmp_path / "空气质量测点.csv")
    report = import_file(store, source)
    assert report.committed and report.type == "gauge" and report.created == 3, list(report.errors)
    assert import_file(store, source).unchanged == 3
    [guangzhou] = store.query("gauge", "level:national").results
    assert guangzhou["id"].startswith("gau_") and guangzhou["pollutants"] == ["PM2.5", "O3"]
    assert [(r["predicate"], r["object"]["id"]) for r in store.relations(guangzhou["id"], direction="out")] == [
        ("operated_by", university["id"])]

    # export and template: the Chinese labels of the module's fields
    exported = tmp_path / "out.csv"
    assert export_records(store, "gauge", "csv", exported).count == 3
    with exported.open(encoding="utf-8-sig") as file:
        rows = list(csv.DictReader(file))
    assert len(rows) == 3 and any("监测项目" in header for header in rows[0])
    write_template("gauge", "csv", tmp_path / "template.csv")
    header, example = list(csv.reader((tmp_path / "template.csv").open(encoding="utf-8-sig")))[:2]
    assert any("站点级别" in h for h in header) and "广州市环境监测中心站" in example

    settings = Settings(data_dir=tmp_path / "node", node_name="gz", rate_per_key=0, rate_per_address=0)
    with TestClient(create_app(settings, store=store), base_url="http://gz.test") as client:
        # API: list with filters and group_by, schema, a write
        listed = client.get("/api/v1/gauges", params={"filter": "altitude_m:>10,year:<2017",
                                                        "group_by": "level"}).json()
        assert listed["meta"]["count"] == 2
        assert {(g["key"], g["key_display_name"], g["count"]) for g in listed["group_by"]} == {
            ("national", "国控", 1), ("provincial", "省控", 1)}
        error = client.get("/api/v1/gauges", params={"filter": "colour:red"})
        assert error.status_code == 400 and error.json()["error"]["message_zh"]
        schema = client.get("/api/v1/schema/gauge").json()
        assert schema["properties"]["id"]["anyOf"][0]["pattern"].startswith("^(gau)_")
        assert "operated_by" in schema["$defs"]["Relation"]["properties"]["predicate"]["enum"]
        publisher = {"Authorization": f"Bearer {create_key(store, 'publisher', node='440400')[1]}"}
        posted = client.post("/api/v1/gauges", json={"name": {"zh": "唐家湾"}, "level": "city", "city": "440400"},
                             headers=publisher)
        assert posted.status_code == 201 and posted.headers["Location"].startswith("/api/v1/gauges/gau_")

        # the module's own route, over the record service
        assert client.get("/api/v1/air/levels").json()["results"] == [
            {"key": "city", "key_display_name": "市控", "count": 2},
            {"key": "national", "key_display_name": "国控", "count": 1},
            {"key": "provincial", "key_display_name": "省控", "count": 1}]

        # search (the index follows the feed), by name, keyword and pinyin
        found: list = []
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not found:
            found = client.get("/api/v1/search", params={"q": "唐家湾", "type": "gauges"}).json()["results"]
            time.sleep(0.05)
        assert [hit["id"] for hit in found] == [posted.json()["id"]]
        by_pollutant = client.get("/api/v1/search", params={"q": "NO2", "type": "gauges",
                                                            "filter": "level:provincial"}).json()
        assert [hit["name"]["zh"] for hit in by_pollutant["results"]] == ["荔园"]
        by_pinyin = client.get("/api/v1/autocomplete/gauges", params={"q": "liyuan"}).json()
        assert [(hit["name"], hit["hint"]) for hit in by_pinyin["results"]] == [("荔园", "深圳市 · 空气质量测点")]

        # portal: the collection's page, and the operator's page reading the module's predicate from its side
        page = client.get("/gauges")
        assert page.status_code == 200 and "空气质量测点" in page.text and "荔园" in page.text
        assert "运维站点" in client.get(f"/orgs/{university['id']}").text

        # change feed and OAI-PMH sets
        changes = client.get("/api/v1/changes", params={"set": "gauge"},
                             headers={"Authorization": f"Bearer {create_key(store, 'harvester')[1]}"})
        assert changes.status_code == 200
        assert {e["type"] for e in changes.json()["results"]} == {"gauge"} and len(changes.json()["results"]) == 4
        sets = client.get("/oai", params={"verb": "ListSets"}).text
        assert "<setSpec>gauge</setSpec>" in sets and "空气质量测点" in sets
        oai = client.get("/oai", params={"verb": "ListIdentifiers", "metadataPrefix": "oai_dc", "set": "gauge"})
        assert oai.text.count("<identifier>") == 4

        # the module's own command
        monkeypatch.setenv("ZHULIAN_DATA_DIR", str(tmp_path / "cli"))
        monkeypatch.setenv("ZHULIAN_DATABASE_URL", database_url)
        cli = typer.Typer()
        register_commands(cli)
        cli.command("noop")(lambda: None)  # with two commands Typer keeps `gauges` as a subcommand
        done = CliRunner().invoke(cli, ["gauges", "--json"])
        assert done.exit_code == 0, done.output
        assert {level["key"]: level["count"] for level in json.loads(done.stdout)} == {
            "national": 1, "provincial": 1, "city": 2}

        # a hub harvests the node: the module's records arrive and are listed by the module's fields there
        hub_store = Store(f"sqlite:///{tmp_path / 'hub.db'}")
        hub_store.migrate()
        harvester = Harvester(hub_store, Settings(data_dir=tmp_path / "hub", node_name="hub"),
                              transport=client._transport)
        try:
            harvester.add("gz", "http://gz.test", create_key(store, "harvester")[1])
            [outcome] = harvester.harvest_many()
            assert outcome.ok and outcome.created == 5  # four gauges and the university they point at
            assert hub_store.query("gauge", "pollutants:PM2.5").count == 2
            assert hub_store.get(guangzhou["id"])["name"] == {"zh": "广州市监测站"}
        finally:
            harvester.close()
            hub_store.close()


def test_zhulian_modules_loads_a_module_in_a_new_process(tmp_path: Path) -> None:
    env = {**os.environ, "ZHULIAN_MODULES": MODULE, "ZHULIAN_DATA_DIR": str(tmp_path),
           "PYTHONPATH": os.pathsep.join([str(REPO / "src"), str(REPO)])}
    # a module's types.py imported first of all still finds every type registered
    show = ("import zhulian.indicators.types, json, zhulian.model as m; "
            "print(json.dumps(m.json_schema(m.resolve_type('空气质量测点'))))")
    done = subprocess.run([sys.executable, "-c", show], env=env, cwd=tmp_path, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["title"] == "空气质量测点 gauge"


def test_a_removed_module_takes_its_type_with_it(gauges) -> None:
    assert resolve_type("gauges") == "gauge"
    plugins.remove_module(MODULE)
    with pytest.raises(ZhulianError) as error:
        resolve_type("gauges")
    assert error.value.code == "unknown_type"
    plugins.add_module(MODULE)  # for the fixture to remove


def test_a_type_cannot_take_a_prefix_or_collection_another_type_has(gauges) -> None:
    gauge = RECORD_TYPES["gauge"]
    for clash in ({"prefix": "org"}, {"collection": "orgs"}, {"name": "gauge"}):
        declared = RecordType(**{**gauge.__dict__, "name": "gauge2", "collection": "gauges2",
                                 "prefix": "gab", **clash})
        with pytest.raises(ValueError):
            register(declared)
    assert set(RECORD_TYPES) >= {"organization", "gauge"} and "gauge2" not in RECORD_TYPES


def test_the_core_types_are_declared_like_a_modules() -> None:
    assert MODELS["observation"].__module__ == "zhulian.indicators.types"
    assert MODELS["station"].__module__ == "zhulian.environment.types"
    assert {declared.model.__module__ for name, declared in RECORD_TYPES.items()
            if name not in ("observation", "station", "gauge")} == {"zhulian.model.types"}
    # observation belongs to indicators: the core's model, search documents and templates never name it
    core = [*(REPO / "src/zhulian/model").glob("*.py"), REPO / "src/zhulian/search/documents.py",
            REPO / "src/zhulian/exchange/template.py"]
    assert [path.name for path in core if "observation" in path.read_text(encoding="utf-8").lower()
            and path.name != "indicators.py"] == []
