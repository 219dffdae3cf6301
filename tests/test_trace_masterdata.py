"""GLN master data, on SQLite and PostgreSQL: the GLNs of events (read points, business locations, sources and
destinations) are named from the platform's organisations (their ``gln`` pid), from the ``epcisMasterData`` of
captured documents and from a CSV/XLSX upload, so that the trace, the CLI and the consumer page /t/{code} show
"广州某某食品有限公司 (广州市)" rather than a URN."""

from __future__ import annotations

import copy
import io
import warnings
from pathlib import Path

import pytest
from openpyxl import Workbook

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from zhulian.access import CLI_ADMIN, create_key
from zhulian.config import Settings
from zhulian.errors import ZhulianError
from zhulian.records import RecordService
from zhulian.trace.consumer import ConsumerService
from zhulian.trace.forms import ChainForms
from zhulian.trace.identifiers import canonical
from zhulian.trace.masterdata import MasterData
from zhulian.trace.recall import RecallService
from zhulian.trace.service import TraceService
from zhulian.web.app import create_app

from test_trace_chain import DISTRIBUTOR, FARM, FARM2, PACK_1, PROCESSOR, RETAILER, chain_document

PROCESSOR_NAME = "广州某某食品有限公司 (广州市)"


def _organisation(store, name: str, gln: str, city: str) -> dict:
    return RecordService(store).create(CLI_ADMIN, {"type": "organization", "name": {"zh": name}, "city": city,
                                                   "pids": {"gln": gln}})


def _with_master_data(document: dict) -> dict:
    """The chain document with an EPCIS 2.0 header naming the distributor (CBV master-data attributes)."""
    named = copy.deepcopy(document)
    named["epcisHeader"] = {"epcisMasterData": {"vocabularyList": [{
        "type": "urn:epcglobal:epcis:vtype:BusinessLocation",
        "vocabularyElementList": [{"id": DISTRIBUTOR, "attributes": [
            {"id": "urn:epcglobal:cbv:mda#name", "attribute": "深圳某某冷链物流有限公司"},
            {"id": "urn:epcglobal:cbv:mda#city", "attribute": "深圳市"},
            {"id": "urn:epcglobal:cbv:mda#latitude", "attribute": 22.54},
            {"id": "urn:epcglobal:cbv:mda#longitude", "attribute": 114.06}]},
            {"id": "urn:epc:id:sgln:4012345.00009.0", "attributes": []}]}]}}  # no name: not kept
    return named


def test_a_trace_names_its_places_and_parties_from_organisations_and_epcis_master_data(store) -> None:
    _organisation(store, "广州某某食品有限公司", "4012345000030", "440100")  # the processor's GLN
    _organisation(store, "佛山某某超市有限公司", "4012345000054", "440600")  # the retailer's party GLN
    service = TraceService(store)
    service.capture(CLI_ADMIN, _with_master_data(chain_document()))
    answer = service.trace(CLI_ADMIN, PACK_1, "back")
    assert answer["names"][canonical(PROCESSOR)] == PROCESSOR_NAME
    assert answer["names"][canonical(DISTRIBUTOR)] == "深圳某某冷链物流有限公司 (深圳市)"
    assert canonical(FARM) in answer["locations"] and canonical(FARM) not in answer["names"]  # nothing names it
    forward = service.trace(CLI_ADMIN, FARM_LOT, "forward")
    assert forward["names"][canonical("urn:epc:id:pgln:4012345.00005")] == "佛山某某超市有限公司 (佛山市)"
    assert forward["names"][canonical(RETAILER)] == "佛山某某超市有限公司 (佛山市)"  # one GLN: the shop and its owner
    case = RecallService(store).recall(CLI_ADMIN, PACK_1, "抽检不合格")
    holder = canonical("urn:epc:id:pgln:4012345.00005")
    assert RecallService(store).cases(CLI_ADMIN)[0]["names"][holder] == "佛山某某超市有限公司 (佛山市)"
    assert RecallService(store).case(CLI_ADMIN, case["id"])["names"][canonical(PROCESSOR)] == PROCESSOR_NAME
    places = MasterData(store).places(CLI_ADMIN, [canonical("urn:epc:id:sgln:4012345.00003.7")])
    assert places[canonical("urn:epc:id:sgln:4012345.00003.7")].label == PROCESSOR_NAME  # a dock of the plant
    assert MasterData(store).places(CLI_ADMIN, [canonical("urn:epc:id:sgln:4012345.00009.0")]) == {}


FARM_LOT = "urn:epc:class:lgtin:4012345.012345.FARM-A"
SHEET = (f"GLN 或地点标识,名称,城市,纬度,经度\n{FARM2},从化某某蔬菜专业合作社,从化区,23.55,113.59\n"
         "4012345000016,增城某某农场,440118,,\n").encode()


def test_locations_uploaded_as_csv_or_xlsx_name_places_all_rows_or_none(sqlite_store, tmp_path: Path) -> None:
    store = sqlite_store
    TraceService(store).capture(CLI_ADMIN, chain_document())
    secret = create_key(store, "publisher", node="440100", name="p")[1]
    auth = {"Authorization": f"Bearer {secret}"}
    with TestClient(create_app(Settings(data_dir=tmp_path), store=store)) as http:
        bad = SHEET + b"4012345000017,,\xe5\xb9\xbf\xe5\xb7\x9e,95,\n"  # wrong check digit, no name, latitude 95
        refused = http.post("/api/v1/trace/locations/import", headers=auth, files={"file": ("l.csv", bad)})
        assert refused.status_code == 400
        assert {p["field"] for p in refused.json()["error"]["details"]} == {
            "第 4 行 row 4 · id", "第 4 行 row 4 · name", "第 4 行 row 4 · latitude"}
        assert http.get("/api/v1/trace/locations", headers=auth, params={"id": FARM2}).json()["places"] == {}
        stored = http.post("/api/v1/trace/locations/import", headers=auth, files={"file": ("l.csv", SHEET)})
        assert stored.status_code == 201 and stored.json()["stored"] == 2
        book = Workbook()
        book.active.append(["GLN 或地点标识", "名称", "城市"])
        book.active.append(["urn:epc:id:sgln:4012345.00001.0", "增城某某生态农场", "增城区"])
        content = io.BytesIO()
        book.save(content)
        assert http.post("/api/v1/trace/locations/import", headers=auth,
                         files={"file": ("l.xlsx", content.getvalue())}).status_code == 201
        places = http.get("/api/v1/trace/locations", headers=auth,
                          params={"id": [FARM, "https://id.gs1.org/414/4012345000023"]}).json()["places"]
        assert places[canonical(FARM)]["label"] == "增城某某生态农场 (广州市)"  # the XLSX replaced the CSV's row
        assert places[canonical(FARM2)] | {"label": ""} == {
            "name": "从化某某蔬菜专业合作社", "city": "440117", "latitude": 23.55, "longitude": 113.59,
            "organization": None, "label": ""}
        assert http.get("/api/v1/trace/locations", params={"id": FARM}).status_code == 401
        template = http.get("/api/v1/trace/locations/template", params={"format": "csv"})
        assert template.content.decode("utf-8-sig").startswith("GLN 或地点标识,名称,城市,纬度,经度")
    answer = TraceService(store).trace(CLI_ADMIN, PACK_1, "back")
    assert answer["names"][canonical(FARM2)] == "从化某某蔬菜专业合作社 (广州市)"


def test_the_consumer_page_shows_the_farm_and_processor_by_name_on_the_map(store, tmp_path: Path) -> None:
    farm, plant = "urn:epc:id:sgln:6901234.00001.0", "urn:epc:id:sgln:6901234.00002.0"
    _organisation(store, "广州某某食品有限公司", "6901234000023", "440100")
    RecordService(store).create(CLI_ADMIN, {"type": "organization", "name": {"zh": "内部仓库"}, "city": "440100",
                                            "access": "internal", "pids": {"gln": "6901234000030"}})
    forms = ChainForms(store)
    forms.import_rows(CLI_ADMIN, (
        "环节,时间,批次,数量,单位,地点,投入品或原料批次,产出批次,产品名称,公开\n"
        f"种植,2026-05-01T08:00,CAI-0501,500,KGM,{farm},,,菜心,是\n"
        f"加工,2026-05-02T09:00,,,,{plant},CAI-0501,JING-0502,净菜心,是\n"
        "收货,2026-05-03T08:00,JING-0502,,,urn:epc:id:sgln:6901234.00003.0,,,净菜心,是\n").encode(), "chain.csv")
    farm_row = f"GLN 或地点标识,名称,城市,纬度,经度\n{farm},从化某某合作社,从化区,23.55,113.59\n"
    MasterData(store).import_rows(CLI_ADMIN, farm_row.encode(), "farm.csv")
    view = ConsumerService(store).page("JING-0502")
    assert [stop["place"] for stop in view["journey"]] == [
        "从化某某合作社 (广州市)", "广州某某食品有限公司 (广州市)",
        "urn:epc:id:sgln:6901234.00003.0"]  # an internal organisation is not named to the public
    assert view["map"].count("<circle") == 2  # the farm's own coordinates, the processor's city
    with TestClient(create_app(Settings(data_dir=tmp_path), store=store)) as http:
        page = http.get("/t/JING-0502")
    assert page.status_code == 200 and "广州某某食品有限公司 (广州市)" in page.text
    assert "urn:epc:id:sgln:6901234.00002.0" not in page.text


def test_bad_lookups_are_refused_with_reasons(store) -> None:
    with pytest.raises(ZhulianError) as too_many:
        MasterData(store).lookup(CLI_ADMIN, [f"urn:epc:id:sgln:4012345.00001.{n}" for n in range(101)])
    assert too_many.value.status == 400 and too_many.value.details[0].field == "id"
    with pytest.raises(ZhulianError) as nul:
        MasterData(store).lookup(CLI_ADMIN, ["a\x00b"])
    assert nul.value.status == 400
