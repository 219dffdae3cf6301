"""API discovery as a developer meets it: the index at /api/v1/ and the names people type for collections."""

from __future__ import annotations

import warnings
from urllib.parse import parse_qs, urlsplit

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from zhulian.config import Settings
from zhulian.model import COLLECTIONS
from zhulian.records.reference import load_region
from zhulian.web.app import create_app


@pytest.fixture
def client(store, tmp_path) -> TestClient:
    load_region(store)
    app = create_app(Settings(data_dir=tmp_path / "data", rate_per_key=0, rate_per_address=0), store=store)
    with TestClient(app) as client:
        yield client


def test_the_index_lists_every_collection_with_names_counts_and_working_links(client) -> None:
    index = client.get("/api/v1/")
    assert index.status_code == 200
    body = index.json()
    assert [c["collection"] for c in body["results"]] == list(COLLECTIONS.values())
    orgs = next(c for c in body["results"] if c["collection"] == "orgs")
    assert orgs["name"] == {"zh": "机构", "en": "organisation"}
    listed = client.get(orgs["links"]["list"]).json()
    assert orgs["count"] == listed["meta"]["count"] > 0
    assert client.get(orgs["links"]["schema"]).json()["title"]
    export = client.get(orgs["links"]["export"]["csv"])
    assert export.status_code == 200 and export.content.decode("utf-8-sig").count("\n") > orgs["count"] // 2
    assert client.get("/api/v1", follow_redirects=True).json() == body


def test_names_people_type_redirect_to_the_canonical_collection(client) -> None:
    for alias, canonical in (("organizations", "orgs"), ("organisations", "orgs"), ("persons", "people"),
                             ("experts", "people")):
        answer = client.get(f"/api/v1/{alias}", params={"filter": "city:440300"}, follow_redirects=False)
        assert answer.status_code == 308, answer.text
        target = urlsplit(answer.headers["location"])
        assert target.path == f"/api/v1/{canonical}" and parse_qs(target.query) == {"filter": ["city:440300"]}
    org = client.get("/api/v1/orgs", params={"per_page": 1}).json()["results"][0]
    followed = client.get(f"/api/v1/organizations/{org['id']}")
    assert followed.status_code == 200 and followed.json()["id"] == org["id"]
    people = client.get("/api/v1/experts", params={"filter": "city:440300"})
    assert people.status_code == 200 and "meta" in people.json()


def test_an_unknown_collection_is_still_a_404_that_names_the_real_ones(client) -> None:
    answer = client.get("/api/v1/widgets")
    assert answer.status_code == 404 and "orgs" in answer.json()["error"]["message"]
