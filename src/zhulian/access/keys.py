"""API keys: issued once in clear, stored as SHA-256 digests, revocable."""

from __future__ import annotations

import hashlib
import logging
import secrets
import threading
from typing import Any

import sqlalchemy as sa
from ulid import ULID

from zhulian.access.principal import ANONYMOUS, ROLES, SYSTEM, Principal
from zhulian.errors import Problem, ZhulianError, invalid
from zhulian.region.adcodes import is_adcode
from zhulian.store import Store
from zhulian.store.store import now
from zhulian.store.tables import api_keys

log = logging.getLogger(__name__)

KEY_PREFIX = "zl_"


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_key(store: Store, role: str, *, node: str | None = None, name: str = "", principal: Principal = SYSTEM,
               origin: str | None = None) -> tuple[dict[str, Any], str]:
    """A new key: its stored description, and the secret, which is shown this once and never again.
    Only an administrator creates keys; the audit log records it in the same transaction."""
    _check_admin(principal, "create keys", "创建密钥")
    problems = []
    if role not in ROLES:
        problems.append(Problem("role", role, f"one of {', '.join(ROLES)}", f"应为 {'、'.join(ROLES)} 之一"))
    if node is not None and not is_adcode(node):
        problems.append(Problem("node", node, "a node is a GB/T 2260 adcode such as 440100",
                                "节点应为 GB/T 2260 行政区划代码，如 440100"))
    if role == "publisher" and node is None:
        problems.append(Problem("node", None, "a publisher key needs --node, the node it publishes for",
                                "发布者密钥需要 --node，即其发布的节点"))
    if problems:
        raise ZhulianError("invalid", "The key was not created.", "密钥未创建。", 400, problems)
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    row = {"id": f"key_{ULID()}", "name": name or f"{role} key", "role": role, "node": node,
           "digest": _digest(secret), "created": now(), "revoked": None, "last_used": None}
    with store.transaction() as writer:
        writer.connection.execute(api_keys.insert().values(**row))
        _audit(writer, principal, "key_create", row, origin)
    return _public(row), secret


def list_keys(store: Store) -> list[dict[str, Any]]:
    with store.engine.connect() as connection:
        rows = connection.execute(sa.select(api_keys).order_by(api_keys.c.created)).mappings().all()
    return [_public(row) for row in rows]


def revoke_key(store: Store, key_id: str, *, principal: Principal = SYSTEM, origin: str | None = None) -> dict[str, Any]:
    """Revoke a key for good (administrators only), audited in the same transaction."""
    _check_admin(principal, "revoke keys", "吊销密钥")
    with store.transaction() as writer:
        connection = writer.connection
        updated = connection.execute(api_keys.update().where(api_keys.c.id == key_id, api_keys.c.revoked.is_(None))
                                     .values(revoked=now()))
        if updated.rowcount == 0:
            raise invalid([Problem("key", key_id, "no active key with this id", "没有此编号的有效密钥")])
        row = connection.execute(sa.select(api_keys).where(api_keys.c.id == key_id)).mappings().one()
        _audit(writer, principal, "key_revoke", row, origin)
    return _public(row)


def _check_admin(principal: Principal, what: str, what_zh: str) -> None:
    if not principal.is_admin:
        raise ZhulianError("forbidden", f"Only administrators {what}.", f"只有管理员可以{what_zh}。", 403)


def _audit(writer: Any, principal: Principal, action: str, row: Any, origin: str | None) -> None:
    """A key is not a record: its entry names it in ``detail`` (never its secret or digest)."""
    writer.log(actor=principal.id, role=principal.role, action=action, origin=origin,
               detail={"key": row["id"], "name": row["name"], "role": row["role"], "node": row["node"]})


def authenticate(store: Store, authorization: str | None) -> Principal:
    """The principal an ``Authorization: Bearer KEY`` header names; anonymous without one."""
    if not authorization:
        return ANONYMOUS
    scheme, _, secret = authorization.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise ZhulianError("unauthorized", "Send the key as 'Authorization: Bearer KEY'.",
                           "请以“Authorization: Bearer 密钥”发送密钥。", 401)
    with store.engine.connect() as connection:
        row = connection.execute(sa.select(api_keys).where(api_keys.c.digest == _digest(secret.strip()))
                                 ).mappings().one_or_none()
    if row is None or row["revoked"]:
        raise ZhulianError("unauthorized", "This API key is unknown or revoked.", "API 密钥无效或已吊销。", 401)
    stamp = now()
    # Noting every use would make each read a write; once a minute is enough to tell a live key. The note is
    # written beside the request, never in its way: during a long import it waits for the write lock (up to
    # WRITE_WAIT_S) and then gives up, while the request it belongs to goes on.
    if not row["last_used"] or row["last_used"][:16] != stamp[:16]:
        threading.Thread(target=_note_use, args=(store, row["id"], stamp), name="zhulian-key-note",
                         daemon=True).start()
    return Principal(row["id"], row["role"], row["node"], row["name"])


def _note_use(store: Store, key_id: str, stamp: str) -> None:
    """When a key was last used: its own write transaction (upgrading a read to a write fails at once on SQLite
    when another writer committed in between, where a write transaction waits its turn)."""
    try:
        with store.transaction() as writer:
            writer.connection.execute(api_keys.update().where(api_keys.c.id == key_id).values(last_used=stamp))
    except ZhulianError as error:
        if error.code != "busy":  # busy: a long import holds the write lock; a later request notes the use
            log.warning("noting the use of key %s failed: %s", key_id, error.message)
    except sa.exc.SQLAlchemyError as error:  # e.g. the store was closed meanwhile; the note is not worth more
        log.warning("noting the use of key %s failed: %s", key_id, error)


def principal_by_id(store: Store, key_id: str) -> Principal:
    """The principal of a signed-in session's key; anonymous once the key is revoked."""
    with store.engine.connect() as connection:
        row = connection.execute(sa.select(api_keys).where(api_keys.c.id == key_id)).mappings().one_or_none()
    if row is None or row["revoked"]:
        return ANONYMOUS
    return Principal(row["id"], row["role"], row["node"], row["name"])


def _public(row: Any) -> dict[str, Any]:
    return {key: row[key] for key in ("id", "name", "role", "node", "created", "revoked", "last_used")}
