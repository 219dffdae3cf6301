"""The envelope every record shares and the twelve core resource types of the exchange standard (DESIGN §3);
``zhulian.model.core`` declares them, modules declare theirs in ``<module>/types.py``."""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from zhulian.model.common import (
    MAX_LIST, Adcode, Amount, FlexDate, Keywords, LongText, MultiLang, MultiLangText, ShortText, ShortTexts,
    Strict, Text, Url, Year, choice,
)
from zhulian.model.ids import ID_PATTERN
from zhulian.model.indicators import INDICATORS
from zhulian.model.pids import PidError, normalise_pid
from zhulian.model.relations import Relation

Access = choice("access", {"public": ("公开", "public"), "registered": ("注册用户可见", "registered"),
                           "internal": ("内部", "internal")})


class Resource(Strict):
    """The envelope every record shares. ``revision``, timestamps and ``deleted`` are set by the store."""

    id: str | None = Field(None, pattern=ID_PATTERN.pattern, title="编号 id")
    type: str = Field(title="类型 type")
    pids: dict[str, str] = Field(default_factory=dict, max_length=50, title="外部标识 pids")
    aliases: ShortTexts = Field(default_factory=list, title="别名 aliases")
    city: Adcode | None = Field(None, title="城市 city (GB/T 2260)")
    node: Adcode | None = Field(None, title="发布节点 node")
    access: Access = Field("public", title="访问级别 access")
    description: MultiLangText | None = Field(None, title="简介 description")
    keywords: Keywords = Field(default_factory=list, title="关键词 keywords")
    relations: list[Relation] = Field(default_factory=list, max_length=2000, title="关系 relations")
    revision: int | None = Field(None, ge=1, title="版本 revision")
    created: str | None = Field(None, title="创建时间 created")
    updated: str | None = Field(None, title="更新时间 updated")
    deleted: str | None = Field(None, title="删除时间 deleted")

    @field_validator("pids")
    @classmethod
    def _normalise_pids(cls, pids: dict[str, str]) -> dict[str, str]:
        normalised, problems = {}, []
        for scheme, value in pids.items():
            try:
                normalised[scheme] = normalise_pid(scheme, value)
            except PidError as error:
                problems.append((scheme, value, error.reason, error.reason_zh))
        if problems:
            # One error for pydantic; problems_from() splits it into one problem per pids.<scheme>.
            raise PydanticCustomError("pids", "{summary}", {
                "summary": "; ".join(f"{scheme}: {reason}" for scheme, _v, reason, _zh in problems),
                "problems": problems})
        return normalised

    # Which of a type's fields gives its ``year`` (a date or a year); search documents read the same field.
    year_field: ClassVar[str | None] = None

    def label(self) -> str:
        # read from the fields themselves: getattr on a field a type lacks (a paper's name) goes through
        # pydantic's __getattr__ and an exception, which cost an import more per record than its JSON
        names = self.__dict__.get("name") or self.__dict__.get("title")
        return names.best() if names else ""

    def filter_year(self) -> int | None:
        """The year a user means by ``year:`` in a filter: the year of the field ``year_field`` names."""
        return year_of(getattr(self, self.year_field)) if self.year_field else None


def year_of(value: Any) -> int | None:
    """The year of a date (``2016-04``) or of a year; ``None`` when there is none."""
    if value is None:
        return None
    try:
        return int(str(value)[:4])
    except ValueError:
        return None


def _pid_type(scheme: str) -> Any:
    def check(value: str) -> str:
        try:
            return normalise_pid(scheme, value)
        except PidError as error:
            raise PydanticCustomError("pid", "{reason}", {"reason": error.reason,
                                                          "reason_zh": error.reason_zh}) from None

    return Annotated[str, AfterValidator(check)]


def _check_ipc(code: str) -> str:
    if not re.fullmatch(r"[A-H]\d{2}[A-Z](\s?\d{1,4}/\d{1,6})?", code):
        raise PydanticCustomError("ipc", "an IPC code looks like G06F 16/35",
                                  {"reason_zh": "IPC 分类号应形如 G06F 16/35"})
    return code


IpcCode = Annotated[str, AfterValidator(_check_ipc)]


def _mirror_pid(record: Resource, field: str, scheme: str) -> None:
    """A type's own number (a patent's, a standard's) is also its pid; the two must agree."""
    canonical = getattr(record, field)
    if canonical is None:
        return
    given = record.pids.get(scheme)
    if given is not None and given != canonical:
        raise PydanticCustomError("pid_mismatch", "{field} and pids.{scheme} disagree",
                                  {"field": field, "scheme": scheme, "value": canonical,
                                   "reason_zh": f"{field} 与 pids.{scheme} 不一致"})
    record.pids[scheme] = canonical


class Organization(Resource):
    type: Literal["organization"] = "organization"
    name: MultiLang = Field(title="名称 name")
    kind: choice("org_kind", {
        "university": ("高等院校", "university"), "institute": ("科研院所", "research institute"),
        "enterprise": ("企业", "enterprise"), "government": ("政府机构", "government body"),
        "bank": ("金融机构", "financial institution"), "park": ("园区", "park or zone"),
        "association": ("社会组织", "association"), "hospital": ("医疗机构", "hospital"),
        "other": ("其他", "other")}) | None = Field(None, title="机构类型 kind")
    authority: ShortText | None = Field(None, title="主管部门 authority")
    address: ShortText | None = Field(None, title="地址 address")
    website: Url | None = Field(None, title="网站 website")
    founded: FlexDate | None = Field(None, title="成立时间 founded")
    disciplines: ShortTexts = Field(default_factory=list, title="学科领域 disciplines")

    year_field: ClassVar[str] = "founded"


class Person(Resource):
    type: Literal["person"] = "person"
    name: MultiLang = Field(title="姓名 name")
    positions: ShortTexts = Field(default_factory=list, title="职务职称 positions")
    research_fields: ShortTexts = Field(default_factory=list, title="研究领域 research fields")


class Achievement(Resource):
    type: Literal["achievement"] = "achievement"
    title: MultiLang = Field(title="成果名称 title")
    abstract: Text | None = Field(None, title="成果简介 abstract")
    maturity: choice("maturity", {
        "research": ("研发阶段", "research"), "lab": ("小试", "lab-scale"), "pilot": ("中试", "pilot"),
        "small_batch": ("小批量生产", "small batch"), "industrialised": ("产业化", "industrialised")},
    ) | None = Field(None, title="成熟度 maturity")
    transfer_modes: list[choice("transfer_mode", {
        "transfer": ("技术转让", "assignment"), "license": ("技术许可", "licence"),
        "equity": ("作价入股", "equity"), "joint_development": ("合作开发", "joint development"),
        "service": ("技术服务", "technical service"), "other": ("其他", "other")})] = Field(
        default_factory=list, max_length=10, title="转化方式 transfer modes")
    owners: ShortTexts = Field(default_factory=list, title="权属人 owners")
    disciplines: ShortTexts = Field(default_factory=list, title="学科领域 disciplines")
    year_completed: Year | None = Field(None, title="完成年份 year completed")
    price_wan: Amount | None = Field(None, title="意向价格（万元）asking price, 10k CNY")

    year_field: ClassVar[str] = "year_completed"


class Patent(Resource):
    type: Literal["patent"] = "patent"
    title: MultiLang = Field(title="专利名称 title")
    number: _pid_type("patent_no") | None = Field(None, title="专利号 number")
    kind: choice("patent_kind", {"invention": ("发明", "invention"), "utility_model": ("实用新型", "utility model"),
                                 "design": ("外观设计", "design")}) | None = Field(None, title="专利类型 kind")
    ipc: list[IpcCode] = Field(default_factory=list, max_length=MAX_LIST, title="IPC 分类号 IPC codes")
    applicants: ShortTexts = Field(default_factory=list, title="申请人 applicants")
    inventors: ShortTexts = Field(default_factory=list, title="发明人 inventors")
    application_date: FlexDate | None = Field(None, title="申请日 application date")
    publication_date: FlexDate | None = Field(None, title="公开日 publication date")
    grant_date: FlexDate | None = Field(None, title="授权日 grant date")
    legal_status: choice("legal_status", {
        "pending": ("审查中", "pending"), "granted": ("有效", "in force"), "lapsed": ("失效", "lapsed"),
        "withdrawn": ("撤回", "withdrawn"), "rejected": ("驳回", "rejected"),
        "invalidated": ("无效", "invalidated")}) | None = Field(None, title="法律状态 legal status")
    abstract: Text | None = Field(None, title="摘要 abstract")
    claims: LongText | None = Field(None, title="权利要求 claims")

    @model_validator(mode="after")
    def _mirror(self) -> Patent:
        _mirror_pid(self, "number", "patent_no")
        return self

    year_field: ClassVar[str] = "application_date"


class Paper(Resource):
    type: Literal["paper"] = "paper"
    title: MultiLang = Field(title="论文题名 title")
    authors: ShortTexts = Field(default_factory=list, title="作者 authors")
    abstract: Text | None = Field(None, title="摘要 abstract")
    venue: ShortText | None = Field(None, title="期刊/会议 venue")
    year_published: Year | None = Field(None, title="发表年份 year")
    disciplines: ShortTexts = Field(default_factory=list, title="学科 disciplines")
    category: ShortText | None = Field(None, title="门类 category")
    language: choice("language", {"zh": ("中文", "Chinese"), "en": ("英文", "English"),
                                  "other": ("其他", "other")}) | None = Field(None, title="语种 language")

    year_field: ClassVar[str] = "year_published"


class Standard(Resource):
    type: Literal["standard"] = "standard"
    title: MultiLang = Field(title="标准名称 title")
    std_no: _pid_type("std_no") | None = Field(None, title="标准号 standard number")
    level: choice("std_level", {
        "national": ("国家标准", "national"), "industry": ("行业标准", "industry"), "local": ("地方标准", "local"),
        "group": ("团体标准", "association"), "enterprise": ("企业标准", "enterprise")}) | None = Field(
        None, title="标准层级 level")
    status: choice("std_status", {"current": ("现行", "current"), "upcoming": ("即将实施", "upcoming"),
                                  "abolished": ("废止", "abolished")}) | None = Field(None, title="状态 status")
    issuer: ShortText | None = Field(None, title="发布机构 issuer")
    issued: FlexDate | None = Field(None, title="发布日期 issued")
    effective: FlexDate | None = Field(None, title="实施日期 effective")
    ics: ShortTexts = Field(default_factory=list, title="ICS 分类 ICS")
    ccs: ShortText | None = Field(None, title="中国标准分类 CCS")
    drafters: ShortTexts = Field(default_factory=list, title="起草单位 drafters")

    @model_validator(mode="after")
    def _mirror(self) -> Standard:
        _mirror_pid(self, "std_no", "std_no")
        return self

    year_field: ClassVar[str] = "issued"


class Project(Resource):
    type: Literal["project"] = "project"
    title: MultiLang = Field(title="项目名称 title")
    programme: ShortText | None = Field(None, title="计划类别 programme")
    funder: ShortText | None = Field(None, title="资助机构 funder")
    leader: ShortText | None = Field(None, title="负责人 leader")
    undertaker: ShortText | None = Field(None, title="承担单位 undertaker")
    budget_wan: Amount | None = Field(None, title="经费（万元）budget, 10k CNY")
    start: FlexDate | None = Field(None, title="开始 start")
    end: FlexDate | None = Field(None, title="结束 end")
    status: choice("project_status", {
        "proposed": ("申报中", "proposed"), "ongoing": ("在研", "ongoing"), "completed": ("已结题", "completed"),
        "terminated": ("已终止", "terminated")}) | None = Field(None, title="状态 status")
    abstract: Text | None = Field(None, title="摘要 abstract")

    year_field: ClassVar[str] = "start"


class Platform(Resource):
    type: Literal["platform"] = "platform"
    name: MultiLang = Field(title="平台名称 name")
    kind: choice("platform_kind", {
        "key_lab": ("重点实验室", "key laboratory"),
        "engineering_center": ("工程技术研究中心", "engineering research centre"),
        "new_rd_institution": ("新型研发机构", "new R&D institution"),
        "incubator": ("孵化器", "incubator"),
        "collaborative_innovation_center": ("协同创新中心", "collaborative innovation centre"),
        "alliance": ("产业技术创新联盟", "innovation alliance"),
        "tech_service_platform": ("科技服务平台", "S&T service platform"),
        "industrial_park": ("产业园区", "industrial park"),
        "other": ("其他", "other")}) | None = Field(None, title="平台类型 kind")
    level: choice("level", {"national": ("国家级", "national"), "provincial": ("省级", "provincial"),
                            "municipal": ("市级", "municipal"), "district": ("区县级", "district")}) | None = Field(
        None, title="级别 level")
    research_directions: ShortTexts = Field(default_factory=list, title="研究方向 research directions")
    disciplines: ShortTexts = Field(default_factory=list, title="学科领域 disciplines")
    established: FlexDate | None = Field(None, title="成立时间 established")
    website: Url | None = Field(None, title="网站 website")
    address: ShortText | None = Field(None, title="地址 address")

    year_field: ClassVar[str] = "established"


class Booking(Strict):
    open: bool = Field(True, title="是否对外开放 open to outside users")
    terms: Text | None = Field(None, title="预约条件 terms")
    fee: ShortText | None = Field(None, title="收费标准 fee")
    contact: ShortText | None = Field(None, title="联系方式 contact")
    url: Url | None = Field(None, title="预约网址 booking page")


class Instrument(Resource):
    type: Literal["instrument"] = "instrument"
    name: MultiLang = Field(title="仪器名称 name")
    model: ShortText | None = Field(None, title="型号 model")
    manufacturer: ShortText | None = Field(None, title="生产厂商 manufacturer")
    origin_country: ShortText | None = Field(None, title="产地 country of origin")
    category: ShortText | None = Field(None, title="仪器类别 category")
    host: ShortText | None = Field(None, title="所属单位 host")
    value_wan: Amount | None = Field(None, title="原值（万元）value, 10k CNY")
    purchased: FlexDate | None = Field(None, title="购置日期 purchased")
    address: ShortText | None = Field(None, title="放置地点 location")
    specs: Text | None = Field(None, title="主要技术指标 specifications")
    booking: Booking | None = Field(None, title="共享预约 booking")

    year_field: ClassVar[str] = "purchased"


COMPARATORS = {">=": ("不低于", "at least"), ">": ("超过", "more than"), "=": ("达到", "equal to"),
               "<=": ("不高于", "at most"), "<": ("低于", "less than"), "≈": ("左右", "about"),
               "between": ("介于", "between")}


class Target(Strict):
    """A numeric target a policy sets: e.g. R&D spending / GDP ≥ 3.0 % in Guangzhou by 2020."""

    indicator: ShortText = Field(title="指标 indicator")
    indicator_en: ShortText | None = Field(None, title="指标（英文）indicator in English")
    indicator_code: choice("indicator", {code: (i.zh, i.en) for code, i in INDICATORS.items()}) | None = Field(
        None, title="指标代码 indicator code (stored once a reviewer accepts the target)")
    comparator: choice("comparator", COMPARATORS) = Field(title="比较 comparator")
    value: float = Field(ge=-1e15, le=1e15, allow_inf_nan=False, title="目标值 value")
    value_max: float | None = Field(None, ge=-1e15, le=1e15, allow_inf_nan=False, title="目标上限 upper value (between)")
    unit: ShortText | None = Field(None, max_length=20, title="单位 unit")
    year: Year | None = Field(None, title="目标年份 year")
    region: Adcode | None = Field(None, title="地区 region")
    clause: Text | None = Field(None, title="原文条款 clause")
    aspirational: bool = Field(False, title="力争（非约束）aspirational")

    @model_validator(mode="before")
    @classmethod
    def _value_with_unit(cls, data: Any) -> Any:
        """``"70%"``, ``"6800亿元"``, ``"25件"``: the number becomes the value and the unit is kept."""
        if isinstance(data, dict) and isinstance(data.get("value"), str):
            match = re.fullmatch(r"\s*(-?\d+(?:\.\d+)?)\s*([^\d\s].{0,19}?)?\s*",
                                 unicodedata.normalize("NFKC", data["value"]).replace(",", ""))
            if match:
                data = {**data, "value": float(match[1])}
                if match[2] and not data.get("unit"):
                    data["unit"] = match[2]
        return data

    @model_validator(mode="after")
    def _range(self) -> Target:
        if (self.comparator == "between") != (self.value_max is not None):
            raise PydanticCustomError("target_range", "value_max is given exactly when the comparator is between",
                                      {"reason_zh": "仅当比较方式为 between（介于）时填写 value_max"})
        if self.value_max is not None and self.value_max < self.value:
            raise PydanticCustomError("target_range", "value_max must not be below value",
                                      {"reason_zh": "value_max 不能小于 value"})
        return self


class Policy(Resource):
    type: Literal["policy"] = "policy"
    title: MultiLang = Field(title="政策名称 title")
    issuer: ShortText | None = Field(None, title="发布机构 issuer")
    issued: FlexDate | None = Field(None, title="发布日期 issued")
    doc_number: ShortText | None = Field(None, title="文号 document number")
    regions: list[Adcode] = Field(default_factory=list, max_length=MAX_LIST, title="适用地区 regions")
    status: choice("policy_status", {"draft": ("草案/征求意见", "draft"), "in_force": ("现行有效", "in force"),
                                     "expired": ("已失效", "expired")}) | None = Field(None, title="状态 status")
    period_start: Year | None = Field(None, title="起始年份 period start")
    period_end: Year | None = Field(None, title="截止年份 period end")
    url: Url | None = Field(None, title="原文链接 source")
    targets: list[Target] = Field(default_factory=list, max_length=MAX_LIST, title="量化目标 targets")

    @model_validator(mode="after")
    def _period(self) -> Policy:
        if self.period_start and self.period_end and self.period_end < self.period_start:
            raise PydanticCustomError("period", "period_end is before period_start",
                                      {"reason_zh": "截止年份早于起始年份"})
        return self

    year_field: ClassVar[str] = "issued"


class Demand(Resource):
    type: Literal["demand"] = "demand"
    title: MultiLang = Field(title="需求名称 title")
    kind: choice("demand_kind", {
        "technology": ("技术难题", "technical problem"), "talent": ("人才", "talent"),
        "equipment": ("仪器设备", "equipment"), "finance": ("科技金融", "finance"),
        "cooperation": ("合作研发", "joint R&D")}) | None = Field(None, title="需求类型 kind")
    demander: ShortText | None = Field(None, title="需求方 demander")
    disciplines: ShortTexts = Field(default_factory=list, title="技术领域 disciplines")
    budget_wan: Amount | None = Field(None, title="预算（万元）budget, 10k CNY")
    deadline: FlexDate | None = Field(None, title="截止日期 deadline")
    status: choice("demand_status", {"open": ("征集中", "open"), "matched": ("已对接", "matched"),
                                     "closed": ("已关闭", "closed")}) | None = Field(None, title="状态 status")

    year_field: ClassVar[str] = "deadline"


class News(Resource):
    type: Literal["news"] = "news"
    title: MultiLang = Field(title="标题 title")
    published: FlexDate | None = Field(None, title="发布日期 published")
    source: ShortText | None = Field(None, title="来源 source")
    url: Url | None = Field(None, title="原文链接 url")
    body: LongText | None = Field(None, title="正文 body")

    year_field: ClassVar[str] = "published"
