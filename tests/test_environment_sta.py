"""The SensorThings API 1.1 view at /sta/v1.1/: a real client library (frost-sta-client, over HTTP) creates a
Thing with a Datastream and Observations and reads them back; stations' HJ 212 values read as Observations;
bad queries and unauthorised writes are refused with a reason."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import frost_sta_client as fsc
import pytest
from fastapi.testclient import TestClient
from frost_sta_client.model.ext.data_array_document import DataArrayDocument
from frost_sta_client.model.ext.data_array_value import DataArrayValue
from frost_sta_client.model.ext.unitofmeasurement import UnitOfMeasurement
from frost_sta_client.service.auth_handler import AuthHandler

from tests.browser import served
from zhulian.access import CLI_ADMIN, create_key
from zhulian.config import Settings
from zhulian.environment.aqi import CHINA
from zhulian.environment.service import EnvironmentService
from zhulian.store import Store
from zhulian.web.app import create_app

HOUR0 = datetime(2026, 3, 1, 8, tzinfo=CHINA)


class BearerKey(AuthHandler):
    """The client's auth hook, sending the platform's API key as a bearer token."""

    def __init__(self, key: str) -> None:
        super().__init__()
        self.key = key

    def add_auth_header(self):  # type: ignore[no-untyped-def]
        def bearer(request):  # type: ignore[no-untyped-def]
            request.headers["Authorization"] = f"Bearer {self.key}"
            return request

        return bearer


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(data_dir=tmp_path / "data", rate_per_key=0, rate_per_address=0)


@pytest.fixture
def server(store: Store, settings: Settings) -> Iterator[str]:
    with served(create_app(settings, store=store)) as base:
        yield f"{base}/sta/v1.1"


@pytest.fixture
def client(store: Store, settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings, store=store)) as client:
        yield client


def test_a_sensorthings_client_creates_a_thing_with_a_datastream_and_observations_and_reads_them_back(
        store: Store, server: str) -> None:
    publisher = fsc.SensorThingsService(server, auth_handler=BearerKey(create_key(store, "publisher",
                                                                                  node="440300")[1]))
    stream = fsc.Datastream(name="盐田港 PM2.5", description="细颗粒物小时值", observation_type=
                            "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement",
                            unit_of_measurement=UnitOfMeasurement("微克每立方米", "µg/m³", "ucum:ug/m3"),
                            observed_property=fsc.ObservedProperty(name="PM2.5", definition="HJ 212-2017 a34004",
                                                                   description="细颗粒物"),
                            sensor=fsc.Sensor(name="β射线颗粒物监测仪", description="BAM-1020",
                                              encoding_type="text/html", metadata="https://example.org/bam"))
    stream.observations = [fsc.Observation(phenomenon_time=(HOUR0 + timedelta(hours=h)).isoformat(), result=v)
                           for h, v in enumerate([30, 45, 60])]
    thing = fsc.Thing(name="盐田港", description="空气站", properties={"city": "440300", "mn": "YT0001"},
                      locations=[fsc.Location(name="盐田港", description="港区", encoding_type="application/geo+json",
                                              location={"type": "Point", "coordinates": [114.27, 22.58]})],
                      datastreams=[stream])
    publisher.create(thing)
    assert isinstance(thing.id, int)

    reader = fsc.SensorThingsService(server)  # reads are public
    found = reader.datastreams().query().filter("properties/code eq 'a34004' and name eq '盐田港 PM2.5'").list()
    assert [d.name for d in found] == ["盐田港 PM2.5"]
    created = found.entities[0]
    assert created.unit_of_measurement.symbol == "µg/m³"

    one = fsc.Observation(phenomenon_time=(HOUR0 + timedelta(hours=3)).isoformat(), result=75, datastream=created)
    publisher.create(one)
    assert one.id == f"{created.id}_rtd_{int((HOUR0 + timedelta(hours=3)).timestamp())}"
    arrays = DataArrayValue()
    arrays.datastream = created
    arrays.components = {DataArrayValue.Property.PHENOMENON_TIME, DataArrayValue.Property.RESULT}
    for hour, value in ((4, 90), (5, 20)):
        arrays.add_observation(fsc.Observation(phenomenon_time=HOUR0 + timedelta(hours=hour), result=value))
    document = DataArrayDocument()
    document.add_data_array_value(arrays)
    links = publisher.observations().create(document)
    assert len(links) == 2

    highest_recent = (reader.observations().query()
                      .filter("result gt 40 and phenomenonTime ge 2026-03-01T09:00:00+08:00")
                      .orderby("phenomenonTime", "DESC").top(2).list())
    assert [o.result for o in highest_recent.entities] == [90, 75]  # one page of $top
    assert [o.result for o in highest_recent] == [90, 75, 60, 45]  # iterating follows @iot.nextLink
    every = reader.observations().query().filter(f"Datastream/id eq {created.id}").count().list()
    assert every.count == 6
    by_result = reader.observations().query().orderby("result", "ASC").top(3).list()
    assert [o.result for o in by_result.entities] == [20, 30, 45]

    anonymous = fsc.SensorThingsService(server)
    with pytest.raises(Exception, match="401|key|密钥"):
        anonymous.create(fsc.Observation(phenomenon_time=HOUR0.isoformat(), result=1, datastream=created))



def test_stations_values_read_as_things_datastreams_and_observations(store: Store, client: TestClient) -> None:
    env = EnvironmentService(store)
    station = env.add_station(CLI_ADMIN, "YT0002", name="大梅沙", city="440300", lon=114.31, lat=22.59)
    hour = int(HOUR0.timestamp())
    env.write([(station["id"], hour + m * 60, code, "minute", value + m, None, None, None, "N" if m < 2 else "D")
               for m in range(3) for code, value in (("a34004", 40.0), ("a21004", 20.0))])

    things = client.get("/sta/v1.1/Things", params={
        "$expand": "Locations,Datastreams($orderby=name;$select=id,name,unitOfMeasurement;"
                   "$expand=Observations($orderby=phenomenonTime desc;$top=1;$count=true))",
        "$filter": "properties/mn eq 'YT0002'"}).json()["value"]
    assert len(things) == 1 and things[0]["properties"] == {"mn": "YT0002", "kind": "air", "city": "440300"}
    assert things[0]["Locations"][0]["location"] == {"type": "Point", "coordinates": [114.31, 22.59]}
    pm, no2 = sorted(things[0]["Datastreams"], key=lambda d: d["name"], reverse=True)
    assert pm["name"] == "PM2.5" and pm["unitOfMeasurement"]["symbol"] == "µg/m³" and "description" not in pm
    latest = pm["Observations"][0]
    assert pm["Observations@iot.count"] == 3 and "Observations@iot.nextLink" in pm
    assert latest["result"] == 42.0 and latest["parameters"]["flag"] == "D"  # a fault-flagged value, marked
    assert latest["phenomenonTime"] == "2026-03-01T00:02:00Z/2026-03-01T00:03:00Z"

    normal = client.get(f"/sta/v1.1/Datastreams({no2['@iot.id']})/Observations",
                        params={"$filter": "parameters/flag eq 'N' and not (result lt 21)", "$count": "true",
                                "$select": "id,result"}).json()
    assert normal["@iot.count"] == 1 and [set(o) for o in normal["value"]] == [{"@iot.id", "result"}]
    assert normal["value"][0]["result"] == 21.0
    one = client.get(f"/sta/v1.1/Observations('{normal['value'][0]['@iot.id']}')/Datastream/Thing").json()
    assert one["name"] == "大梅沙"
    array = client.get("/sta/v1.1/Observations", params={"$resultFormat": "dataArray", "$top": 2,
                                                          "$filter": f"Datastream/id eq {pm['@iot.id']}"}).json()
    assert array["value"][0]["components"] == ["id", "phenomenonTime", "resultTime", "result"]
    assert array["value"][0]["dataArray@iot.count"] == 2 and "@iot.nextLink" in array
    first = client.get("/sta/v1.1/Observations", params={"$top": 1, "$expand": "Datastream($select=name)",
                                                          "$orderby": "result desc"}).json()
    second = client.get(first["@iot.nextLink"].replace("http://testserver", "")).json()  # the same options, next page
    assert [first["value"][0]["result"], second["value"][0]["result"]] == [42.0, 41.0]
    assert second["value"][0]["Datastream"] == {"name": "PM2.5"}
    root = client.get("/sta/v1.1").json()
    assert {entry["name"] for entry in root["value"]} == {"Things", "Locations", "HistoricalLocations",
                                                           "Datastreams", "Sensors", "ObservedProperties",
                                                           "Observations", "FeaturesOfInterest"}
    foi = client.get(f"/sta/v1.1/FeaturesOfInterest({station['id']})/Observations", params={"$count": "true"})
    assert foi.json()["@iot.count"] == 6


BAD_QUERIES = [  # path, options, status, the field named in the reason
    ("Observations", {"$filter": "result gt"}, 400, "$filter"),
    ("Observations", {"$filter": "colour eq 'red'"}, 400, "$filter/$orderby"),
    ("Observations", {"$filter": "phenomenonTime gt 3"}, 400, "$filter"),
    ("Observations", {"$filter": "result eq '); DROP TABLE env_values; --'"}, 400, "$filter"),
    ("Things", {"$filter": "name eq '); DROP TABLE env_stations; --'"}, 200, None),
    ("Things", {"$top": "5000"}, 400, "$top"),
    ("Things", {"$orderby": "name sideways"}, 400, "$orderby"),
    ("Things", {"$format": "xml"}, 400, "$format"),
    ("Things(99)", {}, 404, None),
    ("Widgets", {}, 404, None),
]


def test_bad_queries_are_refused_with_a_reason(client: TestClient) -> None:
    for path, params, status, field in BAD_QUERIES:
        answer = client.get(f"/sta/v1.1/{path}", params=params)
        assert answer.status_code == status, (path, params, answer.text)
        if status != 200:
            error = answer.json()["error"]
            assert error["message_zh"] and (field is None or error["details"][0]["field"] == field)
    assert client.get("/sta/v1.1/Things").json() == {"value": []}  # the hostile strings changed nothing


def test_writes_need_a_publisher_or_admin_key_and_a_bad_deep_insert_stores_nothing(
        store: Store, client: TestClient) -> None:
    thing = {"name": "盐田河", "properties": {"city": "440300", "kind": "water"},
             "Locations": [{"name": "河口", "encodingType": "application/geo+json",
                            "location": {"type": "Point", "coordinates": [114.24, 22.57]}}],
             "Datastreams": [{"name": "溶解氧", "unitOfMeasurement": {"name": "毫克每升", "symbol": "mg/L"},
                              "ObservedProperty": {"name": "DO", "definition": "HJ 212-2017 w01009",
                                                   "description": "溶解氧"},
                              "Sensor": {"@iot.id": 1},
                              "Observations": [{"phenomenonTime": "2026-03-01T08:00:00+08:00", "result": 6.1},
                                               {"phenomenonTime": "yesterday", "result": 5.9}]}]}
    assert client.post("/sta/v1.1/Things", json=thing).status_code == 401
    reader = {"Authorization": f"Bearer {create_key(store, 'reader')[1]}"}
    assert client.post("/sta/v1.1/Things", json=thing, headers=reader).status_code == 403
    elsewhere = {"Authorization": f"Bearer {create_key(store, 'publisher', node='440100')[1]}"}
    assert client.post("/sta/v1.1/Things", json=thing, headers=elsewhere).status_code == 403
    publisher = {"Authorization": f"Bearer {create_key(store, 'publisher', node='440300')[1]}"}
    refused = client.post("/sta/v1.1/Things", json=thing, headers=publisher)
    assert refused.status_code == 400
    assert refused.json()["error"]["details"][0]["field"] == "Datastreams[0].Observations[1].phenomenonTime"
    assert client.get("/sta/v1.1/Things", params={"$count": "true"}).json()["@iot.count"] == 0  # nothing half-stored
    assert client.get("/sta/v1.1/ObservedProperties", params={"$count": "true"}).json()["@iot.count"] == 6

    thing["Datastreams"][0]["Observations"].pop()
    made = client.post("/sta/v1.1/Things", json=thing, headers=publisher)
    assert made.status_code == 201 and made.headers["Location"].endswith(f"/Things({made.json()['@iot.id']})")
    stream = client.get(made.headers["Location"] + "/Datastreams", params={"$expand": "ObservedProperty,Sensor"}
                        ).json()["value"][0]
    assert stream["ObservedProperty"]["definition"] == "HJ 212-2017 w01009" and stream["Sensor"]["@iot.id"] == 1
    observation = {"phenomenonTime": "2026-03-01T08:00:00+08:00", "result": 6.3}
    again = client.post(f"/sta/v1.1/Datastreams({stream['@iot.id']})/Observations", json=observation,
                        headers=publisher)
    assert again.status_code == 409  # the value of that time is kept as first stored
    hourly = client.post(f"/sta/v1.1/Datastreams({stream['@iot.id']})/Observations", headers=publisher, json={
        "phenomenonTime": "2026-03-01T09:00:00+08:00/2026-03-01T10:00:00+08:00", "result": 6.0})
    assert hourly.status_code == 201 and hourly.json()["parameters"]["interval"] == "hour"
    assert client.post("/sta/v1.1/Locations", json={}, headers=publisher).status_code == 405


def test_series_stored_before_the_sensorthings_tables_get_their_datastreams(store: Store) -> None:
    from alembic import command

    from zhulian.environment.sta import SensorThings
    from zhulian.environment.sta_query import Options
    from zhulian.store.migrate import alembic_config, upgrade

    env = EnvironmentService(store)
    station = env.add_station(CLI_ADMIN, "YT0003", name="沙头角", city="440300", lon=114.22, lat=22.55)
    with store.engine.begin() as connection:
        command.downgrade(alembic_config(connection), "environment_0001")
        connection.exec_driver_sql(
            "INSERT INTO env_hourly (station_id, code, time, n, total) VALUES "
            f"({station['id']}, 'a34004', 1772323200, 1, 35.0), ({station['id']}, 'w01018', 1772323200, 1, 12.0)")
    upgrade(store.engine)
    found = SensorThings(EnvironmentService(store)).read("http://x/sta/v1.1", [("Datastreams", None)], Options())
    streams = {(d["name"], d["properties"]["code"]) for d in found[0]["value"]}
    assert streams == {("PM2.5", "a34004"), ("w01018", "w01018")}

