"""Expressions of interest: an enterprise (any key, or a portal user signed in with one) tells the owner of
an achievement or patent that it wants it; the publishers of the record's node see it in their inbox and
answer. States go sent → read → answered → closed, each with its time, and every change is written to the
audit log in the same transaction as the change itself."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from ulid import ULID

from zhulian.access import Principal, node_scope, visibility
from zhulian.errors import Problem, ZhulianError, check_listing, conflict, invalid
from zhulian.match.tables import interests
from zhulian.model import TYPE_LABELS, record_label
from zhulian.store import now

TARGET_TYPES = ("achievement", "patent")
STATES = {"sent": ("已发送", "sent"), "read": ("已读", "read"), "answered": ("已答复", "answered"),
          "closed": ("已关闭", "closed")}
MAX_MESSAGE = 2_000
MAX_CONTACT = 200
MAX_LIST = 200


class InterestService:
    def __init__(self, store: Any) -> None:
        self.store = store

    def send(self, principal: Principal, target: str, message: str | None, *, contact: str | None = None,
             origin: str | None = None) -> dict[str, Any]:
        if principal.role == "anonymous":
            raise ZhulianError("unauthorized", "Sign in or send an API key (Authorization: Bearer KEY) to register "
                               "interest, so the owner knows whom to answer.",
                               "登记意向需要先登录或使用 API 密钥（Authorization: Bearer 密钥），以便权属方答复。", 401)
        message, contact = (message or "").strip(), (contact or "").strip() or None
        problems = []
        if not message:
            problems.append(Problem("message", message, "say what you would like to do with it",
                                    "请写明意向内容（如希望许可、转让或合作开发）"))
        elif len(message) > MAX_MESSAGE:
            problems.append(Problem("message", message[:100] + "…", f"at most {MAX_MESSAGE} characters",
                                    f"意向内容最多 {MAX_MESSAGE} 个字符"))
        if contact and len(contact) > MAX_CONTACT:
            problems.append(Problem("contact", contact[:100] + "…", f"at most {MAX_CONTACT} characters",
                                    f"联系方式最多 {MAX_CONTACT} 个字符"))
        if problems:
            raise invalid(problems, "record")
        record = self.store.get(target, visible=visibility(principal))
        if record["type"] not in TARGET_TYPES:
            raise invalid([Problem("target", target, f"interest is registered in an achievement or a patent, "
                                   f"not a {record['type']}",
                                   f"只能对科技成果或专利登记意向，不能对{TYPE_LABELS[record['type']][0]}登记")])
        stamp = now()
        row = {"id": f"int_{ULID()}", "target_id": record["id"], "target_type": record["type"],
               "target_node": record.get("node"), "sender": principal.id, "sender_role": principal.role,
               "sender_name": (principal.name or principal.id)[:200], "message": message, "contact": contact,
               "answer": None, "state": "sent", "created": stamp, "read_at": None, "answered_at": None,
               "closed_at": None, "updated": stamp}
        with self.store.transaction() as writer:
            writer.connection.execute(interests.insert().values(**row))
            self._log(writer, principal, "interest_send", row, origin)
        return _public(row, record)

    def list(self, principal: Principal, box: str = "inbox", *, state: str | None = None,
             limit: int = 50) -> list[dict[str, Any]]:
        """``inbox``: interests in the records of the principal's node (every one for admins); ``sent``:
        the principal's own."""
        if principal.role == "anonymous":
            raise ZhulianError("unauthorized", "Sign in or send an API key to see interests.",
                               "查看意向需要先登录或使用 API 密钥。", 401)
        check_listing(box, {"inbox": "收到的", "sent": "发出的"}, state, STATES, limit, MAX_LIST)
        statement = sa.select(interests).order_by(interests.c.created.desc(), interests.c.id.desc()).limit(limit)
        if box == "sent":
            statement = statement.where(interests.c.sender == principal.id)
        elif (node := node_scope(principal, "The inbox belongs to the publishers of a node.",
                                 "收到的意向仅对本节点的发布者可见。")) is not None:
            statement = statement.where(interests.c.target_node == node)
        if state:
            statement = statement.where(interests.c.state == state)
        with self.store.engine.connect() as connection:
            rows = [dict(row) for row in connection.execute(statement).mappings()]
        targets = self.store.get_many(sorted({row["target_id"] for row in rows}), visible=visibility(principal))
        return [_public(row, targets.get(row["target_id"])) for row in rows]

    def get(self, principal: Principal, interest_id: str) -> dict[str, Any]:
        row = self._row(interest_id)
        if not (self._owns(principal, row) or row["sender"] == principal.id):
            raise _not_found(interest_id)  # not forbidden: whether it exists is not theirs to know
        return _public(row, self.store.get_many([row["target_id"]]).get(row["target_id"]))

    def mark_read(self, principal: Principal, interest_id: str, *, origin: str | None = None) -> dict[str, Any]:
        row = self._owned(principal, interest_id)
        if row["state"] != "sent":
            return _public(row)  # reading again changes nothing
        return self._change(principal, row, {"state": "read", "read_at": now()}, "interest_read", origin)

    def answer(self, principal: Principal, interest_id: str, text: str | None, *,
               origin: str | None = None) -> dict[str, Any]:
        row = self._owned(principal, interest_id)
        text = (text or "").strip()
        if not text or len(text) > MAX_MESSAGE:
            raise invalid([Problem("answer", text[:100], f"1 to {MAX_MESSAGE} characters",
                                   f"答复应为 1 至 {MAX_MESSAGE} 个字符")])
        if row["state"] not in ("sent", "read"):
            raise conflict(f"This interest is already {row['state']}.", f"该意向已{STATES[row['state']][0]}。")
        stamp = now()
        return self._change(principal, row, {"state": "answered", "answer": text, "answered_at": stamp,
                                             "read_at": row["read_at"] or stamp}, "interest_answer", origin)

    def close(self, principal: Principal, interest_id: str, *, origin: str | None = None) -> dict[str, Any]:
        """The sender or the owner closes it, whatever its state before."""
        row = self._row(interest_id)
        if not (self._owns(principal, row) or row["sender"] == principal.id):
            raise _not_found(interest_id)
        if row["state"] == "closed":
            raise conflict("This interest is already closed.", "该意向已关闭。")
        return self._change(principal, row, {"state": "closed", "closed_at": now()}, "interest_close", origin)

    # -- helpers -------------------------------------------------------------------------------------

    def _row(self, interest_id: str) -> dict[str, Any]:
        with self.store.engine.connect() as connection:
            row = connection.execute(sa.select(interests).where(interests.c.id == interest_id)).mappings().first()
        if row is None:
            raise _not_found(interest_id)
        return dict(row)

    @staticmethod
    def _owns(principal: Principal, row: dict[str, Any]) -> bool:
        return principal.is_admin or (principal.role == "publisher" and principal.node is not None
                                      and principal.node == row["target_node"])

    def _owned(self, principal: Principal, interest_id: str) -> dict[str, Any]:
        row = self._row(interest_id)
        if self._owns(principal, row):
            return row
        if row["sender"] == principal.id:
            raise ZhulianError("forbidden", "Only the publishers of the record's node read and answer an interest.",
                               "只有该记录所属节点的发布者可以阅读和答复意向。", 403)
        raise _not_found(interest_id)

    def _change(self, principal: Principal, row: dict[str, Any], changes: dict[str, Any], action: str,
                origin: str | None) -> dict[str, Any]:
        changed = {**row, **changes, "updated": now()}
        with self.store.transaction() as writer:
            # Only from the state read before, so two people answering at once cannot both succeed.
            result = writer.connection.execute(interests.update().where(
                interests.c.id == row["id"], interests.c.state == row["state"]).values(
                **{k: changed[k] for k in (*changes, "updated")}))
            if result.rowcount != 1:
                raise conflict("The interest changed meanwhile; reload it and retry.", "该意向已被他人更改，请刷新后重试。")
            self._log(writer, principal, action, changed, origin)
        return _public(changed)

    @staticmethod
    def _log(writer: Any, principal: Principal, action: str, row: dict[str, Any], origin: str | None) -> None:
        writer.log(actor=principal.id, role=principal.role, action=action, record_id=row["target_id"],
                   origin=origin, detail={"interest": row["id"], "state": row["state"]})


def _public(row: dict[str, Any], target: dict[str, Any] | None = None) -> dict[str, Any]:
    """An interest as callers see it, with its state's display names and, when known, the target's name."""
    shown = {**row, "state_display": {"zh": STATES[row["state"]][0], "en": STATES[row["state"]][1]}}
    if target is not None:
        shown["target_name"] = record_label(target)
    return shown


def _not_found(interest_id: str) -> ZhulianError:
    return ZhulianError("not_found", f"No interest {interest_id!r}.", f"找不到意向 {interest_id!r}。", 404)
