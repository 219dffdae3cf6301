"""``zhulian validate-node``: does a node keep the feed protocol (``docs/federation.md``)? Any city's IT team
can run it against its own node, or against another team's implementation, and read the report."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import httpx
from pydantic import ValidationError

from zhulian.errors import ZhulianError
from zhulian.federation.feed import MAX_LIMIT, PROTOCOL, FeedOffer, FeedPage, NodeIdentity
from zhulian.federation.module_feeds import Change, ModulePage, module_feeds
from zhulian.model import COLLECTIONS, validate_record
from zhulian.model.ids import is_id, type_of_id

SAMPLE_READS = 5  # records read back one by one, live and deleted


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    detail_zh: str


@dataclass
class Report:
    url: str
    checks: list[Check] = field(default_factory=list)
    entries: int = 0
    pages: int = 0

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)

    def add(self, name: str, problems: list[tuple[str, str]], passed: str, passed_zh: str) -> None:
        """One check: passed with a summary, or failed with its first problems (English, Chinese)."""
        if problems:
            shown = problems[:5]
            more = f" (+{len(problems) - 5} more)" if len(problems) > 5 else ""
            self.checks.append(Check(name, False, "; ".join(p[0] for p in shown) + more,
                                     "；".join(p[1] for p in shown) + more))
        else:
            self.checks.append(Check(name, True, passed, passed_zh))

    def as_dict(self) -> dict[str, Any]:
        return {"url": self.url, "ok": self.ok, "entries": self.entries, "pages": self.pages,
                "checks": [vars(check) for check in self.checks]}


class _Walk:
    """What walking the whole feed found, check by check."""

    def __init__(self) -> None:
        self.schema: list[tuple[str, str]] = []
        self.ids: list[tuple[str, str]] = []
        self.order: list[tuple[str, str]] = []
        self.tombstones: list[tuple[str, str]] = []
        self.relations: list[tuple[str, str]] = []
        self.live: dict[str, dict[str, Any]] = {}
        self.deleted: dict[str, int] = {}
        self.last_seq = 0


def validate_node(url: str, key: str | None, *, page_size: int = 200, max_entries: int = 1_000_000,
                  transport: httpx.BaseTransport | None = None) -> Report:
    url = url.rstrip("/")
    report = Report(url)
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    with httpx.Client(timeout=30, transport=transport, headers=headers) as client:
        identity = _identity(client, url, report)
        if identity is None:
            return report
        _authorisation(client, url, report)
        _paging(client, url, report)
        walk = _walk(client, url, report, page_size, max_entries)
        if walk is None:
            return report
        report.add("records", walk.schema, f"{len(walk.live)} live records valid against the exchange standard",
                   f"{len(walk.live)} 条有效记录均符合交换标准")
        report.add("ids", walk.ids, "ids and their types agree", "编号与类型一致")
        report.add("order", walk.order, "seq strictly increasing; cursors resume without gaps or repeats",
                   "序号严格递增；游标续传无缺漏无重复")
        report.add("tombstones", walk.tombstones, f"{len(walk.deleted)} tombstones final and well formed",
                   f"{len(walk.deleted)} 个墓碑格式正确且不再复活")
        report.add("relations", walk.relations, "every relation points to a record published before it",
                   "每个关系都指向此前已发布的记录")
        _read_back(client, url, report, walk)
        for offer in identity.feeds:
            _module_feed(client, url, report, offer, set(identity.origins), page_size)
    return report


def _get(client: httpx.Client, url: str, params: dict[str, Any] | None = None,
         headers: dict[str, str] | None = None) -> tuple[int, Any]:
    try:
        reply = client.get(url, params=params, headers=headers)
    except httpx.HTTPError as error:
        raise _Unreachable(f"{url}: {error.__class__.__name__}: {error}") from None
    try:
        return reply.status_code, reply.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return reply.status_code, _NotJson(reply.text[:200])


class _Unreachable(Exception):
    pass


@dataclass
class _NotJson:
    text: str


def _identity(client: httpx.Client, url: str, report: Report) -> NodeIdentity | None:
    try:
        status, body = _get(client, f"{url}/api/v1/node")
    except _Unreachable as error:
        report.add("reachable", [(f"cannot connect: {error}", f"无法连接：{error}")], "", "")
        return None
    problems, identity = [], None
    if status != 200 or isinstance(body, _NotJson):
        problems.append((f"GET /api/v1/node answered HTTP {status}, not a JSON description",
                         f"GET /api/v1/node 返回 HTTP {status}，而非 JSON 描述"))
    else:
        try:
            identity = NodeIdentity.model_validate(body)
            if identity.protocol != PROTOCOL:
                problems.append((f"protocol is {identity.protocol!r}, not {PROTOCOL!r}",
                                 f"协议为 {identity.protocol!r}，而非 {PROTOCOL!r}"))
            if identity.node not in identity.origins:
                problems.append(("the node does not list itself among its origins", "节点的来源列表中没有它自己"))
        except ValidationError as error:
            problems.append((f"the description lacks {error.errors()[0]['loc']}",
                             f"描述缺少 {error.errors()[0]['loc']}"))
    report.add("identity", problems, f"speaks {PROTOCOL}", f"使用协议 {PROTOCOL}")
    return None if problems else identity


def _authorisation(client: httpx.Client, url: str, report: Report) -> None:
    status, body = _get(client, f"{url}/api/v1/changes", headers={"Authorization": ""})
    problems = []
    if status != 401:
        problems.append((f"the feed without a key answered HTTP {status}, not 401",
                         f"不带密钥读取变更流返回 HTTP {status}，而非 401"))
    elif not _is_error_envelope(body):
        problems.append(("the 401 does not use the error envelope {ok: false, error: {code, message, message_zh}}",
                         "401 应答未使用统一错误格式 {ok: false, error: {code, message, message_zh}}"))
    report.add("authorisation", problems, "the feed needs a harvester key", "变更流需要采集者密钥")


def _paging(client: httpx.Client, url: str, report: Report) -> None:
    problems = []
    status, body = _get(client, f"{url}/api/v1/changes", {"limit": 1})
    if status != 200:
        report.add("paging", [(f"the feed with the given key answered HTTP {status}: {_said(body)}",
                               f"用所给密钥读取变更流返回 HTTP {status}：{_said(body)}")], "", "")
        return
    if len(body.get("results", [])) > 1:
        problems.append(("limit=1 returned more than one entry", "limit=1 返回了多于一条"))
    status, body = _get(client, f"{url}/api/v1/changes", {"limit": MAX_LIMIT + 1})
    if status == 200 and len(body.get("results", [])) > MAX_LIMIT:
        problems.append((f"limit={MAX_LIMIT + 1} returned more than {MAX_LIMIT} entries",
                         f"limit={MAX_LIMIT + 1} 返回了多于 {MAX_LIMIT} 条"))
    elif status != 200 and not (400 <= status < 500 and _is_error_envelope(body)):
        problems.append((f"limit={MAX_LIMIT + 1} answered HTTP {status} without the error envelope",
                         f"limit={MAX_LIMIT + 1} 返回 HTTP {status} 且未使用统一错误格式"))
    status, body = _get(client, f"{url}/api/v1/changes", {"since": "not a cursor"})
    if not (400 <= status < 500 and _is_error_envelope(body)):
        problems.append((f"a malformed cursor answered HTTP {status}, not a 4xx error",
                         f"格式错误的游标返回 HTTP {status}，而非 4xx 错误"))
    report.add("paging", problems, f"limit honoured (≤ {MAX_LIMIT}); bad cursors refused",
               f"遵守 limit（≤ {MAX_LIMIT}）；拒绝错误游标")


def _walk(client: httpx.Client, url: str, report: Report, page_size: int, max_entries: int) -> _Walk | None:
    walk, cursor, resumed = _Walk(), "", False
    while report.entries < max_entries:
        status, body = _get(client, f"{url}/api/v1/changes", {"since": cursor, "limit": page_size})
        if status != 200 or isinstance(body, _NotJson):
            report.add("feed", [(f"page after cursor {cursor!r} answered HTTP {status}: {_said(body)}",
                                 f"游标 {cursor!r} 之后的页面返回 HTTP {status}：{_said(body)}")], "", "")
            return None
        try:
            page = FeedPage.model_validate(body)
        except ValidationError as error:
            problem = error.errors()[0]
            report.add("feed", [(f"page after cursor {cursor!r} breaks the page schema at {problem['loc']}: "
                                 f"{problem['msg']}", f"游标 {cursor!r} 之后的页面不符合页面格式，位置 "
                                 f"{problem['loc']}：{problem['msg']}")], "", "")
            return None
        report.pages += 1
        if not resumed and page.results and page.meta.has_more:
            resumed = True
            _check_resumption(client, url, page, walk)
        for entry in page.results:
            report.entries += 1
            _check_entry(entry, walk)
        if not page.meta.has_more:
            break
        if not page.results or page.meta.next_cursor == cursor:
            walk.order.append((f"has_more but the page after {cursor!r} does not advance",
                               f"has_more 为真，但游标 {cursor!r} 之后的页面没有前进"))
            break
        cursor = page.meta.next_cursor
    report.add("feed", [], f"{report.entries} entries in {report.pages} pages", f"共 {report.pages} 页 "
               f"{report.entries} 条")
    return walk


def _check_resumption(client: httpx.Client, url: str, page: FeedPage, walk: _Walk) -> None:
    """Asking again from the middle of a page must continue exactly after the entry the cursor names."""
    status, body = _get(client, f"{url}/api/v1/changes", {"since": page.meta.next_cursor, "limit": 1})
    if status != 200:
        walk.order.append((f"next_cursor {page.meta.next_cursor!r} was refused (HTTP {status})",
                           f"next_cursor {page.meta.next_cursor!r} 被拒绝（HTTP {status}）"))
        return
    following = body.get("results", [])
    if following and following[0].get("seq", 0) <= page.results[-1].seq:
        walk.order.append((f"resuming from next_cursor repeats seq {following[0].get('seq')}",
                           f"从 next_cursor 续传重复了序号 {following[0].get('seq')}"))


def _check_entry(entry: Any, walk: _Walk) -> None:
    where, where_zh = f"seq {entry.seq} ({entry.id})", f"序号 {entry.seq}（{entry.id}）"
    if entry.seq <= walk.last_seq:
        walk.order.append((f"{where} after seq {walk.last_seq}", f"{where_zh} 出现在序号 {walk.last_seq} 之后"))
    walk.last_seq = max(walk.last_seq, entry.seq)
    if not is_id(entry.id) or type_of_id(entry.id) != entry.type or entry.record.get("id") != entry.id:
        walk.ids.append((f"{where}: id, type {entry.type!r} and record id disagree",
                         f"{where_zh}：编号、类型 {entry.type!r} 与记录编号不一致"))
        return
    if entry.id in walk.deleted:
        walk.tombstones.append((f"{where}: the record comes back after its tombstone",
                                f"{where_zh}：记录在墓碑之后又出现"))
        return
    if entry.op == "delete":
        if not entry.record.get("deleted"):
            walk.tombstones.append((f"{where}: a tombstone without its deleted time", f"{where_zh}：墓碑缺少删除时间"))
        walk.live.pop(entry.id, None)
        walk.deleted[entry.id] = entry.revision
        return
    try:
        validate_record(entry.record)
    except ZhulianError as error:
        first = error.details[0] if error.details else None
        walk.schema.append((f"{where}: {first.field if first else ''} {first.reason if first else error.message}",
                            f"{where_zh}：{first.field if first else ''} {first.reason_zh if first else error.message_zh}"))
        return
    for relation in entry.record.get("relations", []):
        other = relation.get("object") or relation.get("subject")
        if is_id(str(other)) and other not in walk.live:
            walk.relations.append((f"{where}: {relation.get('predicate')} → {other}, which the feed has not published "
                                   "(or has deleted) before", f"{where_zh}：{relation.get('predicate')} → {other}，"
                                   "该记录此前未发布或已删除"))
    walk.live[entry.id] = {"type": entry.type, "revision": entry.revision, "access": entry.record.get("access")}


def _read_back(client: httpx.Client, url: str, report: Report, walk: _Walk) -> None:
    """A few live records read by id answer as the feed left them; a few deleted ones answer 410."""
    problems = []
    readable = [(record_id, seen) for record_id, seen in walk.live.items() if seen["access"] != "internal"]
    for record_id, seen in readable[-SAMPLE_READS:]:
        status, body = _get(client, f"{url}/api/v1/{COLLECTIONS[seen['type']]}/{record_id}")
        if status != 200 or body.get("revision", 0) < seen["revision"]:
            problems.append((f"GET {record_id} answered HTTP {status} at revision {_field(body, 'revision')}, "
                             f"the feed had revision {seen['revision']}", f"读取 {record_id} 返回 HTTP {status}，"
                             f"版本 {_field(body, 'revision')}，变更流中为第 {seen['revision']} 版"))
    for record_id in list(walk.deleted)[-SAMPLE_READS:]:
        status, _body = _get(client, f"{url}/api/v1/{COLLECTIONS[type_of_id(record_id)]}/{record_id}")
        if status != 410:
            problems.append((f"GET {record_id} (deleted) answered HTTP {status}, not 410",
                             f"读取已删除的 {record_id} 返回 HTTP {status}，而非 410"))
    report.add("read back", problems, "records read by id match the feed; deleted ones answer 410",
               "按编号读取的记录与变更流一致；已删除的返回 410")


def _module_feed(client: httpx.Client, url: str, report: Report, offer: FeedOffer, origins: set[str],
                 page_size: int) -> None:
    """A module feed the node lists: it needs a key, pages in seq order and resumes from its cursors, every
    origin is one the node serves, and (when this Zhulian has the same feed) the module takes every entry."""
    path, problems = f"/api/v1/feeds/{offer.name}", []
    status, body = _get(client, f"{url}{path}", headers={"Authorization": ""})
    if status != 401 or not _is_error_envelope(body):
        problems.append((f"{path} without a key answered HTTP {status}, not a 401 error",
                         f"不带密钥读取 {path} 返回 HTTP {status}，而非 401 错误"))
    local = module_feeds().get(offer.name)
    checks_content = local is not None and local.version == offer.version
    cursor, last_seq, entries = "", 0, 0
    while len(problems) < 5:  # the report shows five problems; walking on would only find more
        page, refusal = _module_page(client, f"{url}{path}", cursor, page_size)
        if page is None:
            problems.append(refusal)
            break
        for entry in page.results:
            where, where_zh = f"{offer.name} seq {entry.seq}", f"{offer.name} 序号 {entry.seq}"
            if entry.seq <= last_seq:
                problems.append((f"{where} after seq {last_seq}", f"{where_zh} 出现在序号 {last_seq} 之后"))
            if entry.origin.node not in origins:
                problems.append((f"{where}: origin {entry.origin.node!r} is not among the node's origins",
                                 f"{where_zh}：来源 {entry.origin.node!r} 不在节点的来源列表中"))
            for problem in local.check(Change(entry.seq, entry.key, entry.at, entry.data)) if checks_content else []:
                problems.append((f"{where}: {problem.field}: {problem.reason}",
                                 f"{where_zh}：{problem.field}：{problem.reason_zh}"))
            last_seq, entries = max(last_seq, entry.seq), entries + 1
        if not page.meta.has_more:
            break
        if not page.results or page.meta.next_cursor == cursor:
            problems.append((f"{path}: has_more but the page after {cursor!r} does not advance",
                             f"{path}：has_more 为真，但游标 {cursor!r} 之后的页面没有前进"))
            break
        cursor = page.meta.next_cursor
    what = "entries checked by this Zhulian's module" if checks_content else "entries (content not known here)"
    report.add(f"feed {offer.name}", problems, f"{entries} {what}, in order, origins served, needs a key",
               f"{entries} 条，顺序正确，来源均在列，需要密钥" + ("，内容已由本地模块检查" if checks_content else ""))


def _module_page(client: httpx.Client, url: str, cursor: str, page_size: int
                 ) -> tuple[ModulePage | None, tuple[str, str]]:
    """A module-feed page, or why there is none (English, Chinese)."""
    status, body = _get(client, url, {"since": cursor, "limit": page_size})
    if status != 200:
        return None, (f"{url} after cursor {cursor!r} answered HTTP {status}: {_said(body)}",
                      f"{url} 游标 {cursor!r} 之后返回 HTTP {status}：{_said(body)}")
    try:
        return ModulePage.model_validate(body), ("", "")
    except ValidationError as error:
        problem = error.errors()[0]
        return None, (f"{url} after cursor {cursor!r} breaks the page schema at {problem['loc']}: {problem['msg']}",
                      f"{url} 游标 {cursor!r} 之后的页面不符合页面格式，位置 {problem['loc']}：{problem['msg']}")


def _is_error_envelope(body: Any) -> bool:
    return (isinstance(body, dict) and body.get("ok") is False and isinstance(body.get("error"), dict)
            and {"code", "message", "message_zh"} <= set(body["error"]))


def _said(body: Any) -> str:
    if isinstance(body, _NotJson):
        return f"not JSON: {body.text!r}"
    if _is_error_envelope(body):
        return f"{body['error']['code']}: {body['error']['message']}"
    return str(body)[:200]


def _field(body: Any, name: str) -> Any:
    return body.get(name) if isinstance(body, dict) else None
