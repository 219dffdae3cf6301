"""OGC SensorThings API 1.1 over the module's stations and values, at ``/sta/v1.1/``.

A Thing is a station, with one Location (its coordinates), one HistoricalLocation (when it was registered) and
one FeatureOfInterest (the station's point); a Datastream is the station's series of one parameter code, and its
Observations are the station's stored values of that code (a real-time value is an instant; minute, hourly and
daily values are periods). Writes go through the environment service's write path; reads are public.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import sqlalchemy as sa

from zhulian.access import Principal
from zhulian.access.principal import check_write
from zhulian.environment.service import KINDS, EnvironmentService, ValueRow, station_problems, epoch
from zhulian.environment.sta_catalogue import OBSERVATION_TYPE
from zhulian.environment.sta_query import Field, Options, compile_filter, order_columns
from zhulian.environment.tables import datastreams, properties, sensors, stations, values
from zhulian.errors import Problem, ZhulianError, conflict, invalid
from zhulian.records import RecordService
from zhulian.store import now

if TYPE_CHECKING:
    from zhulian.records.service import Batch

PERIODS = {"rtd": 0, "minute": 60, "hour": 3600, "day": 86400}
_PERIOD_NAMES = {seconds: name for name, seconds in PERIODS.items() if seconds}
GEOJSON = "application/geo+json"


@dataclass(frozen=True)
class Link:
    """A navigation property: the target set, and the column of this row that equals the target's column."""

    target: str
    local: str
    remote: str
    single: bool


@dataclass(frozen=True)
class EntitySet:
    name: str
    source: Callable[[], sa.Select[Any]]
    fields: dict[str, Field]
    links: dict[str, Link]
    render: Callable[[Any], dict[str, Any]]
    order: tuple[str, ...] = ("id",)  # the stable order under any $orderby


def _iso(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, timezone.utc).isoformat().replace("+00:00", "Z")


def _point(row: Any) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [row.lon, row.lat]}


def _station_source() -> sa.Select[Any]:
    return sa.select(stations.c.id, stations.c.mn, stations.c.name, stations.c.kind, stations.c.city,
                     stations.c.district, stations.c.lon, stations.c.lat, stations.c.zone_class,
                     stations.c.water_target, stations.c.created)


def _thing(row: Any) -> dict[str, Any]:
    details = {"mn": row.mn, "kind": row.kind, "city": row.city, "district": row.district,
               "zone_class": row.zone_class, "water_target": row.water_target}
    return {"name": row.name, "description": f"{KINDS.get(row.kind, row.kind)}监测站 {row.mn}",
            "properties": {key: value for key, value in details.items() if value is not None}}


def _location(row: Any) -> dict[str, Any]:
    return {"name": row.name, "description": f"{row.name} ({row.mn})", "encodingType": GEOJSON,
            "location": _point(row)}


def _feature(row: Any) -> dict[str, Any]:
    return {"name": row.name, "description": f"{row.name} ({row.mn})", "encodingType": GEOJSON,
            "feature": _point(row)}


def _historical_location(row: Any) -> dict[str, Any]:
    return {"time": datetime.fromisoformat(row.created).astimezone(timezone.utc).isoformat().replace("+00:00", "Z")}


def _datastream(row: Any) -> dict[str, Any]:
    return {"name": row.name, "description": row.description, "unitOfMeasurement": row.unit,
            "observationType": row.observation_type, "properties": {"code": row.code}}


def _observation(row: Any) -> dict[str, Any]:
    period = PERIODS.get(row.interval, 0)
    end = row.time + period
    phenomenon = _iso(row.time) if not period else f"{_iso(row.time)}/{_iso(end)}"
    parameters = {"interval": row.interval, "flag": row.flag}
    parameters |= {key: row[key] for key in ("low", "high", "count") if row[key] is not None}
    return {"phenomenonTime": phenomenon, "resultTime": _iso(end), "result": row.result, "parameters": parameters}


def observation_id(datastream_id: int, interval: str, time: int) -> str:
    return f"{datastream_id}_{interval}_{time}"


def _observation_source() -> sa.Select[Any]:
    joined = values.join(datastreams, sa.and_(datastreams.c.station_id == values.c.station_id,
                                              datastreams.c.code == values.c.code))
    return sa.select(datastreams.c.id.label("datastream_id"), values.c.station_id, values.c.time, values.c.code,
                     values.c.interval, values.c.value.label("result"), values.c.flag, values.c.low, values.c.high,
                     values.c.count).select_from(joined)


_STATION_FIELDS = {"id": Field("id", "number"), "name": Field("name"), "properties/mn": Field("mn"),
                   "properties/kind": Field("kind"), "properties/city": Field("city"),
                   "properties/district": Field("district")}
SETS: dict[str, EntitySet] = {entity.name: entity for entity in (
    EntitySet("Things", _station_source, _STATION_FIELDS, {
        "Locations": Link("Locations", "id", "id", False),
        "HistoricalLocations": Link("HistoricalLocations", "id", "id", False),
        "Datastreams": Link("Datastreams", "id", "thing_id", False)}, _thing),
    EntitySet("Locations", _station_source, {"id": Field("id", "number"), "name": Field("name")}, {
        "Things": Link("Things", "id", "id", False),
        "HistoricalLocations": Link("HistoricalLocations", "id", "id", False)}, _location),
    EntitySet("HistoricalLocations", _station_source, {"id": Field("id", "number")}, {
        "Thing": Link("Things", "id", "id", True), "Locations": Link("Locations", "id", "id", False)},
        _historical_location),
    EntitySet("FeaturesOfInterest", _station_source, {"id": Field("id", "number"), "name": Field("name")}, {
        "Observations": Link("Observations", "id", "station_id", False)}, _feature),
    EntitySet("Sensors", lambda: sa.select(sensors), {"id": Field("id", "number"), "name": Field("name")}, {
        "Datastreams": Link("Datastreams", "id", "sensor_id", False)},
        lambda row: {"name": row.name, "description": row.description, "encodingType": row.encoding_type,
                     "metadata": row.metadata}),
    EntitySet("ObservedProperties", lambda: sa.select(properties), {
        "id": Field("id", "number"), "name": Field("name"), "definition": Field("definition")}, {
        "Datastreams": Link("Datastreams", "id", "property_id", False)},
        lambda row: {"name": row.name, "definition": row.definition, "description": row.description,
                     "properties": {"code": row.code}}),
    EntitySet("Datastreams", lambda: sa.select(datastreams, datastreams.c.station_id.label("thing_id")), {
        "id": Field("id", "number"), "name": Field("name"), "properties/code": Field("code"), "Thing/id": Field("thing_id", "number"),
        "Sensor/id": Field("sensor_id", "number"), "ObservedProperty/id": Field("property_id", "number")}, {
        "Thing": Link("Things", "thing_id", "id", True), "Sensor": Link("Sensors", "sensor_id", "id", True),
        "ObservedProperty": Link("ObservedProperties", "property_id", "id", True),
        "Observations": Link("Observations", "id", "datastream_id", False)}, _datastream),
    EntitySet("Observations", _observation_source, {
        "result": Field("result", "number"), "phenomenonTime": Field("time", "time"),
        "parameters/interval": Field("interval"), "parameters/flag": Field("flag"),
        "Datastream/id": Field("datastream_id", "number"), "FeatureOfInterest/id": Field("station_id", "number")}, {
        "Datastream": Link("Datastreams", "datastream_id", "id", True),
        "FeatureOfInterest": Link("FeaturesOfInterest", "station_id", "id", True)},
        _observation, order=("station_id", "time", "code", "interval")),  # the values' primary key order
)}


def not_found(what: str) -> ZhulianError:
    return ZhulianError("not_found", f"No {what} here.", f"没有 {what}。", 404)


class SensorThings:
    """Reads and writes of the SensorThings view; ``base`` is the service root URL (``…/sta/v1.1``)."""

    def __init__(self, service: EnvironmentService) -> None:
        self.service = service
        self.store = service.store

    # -- reading -----------------------------------------------------------------------------------

    def entity_id(self, entity: EntitySet, row: Any) -> int | str:
        if entity.name == "Observations":
            return observation_id(row.datastream_id, row.interval, row.time)
        return int(row.id)

    def key_condition(self, entity: EntitySet, columns: Any, key: str) -> sa.ColumnElement[bool]:
        """The condition naming one entity by the key in its URL: ``Things(3)``, ``Observations('5_rtd_…')``."""
        text = key.strip("'")
        if entity.name == "Observations":
            parts = text.split("_")
            if len(parts) != 3 or not parts[0].isdigit() or parts[1] not in PERIODS or not parts[2].isdigit():
                raise not_found(f"Observation {key}")
            return sa.and_(columns.datastream_id == int(parts[0]), columns.interval == parts[1],
                           columns.time == int(parts[2]))
        if not text.isdigit():
            raise not_found(f"{entity.name} {key}")
        return columns.id == int(text)

    def read(self, base: str, path: list[tuple[str, str | None]], options: Options) -> tuple[dict[str, Any], bool]:
        """The entity or collection at a resource path (``[("Things", "3"), ("Datastreams", None)]``); and whether
        it is one entity."""
        with self.store.engine.connect() as connection:
            entity, condition, single = self._resolve(connection, path)
            if single:
                found = self._rows(connection, entity, condition, Options(top=1))
                if not found:
                    raise not_found(f"{path[-1][0]} {path[-1][1] or ''}".strip())
                return self._render(connection, base, entity, found[0], options), True
            return self._collection(connection, base, entity, condition, options), False

    def _resolve(self, connection: sa.Connection, path: list[tuple[str, str | None]]
                 ) -> tuple[EntitySet, Callable[[Any], Any] | None, bool]:
        name, key = path[0]
        if name not in SETS:
            raise not_found(f"entity set {name}")
        entity = SETS[name]
        condition: Callable[[Any], Any] | None = None
        if key is not None:
            condition = _bound(self.key_condition, entity, key)
        single = key is not None
        for name, key in path[1:]:
            if not single or name not in entity.links:
                raise not_found(f"{entity.name}/{name}")
            link = entity.links[name]
            found = self._rows(connection, entity, condition, Options(top=1))
            if not found:
                raise not_found(entity.name)
            value = found[0][link.local]
            entity = SETS[link.target]
            condition = _equals(link.remote, value)
            single = link.single
            if key is not None:
                if single:
                    raise not_found(f"{name}({key})")
                inner = condition
                keyed = _bound(self.key_condition, entity, key)
                condition = _all(inner, keyed)
                single = True
        return entity, condition, single

    def _select(self, entity: EntitySet, condition: Callable[[Any], Any] | None, options: Options
                ) -> tuple[sa.Select[Any], Any]:
        source = entity.source().subquery()
        query = sa.select(source)
        if condition is not None:
            query = query.where(condition(source.c))
        if options.filter:
            query = query.where(compile_filter(options.filter, source.c, entity.fields))
        return query, source.c

    def _rows(self, connection: sa.Connection, entity: EntitySet, condition: Callable[[Any], Any] | None,
              options: Options, extra: int = 0) -> list[Any]:
        query, columns = self._select(entity, condition, options)
        order = order_columns(options, columns, entity.fields) + [columns[name] for name in entity.order]
        query = query.order_by(*order).offset(options.skip).limit(options.top + extra)
        return list(connection.execute(query).mappings())

    def _collection(self, connection: sa.Connection, base: str, entity: EntitySet,
                    condition: Callable[[Any], Any] | None, options: Options, link: str | None = None
                    ) -> dict[str, Any]:
        rows = self._rows(connection, entity, condition, options, extra=1)
        more = len(rows) > options.top
        body: dict[str, Any] = {}
        if options.count:
            query, _ = self._select(entity, condition, options)
            body["@iot.count"] = connection.execute(sa.select(sa.func.count()).select_from(query.subquery())).scalar()
        rendered = [self._render(connection, base, entity, row, options) for row in rows[:options.top]]
        if options.result_format == "dataArray" and entity.name == "Observations":
            body["value"] = _data_array(base, rows[:options.top], rendered)
        else:
            body["value"] = rendered
        if more:
            body["@iot.nextLink"] = link_with_skip(link or f"{base}/{entity.name}", options, options.skip + options.top)
        return body

    def _render(self, connection: sa.Connection, base: str, entity: EntitySet, row: Any,
                options: Options) -> dict[str, Any]:
        key = self.entity_id(entity, row)
        self_link = f"{base}/{entity.name}({key if isinstance(key, int) else repr(key)})"
        body: dict[str, Any] = {"@iot.id": key, "@iot.selfLink": self_link, **entity.render(row)}
        for name in entity.links:
            body[f"{name}@iot.navigationLink"] = f"{self_link}/{name}"
        if options.select is not None:
            wanted = {"@iot.id" if name == "id" else name for name in options.select}
            body = {k: v for k, v in body.items() if k in wanted or k.split("@")[0] in wanted and "@iot.nav" in k}
        for name, nested in options.expand.items():
            if name not in entity.links:
                raise invalid([Problem("$expand", name, f"{entity.name} has no navigation property {name}; it has "
                                       f"{', '.join(entity.links)}", f"{entity.name} 没有导航属性 {name}；可用 "
                                       f"{'、'.join(entity.links)}")], "query")
            link = entity.links[name]
            target = SETS[link.target]
            condition = _equals(link.remote, row[link.local])
            if link.single:
                found = self._rows(connection, target, condition, Options(top=1, select=nested.select,
                                                                           expand=nested.expand))
                body[name] = self._render(connection, base, target, found[0], nested) if found else None
            else:
                listed = self._collection(connection, base, target, condition, nested, f"{self_link}/{name}")
                body[name] = listed["value"]
                for extra in ("@iot.count", "@iot.nextLink"):
                    if extra in listed:
                        body[f"{name}{extra}"] = listed[extra]
        return body

    # -- writing -----------------------------------------------------------------------------------

    def create(self, principal: Principal, base: str, path: list[tuple[str, str | None]], body: Any) -> str:
        """POST to a collection; the new entity's self link."""
        if not isinstance(body, dict):
            raise _refused("(body)", None, "send one JSON object", "请求体须为一个 JSON 对象")
        if len(path) == 2 and path[0][0] == "Datastreams" and path[0][1] and path[1] == ("Observations", None):
            body = {**body, "Datastream": {"@iot.id": int(path[0][1].strip("'"))} if path[0][1].isdigit() else None}
        elif len(path) != 1 or path[0][1] is not None:
            raise ZhulianError("method_not_allowed", "POST creates entities in a collection, e.g. /Things or "
                               "/Datastreams(1)/Observations.", "POST 用于在集合中创建实体，例如 /Things 或 "
                               "/Datastreams(1)/Observations。", 405)
        name = path[-1][0]
        makers = {"Things": self._create_thing, "Datastreams": self._create_datastream,
                  "Sensors": self._create_sensor, "ObservedProperties": self._create_property,
                  "Observations": self._create_observation}
        if name not in makers:
            raise ZhulianError("method_not_allowed", f"{name} are not created on their own here: a station's "
                               "Location, HistoricalLocation and FeatureOfInterest come with its Thing.",
                               f"此处不能单独创建 {name}：站点的位置、历史位置和观测对象随其 Thing 一同创建。", 405)
        with RecordService(self.store).batch(principal) as batch:  # a Thing is a station: its record is written too
            made, learned = makers[name](batch, principal, body)
        self.service.learn(learned)
        key = made if isinstance(made, int) else repr(made)
        return f"{base}/{name}({key})"

    def create_observations(self, principal: Principal, base: str, body: Any) -> list[str]:
        """The dataArray extension: ``[{"Datastream": {"@iot.id": 1}, "components": [...], "dataArray": [...]}]``;
        all rows are stored or none."""
        if not isinstance(body, list):
            raise _refused("(body)", None, "CreateObservations takes a JSON array of datastreams' dataArrays",
                           "CreateObservations 的请求体须为 JSON 数组")
        links: list[str] = []
        rows: list[ValueRow] = []
        with self.store.transaction() as writer:
            for index, group in enumerate(body):
                if not isinstance(group, dict) or not isinstance(group.get("dataArray"), list):
                    raise _refused(f"[{index}]", None, "each item has components and a dataArray",
                                   "每项须有 components 与 dataArray")
                components = group.get("components")
                if not isinstance(components, list) or "result" not in components or "phenomenonTime" not in components:
                    raise _refused(f"[{index}].components", components, "components name phenomenonTime and result",
                                   "components 须包含 phenomenonTime 与 result")
                stream = self._datastream_of(writer.connection, principal, group.get("Datastream"))
                for number, entry in enumerate(group["dataArray"]):
                    if not isinstance(entry, list) or len(entry) != len(components):
                        raise _refused(f"[{index}].dataArray[{number}]", entry, "each entry has one value per "
                                       "component", "每条数据须与 components 一一对应")
                    row = _value_row(stream, dict(zip(components, entry, strict=True)), f"[{index}].dataArray[{number}]")
                    rows.append(row)
                    links.append(f"{base}/Observations('{observation_id(stream['id'], row[3], row[1])}')")
            _, learned = self.service.write_in(writer.connection, rows)
        self.service.learn(learned)
        return links

    def _create_thing(self, batch: Batch, principal: Principal, body: dict[str, Any]) -> tuple[int, Any]:
        connection = batch.connection
        details = body.get("properties") or {}
        locations = body.get("Locations") or []
        if not isinstance(details, dict) or not isinstance(locations, list):
            raise _refused("properties", details, "properties is an object and Locations a list",
                           "properties 须为对象，Locations 须为数组")
        if len(locations) != 1 or not isinstance(locations[0], dict) or "@iot.id" in locations[0]:
            raise _refused("Locations", locations, "a station's Thing comes with exactly one new Location (a GeoJSON "
                           "Point)", "站点须随附且仅随附一个新的位置（GeoJSON 点）")
        lon, lat = _coordinates(locations[0].get("location"))
        mn = str(details.get("mn") or f"STA{secrets.token_hex(6).upper()}")
        city, kind = str(details.get("city") or principal.node or ""), str(details.get("kind") or "air")
        name = body.get("name") if isinstance(body.get("name"), str) else ""
        problems = station_problems(mn, name, city, lon, lat, kind, details.get("zone_class"),
                                     details.get("water_target"))
        if problems:
            raise invalid(problems)
        check_write(principal, city)
        station_id = self.service.record_station(batch, {
            "mn": mn, "name": name.strip(), "kind": kind, "city": city, "district": details.get("district"),
            "lon": lon, "lat": lat, "password_hash": None, "zone_class": details.get("zone_class"),
            "water_target": details.get("water_target"), "created": now()})
        rows: list[ValueRow] = []
        for index, stream in enumerate(body.get("Datastreams") or []):
            made = self._insert_datastream(connection, principal, station_id, stream, f"Datastreams[{index}]")
            rows += self._observation_rows(made, stream.get("Observations") or [], f"Datastreams[{index}]")
        return station_id, self.service.write_in(connection, rows)[1]

    def _create_datastream(self, batch: Batch, principal: Principal, body: dict[str, Any]
                           ) -> tuple[int, Any]:
        connection = batch.connection
        thing = body.get("Thing")
        station = self._station(connection, thing.get("@iot.id") if isinstance(thing, dict) else None)
        check_write(principal, station.city)
        made = self._insert_datastream(connection, principal, station.id, body, "(body)")
        rows = self._observation_rows(made, body.get("Observations") or [], "(body)")
        return made["id"], self.service.write_in(connection, rows)[1]

    def _create_sensor(self, batch: Batch, principal: Principal, body: dict[str, Any]) -> tuple[int, Any]:
        check_write(principal, principal.node)
        return self._insert_sensor(batch.connection, body, "(body)"), (set(), set())

    def _create_property(self, batch: Batch, principal: Principal, body: dict[str, Any]
                         ) -> tuple[int, Any]:
        check_write(principal, principal.node)
        return self._insert_property(batch.connection, body, "(body)"), (set(), set())

    def _create_observation(self, batch: Batch, principal: Principal, body: dict[str, Any]
                            ) -> tuple[str, Any]:
        connection = batch.connection
        stream = self._datastream_of(connection, principal, body.get("Datastream"))
        row = _value_row(stream, body, "(body)")
        stored, learned = self.service.write_in(connection, [row])
        if not stored:
            raise conflict("This Datastream already has an Observation at that phenomenonTime.",
                           "该数据流在此时间已有观测值。")
        return observation_id(stream["id"], row[3], row[1]), learned

    def _station(self, connection: sa.Connection, key: Any) -> Any:
        row = connection.execute(sa.select(stations).where(stations.c.id == key)).first() \
            if isinstance(key, int) else None
        if row is None:
            raise _refused("Thing", key, "link an existing Thing by its @iot.id", "请以 @iot.id 关联已有的 Thing")
        return row

    def _datastream_of(self, connection: sa.Connection, principal: Principal, link: Any) -> dict[str, Any]:
        key = link.get("@iot.id") if isinstance(link, dict) else None
        row = connection.execute(sa.select(datastreams.c.id, datastreams.c.station_id, datastreams.c.code,
                                           stations.c.city).join(stations, stations.c.id == datastreams.c.station_id)
                                 .where(datastreams.c.id == key)).mappings().first() if isinstance(key, int) else None
        if row is None:
            raise _refused("Datastream", key, "an Observation belongs to an existing Datastream: give its @iot.id",
                           "观测值须属于已有的数据流：请给出其 @iot.id")
        check_write(principal, row["city"])
        return dict(row)

    def _insert_datastream(self, connection: sa.Connection, principal: Principal, station_id: int, body: Any,
                           where: str) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise _refused(where, body, "a Datastream is a JSON object", "数据流须为 JSON 对象")
        unit = body.get("unitOfMeasurement")
        if not isinstance(unit, dict) or not all(isinstance(unit.get(k), str) for k in ("name", "symbol")):
            raise _refused(f"{where}.unitOfMeasurement", unit, "a Datastream needs a unitOfMeasurement with name, "
                           "symbol and definition", "数据流须有 unitOfMeasurement（name、symbol、definition）")
        name = body.get("name")
        if not isinstance(name, str) or not name.strip():
            raise _refused(f"{where}.name", name, "a Datastream needs a name", "数据流须有名称")
        property_id = self._linked(connection, properties, body.get("ObservedProperty"), f"{where}.ObservedProperty",
                                   self._insert_property)
        sensor_id = self._linked(connection, sensors, body.get("Sensor"), f"{where}.Sensor", self._insert_sensor)
        code = connection.execute(sa.select(properties.c.code).where(properties.c.id == property_id)).scalar_one()
        if connection.execute(sa.select(datastreams.c.id).where(datastreams.c.station_id == station_id,
                                                                datastreams.c.code == code)).first():
            raise conflict(f"This Thing already has a Datastream of ObservedProperty {property_id}.",
                           f"该站点已有观测属性 {property_id} 的数据流。")
        described = {"name": name.strip(), "description": str(body.get("description") or ""),
                     "unit": {"name": unit["name"], "symbol": unit["symbol"],
                              "definition": str(unit.get("definition") or "")},
                     "observation_type": str(body.get("observationType") or OBSERVATION_TYPE),
                     "sensor_id": sensor_id, "property_id": property_id}
        made = self.service.add_datastream(connection, station_id, code, described=described)
        return {"id": made, "station_id": station_id, "code": code}

    def _linked(self, connection: sa.Connection, table: sa.Table, body: Any, where: str,
                insert: Callable[[sa.Connection, Any, str], int]) -> int:
        """An entity a Datastream names: linked by ``@iot.id``, or described inline and created with it."""
        if isinstance(body, dict) and "@iot.id" in body:
            key = body["@iot.id"]
            if isinstance(key, int) and connection.execute(sa.select(table.c.id).where(table.c.id == key)).first():
                return key
            raise _refused(where, key, "no such entity to link", "要关联的实体不存在")
        return insert(connection, body, where)

    def _insert_sensor(self, connection: sa.Connection, body: Any, where: str) -> int:
        fields = _texts(body, where, ("name", "description", "encodingType"), ("metadata",))
        return int(connection.execute(sensors.insert().values(
            name=fields["name"], description=fields["description"], encoding_type=fields["encodingType"],
            metadata=fields["metadata"])).inserted_primary_key[0])

    def _insert_property(self, connection: sa.Connection, body: Any, where: str) -> int:
        """An observed property: the packaged one of the same definition, or a new one with a code of its own."""
        fields = _texts(body, where, ("name", "definition", "description"), ())
        if found := connection.execute(sa.select(properties.c.id).where(
                properties.c.definition == fields["definition"])).scalar():
            return int(found)
        made = int(connection.execute(properties.insert().values(
            code=f"x{secrets.token_hex(7)}", name=fields["name"], definition=fields["definition"],
            description=fields["description"])).inserted_primary_key[0])
        connection.execute(properties.update().where(properties.c.id == made).values(code=f"sta{made}"))
        return made

    def _observation_rows(self, stream: dict[str, Any], observations: Any, where: str) -> list[ValueRow]:
        if not isinstance(observations, list):
            raise _refused(f"{where}.Observations", observations, "Observations is a list", "Observations 须为数组")
        return [_value_row(stream, item, f"{where}.Observations[{index}]") for index, item in enumerate(observations)]


def _value_row(stream: dict[str, Any], body: Any, where: str) -> ValueRow:
    """An Observation as a stored value: an instant is a real-time value; a period of a minute, an hour or a day
    is that interval's value."""
    if not isinstance(body, dict):
        raise _refused(where, body, "an Observation is a JSON object", "观测值须为 JSON 对象")
    result = body.get("result")
    if isinstance(result, bool) or not isinstance(result, int | float):
        raise _refused(f"{where}.result", result, "result must be a number", "result 须为数值")
    text = body.get("phenomenonTime")
    if not isinstance(text, str):
        raise _refused(f"{where}.phenomenonTime", text, "phenomenonTime is an ISO 8601 time or period",
                       "phenomenonTime 须为 ISO 8601 时间或时段")
    start_text, _, end_text = text.partition("/")
    start = _moment(start_text, where)
    interval = "rtd"
    if end_text:
        length = int((_moment(end_text, where) - start).total_seconds())
        if length not in _PERIOD_NAMES:
            raise _refused(f"{where}.phenomenonTime", text, "a period is one minute, one hour or one day",
                           "时段须为一分钟、一小时或一天")
        interval = _PERIOD_NAMES[length]
    return (stream["station_id"], epoch(start), stream["code"], interval, float(result), None, None, None, "N")


def _moment(text: str, where: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None or not 1900 <= moment.year <= 2100:
        raise _refused(f"{where}.phenomenonTime", text, "a time with its offset, e.g. 2026-03-01T08:00:00+08:00",
                       "须为带时区的时间，例如 2026-03-01T08:00:00+08:00")
    return moment


def _coordinates(location: Any) -> tuple[float, float]:
    if (isinstance(location, dict) and location.get("type") == "Point"
            and isinstance(location.get("coordinates"), list) and len(location["coordinates"]) >= 2
            and all(isinstance(v, int | float) and not isinstance(v, bool) for v in location["coordinates"][:2])):
        return float(location["coordinates"][0]), float(location["coordinates"][1])
    raise _refused("Locations[0].location", location, "a station's location is a GeoJSON Point [lon, lat]",
                   "站点位置须为 GeoJSON 点 [经度, 纬度]")


def _texts(body: Any, where: str, required: tuple[str, ...], optional: tuple[str, ...]) -> dict[str, str]:
    if not isinstance(body, dict):
        raise _refused(where, body, f"give an object with {', '.join(required)} (or an @iot.id to link)",
                       f"须为含 {'、'.join(required)} 的对象（或以 @iot.id 关联）")
    missing = [key for key in required if not isinstance(body.get(key), str) or not body[key].strip()]
    if missing:
        raise _refused(f"{where}.{missing[0]}", body.get(missing[0]), f"{missing[0]} is required text",
                       f"{missing[0]} 为必填文本")
    return {key: str(body.get(key) or "") for key in (*required, *optional)}


def _refused(where: str, value: Any, reason: str, reason_zh: str) -> ZhulianError:
    return invalid([Problem(where, value if isinstance(value, str | int | float | None) else str(value)[:200],
                            reason, reason_zh)])


def _equals(column: str, value: Any) -> Callable[[Any], Any]:
    return lambda columns: columns[column] == value


def _bound(make: Callable[[EntitySet, Any, str], Any], entity: EntitySet, key: str) -> Callable[[Any], Any]:
    return lambda columns: make(entity, columns, key)


def _all(first: Callable[[Any], Any] | None, second: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda columns: sa.and_(first(columns), second(columns)) if first else second(columns)


def _data_array(base: str, rows: list[Any], rendered: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``$resultFormat=dataArray``: observations grouped by Datastream, one row of components each."""
    components = ["id", "phenomenonTime", "resultTime", "result"]
    grouped: dict[int, list[list[Any]]] = {}
    for row, item in zip(rows, rendered, strict=True):
        grouped.setdefault(row["datastream_id"], []).append([item["@iot.id"], item["phenomenonTime"],
                                                             item["resultTime"], item["result"]])
    return [{"Datastream@iot.navigationLink": f"{base}/Datastreams({stream})", "components": components,
             "dataArray@iot.count": len(found), "dataArray": found} for stream, found in grouped.items()]


def link_with_skip(link: str, options: Options, skip: int) -> str:
    """The next page: the same options as given, from ``skip`` on."""
    params = options.given | {"$top": str(options.top), "$skip": str(skip)}
    return f"{link}?{urlencode(params)}"
