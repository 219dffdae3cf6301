"""``zhulian env …``: stations, historical imports, the AQI, and the HJ 212 listener — thin over the service."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Annotated

import typer

from zhulian.access import CLI_ADMIN
from zhulian.console import JsonFlag, bilingual_errors, new_table, open_store, out, print_json
from zhulian.environment.service import KINDS, EnvironmentService, parse_time


def _service() -> EnvironmentService:
    return EnvironmentService(open_store())


def register(app: typer.Typer) -> None:
    env_app = typer.Typer(help="环境监测 / Environmental monitoring: stations, HJ 212 ingest, AQI", no_args_is_help=True)
    station_app = typer.Typer(help="监测站点 / Monitoring stations", no_args_is_help=True)

    @station_app.command("add")
    @bilingual_errors
    def add(mn: Annotated[str, typer.Argument(help="HJ 212 设备编码 MN")],
            name: Annotated[str, typer.Option(help="站点名称 name")],
            city: Annotated[str, typer.Option(help="城市行政区划代码 adcode, e.g. 440300")],
            lon: Annotated[float, typer.Option(help="经度 longitude")],
            lat: Annotated[float, typer.Option(help="纬度 latitude")],
            kind: Annotated[str, typer.Option(help="类型 kind: " + ", ".join(KINDS))] = "air",
            password: Annotated[str | None, typer.Option(help="HJ 212 密码 PW")] = None,
            district: Annotated[str | None, typer.Option(help="区县 district")] = None,
            zone_class: Annotated[str | None, typer.Option(help="声环境功能区 noise zone 0|1|2|3|4a|4b")] = None,
            water_target: Annotated[str | None, typer.Option(help="水质目标 water class target Ⅰ..Ⅴ")] = None,
            operator: Annotated[str | None, typer.Option(
                help="运维单位（编号或 方案:值）/ operating organisation (id or scheme:value)")] = None,
            as_json: JsonFlag = False) -> None:
        """登记站点（写入站点记录并审计）/ Register a station (its record is written and audited)."""
        station = _service().add_station(CLI_ADMIN, mn, name=name, city=city, lon=lon, lat=lat, kind=kind,
                                         password=password, district=district, zone_class=zone_class,
                                         water_target=water_target, operator=operator)
        if as_json:
            print_json(station)
            return
        out.print(f"已登记 added {station['mn']} {station['name']} ({station['kind_zh']} {station['kind']}, "
                  f"{station['city']})", highlight=False, markup=False)

    @station_app.command("list")
    @bilingual_errors
    def list_stations(city: Annotated[str | None, typer.Option(help="城市 adcode")] = None,
                      as_json: JsonFlag = False) -> None:
        """列出站点 / List stations."""
        found = _service().stations(city)
        if as_json:
            print_json(found)
            return
        table = new_table("MN", "名称 name", "类型 kind", "城市 city", "经度 lon", "纬度 lat", "密码 PW",
                      title=f"{len(found)} 个站点 stations")
        for s in found:
            table.add_row(s["mn"], s["name"], f"{s['kind_zh']} {s['kind']}", s["city"], f"{s['lon']:.5f}",
                          f"{s['lat']:.5f}", "✓" if s["has_password"] else "–")
        out.print(table)

    @env_app.command("import")
    @bilingual_errors
    def import_file(file: Annotated[Path, typer.Argument(help="CSV 或 XLSX 历史小时数据 historical hourly data")],
                    station: Annotated[str | None, typer.Option(help="站点 MN（文件未注明时）the station, if the file names none")] = None,
                    as_json: JsonFlag = False) -> None:
        """导入历史数据（UCI 北京多站点、广州 PM2.5）/ Import historical hourly data."""
        from zhulian.environment.history import import_history

        summary = import_history(_service(), file, station=station)
        if as_json:
            print_json(summary)
            return
        out.print(f"{summary['rows']} 行 rows, {summary['values']} 个数值 values, {summary['stored']} 新存 newly stored "
                  f"({summary['from']} – {summary['to']})", highlight=False, markup=False)

    @env_app.command("aqi")
    @bilingual_errors
    def aqi(time: Annotated[str, typer.Option(help="时间 ISO 8601 (无时区按北京时间 China time if no offset)")],
            station: Annotated[str | None, typer.Option(help="站点 MN")] = None,
            city: Annotated[str | None, typer.Option(help="城市 adcode")] = None,
            kind: Annotated[str, typer.Option(help="hourly | daily")] = "hourly") -> None:
        """空气质量指数（按 HJ 633 当时有效版本）/ The AQI per the HJ 633 version in force then (JSON)."""
        print_json(_service().aqi(station=station, city=city, at=parse_time(time), kind=kind))

    @env_app.command("listen")
    @bilingual_errors
    def listen(port: Annotated[int, typer.Option(help="HJ 212 TCP 端口 port")],
               host: Annotated[str, typer.Option(help="监听地址 address")] = "0.0.0.0",
               mqtt_host: Annotated[str | None, typer.Option(help="MQTT 代理 broker host (optional)")] = None,
               mqtt_port: Annotated[int, typer.Option(help="MQTT port")] = 1883,
               mqtt_topic: Annotated[str, typer.Option(help="MQTT 主题前缀 topic prefix: <prefix>/<MN>")] = "zhulian/env"
               ) -> None:
        """接收 HJ 212-2017 数据（TCP，可选 MQTT），直至中断 / Receive HJ 212-2017 data until interrupted."""
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        try:
            asyncio.run(_listen(host, port, mqtt_host, mqtt_port, mqtt_topic))
        except KeyboardInterrupt:
            pass

    alert_app = typer.Typer(help="告警 / Alerts of the monitoring centre", no_args_is_help=True)

    @alert_app.command("check")
    @bilingual_errors
    def check_alerts(as_json: JsonFlag = False) -> None:
        """检查上一个整点小时并投递 Webhook（serve 每分钟自动执行）/ Check the last complete hour and deliver
        webhooks now (``zhulian serve`` does this every minute)."""
        import time as clock

        import httpx

        from zhulian.environment.alerts import AlertService

        alerts = AlertService(_service())
        raised = alerts.check(clock.time())
        with httpx.Client(timeout=5) as client:
            sent = alerts.deliver_due(clock.time(), client)
        if as_json:
            print_json({"raised": raised, "delivered": sent})
            return
        for alert in raised:
            out.print(f"[{alert['level']}] {alert['message_zh']} / {alert['message']}", highlight=False, markup=False)
        out.print(f"{len(raised)} 条新增或升级 new or escalated, {sent} 次投递 delivered", highlight=False, markup=False)

    @alert_app.command("list")
    @bilingual_errors
    def list_alerts(state: Annotated[str, typer.Option(help="active | open | acknowledged | closed")] = "active",
                    as_json: JsonFlag = False) -> None:
        """列出告警 / List alerts."""
        from zhulian.access import CLI_ADMIN
        from zhulian.environment.alerts import AlertService

        found = AlertService(_service()).alerts(CLI_ADMIN, state)
        if as_json:
            print_json(found)
            return
        table = new_table("#", "站点 station", "类型 kind", "等级 level", "状态 state", "说明 message",
                      title=f"{len(found)} 条告警 alerts")
        for a in found:
            table.add_row(str(a["id"]), a["mn"], f"{a['kind_zh']} {a['kind']}", str(a["level"]), a["state_zh"],
                          a["message_zh"])
        out.print(table)

    @alert_app.command("webhook")
    @bilingual_errors
    def add_webhook(url: Annotated[str, typer.Argument(help="接收告警的地址 the URL alerts are POSTed to")]) -> None:
        """登记 Webhook / Register a webhook for alerts."""
        from zhulian.access import CLI_ADMIN
        from zhulian.environment.alerts import AlertService

        made = AlertService(_service()).add_webhook(CLI_ADMIN, url)
        out.print(f"已登记 added webhook {made['id']}: {made['url']}", highlight=False, markup=False)

    env_app.add_typer(station_app, name="station")
    env_app.add_typer(alert_app, name="alerts")
    app.add_typer(env_app, name="env")


async def _listen(host: str, port: int, mqtt_host: str | None, mqtt_port: int, mqtt_topic: str) -> None:
    from zhulian.environment.ingest import Ingestor, Listener, MqttIngest

    ingestor = Ingestor(_service())
    ingestor.start()
    mqtt = MqttIngest(ingestor, mqtt_host, mqtt_port, mqtt_topic) if mqtt_host else None
    if mqtt:
        mqtt.start()
    server = await Listener(ingestor).start(host, port)
    out.print(f"HJ 212 监听 listening on {host}:{port}", highlight=False, markup=False)
    try:
        async with server:
            await server.serve_forever()
    finally:
        if mqtt:
            mqtt.stop()
        await asyncio.to_thread(ingestor.stop)
