"""The network through the API, the portal page, the exports and the command line, as their users meet them."""

from __future__ import annotations

import csv
import io
import json
import time
import warnings

import pytest
from openpyxl import load_workbook

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from zhulian.config import Settings
from zhulian.records.reference import load_region
from zhulian.web.app import create_app


@pytest.fixture
def client(store, tmp_path) -> TestClient:
    load_region(store)
    app = create_app(Settings(data_dir=tmp_path / "data", rate_per_key=0, rate_per_address=0), store=store)
    with TestClient(app) as client:  # runs the lifespan: the network follower builds and follows the tables
        wait_for_follower(client, store.last_seq())
        yield client


def wait_for_follower(client: TestClient, seq: int) -> dict:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        status = client.get("/api/v1/network/status").json()
        if status["position"] is not None and status["position"] >= seq:
            return status
        time.sleep(0.05)
    raise AssertionError(f"the network follower did not reach {seq}: {status}")


def test_the_region_page_shows_the_city_heatmap_and_the_network(client) -> None:
    page = client.get("/network").text
    assert 'class="heatmap"' in page and 'class="network-graph"' in page
    for city in ("广州市", "深圳市", "香港特别行政区", "澳门特别行政区"):
        assert city in page
    assert "广东财经大学" in page and "/static/analytics/network.js" in page
    assert client.get("/static/analytics/network.js").status_code == 200
    client.cookies.set("zhulian_lang", "en")
    english = client.get("/network").text
    client.cookies.clear()
    assert "Hong Kong SAR" in english and "Collaboration between the cities" in english
    filtered = client.get("/network", params={"city": "440300", "kind": "", "link": "", "year_from": "", "year_to": ""})
    assert filtered.status_code == 200 and "广东财经大学" not in filtered.text.split('class="network-graph"')[1]


def test_the_page_grows_as_data_is_imported(client, store) -> None:
    before = client.get("/api/v1/network/cities").json()
    keys = [c["key"] for c in before["cities"]]
    macao, zhuhai = keys.index("820000"), keys.index("440400")
    assert before["matrix"][macao][zhuhai] == 0
    with store.transaction() as writer:
        for key, city in (("um", "820000"), ("zh-lab", "440400")):
            writer.upsert({"type": "organization", "pids": {"ref": key}, "name": {"zh": key}, "city": city})
        writer.upsert({"type": "project", "title": {"zh": "琴澳联合项目"}, "pids": {"ref": "joint"}, "start": "2016",
                       "relations": [{"predicate": "lead_unit", "object": "ref:um"},
                                     {"predicate": "partner_unit", "object": "ref:zh-lab"}]})
    wait_for_follower(client, store.last_seq())
    after = client.get("/api/v1/network/cities", params={"link": "project", "year_from": 2016}).json()
    assert after["matrix"][macao][zhuhai] == 1 == after["matrix"][zhuhai][macao]
    assert "zh-lab" in client.get("/network").text


def test_graph_organisation_and_partners_endpoints(client, store) -> None:
    graph = client.get("/api/v1/network/graph", params={"limit": 5}).json()
    assert len(graph["nodes"]) == 5 and all(l["source"] < l["target"] for l in graph["links"])
    top = graph["nodes"][0]
    detail = client.get(f"/api/v1/network/organisations/{top['id']}").json()
    assert detail["degree"] == len(detail["partners"]) == top["degree"]
    advice = client.get(f"/api/v1/network/organisations/{top['id']}/partners").json()
    assert advice["organisation"]["id"] == top["id"]
    assert all(r["reasons"] and r["id"] not in {p["id"] for p in detail["partners"]} for r in advice["results"])
    listing = client.get("/api/v1/network/organisations", params={"sort": "betweenness", "per_page": 3}).json()
    assert listing["meta"]["count"] >= 30 and len(listing["results"]) == 3


BAD_REQUESTS = [
    ("/api/v1/network/graph?link=friendship", 400), ("/api/v1/network/graph?city=abc", 400),
    ("/api/v1/network/graph?limit=100000", 400), ("/api/v1/network/cities?year_from=x", 400),
    ("/api/v1/network/organisations/ref:nobody", 404), ("/api/v1/network/organisations/%3Cscript%3E", 400),
    ("/api/v1/network/export/secrets.csv", 404), ("/api/v1/network/export/links.pdf", 404),
    ("/api/v1/network/charts/pie.svg", 404), ("/network?year_from=abc", 400),
]


def test_bad_requests_get_a_reason_not_a_crash(client, store) -> None:
    platform = store.get("ref:plt-kjjr-centre")  # a record, but not an organisation
    for path, status in [*BAD_REQUESTS, (f"/api/v1/network/organisations/{platform['id']}/partners", 404)]:
        response = client.get(path)
        assert response.status_code == status, path
        if path.startswith("/api/"):
            body = response.json()
            assert body["ok"] is False and body["error"]["message_zh"], path


def test_tables_export_as_csv_and_xlsx_and_charts_as_svg_and_png(client) -> None:
    rows = list(csv.reader(io.StringIO(client.get("/api/v1/network/export/cities.csv").content.decode("utf-8-sig"))))
    assert rows[0][0] == "城市甲 city_a" and ["440300", "深圳市", "810000", "香港特别行政区", "1"] in rows
    book = load_workbook(io.BytesIO(client.get("/api/v1/network/export/organisations.xlsx").content))
    sheet = list(book.active.iter_rows(values_only=True))
    assert sheet[0][1] == "名称 name" and "广东财经大学" in {row[1] for row in sheet[1:]}
    links = client.get("/api/v1/network/export/links.csv").content.decode("utf-8-sig")
    assert "platform" in links
    svg = client.get("/api/v1/network/charts/cities.svg")
    assert svg.headers["content-type"].startswith("image/svg+xml") and "深圳市" in svg.text
    png = client.get("/api/v1/network/charts/graph.png")
    assert png.headers["content-type"] == "image/png" and png.content[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_command_line(run) -> None:
    run("init", "--with-region")
    rebuilt = json.loads(run("network", "rebuild", "--json").stdout)
    assert rebuilt["organisations"] >= 30 and rebuilt["links"] > 0
    status = json.loads(run("network", "status", "--json").stdout)
    assert status["lag"] == 0 and status["betweenness"]["method"] == "exact"
    cities = json.loads(run("network", "cities", "--json").stdout)
    assert cities["cross_border"] >= 1
    assert "深圳" in run("network", "cities").stdout
    advice = json.loads(run("network", "partners", "moe:4144010592", "--json").stdout)  # 广东财经大学
    assert advice["organisation"]["label"] == "广东财经大学"
    assert "No record 'ref:nobody'" in run("network", "partners", "ref:nobody", code=1).output
    assert "not an organisation" in run("network", "partners", "ref:plt-kjjr-centre", code=1).output
