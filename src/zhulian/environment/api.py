"""The environment API: ``GET /api/v1/env/stations``, ``GET /api/v1/env/aqi`` (a station's or a city's AQI at a
time). The router's lifespan runs the HJ 212 listener when ``ZHULIAN_HJ212_PORT`` is set, and the MQTT subscriber
when ``ZHULIAN_MQTT_HOST`` is."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI, Query

from zhulian.environment.ingest import Ingestor, IngestSettings, Listener, MqttIngest
from zhulian.environment.service import EnvironmentService, parse_time
from zhulian.web.context import WebContext

TAGS = ["environment"]


def router(context: WebContext) -> APIRouter:
    service = EnvironmentService(context.store)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        settings = IngestSettings()
        if settings.hj212_port is None and settings.mqtt_host is None:
            yield
            return
        ingestor = Ingestor(service)
        ingestor.start()
        server = await Listener(ingestor).start(settings.hj212_host, settings.hj212_port) if settings.hj212_port else None
        mqtt = MqttIngest(ingestor, settings.mqtt_host, settings.mqtt_port, settings.mqtt_topic) if settings.mqtt_host else None
        if mqtt:
            mqtt.start()
        try:
            yield
        finally:
            if server:
                server.close()
                await server.wait_closed()
            if mqtt:
                mqtt.stop()
            await asyncio.to_thread(ingestor.stop)  # joins the writer thread: off the event loop

    api = APIRouter(lifespan=lifespan)

    @api.get("/api/v1/env/stations", tags=TAGS)
    def stations(city: str | None = Query(None, max_length=6, description="城市 adcode")) -> dict[str, Any]:
        """监测站点 / Monitoring stations, optionally of one city."""
        found = service.stations(city)
        return {"meta": {"count": len(found)}, "results": found}

    @api.get("/api/v1/env/aqi", tags=TAGS)
    def aqi(time: str = Query(..., max_length=40, description="时间 ISO 8601；无时区按北京时间 China time if no offset"),
            station: str | None = Query(None, max_length=24, description="站点 MN"),
            city: str | None = Query(None, max_length=6, description="城市 adcode"),
            kind: str = Query("hourly", max_length=8, description="hourly | daily")) -> dict[str, Any]:
        """空气质量指数，按数据时间适用 HJ 633-2012 或 HJ 633-2026 / The AQI of a station, or of each air station
        in a city and the city itself, per the HJ 633 version in force at that time."""
        return service.aqi(station=station, city=city, at=parse_time(time), kind=kind)

    @api.get("/api/v1/env/hourly", tags=TAGS)
    def hourly(since: str = Query(..., alias="from", max_length=40, description="开始 ISO 8601"),
               until: str = Query(..., alias="to", max_length=40, description="结束 ISO 8601（不含 exclusive）"),
               pollutant: str = Query("PM2.5", max_length=8, description="PM2.5 | PM10 | SO2 | NO2 | CO | O3"),
               station: str | None = Query(None, max_length=24, description="站点 MN"),
               city: str | None = Query(None, max_length=6, description="城市 adcode")) -> dict[str, Any]:
        """小时值序列（图表用，最长 366 天）/ Hourly values of a pollutant for a station or a city's stations, as
        chart series ``[[UTC seconds, value], …]`` (up to 366 days)."""
        return service.hourly_series(station=station, city=city, pollutant=pollutant, since=parse_time(since),
                                     until=parse_time(until))

    return api
