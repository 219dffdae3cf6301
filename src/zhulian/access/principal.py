"""The principal a request acts as, and what it may read and write."""

from __future__ import annotations

import getpass
import socket
from dataclasses import dataclass

from zhulian.errors import ZhulianError
from zhulian.store.query import Visibility

ROLES = {
    "admin": ("管理员", "administrator: reads and writes everything, reads the audit log"),
    "publisher": ("发布者", "node publisher: writes records of its own node"),
    "reader": ("读者", "reader: also reads records for registered users"),
    "harvester": ("采集者", "harvester: reads the change feed of this node"),
}


@dataclass(frozen=True)
class Principal:
    id: str  # a key id, "anonymous", "cli:<os user>" or "system"
    role: str  # admin | publisher | reader | harvester | anonymous
    node: str | None = None
    name: str = ""

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name and no password-database entry (some containers)
        return "unknown"


ANONYMOUS = Principal("anonymous", "anonymous", name="匿名 anonymous")
# The local command line acts as a named administrator: the audit log says which OS user ran it.
CLI_ADMIN = Principal(f"cli:{_os_user()}", "admin", name="本机命令行 local command line")
CLI_ORIGIN = f"cli@{socket.gethostname()}"  # the audit log's origin of what the command line writes
# Writes no person asked for in the moment (an import called from code without a principal) are the system's.
SYSTEM = Principal("system", "admin", name="系统 system")


def visibility(principal: Principal) -> Visibility:
    if principal.is_admin:
        return Visibility(frozenset({"public", "registered", "internal"}), everything=True)
    if principal.role == "anonymous":
        return Visibility(frozenset({"public"}))
    return Visibility(frozenset({"public", "registered"}), principal.node)


def node_scope(principal: Principal, refusal: str, refusal_zh: str) -> str | None:
    """Whose items a principal's "received" list holds: every node's for admins (None), a publisher's own node's;
    anyone else is refused with the given reason."""
    if principal.is_admin:
        return None
    if principal.role != "publisher" or not principal.node:
        raise ZhulianError("forbidden", refusal, refusal_zh, 403)
    return principal.node


def check_write(principal: Principal, node: str | None, record_id: str | None = None) -> None:
    """Admins write anything; a publisher writes only records of its own node; no one else writes."""
    if principal.is_admin:
        return
    if principal.role == "anonymous":
        raise ZhulianError("unauthorized", "Writing needs an API key (Authorization: Bearer KEY).",
                           "写入需要 API 密钥（Authorization: Bearer 密钥）。", 401)
    if principal.role != "publisher":
        raise ZhulianError("forbidden", f"A {principal.role} key cannot write records.",
                           f"{ROLES[principal.role][0]}密钥不能写入记录。", 403)
    if node != principal.node:
        what = record_id or "this record"
        raise ZhulianError("forbidden", f"A publisher of node {principal.node} writes only its own node's records; "
                           f"{what} belongs to node {node or '(none)'}.",
                           f"节点 {principal.node} 的发布者只能写入本节点的记录；{what} 属于节点 {node or '（无）'}。",
                           403)


def search_levels(principal: Principal) -> tuple[str, ...]:
    """The access levels search may return. The index does not know nodes, so a node's internal records
    are found through search by admins only; their own node's readers see them in lists and pages."""
    return tuple(sorted(visibility(principal).levels))
