"""The indicators service: targets proposed from policy text and accepted into a policy by a reviewer, and the
progress of every target against the observations the principal may read. The CLI, the API and the pages
are thin over it; writes go through the record service (permission checked, audited)."""

from __future__ import annotations

import io
from typing import Any

from pydantic import ValidationError

from zhulian.access import Principal, check_write, visibility
from zhulian.errors import Problem, ZhulianError, invalid
from zhulian.indicators.extract import MAX_TEXT_CHARS, Extraction, extract_targets, match_indicator
from zhulian.indicators.progress import DERIVED, TargetProgress, assess, series_of, summed_series, target_value
from zhulian.model import record_label
from zhulian.model.indicators import INDICATORS
from zhulian.model.registry import problems_from
from zhulian.model.types import Target
from zhulian.records import RecordService
from zhulian.region.adcodes import adcode_name

TABLE_COLUMNS = (
    ("policy_title", "政策", "policy"), ("indicator", "指标", "indicator"), ("indicator_code", "指标代码", "code"),
    ("region", "地区代码", "region"), ("region_name", "地区", "region name"), ("comparator", "比较", "comparator"),
    ("value", "目标值", "target"), ("unit", "单位", "unit"), ("deadline", "目标年份", "deadline"),
    ("latest_year", "最新年份", "latest year"), ("latest_value", "最新值", "latest value"), ("gap", "差距", "gap"),
    ("projected", "趋势预测", "projected"), ("status_zh", "状态", "status"), ("status", "状态代码", "status code"),
)
SERIES_COLUMNS = (("indicator_code", "指标代码", "code"), ("region", "地区代码", "region"),
                  ("region_name", "地区", "region name"), ("year", "年份", "year"), ("value", "数值", "value"),
                  ("unit", "单位", "unit"), ("derived", "由分项计算", "computed from parts"))
TABLE_FORMATS = ("csv", "xlsx", "json")


class IndicatorService:
    def __init__(self, records: RecordService) -> None:
        self.records = records
        self.store = records.store

    # -- proposals from text ---------------------------------------------------------------------

    def extract(self, text: Any, *, region: str | None = None, base_year: int | None = None) -> Extraction:
        if not isinstance(text, str) or not text.strip():
            raise invalid([Problem("text", None, "give the policy text to read", "请提供政策文本")])
        if len(text) > MAX_TEXT_CHARS:
            raise ZhulianError("too_large", f"A policy text is read up to {MAX_TEXT_CHARS:,} characters.",
                               f"政策文本最多 {MAX_TEXT_CHARS:,} 个字符。", 413)
        return extract_targets(text, region=region, base_year=base_year)

    def accept(self, principal: Principal, policy_ref: str, proposals: Any) -> dict[str, Any]:
        """Reviewed proposals become targets of the policy: each is validated as a target, none may contradict
        another or one the policy already has, and targets it already has are not added twice."""
        policy = self.records.get(principal, policy_ref)
        if policy["type"] != "policy":
            raise ZhulianError("not_a_policy", f"{policy_ref} is a {policy['type']}, not a policy.",
                               f"{policy_ref} 是{policy['type']}，不是政策。", 400)
        check_write(principal, policy.get("node"), policy["id"])  # before reading what they may not write
        items = proposals.get("proposals") if isinstance(proposals, dict) else proposals
        if not isinstance(items, list) or not items:
            raise invalid([Problem("proposals", None, "give a non-empty list of proposals",
                                   "请提供至少一条待确认的目标")])
        regions = policy.get("regions") or []
        new = [self._as_target(index, item, regions[0] if len(regions) == 1 else None)
               for index, item in enumerate(items)]
        existing = policy.get("targets") or []
        _refuse_contradictions(existing, new)
        added = [t for t in _unique_targets(new) if t not in existing]
        if not added:
            return {"policy": policy["id"], "added": 0, "targets": existing}
        record = self.records.patch(principal, policy["id"], {"targets": existing + added},
                                    expected_revision=policy["revision"], origin="indicators.accept")
        return {"policy": record["id"], "revision": record["revision"], "added": len(added),
                "targets": record["targets"]}

    @staticmethod
    def _as_target(index: int, item: Any, default_region: str | None) -> dict[str, Any]:
        if not isinstance(item, dict):
            raise invalid([Problem(f"proposals.{index}", None, "a proposal is a JSON object", "每条目标应为 JSON 对象")])
        unit = item.get("unit") if isinstance(item.get("unit"), str) else None
        code = item.get("indicator_code") or match_indicator(str(item.get("indicator") or ""), unit)
        known = INDICATORS.get(code or "")
        data = {key: item[key] for key in Target.model_fields if item.get(key) not in (None, "")}
        if known:  # the reviewer's wording is kept; the vocabulary fills in what was left out
            data["indicator_code"] = code  # stored, so progress never re-guesses it from the wording
            data.setdefault("indicator", known.zh)
            data.setdefault("indicator_en", known.en)
        if default_region:
            data.setdefault("region", default_region)
        try:
            return Target.model_validate(data).model_dump(mode="json", exclude_none=True)
        except ValidationError as error:
            raise invalid([Problem(f"proposals.{index}.{p.field}", p.value, p.reason, p.reason_zh)
                           for p in problems_from(error)]) from None

    # -- progress --------------------------------------------------------------------------------

    def progress(self, principal: Principal, *, city: str | None = None,
                 indicator: str | None = None) -> list[TargetProgress]:
        """Every target of every policy the principal may read, with its progress; ``city`` and ``indicator``
        narrow the list to one region or one indicator code."""
        visible = visibility(principal)
        observations = list(self.store.iterate("observation", f"region:{city}" if city else None, visible=visible))
        found = []
        for policy in self.store.iterate("policy", visible=visible):
            regions = policy.get("regions") or []
            for index, target in enumerate(policy.get("targets") or []):
                code = target.get("indicator_code") or match_indicator(target["indicator"], target.get("unit"))
                region = target.get("region") or (regions[0] if len(regions) == 1 else None)
                if (city and region != city) or (indicator and code != indicator):
                    continue
                item = TargetProgress(policy["id"], record_label(policy), index, target, code, region,
                                      target.get("year") or policy.get("period_end"))
                if code and region:
                    item.series = series_of(observations, code, region)
                elif code and len(regions) > 1:
                    item.regions = list(regions)
                    item.series = summed_series(observations, code, regions)
                found.append(assess(item))
        return found

    def series(self, principal: Principal, code: str, regions: list[str] | None = None) -> dict[str, list[Any]]:
        """The yearly values of one indicator, per region (every region observed when none are named)."""
        if code not in INDICATORS:
            raise unknown_indicator(code)
        parts = {code, *DERIVED.get(code, ())}
        observations = list(self.store.iterate("observation", "indicator:" + "|".join(sorted(parts)),
                                               visible=visibility(principal)))
        regions = regions or sorted({o["region"] for o in observations})
        return {region: series_of(observations, code, region) for region in regions}

    # -- tables ----------------------------------------------------------------------------------

    @staticmethod
    def progress_rows(items: list[TargetProgress]) -> list[dict[str, Any]]:
        rows = []
        for item in items:
            row = item.as_dict()
            row["region_name"] = adcode_name(row["region"]) if row["region"] else _together(row["regions"])
            row["status_zh"] = row["status_display"]["zh"]
            rows.append(row)
        return rows

    @staticmethod
    def series_rows(code: str, series: dict[str, list[Any]]) -> list[dict[str, Any]]:
        return [{"indicator_code": code, "region": region, "region_name": adcode_name(region), "year": p.year,
                 "value": round(p.value, 4), "unit": INDICATORS[code].unit, "derived": p.derived}
                for region, points in series.items() for p in points]


def _together(regions: list[str]) -> str | None:
    """How a target of several regions together is named: 广州市等9地合计 (sum of 9 regions)."""
    if not regions:
        return None
    return f"{adcode_name(regions[0]) or regions[0]}等{len(regions)}地合计 (sum of {len(regions)} regions)"


def unknown_indicator(code: str) -> ZhulianError:
    return ZhulianError("unknown_indicator", f"No indicator {code!r}; `zhulian indicators list` shows the codes.",
                        f"没有指标 {code!r}；`zhulian indicators list` 列出全部指标代码。", 404)


def write_table(rows: list[dict[str, Any]], columns: tuple[tuple[str, str, str], ...], fmt: str) -> bytes:
    """Rows as CSV (UTF-8 with BOM, opens in Excel), XLSX or JSON, with bilingual headers."""
    import json

    from zhulian.exchange.formats import TableWriter

    if fmt == "json":
        return json.dumps(rows, ensure_ascii=False, indent=2).encode()
    if fmt not in TABLE_FORMATS:
        raise ZhulianError("unknown_format", f"Tables are written as {', '.join(TABLE_FORMATS)}, not {fmt!r}.",
                           f"表格可导出为 {'、'.join(TABLE_FORMATS)}，不支持 {fmt!r}。", 400)
    buffer = io.BytesIO()
    writer = TableWriter(buffer, fmt, sheet="indicators")
    writer.header([f"{zh} ({key})" for key, zh, _en in columns])
    for row in rows:
        writer.row([row.get(key) for key, _zh, _en in columns])
    writer.close()
    return buffer.getvalue()


def _unique_targets(targets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    unique: list[dict[str, Any]] = []
    for target in targets:
        if target not in unique:
            unique.append(target)
    return unique


def _target_key(target: dict[str, Any]) -> tuple[Any, ...]:
    code = target.get("indicator_code") or match_indicator(target["indicator"], target.get("unit"))
    return (code or target["indicator"], target.get("region"), target.get("year"))


def _refuse_contradictions(existing: list[dict[str, Any]], new: list[dict[str, Any]]) -> None:
    """Two targets for the same indicator, region and year with different values cannot both hold."""
    seen: dict[tuple[Any, ...], dict[str, Any]] = {}
    problems = []
    for index, target in enumerate([*existing, *new]):
        key = _target_key(target)
        wanted = (target["comparator"], target["value"], target.get("value_max"))
        other = seen.setdefault(key, target)
        if (other["comparator"], other["value"], other.get("value_max")) != wanted:
            where = "proposals" if index >= len(existing) else "targets"
            problems.append(Problem(
                f"{where}.{index - len(existing) if where == 'proposals' else index}", target["indicator"],
                f"contradicts {other['comparator']} {other['value']:g} for the same indicator, region and year",
                f"与同一指标、地区、年份的目标 {other['comparator']} {other['value']:g} 相矛盾"))
    if problems:
        raise ZhulianError("contradictory_targets", "Some targets contradict each other; keep one of each pair.",
                           "部分目标相互矛盾，请每组只保留一个。", 409, problems)



def progress_chart(item: TargetProgress, *, lang: str = "zh") -> str:
    """The SVG chart of one target: its region's series, the target as a dashed line, the deadline marked."""
    from zhulian.indicators.charts import Line, line_chart

    indicator = INDICATORS[item.indicator_code]
    value = target_value(item.target, item.indicator_code)
    label = f"{'目标' if lang == 'zh' else 'target'} {item.target['comparator']} {value:g}" if value is not None else ""
    return line_chart(indicator.zh if lang == "zh" else indicator.en, indicator.unit,
                      [Line(_place(item.region, lang), [(p.year, p.value) for p in item.series])],
                      target=value, target_label=label, deadline=item.deadline)


def indicator_chart(service: IndicatorService, principal: Principal, code: str, regions: list[str] | None = None,
                    *, lang: str = "zh") -> str:
    """The SVG chart of one indicator: with one region that has a target, that target's chart; otherwise a
    line per region."""
    from zhulian.indicators.charts import Line, line_chart

    if code not in INDICATORS:
        raise unknown_indicator(code)
    if regions and len(regions) == 1:
        targets = service.progress(principal, city=regions[0], indicator=code)
        if targets:
            return progress_chart(targets[0], lang=lang)
    indicator = INDICATORS[code]
    lines = [Line(_place(region, lang), [(p.year, p.value) for p in points])
             for region, points in service.series(principal, code, regions).items() if points]
    return line_chart(indicator.zh if lang == "zh" else indicator.en, indicator.unit, lines)


def _place(adcode: str | None, lang: str) -> str:
    from zhulian.region.cities import CITIES

    if lang != "zh":
        return next((city.en for city in CITIES if city.adcode == adcode), adcode or "")
    return (adcode_name(adcode) or adcode) if adcode else ""
