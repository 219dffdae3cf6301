"""Rapid tests (快检) and the chain in Chinese terms, on SQLite and PostgreSQL: a result is a standard EPCIS
inspecting event with a sensorReport per analyte and a verdict; a non-conformant one opens a recall case for
review; supervision by city, product class and analyte and the monthly rate, charted; a cooperative records
种植 → 加工 → 发货 → 收货/储存 → 销售 from a spreadsheet or a form, and the trace runs through it."""

from __future__ import annotations

import io
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
from zhulian.trace import rapid
from zhulian.trace.forms import ChainForms, template
from zhulian.trace.recall import RecallService
from zhulian.trace.service import TraceService
from zhulian.web.app import create_app


CHLORPYRIFOS = "https://identifiers.org/inchikey:SBPBAQFWLVIOKP-UHFFFAOYSA-N"  # 毒死蜱
SALMONELLA = "https://www.ncbi.nlm.nih.gov/taxonomy/590"


def _test(lot: str, city: str, product_class: str, value: float, time: str) -> dict:
    return {"step": "快检", "lot": lot, "time": time, "city": city, "productClass": product_class,
            "analyteName": "毒死蜱", "chemicalSubstance": CHLORPYRIFOS, "value": value, "uom": "NA", "limit": 0.05,
            "method": "GB/T 5009.199 快速检测卡", "device": "urn:epc:id:giai:4012345.RT01"}


STEPS_CSV = """环节,时间,批次,数量,单位,地点,投入品或原料批次,产出批次,收货地点,收货方,温度(℃),城市代码,产品类别,产品名称,公开
种植,2026-05-01T08:00,CAI-0501,500,KGM,urn:epc:id:sgln:4012345.00001.0,FEI-01;ZHONG-03,,,,,440100,蔬菜,菜心,是
加工,2026-05-02T09:00,,,,urn:epc:id:sgln:4012345.00003.0,CAI-0501,JING-0502,,,,440100,蔬菜,净菜,是
发货,2026-05-02T15:00,JING-0502,480,KGM,urn:epc:id:sgln:4012345.00003.0,,,urn:epc:id:sgln:4012345.00004.0,urn:epc:id:pgln:4012345.00004,4,440100,蔬菜,净菜,是
储存,2026-05-03T08:00,JING-0502,,,urn:epc:id:sgln:4012345.00004.0,,,,,3.5,440300,蔬菜,净菜,是
销售,2026-05-04T10:00,JING-0502,,,urn:epc:id:sgln:4012345.00005.0,,,,,,440300,蔬菜,净菜,是
"""


def test_results_supervision_and_a_review_case_for_a_non_conformant_one(store) -> None:
    forms = ChainForms(store)
    passed = forms.record(CLI_ADMIN, _test("CAI-0501", "440100", "蔬菜", 0.01, "2026-04-02T09:00"))
    assert (passed["bizStep"], passed["disposition"], passed["recallCase"]) == ("inspecting", "conformant", None)
    failed = forms.record(CLI_ADMIN, _test("CAI-0502", "440100", "蔬菜", 0.31, "2026-05-03T09:00"))
    assert failed["disposition"] == "non_conformant" and failed["recallCase"].startswith("rcl_")
    detected = _test("YU-0503", "440300", "水产品", 0.0, "2026-05-04T09:00") | {
        "chemicalSubstance": "", "microorganism": SALMONELLA, "analyteName": "沙门氏菌", "value": "", "limit": "",
        "verdict": "不合格"}  # a qualitative result: detected
    forms.record(CLI_ADMIN, detected)
    # The result is a standard event: found by the SimpleEventQuery's sensor filters.
    found, _ = TraceService(store).query(CLI_ADMIN, {"EQ_chemicalSubstance": CHLORPYRIFOS, "GT_value_NA": "0.05"})
    assert [e["eventID"] for e in found] == [failed["eventID"]]
    assert found[0]["disposition"] == "non_conformant" and found[0]["zl:limit"] == 0.05
    views = rapid.supervision(store, CLI_ADMIN)
    by_city = {g["label"]: (g["count"], g["nonConformant"]) for g in views["byCity"]}
    assert by_city == {"广州市": (2, 1), "深圳市": (1, 1)}
    assert {g["key"]: g["rate"] for g in views["byProductClass"]} == {"蔬菜": 0.5, "水产品": 1.0}
    assert {g["key"] for g in views["byAnalyte"]} == {"毒死蜱", "沙门氏菌"}
    assert [(g["key"], g["count"], g["nonConformant"]) for g in views["byMonth"]] == [("2026-04", 1, 0),
                                                                                     ("2026-05", 2, 2)]
    assert [g["key"] for g in rapid.supervision(store, CLI_ADMIN, since="2026-05-01")["byMonth"]] == ["2026-05"]
    chart = rapid.rate_chart(views["byMonth"], "不合格率")
    assert chart.startswith("<svg") and chart.count("<rect") == 2 and "2026-05: 2/2" in chart
    # The review case names the lot; executing it recalls it.
    recalls = RecallService(store)
    case = recalls.case(CLI_ADMIN, failed["recallCase"])
    assert case["status"] == "review" and "毒死蜱" in case["reason"] and case["sourceEvent"] == failed["eventID"]
    executed = recalls.execute(CLI_ADMIN, case["id"])
    assert executed["status"] == "executed" and [lot["lot"] for lot in executed["lots"]] == [
        "urn:zhulian:trace:CAI-0502"]
    with pytest.raises(ZhulianError) as refused:  # no verdict, no analyte, a value that is no number
        forms.record(CLI_ADMIN, {"step": "快检", "lot": "X", "value": "abc"})
    assert refused.value.status == 400
    assert {p.field for p in refused.value.details} >= {"chemicalSubstance", "value", "verdict"}


def test_a_cooperative_spreadsheet_or_the_template_becomes_a_traceable_chain(store) -> None:
    forms = ChainForms(store)
    stored = forms.import_rows(CLI_ADMIN, STEPS_CSV.encode(), "steps.csv")
    assert stored["storedCount"] == 5
    trace = TraceService(store)
    back = trace.trace(CLI_ADMIN, "urn:zhulian:trace:JING-0502", "back")
    assert {e["bizStep"] for e in back["events"]} == {"commissioning", "shipping", "storing", "retail_selling"}
    assert "urn:zhulian:trace:FEI-01" in back["identifiers"]  # the farm's inputs
    stored_event = trace.query(CLI_ADMIN, {"EQ_bizStep": "storing"})[0][0]
    assert stored_event["sensorElementList"][0]["sensorReport"][0] == {"type": "Temperature", "value": 3.5,
                                                                       "uom": "CEL"}
    shipped = trace.query(CLI_ADMIN, {"EQ_bizStep": "shipping"})[0][0]
    assert shipped["disposition"] == "in_transit" and shipped["destinationList"][1]["type"] == "possessing_party"
    # A bad row refuses the whole sheet, naming the row.
    broken = STEPS_CSV.replace("储存,2026-05-03T08:00", "储存,五月三日")
    with pytest.raises(ZhulianError) as refused:
        forms.import_rows(CLI_ADMIN, broken.encode(), "steps.csv")
    assert [p.field for p in refused.value.details] == ["第 5 行 row 5 · time"]
    with pytest.raises(ZhulianError) as unknown_step:
        forms.record(CLI_ADMIN, {"step": "晒太阳", "lot": "X"})
    assert unknown_step.value.details[0].field == "step"
    # The blank template, example row and all, imports as it is.
    content, _ = template("xlsx")
    book = load_workbook(io.BytesIO(content))
    assert book.worksheets[0]["A1"].value == "环节" and book["说明"]["B2"].value == "commissioning"
    assert forms.import_rows(CLI_ADMIN, content, "steps.xlsx")["storedCount"] == 1


def test_forms_supervision_and_pages_over_http(sqlite_store, tmp_path: Path) -> None:
    store = sqlite_store
    publisher = create_key(store, "publisher", node="440100", name="p")[1]
    auth = {"Authorization": f"Bearer {publisher}"}
    with TestClient(create_app(Settings(data_dir=tmp_path), store=store)) as http:
        made = http.post("/api/v1/trace/steps", headers=auth,
                         json=_test("CAI-9", "440100", "蔬菜", 0.5, "2026-05-03T09:00"))
        assert made.status_code == 201 and made.json()["recallCase"]
        imported = http.post("/api/v1/trace/steps/import", headers=auth,
                             files={"file": ("steps.csv", STEPS_CSV.encode(), "text/csv")})
        assert imported.status_code == 201 and imported.json()["storedCount"] == 5
        bad = http.post("/api/v1/trace/steps", headers=auth, json={"step": "快检", "lot": "X"})
        assert bad.status_code == 400 and bad.json()["error"]["details"]
        assert http.get("/api/v1/trace/rapid-tests/supervision", headers=auth).json()["byCity"][0]["count"] == 1
        page = http.get("/trace/supervision", headers=auth)
        assert page.status_code == 200 and "<svg" in page.text and "广州市" in page.text
        form = http.get("/trace/record", headers=auth)
        assert form.status_code == 200 and 'name="step"' in form.text and "<script" not in form.text
        assert http.get("/api/v1/trace/steps/template", params={"format": "csv"}).content.startswith(
            "\ufeff环节".encode())


def test_nul_characters_and_non_numbers_are_refused_never_a_server_error(store) -> None:
    """PostgreSQL stores no NUL in text and JSON has no NaN: each is a 400 naming the field, on both databases."""
    from zhulian.trace.consumer import ConsumerService
    from zhulian.trace.subscriptions import SubscriptionService
    from zhulian.trace.validation import parse_json

    forms, trace = ChainForms(store), TraceService(store)
    attempts = [
        ("id", lambda: trace.trace(CLI_ADMIN, "a\x00b", "back")),
        ("EQ_bizStep", lambda: trace.query(CLI_ADMIN, {"EQ_bizStep": "a\x00"})),
        ("reason", lambda: RecallService(store).recall(CLI_ADMIN, "X", "bad\x00")),
        ("id", lambda: ConsumerService(store).code(CLI_ADMIN, "a\x00b")),
        ("/zl:product", lambda: forms.record(CLI_ADMIN, {"step": "收货", "lot": "X", "product": "菜\x00心"})),
        ("temperature", lambda: forms.record(CLI_ADMIN, {"step": "储存", "lot": "X", "temperature": []})),
        ("value", lambda: forms.record(CLI_ADMIN, {"step": "快检", "lot": "X", "chemicalSubstance": "a:b",
                                                   "value": "nan", "verdict": "conformant"})),
        ("dest", lambda: SubscriptionService(store).subscribe(CLI_ADMIN, "q", {"dest": "http://h/\x00",
                                                                               "stream": True})),
        ("", lambda: parse_json(b'{"value": NaN}', limit=100)),
    ]
    SubscriptionService(store).create_query(CLI_ADMIN, "q", {"eventType": "ObjectEvent"})
    for field, attempt in attempts:
        with pytest.raises(ZhulianError) as refused:
            attempt()
        assert refused.value.status == 400, field
        assert any(p.field.endswith(field) for p in refused.value.details), (field, refused.value.details)
