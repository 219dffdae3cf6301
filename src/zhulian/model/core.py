"""The twelve core record types, declared the way a module declares its own (``zhulian.model.RecordType``)."""

from __future__ import annotations

from typing import Any

from zhulian.model.registry import FieldSpec, RecordType, SearchSpec, filter_field
from zhulian.model.types import (
    Achievement, Demand, Instrument, News, Organization, Paper, Patent, Person, Platform, Policy, Project, Resource,
    Standard,
)

# The core types' search tiers: a type is searched by those of these fields it has.
_NAMES = ("name", "title")
_KEYWORDS = ("keywords", "disciplines", "research_fields", "research_directions", "category", "ipc")
_BODY = ("abstract", "description", "body", "specs",
         # other short texts a user may type: people, organisations, numbers, venues
         "authors", "inventors", "applicants", "owners", "issuer", "funder", "undertaker", "leader", "demander",
         "host", "manufacturer", "model", "venue", "positions", "address", "doc_number", "std_no", "number",
         "programme", "drafters", "source", "authority")


def _search(model: type[Resource], *, pinyin: bool = False) -> SearchSpec:
    """Short proper names (organisations, people, platforms, instruments) are typed in pinyin; titles are not."""
    def present(fields: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(f for f in fields if f in model.model_fields)

    return SearchSpec(names=present(_NAMES), keywords=present(_KEYWORDS), body=present(_BODY), pinyin=pinyin)


def _ipc_classes(codes: Any) -> list[str]:
    return sorted({code[:4] for code in codes or []})


def _bookable(booking: dict[str, Any] | None) -> list[str]:
    return [str(bool(booking and booking.get("open", True))).lower()]


def _target_indicators(targets: Any) -> list[str]:
    return sorted({t["indicator"] for t in targets or [] if t.get("indicator")})


# Keywords are found through search (DESIGN's search part), not list filters: indexing each keyword of
# every record as a row would cost the store more than everything else it writes for that record.
CORE_TYPES = (
    RecordType(
        "organization", "org", "orgs", "机构", "organisation", Organization,
        (filter_field("kind", "keyword", "机构类型", "kind", "org_kind"),
         filter_field("authority", "keyword", "主管部门", "authority"),
         filter_field("disciplines", "keyword", "学科领域", "discipline")),
        _search(Organization, pinyin=True),
        {"name.zh": "中山大学", "name.en": "Sun Yat-sen University", "pids.moe": "4144010558",
         "kind": "university", "authority": "教育部", "address": "广州市海珠区新港西路135号",
         "website": "https://www.sysu.edu.cn", "founded": "1924", "disciplines": "医学;化学;数学",
         "city": "440100", "keywords": "综合性大学;双一流"},
        pid_schemes=("uscc", "moe")),
    RecordType(
        "person", "per", "people", "专家", "person", Person,
        (filter_field("research_fields", "keyword", "研究领域", "research field"),),
        _search(Person, pinyin=True),
        {"name.zh": "张三", "name.en": "Zhang San", "pids.orcid": "0000-0002-1825-0097",
         "positions": "教授;博士生导师", "research_fields": "人工智能;机器学习", "city": "440300",
         "affiliated_with": "moe:4144010558[教授, from=2015]"},
        pid_schemes=("orcid",)),
    RecordType(
        "achievement", "ach", "achievements", "科技成果", "achievement", Achievement,
        (filter_field("maturity", "keyword", "成熟度", "maturity", "maturity"),
         filter_field("transfer_modes", "keyword", "转化方式", "transfer mode", "transfer_mode"),
         filter_field("disciplines", "keyword", "学科领域", "discipline")),
        _search(Achievement),
        {"title.zh": "一种高效锂电池正极材料的制备方法", "abstract": "本成果提供一种……",
         "maturity": "中试", "transfer_modes": "技术许可;技术转让", "owners": "中山大学",
         "disciplines": "材料科学", "year_completed": "2022", "price_wan": "120万元", "city": "440100",
         "owner_of.subject": "moe:4144010558"},
        pid_schemes=("cstr",)),
    RecordType(
        "patent", "pat", "patents", "专利", "patent", Patent,
        (filter_field("kind", "keyword", "专利类型", "kind", "patent_kind"),
         filter_field("legal_status", "keyword", "法律状态", "legal status", "legal_status"),
         filter_field("ipc", "keyword", "IPC 分类号", "IPC code"),
         FieldSpec("ipc_class", "keyword", "IPC 小类", "IPC subclass", lambda r: _ipc_classes(r.ipc),
                   json_values=lambda record: _ipc_classes(record.get("ipc"))),
         filter_field("applicants", "keyword", "申请人", "applicant"),
         filter_field("application_date", "date", "申请日", "application date")),
        _search(Patent),
        {"title.zh": "一种基于深度学习的图像识别方法", "number": "CN202010123456.2", "kind": "发明",
         "ipc": "G06F 16/35;G06N 3/08", "applicants": "中山大学", "inventors": "张三;李四",
         "application_date": "2020年2月18日", "legal_status": "有效", "abstract": "本发明公开了一种……",
         "city": "440100", "applicant_of.subject": "moe:4144010558"}),
    RecordType(
        "paper", "pap", "papers", "论文", "paper", Paper,
        (filter_field("disciplines", "keyword", "学科", "discipline"),
         filter_field("category", "keyword", "门类", "category"),
         filter_field("venue", "keyword", "期刊/会议", "venue"),
         filter_field("language", "keyword", "语种", "language", "language")),
        _search(Paper),
        {"title.zh": "粤港澳大湾区科技协同创新网络研究", "pids.doi": "10.1000/example.2021.001",
         "authors": "张三;李四", "venue": "科技管理研究", "year_published": "2021",
         "disciplines": "管理科学与工程", "category": "管理学", "language": "zh",
         "keywords": "协同创新;粤港澳大湾区"},
        pid_schemes=("doi",)),
    RecordType(
        "standard", "std", "standards", "标准", "standard", Standard,
        (filter_field("level", "keyword", "标准层级", "level", "std_level"),
         filter_field("status", "keyword", "状态", "status", "std_status"),
         filter_field("issuer", "keyword", "发布机构", "issuer"),
         filter_field("issued", "date", "发布日期", "issued")),
        _search(Standard),
        {"title.zh": "中华人民共和国行政区划代码", "std_no": "GB/T 2260-2007", "level": "国家标准",
         "status": "现行", "issuer": "国家标准化管理委员会", "issued": "2007-11-14", "effective": "2008-02-01",
         "ics": "01.140.20", "ccs": "A10"}),
    RecordType(
        "project", "prj", "projects", "项目", "project", Project,
        (filter_field("status", "keyword", "状态", "status", "project_status"),
         filter_field("programme", "keyword", "计划类别", "programme"),
         filter_field("funder", "keyword", "资助机构", "funder"),
         filter_field("budget_wan", "number", "经费（万元）", "budget (10k CNY)")),
        _search(Project),
        {"title.zh": "珠三角智能制造关键技术协同攻关", "programme": "广东省重点领域研发计划",
         "funder": "广东省科学技术厅", "leader": "张三", "undertaker": "中山大学", "budget_wan": "500",
         "start": "2021-01", "end": "2023-12", "status": "在研", "city": "440100",
         "lead_unit": "moe:4144010558[牵头单位]"}),
    RecordType(
        "platform", "plt", "platforms", "创新平台", "platform", Platform,
        (filter_field("kind", "keyword", "平台类型", "kind", "platform_kind"),
         filter_field("level", "keyword", "级别", "level", "level"),
         filter_field("disciplines", "keyword", "学科领域", "discipline")),
        _search(Platform, pinyin=True),
        {"name.zh": "广东省智能制造协同创新中心", "kind": "协同创新中心", "level": "省级",
         "research_directions": "工业机器人;智能装备", "established": "2016.4", "city": "440600",
         "lead_unit": "moe:4144010558[牵头单位]", "partner_unit": "moe:4144011845[协同单位, rank=1]"},
        pid_schemes=("cstr",)),
    RecordType(
        "instrument", "ins", "instruments", "仪器设备", "instrument", Instrument,
        (filter_field("category", "keyword", "仪器类别", "category"),
         filter_field("value_wan", "number", "原值（万元）", "value (10k CNY)"),
         FieldSpec("bookable", "keyword", "可预约", "bookable",
                   lambda r: (str(bool(r.booking and r.booking.open)).lower(),),
                   json_values=lambda record: _bookable(record.get("booking")))),
        _search(Instrument, pinyin=True),
        {"name.zh": "场发射扫描电子显微镜", "model": "SU8010", "manufacturer": "日立",
         "origin_country": "日本", "category": "电子光学仪器", "host": "中山大学", "value_wan": "350",
         "purchased": "2015-06", "booking.open": "是", "booking.fee": "300元/小时",
         "booking.contact": "020-84110000", "city": "440100", "hosts.subject": "moe:4144010558"},
        pid_schemes=("cstr",)),
    RecordType(
        "policy", "pol", "policies", "政策", "policy", Policy,
        (filter_field("status", "keyword", "状态", "status", "policy_status"),
         filter_field("issuer", "keyword", "发布机构", "issuer"),
         filter_field("regions", "keyword", "适用地区", "region"),
         FieldSpec("indicator", "keyword", "目标指标", "target indicator",
                   lambda r: {t.indicator for t in r.targets},
                   json_values=lambda record: _target_indicators(record.get("targets")))),
        _search(Policy),
        {"title.zh": "广州市科技创新第十三个五年规划（2016—2020年）", "issuer": "广州市人民政府",
         "issued": "2016-12", "regions": "440100", "status": "已失效", "period_start": "2016",
         "period_end": "2020", "targets.0.indicator": "全社会研发经费支出占地区生产总值比重",
         "targets.0.comparator": ">=", "targets.0.value": "3%", "targets.0.year": "2020",
         "targets.0.region": "440100", "city": "440100"}),
    RecordType(
        "demand", "dem", "demands", "企业需求", "demand", Demand,
        (filter_field("kind", "keyword", "需求类型", "kind", "demand_kind"),
         filter_field("status", "keyword", "状态", "status", "demand_status"),
         filter_field("disciplines", "keyword", "技术领域", "discipline")),
        _search(Demand),
        {"title.zh": "高精度伺服电机控制算法合作开发", "kind": "技术难题", "demander": "东莞某智能装备有限公司",
         "disciplines": "自动化", "budget_wan": "80", "deadline": "2025-12-31", "status": "征集中",
         "city": "441900"}),
    RecordType(
        "news", "new", "news", "资讯", "news", News,
        (filter_field("source", "keyword", "来源", "source"),
         filter_field("published", "date", "发布日期", "published")),
        _search(News),
        {"title.zh": "粤港澳大湾区科技创新合作取得新进展", "published": "2024-03-01", "source": "广东省科学技术厅",
         "url": "https://example.org/news/1", "body": "近日……", "city": "440100"}),
)
