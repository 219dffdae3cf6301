"""``zhulian registry resolve|review|decide|merge|split|parent|decisions``: thin over the registry service."""

from __future__ import annotations

import socket
from typing import Annotated, Any

import typer

from zhulian.access import CLI_ADMIN
from zhulian.console import JsonFlag, bilingual_errors, new_table, open_store, out, print_json
from zhulian.model import record_label


def _service() -> Any:
    from zhulian.registry.service import RegistryService

    return RegistryService(open_store())


def _reasons(reasons: list[dict[str, Any]]) -> str:
    return "；".join(f"{r['reason_zh']} {r['weight']:+.1f}" for r in reasons)


def register(app: typer.Typer) -> None:
    registry = typer.Typer(help="机构与专家消歧 / Organisation and person resolution", no_args_is_help=True)

    @registry.command("resolve")
    @bilingual_errors
    def resolve(name: Annotated[str, typer.Argument(help="机构或专家名称 / the name to resolve")],
                person: Annotated[bool, typer.Option("--person", help="解析专家而非机构 / resolve a person")] = False,
                city: Annotated[str | None, typer.Option(help="城市代码 city adcode, e.g. 440100")] = None,
                kind: Annotated[str | None, typer.Option(help="机构类型 kind, e.g. university")] = None,
                affiliation: Annotated[str | None, typer.Option(help="专家任职单位 a person's affiliation")] = None,
                field: Annotated[list[str] | None, typer.Option("--field", help="研究领域 research field")] = None,
                coauthor: Annotated[list[str] | None, typer.Option("--coauthor", help="合作者 co-author")] = None,
                orcid: Annotated[str | None, typer.Option(help="ORCID iD")] = None,
                limit: Annotated[int, typer.Option(help="候选数 candidates shown")] = 10,
                as_json: JsonFlag = False) -> None:
        """按名称列出候选记录及得分与理由 / Ranked candidates for a name, with scores and reasons."""
        body = _service().resolve(CLI_ADMIN, name, type_name="person" if person else "organization", city=city,
                                  kind=kind, affiliation=affiliation, fields=field, coauthors=coauthor,
                                  pids={"orcid": orcid} if orcid else None, limit=limit)
        if as_json:
            print_json(body)
            return
        table = new_table("得分 score", "判定 decision", "名称 name", "编号 id", "理由 reasons",
                      title=f"{name} → {'、'.join(body['keys'])}")
        for result in body["results"]:
            table.add_row(f"{result['score']:.3f}", result["decision"], record_label(result), result["id"],
                          _reasons(result["reasons"]))
        out.print(table)
        if not body["results"]:
            out.print("没有候选 no candidates: 该名称将作为新记录 / the name would become a new record")

    @registry.command("review")
    @bilingual_errors
    def review(status: Annotated[str, typer.Option(help="open | decided | all")] = "open",
               limit: Annotated[int, typer.Option(help="条数 rows")] = 50, as_json: JsonFlag = False) -> None:
        """待审核的机构候选 / Review candidates: an incoming record and the existing one it may be."""
        body = _service().review(CLI_ADMIN, status=status, limit=limit)
        if as_json:
            print_json(body)
            return
        table = new_table("候选 id", "得分 score", "关系 relation", "新记录 incoming", "已有记录 existing", "理由 reasons",
                      title=f"共 {body['meta']['count']} 条 / {body['meta']['count']} candidate(s)")
        for row in body["results"]:
            table.add_row(str(row["id"]), f"{row['score']:.3f}", row["relation"],
                          f"{row['record_name']} {row['record_id']}", f"{row['candidate_name']} {row['candidate_id']}",
                          _reasons(row["reasons"]))
        out.print(table)
        out.print("审定 decide: zhulian registry decide ID same|not-same|child|parent")

    @registry.command("decide")
    @bilingual_errors
    def decide(candidate: Annotated[int, typer.Argument(help="候选编号 candidate id")],
               decision: Annotated[str, typer.Argument(help="same（合并）| not-same（保留两条）| child（新记录为下属）"
                                                            "| parent（已有记录为下属）")],
               as_json: JsonFlag = False) -> None:
        """审定一个候选 / Decide one candidate."""
        body = _service().decide(CLI_ADMIN, candidate, decision, origin=socket.gethostname())
        _done(body, as_json, f"候选 {candidate} 已审定为 {decision} / candidate {candidate} decided: {decision}")

    @registry.command("merge")
    @bilingual_errors
    def merge(loser: Annotated[str, typer.Argument(help="被合并的记录 the record merged away")],
              survivor: Annotated[str, typer.Argument(help="保留的记录 the record kept")],
              as_json: JsonFlag = False) -> None:
        """合并两条记录；被合并者的编号此后解析到保留者 / Merge; the merged-away id resolves to the survivor."""
        body = _service().merge(CLI_ADMIN, loser, survivor, origin=socket.gethostname())
        _done(body, as_json, f"{body['merged']} 已合并到 merged into {body['into']}")

    @registry.command("split")
    @bilingual_errors
    def split(merged: Annotated[str, typer.Argument(help="曾被合并的记录 a merged-away record")],
              as_json: JsonFlag = False) -> None:
        """撤销合并，恢复为独立记录 / Undo a merge: the record comes back on its own."""
        body = _service().split(CLI_ADMIN, merged, origin=socket.gethostname())
        _done(body, as_json, f"已恢复为 restored as {body['restored']['id']}（原编号 old id {body['old_id']}）")

    @registry.command("parent")
    @bilingual_errors
    def parent(child: Annotated[str, typer.Argument(help="下属单位 the unit")],
               parent_ref: Annotated[str, typer.Argument(metavar="PARENT", help="上级机构 its parent")],
               as_json: JsonFlag = False) -> None:
        """设置上级机构（member_of）/ Record that an organisation is a unit of another."""
        body = _service().set_parent(CLI_ADMIN, child, parent_ref, origin=socket.gethostname())
        _done(body, as_json, f"{body['child']} 隶属于 is a unit of {body['parent']}")

    @registry.command("decisions")
    @bilingual_errors
    def decisions(record: Annotated[str | None, typer.Option(help="只看某条记录 one record's")] = None,
                  as_json: JsonFlag = False) -> None:
        """人工审定记录 / Human decisions, newest first."""
        rows = _service().decisions(CLI_ADMIN, record)
        if as_json:
            print_json(rows)
            return
        table = new_table("时间 at", "决定 kind", "主体 subject", "客体 object", "操作者 actor")
        for row in rows:
            table.add_row(row["at"], row["kind"], row["subject_id"], row["object_id"], row["actor"])
        out.print(table)

    app.add_typer(registry, name="registry")


def _done(body: dict[str, Any], as_json: bool, message: str) -> None:
    if as_json:
        print_json(body)
    else:
        out.print(message)
