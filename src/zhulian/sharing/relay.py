"""Bookings across nodes (docs/sharing.md §3): a node books an instrument of another node by forwarding the
request to that node, the instrument's origin, which applies its own rules and its own overlap check and stays
the one that confirms; this node keeps a mirror of the booking and pulls the origin's decisions back.

The origin is known by the instrument record's ``node`` (records keep it wherever they travel); where to reach
it, and the reader key it issued to this node, are registered here with ``zhulian sharing relay add``. The
origin's ``GET /api/v1/bookings?box=mine&since=…`` lists every change to the bookings that key made, in order."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import sqlalchemy as sa

from zhulian.access import Principal
from zhulian.errors import Problem, ZhulianError, invalid
from zhulian.sharing.tables import relays
from zhulian.store import now

TIMEOUT_S = 15
PAGE = 200
# Pulls start this far before the last change seen: a change stamped earlier may commit later at the origin.
# Mirrors take a change only when it is newer than what they hold, so reading one twice changes nothing.
OVERLAP = dt.timedelta(seconds=30)


def add_relay(store: Any, principal: Principal, node: str, url: str, key: str) -> dict[str, Any]:
    """Register (or replace) where bookings of ``node``'s instruments go, after checking the key works there."""
    if not principal.is_admin:
        raise ZhulianError("forbidden", "Only an administrator registers the nodes bookings are forwarded to.",
                           "只有管理员可以登记转发预约的节点。", 403)
    url = url.rstrip("/")
    problems = []
    if not (len(node) == 6 and node.isdigit()):
        problems.append(Problem("node", node, "the origin node's adcode, e.g. 440100", "应为源节点的行政区划代码，如 440100"))
    if not url.startswith(("http://", "https://")):
        problems.append(Problem("url", url, "an http(s) URL", "应为 http(s) 网址"))
    if problems:
        raise invalid(problems)
    call({"node": node, "url": url, "key": key}, "GET", "/api/v1/bookings", params={"box": "mine", "limit": 1})
    row = {"node": node, "url": url, "key": key, "cursor": "", "added": now(), "last_pull": None, "last_error": None}
    with store.transaction() as writer:
        writer.connection.execute(relays.delete().where(relays.c.node == node))
        writer.connection.execute(relays.insert().values(**row))
        writer.log(actor=principal.id, role=principal.role, action="sharing_relay", detail={"node": node, "url": url})
    return {k: v for k, v in row.items() if k != "key"}


def relay_for(store: Any, node: str | None) -> dict[str, Any] | None:
    if not node or node == store.node:
        return None
    with store.engine.connect() as connection:
        row = connection.execute(sa.select(relays).where(relays.c.node == node)).mappings().first()
    return dict(row) if row else None


def call(relay: dict[str, Any], method: str, path: str, *, params: dict[str, Any] | None = None,
         body: dict[str, Any] | None = None) -> dict[str, Any]:
    """One request to the origin with this node's key: its JSON answer, its own error passed on as it stated it,
    or 503 when the origin cannot be reached (nothing was done there, or it is not known whether: retry)."""
    try:
        reply = httpx.request(method, f"{relay['url']}{path}", params=params, json=body, timeout=TIMEOUT_S,
                              headers={"Authorization": f"Bearer {relay['key']}"})
    except httpx.HTTPError as error:
        raise _unreachable(relay, str(error)) from None
    try:
        answer = reply.json()
    except ValueError:
        raise _unreachable(relay, f"HTTP {reply.status_code}, not JSON") from None
    if reply.status_code >= 500 or not isinstance(answer, dict):
        raise _unreachable(relay, f"HTTP {reply.status_code}")
    if reply.status_code >= 400:
        error = answer.get("error") or {}
        raise ZhulianError(error.get("code", "origin_error"), error.get("message", f"HTTP {reply.status_code}"),
                           error.get("message_zh", f"源节点返回 HTTP {reply.status_code}"), reply.status_code,
                           [Problem(p.get("field", ""), p.get("value"), p.get("reason", ""), p.get("reason_zh", ""))
                            for p in error.get("details") or [] if isinstance(p, dict)])
    return answer


def pull(store: Any, apply: Any) -> int:
    """Bring back every change the origins made to bookings forwarded from here; ``apply(node, booking)``
    updates one mirror. Returns how many changes were applied. One origin failing leaves the others to go on."""
    with store.engine.connect() as connection:
        known = [dict(row) for row in connection.execute(sa.select(relays)).mappings()]
    applied = 0
    for relay in known:
        cursor, error = relay["cursor"], None
        since = _rewound(cursor)
        try:
            while True:
                page = call(relay, "GET", "/api/v1/bookings",
                            params={"box": "mine", "since": since, "limit": PAGE})["results"]
                for booking in page:
                    applied += apply(relay["node"], booking)
                    cursor = max(cursor, booking["updated"])
                if len(page) < PAGE or page[-1]["updated"] == since:
                    break
                since = page[-1]["updated"]  # the next page of this pull goes on without going back
        except ZhulianError as failure:
            error = f"{failure.message} / {failure.message_zh}"
        with store.transaction() as writer:
            writer.connection.execute(relays.update().where(relays.c.node == relay["node"]).values(
                cursor=cursor, last_pull=now(), last_error=error))
    return applied


def _rewound(cursor: str) -> str | None:
    if not cursor:
        return None
    moment = dt.datetime.fromisoformat(cursor) - OVERLAP
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


def _unreachable(relay: dict[str, Any], why: str) -> ZhulianError:
    return ZhulianError("origin_unavailable", f"The instrument's node {relay['node']} cannot be reached now ({why}); "
                        "nothing was booked here. Try again in a minute.",
                        f"仪器所属节点 {relay['node']} 暂时无法访问（{why}），本节点未作任何预约，请稍后重试。", 503)
