"""``zhulian policy extract|accept`` and ``zhulian indicators list|status|export|chart``: thin over the
indicators service."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from zhulian.access import CLI_ADMIN
from zhulian.console import JsonFlag, bilingual_errors, err, new_table, open_store, out, print_json
from zhulian.errors import Problem, ZhulianError, invalid
from zhulian.model.indicators import INDICATORS
from zhulian.model.types import COMPARATORS

RegionOption = Annotated[str | None, typer.Option("--region", help="默认地区代码 default region adcode, e.g. 440100")]


def _service() -> Any:
    from zhulian.indicators.service import IndicatorService
    from zhulian.records import RecordService

    return IndicatorService(RecordService(open_store()))


def _read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ZhulianError("file_unreadable", f"Cannot read {path}: {error.strerror}.",
                           f"无法读取 {path}：{error.strerror}。", 400) from None
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise invalid([Problem("file", str(path), "the file is neither UTF-8 nor GB18030 text",
                           "文件既不是 UTF-8 也不是 GB18030 编码的文本")])


def register(app: typer.Typer) -> None:
    policy_app = typer.Typer(help="政策目标 / Policy targets: propose from text, accept after review",
                             no_args_is_help=True)
    indicators_app = typer.Typer(help="指标与目标进展 / Indicators and the progress of policy targets",
                                 no_args_is_help=True)

    @policy_app.command("extract")
    @bilingual_errors
    def extract(file: Annotated[Path, typer.Argument(help="政策文本文件（UTF-8 或 GB18030）/ a policy text file")],
                region: RegionOption = None,
                base_year: Annotated[int | None, typer.Option("--base-year", help="发布年份，用于换算“5年内” / the "
                                                                                 "issue year, turns 5年内 into a year")]
                = None,
                as_json: JsonFlag = False) -> None:
        """从政策文本提出量化目标供审核 / Propose the numeric targets a policy text states, for review."""
        extraction = _service().extract(_read_text(file), region=region, base_year=base_year)
        if as_json:
            print_json(extraction.as_dict())
            return
        table = new_table("#", "指标 indicator", "代码 code", "目标 target", "年份 year", "地区 region", "提示 notes",
                      title=f"提出 {len(extraction.proposals)} 个目标 / {len(extraction.proposals)} proposed")
        for number, p in enumerate(extraction.proposals):
            value = f"{p.value:g}" + (f"–{p.value_max:g}" if p.value_max is not None else "")
            table.add_row(str(number), p.indicator, p.indicator_code or "?",
                          f"{COMPARATORS[p.comparator][0]} {value} {p.unit or ''}",
                          str(p.year or p.horizon or ""), p.region or "", "、".join(p.warnings))
        out.print(table)
        if not extraction.proposals:
            out.print("未发现量化目标 / no numeric target found")
        for problem in extraction.problems:
            err.print(f"问题 problem [{problem.code}] {problem.message_zh} / {problem.message}\n  {problem.clause}",
                      highlight=False, markup=False)

    @policy_app.command("accept")
    @bilingual_errors
    def accept(policy: Annotated[str, typer.Argument(help="政策编号或 方案:值 / policy id or scheme:value")],
               proposals: Annotated[Path, typer.Argument(
                   help="审核后的目标 JSON（extract --json 的输出或其中的列表）/ reviewed proposals (extract --json "
                        "output or its list)")],
               as_json: JsonFlag = False) -> None:
        """把审核后的目标写入政策（经审计）/ Add reviewed targets to a policy (audited)."""
        try:
            items = json.loads(_read_text(proposals))
        except json.JSONDecodeError as error:
            raise invalid([Problem("file", str(proposals), f"not JSON: {error.msg} (line {error.lineno})",
                                   f"不是合法 JSON：第 {error.lineno} 行")]) from None
        result = _service().accept(CLI_ADMIN, policy, items)
        if as_json:
            print_json(result)
            return
        out.print(f"已加入 added {result['added']} 个目标 targets → {result['policy']}"
                  f"（共 {len(result['targets'])} 个 in all）")

    @indicators_app.command("list")
    @bilingual_errors
    def list_indicators(as_json: JsonFlag = False) -> None:
        """指标代码表 / The indicator vocabulary."""
        if as_json:
            print_json([{"code": i.code, "zh": i.zh, "en": i.en, "unit": i.unit, "synonyms": list(i.synonyms)}
                        for i in INDICATORS.values()])
            return
        table = new_table("代码 code", "指标 indicator", "单位 unit")
        for i in INDICATORS.values():
            table.add_row(i.code, f"{i.zh}\n{i.en}", i.unit)
        out.print(table)

    @indicators_app.command("status")
    @bilingual_errors
    def status(city: Annotated[str | None, typer.Option("--city", help="城市代码 city adcode, e.g. 440100")] = None,
               indicator: Annotated[str | None, typer.Option("--indicator", help="指标代码 indicator code")] = None,
               as_json: JsonFlag = False) -> None:
        """各政策目标的最新值、差距与状态 / Latest value, gap and status of every policy target."""
        from zhulian.indicators.service import IndicatorService

        service = _service()
        rows = IndicatorService.progress_rows(service.progress(CLI_ADMIN, city=city, indicator=indicator))
        if as_json:
            print_json(rows)
            return
        table = new_table("指标 indicator", "地区 region", "目标 target", "最新 latest", "差距 gap", "预测 projected",
                      "状态 status", title="目标进展 / target progress")
        for row in rows:
            table.add_row(row["indicator"], row["region_name"] or "",
                          f"{row['comparator']} {row['value']:g} {row['unit'] or ''} ({row['deadline'] or '-'})",
                          "" if row["latest_value"] is None else f"{row['latest_value']:g} ({row['latest_year']})",
                          "" if row["gap"] is None else f"{row['gap']:g}",
                          "" if row["projected"] is None else f"{row['projected']:.3g}",
                          f"{row['status_display']['zh']} {row['status_display']['en']}")
        out.print(table)

    @indicators_app.command("export")
    @bilingual_errors
    def export(output: Annotated[Path, typer.Option("-o", "--output", help="输出文件 / output file")],
               fmt: Annotated[str, typer.Option("--format", help="csv | xlsx | json")] = "csv",
               city: Annotated[str | None, typer.Option("--city", help="城市代码 city adcode")] = None,
               indicator: Annotated[str | None, typer.Option(
                   "--indicator", help="只导出该指标的年度序列 / this indicator's series")] = None) -> None:
        """导出目标进展表或指标序列 / Export the progress table (or, with --indicator, its yearly series)."""
        from zhulian.indicators.service import SERIES_COLUMNS, TABLE_COLUMNS, IndicatorService, write_table

        service = _service()
        if indicator:
            rows = IndicatorService.series_rows(indicator, service.series(CLI_ADMIN, indicator,
                                                                          [city] if city else None))
            content = write_table(rows, SERIES_COLUMNS, fmt)
        else:
            rows = IndicatorService.progress_rows(service.progress(CLI_ADMIN, city=city))
            content = write_table(rows, TABLE_COLUMNS, fmt)
        output.write_bytes(content)
        out.print(f"已写入 wrote {len(rows)} 行 rows → {output}")

    @indicators_app.command("chart")
    @bilingual_errors
    def chart(indicator: Annotated[str, typer.Argument(help="指标代码 indicator code")],
              output: Annotated[Path, typer.Option("-o", "--output", help="输出文件 .svg 或 .png / output file")],
              city: Annotated[str | None, typer.Option("--city", help="城市代码 city adcode")] = None,
              lang: Annotated[str, typer.Option(help="图中文字语言 zh | en / label language")] = "zh") -> None:
        """指标折线图（SVG 或 PNG）/ A line chart of an indicator, as SVG or PNG by the file's suffix."""
        from zhulian.indicators.charts import CHART_FORMATS
        from zhulian.indicators.service import indicator_chart
        from zhulian.web.charts import png

        fmt = output.suffix.lower().lstrip(".")
        if fmt not in CHART_FORMATS:
            raise invalid([Problem("output", str(output), "the file name ends in .svg or .png",
                                   "文件名应以 .svg 或 .png 结尾")])
        svg = indicator_chart(_service(), CLI_ADMIN, indicator, [city] if city else None, lang=lang)
        output.write_bytes(png(svg) if fmt == "png" else svg.encode())
        out.print(f"已写入 wrote {output}")

    app.add_typer(policy_app, name="policy")
    app.add_typer(indicators_app, name="indicators")
