"""Named queries and webhook subscriptions per the EPCIS 2.0 REST binding (``/epcis/queries``), and the
notifier that reports to the subscribers.

A subscription either streams (``stream: true``: every new matching event is reported soon after it is
captured, by whichever process captured it) or runs on a cron-like ``schedule`` (``second``, ``minute``,
``hour``, ``dayOfMonth``, ``month``, ``dayOfWeek``; each a list such as ``1,5,[10-20]``; an omitted field
matches any value, except ``second``, which is 0, so a schedule fires at most once a minute). A report is an
EPCISQueryDocument POSTed to ``dest``; with a ``signatureToken`` it carries ``GS1-Signature``: the hex
HMAC-SHA256 of the body under the token. Reports wait in an outbox (``trace_deliveries``) and are retried with
exponential backoff. Claims are conditional updates, so several server workers never report twice."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import re
import threading
from typing import Any

import httpx
import sqlalchemy as sa
from ulid import ULID

from zhulian.access import Principal
from zhulian.errors import Problem, ZhulianError, conflict, invalid
from zhulian.trace.hashing import utc_millis
from zhulian.trace.rights import check_read_rights
from zhulian.trace.service import EPCIS_CONTEXT, MAX_PER_PAGE, TraceService, checked_conditions, utc_millis_now
from zhulian.trace.tables import deliveries, queries, subscriptions
from zhulian.trace.validation import text_problems
from zhulian.trace.webhooks import WebhookGuard

log = logging.getLogger("zhulian.trace")

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
_SCHEDULE_RANGES = {"second": (0, 59), "minute": (0, 59), "hour": (0, 23), "dayOfMonth": (1, 31),
                    "month": (1, 12), "dayOfWeek": (1, 7)}
_SCHEDULE_ITEM = re.compile(r"^(\d{1,2})$|^\[(\d{1,2})-(\d{1,2})\]$")
MAX_ATTEMPTS = 6


class SubscriptionService:
    def __init__(self, store: Any, webhook_hosts: str = "") -> None:
        """``webhook_hosts``: the admin's list of hosts reports may reach although they are not public."""
        self.store = store
        self.trace = TraceService(store)
        self.guard = WebhookGuard(webhook_hosts)

    # -- named queries -------------------------------------------------------------------------------

    def create_query(self, principal: Principal, name: Any, query: Any) -> dict[str, Any]:
        check_read_rights(principal)
        if not isinstance(name, str) or not _NAME.match(name):
            raise invalid([Problem("name", name, "1–100 letters, digits, '_', '.' or '-', starting with a letter "
                                   "or digit", "查询名称应为 1–100 个字母、数字、下划线、点或连字符")], "query")
        parameters = query_parameters(query)
        with self.store.transaction() as writer:
            if writer.connection.execute(sa.select(queries.c.name).where(queries.c.name == name)).first():
                raise conflict(f"A query named {name!r} exists; delete it first or choose another name.",
                               f"名为 {name!r} 的查询已存在；请先删除或换一个名称。")
            row = {"name": name, "parameters": parameters, "actor": principal.id, "created": utc_millis_now()}
            writer.connection.execute(queries.insert().values(**row))
            writer.log(actor=principal.id, role=principal.role, action="trace_query_add", detail={"name": name})
        return _query(row)

    def queries(self, principal: Principal) -> list[dict[str, Any]]:
        check_read_rights(principal)
        with self.store.engine.connect() as connection:
            return [_query(dict(row)) for row in connection.execute(
                sa.select(queries).order_by(queries.c.name)).mappings()]

    def query(self, principal: Principal, name: str) -> dict[str, Any]:
        check_read_rights(principal)
        return _query(self._query_row(name))

    def query_events(self, principal: Principal, name: str, paging: dict[str, str], *,
                     epc_format: str = "No_Preference") -> tuple[list[dict[str, Any]], str | None]:
        """The named query run now, paged like ``GET /epcis/events``."""
        parameters = {**_loaded(self._query_row(name)["parameters"]), **paging}
        return self.trace.query(principal, parameters, epc_format=epc_format)

    def delete_query(self, principal: Principal, name: str) -> None:
        """Deletes the query and its subscriptions (their pending reports are no longer sent)."""
        row = self._query_row(name)
        _check_owner(principal, row["actor"], "query")
        with self.store.transaction() as writer:
            gone = [r for (r,) in writer.connection.execute(
                sa.select(subscriptions.c.id).where(subscriptions.c.query_name == name))]
            writer.connection.execute(deliveries.delete().where(deliveries.c.subscription_id.in_(gone)))
            writer.connection.execute(subscriptions.delete().where(subscriptions.c.query_name == name))
            writer.connection.execute(queries.delete().where(queries.c.name == name))
            writer.log(actor=principal.id, role=principal.role, action="trace_query_del",
                       detail={"name": name, "subscriptions": gone})

    def _query_row(self, name: str) -> dict[str, Any]:
        with self.store.engine.connect() as connection:
            row = connection.execute(sa.select(queries).where(queries.c.name == name)).mappings().first()
        if row is None:
            raise ZhulianError("not_found", f"No query named {name!r}.", f"没有名为 {name!r} 的查询。", 404)
        return dict(row)

    # -- subscriptions -------------------------------------------------------------------------------

    def subscribe(self, principal: Principal, name: str, body: Any, *, epc_format: str = "No_Preference"
                  ) -> dict[str, Any]:
        check_read_rights(principal)
        self._query_row(name)
        if not isinstance(body, dict):
            raise invalid([Problem("/", None, "a JSON object with dest and stream or schedule",
                                   "应为包含 dest 以及 stream 或 schedule 的 JSON 对象")], "query")
        stream, schedule = body.get("stream"), body.get("schedule")
        problems = _subscription_problems(body, self.guard)
        if problems:
            raise invalid(problems, "query")
        stamp = utc_millis_now()
        initial = utc_millis(body["initialRecordTime"]) if body.get("initialRecordTime") else None
        row = {"id": f"sub_{ULID()}", "query_name": name, "dest": body["dest"],
               "signature_token": body.get("signatureToken"), "stream": stream is True,
               "schedule": schedule if stream is not True else None,
               "report_if_empty": body.get("reportIfEmpty") is True, "epc_format": epc_format,
               "initial_record_time": initial, "min_record_time": initial or stamp,
               # Without initialRecordTime a subscription reports only what is captured from now on.
               "last_seq": 0 if initial else self.trace.last_seq(),
               "next_run": None if stream is True else next_run(schedule, _now()),
               "last_notified": None, "actor": principal.id, "created": stamp}
        with self.store.transaction() as writer:
            writer.connection.execute(subscriptions.insert().values(**row))
            writer.log(actor=principal.id, role=principal.role, action="trace_sub_add",
                       detail={"query": name, "subscription": row["id"], "dest": row["dest"]})
        return _subscription(row)

    def subscriptions(self, principal: Principal, name: str) -> list[dict[str, Any]]:
        check_read_rights(principal)
        self._query_row(name)
        with self.store.engine.connect() as connection:
            return [_subscription(dict(row)) for row in connection.execute(
                sa.select(subscriptions).where(subscriptions.c.query_name == name)
                .order_by(subscriptions.c.created)).mappings()]

    def subscription(self, principal: Principal, name: str, subscription_id: str) -> dict[str, Any]:
        check_read_rights(principal)
        return _subscription(self._subscription_row(name, subscription_id))

    def unsubscribe(self, principal: Principal, name: str, subscription_id: str) -> None:
        row = self._subscription_row(name, subscription_id)
        _check_owner(principal, row["actor"], "subscription")
        with self.store.transaction() as writer:
            writer.connection.execute(deliveries.delete().where(deliveries.c.subscription_id == subscription_id))
            writer.connection.execute(subscriptions.delete().where(subscriptions.c.id == subscription_id))
            writer.log(actor=principal.id, role=principal.role, action="trace_sub_del",
                       detail={"query": name, "subscription": subscription_id})

    def deliveries(self, subscription_id: str) -> list[dict[str, Any]]:
        """A subscription's reports, oldest first (status, attempts, last error)."""
        with self.store.engine.connect() as connection:
            return [dict(row) for row in connection.execute(
                sa.select(deliveries).where(deliveries.c.subscription_id == subscription_id)
                .order_by(deliveries.c.id)).mappings()]

    def _subscription_row(self, name: str, subscription_id: str) -> dict[str, Any]:
        with self.store.engine.connect() as connection:
            row = connection.execute(sa.select(subscriptions).where(
                subscriptions.c.id == subscription_id, subscriptions.c.query_name == name)).mappings().first()
        if row is None:
            raise ZhulianError("not_found", f"No subscription {subscription_id!r} to the query {name!r}.",
                               f"查询 {name!r} 没有订阅 {subscription_id!r}。", 404)
        return dict(row)

    def subscribers_of(self, event_ids: list[str]) -> list[dict[str, Any]]:
        """The subscriptions whose query matches any of these events: who will be told of them."""
        with self.store.engine.connect() as connection:
            rows = connection.execute(sa.select(subscriptions.c.id, subscriptions.c.dest, queries.c.name,
                                                queries.c.parameters)
                                      .join(queries, queries.c.name == subscriptions.c.query_name)
                                      .order_by(subscriptions.c.id)).all()
        return [{"subscriptionID": row.id, "queryName": row.name, "dest": row.dest} for row in rows
                if self.trace.matches(_loaded(row.parameters), event_ids)]

    # -- reporting (the notifier's work) -------------------------------------------------------------

    def report_due(self, at: dt.datetime) -> int:
        """Queue a report for every stream subscription with new matching events and every scheduled one
        whose time has come; returns how many were queued."""
        stamp = _stamp(at)
        with self.store.engine.connect() as connection:
            due = [dict(row) for row in connection.execute(sa.select(subscriptions).where(sa.or_(
                subscriptions.c.stream.is_(True), subscriptions.c.next_run <= stamp))).mappings()]
            named = dict(connection.execute(sa.select(queries.c.name, queries.c.parameters)).all())
        return sum(self._report(row, _loaded(named[row["query_name"]]), at)
                   for row in due if row["query_name"] in named)

    def _report(self, row: dict[str, Any], parameters: dict[str, str], at: dt.datetime) -> int:
        found, last = self.trace.events_after(parameters, row["last_seq"], since_record_time=row["min_record_time"],
                                              limit=MAX_PER_PAGE, epc_format=row["epc_format"])
        if row["stream"] and not found:
            return 0
        later = None if row["stream"] else next_run(_loaded(row["schedule"]), at)
        with self.store.transaction() as writer:
            # Claimed only if no other worker reported this subscription meanwhile.
            claimed = writer.connection.execute(subscriptions.update().where(
                subscriptions.c.id == row["id"], subscriptions.c.last_seq == row["last_seq"],
                subscriptions.c.next_run.is_(None) if row["next_run"] is None
                else subscriptions.c.next_run == row["next_run"]).values(last_seq=last, next_run=later)).rowcount
            if not claimed or (not found and not row["report_if_empty"]):
                return 0
            body = json.dumps(_report_document(row, found), ensure_ascii=False, separators=(",", ":"))
            writer.connection.execute(deliveries.insert().values(
                id=f"dlv_{ULID()}", subscription_id=row["id"], body=body, event_count=len(found), status="pending",
                attempts=0, next_attempt=_stamp(at), created=_stamp(at)))
        return 1

    def webhook_client(self, timeout_s: float) -> httpx.Client:
        """The client reports are sent with: it connects only to addresses the guard checked at that moment."""
        return httpx.Client(transport=self.guard.transport(), timeout=timeout_s, follow_redirects=False)

    def deliver_due(self, client: httpx.Client, at: dt.datetime, backoff_s: float) -> int:
        """Send every report whose time has come; a failure is retried after ``backoff_s`` × 2^(tries − 1),
        up to ``MAX_ATTEMPTS`` tries. Returns how many were delivered."""
        with self.store.engine.connect() as connection:
            due = [dict(row) for row in connection.execute(
                sa.select(deliveries, subscriptions.c.dest, subscriptions.c.signature_token)
                .join(subscriptions, subscriptions.c.id == deliveries.c.subscription_id)
                .where(deliveries.c.status == "pending", deliveries.c.next_attempt <= _stamp(at))
                .order_by(deliveries.c.id).limit(100)).mappings()]
        return sum(self._deliver(client, row, at, backoff_s) for row in due)

    def _deliver(self, client: httpx.Client, row: dict[str, Any], at: dt.datetime, backoff_s: float) -> int:
        attempt = row["attempts"] + 1
        lease = _stamp(at + dt.timedelta(seconds=60))  # if this worker dies mid-send, another retries later
        with self.store.transaction() as writer:
            if not writer.connection.execute(deliveries.update().where(
                    deliveries.c.id == row["id"], deliveries.c.attempts == row["attempts"],
                    deliveries.c.status == "pending").values(attempts=attempt, next_attempt=lease)).rowcount:
                return 0
        error = _send(client, row["dest"], row["body"], row["signature_token"])
        sent = _stamp(_now())
        with self.store.transaction() as writer:
            if error is None:
                writer.connection.execute(deliveries.update().where(deliveries.c.id == row["id"]).values(
                    status="delivered", delivered=sent, last_error=None))
                writer.connection.execute(subscriptions.update().where(
                    subscriptions.c.id == row["subscription_id"]).values(last_notified=sent))
                return 1
            retry = _stamp(_now() + dt.timedelta(seconds=backoff_s * 2 ** (attempt - 1)))
            writer.connection.execute(deliveries.update().where(deliveries.c.id == row["id"]).values(
                status="failed" if attempt >= MAX_ATTEMPTS else "pending", next_attempt=retry,
                last_error=error[:500]))
        log.warning("report %s to %s failed (try %d): %s", row["id"], row["dest"], attempt, error)
        return 0


class Notifier:
    """The thread that queues and sends subscription reports while the web app serves."""

    def __init__(self, store: Any, poll_s: float = 0.5, backoff_s: float = 2.0, timeout_s: float = 10.0,
                 webhook_hosts: str = "") -> None:
        self.service = SubscriptionService(store, webhook_hosts)
        self.poll_s, self.backoff_s, self.timeout_s = poll_s, backoff_s, timeout_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="zhulian-trace-notifier", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def run_once(self, client: httpx.Client) -> int:
        self.service.report_due(_now())
        return self.service.deliver_due(client, _now(), self.backoff_s)

    def _run(self) -> None:
        with self.service.webhook_client(self.timeout_s) as client:
            while not self._stop.wait(self.poll_s):
                try:
                    self.run_once(client)
                except Exception:  # the notifier outlives any one failure; the next round tries again
                    log.exception("subscription round failed")


# -- helpers ---------------------------------------------------------------------------------------------

def signature(body: bytes, token: str) -> str:
    """``GS1-Signature``: the hex HMAC-SHA256 of the exact body, keyed with the subscriber's token."""
    return hmac.new(token.encode(), body, hashlib.sha256).hexdigest()


def query_parameters(query: Any) -> dict[str, str]:
    """A query as the REST binding's JSON gives it (``{"EQ_bizStep": ["shipping"], "GE_quantity": 1}``) in the
    form ``GET /epcis/events`` takes it; checked, so a bad query is refused when it is named."""
    if not isinstance(query, dict) or not query:
        raise invalid([Problem("query", None, "a JSON object of SimpleEventQuery parameters",
                               "应为 SimpleEventQuery 参数组成的 JSON 对象")], "query")
    parameters = {}
    for key, value in query.items():
        if key == "@context":
            continue
        values = value if isinstance(value, list) else [value]
        parameters[key] = "|".join(("true" if v else "false") if isinstance(v, bool) else str(v) for v in values)
    checked_conditions(parameters)
    return parameters


def next_run(schedule: dict[str, Any], after: dt.datetime) -> str | None:
    """The first whole second after ``after`` that the schedule matches (within a year), as stored."""
    allowed = {field: _schedule_values(schedule, field) for field in _SCHEDULE_RANGES}
    start = after.replace(microsecond=0) + dt.timedelta(seconds=1)
    day = start.replace(hour=0, minute=0, second=0)
    for _ in range(367):
        if day.month in allowed["month"] and day.day in allowed["dayOfMonth"] and \
                day.isoweekday() in allowed["dayOfWeek"]:
            for hour in sorted(allowed["hour"]):
                for minute in sorted(allowed["minute"]):
                    for second in sorted(allowed["second"]):
                        moment = day.replace(hour=hour, minute=minute, second=second)
                        if moment >= start:
                            return _stamp(moment)
        day += dt.timedelta(days=1)
    return None


def _schedule_values(schedule: dict[str, Any], field: str) -> set[int]:
    low, high = _SCHEDULE_RANGES[field]
    text = schedule.get(field)
    if text is None:
        return {0} if field == "second" else set(range(low, high + 1))
    values: set[int] = set()
    for item in str(text).replace(" ", "").split(","):
        found = _SCHEDULE_ITEM.match(item)
        if not found:
            raise ValueError(f"{field}: {item!r} is not a number or [a-b] range")
        first, last = (int(found.group(1)),) * 2 if found.group(1) else (int(found.group(2)), int(found.group(3)))
        if not low <= first <= last <= high:
            raise ValueError(f"{field}: {item!r} is outside {low}–{high}")
        values |= set(range(first, last + 1))
    return values


def _subscription_problems(body: dict[str, Any], guard: WebhookGuard) -> list[Problem]:
    problems = text_problems(body)
    refused = guard.problem(body.get("dest"))
    if refused:
        problems.append(refused)
    token = body.get("signatureToken")
    if token is not None and (not isinstance(token, str) or not 1 <= len(token) <= 500):
        problems.append(Problem("signatureToken", None, "a string of 1–500 characters", "应为 1–500 个字符的字符串"))
    stream, schedule = body.get("stream"), body.get("schedule")
    if (stream is True) == isinstance(schedule, dict):
        problems.append(Problem("stream", stream, "either \"stream\": true or a schedule, not both",
                                "应设置 \"stream\": true 或 schedule 之一（不能同时设置）"))
    elif isinstance(schedule, dict):
        try:
            unknown = set(schedule) - set(_SCHEDULE_RANGES)
            if unknown:
                raise ValueError(f"unknown fields {', '.join(sorted(unknown))}")
            if next_run(schedule, _now()) is None:
                raise ValueError("never matches a date")
        except ValueError as error:
            problems.append(Problem("schedule", schedule, str(error), f"schedule 不合法：{error}"))
    if "reportIfEmpty" in body and not isinstance(body["reportIfEmpty"], bool):
        problems.append(Problem("reportIfEmpty", body["reportIfEmpty"], "true or false", "应为 true 或 false"))
    if body.get("initialRecordTime") is not None and not (
            isinstance(body["initialRecordTime"], str) and utc_millis(body["initialRecordTime"])):
        problems.append(Problem("initialRecordTime", body["initialRecordTime"], "an ISO 8601 date-time with a "
                                "time-zone offset", "应为带时区的 ISO 8601 时间"))
    return problems


def _send(client: httpx.Client, dest: str, body: str, token: str | None) -> str | None:
    """POST a report; None when the subscriber answered 2xx, else what went wrong."""
    raw = body.encode()
    headers = {"Content-Type": "application/ld+json", "GS1-EPCIS-Version": "2.0.0", "GS1-CBV-Version": "2.0.0"}
    if token:
        headers["GS1-Signature"] = signature(raw, token)
    try:
        response = client.post(dest, content=raw, headers=headers)
    except httpx.HTTPError as error:
        return f"{type(error).__name__}: {error}"
    return None if response.is_success else f"HTTP {response.status_code}"


def _report_document(row: dict[str, Any], found: list[dict[str, Any]]) -> dict[str, Any]:
    return {"@context": [EPCIS_CONTEXT], "type": "EPCISQueryDocument", "schemaVersion": "2.0",
            "creationDate": utc_millis_now(),
            "epcisBody": {"queryResults": {"queryName": row["query_name"], "subscriptionID": row["id"],
                                           "resultsBody": {"eventList": found}}}}


def _check_owner(principal: Principal, actor: str, what: str) -> None:
    check_read_rights(principal)
    if not (principal.is_admin or principal.id == actor):
        raise ZhulianError("forbidden", f"Only whoever created this {what}, or an admin, deletes it.",
                           f"只有创建者或管理员可以删除该{'查询' if what == 'query' else '订阅'}。", 403)


def _query(row: dict[str, Any]) -> dict[str, Any]:
    parameters = _loaded(row["parameters"])
    return {"name": row["name"], "query": {k: v.split("|") for k, v in parameters.items()},
            "createdAt": row["created"]}


def _subscription(row: dict[str, Any]) -> dict[str, Any]:
    """As the binding shows a subscription: the signature token is never shown back."""
    shown = {"subscriptionID": row["id"], "queryName": row["query_name"], "dest": row["dest"],
             "createdAt": row["created"], "lastNotifiedAt": row["last_notified"],
             "initialRecordTime": row["initial_record_time"], "minRecordTime": row["min_record_time"],
             "epcFormat": row["epc_format"], "reportIfEmpty": row["report_if_empty"],
             "signed": bool(row["signature_token"])}
    if row["stream"]:
        shown["stream"] = True
    else:
        shown["schedule"] = _loaded(row["schedule"])
        shown["nextRun"] = row["next_run"]
    return shown


def _loaded(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _stamp(moment: dt.datetime) -> str:
    """As times are stored: UTC at milliseconds with Z, sorting as text."""
    return moment.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")

