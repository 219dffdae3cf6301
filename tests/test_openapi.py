"""The OpenAPI document a developer discovers the API by: the record routes' answers typed by the record types'
models (every type, modules' too), the one error shape on the error statuses, the key as a security scheme,
parameters described in Chinese and English; and real answers of every collection match what it says."""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from urllib.parse import quote

import jsonschema
import pytest
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from zhulian.access import create_key
from zhulian.config import Settings
from zhulian.model import COLLECTIONS, MODELS
from zhulian.records.reference import load_region
from zhulian.web.app import create_app

RECORD_ROUTES = [("get", "/api/v1/{collection}"), ("post", "/api/v1/{collection}"),
                 ("get", "/api/v1/{collection}/{ref}"), ("put", "/api/v1/{collection}/{ref}"),
                 ("patch", "/api/v1/{collection}/{ref}"), ("delete", "/api/v1/{collection}/{ref}"),
                 ("get", "/api/v1/{collection}/{ref}/revisions"), ("get", "/api/v1/{collection}/{ref}/relations"),
                 ("get", "/api/v1/search"), ("get", "/api/v1/audit"), ("get", "/api/v1/jobs/{job_id}"),
                 ("post", "/api/v1/import/{collection}")]


@pytest.fixture
def client(sqlite_store, tmp_path):
    load_region(sqlite_store)
    with TestClient(create_app(Settings(data_dir=tmp_path / "data", rate_per_key=0, rate_per_address=0),
                               store=sqlite_store)) as client:
        yield client


@pytest.fixture
def document(client: TestClient) -> dict:
    return client.get("/openapi.json").json()


def _validator(document: dict, name: str) -> jsonschema.Draft202012Validator:
    registry = Registry().with_resource("urn:api", Resource.from_contents(document, default_specification=DRAFT202012))
    return jsonschema.Draft202012Validator({"$ref": f"urn:api#/components/schemas/{name}"}, registry=registry)


def _success_schema(operation: dict) -> dict:
    status = min(s for s in operation["responses"] if s.startswith("2"))
    return operation["responses"][status]["content"]["application/json"]["schema"]


def test_record_routes_answer_records_of_every_type(document: dict) -> None:
    schemas = document["components"]["schemas"]
    assert set(MODELS) <= set(schemas) and "observation" in schemas  # a module's type too
    record = schemas["Record"]
    assert {ref["$ref"].rsplit("/", 1)[1] for ref in record["oneOf"]} == set(MODELS)
    assert record["discriminator"]["propertyName"] == "type"
    assert schemas["organization"]["properties"]["kind"]  # the type's own fields, from its model
    for method, path in RECORD_ROUTES:
        schema = _success_schema(document["paths"][path][method])
        assert schema.get("$ref") or schema.get("anyOf") or schema.get("items"), (method, path)


def test_every_operation_says_what_its_success_answers_hold(document: dict) -> None:
    """Every success answer with a body has a schema for each of its media types, modules' operations too: JSON
    bodies their shape, files bytes; a 204 has no body."""
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            successes = {status: answer for status, answer in operation["responses"].items() if status[0] == "2"}
            assert successes, (method, path)
            for status, answer in successes.items():
                if status == "204":
                    assert not answer.get("content"), (method, path)
                    continue
                assert answer.get("content"), (method, path, status)
                for media_type, content in answer["content"].items():
                    assert content.get("schema"), (method, path, status, media_type)
                    if "json" not in media_type:
                        assert content["schema"] == {"type": "string", "format": "binary"}, (method, path)


def test_every_operation_documents_its_errors_in_the_one_shape_and_no_422(document: dict) -> None:
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            assert "422" not in responses or path.endswith("/import/{collection}"), (method, path)
            for status in ("400", "401", "403", "404", "429", "500"):
                assert responses[status]["content"]["application/json"]["schema"] == {
                    "$ref": "#/components/schemas/Error"}, (method, path, status)
            if method in ("put", "patch", "delete"):
                assert {"412", "428"} <= set(responses), (method, path)


def test_file_answers_are_bytes_and_the_key_is_a_bearer_scheme(document: dict) -> None:
    export = document["paths"]["/api/v1/export/{collection}.{fmt}"]["get"]["responses"]["200"]["content"]
    assert export["text/csv"]["schema"] == {"type": "string", "format": "binary"}
    assert export["application/json"]["schema"]["items"] == {"$ref": "#/components/schemas/Record"}
    assert document["components"]["securitySchemes"]["key"] == {
        "type": "http", "scheme": "bearer", "description": document["components"]["securitySchemes"]["key"][
            "description"]}
    assert {} in document["security"] and {"key": []} in document["security"]  # public reads need no key


def test_the_record_routes_parameters_are_described_in_both_languages(document: dict) -> None:
    for method, path in RECORD_ROUTES:
        for parameter in document["paths"][path][method].get("parameters", []):
            description = parameter.get("description", "")
            assert re.search(r"[\u4e00-\u9fff]", description) and re.search(r"[a-z]{3}", description), (
                method, path, parameter["name"])


def test_real_answers_of_every_collection_match_the_document(client: TestClient, document: dict) -> None:
    page, record, relations, revisions, error = (_validator(document, name) for name in (
        "RecordPage", "Record", "Relations", "Revisions", "Error"))
    seen = set()
    for collection in COLLECTIONS.values():
        listed = client.get(f"/api/v1/{collection}", params={"per_page": 3, "group_by": "city"}).json()
        page.validate(listed)
        for item in listed["results"]:
            record.validate(client.get(f"/api/v1/{collection}/{item['id']}").json())
            relations.validate(client.get(f"/api/v1/{collection}/{item['id']}/relations").json())
            revisions.validate(client.get(f"/api/v1/{collection}/{item['id']}/revisions").json())
            seen.add(item["type"])
    assert {"organization", "person", "platform", "policy", "news"} <= seen
    _validator(document, "SearchPage").validate(client.get("/api/v1/search", params={"q": "大学",
                                                                                     "group_by": "type"}).json())
    page.validate(client.get("/api/v1/orgs", params={"select": "name", "per_page": 3}).json())
    error.validate(client.get("/api/v1/orgs/moe:0000000000").json())
    invalid = _validator(document, "Record")
    assert not invalid.is_valid({"type": "organization", "id": "org_x", "kind": 3})  # the schema can say no


EPCIS_DOCUMENTS = (Path(__file__).resolve().parents[1].parent / "shared" / "data" / "epcis" / "openepcis-test-resources"
                   / "2.0" / "EPCIS" / "JSON" / "Capture" / "Documents")


def answer_validator(document: dict, method: str, path: str, status: str = "200", media_type: str = "application/json"):
    """A validator for what the document says ``method path`` answers with ``status`` as ``media_type``."""
    pointer = "/".join(part.replace("~", "~0").replace("/", "~1") for part in (
        "paths", path, method, "responses", status, "content", media_type, "schema"))
    registry = Registry().with_resource("urn:api", Resource.from_contents(document, default_specification=DRAFT202012))
    return jsonschema.Draft202012Validator({"$ref": f"urn:api#/{pointer}"}, registry=registry)


@pytest.mark.skipif(not EPCIS_DOCUMENTS.is_dir(), reason="needs ../shared/data/epcis")
def test_real_answers_of_the_module_routes_match_the_document(client: TestClient, document: dict,
                                                              sqlite_store) -> None:
    """Every openEPCIS test document captured, then each module answer the document now types read back and
    checked against it: EPCIS captures, events, queries, the change and module feeds, experts, the sharing
    report and voucher flows, indicator tables."""
    admin = {"Authorization": f"Bearer {create_key(sqlite_store, 'admin')[1]}"}
    jobs = [client.post("/epcis/capture", content=path.read_bytes(),
                        headers={**admin, "GS1-Capture-Error-Behaviour": "proceed"}) for path in
            sorted(EPCIS_DOCUMENTS.glob("*.json"))]
    assert sum(job.json()["storedCount"] for job in jobs if job.status_code == 202) > 50
    for job in jobs:
        if job.status_code == 202:
            answer_validator(document, "post", "/epcis/capture", "202").validate(job.json())
    events = answer_validator(document, "get", "/epcis/events", media_type="application/ld+json")
    page = client.get("/epcis/events", params={"perPage": 200}, headers=admin)
    assert page.headers["content-type"].startswith("application/ld+json")
    events.validate(page.json())
    found = page.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    one = answer_validator(document, "get", "/epcis/events/{event_id}", media_type="application/ld+json")
    for event in found:
        read = client.get(f"/epcis/events/{quote(event['eventID'], safe='')}", headers=admin).json()
        one.validate(read)
    new = {"eventID": "urn:uuid:6f1f52a6-1d3e-4d5e-9d0a-3c2e1b0a9f00", "eventTime": "2031-05-04T10:00:00.000+08:00"}
    added = client.post("/epcis/events", json=read | new, headers=admin)
    assert added.status_code == 201, added.text
    answer_validator(document, "post", "/epcis/events", "201").validate(added.json())
    named = client.post("/epcis/queries", json={"name": "shipping", "query": {"EQ_bizStep": "shipping"}},
                        headers=admin)
    answer_validator(document, "post", "/epcis/queries", "201").validate(named.json())
    answer_validator(document, "get", "/epcis/queries/{name}/events", media_type="application/ld+json").validate(
        client.get("/epcis/queries/shipping/events", headers=admin).json())
    answer_validator(document, "get", "/epcis/{resource}/{value}/events", media_type="application/ld+json").validate(
        client.get("/epcis/eventTypes/ObjectEvent/events", headers=admin).json())

    answer_validator(document, "get", "/api/v1/changes").validate(client.get("/api/v1/changes", headers=admin).json())
    feed = client.get("/api/v1/feeds/trace.events", headers=admin).json()
    assert feed["results"]
    answer_validator(document, "get", "/api/v1/feeds/{name}").validate(feed)
    experts = client.get("/api/v1/experts", params={"topic": "微电子"}).json()
    assert experts["results"]  # the region's people, by their declared expertise and their alliance
    answer_validator(document, "get", "/api/v1/experts").validate(experts)
    answer_validator(document, "get", "/api/v1/sharing/report").validate(
        client.get("/api/v1/sharing/report", params={"year": 2024}).json())
    answer_validator(document, "get", "/api/v1/vouchers/flows").validate(client.get("/api/v1/vouchers/flows").json())
    progress = client.get("/api/v1/targets/progress").json()
    assert progress  # the region's policies have targets
    answer_validator(document, "get", "/api/v1/targets/progress").validate(progress)
    for indicator in client.get("/api/v1/indicators").json()["results"]:
        answer_validator(document, "get", "/api/v1/indicators/{code}/series").validate(
            client.get(f"/api/v1/indicators/{indicator['code']}/series").json())
