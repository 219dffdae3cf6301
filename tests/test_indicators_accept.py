"""Accepted targets keep the indicator code they were reviewed under (issue 16): progress reads the stored code
instead of re-guessing it from the wording, and a new indicator stays without one."""

from __future__ import annotations

import pytest

from zhulian.access import CLI_ADMIN
from zhulian.indicators.service import IndicatorService
from zhulian.records import RecordService
from zhulian.records.reference import load_region


@pytest.fixture
def service(store) -> IndicatorService:
    load_region(store)
    return IndicatorService(RecordService(store))


def test_accepted_targets_store_their_indicator_code(service, store) -> None:
    text = "到2025年，广州R&D经费支出占GDP比重达到3.4%，数字经济核心产业增加值占地区生产总值比重达到20%。"
    proposals = service.extract(text).as_dict()["proposals"]
    proposals[0]["indicator"] = "研发强度（审核人改写）"  # the reviewer's wording is kept, the code with it
    service.accept(CLI_ADMIN, "ref:pol-gz-nidz-2016", proposals)
    stored = store.get("ref:pol-gz-nidz-2016")["targets"]
    rd = next(t for t in stored if t["value"] == 3.4)
    digital = next(t for t in stored if t["value"] == 20)
    assert (rd["indicator"], rd["indicator_code"]) == ("研发强度（审核人改写）", "rd_gdp_ratio")
    assert "indicator_code" not in digital and digital["indicator"] == "数字经济核心产业增加值占地区生产总值比重"
    progress = {(p.target["value"], p.indicator_code) for p in service.progress(CLI_ADMIN, city="440100")}
    assert (3.4, "rd_gdp_ratio") in progress and (20, None) in progress
