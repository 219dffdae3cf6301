"""``zhulian match``, ``zhulian experts`` and ``zhulian interest …``: thin over the match and interest
services, acting as the local command line (an administrator)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from zhulian.access import CLI_ADMIN
from zhulian.config import Settings
from zhulian.console import JsonFlag, bilingual_errors, err, new_table, open_store, out, print_json
from zhulian.model import TYPE_LABELS


def _matcher() -> Any:
    from zhulian.match.service import MatchService
    from zhulian.search.service import SearchService

    settings = Settings()
    search = SearchService(open_store(), settings=settings)
    search.catch_up()  # the index is derived: bring it up to the store's feed before matching
    return MatchService(search.store, search)


def _interests() -> Any:
    from zhulian.match.interests import InterestService

    return InterestService(open_store())


def _origin() -> str:
    import socket

    return socket.gethostname()


def register(app: typer.Typer) -> None:
    interest_app = typer.Typer(help="合作意向 / Expressions of interest in achievements and patents",
                               no_args_is_help=True)

    @app.command("match")
    @bilingual_errors
    def match(demand: Annotated[str | None, typer.Argument(help="企业需求编号 a demand id (dem_…) or scheme:value")] = None,
              text: Annotated[str | None, typer.Option("--text", "-t", help="需求描述 the need in words")] = None,
              types: Annotated[str | None, typer.Option("--type", help="类型 achievement,patent,paper,platform,instrument")] = None,
              city: Annotated[str | None, typer.Option(help="城市 adcode, e.g. 440300")] = None,
              circle: Annotated[str | None, typer.Option(help="创新圈 gfz | sdh | zzj")] = None,
              limit: Annotated[int, typer.Option(help="条数 how many (≤100)")] = 10,
              as_json: JsonFlag = False) -> None:
        """技术供需匹配：按需求找成果、专利、论文、平台、仪器及专家，并给出理由 / Match a demand, with reasons."""
        body = _matcher().match(CLI_ADMIN, text=text, demand=demand, types=types, city=city, circle=circle,
                                limit=limit)
        if as_json:
            print_json(body)
            return
        meta = body["meta"]
        if meta.get("notice_zh"):
            err.print(f"提示 note: {meta['notice_zh']} / {meta['notice']}", highlight=False, markup=False)
        terms = "、".join(t["term"] for t in meta["terms"])
        out.print(f"{meta['count']} 条匹配 matches · 匹配词 terms: {terms} ({meta['took_ms']} ms)",
                  highlight=False, markup=False)
        for rank, result in enumerate(body["results"], 1):  # one block each: reasons read as sentences
            label = TYPE_LABELS[result["type"]][0]
            out.print(f"{rank}. {result['name']}  [{label} {result['type']}] 得分 score {result['score']:.2f}  "
                      f"{result['id']}", highlight=False, markup=False)
            for reason in result["reasons"]["summary"]:
                out.print(f"   · {reason['zh']} / {reason['en']}", highlight=False, markup=False)
        for expert in body["experts"]:
            out.print(f"  专家 expert: {expert['name']}" + (f"（{expert['affiliation']}）" if expert["affiliation"] else "")
                      + f" — {len(expert['evidence'])} 项证据 pieces of evidence", highlight=False, markup=False)

    @app.command("experts")
    @bilingual_errors
    def experts(topic: Annotated[str, typer.Argument(help="主题 topic")],
                city: Annotated[str | None, typer.Option(help="城市 adcode")] = None,
                circle: Annotated[str | None, typer.Option(help="创新圈 gfz | sdh | zzj")] = None,
                limit: Annotated[int, typer.Option(help="条数 how many (≤100)")] = 10,
                as_json: JsonFlag = False) -> None:
        """专家发现：先按论文、专利、成果，再按登记专长与所属平台、机构排序 / Experts on a topic, by their works, then by
        declared expertise and the platforms and organisations they belong to."""
        body = _matcher().experts(CLI_ADMIN, topic, city=city, circle=circle, limit=limit)
        if as_json:
            print_json(body)
            return
        if body["meta"].get("notice_zh"):
            err.print(f"提示 note: {body['meta']['notice_zh']} / {body['meta']['notice']}", highlight=False, markup=False)
        table = new_table("#", "专家 expert", "单位 affiliation", "得分 score", "证据 evidence",
                      title=f"{body['meta']['count']} 位专家 experts · {topic}")
        for rank, expert in enumerate(body["results"], 1):
            evidence = "\n".join(f"{e['title']}（{e['reason']['zh']}）" for e in expert["evidence"][:5])
            table.add_row(str(rank), expert["name"], expert["affiliation"] or "", f"{expert['score']:.2f}", evidence)
        out.print(table)

    @interest_app.command("send")
    @bilingual_errors
    def send(target: Annotated[str, typer.Argument(help="成果或专利 achievement or patent id")],
             message: Annotated[str, typer.Option("--message", "-m", help="意向内容 message")],
             contact: Annotated[str | None, typer.Option(help="联系方式 contact")] = None,
             as_json: JsonFlag = False) -> None:
        """登记意向 / Register interest in an achievement or patent."""
        _show(_interests().send(CLI_ADMIN, target, message, contact=contact, origin=_origin()), as_json)

    @interest_app.command("list")
    @bilingual_errors
    def list_interests(box: Annotated[str, typer.Option(help="inbox | sent")] = "inbox",
                       state: Annotated[str | None, typer.Option(help="sent | read | answered | closed")] = None,
                       limit: Annotated[int, typer.Option(help="条数 how many (≤200)")] = 50,
                       as_json: JsonFlag = False) -> None:
        """列出意向 / List interests."""
        found = _interests().list(CLI_ADMIN, box, state=state, limit=limit)
        if as_json:
            print_json(found)
            return
        table = new_table("编号 id", "对象 target", "发送方 sender", "状态 state", "意向 message", "时间 created")
        for item in found:
            table.add_row(item["id"], item.get("target_name") or item["target_id"], item["sender_name"],
                          f"{item['state_display']['zh']} {item['state']}", item["message"][:60], item["created"][:19])
        out.print(table)

    @interest_app.command("read")
    @bilingual_errors
    def read(interest_id: str, as_json: JsonFlag = False) -> None:
        """标为已读 / Mark an interest read."""
        _show(_interests().mark_read(CLI_ADMIN, interest_id, origin=_origin()), as_json)

    @interest_app.command("answer")
    @bilingual_errors
    def answer(interest_id: str, text: Annotated[str, typer.Option("--text", "-t", help="答复 answer")],
               as_json: JsonFlag = False) -> None:
        """答复意向 / Answer an interest."""
        _show(_interests().answer(CLI_ADMIN, interest_id, text, origin=_origin()), as_json)

    @interest_app.command("close")
    @bilingual_errors
    def close(interest_id: str, as_json: JsonFlag = False) -> None:
        """关闭意向 / Close an interest."""
        _show(_interests().close(CLI_ADMIN, interest_id, origin=_origin()), as_json)

    app.add_typer(interest_app, name="interest")


def _show(item: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print_json(item)
        return
    out.print(f"{item['id']}: {item['state_display']['zh']} {item['state']} — {item.get('target_name') or item['target_id']}",
              highlight=False, markup=False)
