"""The harvester: a hub reads other nodes' change feeds and writes what they publish into its own store.

Each page of a feed is checked whole (JSON, schema, cursor order, origins the node may speak for) and then
applied in one transaction together with the cursor it ends at, so a harvest killed at any moment resumes from
its last committed page with nothing lost and nothing twice. A record is only ever changed by its own origin:
a change that would overwrite a record of another origin (or of this node) is kept as a conflict for a person
to settle (``conflicts.resolve``), never merged. The packaged region records are the exception: every node holds
them under the same ids, so a copy from another node of one this node holds already is no conflict.
One node failing, however it fails, never stops the harvest of the others; its failure is recorded and backed off.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any

import httpx
import sqlalchemy as sa
from pydantic import ValidationError

from zhulian import hooks
from zhulian.config import Settings
from zhulian.errors import Problem, ZhulianError, conflict, invalid, not_found
from zhulian.exchange.formats import BadJSON, read_json
from zhulian.federation.conflicts import list_conflicts
from zhulian.federation.feed import PROTOCOL, FeedEntry, FeedPage, NodeIdentity, parse_sets
from zhulian.federation.locks import NodeHarvestLock
from zhulian.federation.module_feeds import (MODULE_PROTOCOL, Change, ModuleEntry, ModuleFeed, ModulePage,
                                             module_feeds, record_origins)
from zhulian.federation.tables import conflicts, feed_cursors, nodes, origin_revisions, origins
from zhulian.region import reference_ids
from zhulian.store import Store, WriteResult, Writer, content_of, now, pids, records

log = logging.getLogger("zhulian.federation")

NAME_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}"
MAX_BACKOFF_S = 3600
TRANSIENT = (httpx.TransportError,)
AUDIT_ACTIONS = {"created": "create", "updated": "update", "deleted": "delete"}


class HarvestError(Exception):
    """A harvest step refused; nothing of the page it concerned was written."""

    def __init__(self, message: str, message_zh: str, *, transient: bool = False) -> None:
        super().__init__(f"{message_zh} / {message}")
        self.message, self.message_zh, self.transient = message, message_zh, transient


@dataclass
class Outcome:
    """What one harvest of one node did."""

    node: str
    ok: bool = True
    pages: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    skipped: int = 0  # changes already held (same or newer origin revision)
    conflicts: int = 0
    cursor: str = ""
    error: str | None = None
    feeds: dict[str, dict[str, int]] = field(default_factory=dict)  # per module feed: pages, stored, skipped

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _Applied:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    skipped: int = 0
    conflicts: list[dict[str, Any]] = field(default_factory=list)
    origins: dict[str, FeedEntry] = field(default_factory=dict)  # the latest entry written per record
    changes: list[tuple[FeedEntry, int, str]] = field(default_factory=list)  # entry, local revision, audit action
    organisations: list[dict[str, Any]] = field(default_factory=list)  # created or changed by the page


class Harvester:
    def __init__(self, store: Store, settings: Settings | None = None, *,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.store = store
        self.settings = settings or Settings()
        self.node = self.settings.node_identity()
        self._client = httpx.Client(timeout=self.settings.harvest_timeout_s, transport=transport,
                                    headers={"User-Agent": f"zhulian-harvester ({self.node})"})

    def close(self) -> None:
        self._client.close()

    # -- the nodes this node harvests ---------------------------------------------------------------

    def add(self, name: str, url: str, key: str, *, sets: str | None = None, interval_s: int = 300,
            check: bool = True) -> dict[str, Any]:
        """Register a node, after checking that it answers the protocol and takes the key unless ``check`` is off
        (a node that is down today can still be registered)."""
        if not re.fullmatch(NAME_PATTERN, name):
            raise invalid([Problem("name", name, "use letters, digits, '-', '_' or '.', at most 64",
                                   "名称只能含字母、数字、-、_ 或 .，不超过 64 个字符")], "query")
        if not url.startswith(("http://", "https://")):
            raise invalid([Problem("url", url, "the node's base URL, e.g. http://10.0.0.5:8000",
                                   "应为节点的基础地址，例如 http://10.0.0.5:8000")], "query")
        if interval_s < 0:
            raise invalid([Problem("interval", interval_s, "seconds between harvests; 0 harvests only on demand",
                                   "两次采集间隔秒数；0 表示只按需采集")], "query")
        url = url.rstrip("/")
        chosen = parse_sets(sets)
        remote_node = None
        if check:
            try:
                remote_node = self._identity(url, key).node
                self._fetch_page(url, key, "", chosen, limit=1)
            except HarvestError as error:
                raise ZhulianError("node_unusable", f"Node {name} at {url} cannot be harvested: {error.message}",
                                   f"无法采集节点 {name}（{url}）：{error.message_zh}", 400) from None
        row = {"name": name, "url": url, "key": key, "sets": chosen, "interval_s": interval_s, "cursor": "",
               "last_seq": 0, "remote_node": remote_node, "harvested": 0, "conflicts": 0, "added": now(),
               "failures": 0}
        with self.store.transaction() as writer:
            connection = writer.connection
            if connection.execute(sa.select(nodes.c.name).where(nodes.c.name == name)).first():
                raise conflict(f"A node named {name} is already registered; remove it first.",
                               f"已登记名为 {name} 的节点，请先删除。")
            connection.execute(nodes.insert().values(**row))
        return self.describe(name)

    def remove(self, name: str) -> None:
        with self.store.transaction() as writer:
            if not writer.connection.execute(nodes.delete().where(nodes.c.name == name)).rowcount:
                raise _no_node(name)
            writer.connection.execute(feed_cursors.delete().where(feed_cursors.c.node == name))

    def describe(self, name: str) -> dict[str, Any]:
        found = [n for n in self.list() if n["name"] == name]
        if not found:
            raise _no_node(name)
        return found[0]

    def list(self) -> list[dict[str, Any]]:
        """Every harvested node with its progress: cursor, last success, last error, lag, and per module feed its
        cursor and what it took (never the key)."""
        with self.store.engine.connect() as connection:
            rows = connection.execute(sa.select(nodes).order_by(nodes.c.name)).mappings().all()
            cursors = connection.execute(sa.select(feed_cursors).order_by(feed_cursors.c.feed)).mappings().all()
        feeds: dict[str, dict[str, Any]] = {}
        for cursor in cursors:
            feeds.setdefault(cursor["node"], {})[cursor["feed"]] = {k: v for k, v in cursor.items()
                                                                    if k not in ("node", "feed")}
        return [{**{k: v for k, v in row.items() if k != "key"}, "feeds": feeds.get(row["name"], {})} for row in rows]

    def conflicts(self, *, limit: int = 100, settled: bool = False) -> list[dict[str, Any]]:
        """Open conflicts (and settled ones with ``settled``), newest first, with both versions side by side."""
        return list_conflicts(self.store, limit=limit, settled=settled)

    def due(self) -> list[str]:
        """Nodes whose interval has passed (and whose backoff after a failure has run out)."""
        stamp = now()
        due = []
        for node in self.list():
            if node["interval_s"] <= 0:
                continue
            if node["next_attempt"] and node["next_attempt"] > stamp:
                continue
            last = node["last_attempt"]
            if last is None or _seconds_since(last) >= node["interval_s"]:
                due.append(node["name"])
        return due

    # -- harvesting ---------------------------------------------------------------------------------

    def harvest_many(self, names: list[str] | None = None, *, retries: int = 0) -> list[Outcome]:
        """Harvest each node in turn; one node failing never stops the others."""
        chosen = names or [node["name"] for node in self.list()]
        for name in chosen:
            self.describe(name)  # an unknown name is refused before anything is harvested
        return [self.harvest(name, retries=retries) for name in chosen]

    def harvest(self, name: str, *, retries: int = 0, max_pages: int | None = None) -> Outcome:
        """Harvest one node; when another process is harvesting it, wait for that to end, then take what is left."""
        self._node_row(name)  # an unknown node is refused before waiting for anything
        lock = NodeHarvestLock(self.store, name)
        lock.acquire(wait=True)
        try:
            return self._harvest_held(name, retries, max_pages)
        finally:
            lock.release()

    def harvest_if_free(self, name: str) -> Outcome | None:
        """Harvest one node unless another process is harvesting it right now (None then): for the schedule,
        which comes back to it at the next interval."""
        lock = NodeHarvestLock(self.store, name)
        if not lock.acquire(wait=False):
            return None
        try:
            return self._harvest_held(name, 0, None)
        finally:
            lock.release()

    def _harvest_held(self, name: str, retries: int, max_pages: int | None) -> Outcome:
        node = self._node_row(name)
        outcome = Outcome(name, cursor=node["cursor"])
        for attempt in range(retries + 1):
            try:
                self._harvest(node, outcome, max_pages)
                self._succeeded(name)
                return outcome
            except HarvestError as error:
                if not error.transient or attempt == retries:
                    return self._give_up(outcome, str(error), node["interval_s"])
                time.sleep(min(2 ** attempt, 30))
                node = self._node_row(name)
            except Exception as error:  # a fault of this node's (or ours on its data) must not end the others' harvest
                log.exception("harvest of %s failed unexpectedly", name)
                detail = f"{error.__class__.__name__}: {str(error)[:300]}"
                return self._give_up(outcome, f"采集时发生意外错误（{detail}），已记录，将稍后重试 / the harvest failed "
                                              f"unexpectedly ({detail}); recorded, it will be retried later",
                                     node["interval_s"])
        return outcome

    def _give_up(self, outcome: Outcome, message: str, interval_s: int) -> Outcome:
        outcome.ok, outcome.error = False, message
        self._failed(outcome.node, message, interval_s)
        return outcome

    def _harvest(self, node: dict[str, Any], outcome: Outcome, max_pages: int | None) -> None:
        self._mark(node["name"], last_attempt=now())
        identity = self._identity(node["url"], node["key"])
        if node["remote_node"] != identity.node:
            self._mark(node["name"], remote_node=identity.node)
        cursor, last_seq = node["cursor"], node["last_seq"]

        def fetch(after: str) -> FeedPage:
            return self._fetch_page(node["url"], node["key"], after, node["sets"], self.settings.harvest_page)

        # The next page is fetched while this one is written: the node serves it meanwhile.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="zhulian-fetch") as pool:
            upcoming = pool.submit(fetch, cursor)
            while max_pages is None or outcome.pages < max_pages:
                page = upcoming.result()
                entries = _checked_records(page, identity, last_seq)
                if page.meta.has_more:
                    upcoming = pool.submit(fetch, page.meta.next_cursor)
                reached = entries[-1].seq if entries else last_seq
                lag = max(0, (page.meta.last_seq or last_seq) - reached)
                applied = self._apply(node["name"], entries, page.meta.next_cursor, last_seq, lag)
                if applied.organisations:  # e.g. the registry queues look-alikes of harvested organisations
                    hooks.harvested(self.store, applied.organisations)
                outcome.pages += 1
                for what in ("created", "updated", "unchanged", "deleted", "skipped"):
                    setattr(outcome, what, getattr(outcome, what) + getattr(applied, what))
                outcome.conflicts += len(applied.conflicts)
                cursor, last_seq = page.meta.next_cursor, reached
                outcome.cursor = cursor
                if not page.meta.has_more:
                    break
            else:  # stopped after max_pages: the module feeds wait for the harvest that ends the records
                return
        self._harvest_module_feeds(node, identity, outcome)

    # -- module feeds (after the records: the master data their entries name) ------------------------

    def _harvest_module_feeds(self, node: dict[str, Any], identity: NodeIdentity, outcome: Outcome) -> None:
        offered = {offer.name: offer.version for offer in identity.feeds}
        for name, feed in module_feeds().items():
            if offered.get(name) == feed.version:  # a node without the feed, or at another version, is no error
                self._harvest_module_feed(node, identity, feed, outcome)

    def _harvest_module_feed(self, node: dict[str, Any], identity: NodeIdentity, feed: ModuleFeed,
                             outcome: Outcome) -> None:
        cursor, last_seq = self._feed_cursor(node["name"], feed.name)
        taken = outcome.feeds.setdefault(feed.name, {"pages": 0, "stored": 0, "skipped": 0})
        while True:
            body = self._get(f"{node['url']}{feed.path}", node["key"],
                             {"since": cursor, "limit": str(self.settings.harvest_page)})
            page = _module_page(body, feed)
            entries = _checked_entries(page, feed, identity, last_seq)
            stored = self._apply_module_page(node["name"], feed, entries, page.meta.next_cursor, last_seq)
            taken["pages"] += 1
            taken["stored"] += len(stored)
            taken["skipped"] += len(entries) - len(stored)
            cursor, last_seq = page.meta.next_cursor, entries[-1].seq if entries else last_seq
            if not page.meta.has_more:
                return

    def _feed_cursor(self, source: str, feed: str) -> tuple[str, int]:
        """Where the harvest of ``source``'s ``feed`` stands (its row made at the first harvest)."""
        where = (feed_cursors.c.node == source, feed_cursors.c.feed == feed)
        with self.store.transaction() as writer:
            row = writer.connection.execute(sa.select(feed_cursors.c.cursor, feed_cursors.c.last_seq)
                                            .where(*where)).first()
            if row is None:
                writer.connection.execute(feed_cursors.insert().values(node=source, feed=feed, cursor="", last_seq=0,
                                                                       harvested=0, stored=0))
                return "", 0
        return row.cursor, row.last_seq

    def _apply_module_page(self, source: str, feed: ModuleFeed, entries: list[ModuleEntry], cursor: str,
                           after_seq: int) -> list[str]:
        """A module-feed page, the origins of what it stored and the cursor it ends at, in one transaction."""
        changes = [Change(entry.seq, entry.key, entry.at, entry.data) for entry in entries]
        try:
            with self.store.transaction() as writer:
                stored = feed.apply(writer, source, changes) if changes else []
                record_origins(writer, feed.name, source, entries, stored, now())
                moved = writer.connection.execute(feed_cursors.update().where(
                    feed_cursors.c.node == source, feed_cursors.c.feed == feed.name,
                    feed_cursors.c.last_seq == after_seq).values(
                        cursor=cursor, last_seq=entries[-1].seq if entries else after_seq,
                        harvested=feed_cursors.c.harvested + len(entries),
                        stored=feed_cursors.c.stored + len(stored)))
                if not moved.rowcount:  # another harvest of this node committed meanwhile; its pages stand
                    raise ZhulianError("busy", f"another harvest of {source} is running",
                                       f"{source} 正在被另一个采集进程采集", 409)
        except ZhulianError as error:
            raise HarvestError(f"a page of {feed.name} was refused and nothing of it written: {_detail(error)}",
                               f"{feed.name} 的一页被拒绝，未写入任何内容：{_detail(error, zh=True)}") from None
        return stored

    # -- talking to a node --------------------------------------------------------------------------

    def _identity(self, url: str, key: str) -> NodeIdentity:
        body = self._get(f"{url}/api/v1/node", key, {})
        try:
            identity = NodeIdentity.model_validate(body)
        except ValidationError as error:
            raise HarvestError(f"{url}/api/v1/node is not a Zhulian node description: {_first(error)}",
                               f"{url}/api/v1/node 不是珠联节点描述：{_first(error)}") from None
        if identity.protocol != PROTOCOL:
            raise HarvestError(f"the node speaks {identity.protocol!r}, not {PROTOCOL!r}",
                               f"该节点使用协议 {identity.protocol!r}，而非 {PROTOCOL!r}")
        return identity

    def _fetch_page(self, url: str, key: str, cursor: str, sets: list[str], limit: int) -> FeedPage:
        params = {"since": cursor, "limit": str(limit)}
        if sets:
            params["set"] = ",".join(sets)
        body = self._get(f"{url}/api/v1/changes", key, params)
        try:
            return FeedPage.model_validate(body)
        except ValidationError as error:
            raise HarvestError(f"the feed page does not follow {PROTOCOL}: {_first(error)}",
                               f"变更流页面不符合 {PROTOCOL}：{_first(error)}") from None

    def _get(self, url: str, key: str, params: dict[str, str]) -> Any:
        limit = self.settings.harvest_max_bytes
        try:
            with self._client.stream("GET", url, params=params, headers={"Authorization": f"Bearer {key}"}) as reply:
                body = b"".join(_capped(reply.iter_bytes(), limit))
        except httpx.TimeoutException:
            raise HarvestError(f"{url} did not answer within {self.settings.harvest_timeout_s:g} s",
                               f"{url} 在 {self.settings.harvest_timeout_s:g} 秒内没有应答", transient=True) from None
        except TRANSIENT as error:
            raise HarvestError(f"{url} is unreachable ({error.__class__.__name__}: {error})",
                               f"无法连接 {url}（{error.__class__.__name__}：{error}）", transient=True) from None
        if reply.status_code != 200:
            raise HarvestError(f"{url} answered HTTP {reply.status_code}: {_said(body)}",
                               f"{url} 返回 HTTP {reply.status_code}：{_said(body)}",
                               transient=reply.status_code >= 500 or reply.status_code == 429)
        try:
            return read_json(body, max_bytes=limit)
        except BadJSON as error:
            raise HarvestError(f"{url} did not answer usable JSON ({error.reason})",
                               f"{url} 返回的不是可用的 JSON（{error.reason_zh}）") from None

    # -- writing a page ----------------------------------------------------------------------------

    def _apply(self, source: str, entries: list[FeedEntry], cursor: str, after_seq: int, lag: int) -> _Applied:
        """A page's entries, their origins, audit entries and conflicts, and the cursor and lag it leaves the node
        at, in one transaction."""
        applied = _Applied()
        try:
            with self.store.transaction() as writer:
                held = _held(writer.connection, [entry.id for entry in entries])
                reference_keys = [_reference_key(entry) for entry in entries]
                references = _held_references(writer.connection, reference_keys)
                run: list[FeedEntry] = []
                for entry, reference_key in zip(entries, reference_keys, strict=True):
                    verdict = self._verdict(entry, held, reference_key in references)
                    if verdict == "skip":
                        applied.skipped += 1
                    elif verdict is not None:
                        applied.conflicts.append(_conflict_row(source, entry, *verdict))
                    elif entry.op == "upsert":
                        run.append(entry)
                    else:
                        self._write_upserts(writer, source, run, held, applied)
                        run = []
                        self._write_delete(writer, source, entry, held, applied)
                    if verdict is None:
                        held[entry.id] = (entry.origin.node, entry.origin.revision, entry.op == "delete")
                self._write_upserts(writer, source, run, held, applied)
                self._record_origins(writer, source, applied)
                if applied.conflicts:
                    writer.connection.execute(conflicts.insert(), applied.conflicts)
                last_seq = entries[-1].seq if entries else None
                values: dict[str, Any] = {"cursor": cursor, "lag": lag, "harvested": nodes.c.harvested + len(entries),
                                          "conflicts": nodes.c.conflicts + len(applied.conflicts)}
                if last_seq is not None:
                    values["last_seq"] = last_seq
                moved = writer.connection.execute(nodes.update().where(
                    nodes.c.name == source, nodes.c.last_seq == after_seq).values(**values))
                if not moved.rowcount:  # another harvest of this node committed meanwhile; its pages stand
                    raise ZhulianError("busy", f"another harvest of {source} is running",
                                       f"{source} 正在被另一个采集进程采集", 409)
                # one audit entry per changed record, written as one multi-row insert rather than a statement each
                actor = f"harvest:{source}"
                writer.log_many([{"actor": actor, "role": "harvester", "action": action, "record_id": entry.id,
                                  "revision": revision, "origin": actor,
                                  "detail": {"origin_node": entry.origin.node,
                                             "origin_revision": entry.origin.revision, "cursor": cursor}}
                                 for entry, revision, action in applied.changes])
        except ZhulianError as error:
            raise HarvestError(f"the page was refused and nothing of it written: {_detail(error)}",
                               f"该页被拒绝，未写入任何内容：{_detail(error, zh=True)}") from None
        return applied

    def _verdict(self, entry: FeedEntry, held: dict[str, tuple[str, int, bool]],
                 shared: bool) -> tuple[str, str] | str | None:
        """None to write the entry, "skip" when it is already held, or the reason for a conflict; ``shared`` when
        it is a packaged region record this node holds too."""
        if entry.id not in held:
            return None if entry.op == "upsert" and not shared else "skip"  # or a tombstone for what we never held
        origin, revision, deleted = held[entry.id]
        if origin != entry.origin.node and shared:
            return "skip"
        if origin == "":
            return (f"{entry.id} is a record of this node; a harvest never overwrites it",
                    f"{entry.id} 是本节点的记录，采集不会覆盖它")
        if origin != entry.origin.node:
            return (f"{entry.id} is held from origin {origin}, not {entry.origin.node}",
                    f"{entry.id} 已有来源 {origin}，而非 {entry.origin.node}")
        if entry.origin.revision <= revision or deleted:
            return "skip"
        return None

    def _write_upserts(self, writer: Writer, source: str, run: list[FeedEntry],
                       held: dict[str, tuple[str, int, bool]], applied: _Applied) -> None:
        if not run:
            return
        by_position = {index: entry for index, entry in enumerate(run)}
        by_id = {entry.id: entry for entry in run}

        owners: dict[str, str] = {}  # entry id -> the local record its identifiers belong to

        def same_record_only(record: Any, existing: dict[str, Any] | None) -> None:
            if existing is not None and existing["id"] != record.id:
                if _same_fact(by_id[record.id].record, existing):
                    raise ZhulianError(AGREES, "the same record is held here already", "本节点已有相同的记录", 409)
                owners[record.id] = existing["id"]
                raise conflict(f"its identifiers belong to {existing['id']} here",
                               f"其标识符在本节点属于 {existing['id']}")

        results = writer.upsert_many([content_of(entry.record) | {"id": entry.id} for entry in run],
                                     collect_errors=True, authorise=same_record_only)
        refused = [r for r in results if r.error is not None and r.error.code not in ("conflict", AGREES)]
        if refused:
            first = refused[0]
            raise invalid([Problem(f"{by_position[first.index].id}.{p.field}", p.value, p.reason, p.reason_zh)
                           for p in first.error.details] or [Problem(by_position[first.index].id, None,
                                                                     first.error.message, first.error.message_zh)])
        for result in results:
            entry = by_position[result.index]
            if result.error is not None and result.error.code == AGREES:
                applied.skipped += 1  # two nodes publish the same record (e.g. the demo's sample): they agree
                held.pop(entry.id, None)
                continue
            if result.error is not None:
                applied.conflicts.append(_conflict_row(source, entry, result.error.message, result.error.message_zh,
                                                       owners.get(entry.id)))
                held.pop(entry.id, None)
                continue
            setattr(applied, result.outcome, getattr(applied, result.outcome) + 1)
            self._remember(entry, result, applied)

    def _write_delete(self, writer: Writer, source: str, entry: FeedEntry, held: dict[str, tuple[str, int, bool]],
                      applied: _Applied) -> None:
        tombstone = writer.delete(entry.id)
        applied.deleted += 1
        self._remember(entry, WriteResult(0, "deleted", tombstone), applied)

    def _remember(self, entry: FeedEntry, result: WriteResult, applied: _Applied) -> None:
        """Note where a written entry came from; flushed with the page (``_record_origins``)."""
        applied.origins[entry.id] = entry
        if result.outcome in ("created", "updated") and entry.type == "organization":
            applied.organisations.append(result.record)
        if result.outcome != "unchanged":
            applied.changes.append((entry, result.record["revision"], AUDIT_ACTIONS[result.outcome]))

    @staticmethod
    def _record_origins(writer: Writer, source: str, applied: _Applied) -> None:
        connection, stamp = writer.connection, now()
        ids = list(applied.origins)
        for start in range(0, len(ids), 500):
            connection.execute(origins.delete().where(origins.c.record_id.in_(ids[start:start + 500])))
        if ids:
            connection.execute(origins.insert(), [
                {"record_id": entry.id, "origin_node": entry.origin.node, "origin_revision": entry.origin.revision,
                 "source": source, "harvested": stamp} for entry in applied.origins.values()])
        if applied.changes:
            connection.execute(origin_revisions.insert(), [
                {"record_id": entry.id, "revision": revision, "origin_node": entry.origin.node,
                 "origin_revision": entry.origin.revision} for entry, revision, _ in applied.changes])

    # -- bookkeeping --------------------------------------------------------------------------------

    def _node_row(self, name: str) -> dict[str, Any]:
        with self.store.engine.connect() as connection:
            row = connection.execute(sa.select(nodes).where(nodes.c.name == name)).mappings().first()
        if row is None:
            raise _no_node(name)
        return dict(row)

    def _mark(self, name: str, **values: Any) -> None:
        with self.store.transaction() as writer:
            writer.connection.execute(nodes.update().where(nodes.c.name == name).values(**values))

    def _succeeded(self, name: str) -> None:
        self._mark(name, last_success=now(), last_error=None, failures=0, next_attempt=None)

    def _failed(self, name: str, message: str, interval_s: int) -> None:
        failures = self._node_row(name)["failures"] + 1
        wait = min(max(1, min(interval_s or 30, 30)) * 2 ** (failures - 1), MAX_BACKOFF_S)
        retry_at = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=wait)
        self._mark(name, last_error=message, failures=failures,
                   next_attempt=retry_at.isoformat(timespec="microseconds").replace("+00:00", "Z"))


def _module_page(body: Any, feed: ModuleFeed) -> ModulePage:
    try:
        page = ModulePage.model_validate(body)
    except ValidationError as error:
        raise HarvestError(f"the {feed.name} page does not follow {MODULE_PROTOCOL}: {_first(error)}",
                           f"{feed.name} 的页面不符合 {MODULE_PROTOCOL}：{_first(error)}") from None
    if page.meta.feed != feed.name or page.meta.version != feed.version:
        raise HarvestError(f"asked for {feed.name} v{feed.version}, the node answered {page.meta.feed} "
                           f"v{page.meta.version}", f"请求 {feed.name} 第 {feed.version} 版，节点返回 "
                           f"{page.meta.feed} 第 {page.meta.version} 版")
    return page


def _checked_records(page: FeedPage, identity: NodeIdentity, last_seq: int) -> list[FeedEntry]:
    """A record page's entries, once the page as a whole keeps the protocol and each entry agrees with itself."""
    def check(entry: FeedEntry, where: str, where_zh: str) -> None:
        if entry.origin.id != entry.id or entry.record.get("id") != entry.id or entry.record.get("type") != entry.type:
            raise HarvestError(f"{where}: its id, origin id and record disagree", f"{where_zh}：编号、来源编号与记录内容不一致")

    return _checked_page(page, identity, last_seq,
                         lambda entry: (f"record {entry.id} seq {entry.seq}", f"记录 {entry.id} 序号 {entry.seq}"), check)


def _checked_entries(page: ModulePage, feed: ModuleFeed, identity: NodeIdentity, last_seq: int) -> list[ModuleEntry]:
    """A module-feed page's entries, once the page as a whole keeps the protocol and the module takes each."""
    def check(entry: ModuleEntry, where: str, where_zh: str) -> None:
        problems = feed.check(Change(entry.seq, entry.key, entry.at, entry.data))
        if problems:
            first = problems[0]
            raise HarvestError(f"{where} is refused: {first.field}: {first.reason} ({len(problems)} problem(s))",
                               f"{where_zh} 被拒绝：{first.field}：{first.reason_zh}（共 {len(problems)} 个问题）")

    return _checked_page(page, identity, last_seq, lambda entry: (f"{feed.name} seq {entry.seq} ({entry.key})",
                                                                  f"{feed.name} 序号 {entry.seq}（{entry.key}）"), check)


def _checked_page(page: FeedPage | ModulePage, identity: NodeIdentity, last_seq: int,
                  describe: Callable[[Any], tuple[str, str]], check: Callable[[Any, str, str], None]) -> list[Any]:
    """A feed page's entries, once its seq rises strictly past ``last_seq``, each origin is one the node declares,
    ``check`` takes each entry (named in messages by ``describe``, in English and Chinese) and a page with entries
    says where the next one starts. Record and module feeds keep the same page protocol."""
    previous, allowed = last_seq, set(identity.origins)
    for entry in page.results:
        where, where_zh = describe(entry)
        if entry.seq <= previous:
            raise HarvestError(f"the feed went backwards: {where} after seq {previous}",
                               f"数据流序号倒退：{where_zh} 出现在序号 {previous} 之后")
        previous = entry.seq
        if entry.origin.node not in allowed:
            raise HarvestError(f"{where} claims origin {entry.origin.node!r}, which node {identity.node!r} does not "
                               f"serve (it serves {sorted(allowed)})", f"{where_zh} 声称来源于 {entry.origin.node!r}，"
                               f"但节点 {identity.node!r} 并不提供该来源的数据（其来源为 {sorted(allowed)}）")
        check(entry, where, where_zh)
    if page.results and page.meta.next_cursor == "":
        raise HarvestError("the page has entries but no next_cursor", "页面有条目却没有 next_cursor")
    return page.results


def _held(connection: sa.Connection, ids: list[str]) -> dict[str, tuple[str, int, bool]]:
    """For each id this node holds: its origin ("" for this node's own), origin revision and whether deleted."""
    held: dict[str, tuple[str, int, bool]] = {}
    unique = sorted(set(ids))
    for start in range(0, len(unique), 500):
        chunk = unique[start:start + 500]
        rows = connection.execute(
            sa.select(records.c.id, records.c.deleted, origins.c.origin_node, origins.c.origin_revision)
            .select_from(records.outerjoin(origins, origins.c.record_id == records.c.id))
            .where(records.c.id.in_(chunk)))
        for row in rows:
            held[row.id] = (row.origin_node or "", row.origin_revision or 0, row.deleted is not None)
    return held


def _conflict_row(source: str, entry: FeedEntry, reason: str, reason_zh: str,
                  local_id: str | None = None) -> dict[str, Any]:
    return {"at": now(), "source": source, "record_id": entry.id, "origin_node": entry.origin.node,
            "origin_revision": entry.origin.revision, "reason": reason, "reason_zh": reason_zh,
            "record": entry.record, "local_id": local_id or entry.id}


AGREES = "agrees"  # the outcome of an entry whose identifiers name a local record with the same content
# What differs between two nodes' copies of one record without making them different records.
_ENVELOPE = frozenset({"id", "node", "revision", "created", "updated", "deleted"})


def _same_fact(incoming: dict[str, Any], existing: dict[str, Any]) -> bool:
    """Whether a harvested record says exactly what the local record its identifiers name says: then it is the
    same fact published twice (two nodes that loaded the same data), not a conflict to settle."""
    return ({k: v for k, v in incoming.items() if k not in _ENVELOPE}
            == {k: v for k, v in existing.items() if k not in _ENVELOPE})


def _reference_key(entry: FeedEntry) -> str | None:
    """The ``ref`` pid of an entry that is one of the packaged region records, else None."""
    ref = (entry.record.get("pids") or {}).get("ref")
    return ref if isinstance(ref, str) and ref in reference_ids() else None


def _held_references(connection: sa.Connection, reference_keys: list[str | None]) -> set[str]:
    """Those of the entries' ``ref`` pids (``_reference_key``) that this node holds already."""
    keys = sorted({key for key in reference_keys if key})
    if not keys:
        return set()
    rows = connection.execute(sa.select(pids.c.value).where(pids.c.scheme == "ref", pids.c.value.in_(keys)))
    return set(rows.scalars())


def _capped(chunks: Iterator[bytes], limit: int) -> Iterator[bytes]:
    size = 0
    for chunk in chunks:
        size += len(chunk)
        if size > limit:
            raise HarvestError(f"the answer is larger than the {limit:,} bytes a harvest accepts",
                               f"应答超过采集允许的 {limit:,} 字节")
        yield chunk


def _said(body: bytes) -> str:
    """What an error answer said, briefly: the error envelope's message if there is one."""
    try:
        error = json.loads(body)["error"]
        return f"{error['code']}: {error['message']}"
    except (ValueError, KeyError, TypeError):
        return body[:200].decode("utf-8", "replace")


def _first(error: ValidationError) -> str:
    problem = error.errors()[0]
    return f"{'.'.join(str(p) for p in problem['loc'])}: {problem['msg']} ({error.error_count()} problem(s))"


def _detail(error: ZhulianError, *, zh: bool = False) -> str:
    if error.details:
        p = error.details[0]
        return f"{p.field}: {p.reason_zh if zh else p.reason} ({p.value!r})"
    return error.message_zh if zh else error.message


def _seconds_since(stamp: str) -> float:
    then = dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    return (dt.datetime.now(dt.UTC) - then).total_seconds()


def _no_node(name: str) -> ZhulianError:
    error = not_found(name)
    error.message = f"No harvested node named {name!r}; see `zhulian nodes list`."
    error.message_zh = f"没有名为 {name!r} 的采集节点，请查看 `zhulian nodes list`。"
    return error
