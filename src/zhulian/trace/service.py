"""The EPCIS 2.0 repository (DESIGN §1, trace): capture of EPCIS documents and single events, capture jobs,
and the SimpleEventQuery. Every capture is one transaction with its audit entry; under ``rollback`` (the
default) a document with any bad event stores nothing, under ``proceed`` exactly its valid events. An event is
stored as captured and never edited: a correction is an error declaration, kept beside the event it declares
erroneous and shown in the event's ``errorDeclaration`` when it is read."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from ulid import ULID

from zhulian.access import Principal
from zhulian.errors import Problem, ZhulianError, conflict, invalid
from zhulian.store import Writer, now
from zhulian.trace.events import SENSOR_IDENTIFIERS, cbv_word, identifier_rows, place, sensor_rows
from zhulian.trace.hashing import context_prefixes, event_hash, ignored_fields, utc_millis
from zhulian.trace.identifiers import canonical, gs1_digital_link
from zhulian.trace.masterdata import MasterData, save, vocabulary_rows
from zhulian.trace.rapid import project as project_rapid_tests
from zhulian.trace.rights import check_capture_rights, check_read_rights
from zhulian.trace.tables import captures, declarations, event_ids, events, sensor_reports
from zhulian.trace.tracing import DIRECTIONS, follow
from zhulian.trace.validation import CAPTURE_LIMIT, check_text, document_problems, events_of

BEHAVIOURS = ("rollback", "proceed")
EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
EVENT_TYPES = ("ObjectEvent", "AggregationEvent", "TransactionEvent", "TransformationEvent", "AssociationEvent")
EPC_FORMATS = ("No_Preference", "Always_GS1_Digital_Link", "Always_EPC_URN", "Never_Translates")
PER_PAGE, MAX_PER_PAGE = 30, 1000
_EVENT_POINTER = re.compile(r"^/epcisBody/eventList/(\d+)(/|$)")

# SimpleEventQuery parameters this repository answers (the REST binding's names); any other is refused.
_MATCH_ROLES = {"MATCH_epc": ("epc",), "MATCH_parentID": ("parent",), "MATCH_inputEPC": ("input",),
                "MATCH_outputEPC": ("output",), "MATCH_anyEPC": ("epc", "parent", "child", "input", "output"),
                "MATCH_epcClass": ("epc_class",), "MATCH_inputEPCClass": ("input_class",),
                "MATCH_outputEPCClass": ("output_class",),
                "MATCH_anyEPCClass": ("epc_class", "child_class", "input_class", "output_class")}
_QUANTITY = {"EQ_quantity": "__eq__", "GT_quantity": "__gt__", "GE_quantity": "__ge__", "LT_quantity": "__lt__",
             "LE_quantity": "__le__"}
_TIMES = {"GE_eventTime": (events.c.event_time, "__ge__"), "LT_eventTime": (events.c.event_time, "__lt__"),
          "GE_recordTime": (events.c.record_time, "__ge__"), "LT_recordTime": (events.c.record_time, "__lt__")}
_PLACES = {"EQ_readPoint": events.c.read_point, "WD_readPoint": events.c.read_point,
           "EQ_bizLocation": events.c.biz_location, "WD_bizLocation": events.c.biz_location}
_DECLARATIONS = {"GE_errorDeclarationTime": "__ge__", "LT_errorDeclarationTime": "__lt__", "EQ_errorReason": "in_"}
_PAGING = ("perPage", "nextPageToken", "orderBy", "orderDirection", "eventCountLimit", "maxEventCount")
# Sensor filters: all of one query's apply to the same sensorReport.
_SENSOR_EQUALS = {"EQ_type": "type", "EQ_deviceID": "device_id", "EQ_dataProcessingMethod": "data_processing_method",
                  "EQ_microorganism": "microorganism", "EQ_chemicalSubstance": "chemical_substance",
                  "EQ_bizRules": "biz_rules", "EQ_stringValue": "string_value", "EQ_uriValue": "uri_value",
                  "EQ_hexBinaryValue": "hex_binary_value"}
_SENSOR_TIMES = {"GE_time": ("time", "__ge__"), "LT_time": ("time", "__lt__"),
                 "GE_startTime": ("start_time", "__ge__"), "LT_startTime": ("start_time", "__lt__"),
                 "GE_endTime": ("end_time", "__ge__"), "LT_endTime": ("end_time", "__lt__")}
_SENSOR_VALUE = re.compile(r"^(EQ|GT|GE|LT|LE)_(value|minValue|maxValue|meanValue|sDev|percValue)_([A-Za-z0-9]{2,3})$")
_SENSOR_COLUMNS = {"value": "value", "minValue": "min_value", "maxValue": "max_value", "meanValue": "mean_value",
                   "sDev": "s_dev", "percValue": "perc_value"}
_COMPARISONS = {"EQ": "__eq__", "GT": "__gt__", "GE": "__ge__", "LT": "__lt__", "LE": "__le__"}
QUERY_PARAMETERS = ("eventType", *_TIMES, "EQ_action", "EQ_bizStep", "EQ_disposition", *_PLACES, *_MATCH_ROLES,
                    *_QUANTITY, "EQ_eventID", "EXISTS_errorDeclaration", *_DECLARATIONS, *_SENSOR_EQUALS,
                    "EQ_booleanValue", *_SENSOR_TIMES, *_PAGING)
_ANSWERED = ", ".join(QUERY_PARAMETERS) + " and EQ|GT|GE|LT|LE_value|minValue|maxValue|meanValue|sDev|percValue_<uom>"


class TraceService:
    def __init__(self, store: Any) -> None:
        self.store = store

    # -- capture -------------------------------------------------------------------------------------

    def capture(self, principal: Principal, document: Any, *, behaviour: str = "rollback",
                origin: str | None = None) -> dict[str, Any]:
        """Capture an EPCISDocument; returns the finished capture job. Under ``rollback`` any problem refuses
        the whole document (400 with every problem, 409 for duplicates); under ``proceed`` the valid events
        are stored and the job lists the others' problems."""
        check_capture_rights(principal)
        if behaviour not in BEHAVIOURS:
            raise invalid([Problem("GS1-Capture-Error-Behaviour", behaviour, "rollback or proceed",
                                   "应为 rollback（全部或全不）或 proceed（保存有效事件）")], "file")
        if not isinstance(document, dict) or document.get("type") != "EPCISDocument":
            raise invalid([Problem("/type", document.get("type") if isinstance(document, dict) else None,
                                   "capture takes an EPCISDocument; send a single event to /epcis/events",
                                   "采集接口接收 EPCISDocument；单个事件请提交到 /epcis/events")], "file")
        found, _ = events_of(document)
        if len(found) > CAPTURE_LIMIT:
            raise ZhulianError("too_large", f"The document has {len(found):,} events; at most {CAPTURE_LIMIT:,} "
                               "per capture.", f"文档含 {len(found):,} 个事件，每次最多采集 {CAPTURE_LIMIT:,} 个。", 413)
        problems = document_problems(document)
        by_event, whole = _split_by_event(problems)
        if whole or (problems and behaviour == "rollback"):
            raise invalid(problems, "file")
        prepared = [self._prepare(event, document, f"/epcisBody/eventList/{index}")
                    for index, event in enumerate(found) if index not in by_event]
        return self._store(principal, prepared, len(found), behaviour, problems, origin,
                           master=vocabulary_rows(document))

    def add_event(self, principal: Principal, event: Any, *, origin: str | None = None) -> dict[str, Any]:
        """``POST /epcis/events``: one event; its eventID (its hash when it has none)."""
        check_capture_rights(principal)
        if not isinstance(event, dict) or event.get("type") not in EVENT_TYPES:
            raise invalid([Problem("/type", event.get("type") if isinstance(event, dict) else None,
                                   f"an event's type is one of {', '.join(EVENT_TYPES)}",
                                   f"事件类型应为 {'、'.join(EVENT_TYPES)} 之一")], "record")
        problems = document_problems(event)
        if problems:
            raise invalid(problems, "record")
        job = self._store(principal, [self._prepare(event, event, "")], 1, "rollback", [], origin)
        return {"eventID": job["eventIDs"][0], "captureID": job["captureID"]}

    def capture_job(self, principal: Principal, capture_id: str) -> dict[str, Any]:
        check_read_rights(principal)
        with self.store.engine.connect() as connection:
            row = connection.execute(sa.select(captures).where(captures.c.id == capture_id)).mappings().first()
        if row is None:
            raise ZhulianError("not_found", f"No capture job {capture_id!r}.", f"找不到采集任务 {capture_id!r}。", 404)
        return _job(dict(row))

    def capture_jobs(self, principal: Principal, limit: int = 50) -> list[dict[str, Any]]:
        """The latest capture jobs, newest first."""
        check_read_rights(principal)
        statement = sa.select(captures).order_by(captures.c.created.desc(), captures.c.id.desc()).limit(limit)
        with self.store.engine.connect() as connection:
            return [_job(dict(row)) for row in connection.execute(statement).mappings()]

    def _prepare(self, event: dict[str, Any], document: dict[str, Any], pointer: str) -> dict[str, Any]:
        hashed = event_hash(event, context_prefixes(document.get("@context")), ignored_fields(document))
        event_id = event.get("eventID") or hashed
        return {"event": event, "event_id": event_id, "hash": hashed, "pointer": pointer,
                "declaration": event.get("errorDeclaration")}

    def _store(self, principal: Principal, prepared: list[dict[str, Any]], total: int, behaviour: str,
               problems: list[Problem], origin: str | None, *, master: Sequence[dict[str, Any]] = ()
               ) -> dict[str, Any]:
        """Store the prepared events, and ``master``: the document's named locations and parties."""
        capture_id = f"cap_{ULID()}"
        stamp = utc_millis_now()
        try:
            with self.store.transaction() as writer:
                connection = writer.connection
                duplicates, kept = self._sort_out(connection, prepared)
                if duplicates and behaviour == "rollback":
                    raise conflict(f"{len(duplicates)} event(s) were captured before; nothing was stored.",
                                   f"{len(duplicates)} 个事件此前已采集，未保存任何事件。", duplicates)
                problems = problems + duplicates
                self._insert(writer, kept, capture_id, stamp, principal.id)
                save(connection, master, "epcis")
                job = {"id": capture_id, "running": False, "success": not problems, "behaviour": behaviour,
                       "event_count": total, "stored": len(kept), "errors": [p.as_dict() for p in problems],
                       "actor": principal.id, "created": stamp, "finished": utc_millis_now()}
                connection.execute(captures.insert().values(**job))
                writer.log(actor=principal.id, role=principal.role, action="trace_capture", origin=origin,
                           detail={"capture": capture_id, "events": total, "stored": len(kept),
                                   "behaviour": behaviour})
        except IntegrityError:  # another capture stored one of these events meanwhile
            raise conflict("An event in this capture was stored by another capture meanwhile; nothing was stored.",
                           "本次采集中的事件已被同时进行的另一采集保存，未保存任何事件。") from None
        return {**_job(job), "eventIDs": [item["event_id"] for item in kept]}

    def _sort_out(self, connection: sa.Connection, prepared: list[dict[str, Any]]
                  ) -> tuple[list[Problem], list[dict[str, Any]]]:
        """Duplicates (same eventID, or same hash without an error declaration, as stored or earlier in this
        capture) as problems; and what to store, declarations of stored events marked as such."""
        stored = self._known(connection, [p["event_id"] for p in prepared], [p["hash"] for p in prepared])
        declared = self._declared(connection, [stored[key] for p in prepared
                                               for key in (p["event_id"], p["hash"]) if key in stored])
        duplicates, kept, seen = [], [], set()
        for item in prepared:
            original = stored.get(item["event_id"]) or stored.get(item["hash"])
            keys = {item["event_id"], item["hash"]}
            if item["declaration"] and original and original not in declared and not keys & seen:
                item["declares"] = original  # a correction: the stored event is declared erroneous
                declared.add(original)
            elif original or keys & seen:
                duplicates.append(_duplicate(item, original))
                continue
            seen |= keys
            kept.append(item)
        return duplicates, kept

    def _known(self, connection: sa.Connection, ids: list[str], hashes: list[str]) -> dict[str, str]:
        """Stored events by eventID and by hash → their eventID."""
        known: dict[str, str] = {}
        for chunk in _chunks(sorted(set(ids) | set(hashes))):
            statement = sa.select(events.c.event_id, events.c.event_hash).where(
                sa.or_(events.c.event_id.in_(chunk), events.c.event_hash.in_(chunk)))
            for event_id, hashed in connection.execute(statement):
                known[event_id] = known[hashed] = event_id
        return known

    def _declared(self, connection: sa.Connection, ids: list[str]) -> set[str]:
        found: set[str] = set()
        for chunk in _chunks(sorted(set(ids))):
            found |= set(connection.execute(sa.select(declarations.c.event_id)
                                            .where(declarations.c.event_id.in_(chunk))).scalars())
        return found

    def _insert(self, writer: Writer, kept: list[dict[str, Any]], capture_id: str, stamp: str, actor: str) -> None:
        connection = writer.connection
        new = [item for item in kept if "declares" not in item]
        rows = [_event_row(item, capture_id, stamp) for item in new]
        if rows:
            writer.keep_order(events.name)  # the events feed (trace/federation.py) reads them in seq order
            statement = events.insert().returning(events.c.seq, sort_by_parameter_order=True)
            seqs = connection.execute(statement, rows).scalars().all()
            for table, project in ((event_ids, identifier_rows), (sensor_reports, sensor_rows)):
                projected = [{"event_seq": seq, **row} for seq, item in zip(seqs, new, strict=True)
                             for row in project(item["event"])]
                if projected:
                    connection.execute(table.insert(), projected)
            project_rapid_tests(connection, [(seq, row, item["event"])
                                             for seq, row, item in zip(seqs, rows, new, strict=True)], actor, stamp)
        notes = [{"event_id": item.get("declares") or item["event_id"], "declaration": item["declaration"],
                  "declaration_time": utc_millis(str(item["declaration"].get("declarationTime", ""))),
                  "reason": cbv_word(item["declaration"].get("reason"), "ER"), "record_time": stamp,
                  "capture_id": capture_id} for item in kept if item["declaration"]]
        if notes:
            connection.execute(declarations.insert(), notes)

    # -- query ---------------------------------------------------------------------------------------

    def query(self, principal: Principal, parameters: dict[str, str], *, epc_format: str = "No_Preference"
              ) -> tuple[list[dict[str, Any]], str | None]:
        """SimpleEventQuery over the stored events: one page of events and the token of the next page."""
        check_read_rights(principal)
        conditions = checked_conditions(parameters)
        per_page = _integer(parameters, "perPage", PER_PAGE, 1, MAX_PER_PAGE)
        count_limit = _integer(parameters, "eventCountLimit", None, 1, None)
        max_count = _integer(parameters, "maxEventCount", None, 1, None)
        offset = _read_token(parameters.get("nextPageToken"), parameters)
        order = _order(parameters)
        statement = sa.select(events.c.seq).where(*conditions)
        with self.store.engine.connect() as connection:
            if max_count is not None:
                total = connection.execute(sa.select(sa.func.count()).select_from(statement.subquery())).scalar_one()
                if total > max_count:
                    raise ZhulianError("query_too_large", f"{total} events match, more than maxEventCount={max_count}; "
                                       "narrow the query (QueryTooLargeException).",
                                       f"匹配 {total} 个事件，超过 maxEventCount={max_count}，请缩小查询范围。", 413)
            size = per_page if count_limit is None else max(0, min(per_page, count_limit - offset))
            seqs = list(connection.execute(statement.order_by(*order).offset(offset).limit(size + 1)).scalars())
            more = len(seqs) > size and (count_limit is None or offset + size < count_limit)
            found = self._documents(connection, seqs[:size], epc_format)
        token = _token(offset + size, parameters) if more else None
        return found, token

    def events_after(self, parameters: dict[str, str], after_seq: int, *, since_record_time: str | None = None,
                     limit: int = MAX_PER_PAGE, epc_format: str = "No_Preference") -> tuple[list[dict[str, Any]], int]:
        """The events a (checked) query matches that were stored after ``after_seq``, oldest first, at most
        ``limit``; and the last seq returned (``after_seq`` when none): what a subscription reports next."""
        conditions = [*checked_conditions(parameters), events.c.seq > after_seq]
        if since_record_time:
            conditions.append(events.c.record_time >= since_record_time)
        statement = sa.select(events.c.seq).where(*conditions).order_by(events.c.seq).limit(limit)
        with self.store.engine.connect() as connection:
            seqs = list(connection.execute(statement).scalars())
            return self._documents(connection, seqs, epc_format), (seqs[-1] if seqs else after_seq)

    def documents(self, event_ids: list[str]) -> list[dict[str, Any]]:
        """Stored events by eventID, oldest first, each with its error declaration (no access check: for
        callers that decide what to show, such as the consumer page)."""
        if not event_ids:
            return []
        with self.store.engine.connect() as connection:
            seqs = list(connection.execute(sa.select(events.c.seq).where(events.c.event_id.in_(event_ids))
                                           .order_by(events.c.event_time, events.c.seq)).scalars())
            return self._documents(connection, seqs, "No_Preference")

    def matches(self, parameters: dict[str, str], event_ids: list[str]) -> bool:
        """Whether a (checked) query matches any of these events."""
        statement = sa.select(events.c.seq).where(*checked_conditions(parameters),
                                                  events.c.event_id.in_(event_ids)).limit(1)
        with self.store.engine.connect() as connection:
            return connection.execute(statement).first() is not None

    def last_seq(self) -> int:
        with self.store.engine.connect() as connection:
            return connection.execute(sa.select(sa.func.max(events.c.seq))).scalar() or 0

    def event(self, principal: Principal, event_id: str, *, epc_format: str = "No_Preference") -> dict[str, Any]:
        check_read_rights(principal)
        with self.store.engine.connect() as connection:
            seq = connection.execute(sa.select(events.c.seq).where(
                sa.or_(events.c.event_id == event_id, events.c.event_hash == event_id))).scalar()
            found = self._documents(connection, [seq], epc_format) if seq is not None else []
        if not found:
            raise ZhulianError("not_found", f"No event {event_id!r}.", f"找不到事件 {event_id!r}。", 404)
        return found[0]

    def trace(self, principal: Principal, identifier: str, direction: str) -> dict[str, Any]:
        """Trace back or forward from an identifier in any spelling (see ``tracing``)."""
        check_read_rights(principal)
        if direction not in DIRECTIONS:
            raise invalid([Problem("direction", direction, "back or forward", "应为 back（溯源）或 forward（追踪）")],
                          "query")
        check_text(id=identifier)
        start = canonical(identifier or "")
        if not start:
            raise invalid([Problem("id", identifier, "give an EPC, a GS1 Digital Link or another identifier",
                                   "请提供 EPC、GS1 数字链接或其他标识")], "query")
        with self.store.engine.connect() as connection:
            answer = follow(connection, start, direction)
        if not answer["count"]:
            raise ZhulianError("not_found", f"No stored event names {identifier!r}.",
                               f"没有任何已保存的事件涉及 {identifier!r}。", 404)
        # What people read for the URNs: "广州某某食品有限公司 (广州市)"
        answer["names"] = MasterData(self.store).labels(principal, answer["locations"] + answer["parties"])
        return answer

    def distinct(self, principal: Principal, resource: str) -> list[str]:
        """The values a top-level resource lists (``/epcis/bizSteps``, ``/epcis/epcs``, …), at most 1,000."""
        check_read_rights(principal)
        columns = {"bizSteps": events.c.biz_step, "dispositions": events.c.disposition,
                   "readPoints": events.c.read_point, "bizLocations": events.c.biz_location,
                   "eventTypes": events.c.event_type}
        if resource == "epcs":
            statement = sa.select(event_ids.c.identifier).where(
                event_ids.c.role.in_(("epc", "parent", "child", "input", "output"))).distinct()
        else:
            statement = sa.select(columns[resource]).where(columns[resource].is_not(None)).distinct()
        with self.store.engine.connect() as connection:
            return sorted(connection.execute(statement.limit(1000)).scalars())

    def _documents(self, connection: sa.Connection, seqs: list[int], epc_format: str) -> list[dict[str, Any]]:
        """Events in the order of ``seqs``, each with its error declaration when one was made."""
        if not seqs:
            return []
        rows = {row.seq: row for row in connection.execute(
            sa.select(events.c.seq, events.c.event_id, events.c.document).where(events.c.seq.in_(seqs)))}
        ids = [rows[seq].event_id for seq in seqs]
        notes = dict(connection.execute(sa.select(declarations.c.event_id, declarations.c.declaration)
                                        .where(declarations.c.event_id.in_(ids))).all())
        shown = []
        for seq in seqs:
            document = _loaded(rows[seq].document)
            if rows[seq].event_id in notes:
                document["errorDeclaration"] = _loaded(notes[rows[seq].event_id])
            shown.append(_in_format(document, epc_format))
        return shown


# -- helpers ---------------------------------------------------------------------------------------------

def utc_millis_now() -> str:
    """Now as the event and record times are stored: UTC at milliseconds."""
    return utc_millis(now()) or now()


def _split_by_event(problems: list[Problem]) -> tuple[set[int], list[Problem]]:
    """Which events have problems, and the problems that belong to the document as a whole."""
    by_event, whole = set(), []
    for problem in problems:
        found = _EVENT_POINTER.match(problem.field)
        if found:
            by_event.add(int(found.group(1)))
        else:
            whole.append(problem)
    return by_event, whole


def _duplicate(item: dict[str, Any], original: str | None) -> Problem:
    where = f"the stored event {original}" if original else "an earlier event in this capture"
    where_zh = f"已保存的事件 {original}" if original else "本次采集中前面的事件"
    return Problem(item["pointer"] or "/", item["event_id"],
                   f"a duplicate of {where} (same eventID or same event hash); correct an event by capturing "
                   "it again with an errorDeclaration",
                   f"与{where_zh}重复（相同的 eventID 或事件哈希）；如需更正，请附 errorDeclaration 重新采集")


def _event_row(item: dict[str, Any], capture_id: str, stamp: str) -> dict[str, Any]:
    event = item["event"]
    document = {**event, "eventID": item["event_id"], "recordTime": stamp}
    document.pop("errorDeclaration", None)  # kept in trace_declarations, merged back when read
    return {"event_id": item["event_id"][:500], "event_hash": item["hash"], "event_type": event["type"],
            "action": event.get("action"), "event_time": utc_millis(str(event.get("eventTime", ""))) or "",
            "record_time": stamp, "biz_step": cbv_word(event.get("bizStep"), "BizStep"),
            "disposition": cbv_word(event.get("disposition"), "Disp"), "read_point": place(event.get("readPoint")),
            "biz_location": place(event.get("bizLocation")), "capture_id": capture_id, "document": document}


def _job(row: dict[str, Any]) -> dict[str, Any]:
    """A capture job as the REST binding shows it."""
    return {"captureID": row["id"], "createdAt": row["created"], "finishedAt": row["finished"],
            "running": row["running"], "success": row["success"], "captureErrorBehaviour": row["behaviour"],
            "eventCount": row["event_count"], "storedCount": row["stored"], "errors": _loaded(row["errors"])}


def _loaded(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _values(parameters: dict[str, str], name: str) -> list[str]:
    return [v.strip() for v in parameters[name].split("|") if v.strip()]


def checked_conditions(parameters: dict[str, str]) -> list[Any]:
    """The SQL conditions of a SimpleEventQuery; a parameter this repository does not answer, or a bad value,
    is a 400 with every problem."""
    check_text(**parameters)
    unknown = sorted(name for name in set(parameters) - set(QUERY_PARAMETERS) if not _SENSOR_VALUE.match(name))
    if unknown:
        raise invalid([Problem(name, parameters[name], "not a SimpleEventQuery parameter this repository "
                               f"answers; it answers {_ANSWERED}",
                               "本库不支持该查询参数（QueryParameterException）") for name in unknown], "query")
    return _conditions(parameters)


def _conditions(parameters: dict[str, str]) -> list[Any]:
    problems: list[Problem] = []
    conditions: list[Any] = []
    on_one_report: list[Any] = []
    for name in parameters:
        if name in _PAGING:
            continue
        try:
            if _is_sensor_filter(name):
                on_one_report += _sensor_condition(name, parameters)
            else:
                conditions.append(_condition(name, parameters))
        except ValueError as error:
            problems.append(Problem(name, parameters[name], str(error), f"参数值不合法：{error}"))
    if problems:
        raise invalid(problems, "query")
    if on_one_report:
        conditions.append(events.c.seq.in_(sa.select(sensor_reports.c.event_seq).where(*on_one_report)))
    return conditions


def _is_sensor_filter(name: str) -> bool:
    return (name in _SENSOR_EQUALS or name in _SENSOR_TIMES or name == "EQ_booleanValue"
            or bool(_SENSOR_VALUE.match(name)))


def _sensor_condition(name: str, parameters: dict[str, str]) -> list[Any]:
    if name in _SENSOR_EQUALS:
        column = _SENSOR_EQUALS[name]
        wanted = _values(parameters, name)
        if column == "type":
            wanted = [cbv_word(v, "Measurement") for v in wanted]
        elif column in SENSOR_IDENTIFIERS:
            wanted = [canonical(v) for v in wanted]
        return [sensor_reports.c[column].in_(wanted)]
    if name == "EQ_booleanValue":
        if parameters[name].lower() not in ("true", "false"):
            raise ValueError("true or false")
        return [sensor_reports.c.boolean_value.is_(parameters[name].lower() == "true")]
    if name in _SENSOR_TIMES:
        column, comparison = _SENSOR_TIMES[name]
        moment = utc_millis(parameters[name])
        if moment is None:
            raise ValueError("an ISO 8601 date-time with a time-zone offset")
        return [getattr(sensor_reports.c[column], comparison)(moment)]
    comparison, field, uom = _SENSOR_VALUE.match(name).groups()
    try:
        amount = float(parameters[name])
    except ValueError:
        raise ValueError("a number") from None
    column = sensor_reports.c[_SENSOR_COLUMNS[field]]
    return [getattr(column, _COMPARISONS[comparison])(amount), sensor_reports.c.uom == uom]


def _condition(name: str, parameters: dict[str, str]) -> Any:
    if name == "eventType":
        wanted = _values(parameters, name)
        if not set(wanted) <= set(EVENT_TYPES):
            raise ValueError(f"event types are {', '.join(EVENT_TYPES)}")
        return events.c.event_type.in_(wanted)
    if name in _TIMES:
        column, comparison = _TIMES[name]
        moment = utc_millis(parameters[name])
        if moment is None:
            raise ValueError("an ISO 8601 date-time with a time-zone offset, e.g. 2024-05-01T00:00:00+08:00")
        return getattr(column, comparison)(moment)
    if name == "EQ_action":
        wanted = _values(parameters, name)
        if not set(wanted) <= {"ADD", "OBSERVE", "DELETE"}:
            raise ValueError("actions are ADD, OBSERVE, DELETE")
        return events.c.action.in_(wanted)
    if name == "EQ_bizStep":
        return events.c.biz_step.in_([cbv_word(v, "BizStep") for v in _values(parameters, name)])
    if name == "EQ_disposition":
        return events.c.disposition.in_([cbv_word(v, "Disp") for v in _values(parameters, name)])
    if name in _PLACES:  # WD_ (with descendants) equals EQ_ until locations carry a hierarchy
        return _PLACES[name].in_([canonical(v) for v in _values(parameters, name)])
    if name in _MATCH_ROLES:
        return _mentions(_MATCH_ROLES[name], [canonical(v) for v in _values(parameters, name)])
    if name in _QUANTITY:
        try:
            amount = float(parameters[name])
        except ValueError:
            raise ValueError("a number") from None
        return events.c.seq.in_(sa.select(event_ids.c.event_seq).where(
            event_ids.c.role.in_(_MATCH_ROLES["MATCH_anyEPCClass"]),
            getattr(event_ids.c.quantity, _QUANTITY[name])(amount)))
    if name == "EQ_eventID":
        return events.c.event_id.in_(_values(parameters, name))
    if name == "EXISTS_errorDeclaration":
        if parameters[name].lower() not in ("true", "false", ""):
            raise ValueError("true or false")
        declared = events.c.event_id.in_(sa.select(declarations.c.event_id))
        return sa.not_(declared) if parameters[name].lower() == "false" else declared
    if name in _DECLARATIONS:
        return events.c.event_id.in_(sa.select(declarations.c.event_id).where(_declaration_condition(name, parameters)))
    raise ValueError("not supported")


def _declaration_condition(name: str, parameters: dict[str, str]) -> Any:
    if name == "EQ_errorReason":
        return declarations.c.reason.in_([cbv_word(v, "ER") for v in _values(parameters, name)])
    moment = utc_millis(parameters[name])
    if moment is None:
        raise ValueError("an ISO 8601 date-time with a time-zone offset")
    return getattr(declarations.c.declaration_time, _DECLARATIONS[name])(moment)


def _mentions(roles: Iterable[str], identifiers: list[str]) -> Any:
    return events.c.seq.in_(sa.select(event_ids.c.event_seq).where(
        event_ids.c.identifier.in_(identifiers), event_ids.c.role.in_(tuple(roles))))


def _order(parameters: dict[str, str]) -> list[Any]:
    by = parameters.get("orderBy", "")
    columns = {"": events.c.seq, "eventTime": events.c.event_time, "recordTime": events.c.record_time}
    direction = parameters.get("orderDirection", "DESC" if by else "ASC").upper()
    if by not in columns or direction not in ("ASC", "DESC"):
        raise invalid([Problem("orderBy", by, "orderBy is eventTime or recordTime; orderDirection ASC or DESC",
                               "orderBy 应为 eventTime 或 recordTime；orderDirection 应为 ASC 或 DESC")], "query")
    column = columns[by]
    if direction == "DESC":
        return [column.desc(), events.c.seq.desc()]
    return [column.asc(), events.c.seq.asc()]


def _integer(parameters: dict[str, str], name: str, default: int | None, low: int, high: int | None) -> int | None:
    if name not in parameters:
        return default
    value = parameters[name]
    if not value.isdigit() or int(value) < low or (high is not None and int(value) > high):
        bound = f"{low} to {high}" if high else f"at least {low}"
        raise invalid([Problem(name, value, f"a whole number, {bound}", f"应为整数，{bound}")], "query")
    return int(value)


def _query_key(parameters: dict[str, str]) -> str:
    """What a page token is bound to: the query without its paging, so a token cannot page another query."""
    fixed = {k: v for k, v in sorted(parameters.items()) if k not in ("nextPageToken", "perPage")}
    return hashlib.sha256(json.dumps(fixed).encode()).hexdigest()[:16]


def _token(offset: int, parameters: dict[str, str]) -> str:
    raw = json.dumps({"o": offset, "q": _query_key(parameters)}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _read_token(token: str | None, parameters: dict[str, str]) -> int:
    if not token:
        return 0
    try:
        raw = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        if raw["q"] == _query_key(parameters) and isinstance(raw["o"], int) and raw["o"] >= 0:
            return raw["o"]
    except (ValueError, KeyError, TypeError):
        pass
    raise invalid([Problem("nextPageToken", token, "not a page token of this query; start again without it",
                           "不是本查询的翻页令牌，请去掉该参数重新查询")], "query")


def _in_format(document: dict[str, Any], epc_format: str) -> dict[str, Any]:
    """``GS1-EPC-Format: Always_GS1_Digital_Link`` rewrites EPC URNs as Digital Links; other formats give
    identifiers as captured (an EPC URN cannot be rebuilt from a Digital Link without the company-prefix
    length, which this repository does not know)."""
    if epc_format != "Always_GS1_Digital_Link":
        return document

    def link(value: Any) -> Any:
        return (gs1_digital_link(value) or value) if isinstance(value, str) else value

    shown = dict(document)
    for field in ("epcList", "childEPCs", "inputEPCList", "outputEPCList"):
        if isinstance(shown.get(field), list):
            shown[field] = [link(v) for v in shown[field]]
    if "parentID" in shown:
        shown["parentID"] = link(shown["parentID"])
    for field in ("quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList"):
        if isinstance(shown.get(field), list):
            shown[field] = [{**q, "epcClass": link(q.get("epcClass"))} if isinstance(q, dict) else q
                            for q in shown[field]]
    return shown


def _chunks(items: list[Any], size: int = 500) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]
