"""``zhulian nodes add|list|remove|conflicts``, ``zhulian harvest`` and ``zhulian validate-node``."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer
from rich.table import Table

from zhulian.config import Settings
from zhulian.console import JsonFlag, bilingual_errors, err, new_table, open_store, out, print_json


KEEP_ZH = {"local": "本地版本", "remote": "远端版本", "merged": "合并版本"}


@contextmanager
def _harvester() -> Iterator[object]:
    from zhulian.federation.harvester import Harvester

    harvester = Harvester(open_store(), Settings())
    try:
        yield harvester
    finally:
        harvester.close()


def register(app: typer.Typer) -> None:
    nodes_app = typer.Typer(help="采集的节点 / The nodes this node harvests", no_args_is_help=True)
    app.add_typer(nodes_app, name="nodes")

    @nodes_app.command("add")
    @bilingual_errors
    def nodes_add(name: Annotated[str, typer.Argument(help="本地名称，如 gz / a local name")],
                  url: Annotated[str, typer.Argument(help="节点地址，如 http://10.0.0.5:8000 / the node's URL")],
                  key: Annotated[str, typer.Option(help="该节点发给本节点的采集密钥 / the harvest key it issued")],
                  sets: Annotated[str | None, typer.Option(help="只采集这些类型，逗号分隔 / types only")] = None,
                  interval: Annotated[int, typer.Option(help="定时采集间隔秒数，0 为只按需 / seconds; 0: on demand")]
                  = 300,
                  no_check: Annotated[bool, typer.Option("--no-check", help="不先检查节点（节点暂时不在线）/ "
                                                         "register without checking (the node is down now)")] = False,
                  as_json: JsonFlag = False) -> None:
        """登记一个要采集的节点（先检查它可用）/ Register a node to harvest, after checking it answers."""
        with _harvester() as harvester:
            node = harvester.add(name, url, key, sets=sets, interval_s=interval, check=not no_check)
        if as_json:
            print_json(node)
            return
        out.print(f"已登记 added {name}: {node['url']} (节点 node {node['remote_node'] or '?'})")

    @nodes_app.command("list")
    @bilingual_errors
    def nodes_list(as_json: JsonFlag = False) -> None:
        """采集进度：游标、最近成功、最近错误、滞后 / Progress: cursor, last success, last error, lag."""
        with _harvester() as harvester:
            found = harvester.list()
        if as_json:
            print_json(found)
            return
        table = new_table("名称 name", "地址 url", "游标 cursor", "已采集 harvested", "滞后 lag", "最近成功 last success",
                      "最近错误 last error", "冲突 conflicts", title="采集的节点 / harvested nodes")
        for node in found:
            taken = "".join(f"\n{feed}: {progress['harvested']}" for feed, progress in node["feeds"].items())
            table.add_row(node["name"], node["url"], node["cursor"], f"{node['harvested']}{taken}",
                          str(node["lag"] or 0), node["last_success"] or "–", node["last_error"] or "–",
                          str(node["conflicts"]))
        out.print(table)

    @nodes_app.command("remove")
    @bilingual_errors
    def nodes_remove(name: Annotated[str, typer.Argument(help="节点名称 / node name")]) -> None:
        """不再采集该节点（已采集的记录保留）/ Stop harvesting a node; what was harvested stays."""
        with _harvester() as harvester:
            harvester.remove(name)
        out.print(f"已删除 removed {name}")

    @nodes_app.command("conflicts")
    @bilingual_errors
    def nodes_conflicts(limit: Annotated[int, typer.Option(help="条数 / how many")] = 100,
                        settled: Annotated[bool, typer.Option("--settled", help="也列出已处理的 / settled ones too")]
                        = False,
                        as_json: JsonFlag = False) -> None:
        """采集时发现、留待处理的冲突：两个版本并列及其差异 / Conflicts to settle, both versions side by side."""
        with _harvester() as harvester:
            found = harvester.conflicts(limit=limit, settled=settled)
        if as_json:
            print_json(found)
            return
        if not found:
            out.print("没有待处理的冲突 / no conflicts to settle")
        for conflict in found:
            out.print(_conflict_table(conflict))

    @nodes_app.command("resolve")
    @bilingual_errors
    def nodes_resolve(conflict: Annotated[int, typer.Argument(help="冲突编号（见 nodes conflicts）/ conflict number")],
                      keep: Annotated[str, typer.Option(help="保留本地、远端或合并后的版本 / keep local, remote or merged")],
                      as_json: JsonFlag = False) -> None:
        """处理一个冲突，写入审计日志 / Settle a conflict (audited): --keep local|remote|merged."""
        from zhulian.access import CLI_ADMIN
        from zhulian.federation.conflicts import resolve

        settled = resolve(open_store(), CLI_ADMIN, conflict, keep, origin=socket.gethostname())
        if as_json:
            print_json(settled)
            return
        out.print(f"冲突 {conflict} 已处理，保留 {KEEP_ZH[keep]} / conflict {conflict} settled, kept {keep}: "
                  f"{settled['local_name'] or settled['name']} [{settled['local_id']}]")

    @app.command("harvest")
    @bilingual_errors
    def harvest(names: Annotated[list[str] | None, typer.Argument(help="节点名称，默认全部 / nodes, default all")]
                = None,
                retries: Annotated[int, typer.Option(help="连接失败时重试次数 / retries when a node is unreachable")]
                = 2,
                as_json: JsonFlag = False) -> None:
        """采集节点的变更流 / Harvest the nodes' change feeds (each page committed with its cursor)."""
        with _harvester() as harvester:
            outcomes = harvester.harvest_many(names or None, retries=retries)
        if as_json:
            print_json([o.as_dict() for o in outcomes])
        else:
            for o in outcomes:
                if o.ok:
                    out.print(f"{o.node}: 新建 created {o.created}, 更新 updated {o.updated}, 删除 deleted {o.deleted}, "
                              f"未变 unchanged {o.unchanged + o.skipped}, 冲突 conflicts {o.conflicts} "
                              f"({o.pages} 页 pages, cursor {o.cursor})")
                    for feed, taken in o.feeds.items():
                        out.print(f"  {feed}: 存入 stored {taken['stored']}, 已有 already held {taken['skipped']} "
                                  f"({taken['pages']} 页 pages)")
                else:
                    err.print(f"{o.node}: 失败 failed — {o.error}", highlight=False)
        if not all(o.ok for o in outcomes):
            raise typer.Exit(1)

    @app.command("validate-node")
    @bilingual_errors
    def validate_node(url: Annotated[str, typer.Argument(help="节点地址 / the node's base URL")],
                      key: Annotated[str | None, typer.Option(help="采集密钥 / a harvest key")] = None,
                      page_size: Annotated[int, typer.Option(help="每页条数 / entries per page")] = 200,
                      as_json: JsonFlag = False) -> None:
        """检查节点是否符合联邦协议 / Check that a node keeps the federation protocol; exit 1 if not."""
        from zhulian.federation.validator import validate_node as run_checks

        report = run_checks(url, key, page_size=page_size)
        if as_json:
            print_json(report.as_dict())
        else:
            table = new_table("检查 check", "结果 result", "说明 detail", title=f"节点检查 / node check: {url}")
            for check in report.checks:
                table.add_row(check.name, "[green]通过 pass[/]" if check.ok else "[red]未通过 FAIL[/]",
                              f"{check.detail_zh}\n{check.detail}")
            out.print(table)
            out.print(("[green]符合协议 conforms[/]" if report.ok else "[red]不符合协议 does not conform[/]")
                      + f" — {report.entries} entries, {report.pages} pages")
        if not report.ok:
            raise typer.Exit(1)


def _conflict_table(conflict: dict[str, Any]) -> Table:
    from zhulian.federation.conflicts import shown

    title = (f"#{conflict['seq']} {conflict['name']} ← {conflict['source']} ({conflict['origin_node']} "
             f"r{conflict['origin_revision']}, {conflict['at']})" + (f" [已处理 settled: {conflict['resolution']}]"
                                                                     if conflict["resolved"] else ""))
    table = new_table("字段 field", f"本地 local: {conflict['local_name'] or '–'} [{conflict['local_id']}]",
                  f"远端 remote: {conflict['name']} [{conflict['record_id']}]",
                  title=title, caption=f"{conflict['reason_zh']} / {conflict['reason']}")
    for difference in conflict["differences"]:
        table.add_row(difference["field"], shown(difference["local"]), shown(difference["remote"]))
    return table
