"""Recall over the farm → processor → distributor → retailer chain (tests/test_trace_chain.py), on SQLite and
PostgreSQL: from the pack at fault back to both farms' lots and forward to every lot, holder and place; a
``recalled`` EPCIS event for each lot, reported to a holder's stream subscription; the recall list as XLSX
with Chinese headers and filters; the API, the admin page and the command line."""

from __future__ import annotations

import io
import json
import time
import warnings
from pathlib import Path

import pytest
from openpyxl import load_workbook

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from zhulian.access import CLI_ADMIN, create_key
from zhulian.config import Settings
from zhulian.errors import ZhulianError
from zhulian.trace.identifiers import canonical
from zhulian.trace.recall import RecallService
from zhulian.trace.service import TraceService
from zhulian.trace.subscriptions import Notifier, SubscriptionService
from zhulian.web.app import create_app

from test_trace_chain import LOT_A, LOT_B, PACK_1, PACK_2, PALLET, chain_document
from test_trace_subscriptions import Receiver

LOTS = {canonical(i) for i in (LOT_A, LOT_B, PACK_1, PACK_2)}  # not the pallet, not what it carried later
HOLDERS = {canonical(f"urn:epc:id:pgln:4012345.0000{n}") for n in (3, 4, 5, 6)}
REASON = "=HYPERLINK(\"http://x\") 快检不合格：农药残留超标"


@pytest.fixture
def chain(store) -> TraceService:
    service = TraceService(store)
    service.capture(CLI_ADMIN, chain_document())
    return service


def test_a_recall_reaches_every_lot_and_holder_and_captures_recalled_for_each(chain, store) -> None:
    receiver = Receiver()
    standing = SubscriptionService(store, "127.0.0.1")  # the admin lets reports reach the local receiver
    standing.create_query(CLI_ADMIN, "retailer2", {"MATCH_anyEPC": [PACK_2]})  # a holder's subscription
    subscription = standing.subscribe(CLI_ADMIN, "retailer2", {"dest": receiver.url, "stream": True})
    standing.create_query(CLI_ADMIN, "elsewhere", {"MATCH_anyEPC": ["urn:epc:id:sgtin:4012345.054321.P9"]})
    standing.subscribe(CLI_ADMIN, "elsewhere", {"dest": receiver.url, "stream": True})
    case = RecallService(store).recall(CLI_ADMIN, PACK_1, REASON)
    assert case["notified"] == [{"subscriptionID": subscription["subscriptionID"], "queryName": "retailer2",
                                 "dest": receiver.url}]
    assert case["status"] == "executed" and case["identifier"] == canonical(PACK_1)
    assert set(case["sources"]) == {canonical(LOT_A), canonical(LOT_B)}
    assert {lot["lot"] for lot in case["lots"]} == LOTS and canonical(PALLET) not in case["locations"]
    assert HOLDERS <= set(case["holders"])
    pack_2 = next(lot for lot in case["lots"] if lot["lot"] == canonical(PACK_2))
    assert pack_2["lastLocation"] == canonical("urn:epc:id:sgln:4012345.00006.0")
    assert pack_2["holders"] == [canonical("urn:epc:id:pgln:4012345.00006")]
    recalled, _ = chain.query(CLI_ADMIN, {"EQ_disposition": "recalled"})
    assert len(recalled) == len(LOTS) and {e["eventID"] for e in recalled} == {
        lot["recallEventID"] for lot in case["lots"]}
    with standing.webhook_client(5) as client:
        assert Notifier(store, webhook_hosts="127.0.0.1").run_once(client) == 1
    [document] = receiver.documents()
    [event] = document["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    assert (event["disposition"], event["eventID"]) == ("recalled", pack_2["recallEventID"])
    receiver.server.shutdown()
    receiver.server.server_close()
    with pytest.raises(ZhulianError) as again:
        RecallService(store).execute(CLI_ADMIN, case["id"])
    assert again.value.status == 409


def test_the_recall_list_is_a_sortable_spreadsheet_and_bad_recalls_are_refused(chain, store) -> None:
    recalls = RecallService(store)
    case = recalls.recall(CLI_ADMIN, LOT_B, REASON)
    started = time.perf_counter()
    content = recalls.spreadsheet(CLI_ADMIN, case["id"])
    assert time.perf_counter() - started < 3
    book = load_workbook(io.BytesIO(content))
    sheet = book["召回清单"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("批次/产品标识", "类别", "最近事件时间 (UTC)")
    assert sheet.auto_filter.ref == f"A1:H{len(rows)}"
    # Forward of the other farm's lot: not farm A's lot, though both went into the same packs.
    assert {row[0] for row in rows[1:]} == LOTS - {canonical(LOT_A)}
    about = {row[0]: row[1] for row in book["说明"].iter_rows(values_only=True) if row}
    assert about["批次/产品标识"] == "Lot or item"
    assert about["原因 Reason"] == "'" + REASON  # neutralised: shown, never run
    with pytest.raises(ZhulianError) as unknown:
        recalls.recall(CLI_ADMIN, "urn:epc:id:sgtin:4012345.054321.NOPE", "x")
    assert unknown.value.status == 404
    with pytest.raises(ZhulianError) as empty:
        recalls.recall(CLI_ADMIN, PACK_1, "  ")
    assert empty.value.status == 400 and [p.field for p in empty.value.details] == ["reason"]


def test_recall_over_http_and_on_the_admin_page(sqlite_store, tmp_path: Path) -> None:
    store = sqlite_store
    TraceService(store).capture(CLI_ADMIN, chain_document())
    publisher = create_key(store, "publisher", node="440100", name="p")[1]
    reader = create_key(store, "reader", name="r")[1]
    with TestClient(create_app(Settings(data_dir=tmp_path), store=store)) as http:
        refused = http.post("/api/v1/trace/recalls", json={"id": PACK_1, "reason": "x"},
                            headers={"Authorization": f"Bearer {reader}"})
        assert refused.status_code == 403 and refused.json()["error"]["message_zh"]
        auth = {"Authorization": f"Bearer {publisher}"}
        made = http.post("/api/v1/trace/recalls", json={"id": PACK_1, "reason": "快检不合格"}, headers=auth)
        assert made.status_code == 201 and {lot["lot"] for lot in made.json()["lots"]} == LOTS
        listed = http.get(f"/api/v1/trace/recalls/{made.json()['id']}/list.xlsx", headers=auth)
        assert listed.status_code == 200 and listed.content[:2] == b"PK"
        page = http.get("/admin/trace/recalls", headers=auth)
        assert page.status_code == 200 and made.json()["id"] in page.text and "召回" in page.text
        assert "<script>" not in page.text.split("<main", 1)[-1]


def test_recall_on_the_command_line(run, tmp_path: Path) -> None:
    document = tmp_path / "chain.json"
    document.write_text(json.dumps(chain_document(), ensure_ascii=False), encoding="utf-8")
    run("trace", "capture", document)
    answer = json.loads(run("trace", "recall", PACK_2, "--reason", "召回演练", "--xlsx", tmp_path / "r.xlsx",
                            "--json").stdout)
    assert {lot["lot"] for lot in answer["lots"]} == LOTS
    assert load_workbook(tmp_path / "r.xlsx")["召回清单"].max_row == 1 + len(LOTS)
