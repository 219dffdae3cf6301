"""Capture and query per the EPCIS 2.0 REST binding, on SQLite and PostgreSQL: every valid openEPCIS document
captured over plain HTTP, rollback stores nothing and proceed exactly the valid events, duplicates answer 409, corrections only
by error declaration, a query by an EPC URN or by its Digital Link finds the same events, paging with
nextPageToken and Link, the version headers, and bad input a 4xx in the one error shape, never a 500."""

from __future__ import annotations

import copy
import json
import warnings
from pathlib import Path
from urllib.parse import quote

import pytest
import sqlalchemy as sa

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from zhulian.access import ANONYMOUS, CLI_ADMIN, create_key
from zhulian.config import Settings
from zhulian.errors import ZhulianError
from zhulian.records import RecordService
from zhulian.trace.service import TraceService
from zhulian.trace.tables import events
from zhulian.trace.validation import parse_json
from zhulian.web.app import create_app

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "epcis"
DOCUMENTS = DATA / "openepcis-test-resources" / "2.0" / "EPCIS" / "JSON" / "Capture" / "Documents"
REFUSED_BY_GS1_SCHEMA = {"AggregationEvent_with_persistentDisposition.json", "SensorData_with_combined_events.json",
                         "TransactionEvent_with_userExtensions.json"}  # see test_trace_standard

pytestmark = pytest.mark.skipif(not DATA.is_dir(), reason="needs ../shared/data/epcis")


def _document(name: str) -> dict:
    return parse_json((DOCUMENTS / name).read_bytes(), limit=10_000_000)


def _stored(store) -> int:
    with store.engine.connect() as connection:
        return connection.execute(sa.select(sa.func.count()).select_from(events)).scalar_one()


def test_rollback_stores_nothing_and_proceed_exactly_the_valid_events(store) -> None:
    service = TraceService(store)
    document = _document("Combination_of_different_event.json")
    count = len(document["epcisBody"]["eventList"])
    document["epcisBody"]["eventList"][1]["bizStep"] = "transforming"
    document["epcisBody"]["eventList"][3]["eventTimeZoneOffset"] = "+25:00"
    with pytest.raises(ZhulianError) as refused:
        service.capture(CLI_ADMIN, document)
    assert refused.value.status == 400 and {p.field for p in refused.value.details} == {
        "/epcisBody/eventList/1/bizStep", "/epcisBody/eventList/3/eventTimeZoneOffset"}
    assert _stored(store) == 0
    job = service.capture(CLI_ADMIN, document, behaviour="proceed")
    assert (job["storedCount"], job["success"], job["captureErrorBehaviour"]) == (count - 2, False, "proceed")
    assert {e["field"] for e in job["errors"]} == {"/epcisBody/eventList/1/bizStep",
                                                   "/epcisBody/eventList/3/eventTimeZoneOffset"}
    assert _stored(store) == count - 2
    audit = [e for e in RecordService(store).audit(CLI_ADMIN) if e["action"] == "trace_capture"]
    assert [e["detail"]["stored"] for e in audit] == [count - 2]
    assert service.capture_job(CLI_ADMIN, job["captureID"])["errors"] == job["errors"]


def test_duplicates_are_refused_and_corrections_come_by_error_declaration(store) -> None:
    service = TraceService(store)
    document = _document("ObjectEvent.json")
    first = service.capture(CLI_ADMIN, document)
    assert first["success"] and first["storedCount"] == 2
    with pytest.raises(ZhulianError) as again:
        service.capture(CLI_ADMIN, document)
    assert again.value.status == 409 and len(again.value.details) == 2
    assert service.capture(CLI_ADMIN, document, behaviour="proceed")["storedCount"] == 0
    # The same event without its eventID hashes alike: still a duplicate.
    bare = {k: v for k, v in document["epcisBody"]["eventList"][0].items() if k != "eventID"}
    with pytest.raises(ZhulianError) as same_hash:
        service.add_event(CLI_ADMIN, {"@context": document["@context"], **bare})
    assert same_hash.value.status == 409
    original = first["eventIDs"][0]
    declared = copy.deepcopy(document)
    declared["epcisBody"]["eventList"] = [{**document["epcisBody"]["eventList"][0], "errorDeclaration": {
        "declarationTime": "2024-01-02T00:00:00Z", "reason": "incorrect_data"}}]
    assert service.capture(CLI_ADMIN, declared)["storedCount"] == 1
    shown = service.event(CLI_ADMIN, original)
    assert shown["errorDeclaration"]["reason"] == "incorrect_data"
    assert shown["bizStep"] == document["epcisBody"]["eventList"][0]["bizStep"]  # the event itself unchanged
    with pytest.raises(ZhulianError) as twice:
        service.capture(CLI_ADMIN, declared)
    assert twice.value.status == 409
    flagged, _ = service.query(CLI_ADMIN, {"EXISTS_errorDeclaration": "true"})
    assert [e["eventID"] for e in flagged] == [original]
    for parameters, found in (({"EQ_errorReason": "https://ref.gs1.org/cbv/ER-incorrect_data"}, [original]),
                              ({"EQ_errorReason": "did_not_occur"}, []),
                              ({"GE_errorDeclarationTime": "2024-01-02T08:00:00+08:00"}, [original]),
                              ({"LT_errorDeclarationTime": "2024-01-01T23:59:59Z"}, [])):
        assert [e["eventID"] for e in service.query(CLI_ADMIN, parameters)[0]] == found, parameters
    assert len(service.query(CLI_ADMIN, {"EXISTS_errorDeclaration": "false"})[0]) == 1
    assert _stored(store) == 2


def test_a_query_by_urn_or_digital_link_finds_the_same_events(store) -> None:
    service = TraceService(store)
    service.capture(CLI_ADMIN, _document("ObjectEvent.json"))
    urn = "urn:epc:id:sgtin:0614141.107346.2018"
    link = "https://id.gs1.org/01/10614141073464/21/2018"
    by_urn, _ = service.query(CLI_ADMIN, {"MATCH_epc": urn})
    by_link, _ = service.query(CLI_ADMIN, {"MATCH_anyEPC": f"{link}|urn:epc:id:sgtin:1.1.1"})
    assert len(by_urn) == 2 and [e["eventID"] for e in by_urn] == [e["eventID"] for e in by_link]
    assert urn in by_urn[0]["epcList"]  # shown as captured …
    shown = service.query(CLI_ADMIN, {"MATCH_epc": link}, epc_format="Always_GS1_Digital_Link")[0][0]
    assert link in shown["epcList"] and urn not in shown["epcList"]  # … or as Digital Links when asked


def _keys(store) -> dict[str, str]:
    return {role: create_key(store, role, node="440100" if role == "publisher" else None, name=role)[1]
            for role in ("publisher", "reader")}


def test_capture_and_query_over_http(store, tmp_path: Path) -> None:
    keys = _keys(store)
    publisher = {"Authorization": f"Bearer {keys['publisher']}"}
    reader = {"Authorization": f"Bearer {keys['reader']}"}
    body = (DOCUMENTS / "Combination_of_different_event.json").read_bytes()
    with TestClient(create_app(Settings(data_dir=tmp_path), store=store)) as http:
        assert http.post("/epcis/capture", content=body).status_code == 401
        assert http.post("/epcis/capture", content=body, headers=reader).status_code == 403
        accepted = http.post("/epcis/capture", content=b"\xef\xbb\xbf" + body,
                             headers={**publisher, "Content-Type": "application/ld+json"})
        assert accepted.status_code == 202
        assert accepted.headers["GS1-EPCIS-Version"] == "2.0.0" and accepted.headers["GS1-CBV-Version"] == "2.0.0"
        assert int(accepted.headers["GS1-EPCIS-Capture-Limit"]) > 0
        assert int(accepted.headers["GS1-EPCIS-Capture-File-Size-Limit"]) == Settings().max_body_bytes
        job = http.get(accepted.headers["Location"], headers=reader).json()
        assert (job["running"], job["success"], job["captureErrorBehaviour"]) == (False, True, "rollback")
        listed = http.get("/epcis/capture", headers=reader).json()["captureJobs"]
        assert [j["captureID"] for j in listed] == [job["captureID"]]
        assert http.options("/epcis/capture").headers["GS1-EPCIS-Capture-Limit"] == accepted.headers[
            "GS1-EPCIS-Capture-Limit"]
        again = http.post("/epcis/capture", content=body,
                          headers={**publisher, "GS1-Capture-Error-Behaviour": "proceed"})
        assert again.status_code == 202 and again.json()["storedCount"] == 0 and not again.json()["success"]
        assert http.post("/epcis/capture", content=body, headers=publisher).status_code == 409

        stored = job["storedCount"]
        page = http.get("/epcis/events", params={"perPage": 2}, headers=reader)
        assert page.status_code == 200 and page.json()["type"] == "EPCISQueryDocument"
        seen = [e["eventID"] for e in page.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]]
        while "Link" in page.headers:
            link = page.headers["Link"]
            assert link.endswith('>; rel="next"') and "nextPageToken=" in link
            page = http.get(link[1:link.index(">")], headers=reader)
            seen += [e["eventID"] for e in page.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]]
        assert len(seen) == len(set(seen)) == stored

        one = http.get(f"/epcis/events/{quote(seen[0], safe='')}", headers=reader)
        assert one.status_code == 200 and one.json()["eventID"] == seen[0]
        step = quote("https://ref.gs1.org/cbv/BizStep-disassembling", safe="")  # any spelling of the step
        found = http.get(f"/epcis/bizSteps/{step}/events", headers=reader).json()
        found = found["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
        assert len(found) == 2 and {e["bizStep"] for e in found} == {"disassembling"}
        assert "disassembling" in http.get("/epcis/bizSteps", headers=reader).json()["member"]
        by_type = http.get("/epcis/eventTypes/AggregationEvent/events", headers=reader).json()
        assert {e["type"] for e in by_type["epcisBody"]["queryResults"]["resultsBody"]["eventList"]} == {
            "AggregationEvent"}
        limited = http.get("/epcis/events", params={"maxEventCount": 1}, headers=reader)
        assert limited.status_code == 413 and limited.json()["error"]["code"] == "query_too_large"
        capped = http.get("/epcis/events", params={"eventCountLimit": 3, "perPage": 2, "orderBy": "eventTime"},
                          headers=reader)
        follow = http.get(capped.headers["Link"][1:capped.headers["Link"].index(">")], headers=reader)
        assert len(follow.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]) == 1
        assert "Link" not in follow.headers

        event = json.loads(body)["epcisBody"]["eventList"][0]
        single = {"@context": json.loads(body)["@context"], **event,
                  "eventID": "urn:uuid:11111111-1111-4111-8111-111111111111", "eventTime": "2030-01-01T00:00:00+08:00"}
        created = http.post("/epcis/events", json=single, headers=publisher)
        assert created.status_code == 201 and created.headers["Location"].endswith(quote(single["eventID"], safe=""))
        assert http.post("/epcis/events", json=single, headers=publisher).status_code == 409


BAD_CAPTURES = [  # (body, headers, status, error code)
    (b'{"type": "EPCISDocument", ', {}, 400, "invalid"),
    (b"\xff\xfe", {}, 400, "invalid"),
    (b"[1, 2]", {}, 400, "invalid"),
    (b'{"type": "ObjectEvent"}', {}, 400, "invalid"),
    (b"{}", {"GS1-Capture-Error-Behaviour": "sometimes"}, 400, "invalid"),
    (b"{}", {"GS1-EPCIS-Version": "1.2"}, 406, "not_acceptable"),
    (b'{"x": "' + b"a" * (2 * 1024 * 1024) + b'"}', {}, 413, "too_large"),
]


def test_bad_capture_requests_get_a_reason_never_a_500(store, tmp_path: Path) -> None:
    secret = create_key(store, "publisher", node="440100", name="p")[1]
    with TestClient(create_app(Settings(data_dir=tmp_path), store=store)) as http:
        for body, headers, status, code in BAD_CAPTURES:
            answer = http.post("/epcis/capture", content=body,
                               headers={"Authorization": f"Bearer {secret}", "Accept": "text/html", **headers})
            assert answer.status_code == status and answer.headers["content-type"].startswith("application/json")
            error = answer.json()["error"]
            assert error["code"] == code and error["message"] and error["message_zh"], body[:40]
    assert _stored(store) == 0


def test_bad_queries_get_a_reason(store, tmp_path: Path) -> None:
    secret = create_key(store, "reader", name="r")[1]
    auth = {"Authorization": f"Bearer {secret}"}
    with TestClient(create_app(Settings(data_dir=tmp_path), store=store)) as http:
        for params, field in (({"GE_eventTime": "yesterday"}, "GE_eventTime"), ({"EQ_action": "CREATE"}, "EQ_action"),
                              ({"perPage": "0"}, "perPage"), ({"nextPageToken": "forged"}, "nextPageToken"),
                              ({"EQ_sensorWhatever": "1"}, "EQ_sensorWhatever"), ({"orderBy": "name"}, "orderBy")):
            answer = http.get("/epcis/events", params=params, headers=auth)
            assert answer.status_code == 400, params
            assert [d["field"] for d in answer.json()["error"]["details"]] == [field]
        assert http.get("/epcis/events/urn:uuid:none", headers=auth).status_code == 404
        assert http.get("/epcis/events", headers={**auth, "GS1-EPC-Format": "Sometimes"}).status_code == 400
        assert http.get("/epcis/events").status_code == 401
        unknown = http.get("/epcis/no-such-resource", headers={**auth, "Accept": "text/html"})
        assert unknown.status_code == 404 and unknown.json()["error"]["message_zh"]  # JSON, not the portal's page


def test_the_command_line_captures(run, tmp_path: Path) -> None:
    good = tmp_path / "good.json"
    good.write_bytes((DOCUMENTS / "ObjectEvent.json").read_bytes())
    assert json.loads(run("trace", "capture", good, "--json").stdout)["storedCount"] == 2
    assert "此前已采集" in run("trace", "capture", good, code=2).output
    bad = json.loads((DOCUMENTS / "Combination_of_different_event.json").read_text())
    bad["epcisBody"]["eventList"][0]["bizStep"] = "transforming"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad))
    refused = run("trace", "capture", path, code=2).output
    assert "/epcisBody/eventList/0/bizStep" in refused and "业务步骤" in refused
    proceeded = run("trace", "capture", path, "--proceed", code=2).output
    assert f"{len(bad['epcisBody']['eventList']) - 1} / {len(bad['epcisBody']['eventList'])}" in proceeded
    assert ANONYMOUS.role == "anonymous"


def test_sensor_filters_apply_to_one_sensor_report(store) -> None:
    service = TraceService(store)
    service.capture(CLI_ADMIN, _document("ObjectEvent_with_sensorData.json"))  # temperatures 26.0, 26.1, 26.2 CEL

    def count(parameters: dict[str, str]) -> int:
        return len(service.query(CLI_ADMIN, parameters)[0])

    assert count({"EQ_type": "Temperature"}) == count({"EQ_type": "gs1:Temperature"}) == 1
    assert count({"GE_value_CEL": "26.05", "LT_value_CEL": "26.15"}) == 1
    assert count({"GT_value_CEL": "30"}) == 0 and count({"GE_value_KEL": "0"}) == 0
    assert count({"EQ_type": "Speed", "GE_value_CEL": "0"}) == 0  # a speed report is not in CEL
    assert count({"EQ_deviceID": "https://id.gs1.org/8004/4000001111"}) == 1  # the metadata's device, as a link
    with pytest.raises(ZhulianError) as refused:
        service.query(CLI_ADMIN, {"GE_value_CEL": "warm"})
    assert refused.value.details[0].field == "GE_value_CEL"


def test_the_openepcis_documents_replayed_over_plain_http(store, tmp_path: Path) -> None:
    publisher = {"Authorization": f"Bearer {create_key(store, 'publisher', node='440100', name='p')[1]}",
                 "Content-Type": "application/ld+json", "GS1-Capture-Error-Behaviour": "proceed"}
    stored = 0
    with TestClient(create_app(Settings(data_dir=tmp_path), store=store)) as http:
        for path in sorted(DOCUMENTS.glob("*.json")):
            answer = http.post("/epcis/capture", content=path.read_bytes(), headers=publisher)
            if path.name in REFUSED_BY_GS1_SCHEMA:
                assert answer.status_code == 202 and answer.json()["errors"], path.name  # proceed: reported
                assert all(e["field"].startswith("/epcisBody/eventList/") for e in answer.json()["errors"])
            else:
                # The folder repeats events across documents (an event in URN and in Digital Link spelling
                # hashes alike): what was not stored was refused as a duplicate, never for being invalid.
                assert answer.status_code == 202, (path.name, answer.text[:300])
                assert all("duplicate" in e["reason"] for e in answer.json()["errors"]), path.name
            stored += len(answer.json()["eventIDs"])
        listed = http.get("/epcis/events", params={"perPage": 1000}, headers=publisher).json()
        found = listed["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
        # stored: new events, and error declarations of events captured before (not new events)
        assert stored >= 40 and len(found) == _stored(store) <= stored
        for event in found[:: max(1, len(found) // 8)]:
            one = http.get(f"/epcis/events/{quote(event['eventID'], safe='')}", headers=publisher)
            assert one.status_code == 200 and one.json()["eventID"] == event["eventID"]
