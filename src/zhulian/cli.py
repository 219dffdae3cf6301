"""The ``zhulian`` command: a thin layer over the store and the region loader."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import typer

from zhulian.access import CLI_ADMIN, CLI_ORIGIN, ROLES, create_key, list_keys, revoke_key
from zhulian.config import Settings
from zhulian.console import JsonFlag, bilingual_errors, err, new_table, open_store, out, print_json, stream_json_array
from zhulian.errors import ZhulianError
from zhulian.model import TYPE_LABELS, TYPES, json_schema, record_label, resolve_type
from zhulian.plugins import modules_with
from zhulian.records import RecordService
from zhulian.store import Store

app = typer.Typer(help="珠联 Zhulian — 珠三角科技协同创新平台 / PRD S&T collaborative-innovation platform",
                  no_args_is_help=True, pretty_exceptions_enable=False)
@app.command()
@bilingual_errors
def init(with_region: Annotated[bool, typer.Option("--with-region", help="载入区域参考数据 / load the region data")]
         = False) -> None:
    """创建或升级数据库 / Create or upgrade the database (and optionally load the region's reference data)."""
    settings = Settings()
    store = Store.from_settings(settings)
    out.print(f"数据库已就绪 database ready: {store.engine.url.render_as_string(hide_password=True)}")
    if with_region:
        _load_region(store)


def _load_region(store: Store) -> None:
    from zhulian.records.reference import reconcile_region

    diffs = reconcile_region(store, CLI_ADMIN, CLI_ORIGIN, apply_upstream=False)
    _print_outcomes(diffs)
    upstream = sum(bool(d.upstream) for d in diffs)
    if upstream:
        out.print(f"  · 打包的参考数据有 {upstream} 条记录已更新，未自动应用：zhulian region diff 查看，zhulian region apply 应用 / "
                  f"the packaged reference data changed for {upstream} record(s), not applied: see `zhulian region "
                  "diff`, apply with `zhulian region apply`", highlight=False, markup=False, soft_wrap=True)


def _load_sample(store: Store) -> None:
    """The demo's small real sample (universities, papers, patents), imported like any file: audited, matched by
    identifier, so a second run changes nothing."""
    from zhulian.demo_data import sample_files
    from zhulian.exchange.service import ExchangeService

    service = ExchangeService(RecordService(store))
    for path, type_name, mapping in sample_files():
        report = service.import_file(CLI_ADMIN, path, origin=CLI_ORIGIN, type_name=type_name, mapping=mapping)
        report.close()
        out.print(f"示例数据 sample {path.name}: 新建 created {report.created}, 更新 updated {report.updated}, "
                  f"未变 unchanged {report.unchanged}", highlight=False, markup=False, soft_wrap=True)


def _print_outcomes(diffs: list) -> None:
    from collections import Counter

    outcomes = Counter(d.outcome for d in diffs)
    changed = outcomes["created"] + outcomes["updated"]
    out.print("区域参考数据 region data: "
              f"新建 created {outcomes['created']}, 更新 updated {outcomes['updated']}, "
              f"未变 unchanged {outcomes['unchanged']}" + ("" if changed else "；无改动 no change"),
              highlight=False, markup=False, soft_wrap=True)


region_app = typer.Typer(help="区域参考数据 / the region's reference data", no_args_is_help=True)
app.add_typer(region_app, name="region")


@region_app.command("diff")
@bilingual_errors
def region_diff(as_json: JsonFlag = False) -> None:
    """打包的参考数据与本库的差异（不写入）/ How the packaged reference data differs from the store (writes nothing)."""
    from zhulian.records.reference import region_diff as diff_region

    diffs = diff_region(open_store())
    if as_json:
        print_json([d.as_dict() for d in diffs])
        return
    if not diffs:
        out.print("参考数据与本库一致 / the store holds the packaged reference data as it is")
        return
    table = new_table("记录 record", "字段 field", "本库 local", "参考数据 packaged", "处理 what happens")
    for diff in diffs:
        label = f"{diff.name} [ref:{diff.ref}]"
        if diff.missing:
            table.add_row(label, "", "", "", "load 新建 creates")
        for unit in sorted(diff.fill):
            table.add_row(label, unit, "", _short(diff.fill[unit]), "load 补全 fills")
        for unit, (local, packaged) in sorted(diff.upstream.items()):
            table.add_row(label, unit, _short(local), _short(packaged), "apply 更新 updates")
        for unit, (local, packaged) in sorted(diff.kept.items()):
            table.add_row(label, unit, _short(local), _short(packaged), "保留本地修改 local edit kept")
    out.print(table)


@region_app.command("apply")
@bilingual_errors
def region_apply() -> None:
    """应用打包参考数据的更新（本地修改保留），记入审计日志 / Apply the packaged data's changes (local edits stay), audited."""
    from zhulian.records.reference import reconcile_region

    _print_outcomes(reconcile_region(open_store(), CLI_ADMIN, CLI_ORIGIN, apply_upstream=True))


def _short(value: object) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:59] + "…"


@app.command()
@bilingual_errors
def demo(port: Annotated[int, typer.Option(help="端口 / port")] = 8000,
         host: Annotated[str, typer.Option(help="监听地址 / address to listen on")] = "127.0.0.1",
         no_serve: Annotated[bool, typer.Option("--no-serve", help="只载入数据不启动服务 / load only")] = False) -> None:
    """载入区域数据并启动门户 / Load the region's data into the embedded store and serve the portal."""
    settings = Settings()
    store = Store.from_settings(settings)
    _load_region(store)
    _load_sample(store)
    table = new_table("类型 type", "记录数 records", title="数据概况 / what is loaded")
    for type_name, count in sorted(store.counts().items()):
        table.add_row(f"{TYPE_LABELS[type_name][0]} {type_name}", str(count))
    out.print(table)
    if not no_serve:
        _serve(settings, host, port)


@app.command()
@bilingual_errors
def serve(port: Annotated[int, typer.Option(help="端口 / port")] = 8000,
          host: Annotated[str, typer.Option(help="监听地址 / address to listen on")] = "127.0.0.1",
          workers: Annotated[int, typer.Option(min=1, max=64, help="工作进程数 / worker processes")] = 1,
          hj212_port: Annotated[int | None, typer.Option(
              "--hj212-port", min=1, max=65535,
              help="同时在此 TCP 端口接收监测站点的 HJ 212-2017 数据（同 ZHULIAN_HJ212_PORT）/ also take monitoring "
                   "stations' HJ 212-2017 data on this TCP port (as ZHULIAN_HJ212_PORT)")] = None) -> None:
    """启动 API 与门户 / Serve the JSON API and the portal."""
    if workers > 1 and (hj212_port is not None or os.environ.get("ZHULIAN_HJ212_PORT")):
        raise ZhulianError("bad_setting", "The HJ 212 listener (--hj212-port, ZHULIAN_HJ212_PORT) runs in one worker "
                           "process: serve with --workers 1, or run `zhulian env listen --port N` beside the workers.",
                           "HJ 212 监听（--hj212-port、ZHULIAN_HJ212_PORT）只能在单个工作进程中运行：请用 --workers 1，"
                           "或在多进程服务之外另行运行 `zhulian env listen --port N`。", 400)
    if hj212_port is not None:
        # The environment module's lifespan reads its listener's port from the environment: the flag is that
        # setting, so the core need not know the module. Set only now, when this process is about to serve.
        os.environ["ZHULIAN_HJ212_PORT"] = str(hj212_port)
    _serve(Settings(), host, port, workers)


def _serve(settings: Settings, host: str, port: int, workers: int = 1) -> None:
    import uvicorn

    from zhulian.web.app import create_app

    out.print(f"门户 portal: http://{host}:{port}/   API: http://{host}:{port}/api/v1/   (Ctrl+C 退出 to stop)")
    # On SIGTERM or Ctrl-C, requests still running get this long before they are cut off; then the app's
    # shutdown stops the index follower and any rebuild between two batches, so the process is gone in seconds.
    graceful = 2
    if workers == 1:
        uvicorn.run(create_app(settings), host=host, port=port, log_level="warning",
                    timeout_graceful_shutdown=graceful)
        return
    # Each worker process builds its own app from the same environment; one of them holds the search
    # index's writer and the harvest schedule, the others read.
    Store.from_settings(settings).close()  # migrate once, before the workers start
    uvicorn.run("zhulian.web.app:create_app", factory=True, workers=workers, host=host, port=port,
                log_level="warning", timeout_graceful_shutdown=graceful)


@app.command()
@bilingual_errors
def get(ref: Annotated[str, typer.Argument(help="记录编号或 方案:值，如 moe:4144010558 / id or scheme:value")],
        revision: Annotated[int | None, typer.Option(help="读取历史版本 / read an earlier revision")] = None,
        as_json: JsonFlag = False) -> None:
    """按编号或外部标识读取记录 / Show one record by id or scheme:value."""
    record = open_store().get(ref, revision=revision, expand=True)
    if as_json:
        print_json(record)
        return
    table = new_table(show_header=False, title=f"{record_label(record)}  [{record['id']}]")
    for key, value in record.items():
        if key != "relations":
            table.add_row(key, value if isinstance(value, str) else json.dumps(value, ensure_ascii=False))
    for relation in record["relations"]:
        other = relation.get("object") or relation.get("subject")
        arrow = "→" if "object" in relation else "←"
        table.add_row(f"{arrow} {relation['predicate']}", f"{other['name']} [{other['id']}]"
                      + (f" ({relation['role']})" if relation.get("role") else ""))
    out.print(table)


@app.command("list")
@bilingual_errors
def list_records(type_name: Annotated[str, typer.Argument(metavar="TYPE", help=f"类型 type: {', '.join(TYPES)}")],
                 filter: Annotated[str | None, typer.Option(
                     "--filter", help="筛选，如 city:440100,kind:university|institute / filter")] = None,
                 sort: Annotated[str, typer.Option(help="排序，如 name 或 updated:desc / sort")] = "id",
                 limit: Annotated[int | None, typer.Option(help="最多条数（默认全部）/ at most N (default all)")]
                 = None,
                 as_json: JsonFlag = False) -> None:
    """列出某类全部匹配记录（流式）/ List every matching record of a type, streamed."""
    store = open_store()
    type_name = resolve_type(type_name)
    if sort == "id" and limit is None:
        records = store.iterate(type_name, filter, expand=as_json)
    else:
        records = iter(store.query(type_name, filter, sort=sort, limit=limit or 10**9, expand=as_json).results)
    if limit is not None:
        records = (record for index, record in zip(range(limit), records, strict=False))
    if as_json:
        stream_json_array(records)
        return
    table = new_table("名称 name", "城市 city", "版本 rev", "编号 id")
    for record in records:
        table.add_row(record_label(record), record.get("city", ""), str(record["revision"]), record["id"])
    out.print(table)


@app.command()
@bilingual_errors
def history(ref: Annotated[str, typer.Argument(help="记录编号或 方案:值 / id or scheme:value")],
            as_json: JsonFlag = False) -> None:
    """记录的全部版本 / Every revision of a record."""
    revisions = open_store().revisions(ref)
    if as_json:
        print_json(revisions)
        return
    table = new_table("版本 revision", "操作 op", "时间 at")
    for item in revisions:
        table.add_row(str(item["revision"]), item["op"], item["at"])
    out.print(table)


@app.command()
@bilingual_errors
def changes(since: Annotated[int, typer.Option(help="从此序号之后 / after this sequence number")] = 0,
            limit: Annotated[int, typer.Option(help="最多条数 / at most N")] = 100,
            as_json: JsonFlag = False) -> None:
    """变更流 / The change feed: upserts and tombstones in order."""
    feed = open_store().changes(since, limit)
    if as_json:
        print_json(feed)
        return
    table = new_table("序号 seq", "操作 op", "编号 id", "版本 rev", "时间 at")
    for entry in feed:
        table.add_row(str(entry["seq"]), entry["op"], entry["id"], str(entry["revision"]), entry["at"])
    out.print(table)


keys_app = typer.Typer(help="API 密钥 / API keys", no_args_is_help=True)
app.add_typer(keys_app, name="keys")


@keys_app.command("create")
@bilingual_errors
def keys_create(role: Annotated[str, typer.Option(help=f"角色 role: {', '.join(ROLES)}")],
                node: Annotated[str | None, typer.Option(help="节点行政区划代码 / node adcode, e.g. 440100")] = None,
                name: Annotated[str, typer.Option(help="名称 / a name to recognise the key by")] = "",
                as_json: JsonFlag = False) -> None:
    """创建密钥（只显示一次）/ Create a key; it is shown this once and only its digest is kept."""
    key, secret = create_key(open_store(), role, node=node, name=name, principal=CLI_ADMIN, origin=CLI_ORIGIN)
    if as_json:
        print_json({**key, "key": secret})
        return
    out.print(f"密钥 key ({key['role']}, {key['id']}):\n{secret}")
    err.print("请立即保存，此密钥不会再次显示。 Save it now: it will not be shown again.")


@keys_app.command("list")
@bilingual_errors
def keys_list(as_json: JsonFlag = False) -> None:
    """列出密钥（不含密钥本身）/ List keys (never the secrets)."""
    keys = list_keys(open_store())
    if as_json:
        print_json(keys)
        return
    table = new_table("编号 id", "名称 name", "角色 role", "节点 node", "创建 created", "吊销 revoked", "最近使用 last used")
    for key in keys:
        table.add_row(*(str(key[k] or "") for k in ("id", "name", "role", "node", "created", "revoked", "last_used")))
    out.print(table)


@keys_app.command("revoke")
@bilingual_errors
def keys_revoke(key_id: Annotated[str, typer.Argument(help="密钥编号 / key id (key_…)")]) -> None:
    """吊销密钥 / Revoke a key."""
    key = revoke_key(open_store(), key_id, principal=CLI_ADMIN, origin=CLI_ORIGIN)
    out.print(f"已吊销 revoked {key['id']} at {key['revoked']}")


@app.command()
@bilingual_errors
def audit(since: Annotated[int, typer.Option(help="从此序号之后 / after this sequence number")] = 0,
          limit: Annotated[int, typer.Option(help="最多条数 / at most N")] = 100,
          record: Annotated[str | None, typer.Option(help="只看此记录 / only this record (id or scheme:value)")]
          = None,
          as_json: JsonFlag = False) -> None:
    """审计日志 / The audit log of writes (who, what, when, revision, from where)."""
    entries = RecordService(open_store()).audit(CLI_ADMIN, since=since, limit=limit, record=record)
    if as_json:
        print_json(entries)
        return
    table = new_table("序号 seq", "时间 at", "操作者 actor", "角色 role", "操作 action", "记录 record", "版本 rev", "来源 origin")
    for entry in entries:
        table.add_row(*(str(entry[k] if entry[k] is not None else "")
                        for k in ("seq", "at", "actor", "role", "action", "record_id", "revision", "origin")))
    out.print(table)


@app.command()
@bilingual_errors
def schema(type_name: Annotated[str | None, typer.Argument(metavar="[TYPE]", help="只输出一种类型 / one type")]
           = None,
           out_dir: Annotated[Path | None, typer.Option("--out", help="写入目录，每类一个文件 / write one file per type")]
           = None) -> None:
    """输出 JSON Schema / Print or write the JSON Schema of each resource type."""
    types = [resolve_type(type_name)] if type_name else list(TYPES)
    if out_dir is None:
        print_json(json_schema(types[0]) if type_name else {t: json_schema(t) for t in types})
        return
    out_dir.mkdir(parents=True, exist_ok=True)
    for type_name in types:
        path = out_dir / f"{type_name}.schema.json"
        path.write_text(json.dumps(json_schema(type_name), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    out.print(f"已写入 wrote {len(types)} 个 schema 到 to {out_dir}")


for _module in modules_with("commands"):
    _module.register(app)

if __name__ == "__main__":
    app()
