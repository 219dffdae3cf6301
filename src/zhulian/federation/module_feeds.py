"""Module feeds: how a module federates a table of its own that is not made of records (trace events today;
environment values and sharing bookings next). docs/modules.md §8 is the contract; in short, a module's
``<module>/federation.py`` declares ``FEEDS``, a tuple of ``ModuleFeed``, and the core does the rest: it serves
each feed at ``GET /api/v1/feeds/{name}`` (protocol ``zhulian-module-feed/1``, docs/federation.md §5), lists it
in the node description, and a hub harvesting a node pulls every feed both sides have, page by page, each page
applied in one transaction with its cursor and the origin of every entry it stored.

The module says only what is its own: which changes follow a cursor, whether an entry is well formed, and how
to store a harvested page idempotently. Cursors, origins, paging, access and the wire format are the core's."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.dialects import postgresql, sqlite

from zhulian.access import Principal
from zhulian.errors import Problem, ZhulianError, invalid
from zhulian.federation.feed import MAX_LIMIT, decode_cursor, encode_cursor
from zhulian.federation.tables import feed_origins
from zhulian.plugins import modules_with
from zhulian.store import Store, Writer

MODULE_PROTOCOL = "zhulian-module-feed/1"
_NAME = re.compile(r"[a-z][a-z0-9_]{0,48}\.[a-z][a-z0-9_]{0,48}")  # a path segment and a cursor's name


@dataclass(frozen=True)
class Change:
    """One entry of a module feed: ``seq`` orders the feed (append-only, or bumped on every update), ``key``
    names the row on every node (an eventID, say), ``at`` is when it was written, ``data`` is what travels."""

    seq: int
    key: str
    at: str
    data: dict[str, Any]


@dataclass(frozen=True)
class ModuleFeed:
    """A table a module federates. ``name`` is ``<module>.<what>`` (the path segment and the cursor's name);
    ``changes(connection, after_seq, limit)`` answers the changes with a seq above ``after_seq`` in seq order,
    at most ``limit``; ``check(change)`` the problems of one harvested change (none when it may be stored);
    ``apply(writer, source, changes)`` stores a harvested page's changes in the hub's transaction, skipping what
    the hub holds already, and answers the keys it stored; ``roles`` may read the feed."""

    name: str
    label_zh: str
    label_en: str
    changes: Callable[[sa.Connection, int, int], list[Change]]
    check: Callable[[Change], list[Problem]]
    apply: Callable[[Writer, str, list[Change]], list[str]]
    roles: tuple[str, ...] = ("harvester", "admin")
    version: int = 1

    @property
    def path(self) -> str:
        return f"/api/v1/feeds/{self.name}"

    def offer(self) -> dict[str, Any]:
        """How the node description lists the feed."""
        return {"name": self.name, "version": self.version, "path": self.path, "label_zh": self.label_zh,
                "label_en": self.label_en}


# What a module-feed page must look like, as harvesters and the validator check it.
class ModuleOrigin(BaseModel):
    node: str


class ModuleEntry(BaseModel):
    seq: int
    key: str
    at: str
    origin: ModuleOrigin
    data: dict[str, Any]


class ModuleMeta(BaseModel):
    feed: str
    version: int
    next_cursor: str
    has_more: bool


class ModulePage(BaseModel):
    meta: ModuleMeta
    results: list[ModuleEntry]


@cache
def module_feeds() -> dict[str, ModuleFeed]:
    """Every module's feeds by name, in module order; two modules declaring one name fail at start-up."""
    found: dict[str, ModuleFeed] = {}
    for module in modules_with("federation"):
        for feed in getattr(module, "FEEDS", ()):
            if not _NAME.fullmatch(feed.name):
                raise ImportError(f"{module.__name__} declares a feed named {feed.name!r}: name it <module>.<what> in "
                                  f"lowercase letters, digits and _ / {module.__name__} 的数据流名称 {feed.name!r} 不合规："
                                  "应为 <模块>.<内容>，只含小写字母、数字和 _")
            if feed.name in found:
                raise ImportError(f"two modules declare the feed {feed.name!r} / 两个模块声明了同名的联邦数据流 {feed.name!r}")
            found[feed.name] = feed
    return found


def feed_named(name: str) -> ModuleFeed:
    feed = module_feeds().get(name)
    if feed is None:
        offered = ", ".join(module_feeds()) or "none"
        raise ZhulianError("not_found", f"This node serves no feed {name!r}; it serves: {offered} (GET /api/v1/node).",
                           f"本节点没有名为 {name!r} 的数据流；现有：{offered}（见 GET /api/v1/node）。", 404)
    return feed


def check_reader(feed: ModuleFeed, principal: Principal) -> None:
    if principal.role == "anonymous":
        raise ZhulianError("unauthorized", f"The feed {feed.name} needs a harvester key (Authorization: Bearer KEY).",
                           f"读取数据流 {feed.name} 需要采集者密钥（Authorization: Bearer 密钥）。", 401)
    if principal.role not in feed.roles:
        raise ZhulianError("forbidden", f"The feed {feed.name} is for {', '.join(feed.roles)} keys.",
                           f"数据流 {feed.name} 仅供 {'、'.join(feed.roles)} 密钥读取。", 403)


def module_feed_page(store: Store, node: str, feed: ModuleFeed, *, since: str | None = None,
                     limit: int = 100) -> dict[str, Any]:
    """One page of a module feed after the cursor ``since``, each entry with its origin (this node, unless
    the entry was harvested: then the origin it came with)."""
    after = decode_cursor(since)
    if not 1 <= limit <= MAX_LIMIT:
        raise invalid([Problem("limit", limit, f"1 to {MAX_LIMIT}", f"应为 1 到 {MAX_LIMIT}")], "query")
    with store.engine.connect() as connection:
        changes = feed.changes(connection, after, limit + 1)
        has_more, changes = len(changes) > limit, changes[:limit]
        held = _origins(connection, feed.name, [change.key for change in changes])
    results = [{"seq": change.seq, "key": change.key, "at": change.at,
                "origin": {"node": held.get(change.key, node)}, "data": change.data} for change in changes]
    return {"meta": {"protocol": MODULE_PROTOCOL, "node": node, "feed": feed.name, "version": feed.version,
                     "count": len(results), "since": since or "",
                     "next_cursor": encode_cursor(changes[-1].seq if changes else after), "has_more": has_more},
            "results": results}


def record_origins(writer: Writer, feed: str, source: str, entries: list[ModuleEntry], stored: list[str],
                   stamp: str) -> None:
    """Where each stored entry came from, written with the page: a hub serves it onwards with that origin. A key
    whose origin is held already keeps it, so a page applied again (after a crash, say) is no duplicate-key error."""
    kept = set(stored)
    rows = [{"feed": feed, "key": entry.key, "origin_node": entry.origin.node, "source": source, "harvested": stamp}
            for entry in entries if entry.key in kept]
    if rows:
        writer.connection.execute(_insert_or_ignore(writer.connection, feed_origins), rows)


def _insert_or_ignore(connection: sa.Connection, table: sa.Table) -> sa.Insert:
    """An insert that leaves a row whose key is held already as it is, on either database."""
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    return dialect.insert(table).on_conflict_do_nothing()


def _origins(connection: sa.Connection, feed: str, keys: list[str]) -> dict[str, str]:
    held: dict[str, str] = {}
    for start in range(0, len(keys), 500):
        chunk = keys[start:start + 500]
        held.update(connection.execute(sa.select(feed_origins.c.key, feed_origins.c.origin_node).where(
            feed_origins.c.feed == feed, feed_origins.c.key.in_(chunk))).all())
    return held
