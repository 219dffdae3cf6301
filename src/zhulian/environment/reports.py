"""Citizen reports (油烟, 噪声, 废气, 水体): a place, a text and an optional photo (PNG or JPEG, ≤ 5 MB, bounded
dimensions); a tracking number; the status flow received → assigned → handled → replied → closed with public
replies; a limit per sender address; staff hide a report, and a hidden report is no longer public."""

from __future__ import annotations

import hashlib
import io
import secrets
from datetime import datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa
from PIL import Image, UnidentifiedImageError

from zhulian.access import Principal
from zhulian.environment.service import require_staff
from zhulian.environment.tables import report_events, reports
from zhulian.errors import Problem, ZhulianError, invalid
from zhulian.store import Store, now

KINDS = {"fumes": ("油烟", "cooking fumes"), "noise": ("噪声", "noise"), "waste_gas": ("废气", "waste gas"),
         "water": ("水体", "water body")}
FLOW = ("received", "assigned", "handled", "replied", "closed")
STATE_NAMES = {"received": ("已受理", "received"), "assigned": ("已派单", "assigned"), "handled": ("已处置", "handled"),
               "replied": ("已答复", "replied"), "closed": ("已办结", "closed")}
MAX_PHOTO_BYTES = 5 * 1024 * 1024
MAX_PHOTO_SIDE = 8000  # pixels; and no more than MAX_PHOTO_PIXELS in all
MAX_PHOTO_PIXELS = 40_000_000
PHOTO_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg"}
REPORTS_PER_HOUR = 5  # from one sender address
MAX_TEXT = 2000
MAX_PLACE = 200
_TRACKING_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read out over the phone


class ReportService:
    def __init__(self, store: Store) -> None:
        self.store = store

    def submit(self, *, kind: str, place: str, text: str, address: str, lon: float | None = None,
               lat: float | None = None, photo: bytes | None = None) -> dict[str, Any]:
        problems = _problems(kind, place, text, lon, lat)
        photo_type = None
        if photo:
            photo_type, photo_problem = _photo_type(photo)
            problems += [photo_problem] if photo_problem else []
        if problems:
            raise invalid(problems)
        sender = hashlib.sha256(address.encode()).hexdigest()
        stamp = now()
        since = (datetime.now(timezone.utc) - timedelta(hours=1)).isoformat().replace("+00:00", "Z")
        tracking = f"HB{datetime.now(timezone.utc):%y%m%d}" + "".join(
            secrets.choice(_TRACKING_ALPHABET) for _ in range(6))
        with self.store.transaction() as writer:
            connection = writer.connection
            recent = connection.execute(sa.select(sa.func.count()).select_from(reports).where(
                reports.c.address == sender, reports.c.created >= since)).scalar_one()
            if recent >= REPORTS_PER_HOUR:
                raise ZhulianError("rate_limited", f"At most {REPORTS_PER_HOUR} reports an hour from one address; "
                                   "please try again later.", f"同一地址每小时最多提交 {REPORTS_PER_HOUR} 条，请稍后再试。", 429)
            made = connection.execute(reports.insert().values(
                tracking=tracking, kind=kind, place=place.strip(), lon=lon, lat=lat, text=text.strip(), photo=photo or None,
                photo_type=photo_type, state="received", hidden=False, address=sender, created=stamp)
            ).inserted_primary_key[0]
            connection.execute(report_events.insert().values(report_id=made, state="received", reply=None,
                                                             actor="public", at=stamp))
        return self.public(tracking)

    def public(self, tracking: str) -> dict[str, Any]:
        """What anyone with the tracking number sees (a hidden report is not found)."""
        return self._report(tracking, staff=False)

    def photo(self, tracking: str) -> tuple[bytes, str]:
        with self.store.engine.connect() as connection:
            row = connection.execute(sa.select(reports.c.photo, reports.c.photo_type).where(
                reports.c.tracking == tracking, reports.c.hidden.is_(False))).first()
        if row is None or row.photo is None:
            raise _not_found(tracking)
        return row.photo, row.photo_type

    def for_staff(self, principal: Principal, limit: int = 200) -> list[dict[str, Any]]:
        require_staff(principal, "handling citizen reports", "诉求办理")
        with self.store.engine.connect() as connection:
            rows = connection.execute(sa.select(reports.c.tracking).order_by(reports.c.id.desc()).limit(limit)).all()
        return [self._report(row.tracking, staff=True) for row in rows]

    def advance(self, principal: Principal, tracking: str, state: str, reply: str = "") -> dict[str, Any]:
        """Move a report to the next state of the flow; ``replied`` takes the public reply."""
        require_staff(principal, "handling citizen reports", "诉求办理")
        current = self._report(tracking, staff=True)
        if current["state"] == FLOW[-1] or state != FLOW[FLOW.index(current["state"]) + 1]:
            allowed = FLOW[FLOW.index(current["state"]) + 1] if current["state"] != FLOW[-1] else None
            raise ZhulianError("conflict", f"A {current['state']} report moves next to {allowed or 'nothing'}, "
                               f"not {state}.", f"“{STATE_NAMES[current['state']][0]}”的诉求下一步只能是"
                               f"“{STATE_NAMES[allowed][0] if allowed else '无'}”。", 409)
        reply = reply.strip()[:MAX_TEXT]
        if state == "replied" and not reply:
            raise invalid([Problem("reply", reply, "a reply to the citizen is needed", "须填写给市民的答复")])
        with self.store.transaction() as writer:
            writer.connection.execute(reports.update().where(reports.c.tracking == tracking).values(state=state))
            writer.connection.execute(report_events.insert().values(
                report_id=current["id"], state=state, reply=reply or None, actor=principal.id, at=now()))
            writer.log(actor=principal.id, role=principal.role, action="env.report", detail={
                "tracking": tracking, "state": state})
        return self._report(tracking, staff=True)

    def hide(self, principal: Principal, tracking: str, reason: str = "") -> dict[str, Any]:
        """Moderation: the report leaves public view (its sender's tracking page included)."""
        require_staff(principal, "handling citizen reports", "诉求办理")
        self._report(tracking, staff=True)
        with self.store.transaction() as writer:
            writer.connection.execute(reports.update().where(reports.c.tracking == tracking).values(hidden=True))
            writer.log(actor=principal.id, role=principal.role, action="env.report.hide",
                       detail={"tracking": tracking, "reason": reason.strip()[:500]})
        return self._report(tracking, staff=True)

    def _report(self, tracking: str, *, staff: bool) -> dict[str, Any]:
        with self.store.engine.connect() as connection:
            row = connection.execute(sa.select(reports).where(reports.c.tracking == tracking)).mappings().first()
            if row is None or (row["hidden"] and not staff):
                raise _not_found(tracking)
            events = connection.execute(sa.select(report_events).where(
                report_events.c.report_id == row["id"]).order_by(report_events.c.id)).mappings().all()
        report = {key: row[key] for key in ("id", "tracking", "kind", "place", "lon", "lat", "text", "state",
                                            "hidden", "created")}
        report["has_photo"] = row["photo"] is not None
        report["kind_zh"], report["kind_en"] = KINDS[row["kind"]]
        report["state_zh"], report["state_en"] = STATE_NAMES[row["state"]]
        report["next_state"] = FLOW[FLOW.index(row["state"]) + 1] if row["state"] != FLOW[-1] else None
        report["history"] = [{"state": e["state"], "state_zh": STATE_NAMES[e["state"]][0],
                              "state_en": STATE_NAMES[e["state"]][1], "reply": e["reply"], "at": e["at"]}
                             for e in events]
        return report


def _photo_type(photo: bytes) -> tuple[str | None, Problem | None]:
    """The photo's MIME type once it is known to be a PNG or JPEG of bounded size that decodes."""
    if len(photo) > MAX_PHOTO_BYTES:
        return None, Problem("photo", f"{len(photo):,} bytes", "the photo is over 5 MB", "照片超过 5 MB")
    try:
        with Image.open(io.BytesIO(photo)) as image:
            kind, (width, height) = image.format, image.size
            if kind not in PHOTO_TYPES:
                return None, Problem("photo", kind, "the photo must be a PNG or JPEG", "照片须为 PNG 或 JPEG")
            if max(width, height) > MAX_PHOTO_SIDE or width * height > MAX_PHOTO_PIXELS:
                return None, Problem("photo", f"{width}×{height}", f"the photo is over {MAX_PHOTO_SIDE} pixels a "
                                     "side or 40 megapixels", f"照片边长超过 {MAX_PHOTO_SIDE} 像素或总像素超过 4000 万")
            image.load()  # decodes every pixel: a truncated or corrupt file fails here
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, SyntaxError, ValueError):
        return None, Problem("photo", None, "the photo cannot be read as a PNG or JPEG image",
                             "照片无法作为 PNG 或 JPEG 图像读取")
    return PHOTO_TYPES[kind], None


def _problems(kind: str, place: str, text: str, lon: float | None, lat: float | None) -> list[Problem]:
    checks = [
        ("kind", kind, kind in KINDS, f"kind is one of {', '.join(KINDS)}", "类型须为油烟、噪声、废气或水体"),
        ("place", place, bool(place.strip()) and len(place) <= MAX_PLACE, "say where it is (up to 200 characters)",
         "请填写地点（不超过 200 字）"),
        ("text", text, bool(text.strip()) and len(text) <= MAX_TEXT, "describe what you saw (up to 2000 characters)",
         "请描述情况（不超过 2000 字）"),
        ("lon", lon, lon is None or -180 <= lon <= 180, "longitude is within −180..180", "经度须在 −180 到 180 之间"),
        ("lat", lat, lat is None or -90 <= lat <= 90, "latitude is within −90..90", "纬度须在 −90 到 90 之间"),
    ]
    return [Problem(field, value, reason, reason_zh) for field, value, ok, reason, reason_zh in checks if not ok]


def _not_found(tracking: str) -> ZhulianError:
    return ZhulianError("not_found", f"No public report with tracking number {tracking}.",
                        f"没有查询编号为 {tracking} 的公开诉求。", 404)

