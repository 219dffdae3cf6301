"""``zhulian trace capture|back|forward``: thin over the trace service, acting as the local command line
(an administrator)."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Annotated, Any

import typer

from zhulian.access import CLI_ADMIN
from zhulian.config import Settings
from zhulian.console import JsonFlag, bilingual_errors, err, new_table, open_store, out, print_json
from zhulian.errors import Problem, invalid


def _service() -> Any:
    from zhulian.trace.service import TraceService

    return TraceService(open_store())


def register(app: typer.Typer) -> None:
    trace_app = typer.Typer(help="食品安全溯源（GS1 EPCIS 2.0）/ Food traceability on GS1 EPCIS 2.0",
                            no_args_is_help=True)

    @trace_app.command("capture")
    @bilingual_errors
    def capture(file: Annotated[Path, typer.Argument(help="EPCISDocument（JSON-LD）文件 file")],
                proceed: Annotated[bool, typer.Option("--proceed", help="保存有效事件，报告其余 / store the valid "
                                                      "events, report the rest (default: all or nothing)")] = False,
                as_json: JsonFlag = False) -> None:
        """采集 EPCIS 文档 / Capture an EPCISDocument."""
        from zhulian.trace.validation import parse_json

        if not file.is_file():
            raise invalid([Problem("FILE", str(file), "no such file", "文件不存在")], "file")
        document = parse_json(file.read_bytes(), limit=Settings().max_upload_bytes)
        job = _service().capture(CLI_ADMIN, document, behaviour="proceed" if proceed else "rollback",
                                 origin=socket.gethostname())
        if as_json:
            print_json(job)
            return
        out.print(f"采集 capture {job['captureID']}: 保存 stored {job['storedCount']} / {job['eventCount']} 个事件 events",
                  highlight=False, markup=False)
        for problem in job["errors"]:
            err.print(f"  - {problem['field']}: {problem['reason_zh']} / {problem['reason']}", highlight=False,
                      markup=False)
        if not job["success"]:
            raise typer.Exit(2)

    def _trace(identifier: str, direction: str, as_json: bool) -> None:
        answer = _service().trace(CLI_ADMIN, identifier, direction)
        if as_json:
            print_json(answer)
            return
        title = f"{'溯源 back' if direction == 'back' else '追踪 forward'} · {answer['id']} · {answer['count']} 个事件 events"
        table = new_table("时间 eventTime", "类型 type", "业务步骤 bizStep", "处置 disposition", "地点 location",
                      "经由 via", title=title)
        for event in answer["events"]:
            place = event["bizLocation"] or event["readPoint"] or ""
            table.add_row(event["eventTime"], event["type"], event["bizStep"] or "", event["disposition"] or "",
                          answer["names"].get(place, place),
                          f"{event['via']['role']} {event['via']['identifier']}")
        out.print(table)
        out.print(f"标识 identifiers {len(answer['identifiers'])} · 参与方 parties {len(answer['parties'])} · "
                  f"地点 locations {len(answer['locations'])} · 合并重复 merged {answer['merged']}",
                  highlight=False, markup=False)

    @trace_app.command("locations")
    @bilingual_errors
    def locations(file: Annotated[Path, typer.Argument(help="地点主数据 CSV/XLSX 文件 file (列 columns: GLN 或地点标识, "
                                                           "名称, 城市, 纬度, 经度)")],
                  as_json: JsonFlag = False) -> None:
        """导入地点与参与方主数据（GLN → 名称、城市），全部或全不 / Location and party master data from a CSV or
        XLSX (GLN → name, city), all rows or none."""
        from zhulian.trace.masterdata import MasterData

        stored = MasterData(open_store()).import_rows(CLI_ADMIN, file.read_bytes(), file.name)
        if as_json:
            print_json(stored)
            return
        out.print(f"地点主数据 locations: 保存 stored {stored['stored']}", highlight=False, markup=False)

    @trace_app.command("back")
    @bilingual_errors
    def back(identifier: Annotated[str, typer.Argument(help="EPC、GS1 数字链接或其他标识 an identifier")],
             as_json: JsonFlag = False) -> None:
        """溯源：来源批次、原料与经手方 / Trace back to the sources."""
        _trace(identifier, "back", as_json)

    @trace_app.command("forward")
    @bilingual_errors
    def forward(identifier: Annotated[str, typer.Argument(help="EPC、GS1 数字链接或其他标识 an identifier")],
                as_json: JsonFlag = False) -> None:
        """追踪：去向、产品与收货方 / Trace forward to where it went."""
        _trace(identifier, "forward", as_json)

    @trace_app.command("recall")
    @bilingual_errors
    def recall(identifier: Annotated[str, typer.Argument(help="出问题的批次或产品 the lot or item at fault")],
               reason: Annotated[str, typer.Option("--reason", help="召回原因 why")],
               xlsx: Annotated[Path | None, typer.Option("--xlsx", help="召回清单写入此 XLSX 文件 write the "
                                                          "recall list here")] = None,
               as_json: JsonFlag = False) -> None:
        """召回：溯源到来源批次，追踪全部受影响批次并采集“已召回”事件 / Recall: back to the source lots, forward
        to every affected lot, a ``recalled`` event captured for each."""
        from zhulian.trace.recall import RecallService

        recalls = RecallService(open_store())
        case = recalls.recall(CLI_ADMIN, identifier, reason, origin=socket.gethostname())
        if xlsx:
            xlsx.write_bytes(recalls.spreadsheet(CLI_ADMIN, case["id"]))
        if as_json:
            print_json(case)
            return
        table = new_table("批次/产品 lot", "最近事件 last event", "最近地点 last location", "持有方 holders",
                      title=f"召回 recall {case['id']} · {len(case['lots'])} 个批次 lots")
        for lot in case["lots"]:
            table.add_row(lot["lot"], lot["lastEventTime"], lot["lastLocation"] or "", "、".join(lot["holders"]))
        out.print(table)
        out.print(f"来源批次 sources {len(case['sources'])} · 持有方 holders {len(case['holders'])} · "
                  f"地点 locations {len(case['locations'])} · 通知订阅 subscriptions notified {len(case['notified'])}"
                  + (f" · 清单 list {xlsx}" if xlsx else ""),
                  highlight=False, markup=False)

    app.add_typer(trace_app, name="trace")
