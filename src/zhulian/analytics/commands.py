"""``zhulian network rebuild|status|cities|partners ORG``: thin over the network service."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from zhulian.access.principal import CLI_ADMIN
from zhulian.console import JsonFlag, bilingual_errors, new_table, open_store, out, print_json


def _service() -> Any:
    from zhulian.analytics.service import NetworkService

    return NetworkService(open_store())


def register(app: typer.Typer) -> None:
    network_app = typer.Typer(help="合作网络 / The collaboration network (derived from the store, rebuildable)",
                              no_args_is_help=True)

    @network_app.command("rebuild")
    @bilingual_errors
    def rebuild(as_json: JsonFlag = False) -> None:
        """从存储重建全部网络表 / Rebuild every network table from the store."""
        service = _service()
        if as_json:
            print_json(service.rebuild())
            return
        from rich.progress import Progress

        with Progress(transient=True) as progress:
            task = progress.add_task("重建网络 rebuilding", total=None)
            state = service.rebuild(progress=lambda step: progress.update(task, description=step))
        out.print(f"网络已重建 network rebuilt: {state['organisations']} 个机构 organisations, "
                  f"{state['links']} 对合作 linked pairs, {state['activities']} 项合作活动 activities, "
                  f"变更流位置 feed position {state['position']}, 用时 {state['seconds']} s")

    @network_app.command("status")
    @bilingual_errors
    def status(as_json: JsonFlag = False) -> None:
        """网络表状态：变更流位置与滞后 / Feed position, lag and size of the network tables."""
        body = _service().status()
        if as_json:
            print_json(body)
            return
        if not body["built"]:
            out.print("网络表尚未建立 not built yet；运行 run `zhulian network rebuild`。")
            return
        table = new_table(show_header=False, title="合作网络 collaboration network")
        for key, label in (("position", "变更流位置 feed position"), ("last_seq", "存储最新序号 store last seq"),
                           ("lag", "滞后 lag"), ("organisations", "机构 organisations"),
                           ("linked_organisations", "有合作的机构 with partners"), ("link_rows", "合作行 link rows"),
                           ("metrics_position", "指标位置 metrics position"), ("betweenness", "中介中心性 betweenness"),
                           ("built_at", "建立时间 built at"), ("applied_at", "最近更新 last applied")):
            table.add_row(label, str(body.get(key)))
        out.print(table)

    @network_app.command("cities")
    @bilingual_errors
    def cities(link: Annotated[str | None, typer.Option(help="合作类型 link type: platform, project, paper, patent, "
                                                              "standard, achievement")] = None,
               year_from: Annotated[int | None, typer.Option("--year-from", help="起始年份 from year")] = None,
               year_to: Annotated[int | None, typer.Option("--year-to", help="截止年份 to year")] = None,
               as_json: JsonFlag = False) -> None:
        """城市间合作矩阵（九市与港澳）/ The cross-city collaboration matrix."""
        service = _service()
        service.current()
        body = service.cities(link=link, year_from=year_from, year_to=year_to)
        if as_json:
            print_json(body)
            return
        names = [card["name"]["zh"].removesuffix("特别行政区").removesuffix("市") if card["key"] != "other" else "其他"
                 for card in body["cities"]]
        table = new_table("", *names, box=None, padding=(0, 1), title=f"城市间合作 total {body['total']}，跨市 "
                      f"cross-city {body['cross_city']}，跨境 cross-border {body['cross_border']}")
        for name, row in zip(names, body["matrix"], strict=True):
            table.add_row(name, *(str(v) if v else "·" for v in row))
        out.print(table)

    @network_app.command("partners")
    @bilingual_errors
    def partners(org: Annotated[str, typer.Argument(help="机构编号或标识 organisation id or scheme:value")],
                 limit: Annotated[int, typer.Option(help="推荐数 how many (≤50)")] = 10,
                 as_json: JsonFlag = False) -> None:
        """为机构推荐合作伙伴及理由 / Recommend partners for an organisation, with reasons."""
        service = _service()
        service.current()
        body = service.partners(CLI_ADMIN, org, limit=limit)
        if as_json:
            print_json(body)
            return
        me = body["organisation"]
        table = new_table("机构 organisation", "得分 score", "理由 reasons", "编号 id",
                      title=f"{me['label']}：合作伙伴 {me['degree']} partners — 推荐 recommended")
        for item in body["results"]:
            reasons = "；".join(r["zh"] + ("：" + "、".join(r["items"]) if r["items"] else "") for r in item["reasons"])
            table.add_row(item["label"], str(item["score"]), reasons, item["id"])
        out.print(table)

    app.add_typer(network_app, name="network")
