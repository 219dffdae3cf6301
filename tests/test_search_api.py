"""Search through the API (``/api/v1/search``, ``/api/v1/autocomplete/{collection}``, ``search=`` on a
collection, the follower started with the app) and through the CLI (``zhulian search``, ``zhulian index``)."""

from __future__ import annotations

import json
import time
import warnings
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from zhulian.config import Settings
from zhulian.records.reference import load_region
from zhulian.search.commands import register
from zhulian.web.app import create_app


@pytest.fixture
def client(store, tmp_path: Path):
    load_region(store)
    store.create({"type": "paper", "title": {"zh": "<b>石墨烯</b>传感器研究"}, "city": "440300",
                  "keywords": ["石墨烯"], "year_published": 2018})
    with TestClient(create_app(Settings(data_dir=tmp_path), store=store)) as client:
        yield client


def _error(response, status: int, code: str) -> dict:
    assert response.status_code == status
    body = response.json()
    assert body["ok"] is False and body["error"]["code"] == code
    assert body["error"]["message"] and body["error"]["message_zh"]
    return body["error"]


def test_search_across_types_with_groups_and_highlights(client: TestClient) -> None:
    body = client.get("/api/v1/search", params={"q": "中山大學", "group_by": "type"}).json()
    assert body["meta"]["count"] >= 2 and body["meta"]["took_ms"] >= 0 and body["meta"]["page"] == 1
    assert body["results"][0]["name"]["zh"] == "中山大学"
    assert body["results"][0]["highlights"]["name"] == ["<em>中山大学</em>"]
    assert {g["key"] for g in body["group_by"]} >= {"organization"}
    (paper,) = client.get("/api/v1/search", params={"q": "石墨烯", "type": "papers"}).json()["results"]
    assert paper["highlights"]["title"] == ["&lt;b&gt;<em>石墨烯</em>&lt;/b&gt;传感器研究"]
    plain = client.get("/api/v1/search", params={"q": '"石墨烯'}).json()
    assert plain["meta"]["query_mode"] == "plain" and plain["meta"]["count"] == 1
    assert client.get("/api/v1/search", params={"q": "x" * 10_000}).status_code == 200
    assert client.get("/api/v1/search", params={"q": "石墨烯", "page": 99}).json()["results"] == []


def test_bad_parameters_are_400s_in_the_error_shape(client: TestClient) -> None:
    error = _error(client.get("/api/v1/search", params={"q": "石墨烯", "filter": "colour:red"}), 400, "invalid")
    assert "city" in error["details"][0]["reason"] and "city" in error["details"][0]["reason_zh"]
    _error(client.get("/api/v1/search", params={"q": "石墨烯", "per_page": 201}), 400, "invalid")
    _error(client.get("/api/v1/search", params={"q": "石墨烯", "sort": "colour"}), 400, "invalid")
    _error(client.get("/api/v1/search", params={"q": "石墨烯", "type": "spaceships"}), 400, "unknown_type")
    _error(client.get("/api/v1/autocomplete/spaceships", params={"q": "z"}), 404, "not_found")


def test_autocomplete_and_search_on_a_collection(client: TestClient) -> None:
    body = client.get("/api/v1/autocomplete/orgs", params={"q": "zsdx"}).json()
    first = body["results"][0]
    assert first["name"] == "中山大学" and first["hint"] == "广州市 · 高等院校" and len(body["results"]) <= 10
    listed = client.get("/api/v1/orgs", params={"search": "中山", "filter": "kind:university",
                                                 "group_by": "city"}).json()
    assert [r["name"]["zh"] for r in listed["results"]] == ["中山大学"]
    assert listed["group_by"] == [{"key": "440100", "key_display_name": "广州市", "count": 1}]
    assert all(r["type"] == "platform" for r in
               client.get("/api/v1/platforms", params={"search": "协同创新"}).json()["results"])
    # without search= the list is the store's list as before
    assert client.get("/api/v1/orgs", params={"per_page": 5}).json()["meta"]["count"] == 36


def test_a_write_is_searchable_within_a_second_while_the_app_serves(client: TestClient, store) -> None:
    created = store.create({"type": "demand", "title": {"zh": "寻求钠离子电池技术合作"}, "city": "441900"})
    deadline = time.monotonic() + 1.0
    found = []
    while time.monotonic() < deadline and not found:
        found = client.get("/api/v1/search", params={"q": "钠离子"}).json()["results"]
        time.sleep(0.02)
    assert [r["id"] for r in found] == [created["id"]]
    status = client.get("/api/v1/search/status").json()
    assert status["following"] is True and status["lag"] == 0


def test_cli_search_and_index_commands(database_url: str, store, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    load_region(store)
    monkeypatch.setenv("ZHULIAN_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ZHULIAN_DATABASE_URL", database_url)
    app = typer.Typer()
    register(app)
    runner = CliRunner()
    status = runner.invoke(app, ["index", "status", "--json"])
    assert status.exit_code == 0 and json.loads(status.stdout)["built"] is False
    rebuilt = runner.invoke(app, ["index", "rebuild"])
    assert rebuilt.exit_code == 0 and "索引已重建 index rebuilt" in rebuilt.stdout
    found = runner.invoke(app, ["search", "中山大學", "--type", "orgs", "--json"])
    assert found.exit_code == 0
    assert json.loads(found.stdout)["results"][0]["name"]["zh"] == "中山大学"
    # a write made while no server runs is caught up before the CLI answers
    store.create({"type": "paper", "title": {"zh": "海上风电运维"}, "city": "440400"})
    table = runner.invoke(app, ["search", "海上风电"])
    assert table.exit_code == 0 and "海上风电运维" in table.stdout
    assert json.loads(runner.invoke(app, ["index", "status", "--json"]).stdout)["lag"] == 0
    bad = runner.invoke(app, ["search", "x", "--filter", "colour:red"])
    assert bad.exit_code == 2 and "不能按" in bad.stderr
