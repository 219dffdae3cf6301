"""Alerts of the monitoring centre: exceedances (air against GB 3095-2026, water against the station's GB 3838
target class, noise against its GB 3096 zone), rapid rises, silent stations and instrument fault flags.

``check(at)`` looks at the last complete hour before ``at``. A condition already alerted updates its open alert
(one per station × kind × code) and raises its level as it persists; staff acknowledge and close alerts. Each
alert opened, escalated or closed is queued for every webhook and delivered with retries by ``deliver_due``; the
router's lifespan runs both from one background thread (``AlertWorker``).
"""

from __future__ import annotations

import csv
import logging
import threading
import time
from datetime import datetime
from functools import cache
from pathlib import Path
from statistics import fmean
from typing import Any

import httpx
import sqlalchemy as sa

from zhulian.access import Principal
from zhulian.access.principal import check_write
from zhulian.environment import noise, water
from zhulian.environment.aqi import CHINA
from zhulian.environment.hj212 import AIR_CODES, EXCLUDED_FLAGS
from zhulian.environment.service import DAILY_MIN_HOURS, HOUR, EnvironmentService, require_staff
from zhulian.environment.tables import alerts, datastreams, deliveries, hourly, stations, values, webhooks
from zhulian.errors import Problem, ZhulianError, invalid
from zhulian.store import now

log = logging.getLogger(__name__)

LIMITS_FILE = Path(__file__).parent / "data" / "gb3095_2026_air_limits.csv"
FINAL_LIMITS_FROM = datetime(2031, 1, 1, tzinfo=CHINA)  # GB 3095-2026: transition limits until 2030-12-31
AIR_CLASS = "class2"  # residential, commercial, industrial and rural areas: where city stations stand
# HJ 212-2017 codes of the surface-water basics and of noise, to GB 3838 / GB 3096 names
WATER_CODES = {"w01009": "DO", "w01019": "CODMn", "w01018": "COD", "w21003": "NH3-N", "w21011": "TP",
               "w21001": "TN"}
NOISE_CODE = "LA"
FAULT_FLAGS = ("D", "B", "T")  # fault, communication fault, over range
SILENT_HOURS = 3  # a station with no value in this many hours is silent
ESCALATE_AFTER_H = (3, 12)  # level 2 once a condition has lasted 3 hours, level 3 at 12
RISE_FACTOR = 2.0  # a rapid rise doubles within the hour …
RISE_SHARE_OF_LIMIT = 0.5  # … by at least half the parameter's limit
RETRY_AFTER_S = (30, 120, 600, 1800, 3600)  # after attempts 1..5; the sixth failure gives up
DELIVERY_LEASE_S = 60
DELIVERY_TIMEOUT_S = 5.0
STATES = ("open", "acknowledged", "closed")
KIND_NAMES = {"exceedance": ("exceedance", "超标"), "rise": ("rapid rise", "快速上升"),
              "silent": ("silent station", "站点无数据"), "fault": ("instrument fault", "仪器故障")}


@cache
def air_limits() -> dict[tuple[str, str], tuple[float, float]]:
    """(pollutant, averaging) -> (transition, final) class-2 limits of GB 3095-2026 Table 1."""
    with LIMITS_FILE.open(encoding="utf-8") as file:
        return {(row["pollutant"], row["averaging"]): (float(row[f"transition_{AIR_CLASS}"]),
                                                       float(row[f"final_{AIR_CLASS}"]))
                for row in csv.DictReader(file)}


def air_limit(pollutant: str, averaging: str, hour: int) -> float | None:
    pair = air_limits().get((pollutant, averaging))
    if pair is None:
        return None
    return pair[1] if datetime.fromtimestamp(hour, CHINA) >= FINAL_LIMITS_FROM else pair[0]


class AlertService:
    def __init__(self, service: EnvironmentService) -> None:
        self.service = service
        self.store = service.store

    # -- finding conditions ------------------------------------------------------------------------

    def check(self, at: float) -> list[dict[str, Any]]:
        """Alert on the last complete hour before ``at``; the alerts opened or escalated."""
        hour = int(at) // HOUR * HOUR - HOUR
        with self.store.engine.connect() as connection:
            known = list(connection.execute(sa.select(stations)).mappings())
            # each stored series (a datastream) by its key: a range read per series, not a scan of every hour
            pairs = connection.execute(sa.select(datastreams.c.station_id, datastreams.c.code)).all()
            series: dict[tuple[int, str], dict[int, float]] = {}
            for station_id, code, start, value in connection.execute(
                    sa.select(hourly.c.station_id, hourly.c.code, hourly.c.time,
                              sa.func.coalesce(hourly.c.reported, hourly.c.total / sa.func.nullif(hourly.c.n, 0)))
                    .where(sa.tuple_(hourly.c.station_id, hourly.c.code).in_(pairs),
                           hourly.c.time >= hour - 24 * HOUR, hourly.c.time <= hour)) if pairs else ():
                if value is not None:
                    series.setdefault((station_id, code), {})[start] = value
            faults = {(r.station_id, r.code): r.flag for r in connection.execute(
                sa.select(values.c.station_id, values.c.code, sa.func.max(values.c.flag).label("flag")).where(
                    values.c.station_id.in_([s["id"] for s in known]), values.c.time >= hour,
                    values.c.time < hour + HOUR, values.c.flag.in_(FAULT_FLAGS)).group_by(
                    values.c.station_id, values.c.code))}
        found = []
        for station in known:
            mine = {code: points for (sid, code), points in series.items() if sid == station["id"]}
            found += self._conditions(station, mine, hour)
            found += [_fault(station, code, flag) for (sid, code), flag in faults.items() if sid == station["id"]]
        return [alert for condition in found if (alert := self._raise(condition, hour))]

    def _conditions(self, station: Any, series: dict[str, dict[int, float]], hour: int) -> list[dict[str, Any]]:
        created = datetime.fromisoformat(station["created"]).timestamp()
        recent = [points for points in series.values() if any(t > hour - SILENT_HOURS * HOUR for t in points)]
        if not recent and created <= hour - SILENT_HOURS * HOUR:
            return [_condition(station, "silent", "", None, None,
                               f"no value for {SILENT_HOURS} hours or more", f"已连续 {SILENT_HOURS} 小时以上无数据")]
        found = []
        for code, points in series.items():
            value = points.get(hour)
            if value is None:
                continue
            limit, what = _limit(station, code, points, hour)
            if limit is not None and what is not None and _over(code, what[0], limit):
                found.append(_condition(station, "exceedance", code, what[0], limit, what[1], what[2]))
            before = points.get(hour - HOUR)
            if limit is not None and before is not None and value >= RISE_FACTOR * before \
                    and value - before >= RISE_SHARE_OF_LIMIT * limit:
                found.append(_condition(station, "rise", code, value, before,
                                        f"rose from {before:g} to {value:g} within the hour",
                                        f"一小时内由 {before:g} 升至 {value:g}"))
        return found

    def _raise(self, condition: dict[str, Any], hour: int) -> dict[str, Any] | None:
        """Open an alert for a condition, or bring its open alert up to date; the alert when it is new or its
        level rose (those are delivered)."""
        key = (alerts.c.station_id == condition["station_id"], alerts.c.kind == condition["kind"],
               alerts.c.code == condition["code"], alerts.c.state != "closed")
        try:
            return self._raise_in(condition, hour, key)
        except sa.exc.IntegrityError:  # another worker opened the same alert a moment ago: it is not new here
            return None

    def _raise_in(self, condition: dict[str, Any], hour: int, key: tuple[Any, ...]) -> dict[str, Any] | None:
        with self.store.transaction() as writer:
            connection = writer.connection
            current = connection.execute(sa.select(alerts).where(*key)).mappings().first()
            if current is None:
                made = connection.execute(alerts.insert().values(
                    **condition, state="open", level=1, opened=hour, last_seen=hour)).inserted_primary_key[0]
                alert = self._one(connection, made)
                self._enqueue(connection, "opened", alert)
                return alert
            level = 1 + sum(hour - current["opened"] >= hours * HOUR for hours in ESCALATE_AFTER_H)
            connection.execute(alerts.update().where(alerts.c.id == current["id"]).values(
                last_seen=max(hour, current["last_seen"]), value=condition["value"], level=max(level, current["level"])))
            if level <= current["level"]:
                return None
            alert = self._one(connection, current["id"])
            self._enqueue(connection, "escalated", alert)
            return alert

    # -- staff -------------------------------------------------------------------------------------

    def alerts(self, principal: Principal, state: str = "active") -> list[dict[str, Any]]:
        """Alerts for staff: ``active`` (open or acknowledged), or one state; a publisher sees its city's."""
        require_staff(principal, "alerts", "告警")
        if state not in ("active", *STATES):
            raise invalid([Problem("state", state, "state is active, open, acknowledged or closed",
                                   "state 须为 active、open、acknowledged 或 closed")], "query")
        query = (sa.select(alerts, stations.c.mn, stations.c.name.label("station_name"), stations.c.city)
                 .join(stations, stations.c.id == alerts.c.station_id)
                 .order_by(alerts.c.level.desc(), alerts.c.last_seen.desc(), alerts.c.id.desc()).limit(500))
        query = query.where(alerts.c.state != "closed") if state == "active" else query.where(alerts.c.state == state)
        if not principal.is_admin:
            query = query.where(stations.c.city == principal.node)
        with self.store.engine.connect() as connection:
            return [_public(row) for row in connection.execute(query).mappings()]

    def acknowledge(self, principal: Principal, alert_id: int, note: str = "") -> dict[str, Any]:
        return self._act(principal, alert_id, "acknowledged", note)

    def close(self, principal: Principal, alert_id: int, note: str = "") -> dict[str, Any]:
        return self._act(principal, alert_id, "closed", note)

    def _act(self, principal: Principal, alert_id: int, state: str, note: str) -> dict[str, Any]:
        require_staff(principal, "alerts", "告警")
        with self.store.transaction() as writer:
            connection = writer.connection
            current = self._one(connection, alert_id)
            check_write(principal, current["city"])
            if current["state"] == "closed" or current["state"] == state:
                raise ZhulianError("conflict", f"Alert {alert_id} is already {current['state']}.",
                                   f"告警 {alert_id} 已是“{_STATE_ZH[current['state']]}”状态。", 409)
            changes: dict[str, Any] = {"state": state, "note": note.strip()[:2000] or current["note"]}
            changes["acknowledged_by" if state == "acknowledged" else "closed_by"] = principal.id
            connection.execute(alerts.update().where(alerts.c.id == alert_id).values(**changes))
            writer.log(actor=principal.id, role=principal.role, action=_AUDIT_ACTIONS[state],
                       detail={"alert": alert_id, "note": changes["note"]})
            alert = self._one(connection, alert_id)
            if state == "closed":
                self._enqueue(connection, "closed", alert)
        return alert

    def _one(self, connection: sa.Connection, alert_id: int) -> dict[str, Any]:
        row = connection.execute(
            sa.select(alerts, stations.c.mn, stations.c.name.label("station_name"), stations.c.city)
            .join(stations, stations.c.id == alerts.c.station_id).where(alerts.c.id == alert_id)).mappings().first()
        if row is None:
            raise ZhulianError("not_found", f"No alert {alert_id}.", f"没有编号为 {alert_id} 的告警。", 404)
        return _public(row)

    # -- webhooks ----------------------------------------------------------------------------------

    def add_webhook(self, principal: Principal, url: str) -> dict[str, Any]:
        if not principal.is_admin:
            raise ZhulianError("forbidden", "Only administrators add webhooks.", "只有管理员可以添加 Webhook。", 403)
        if not url.startswith(("http://", "https://")) or len(url) > 500:
            raise invalid([Problem("url", url, "a webhook is an http:// or https:// URL of up to 500 characters",
                                   "Webhook 须为 http:// 或 https:// 开头、不超过 500 字符的地址")])
        with self.store.transaction() as writer:
            if writer.connection.execute(sa.select(webhooks.c.id).where(webhooks.c.url == url)).first():
                raise ZhulianError("conflict", "This webhook is already registered.", "该 Webhook 已登记。", 409)
            made = writer.connection.execute(webhooks.insert().values(url=url, created=now())).inserted_primary_key[0]
            writer.log(actor=principal.id, role=principal.role, action="env.webhook", detail={"url": url})
        return {"id": made, "url": url}

    def webhooks(self, principal: Principal) -> list[dict[str, Any]]:
        if not principal.is_admin:
            raise ZhulianError("forbidden", "Only administrators list webhooks.", "只有管理员可以查看 Webhook。", 403)
        with self.store.engine.connect() as connection:
            return [dict(row) for row in connection.execute(sa.select(webhooks).order_by(webhooks.c.id)).mappings()]

    def _enqueue(self, connection: sa.Connection, event: str, alert: dict[str, Any]) -> None:
        payload = {"event": event, "alert": alert}
        hooks = [row.id for row in connection.execute(sa.select(webhooks.c.id))]
        if hooks:
            connection.execute(deliveries.insert(), [{"webhook_id": hook, "payload": payload, "attempts": 0,
                                                      "due": 0, "state": "pending"} for hook in hooks])

    def deliver_due(self, at: float, client: httpx.Client) -> int:
        """POST each delivery that is due; a failure is retried later, up to six attempts. How many were sent."""
        moment = int(at)
        with self.store.engine.connect() as connection:
            due = list(connection.execute(
                sa.select(deliveries, webhooks.c.url).join(webhooks, webhooks.c.id == deliveries.c.webhook_id)
                .where(deliveries.c.state == "pending", deliveries.c.due <= moment)
                .order_by(deliveries.c.id).limit(100)).mappings())
        sent = 0
        for delivery in due:
            if not self._claim(delivery, moment):
                continue  # another worker took it
            error = _post(client, delivery["url"], delivery["payload"])
            attempts = delivery["attempts"] + 1
            if error is None:
                changes = {"state": "delivered", "attempts": attempts, "last_error": None}
                sent += 1
            elif attempts > len(RETRY_AFTER_S):
                changes = {"state": "failed", "attempts": attempts, "last_error": error}
            else:
                changes = {"attempts": attempts, "due": moment + RETRY_AFTER_S[attempts - 1], "last_error": error}
            with self.store.transaction() as writer:
                writer.connection.execute(deliveries.update().where(deliveries.c.id == delivery["id"]).values(**changes))
        return sent

    def _claim(self, delivery: Any, moment: int) -> bool:
        """Take a delivery for a while, so two workers never send it twice."""
        with self.store.transaction() as writer:
            taken = writer.connection.execute(deliveries.update().where(
                deliveries.c.id == delivery["id"], deliveries.c.due == delivery["due"],
                deliveries.c.state == "pending").values(due=moment + DELIVERY_LEASE_S))
            return taken.rowcount == 1

    def deliveries(self) -> list[dict[str, Any]]:
        with self.store.engine.connect() as connection:
            return [dict(row) for row in connection.execute(sa.select(deliveries).order_by(deliveries.c.id)).mappings()]


class AlertWorker:
    """The background thread: every ``interval`` seconds, check the last hour and deliver what is due."""

    def __init__(self, alerts_service: AlertService, interval: float) -> None:
        self.alerts = alerts_service
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="env-alerts", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=DELIVERY_TIMEOUT_S + self.interval + 5)

    def _run(self) -> None:
        with httpx.Client(timeout=DELIVERY_TIMEOUT_S) as client:
            while not self._stop.wait(self.interval):
                try:
                    self.alerts.check(time.time())
                    self.alerts.deliver_due(time.time(), client)
                except Exception:  # the thread outlives a bad round (a database restart, say): log and go on
                    log.exception("environment alert round failed")


def _post(client: httpx.Client, url: str, payload: Any) -> str | None:
    try:
        response = client.post(url, json=payload)
    except httpx.HTTPError as error:
        return f"{type(error).__name__}: {error}"[:500]
    return None if response.is_success else f"HTTP {response.status_code}"


def _limit(station: Any, code: str, points: dict[int, float], hour: int
           ) -> tuple[float | None, tuple[float, str, str] | None]:
    """The limit a value is held to and what is compared with it: (value, why, why in Chinese)."""
    value = points[hour]
    if code in AIR_CODES:
        name = AIR_CODES[code]
        if name in ("PM2.5", "PM10"):  # only 24-hour limits: the mean of the last 24 hours
            day = [points[t] for t in range(hour - 23 * HOUR, hour + HOUR, HOUR) if t in points]
            limit = air_limit(name, "daily", hour)
            if len(day) < DAILY_MIN_HOURS:
                return limit, None
            mean = fmean(day)
            return limit, (mean, f"{name} 24-hour mean {mean:.0f} over the GB 3095-2026 limit {limit:g}",
                           f"{name} 24 小时均值 {mean:.0f} 超过 GB 3095-2026 限值 {limit:g}")
        limit = air_limit(name, "1h", hour)
        if limit is None:
            return None, None
        return limit, (value, f"{name} hourly {value:g} over the GB 3095-2026 limit {limit:g}",
                       f"{name} 小时值 {value:g} 超过 GB 3095-2026 限值 {limit:g}")
    if code in WATER_CODES and station["water_target"]:
        name = WATER_CODES[code]
        target = water.CLASSES.index(station["water_target"])
        limit = float(water.PARAMETERS[name].limits[target])
        return limit, (value, f"{name} {value:g} misses the class {station['water_target']} limit {limit:g} "
                       "(GB 3838-2002)", f"{name} {value:g} 未达 {station['water_target']} 类限值 {limit:g}（GB 3838-2002）")
    if code == NOISE_CODE and station["zone_class"]:
        day_limit, night_limit = noise.ZONE_LIMITS[station["zone_class"]]
        daytime = datetime.fromtimestamp(hour, CHINA).hour in noise.DAY_HOURS
        limit = float(day_limit if daytime else night_limit)
        return limit, (value, f"noise {value:g} dB(A) over the zone {station['zone_class']} limit {limit:g} "
                       "(GB 3096-2008)", f"噪声 {value:g} dB(A) 超过 {station['zone_class']} 类区限值 {limit:g}（GB 3096-2008）")
    return None, None


def _over(code: str, value: float, limit: float) -> bool:
    if code == "w01009":  # dissolved oxygen: a floor, not a ceiling
        return value < limit
    return value > limit


def _condition(station: Any, kind: str, code: str, value: float | None, threshold: float | None, message: str,
               message_zh: str) -> dict[str, Any]:
    return {"station_id": station["id"], "kind": kind, "code": code, "value": value, "threshold": threshold,
            "message": f"{station['name']} ({station['mn']}): {message}",
            "message_zh": f"{station['name']}（{station['mn']}）：{message_zh}"}


def _fault(station: Any, code: str, flag: str) -> dict[str, Any]:
    meaning_zh, meaning = EXCLUDED_FLAGS[flag].split(" ", 1)
    return _condition(station, "fault", code, None, None, f"{code} flagged {flag} ({meaning})",
                      f"{code} 数据标记为 {flag}（{meaning_zh}）")


_AUDIT_ACTIONS = {"acknowledged": "env.acknowledge", "closed": "env.close"}  # the log's action: 16 characters
_STATE_ZH = {"open": "未处理", "acknowledged": "已确认", "closed": "已关闭"}


def _public(row: Any) -> dict[str, Any]:
    alert = dict(row)
    alert["kind_name"], alert["kind_zh"] = KIND_NAMES[alert["kind"]]
    alert["state_zh"] = _STATE_ZH[alert["state"]]
    return alert

