"""``zhulian search`` and ``zhulian index rebuild|status``: thin over the search service."""

from __future__ import annotations

import re
from typing import Annotated, Any

import typer

from zhulian.config import Settings
from zhulian.console import JsonFlag, bilingual_errors, err, new_table, out, print_json
from zhulian.model import record_label

def _service() -> Any:
    from zhulian.search.service import SearchService
    from zhulian.store import Store

    settings = Settings()
    return SearchService(Store.from_settings(settings), settings=settings)


def _plain(fragment: str) -> str:
    import html

    return html.unescape(re.sub(r"</?em>", "", fragment))


def register(app: typer.Typer) -> None:
    index_app = typer.Typer(help="检索索引 / The search index (derived from the store, rebuildable)",
                            no_args_is_help=True)

    @app.command("search")
    @bilingual_errors
    def search(query: Annotated[str, typer.Argument(help="检索词：词语默认同时满足，支持 OR、\"短语\"、-排除 / "
                                                         "words ANDed; OR, \"phrase\", -exclude")],
               type_name: Annotated[str | None, typer.Option("--type", help="类型 type, e.g. orgs,papers")] = None,
               filter: Annotated[str | None, typer.Option("--filter", help="筛选 filter, e.g. city:440100")] = None,
               sort: Annotated[str | None, typer.Option(help="排序 relevance | year:desc …")] = None,
               group_by: Annotated[str | None, typer.Option("--group-by", help="分组统计 count by field")] = None,
               page: Annotated[int, typer.Option(help="页码 page")] = 1,
               per_page: Annotated[int, typer.Option("--per-page", help="每页条数 per page (≤200)")] = 20,
               as_json: JsonFlag = False) -> None:
        """全文检索所有资源 / Full-text search over every resource."""
        service = _service()
        service.catch_up()  # the index is derived: bring it up to the store's feed before answering
        body = service.search(query, type=type_name, filter=filter, sort=sort, group_by=group_by, page=page,
                              per_page=per_page)
        if as_json:
            print_json(body)
            return
        meta = body["meta"]
        if meta.get("notice_zh"):
            err.print(f"提示 note: {meta['notice_zh']} / {meta['notice']}", highlight=False, markup=False)
        table = new_table("名称 name", "类型 type", "城市 city", "命中 matched", "编号 id",
                      title=f"共 {meta['count']} 条 / {meta['count']} found ({meta['took_ms']} ms)")
        for record in body["results"]:
            matched = "；".join(_plain(f) for frags in record.get("highlights", {}).values() for f in frags[:1])
            table.add_row(record_label(record), record["type"],
                          record.get("city") or "", matched[:80], record["id"])
        out.print(table)
        for group in body.get("group_by", []):
            out.print(f"  {group['key_display_name']} ({group['key']}): {group['count']}")

    @index_app.command("rebuild")
    @bilingual_errors
    def rebuild(as_json: JsonFlag = False) -> None:
        """从存储重建索引 / Rebuild the index from the store (the old one is replaced when done)."""
        service = _service()
        if as_json:
            state = service.rebuild()
        else:
            from rich.progress import Progress

            with Progress(transient=True) as progress:
                task = progress.add_task("建立索引 indexing", total=None)
                state = service.rebuild(progress=lambda n: progress.update(task, completed=n))
        if as_json:
            print_json(state)
            return
        out.print(f"索引已重建 index rebuilt: {state['records']} 条记录 records, 变更流位置 feed position "
                  f"{state['position']}, 用时 {state['seconds']} s → {service.path}")

    @index_app.command("status")
    @bilingual_errors
    def status(as_json: JsonFlag = False) -> None:
        """索引状态：变更流位置与滞后 / Index status: feed position, the store's last sequence, lag."""
        body = _service().status()
        if as_json:
            print_json(body)
            return
        if body["rebuilding"] is not None:
            done, total = body["rebuilding"].get("records_done", 0), body["rebuilding"].get("records_total")
            share = f" ({done * 100 // total}%)" if total else ""
            out.print(f"正在重建 rebuilding: {done:,} / {total if total is not None else '?'} 条记录 records{share}，"
                      f"开始于 started {body['rebuilding'].get('started_at', '?')}；旧索引继续应答 the old index "
                      "keeps answering until the new one is in")
        if not body["built"]:
            out.print(f"索引尚未建立 no index yet at {body['path']}；运行 run `zhulian index rebuild`。"
                      f" 存储最新序号 store last seq: {body['last_seq']}")
            return
        table = new_table(show_header=False, title="检索索引 search index")
        for key, label in (("path", "位置 path"), ("position", "变更流位置 feed position"),
                           ("last_seq", "存储最新序号 store last seq"), ("lag", "滞后 lag"),
                           ("documents", "文档数 documents"), ("size_bytes", "大小 size (bytes)"),
                           ("built_at", "建立时间 built at"), ("applied_at", "最近更新 last applied")):
            table.add_row(label, str(body.get(key)))
        out.print(table)
        if not body["own_store"]:
            out.print("此索引建自另一个存储，服务启动时会重建 this index was built from another store; a server "
                      "rebuilds it when it starts (or run `zhulian index rebuild`)")

    app.add_typer(index_app, name="index")
