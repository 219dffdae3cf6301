"""Ingest over HJ 212-2017: an asyncio TCP listener and an MQTT subscriber, both feeding one writer thread.

Every packet from every connection and topic goes through ``Ingestor``: a single thread that checks MN and PW and
writes whatever is waiting in one transaction, then tells each sender how its packet fared. A connection waits for
its own packet before reading the next, so one connection's flood only ever has one packet in the queue and never
holds the others back; a bad packet is refused with a logged reason and the connection (and the listener) go on.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from pydantic_settings import BaseSettings, SettingsConfigDict

from zhulian.environment.hj212 import MAX_SEGMENT, Packet, PacketError, data_response, parse
from zhulian.environment.service import EnvironmentService, ValueRow

log = logging.getLogger("zhulian.environment.ingest")
MAX_LINE = MAX_SEGMENT + 64  # ## + length + the largest segment + CRC + CRLF, with room to spare
BATCH_PACKETS = 2000  # most packets one transaction takes
REFUSALS_LOGGED = 20  # per connection per window; the rest are counted
REFUSAL_WINDOW_S = 10.0
IN_FLIGHT = 256  # packets of one connection being stored at once
REFUSALS_PER_SECOND = 500  # past this a connection is paused for the rest of the second: a flood gets a bounded share

Done = Callable[[Exception | None], None]


class IngestSettings(BaseSettings):
    """``ZHULIAN_HJ212_PORT`` starts the listener with the web app; ``ZHULIAN_MQTT_HOST`` the MQTT subscriber;
    ``ZHULIAN_ENV_ALERT_INTERVAL_S`` paces the alert thread."""

    model_config = SettingsConfigDict(env_prefix="ZHULIAN_")

    hj212_host: str = "0.0.0.0"
    hj212_port: int | None = None
    mqtt_host: str | None = None
    mqtt_port: int = 1883
    mqtt_topic: str = "zhulian/env"  # one topic per station beneath it: zhulian/env/<MN>
    env_alert_interval_s: float = 60.0  # how often the web app checks alerts and delivers webhooks; 0: never


@dataclass
class _Item:
    packet: Packet
    done: Done


class Ingestor:
    """The one writer: packets queue here from any thread or event loop and are stored in batches."""

    def __init__(self, service: EnvironmentService) -> None:
        self.service = service
        self._queue: queue.Queue[_Item | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="env-ingest", daemon=True)
        self.stored = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10) -> None:
        self._queue.put(None)
        self._thread.join(timeout)

    def submit(self, packet: Packet, done: Done) -> None:
        self._queue.put(_Item(packet, done))

    async def store(self, packet: Packet) -> None:
        """Store one packet from an event loop; raises ``PacketError`` if its MN or PW is refused."""
        loop = asyncio.get_running_loop()
        settled: asyncio.Future[Exception | None] = loop.create_future()
        self.submit(packet, lambda error: loop.call_soon_threadsafe(_settle, settled, error))
        error = await settled
        if error is not None:
            raise error

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            batch = [item]
            while len(batch) < BATCH_PACKETS:
                try:
                    following = self._queue.get_nowait()
                except queue.Empty:
                    break
                if following is None:
                    self._queue.put(None)  # stop after this batch
                    break
                batch.append(following)
            self._write(batch)

    def _write(self, batch: list[_Item]) -> None:
        """Store a batch; every item hears exactly once how it fared, whatever goes wrong."""
        accepted: list[_Item] = []
        rows: list[ValueRow] = []
        for item in batch:
            try:
                rows += self.service.rows_of(item.packet)
            except Exception as refused:  # PacketError for MN/PW; anything else (the database) likewise refuses it
                item.done(refused)
                continue
            accepted.append(item)
        try:
            self.stored += self.service.write(rows)
        except Exception as error:  # the database refused the batch: every sender in it hears so
            log.exception("storing %d values failed", len(rows))
            for item in accepted:
                item.done(error)
            return
        for item in accepted:
            item.done(None)


def _settle(future: asyncio.Future[Exception | None], error: Exception | None) -> None:
    if not future.done():
        future.set_result(error)


class _Refusals:
    """Logs a connection's refused packets with their reasons, at most ``REFUSALS_LOGGED`` per window, and says how
    long a flooding connection should pause."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.window_start = self.second_start = time.monotonic()
        self.in_window = self.in_second = 0
        self.total = 0

    def refuse(self, reason: str, reason_zh: str) -> None:
        self.total += 1
        now = time.monotonic()
        if now - self.window_start > REFUSAL_WINDOW_S:
            if self.in_window > REFUSALS_LOGGED:
                log.warning("%s: %d more packets refused in the last %.0f s", self.source,
                            self.in_window - REFUSALS_LOGGED, REFUSAL_WINDOW_S)
            self.window_start, self.in_window = now, 0
        if now - self.second_start > 1:
            self.second_start, self.in_second = now, 0
        self.in_window += 1
        self.in_second += 1
        if self.in_window <= REFUSALS_LOGGED:
            log.warning("%s: packet refused: %s / %s", self.source, reason, reason_zh)

    def pause(self) -> float:
        """Seconds to wait before reading on: the rest of this second once it has seen too many refusals."""
        if self.in_second <= REFUSALS_PER_SECOND:
            return 0.0
        return max(0.0, 1 - (time.monotonic() - self.second_start))


class Listener:
    """The HJ 212 TCP listener."""

    def __init__(self, ingestor: Ingestor) -> None:
        self.ingestor = ingestor
        self.refused = 0

    async def start(self, host: str, port: int) -> asyncio.Server:
        server = await asyncio.start_server(self._serve, host, port, limit=MAX_LINE)
        log.info("HJ 212 listener on %s", ", ".join(str(s.getsockname()) for s in server.sockets))
        return server

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        refusals = _Refusals(f"HJ 212 {writer.get_extra_info('peername')}")
        # A station may send on before its answers come back (a backlog being resent): up to IN_FLIGHT of its
        # packets are stored at once and answered in the order they came; past that the connection waits.
        pending: asyncio.Queue[asyncio.Task[bytes | None] | None] = asyncio.Queue(IN_FLIGHT)
        answering = asyncio.create_task(self._answer(pending, writer))
        try:
            while True:
                try:
                    line = await reader.readuntil(b"\r\n")
                except asyncio.IncompleteReadError:
                    break  # the station hung up
                except asyncio.LimitOverrunError as overrun:
                    await reader.readexactly(overrun.consumed)  # drop it; the next CRLF starts a packet again
                    refusals.refuse(f"no CRLF within {MAX_LINE} bytes", f"{MAX_LINE} 字节内没有 CRLF")
                    continue
                await pending.put(asyncio.create_task(self._handle(line, refusals)))
                # Between packets the other connections have their turn; a flood of bad ones waits longer.
                await asyncio.sleep(refusals.pause())
            await pending.put(None)
            await answering  # what was read is answered before the connection closes
        except (ConnectionError, asyncio.IncompleteReadError):
            answering.cancel()
        except asyncio.CancelledError:
            answering.cancel()  # the listener is stopping: end this connection quietly
        finally:
            self.refused += refusals.total
            writer.close()

    @staticmethod
    async def _answer(pending: asyncio.Queue[asyncio.Task[bytes | None] | None], writer: asyncio.StreamWriter) -> None:
        connected = True
        while (task := await pending.get()) is not None:
            response = await task
            if response and connected:
                try:
                    writer.write(response)
                    await writer.drain()
                except ConnectionError:
                    connected = False  # the station left; what it sent is still stored

    async def _handle(self, line: bytes, refusals: _Refusals) -> bytes | None:
        try:
            packet = parse(line)
            await self.ingestor.store(packet)
        except PacketError as refused:
            refusals.refuse(refused.reason, refused.reason_zh)
            return None
        except Exception as error:  # not stored (the database): no data response, the station will resend
            refusals.refuse(f"not stored: {error}", f"未能保存：{error}")
            return None
        # The data response answers data; other commands from a known station are accepted without one.
        return data_response(packet) if packet.wants_ack and packet.interval else None


class MqttIngest:
    """Subscribes to ``<topic>/+``: each station publishes its HJ 212 packets on ``<topic>/<MN>``; data
    responses go to ``<topic>/<MN>/ack``."""

    def __init__(self, ingestor: Ingestor, host: str, port: int = 1883, topic: str = "zhulian/env") -> None:
        import paho.mqtt.client as mqtt

        self.ingestor = ingestor
        self.host, self.port, self.topic = host, port, topic.rstrip("/")
        self.refusals = _Refusals(f"MQTT {host}:{port}")
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"zhulian-env-{id(self):x}")
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.subscribed = threading.Event()
        self.client.on_subscribe = lambda *_args: self.subscribed.set()

    def start(self) -> None:
        self.client.connect_async(self.host, self.port)  # connects, and reconnects, in its own thread
        self.client.loop_start()

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def _on_connect(self, client, _userdata, _flags, _reason, _properties) -> None:  # type: ignore[no-untyped-def]
        client.subscribe(f"{self.topic}/+", qos=1)  # on every (re)connect

    def _on_message(self, _client, _userdata, message) -> None:  # type: ignore[no-untyped-def]
        topic_mn = message.topic[len(self.topic) + 1:]
        try:
            packet = parse(message.payload)
            if packet.mn != topic_mn:
                raise PacketError(f"packet MN {packet.mn} published on the topic of {topic_mn}",
                                  f"MN 为 {packet.mn} 的数据包发布在 {topic_mn} 的主题上")
        except PacketError as refused:
            self.refusals.refuse(refused.reason, refused.reason_zh)
            return
        self.ingestor.submit(packet, lambda error: self._answer(packet, error))

    def _answer(self, packet: Packet, error: Exception | None) -> None:
        if error is not None:
            reason = error.reason if isinstance(error, PacketError) else str(error)
            reason_zh = error.reason_zh if isinstance(error, PacketError) else f"未能保存：{error}"
            self.refusals.refuse(reason, reason_zh)
        elif packet.wants_ack and packet.interval:
            self.client.publish(f"{self.topic}/{packet.mn}/ack", data_response(packet), qos=1)
