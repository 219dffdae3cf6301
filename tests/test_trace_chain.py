"""Trace back and forward over a farm → processor → distributor → retailer chain, on SQLite and PostgreSQL.

The chain is in EPCIS 2.0, written in the shapes of GS1's example
events in ../shared/data/epcis/JSON (Example_9.6.1 ObjectEvent, 9.6.3 AggregationEvent, 9.6.4
TransformationEvent): a farm lot is harvested and shipped, a processor turns it and another farm's lot into
serialised packs, packs them on a pallet and ships it, a distributor unpacks it and ships the packs on to two
retailers, and the pallet is later reused for something else. Identifiers are mixed on purpose: EPC URNs in
one event, GS1 Digital Links for the same objects in another."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from zhulian.access import CLI_ADMIN, create_key
from zhulian.config import Settings
from zhulian.errors import ZhulianError
from zhulian.trace.identifiers import canonical
from zhulian.trace.service import TraceService
from zhulian.web.app import create_app

CONTEXT = ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"]
FARM, FARM2, PROCESSOR = ("urn:epc:id:sgln:4012345.00001.0", "urn:epc:id:sgln:4012345.00002.0",
                          "urn:epc:id:sgln:4012345.00003.0")
DISTRIBUTOR, RETAILER, RETAILER2 = ("urn:epc:id:sgln:4012345.00004.0", "urn:epc:id:sgln:4012345.00005.0",
                                    "urn:epc:id:sgln:4012345.00006.0")
LOT_A, LOT_B = "urn:epc:class:lgtin:4012345.012345.FARM-A", "urn:epc:class:lgtin:4012345.012345.FARM-B"
LOT_A_LINK = "https://id.gs1.org/01/04012345123456/10/FARM-A"
PACK_1, PACK_2 = "urn:epc:id:sgtin:4012345.054321.P1", "urn:epc:id:sgtin:4012345.054321.P2"
PACK_1_LINK = "https://id.gs1.org/01/04012345543216/21/P1"
PACK_2_LINK = "https://id.gs1.org/01/04012345543216/21/P2"
PALLET, OTHER = "urn:epc:id:sscc:4012345.0000000001", "urn:epc:id:sgtin:4012345.054321.P9"


def _event(name: str, kind: str, time: str, step: str, where: str, **fields: Any) -> dict[str, Any]:
    event = {"type": kind, "eventID": f"urn:uuid:00000000-0000-4000-8000-{name.rjust(12, '0')}",
             "eventTime": f"2024-05-{time}:00+08:00", "eventTimeZoneOffset": "+08:00", "bizStep": step,
             "readPoint": {"id": where}, "bizLocation": {"id": where}, **fields}
    return event


def _shipped(to: str) -> dict[str, Any]:
    party = "urn:epc:id:pgln:" + to.removeprefix("urn:epc:id:sgln:").removesuffix(".0")
    return {"disposition": "in_transit", "destinationList": [{"type": "location", "destination": to},
                                                            {"type": "possessing_party", "destination": party}]}


def chain_events() -> dict[str, dict[str, Any]]:
    """The chain's events by a short name (e1 … e15)."""
    lot_a = [{"epcClass": LOT_A, "quantity": 500, "uom": "KGM"}]
    return {
        "e1": _event("1", "ObjectEvent", "01T08:00", "commissioning", FARM, action="ADD", quantityList=lot_a),
        "e1b": _event("21", "ObjectEvent", "01T09:00", "commissioning", FARM2, action="ADD",
                      quantityList=[{"epcClass": LOT_B, "quantity": 300, "uom": "KGM"}]),
        "e2": _event("2", "ObjectEvent", "01T12:00", "shipping", FARM, action="OBSERVE", quantityList=lot_a,
                     **_shipped(PROCESSOR)),
        "e3": _event("3", "ObjectEvent", "02T08:00", "receiving", PROCESSOR, action="OBSERVE",
                     quantityList=[{"epcClass": LOT_A_LINK, "quantity": 500, "uom": "KGM"}], disposition="in_progress"),
        "e4": {**_event("4", "TransformationEvent", "02T10:00", "commissioning", PROCESSOR),
               "inputQuantityList": [{"epcClass": LOT_A_LINK, "quantity": 500, "uom": "KGM"},
                                     {"epcClass": LOT_B, "quantity": 300, "uom": "KGM"}],
               "outputEPCList": [PACK_1_LINK, PACK_2_LINK]},
        "e5": _event("5", "AggregationEvent", "02T11:00", "packing", PROCESSOR, action="ADD", parentID=PALLET,
                     childEPCs=[PACK_1, PACK_2]),
        "e6": _event("6", "ObjectEvent", "02T15:00", "shipping", PROCESSOR, action="OBSERVE", epcList=[PALLET],
                     **_shipped(DISTRIBUTOR)),
        "e7": _event("7", "ObjectEvent", "03T08:00", "receiving", DISTRIBUTOR, action="OBSERVE", epcList=[PALLET]),
        "e8": _event("8", "AggregationEvent", "03T09:00", "unpacking", DISTRIBUTOR, action="DELETE", parentID=PALLET,
                     childEPCs=[PACK_1_LINK, PACK_2_LINK]),
        "e9": _event("9", "ObjectEvent", "03T10:00", "shipping", DISTRIBUTOR, action="OBSERVE", epcList=[PACK_1],
                     **_shipped(RETAILER)),
        "e10": _event("10", "AggregationEvent", "04T09:00", "packing", DISTRIBUTOR, action="ADD", parentID=PALLET,
                      childEPCs=[OTHER]),
        "e11": _event("11", "ObjectEvent", "04T10:00", "shipping", DISTRIBUTOR, action="OBSERVE", epcList=[PALLET],
                      **_shipped(RETAILER2)),
        "e12": _event("12", "ObjectEvent", "04T08:00", "receiving", RETAILER, action="OBSERVE", epcList=[PACK_1_LINK]),
        "e13": _event("13", "ObjectEvent", "05T18:00", "retail_selling", RETAILER, action="OBSERVE", epcList=[PACK_1],
                      disposition="retail_sold"),
        "e14": _event("14", "ObjectEvent", "03T11:00", "shipping", DISTRIBUTOR, action="OBSERVE", epcList=[PACK_2],
                      **_shipped(RETAILER2)),
        "e15": _event("15", "ObjectEvent", "04T12:00", "receiving", RETAILER2, action="OBSERVE", epcList=[PACK_2]),
    }


def chain_document() -> dict[str, Any]:
    return {"@context": CONTEXT, "type": "EPCISDocument", "schemaVersion": "2.0",
            "creationDate": "2024-05-06T00:00:00Z", "epcisBody": {"eventList": list(chain_events().values())}}


def event_id(name: str) -> str:
    return chain_events()[name]["eventID"]


BACK_FROM_PACK_1 = {"e1", "e1b", "e2", "e3", "e4", "e5", "e6", "e7", "e8", "e9", "e12", "e13"}
FORWARD_FROM_LOT_A = {"e1", "e2", "e3", "e4", "e5", "e6", "e7", "e8", "e9", "e12", "e13", "e14", "e15"}


def _names(answer: dict[str, Any]) -> set[str]:
    by_id = {event["eventID"]: name for name, event in chain_events().items()}
    return {by_id[event["eventID"]] for event in answer["events"]}


@pytest.fixture
def chain(store) -> TraceService:
    service = TraceService(store)
    assert service.capture(CLI_ADMIN, chain_document())["storedCount"] == len(chain_events())
    return service


def test_back_from_a_pack_reaches_both_farms_and_the_pallet_only_while_the_pack_was_on_it(chain) -> None:
    answer = chain.trace(CLI_ADMIN, PACK_1_LINK, "back")
    assert answer["direction"] == "back" and answer["id"] == PACK_1_LINK
    assert _names(answer) == BACK_FROM_PACK_1  # not e10/e11: the pallet reused after the pack left it
    assert answer["count"] == len(BACK_FROM_PACK_1) and answer["merged"] > 0
    times = [event["eventTime"] for event in answer["events"]]
    assert times == sorted(times) and times[0] == "2024-05-01T00:00:00.000Z"
    assert {canonical(LOT_A), canonical(LOT_B), canonical(PALLET)} <= set(answer["identifiers"])
    assert canonical(FARM) in answer["locations"] and canonical(FARM2) in answer["locations"]
    commissioning = next(e for e in answer["events"] if e["eventID"] == event_id("e1"))
    assert (commissioning["bizStep"], commissioning["via"]["role"]) == ("commissioning", "epc_class")
    # Either spelling of the pack traces alike.
    assert _names(chain.trace(CLI_ADMIN, PACK_1, "back")) == BACK_FROM_PACK_1


def test_forward_from_a_farm_lot_reaches_every_retailer(chain) -> None:
    answer = chain.trace(CLI_ADMIN, LOT_A, "forward")
    assert _names(answer) == FORWARD_FROM_LOT_A  # not the other farm's lot, not the pallet's later trip
    assert answer == chain.trace(CLI_ADMIN, LOT_A_LINK, "forward") | {"id": canonical(LOT_A)}
    assert {canonical(RETAILER), canonical(RETAILER2)} <= set(answer["locations"])
    parties = {canonical("urn:epc:id:pgln:4012345.00005"), canonical("urn:epc:id:pgln:4012345.00006")}
    assert parties <= set(answer["parties"])
    shipped = next(e for e in answer["events"] if e["eventID"] == event_id("e9"))
    assert {"type": "location", "id": canonical(RETAILER)} in shipped["destinations"]
    assert {canonical(PACK_1), canonical(PACK_2)} <= set(answer["identifiers"])


def test_a_trace_of_nothing_known_or_a_wrong_direction_is_refused(chain) -> None:
    with pytest.raises(ZhulianError) as unknown:
        chain.trace(CLI_ADMIN, "urn:epc:id:sgtin:4012345.054321.NOPE", "back")
    assert unknown.value.status == 404
    with pytest.raises(ZhulianError) as sideways:
        chain.trace(CLI_ADMIN, PACK_1, "sideways")
    assert sideways.value.status == 400 and sideways.value.details[0].field == "direction"


def test_trace_over_http(chain, store, tmp_path: Path) -> None:
    secret = create_key(store, "reader", name="r")[1]
    with TestClient(create_app(Settings(data_dir=tmp_path), store=store)) as http:
        back = http.get("/api/v1/trace/back", params={"id": PACK_1}, headers={"Authorization": f"Bearer {secret}"})
        assert back.status_code == 200 and _names(back.json()) == BACK_FROM_PACK_1
        assert http.get("/api/v1/trace/back", params={"id": PACK_1}).status_code == 401
        assert http.get("/api/v1/trace/up", params={"id": PACK_1},
                        headers={"Authorization": f"Bearer {secret}"}).status_code == 400


def test_trace_on_the_command_line(run, tmp_path: Path) -> None:
    document = tmp_path / "chain.json"
    document.write_text(json.dumps(chain_document(), ensure_ascii=False), encoding="utf-8")
    run("trace", "capture", document)
    forward = json.loads(run("trace", "forward", LOT_A_LINK, "--json").stdout)
    assert _names(forward) == FORWARD_FROM_LOT_A
    table = run("trace", "back", PACK_1).stdout
    assert "溯源 back" in table and f"{len(BACK_FROM_PACK_1)} 个事件" in table and "合并重复 merged" in table
