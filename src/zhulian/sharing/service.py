"""Instrument profiles and bookings: a signed-in user asks for a slot, the host node confirms or refuses it, the
operator records the use and the fee follows from the rate of the user's class; the user rates it afterwards.

No two active bookings (requested, confirmed, in use) of one instrument overlap. On SQLite the check and the
insert share one write transaction, which the store begins IMMEDIATE, so bookings are checked one at a time; on
PostgreSQL an exclusion constraint refuses the second of two overlapping inserts even when both checked first.
Every change is written to the audit log in the same transaction as the change."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from ulid import ULID

from zhulian.access import Principal, check_write, node_scope, visibility
from zhulian.errors import Problem, ZhulianError, check_listing, conflict, invalid
from zhulian.model import record_label
from zhulian.sharing.profile import CHINA, CLOSURE_KINDS, USER_CLASSES, Profile, parse_profile
from zhulian.sharing.relay import call, pull, relay_for
from zhulian.sharing.tables import ACTIVE_STATES, bookings, profiles
from zhulian.store import now

STATES = {"requested": ("待确认", "requested"), "confirmed": ("已确认", "confirmed"), "in_use": ("使用中", "in use"),
          "completed": ("已完成", "completed"), "rated": ("已评价", "rated"), "cancelled": ("已取消", "cancelled"),
          "refused": ("已拒绝", "refused")}
DONE_STATES = ("completed", "rated")  # used, so counted in fees, statements and the evaluation
MAX_TEXT = 2_000
MAX_SAMPLES = 10_000
MAX_LIST = 200
CALENDAR_DAYS = 31
EXCLUSION_VIOLATION = "23P01"


class SharingService:
    def __init__(self, store: Any) -> None:
        self.store = store

    # -- profiles ------------------------------------------------------------------------------------

    def set_profile(self, principal: Principal, ref: str, data: Any, *, origin: str | None = None) -> dict[str, Any]:
        """The instrument's node (or an admin) states what it offers, at what fees, and when."""
        instrument = self._instrument(principal, ref)
        check_write(principal, instrument.get("node"), instrument["id"])
        profile = parse_profile(data)
        row = {"instrument_id": instrument["id"], "node": instrument.get("node"), "city": instrument.get("city"),
               "profile": profile.model_dump(mode="json"), "updated": now()}
        with self.store.transaction() as writer:
            table = writer.connection
            table.execute(profiles.delete().where(profiles.c.instrument_id == instrument["id"]))
            table.execute(profiles.insert().values(**row))
            writer.log(actor=principal.id, role=principal.role, action="sharing_profile", record_id=instrument["id"],
                       origin=origin, detail={"services": [offer.code for offer in profile.services]})
        return {"instrument": _instrument_summary(instrument), "profile": row["profile"], "updated": row["updated"]}

    def profile(self, principal: Principal, ref: str) -> dict[str, Any]:
        instrument = self._instrument(principal, ref)
        profile = self._profile(instrument["id"])
        return {"instrument": _instrument_summary(instrument),
                "profile": profile.model_dump(mode="json") if profile else None}

    def calendar(self, principal: Principal, ref: str, *, first: dt.date | None = None,
                 days: int = 14) -> dict[str, Any]:
        """Each local day: its opening windows, or why it is closed, and the slots already taken (without
        who took them: that is the booker's and the host's to know)."""
        if not 1 <= days <= CALENDAR_DAYS:
            raise invalid([Problem("days", days, f"1 to {CALENDAR_DAYS}", f"应为 1 至 {CALENDAR_DAYS} 天")], "query")
        instrument = self._instrument(principal, ref)
        profile = self._profile(instrument["id"])
        first = first or dt.datetime.now(CHINA).date()
        last = first + dt.timedelta(days=days)
        with self.store.engine.connect() as connection:
            taken = connection.execute(sa.select(bookings.c.start_at, bookings.c.end_at, bookings.c.state).where(
                bookings.c.instrument_id == instrument["id"], bookings.c.state.in_(ACTIVE_STATES),
                bookings.c.end_at > _utc_text(_at_midnight(first)), bookings.c.start_at < _utc_text(_at_midnight(last))
            ).order_by(bookings.c.start_at)).mappings().all()
        calendar = []
        for offset in range(days):
            day = first + dt.timedelta(days=offset)
            closure = profile.closure_on(day) if profile else None
            windows = profile.windows_on(day) if profile else []
            start, end = _at_midnight(day), _at_midnight(day + dt.timedelta(days=1))
            calendar.append({
                "date": day.isoformat(), "weekday": day.isoweekday(),
                "open": [{"start": a.strftime("%H:%M"), "end": "24:00" if b.date() > day else b.strftime("%H:%M")}
                         for a, b in windows],
                "closed": ({"kind": closure.kind, "kind_display": _display(CLOSURE_KINDS, closure.kind),
                            "reason": closure.reason} if closure else None),
                "taken": [{"start": _local(row["start_at"]), "end": _local(row["end_at"]), "state": row["state"]}
                          for row in taken if _parse_utc(row["start_at"]) < end and _parse_utc(row["end_at"]) > start]})
        return {"instrument": _instrument_summary(instrument), "days": calendar, "timezone": "UTC+08:00"}

    # -- bookings ------------------------------------------------------------------------------------

    def book(self, principal: Principal, ref: str, *, start: str, end: str, service: str, samples: int = 0,
             purpose: str = "", organization: str | None = None, on_behalf_of: str | None = None,
             origin: str | None = None) -> dict[str, Any]:
        """A requested booking, or 409 naming the slot it clashes with. For an instrument of a node this one
        forwards to, the request goes there (``on_behalf_of`` names the user for the origin's publishers)."""
        _check_can_book(principal)
        instrument = self._instrument(principal, ref)
        relay = relay_for(self.store, instrument.get("node"))
        if relay is not None:
            body = {"start": start, "end": end, "service": service, "samples": samples, "purpose": purpose,
                    "organization": organization, "on_behalf_of": (principal.name or principal.id)[:200]}
            decided = call(relay, "POST", f"/api/v1/instruments/{instrument['id']}/bookings", body=body)
            return self._mirror(principal, relay["node"], decided, origin)
        profile = self._profile(instrument["id"])
        if profile is None or not (instrument.get("booking") or {}).get("open", True):
            raise conflict("This instrument takes no bookings here: its host has not published a service profile "
                           "or it is not open to outside users.", "该仪器尚未发布共享服务档案或不对外开放，暂不接受预约。")
        user_class, user_city, organization = self._user_class(principal, instrument, organization)
        begins, ends = _check_slot(profile, start, end)
        offer = _check_request(profile, service, samples, purpose, user_class)
        stamp = now()
        row = {"id": f"bkg_{ULID()}", "instrument_id": instrument["id"], "node": instrument.get("node"),
               "city": instrument.get("city"), "host": (instrument.get("host") or "")[:200] or None,
               "start_at": _utc_text(begins), "end_at": _utc_text(ends), "service": offer.code, "samples": samples,
               "purpose": purpose.strip(), "user_id": principal.id, "user_role": principal.role,
               "user_name": _user_name(principal, on_behalf_of), "organization": organization,
               "user_class": user_class, "user_city": user_city, "state": "requested", "reason": None,
               "hours_used": None, "samples_used": None, "fee_fen": None, "rate_fen": None, "unit": None,
               "rating": None, "comment": None, "created": stamp, "confirmed_at": None, "completed_at": None,
               "updated": stamp, "origin_node": None}
        self._insert(principal, row, origin)
        return _public(row, instrument)

    def _insert(self, principal: Principal, row: dict[str, Any], origin: str | None) -> None:
        """The booking, unless an active one overlaps it: then 409 naming that one's slot."""
        try:
            with self.store.transaction() as writer:
                clash = _clash(writer.connection, row["instrument_id"], row["start_at"], row["end_at"])
                if clash is None:
                    writer.connection.execute(bookings.insert().values(**row))
                    self._log(writer, principal, "booking_request", row, origin)
        except sa.exc.IntegrityError as error:
            if getattr(error.orig, "sqlstate", None) != EXCLUSION_VIOLATION:
                raise
            # Another booking of an overlapping slot committed while this one was checked.
            with self.store.engine.connect() as connection:
                clash = _clash(connection, row["instrument_id"], row["start_at"], row["end_at"])
            clash = clash or {"start_at": row["start_at"], "end_at": row["end_at"], "state": "requested"}
        if clash is not None:
            raise _taken(clash)

    def get(self, principal: Principal, booking_id: str) -> dict[str, Any]:
        row = self._row(booking_id)
        if not (_hosts(principal, row) or row["user_id"] == principal.id):
            raise _not_found(booking_id)
        return _public(row)

    def list(self, principal: Principal, box: str = "mine", *, state: str | None = None, instrument: str | None = None,
             since: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        """``mine``: the principal's own bookings; ``host``: the bookings of its node's instruments (every
        instrument's for admins). Newest first; with ``since`` (a time), those changed after it, oldest change
        first, which is how a forwarding node pulls decisions back."""
        _check_signed_in(principal)
        check_listing(box, {"mine": "我的预约", "host": "本节点仪器的预约"}, state, STATES, limit, MAX_LIST)
        statement = sa.select(bookings).order_by(bookings.c.start_at.desc(), bookings.c.id.desc()).limit(limit)
        if box == "mine":
            statement = statement.where(bookings.c.user_id == principal.id)
        elif (node := node_scope(principal, "The bookings of a node's instruments are for the node's publishers.",
                                 "本节点仪器的预约仅对本节点的发布者可见。")) is not None:
            statement = statement.where(bookings.c.node == node)
        if state:
            statement = statement.where(bookings.c.state == state)
        if instrument:
            statement = statement.where(bookings.c.instrument_id == instrument)
        if since:
            statement = statement.where(bookings.c.updated > since).order_by(None).order_by(bookings.c.updated,
                                                                                          bookings.c.id)
        with self.store.engine.connect() as connection:
            return [_public(dict(row)) for row in connection.execute(statement).mappings()]

    def confirm(self, principal: Principal, booking_id: str, *, origin: str | None = None) -> dict[str, Any]:
        row = self._hosted(principal, booking_id)
        self._expect(row, ("requested",), "confirmed")
        return self._change(principal, row, {"state": "confirmed", "confirmed_at": now()}, "booking_confirm", origin)

    def refuse(self, principal: Principal, booking_id: str, reason: str | None, *,
               origin: str | None = None) -> dict[str, Any]:
        row = self._hosted(principal, booking_id)
        self._expect(row, ("requested",), "refused")
        return self._change(principal, row, {"state": "refused", "reason": _reason(reason)}, "booking_refuse", origin)

    def cancel(self, principal: Principal, booking_id: str, reason: str | None, *,
               origin: str | None = None) -> dict[str, Any]:
        """The booker or the host cancels a booking that has not begun."""
        row = self._row(booking_id)
        if not (_hosts(principal, row) or row["user_id"] == principal.id):
            raise _not_found(booking_id)
        if row["origin_node"] and row["user_id"] == principal.id:
            return self._forward(principal, row, "cancel", {"reason": reason}, origin)
        self._expect(row, ("requested", "confirmed"), "cancelled")
        return self._change(principal, row, {"state": "cancelled", "reason": _reason(reason)}, "booking_cancel",
                            origin)

    def begin_use(self, principal: Principal, booking_id: str, *, origin: str | None = None) -> dict[str, Any]:
        row = self._hosted(principal, booking_id)
        self._expect(row, ("confirmed",), "in_use")
        return self._change(principal, row, {"state": "in_use"}, "booking_begin", origin)

    def complete(self, principal: Principal, booking_id: str, *, hours: float, samples: int | None = None,
                 origin: str | None = None) -> dict[str, Any]:
        """The operator records the hours used and the samples run; the fee is the rate of the user's class
        for the service, per hour or per sample, as the profile states it at completion."""
        row = self._hosted(principal, booking_id)
        samples = row["samples"] if samples is None else samples
        problems = []
        if not (is_number(hours) and 0 < hours <= 24 * 14):
            problems.append(Problem("hours", hours, "more than 0 and at most 336 hours", "使用机时应大于 0 且不超过 336 小时"))
        if not (is_number(samples, whole=True) and 0 <= samples <= MAX_SAMPLES):
            problems.append(Problem("samples", samples, f"0 to {MAX_SAMPLES}", f"样品数应为 0 至 {MAX_SAMPLES}"))
        if problems:
            raise invalid(problems)
        self._expect(row, ("confirmed", "in_use"), "completed")
        profile = self._profile(row["instrument_id"])
        offer = profile.offer(row["service"]) if profile else None
        rate = getattr(offer.rates, row["user_class"]) if offer else None
        if offer is None or rate is None:
            raise conflict(f"The profile no longer prices service {row['service']!r} for {row['user_class']} users; "
                           "publish the rate, then complete the booking.",
                           f"服务档案中已没有服务 {row['service']!r} 对{USER_CLASSES[row['user_class']][0]}用户的收费标准，"
                           "请先补充收费标准再完成预约。")
        rate_fen = round(rate * 100)
        quantity = hours if offer.unit == "hour" else samples
        changes = {"state": "completed", "hours_used": float(hours), "samples_used": samples, "rate_fen": rate_fen,
                   "unit": offer.unit, "fee_fen": round(rate_fen * quantity), "completed_at": now()}
        return self._change(principal, row, changes, "booking_complete", origin)

    def rate(self, principal: Principal, booking_id: str, rating: int, comment: str | None = None, *,
             origin: str | None = None) -> dict[str, Any]:
        row = self._row(booking_id)
        if row["user_id"] != principal.id:
            if _hosts(principal, row):
                raise ZhulianError("forbidden", "Only the user who booked rates the service.",
                                   "只有预约的用户可以评价服务。", 403)
            raise _not_found(booking_id)
        comment = (comment or "").strip() or None
        problems = []
        if not (is_number(rating, whole=True) and 1 <= rating <= 5):
            problems.append(Problem("rating", rating, "a whole number from 1 to 5", "评分应为 1 至 5 的整数"))
        if comment and len(comment) > MAX_TEXT:
            problems.append(Problem("comment", comment[:100] + "…", f"at most {MAX_TEXT} characters",
                                    f"评价最多 {MAX_TEXT} 个字符"))
        if problems:
            raise invalid(problems)
        if row["origin_node"]:
            return self._forward(principal, row, "rate", {"rating": rating, "comment": comment}, origin)
        self._expect(row, ("completed",), "rated")
        return self._change(principal, row, {"state": "rated", "rating": rating, "comment": comment}, "booking_rate",
                            origin)

    def statement(self, principal: Principal, *, user: str | None = None, host: str | None = None,
                  year: int | None = None) -> dict[str, Any]:
        """The used bookings and fees of one user (a key id; the principal's own by default) or of one host
        node, in a year or in all."""
        _check_signed_in(principal)
        if host is not None:
            if not (principal.is_admin or (principal.role == "publisher" and principal.node == host)):
                raise ZhulianError("forbidden", "A host's statement is for its node's publishers.",
                                   "机构账单仅对本节点的发布者可见。", 403)
            where = bookings.c.node == host
        else:
            user = user or principal.id
            if user != principal.id and not principal.is_admin:
                raise ZhulianError("forbidden", "A user's statement is for that user.", "用户账单仅本人可见。", 403)
            where = bookings.c.user_id == user
        statement = sa.select(bookings).where(where, bookings.c.state.in_(DONE_STATES)).order_by(bookings.c.start_at)
        if year is not None:
            low, high = year_bounds(year)
            statement = statement.where(bookings.c.start_at >= low, bookings.c.start_at < high)
        with self.store.engine.connect() as connection:
            rows = [dict(row) for row in connection.execute(statement).mappings()]
        found = self.store.get_many(sorted({row["instrument_id"] for row in rows}))
        items = [_public(row, found.get(row["instrument_id"])) for row in rows]
        return {"user": None if host else user, "host": host, "year": year, "items": items,
                "totals": {"bookings": len(rows), "hours": round(sum(r["hours_used"] or 0 for r in rows), 2),
                           "samples": sum(r["samples_used"] or 0 for r in rows),
                           "fee": _yuan(sum(r["fee_fen"] or 0 for r in rows))}}

    # -- bookings decided at another node ------------------------------------------------------------

    def pull_decisions(self) -> int:
        """Bring the origins' decisions on bookings forwarded from here into their mirrors."""
        return pull(self.store, self._apply_origin)

    def _mirror(self, principal: Principal, node: str, decided: dict[str, Any], origin: str | None) -> dict[str, Any]:
        """The local copy of a booking the origin made: this node's user, the origin's state and figures."""
        row = {**_row_of(decided), "user_id": principal.id, "user_role": principal.role,
               "user_name": (principal.name or principal.id)[:200], "origin_node": node}
        with self.store.transaction() as writer:
            writer.connection.execute(bookings.insert().values(**row))
            self._log(writer, principal, "booking_forward", row, origin)
        return _public(row)

    def _forward(self, principal: Principal, row: dict[str, Any], action: str, body: dict[str, Any],
                 origin: str | None) -> dict[str, Any]:
        relay = relay_for(self.store, row["origin_node"])
        if relay is None:
            raise conflict(f"Bookings are no longer forwarded to node {row['origin_node']}.",
                           f"本节点已不再向节点 {row['origin_node']} 转发预约。")
        decided = call(relay, "POST", f"/api/v1/bookings/{row['id']}/{action}", body=body)
        self._apply_origin(row["origin_node"], decided, actor=principal, origin=origin)
        return _public(self._row(row["id"]))

    def _apply_origin(self, node: str, decided: dict[str, Any], *, actor: Principal | None = None,
                      origin: str | None = None) -> int:
        """Take the origin's version of a mirrored booking when it is newer than the mirror's; 1 if taken."""
        local = ("id", "user_id", "user_role", "user_name", "origin_node")  # who booked here, and where it is decided
        changes = {k: v for k, v in _row_of(decided).items() if k not in local}
        with self.store.transaction() as writer:
            taken = writer.connection.execute(bookings.update().where(
                bookings.c.id == decided["id"], bookings.c.origin_node == node,
                bookings.c.updated < decided["updated"]).values(**changes))
            if taken.rowcount != 1:
                return 0
            writer.log(actor=actor.id if actor else f"node:{node}", role=actor.role if actor else "origin",
                       action="booking_forward" if actor else "booking_origin", record_id=decided["instrument_id"],
                       origin=origin or node,
                       detail={"booking": decided["id"], "state": decided["state"], "fee_fen": changes["fee_fen"]})
        return 1

    # -- helpers -------------------------------------------------------------------------------------

    def _instrument(self, principal: Principal, ref: str) -> dict[str, Any]:
        record = self.store.get(ref, visible=visibility(principal))
        if record["type"] != "instrument":
            raise ZhulianError("not_found", f"{ref!r} is a {record['type']}, not an instrument.",
                               f"{ref!r} 不是仪器记录。", 404)
        return record

    def _profile(self, instrument_id: str) -> Profile | None:
        with self.store.engine.connect() as connection:
            data = connection.execute(sa.select(profiles.c.profile).where(
                profiles.c.instrument_id == instrument_id)).scalar_one_or_none()
        return None if data is None else Profile.model_validate(data)

    def _user_class(self, principal: Principal, instrument: dict[str, Any],
                    organization: str | None) -> tuple[str, str | None, str | None]:
        """Internal when the booking organisation is the instrument's host, enterprise when it is a firm,
        external otherwise; the city is the organisation's (the key's node without one)."""
        if not organization:
            return "external", principal.node, None
        org = self.store.get(organization, visible=visibility(principal))
        if org["type"] != "organization":
            raise invalid([Problem("organization", organization, "an organisation record (org_…)",
                                   "应为机构记录（org_…）")])
        host = (instrument.get("host") or "").strip()
        if host and host in (record_label(org), *org.get("aliases", [])):
            user_class = "internal"
        else:
            user_class = "enterprise" if org.get("kind") == "enterprise" else "external"
        return user_class, org.get("city"), org["id"]

    def _row(self, booking_id: str) -> dict[str, Any]:
        with self.store.engine.connect() as connection:
            row = connection.execute(sa.select(bookings).where(bookings.c.id == booking_id)).mappings().first()
        if row is None:
            raise _not_found(booking_id)
        return dict(row)

    def _hosted(self, principal: Principal, booking_id: str) -> dict[str, Any]:
        row = self._row(booking_id)
        if _hosts(principal, row) and row["origin_node"]:
            raise conflict(f"This booking is decided by the instrument's node {row['origin_node']}; act there.",
                           f"该预约由仪器所属节点 {row['origin_node']} 确认和登记，请在该节点操作。")
        if _hosts(principal, row):
            return row
        if row["user_id"] == principal.id:
            raise ZhulianError("forbidden", "Only the publishers of the instrument's node confirm, refuse and record "
                               "the use of a booking.", "只有仪器所属节点的发布者可以确认、拒绝预约及登记使用情况。", 403)
        raise _not_found(booking_id)

    @staticmethod
    def _expect(row: dict[str, Any], states: tuple[str, ...], to: str) -> None:
        if row["state"] not in states:
            raise conflict(f"A {STATES[row['state']][1]} booking cannot become {STATES[to][1]}.",
                           f"{STATES[row['state']][0]}的预约不能变为{STATES[to][0]}。")

    def _change(self, principal: Principal, row: dict[str, Any], changes: dict[str, Any], action: str,
                origin: str | None) -> dict[str, Any]:
        changed = {**row, **changes, "updated": now()}
        with self.store.transaction() as writer:
            # Only from the state read before, so two people acting at once cannot both succeed.
            result = writer.connection.execute(bookings.update().where(
                bookings.c.id == row["id"], bookings.c.state == row["state"]).values(
                **{k: changed[k] for k in (*changes, "updated")}))
            if result.rowcount != 1:
                raise conflict("The booking changed meanwhile; reload it and retry.", "该预约已被他人更改，请刷新后重试。")
            self._log(writer, principal, action, changed, origin)
        return _public(changed)

    @staticmethod
    def _log(writer: Any, principal: Principal, action: str, row: dict[str, Any], origin: str | None) -> None:
        writer.log(actor=principal.id, role=principal.role, action=action, record_id=row["instrument_id"],
                   origin=origin, detail={"booking": row["id"], "state": row["state"], "fee_fen": row["fee_fen"]})


# -- checks ------------------------------------------------------------------------------------------

def is_number(value: Any, *, whole: bool = False) -> bool:
    """A JSON number (``true`` is not one), whole when asked."""
    return not isinstance(value, bool) and isinstance(value, int if whole else (int, float))


def _check_signed_in(principal: Principal) -> None:
    if principal.role == "anonymous":
        raise ZhulianError("unauthorized", "Sign in or send an API key (Authorization: Bearer KEY) first.",
                           "请先登录或使用 API 密钥（Authorization: Bearer 密钥）。", 401)


def _check_can_book(principal: Principal) -> None:
    _check_signed_in(principal)
    if principal.role not in ("admin", "publisher", "reader"):
        raise ZhulianError("forbidden", f"A {principal.role} key cannot book instruments; use a reader or "
                           "publisher key.", "该类密钥不能预约仪器，请使用读者或发布者密钥。", 403)


def _check_slot(profile: Profile, start: str, end: str) -> tuple[dt.datetime, dt.datetime]:
    begins, ends = _parse_time("start", start), _parse_time("end", end)
    problems = []
    if ends <= begins:
        problems.append(Problem("end", end, "must be later than start", "结束时间应晚于开始时间"))
    elif begins <= dt.datetime.now(dt.UTC):
        problems.append(Problem("start", start, "is in the past", "开始时间已过，不能预约过去的时段"))
    elif (ends - begins).total_seconds() > profile.max_hours * 3600:
        problems.append(Problem("end", end, f"a booking lasts at most {profile.max_hours:g} hours",
                                f"单次预约最长 {profile.max_hours:g} 小时"))
    else:
        local_start, local_end = begins.astimezone(CHINA), ends.astimezone(CHINA)
        day = local_start.date()
        closure = profile.closure_on(day)
        if closure is not None:
            why, why_zh = (f": {closure.reason}", f"：{closure.reason}") if closure.reason else ("", "")
            problems.append(Problem("start", start, f"the instrument is {CLOSURE_KINDS[closure.kind][1]} on {day}{why}",
                                    f"{day} 仪器{CLOSURE_KINDS[closure.kind][0]}{why_zh}"))
        elif not any(a <= local_start and local_end <= b for a, b in profile.windows_on(day)):
            hours = ", ".join(f"{a:%H:%M}–{b:%H:%M}" for a, b in profile.windows_on(day)) or "closed"
            problems.append(Problem("start", start, f"outside opening hours (UTC+8) on {day}: {hours}",
                                    f"不在开放时间内（北京时间）；{day} 开放时间：{hours.replace('closed', '不开放')}"))
    if problems:
        raise invalid(problems)
    return begins, ends


def _check_request(profile: Profile, service: str, samples: int, purpose: str, user_class: str) -> Any:
    problems = []
    offer = profile.offer(service)
    offered = ", ".join(o.code for o in profile.services)
    if offer is None:
        problems.append(Problem("service", service, f"not offered; services: {offered}", f"该仪器不提供此服务；可选服务：{offered}"))
    elif getattr(offer.rates, user_class) is None:
        problems.append(Problem("service", service, f"not offered to {user_class} users",
                                f"该服务不向{USER_CLASSES[user_class][0]}用户开放"))
    if not (is_number(samples, whole=True) and 0 <= samples <= MAX_SAMPLES):
        problems.append(Problem("samples", samples, f"0 to {MAX_SAMPLES}", f"样品数应为 0 至 {MAX_SAMPLES}"))
    elif offer is not None and offer.unit == "sample" and samples < 1:
        problems.append(Problem("samples", samples, "this service is charged per sample: say how many",
                                "该服务按样品收费，请填写样品数"))
    if not purpose.strip() or len(purpose) > MAX_TEXT:
        problems.append(Problem("purpose", purpose[:100], f"say what the instrument is for (1 to {MAX_TEXT} characters)",
                                f"请说明使用目的（1 至 {MAX_TEXT} 个字符）"))
    if problems:
        raise invalid(problems)
    return offer


def _parse_time(field: str, text: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(str(text))
    except ValueError:
        raise invalid([Problem(field, text, "an ISO 8601 time such as 2026-12-01T09:00+08:00",
                               "应为 ISO 8601 时间，如 2026-12-01T09:00+08:00")]) from None
    return moment.replace(tzinfo=CHINA) if moment.tzinfo is None else moment  # a time without offset is China's


def _clash(connection: sa.Connection, instrument_id: str, start: str, end: str) -> dict[str, Any] | None:
    row = connection.execute(sa.select(bookings.c.id, bookings.c.start_at, bookings.c.end_at, bookings.c.state).where(
        bookings.c.instrument_id == instrument_id, bookings.c.state.in_(ACTIVE_STATES),
        bookings.c.start_at < end, bookings.c.end_at > start).order_by(bookings.c.start_at)).mappings().first()
    return dict(row) if row else None


def _taken(clash: dict[str, Any]) -> ZhulianError:
    slot = {"start": clash["start_at"], "end": clash["end_at"], "state": clash["state"]}
    return conflict(f"The slot {_local(clash['start_at'])} – {_local(clash['end_at'])} (UTC+8) is already "
                    f"{STATES[clash['state']][1]}; pick another time.",
                    f"{_local(clash['start_at'])} 至 {_local(clash['end_at'])}（北京时间）已被预约"
                    f"（{STATES[clash['state']][0]}），请另选时段。",
                    [Problem("start", slot, "overlaps a booked slot", "与已预约时段重叠")])


def _hosts(principal: Principal, row: dict[str, Any]) -> bool:
    return principal.is_admin or (principal.role == "publisher" and principal.node is not None
                                  and principal.node == row["node"])


def _user_name(principal: Principal, on_behalf_of: str | None) -> str:
    name = principal.name or principal.id
    return (f"{on_behalf_of.strip()} · {name}" if on_behalf_of and on_behalf_of.strip() else name)[:200]


def _row_of(decided: dict[str, Any]) -> dict[str, Any]:
    """A booking row from the public shape another node answered with."""
    columns = {c.name for c in bookings.columns}
    row = {k: v for k, v in decided.items() if k in columns}
    row.update(fee_fen=None if decided.get("fee") is None else round(decided["fee"] * 100),
               rate_fen=None if decided.get("rate") is None else round(decided["rate"] * 100))
    return row


def _reason(reason: str | None) -> str:
    reason = (reason or "").strip()
    if not reason or len(reason) > MAX_TEXT:
        raise invalid([Problem("reason", reason[:100], f"say why (1 to {MAX_TEXT} characters)",
                               f"请说明原因（1 至 {MAX_TEXT} 个字符）")])
    return reason


def year_bounds(year: int) -> tuple[str, str]:
    """A year in China's time as the UTC texts bookings are stored in: [start, end)."""
    return (_utc_text(_at_midnight(dt.date(year, 1, 1))), _utc_text(_at_midnight(dt.date(year + 1, 1, 1))))


# -- shapes ------------------------------------------------------------------------------------------

def _utc_text(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def _local(text: str) -> str:
    return _parse_utc(text).astimezone(CHINA).strftime("%Y-%m-%d %H:%M")


def _at_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), CHINA)


def _yuan(fen: int | None) -> float | None:
    return None if fen is None else fen / 100


def _display(choices: dict[str, tuple[str, str]], code: str) -> dict[str, str]:
    return {"zh": choices[code][0], "en": choices[code][1]}


def _instrument_summary(record: dict[str, Any]) -> dict[str, Any]:
    return {"id": record["id"], "name": record_label(record), "host": record.get("host"), "city": record.get("city"),
            "node": record.get("node"), "address": record.get("address"), "category": record.get("category"),
            "specs": record.get("specs")}


def _public(row: dict[str, Any], instrument: dict[str, Any] | None = None) -> dict[str, Any]:
    """A booking as callers see it: times in UTC and in China's time, money in yuan, states named."""
    shown = {k: v for k, v in row.items() if not k.endswith("_fen")}
    shown.update(start=row["start_at"], end=row["end_at"], start_local=_local(row["start_at"]),
                 end_local=_local(row["end_at"]), fee=_yuan(row["fee_fen"]), rate=_yuan(row["rate_fen"]),
                 state_display=_display(STATES, row["state"]), user_class_display=_display(USER_CLASSES, row["user_class"]))
    if instrument is not None:
        shown["instrument_name"] = record_label(instrument)
    return shown


def _not_found(booking_id: str) -> ZhulianError:
    return ZhulianError("not_found", f"No booking {booking_id!r}.", f"找不到预约 {booking_id!r}。", 404)
