"""Innovation vouchers and the open-sharing evaluation: a city issues vouchers from a budget to eligible firms,
a firm spends one on a used booking in another city, the provider claims and the issuing city settles; balances
never go negative nor are spent twice (also under twenty redemptions at once); the city→city flows and the
yearly report render on the portal and export to Excel with no live formula."""

from __future__ import annotations

import datetime as dt
import io
import warnings
from pathlib import Path

import pytest
from openpyxl import load_workbook

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from zhulian.access import CLI_ADMIN
from zhulian.config import Settings
from zhulian.errors import ZhulianError
from zhulian.records import RecordService
from zhulian.sharing import SharingService, VoucherService
from zhulian.sharing.charts import report_xlsx
from zhulian.sharing.evaluation import yearly_report
from zhulian.web.app import create_app

from test_openapi import answer_validator
from test_sharing import PROFILE, at, at_once, keys, monday

SHENZHEN, GUANGZHOU = "440300", "440100"


@pytest.fixture
def region(store):
    instrument = store.create({"type": "instrument", "name": {"zh": "场发射扫描电子显微镜"}, "host": "中山大学",
                               "city": GUANGZHOU, "node": GUANGZHOU})
    firm = store.create({"type": "organization", "name": {"zh": "深圳微纳科技有限公司"}, "kind": "enterprise",
                         "city": SHENZHEN})
    university = store.create({"type": "organization", "name": {"zh": "中山大学"}, "kind": "university",
                               "city": GUANGZHOU})
    sharing = SharingService(store)
    sharing.set_profile(CLI_ADMIN, instrument["id"], PROFILE)
    return sharing, VoucherService(store), keys(store), instrument, firm, university


def used_booking(sharing, people, instrument, organization, day: dt.date, hour: int, hours: float = 1) -> dict:
    """A booking by the firm's reader key, confirmed and completed by Guangzhou's publisher."""
    booked = sharing.book(people["firm"][0], instrument["id"], start=at(day, hour), end=at(day, hour + 1),
                          service="sem-imaging", purpose="表征", organization=organization["id"])
    sharing.confirm(people["guangzhou"][0], booked["id"])
    return sharing.complete(people["guangzhou"][0], booked["id"], hours=hours)


def program(vouchers, people, budget: float = 10_000, **rules) -> dict:
    return vouchers.create_program(people["shenzhen"][0], city=SHENZHEN, year=2026, name="深圳市科技创新券",
                                   budget=budget, share=0.5, rules=rules or None)


def _error(error: pytest.ExceptionInfo) -> tuple[int, str]:
    return error.value.status, error.value.code


def test_issue_spend_claim_settle_across_cities_with_audit(region, store) -> None:
    sharing, vouchers, people, instrument, firm, _university = region
    scheme = program(vouchers, people, budget=5_000)
    voucher = vouchers.issue(people["shenzhen"][0], scheme["id"], firm=firm["id"], amount=3_000, size="small",
                             enterprise_type="sme")
    assert voucher["balance"] == 3_000.0 and voucher["city"] == SHENZHEN
    assert vouchers.programs(city=SHENZHEN)[0]["remaining"] == 2_000.0
    booking = used_booking(sharing, people, instrument, firm, monday(), 9, hours=2)  # 2 h × 600 (enterprise)
    assert booking["fee"] == 1_200.0
    with pytest.raises(ZhulianError) as over_share:
        vouchers.redeem(people["firm"][0], voucher["id"], booking["id"], amount=700)
    assert _error(over_share) == (400, "invalid") and "600" in over_share.value.details[0].reason_zh
    paid = vouchers.redeem(people["firm"][0], voucher["id"], booking["id"])  # the most allowed: half the fee
    assert paid["amount"] == 600.0 and paid["issuing_city"] == SHENZHEN and paid["provider_city"] == GUANGZHOU
    with pytest.raises(ZhulianError) as twice:
        vouchers.redeem(people["firm"][0], voucher["id"], booking["id"], amount=1)
    assert _error(twice) == (409, "conflict") and "已使用创新券" in twice.value.message_zh
    assert vouchers.voucher(people["firm"][0], voucher["id"])["balance"] == 2_400.0
    with pytest.raises(ZhulianError) as wrong_claimant:
        vouchers.claim(people["shenzhen"][0], paid["id"])
    assert _error(wrong_claimant) == (403, "forbidden")
    with pytest.raises(ZhulianError) as too_early:
        vouchers.settle(people["shenzhen"][0], paid["id"])
    assert _error(too_early) == (409, "conflict")
    assert vouchers.claim(people["guangzhou"][0], paid["id"])["state"] == "claimed"
    with pytest.raises(ZhulianError) as wrong_payer:
        vouchers.settle(people["guangzhou"][0], paid["id"])
    assert _error(wrong_payer) == (403, "forbidden") and "发券城市" in wrong_payer.value.message_zh
    assert vouchers.settle(people["shenzhen"][0], paid["id"])["state"] == "settled"
    flows = vouchers.flows(year=monday().year)
    codes = [c["key"] for c in flows["cities"]]
    assert flows["matrix"][codes.index(SHENZHEN)][codes.index(GUANGZHOU)] == 600.0
    assert flows["total"] == flows["across_cities"] == 600.0
    assert vouchers.flows(year=monday().year + 1)["total"] == 0
    actions = [e["action"] for e in RecordService(store).audit(CLI_ADMIN) if e["action"].startswith("voucher")]
    assert sorted(actions) == sorted(["voucher_program", "voucher_issue", "voucher_redeem", "voucher_claim",
                                      "voucher_settle"])


def test_eligibility_budget_and_balance_refusals_change_nothing(region) -> None:
    sharing, vouchers, people, instrument, firm, university = region
    scheme = program(vouchers, people, budget=1_000, sizes=["micro", "small"], enterprise_types=["sme", "high_tech"])
    issue = dict(firm=firm["id"], amount=800, size="small", enterprise_type="sme")
    for changes, field, zh in ((dict(size="large"), "size", "小型"), (dict(enterprise_type="startup"), "enterprise_type", "高新"),
                               (dict(firm=university["id"]), "firm", "企业")):
        with pytest.raises(ZhulianError) as refused:
            vouchers.issue(people["shenzhen"][0], scheme["id"], **{**issue, **changes})
        assert refused.value.status == 400 and refused.value.details[0].field == field
        assert zh in refused.value.details[0].reason_zh
    guangzhou_firm = vouchers.store.create({"type": "organization", "name": {"zh": "广州某企业"}, "kind": "enterprise",
                                            "city": GUANGZHOU})
    with pytest.raises(ZhulianError) as other_city:
        vouchers.issue(people["shenzhen"][0], scheme["id"], **{**issue, "firm": guangzhou_firm["id"]})
    assert "深圳" in other_city.value.details[0].reason_zh
    with pytest.raises(ZhulianError) as not_their_city:
        vouchers.issue(people["guangzhou"][0], scheme["id"], **issue)
    assert _error(not_their_city) == (403, "forbidden")
    voucher = vouchers.issue(people["shenzhen"][0], scheme["id"], **issue)
    with pytest.raises(ZhulianError) as over_budget:
        vouchers.issue(people["shenzhen"][0], scheme["id"], **{**issue, "amount": 300})
    assert _error(over_budget) == (409, "conflict") and "200.0" in over_budget.value.message
    assert vouchers.programs()[0]["issued"] == 800.0
    big = used_booking(sharing, people, instrument, firm, monday(), 9, hours=4)  # 2,400 yuan: 1,200 payable
    with pytest.raises(ZhulianError) as short:
        vouchers.redeem(people["firm"][0], voucher["id"], big["id"], amount=900)
    assert _error(short) == (409, "insufficient") and "800.0" in short.value.message
    assert vouchers.voucher(people["firm"][0], voucher["id"])["balance"] == 800.0
    assert vouchers.voucher(people["firm"][0], voucher["id"])["redemptions"] == []
    with pytest.raises(ZhulianError) as someone_else:
        vouchers.redeem(people["other"][0], voucher["id"], big["id"], amount=1)
    assert someone_else.value.status in (403, 404)
    own = sharing.book(people["firm"][0], instrument["id"], start=at(monday(), 14), end=at(monday(), 15),
                       service="sem-imaging", purpose="表征", organization=firm["id"])
    with pytest.raises(ZhulianError) as unused:
        vouchers.redeem(people["firm"][0], voucher["id"], own["id"], amount=1)
    assert "已完成" in unused.value.details[0].reason_zh


def test_twenty_concurrent_redemptions_against_one_voucher(region, store) -> None:
    """Twenty used bookings of 600 yuan (1 h, enterprise rate) each try to take 200 yuan at once from one voucher
    of 1,000 yuan: five succeed, the rest are refused; the balance is 0 and equals the amount less the sum of
    the redemptions."""
    sharing, vouchers, people, instrument, firm, _university = region
    voucher = vouchers.issue(people["shenzhen"][0], program(vouchers, people)["id"], firm=firm["id"], amount=1_000,
                             size="small", enterprise_type="sme")
    first = monday()
    booked = [used_booking(sharing, people, instrument, firm, first + dt.timedelta(days=n // 8), 9 + n % 8)
              for n in range(20)]
    answers = at_once(lambda n: vouchers.redeem(people["firm"][0], voucher["id"], booked[n]["id"], amount=200),
                      len(booked), lambda error: error.code)
    made = [a for a in answers if isinstance(a, dict)]
    assert len(made) == 5 and [a for a in answers if not isinstance(a, dict)] == ["insufficient"] * 15, answers
    after = vouchers.voucher(people["firm"][0], voucher["id"])
    assert after["balance"] == 0.0
    assert sum(r["amount"] for r in after["redemptions"]) == after["amount"] - after["balance"] == 1_000.0
    assert sorted(r["id"] for r in after["redemptions"]) == sorted(r["id"] for r in made)


def test_yearly_report_counts_the_way_the_assessment_does(region, store) -> None:
    sharing, _vouchers, people, instrument, firm, university = region
    day = monday()
    used_booking(sharing, people, instrument, firm, day, 9, hours=2)  # enterprise, Shenzhen: 1,200
    used_booking(sharing, people, instrument, university, day, 11, hours=1)  # internal, Guangzhou: 200
    unused = sharing.book(people["other"][0], instrument["id"], start=at(day, 14), end=at(day, 15),
                          service="sem-imaging", purpose="表征")
    assert unused["state"] == "requested"  # requested, not used: not counted
    report = yearly_report(store, day.year)
    gz = next(c for c in report["cities"] if c["city"] == GUANGZHOU)
    assert (gz["instruments"], gz["bookings"], gz["hours"], gz["external_hours"]) == (1, 2, 3.0, 2.0)
    assert gz["external_share"] == round(2 / 3, 4) and gz["income"] == 1_400.0
    assert (gz["users_inside"], gz["users_outside"]) == (1, 1)  # one key booked for both organisations
    assert gz["users_by_city"] == {GUANGZHOU: 1, SHENZHEN: 1}
    assert report["hosts"][0]["host"] == "中山大学" and report["instruments"][0]["hours"] == 3.0
    assert report["region"]["income"] == 1_400.0
    assert yearly_report(store, day.year, SHENZHEN)["region"]["hours"] == 0


def test_report_and_flows_on_the_portal_and_in_excel(region, store, tmp_path: Path) -> None:
    sharing, vouchers, people, _instrument, firm, _university = region
    hostile = store.create({"type": "instrument", "name": {"zh": "=HYPERLINK(\"http://x\",\"点我\")"},
                            "host": "+cmd|' /C calc'!A0", "city": GUANGZHOU, "node": GUANGZHOU})
    sharing.set_profile(CLI_ADMIN, hostile["id"], PROFILE)
    day = monday()
    booking = used_booking(sharing, people, hostile, firm, day, 9)
    voucher = vouchers.issue(people["shenzhen"][0], program(vouchers, people)["id"], firm=firm["id"], amount=1_000,
                             size="small", enterprise_type="sme")
    vouchers.redeem(people["firm"][0], voucher["id"], booking["id"])
    workbook = load_workbook(io.BytesIO(report_xlsx(yearly_report(store, day.year))))
    texts = [cell.value for sheet in workbook for row in sheet.iter_rows() for cell in row
             if isinstance(cell.value, str)]
    assert "'=HYPERLINK(\"http://x\",\"点我\")" in texts and "'+cmd|' /C calc'!A0" in texts
    assert not any(text.startswith(("=", "+", "-", "@")) for text in texts)
    assert all(cell.data_type != "f" for sheet in workbook for row in sheet.iter_rows() for cell in row)
    with TestClient(create_app(Settings(data_dir=tmp_path), store=store)) as http:
        page = http.get("/sharing/report", params={"year": day.year})
        assert page.status_code == 200 and "<svg" in page.text and "广州" in page.text and "<script" not in page.text
        assert "&#34;点我&#34;" in page.text or "&quot;点我&quot;" in page.text  # escaped, not markup
        sheet = http.get("/api/v1/sharing/report", params={"year": day.year, "format": "xlsx"})
        assert sheet.status_code == 200 and sheet.headers["content-type"].startswith("application/vnd.openxml")
        assert load_workbook(io.BytesIO(sheet.content)).sheetnames == ["城市 cities", "单位 hosts", "仪器 instruments"]
        flows = http.get("/api/v1/vouchers/flows", params={"year": day.year}).json()
        document = http.get("/openapi.json").json()  # both answers as the API documents them
        answer_validator(document, "get", "/api/v1/vouchers/flows").validate(flows)
        answer_validator(document, "get", "/api/v1/sharing/report").validate(
            http.get("/api/v1/sharing/report", params={"year": day.year}).json())
        codes = [c["key"] for c in flows["cities"]]
        assert flows["matrix"][codes.index(SHENZHEN)][codes.index(GUANGZHOU)] == 300.0
        flows_page = http.get("/sharing/vouchers/flows", params={"year": day.year})
        assert flows_page.status_code == 200 and "<svg" in flows_page.text and ">300<" in flows_page.text
        matrix = load_workbook(io.BytesIO(http.get("/api/v1/vouchers/flows", params={"format": "xlsx"}).content)).active
        rows = {row[0]: row[1:] for row in matrix.iter_rows(min_row=2, values_only=True)}
        assert rows["深圳市"][codes.index(GUANGZHOU)] == 300.0
        assert http.get("/api/v1/sharing/report", params={"year": 1800}).status_code in (400, 422)
        assert http.get("/api/v1/vouchers/flows", params={"format": "pdf"}).status_code in (400, 422)
        issued = http.post("/api/v1/vouchers", json={"program": voucher["program_id"], "firm": firm["id"],
                                                     "amount": 100, "size": "small", "enterprise_type": "sme"},
                           headers={"Authorization": f"Bearer {people['shenzhen'][1]}"})
        assert issued.status_code == 201
        assert http.post("/api/v1/vouchers", json={"program": voucher["program_id"], "firm": firm["id"], "amount": 100,
                                                   "size": "small", "enterprise_type": "sme"}).status_code == 401
