"""The ``template``, ``import`` and ``export`` commands: thin wrappers over the exchange service.

``zhulian.cli`` adds them with ``register(app)``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from zhulian.console import bilingual_errors, err, new_table, open_store, out
from zhulian.model import TYPES


TypeArgument = Annotated[str, typer.Argument(metavar="TYPE", help=f"类型 type: {', '.join(TYPES)}")]


def template(type_name: TypeArgument,
             fmt: Annotated[str, typer.Option("--format", "-f", help="csv 或 xlsx / csv or xlsx")] = "xlsx",
             output: Annotated[Path | None, typer.Option("--output", "-o", help="输出文件（默认 TYPE-template.格式）/ "
                                                                                "file to write")] = None) -> None:
    """写出空白模板：表头、示例行，XLSX 另有说明页 / Write a blank template: header, an example row and (XLSX) notes."""
    from zhulian.exchange.formats import file_error
    from zhulian.exchange.template import template_columns, write_template
    from zhulian.model import resolve_type

    type_name = resolve_type(type_name)
    fmt = fmt.lower().lstrip(".")
    if fmt not in ("csv", "xlsx", "tsv"):
        raise file_error("bad_format", f"Templates are csv or xlsx, not {fmt!r}.", f"模板格式应为 csv 或 xlsx，而不是 {fmt!r}。")
    output = output or Path(f"{type_name}-template.{fmt}")
    write_template(type_name, fmt, output)
    out.print(f"已写入模板 wrote the template: {output} （{len(template_columns(type_name))} 列 columns）",
                     highlight=False)


def import_(path: Annotated[Path, typer.Argument(help="要导入的文件：CSV、TSV、XLSX、JSON、JSONL / the file to import")],
            type_name: Annotated[str | None, typer.Option("--type", "-t", help="记录类型（文件可自带）/ record type")] = None,
            mapping: Annotated[str | None, typer.Option(
                "--mapping", "-m", help="映射：内置名称（moe-universities、csl、kppatent）或 .toml 文件 / a built-in "
                "mapping or a .toml file")] = None,
            node: Annotated[str | None, typer.Option("--node", help="发布节点（行政区划代码）/ publishing node (adcode)")]
            = None,
            skip_invalid: Annotated[bool, typer.Option("--skip-invalid", help="跳过无效行，导入其余 / import the valid "
                                                                               "rows, report the rest")] = False,
            dry_run: Annotated[bool, typer.Option("--dry-run", help="只校验不写入 / validate only, write nothing")] = False,
            clear_empty: Annotated[bool, typer.Option(
                "--clear-empty", help="文件中已有列的空单元格清空该字段（默认空单元格不改动）/ an empty cell in a column "
                "the file has clears that field (by default it changes nothing)")] = False,
            report: Annotated[Path | None, typer.Option("--report", help="把问题清单写入 .csv 或 .json / write the "
                                                                          "problems to .csv or .json")] = None,
            sheet: Annotated[str | None, typer.Option("--sheet", help="XLSX 工作表名 / the XLSX sheet to read")] = None,
            as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出报告 / print the report as JSON")] = False,
            ) -> None:
    """导入文件，逐行校验，只改动文件给出的字段；默认全部或全不 / Import a file with row-level validation; only the
    fields the file gives change (all or nothing by default)."""
    from zhulian.access import CLI_ADMIN, CLI_ORIGIN
    from zhulian.errors import ZhulianError
    from zhulian.exchange.formats import file_error
    from zhulian.exchange.importer import file_report
    from zhulian.exchange.service import ExchangeService
    from zhulian.records import RecordService

    if report is not None and report.suffix.lower() not in (".csv", ".json"):
        raise file_error("bad_report", "--report writes a .csv or a .json file.", "--report 应为 .csv 或 .json 文件。")
    store = open_store()
    try:
        with _progress(enabled=err.is_terminal and not as_json) as progress:
            result = ExchangeService(RecordService(store)).import_file(
                CLI_ADMIN, path, origin=CLI_ORIGIN, type_name=type_name, mapping=mapping, node=node,
                skip_invalid=skip_invalid, dry_run=dry_run, clear_empty=clear_empty, sheet=sheet, progress=progress)
    except ZhulianError as error:
        if report is not None:  # a script reading the report finds why the file was refused
            file_report(str(path), error).write(report)
        raise
    try:
        if report is not None:
            result.write(report)
        if as_json:
            summary = result.summary()
            summary["problems_shown"] = [p.as_dict() for p in result.errors.head]
            summary["warnings_shown"] = [w.as_dict() for w in result.warnings]
            summary["changes_shown"] = result.changes.head
            sys.stdout.write(json.dumps(summary, ensure_ascii=False, indent=2) + "\n")
        else:
            _print_report(result, report)
    finally:
        result.close()
    if result.refused:
        raise typer.Exit(2)


def _print_report(result: Any, report_path: Path | None) -> None:
    from zhulian.exchange.importer import change_text

    out.print(f"文件 file: {result.path}", highlight=False, markup=False, soft_wrap=True)
    for note in result.notes:
        out.print(f"  · {note.zh} / {note.en}", highlight=False, markup=False, soft_wrap=True)
    if result.type:
        out.print(f"  · 类型 type: {result.type}" + (f"，映射 mapping: {result.mapping}" if result.mapping else ""),
                  highlight=False, markup=False, soft_wrap=True)
    for warning in result.warnings[:50]:
        out.print(f"[yellow]警告 warning[/] {_escape(str(warning))}", highlight=False, soft_wrap=True)
    if len(result.warnings) > 50:
        out.print(f"[yellow]… 另有 {len(result.warnings) - 50} 条警告 more warnings[/]")
    if result.errors.count:
        table = new_table("行 row", "列 column", "值 value", "原因 reason", title="问题 problems", show_lines=False)
        for problem in result.errors.head[:30]:
            value = "" if problem.value is None else str(problem.value)
            table.add_row(str(problem.row or ""), problem.column, value[:40],
                          f"{problem.reason_zh} / {problem.reason}")
        err.print(table)
        if result.errors.count > 30:
            more = result.errors.count - 30
            err.print(f"… 另有 {more} 个问题 more problems" + (f"，见 see {report_path}" if report_path else
                                                                  "（用 --report FILE 写出全部 use --report FILE）"),
                          highlight=False, markup=False, soft_wrap=True)
    for change in result.changes.head[:30]:
        zh, en = change_text(change)
        out.print(f"  第 {change['row']} 行 row {change['row']}：{zh} / {en}", highlight=False, markup=False,
                  soft_wrap=True)
    if result.changes.count > 30:
        out.print(f"  … 另有 {result.changes.count - 30} 行有改动 more changed rows"
                  + (f"，见 see {report_path}" if report_path else ""), highlight=False, markup=False, soft_wrap=True)
    verb = "将" if not result.committed else ""
    out.print(f"读取 rows {result.rows}：{verb}新建 created {result.created}, {verb}更新 updated {result.updated}, "
              f"未变 unchanged {result.unchanged}, 无效 invalid {result.invalid}"
              + (f", 空行 blank {result.blank}" if result.blank else ""), highlight=False, markup=False, soft_wrap=True)
    zh, en = result.outcome_text()
    style = "green" if result.committed and not result.invalid else "yellow" if result.committed or result.dry_run \
        else "bold red"
    out.print(f"[{style}]{zh} / {en}[/]", highlight=False, soft_wrap=True)
    if result.committed and result.import_id:
        out.print(f"导入编号 import id: {result.import_id}（审计日志 audit log: zhulian audit）", highlight=False,
                  markup=False, soft_wrap=True)
    if report_path is not None:
        out.print(f"报告 report: {report_path}", highlight=False, markup=False, soft_wrap=True)


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


class _progress:
    """A progress bar on a terminal; nothing otherwise."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.bar: Any = None
        self.task: Any = None

    def __enter__(self) -> Callable[[int, int, int], None] | None:
        if not self.enabled:
            return None
        from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

        self.bar = Progress(TextColumn("导入 importing"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                            TextColumn("{task.fields[rows]} 行 rows"), TimeRemainingColumn(), console=err,
                            transient=True)
        self.bar.start()
        self.task = self.bar.add_task("import", total=None, rows=0)

        def update(rows: int, position: int, total: int) -> None:
            self.bar.update(self.task, completed=position, total=total or None, rows=rows)

        return update

    def __exit__(self, *exc: Any) -> None:
        if self.bar is not None:
            self.bar.stop()


def export(type_name: TypeArgument,
           fmt: Annotated[str | None, typer.Option("--format", "-f", help="csv、tsv、xlsx、json、jsonl（默认按输出文件扩展名）"
                                                                            " / format (default: from -o)")] = None,
           output: Annotated[Path | None, typer.Option("--output", "-o", help="输出文件（csv/json/jsonl 默认标准输出）"
                                                                              " / file to write (default stdout)")]
           = None,
           filter: Annotated[str | None, typer.Option("--filter", help="筛选，如 city:440100,kind:university / filter")]
           = None,
           header: Annotated[str, typer.Option("--header", help="表头：label（中文名称 (键)）或 key / header style")]
           = "label",
           encoding: Annotated[str, typer.Option("--encoding", help="CSV 编码：utf-8-sig（默认，Excel 可直接打开）、utf-8、"
                                                                      "gb18030、gbk / CSV encoding")] = "utf-8-sig",
           refs: Annotated[str, typer.Option("--refs", help="CSV/XLSX 中关联记录的写法：pid（外部标识，如 moe:4144010558，"
                                                             "默认）或 id / how related records are named")] = "pid",
           ) -> None:
    """导出某类记录 / Export the records of a type (CSV/XLSX cells that look like formulas are neutralised)."""
    from zhulian.exchange.exporter import export_format, export_records
    from zhulian.exchange.formats import file_error

    fmt = export_format(fmt, output)
    if header not in ("label", "key"):
        raise file_error("bad_option", "--header is label or key.", "--header 应为 label 或 key。")
    if refs not in ("pid", "id"):
        raise file_error("bad_option", "--refs is pid or id.", "--refs 应为 pid 或 id。")
    if encoding.lower().replace("_", "-") not in ("utf-8-sig", "utf-8", "utf8", "gb18030", "gbk"):
        raise file_error("bad_option", "--encoding is utf-8-sig, utf-8, gb18030 or gbk.",
                         "--encoding 应为 utf-8-sig、utf-8、gb18030 或 gbk。")
    if output is None and fmt == "xlsx":
        raise file_error("bad_option", "An XLSX export needs -o FILE.", "导出 XLSX 需要用 -o 指定文件。")
    store = open_store()
    target: Any = output if output is not None else sys.stdout.buffer
    result = export_records(store, type_name, fmt, target, filter=filter, header=header, encoding=encoding,
                            references=refs)
    for warning in result.warnings:
        err.print(f"警告 warning: {warning}", highlight=False, markup=False, soft_wrap=True)
    err.print(f"已导出 exported {result.count} 条 {result.type} 记录 records"
                  + (f" → {output}" if output is not None else ""), highlight=False, markup=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Add ``template``, ``import`` and ``export`` to the ``zhulian`` command."""
    app.command("template")(bilingual_errors(template))
    app.command("import")(bilingual_errors(import_))
    app.command("export")(bilingual_errors(export))
