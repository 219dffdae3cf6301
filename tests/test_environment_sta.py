"""The SensorThings API 1.1 view at /sta/v1.1/: a real client library (frost-sta-client, over HTTP) creates a
Thing with a Datastream and Observations and reads them back; stations' HJ 212 values read as Observations;
bad queries and unauthorised writes are refused with a reason."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta

import frost_sta_client as fsc
import pytest
import uvicorn
from fastapi.testclient import TestClient
from frost_sta_client.model.ext.data_array_document import DataArrayDocument
from frost_sta_client.model.ext.data_array_value import DataArrayValue
from frost_sta_client.model.ext.unitofmeasurement import UnitOfMeasurement
from frost_sta_client.service.auth_handler import AuthHandler

from zhulian.access import create_key
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
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    served = uvicorn.Server(uvicorn.Config(create_app(settings, store=store), host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=served.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not served.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/sta/v1.1"
    served.should_exit = True
    thread.join(timeout=10)


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

