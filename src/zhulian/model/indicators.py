"""The controlled vocabulary of indicator codes (part of the exchange standard: observations and policy targets
name their indicator by one of these codes), and the units values are measured in.

Each indicator has a Chinese and English label, the unit its values are kept in, the other ways policy texts
and statistics name it, and whether more is better (which way a target points)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass


@dataclass(frozen=True)
class Indicator:
    code: str
    zh: str
    en: str
    unit: str
    synonyms: tuple[str, ...] = ()
    higher_is_better: bool = True


INDICATORS: dict[str, Indicator] = {i.code: i for i in (
    Indicator("rd_gdp_ratio", "全社会研发投入占GDP比重", "Gross R&D expenditure as a share of GDP", "%",
              ("全社会研发投入占地区生产总值比重", "研究与试验发展经费支出占地区生产总值比重", "全社会研发经费支出占地区生产总值比重",
               "研发经费投入强度", "R&D/GDP", "R&D spending / GDP")),
    Indicator("rd_expenditure", "全社会研发经费支出", "Gross R&D expenditure", "亿元", ("研发经费支出", "R&D经费支出")),
    Indicator("gdp", "地区生产总值", "Gross domestic product", "亿元", ("GDP",)),
    Indicator("enterprises_with_rd_unit_share", "规模以上工业企业建立研发机构比例",
              "Share of industrial enterprises above designated size with an R&D unit", "%",
              ("规模以上工业企业设立研发机构比例", "有研发机构的规上工业企业占比")),
    Indicator("invention_patents_per_10k", "每万人发明专利拥有量", "Invention patents in force per 10,000 people",
              "件/万人", ("万人发明专利拥有量",)),
    Indicator("inventor_income_share", "成果完成人（团队）收入分配比例",
              "Share of commercialisation income going to the inventors (team)", "%",
              ("成果完成人收入分配比例", "科技成果转化收入中成果完成人分配比例")),
    Indicator("brand_incubators", "具有全国乃至全球影响力的品牌孵化器数量", "Brand incubators with national or global influence",
              "家", ("品牌孵化器数量",)),
    Indicator("high_tech_enterprises", "高新技术企业数量", "High-tech enterprises", "家", ("高新技术企业",)),
    Indicator("technology_contract_turnover", "技术合同成交额", "Technology contract turnover", "亿元"),
    Indicator("sci_fiscal_share", "财政科技投入占一般预算支出比例",
              "Fiscal S&T spending as a share of general budget expenditure", "%",
              ("财政科技支出占一般公共预算支出比重", "财政科技投入占一般预算支出的比例")),
    Indicator("rd_special_fund_share", "科技研发专项资金占当年一般预算支出比例",
              "Dedicated S&T R&D funds as a share of the year's general budget expenditure", "%",
              ("科技研发专项资金占一般预算支出比例", "科技研发专项资金的比例")),
    Indicator("general_budget_expenditure", "一般公共预算支出", "General public budget expenditure", "亿元",
              ("一般预算支出",)),
    Indicator("fiscal_st_expenditure", "财政科技支出", "Fiscal S&T expenditure", "亿元", ("财政科技投入",)),
    Indicator("rd_special_fund", "科技研发专项资金", "Dedicated S&T R&D funds", "亿元"),
    Indicator("producer_services_value_added", "生产性服务业增加值", "Producer-services value added", "亿元"),
    Indicator("producer_services_share_of_services", "生产性服务业增加值占服务业增加值比重",
              "Producer services' share of services value added", "%"),
    Indicator("producer_services_share_of_gdp", "生产性服务业增加值占GDP比重", "Producer services' share of GDP", "%",
              ("生产性服务业增加值占地区生产总值比重",)),
    Indicator("carbon_sink_forest_added", "新增高质量碳汇林面积", "New high-quality carbon-sink forest", "万亩",
              ("未来5年新增高质量碳汇林面积", "新增碳汇林面积")),
    Indicator("ecological_forest_coverage", "生态林覆盖率", "Ecological forest coverage", "%"),
    Indicator("national_wetland_parks", "国家级湿地公园数量", "National-level wetland parks", "个",
              ("每市国家级湿地公园数量",)),
    Indicator("provincial_wetland_parks", "省级湿地公园数量", "Provincial-level wetland parks", "个",
              ("每市省级湿地公园数量",)),
    Indicator("forest_town_share", "认定森林小镇数量占区域内建制镇总数比例",
              "Certified forest towns as a share of all incorporated towns", "%",
              ("森林小镇数量占建制镇总数比例",)),
    Indicator("national_forest_cities", "达到国家森林城市建设标准的城市数量", "Cities meeting the national forest city standard",
              "个", ("达到国家森林城市建设标准的珠三角城市数量", "国家森林城市数量")),
)}

# Units a value may be written in, by family: unit -> (family, factor to the family's base unit).
UNITS: dict[str, tuple[str, float]] = {
    "%": ("percent", 1), "％": ("percent", 1),
    "元": ("money", 1), "万元": ("money", 1e4), "亿元": ("money", 1e8), "万亿元": ("money", 1e12),
    "亩": ("area", 1), "万亩": ("area", 1e4), "公顷": ("area", 15), "平方公里": ("area", 1500),
    "件/万人": ("per_10k", 1),
    "件": ("count", 1), "个": ("count", 1), "家": ("count", 1), "项": ("count", 1), "所": ("count", 1),
    "座": ("count", 1), "人": ("count", 1), "名": ("count", 1), "万人": ("count", 1e4), "万件": ("count", 1e4),
}


def fold(text: str) -> str:
    """Text compared for naming: full-width folded, no spaces or brackets, lower case."""
    return re.sub(r"[\s()（）“”\"'‘’]", "", unicodedata.normalize("NFKC", text)).lower()


_BY_NAME = {fold(name): indicator.code for indicator in INDICATORS.values()
            for name in (indicator.code, indicator.zh, indicator.en, *indicator.synonyms)}


def indicator_code(name: str) -> str | None:
    """The code an indicator is known by, from its code, label or any of its other names; None if unknown."""
    return _BY_NAME.get(fold(name)) if isinstance(name, str) else None


def convert(value: float, unit: str | None, to_unit: str) -> float | None:
    """``value`` in ``unit`` expressed in ``to_unit``; None when the two measure different things."""
    if unit is None or unit == to_unit:
        return value
    source, target = UNITS.get(unit), UNITS.get(to_unit)
    if source is None or target is None or source[0] != target[0]:
        return None
    return value * source[1] / target[1]
