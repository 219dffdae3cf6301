"""Request limits as ASGI middleware: body size (413) and JSON shape before any other work (400), and rates
per authenticated key or per real client address (429), counted in buckets every server worker shares."""

from __future__ import annotations

import fcntl
import hashlib
import ipaddress
import json
import math
import mmap
import struct
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio

from zhulian.errors import Problem, ZhulianError, invalid
from zhulian.exchange.formats import BadJSON, read_json

Scope = dict[str, Any]

# Paths that take files, and their body cap: None is the app's upload limit (``max_upload_bytes``); a number is
# the route's own. The environment module's citizen report form takes one photo of at most 5 MiB
# (``zhulian.environment.reports.MAX_PHOTO_BYTES``; a test keeps the two in step) and a few short fields.
REPORT_PHOTO_CAP = 5 * 1024 * 1024 + 64 * 1024
UPLOAD_PATHS: dict[str, int | None] = {"/api/v1/import": None, "/data/import": None, "/env/reports": REPORT_PHOTO_CAP}
BODY_METHODS = ("POST", "PUT", "PATCH", "DELETE")
INLINE_JSON = 64 * 1024  # bodies up to this are checked on the event loop (well under a millisecond); larger off it


def _error_response(error: ZhulianError, headers: dict[str, str] | None = None) -> tuple[int, list, bytes]:
    body = json.dumps(error.as_dict(), ensure_ascii=False).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    return error.status, raw, body


async def _send_error(send: Any, error: ZhulianError, headers: dict[str, str] | None = None) -> None:
    status, raw, body = _error_response(error, headers)
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


def _too_big(limit: int) -> ZhulianError:
    return ZhulianError("too_large", f"The request body is over {limit:,} bytes; send a smaller one.",
                        f"请求体超过 {limit:,} 字节，请缩小后再发送。", 413)


def _is_json(headers: dict[bytes, bytes]) -> bool:
    """A body the API will read as JSON: said so, or said nothing (FastAPI reads an untyped body as JSON)."""
    kind = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
    return not kind or kind == b"application/json" or kind.endswith(b"+json")


class BodyLimit:
    """Refuses bodies over the limit, by Content-Length up front or by counting as they stream in (413, also
    for a chunked upload), and a JSON body nested too deep or malformed before any route parses it (400)."""

    def __init__(self, app: Any, *, max_body: int, max_upload: int) -> None:
        self.app, self.max_body, self.max_upload = app, max_body, max_upload

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        upload, limit = self._limit(scope["path"])
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length", b"").decode("latin-1")
        if declared.isdigit() and int(declared) > limit:
            return await _send_error(send, _too_big(limit))
        if not upload and scope["method"] in BODY_METHODS and _is_json(headers):
            return await self._checked_json(scope, receive, send, limit)
        await self._counted(scope, receive, send, limit)

    def _limit(self, path: str) -> tuple[bool, int]:
        """Whether the path takes files, and how large its body may be."""
        for prefix, cap in UPLOAD_PATHS.items():
            if path.startswith(prefix):
                return True, self.max_upload if cap is None else cap
        return False, self.max_body

    async def _checked_json(self, scope: Scope, receive: Any, send: Any, limit: int) -> None:
        """Reads the (bounded) body whole and checks it with the one JSON reader, then hands it on."""
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > limit:
                return await _send_error(send, _too_big(limit))
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        if body.strip():
            try:
                if len(body) > INLINE_JSON:
                    await anyio.to_thread.run_sync(lambda: read_json(body, max_bytes=limit))
                else:
                    read_json(body, max_bytes=limit)
            except BadJSON as error:
                return await _send_error(send, invalid([Problem("(body)", None, f"the body is refused: {error.reason}",
                                                                f"请求体无法读取：{error.reason_zh}")], "record"))
        replayed = False

        async def replay() -> dict:
            nonlocal replayed
            if replayed:
                return await receive()  # after the body, only a disconnect can come
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    async def _counted(self, scope: Scope, receive: Any, send: Any, limit: int) -> None:
        """Past the limit the 413 is answered here, and the route is told the client has gone, so that a
        multipart parser half-way through a chunked upload stops instead of answering 400 itself."""
        received, over, started = 0, False, False

        async def counting_receive() -> dict:
            nonlocal received, over, started
            if over:
                return {"type": "http.disconnect"}
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                over = True
                if not started:
                    started = True
                    await _send_error(send, _too_big(limit))
                return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: dict) -> None:
            nonlocal started
            if over:
                return  # the 413 was the answer
            started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            if not over:
                raise


class SharedBuckets:
    """Token buckets in a small memory-mapped file that every worker process of one server maps, locked
    with ``flock``: ``zhulian serve --workers N`` then limits a client N times less generously than per-process
    buckets would. A fixed table; a full neighbourhood forgets its longest-idle client."""

    SLOTS = 1 << 16
    PROBE = 8
    _SLOT = struct.Struct("<16sdd")  # who (digest), tokens, last refill (CLOCK_MONOTONIC, shared by processes)

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        size = self.SLOTS * self._SLOT.size
        self.file = path.open("a+b")
        path.chmod(0o600)
        if path.stat().st_size < size:
            self.file.truncate(size)
        self.map = mmap.mmap(self.file.fileno(), size)
        self.lock = threading.Lock()  # flock does not exclude threads sharing one open file

    def take(self, who: bytes, capacity: int, window: float) -> float:
        """Seconds to wait before a token is free; 0 when one was taken."""
        rate = capacity / window
        now = time.monotonic()
        digest = hashlib.blake2b(who, digest_size=16).digest()
        start = int.from_bytes(digest[:4], "little") % self.SLOTS
        with self.lock:
            fcntl.flock(self.file.fileno(), fcntl.LOCK_EX)
            try:
                slot = self._find(digest, start)
                found, tokens, last = self._SLOT.unpack_from(self.map, slot * self._SLOT.size)
                if found != digest:
                    tokens, last = float(capacity), now
                tokens = min(capacity, tokens + max(0.0, now - last) * rate)
                wait = 0.0 if tokens >= 1 else (1 - tokens) / rate
                self._SLOT.pack_into(self.map, slot * self._SLOT.size, digest, tokens - (0 if wait else 1), now)
                return wait
            finally:
                fcntl.flock(self.file.fileno(), fcntl.LOCK_UN)

    def _find(self, digest: bytes, start: int) -> int:
        oldest, oldest_time = start, math.inf
        for step in range(self.PROBE):
            slot = (start + step) % self.SLOTS
            found, _tokens, last = self._SLOT.unpack_from(self.map, slot * self._SLOT.size)
            if found == digest or last == 0:
                return slot
            if last < oldest_time:
                oldest, oldest_time = slot, last
        return oldest


def bearer_secret(authorization: bytes | None) -> str | None:
    """The key in ``Authorization: Bearer KEY`` however the header is spelled (case, spaces), or None."""
    if not authorization:
        return None
    scheme, _, secret = authorization.decode("latin-1").strip().partition(" ")
    return secret.strip() or None if scheme.lower() == "bearer" else None


def trusted_networks(text: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """``ZHULIAN_TRUSTED_PROXIES``: comma-separated addresses or networks whose X-Forwarded-For is believed."""
    networks = []
    for part in (p.strip() for p in text.split(",") if p.strip()):
        try:
            networks.append(ipaddress.ip_network(part, strict=False))
        except ValueError:
            raise ZhulianError("bad_setting", f"ZHULIAN_TRUSTED_PROXIES: {part!r} is not an address or network.",
                               f"ZHULIAN_TRUSTED_PROXIES：{part!r} 不是地址或网段。", 400) from None
    return tuple(networks)


class RateLimit:
    """``per_key`` requests per ``window`` seconds for each valid API key, ``per_address`` for each client
    address otherwise (0 turns a limit off); 429 with Retry-After when a bucket is empty. A key counts only
    once ``identify`` has found it valid, so inventing keys or spelling one key several ways wins nothing;
    the address is the peer's, or the one a trusted proxy forwarded."""

    KNOWN_FOR = 60.0  # seconds a valid key is remembered without asking the store again

    def __init__(self, app: Any, *, per_key: int, per_address: int, buckets: Path,
                 identify: Callable[[str], str | None], trusted_proxies: str = "", window: float = 10.0) -> None:
        self.app, self.window, self.identify = app, window, identify
        self.limits = {"key": per_key, "address": per_address}
        self.trusted = trusted_networks(trusted_proxies)
        self.buckets = SharedBuckets(buckets) if per_key or per_address else None
        self.known: dict[str, tuple[str, float]] = {}  # key digest -> (key id, until)

    def _take(self, kind: str, who: str) -> float:
        capacity = self.limits[kind]
        if not capacity or self.buckets is None:
            return 0.0
        return self.buckets.take(f"{kind}:{who}".encode(), capacity, self.window)

    def client_address(self, scope: Scope) -> str:
        """The peer, unless it is a trusted proxy: then the nearest address in X-Forwarded-For that is not."""
        peer = (scope.get("client") or ("?",))[0]
        if not self.trusted or not self._is_trusted(peer):
            return peer
        forwarded = dict(scope.get("headers") or []).get(b"x-forwarded-for", b"").decode("latin-1")
        for hop in reversed([h.strip() for h in forwarded.split(",") if h.strip()]):
            if not self._is_trusted(hop):
                return hop
        return peer

    def _is_trusted(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.trusted)

    def _known_key(self, secret: str) -> str | None:
        known = self.known.get(hashlib.sha256(secret.encode()).hexdigest())
        return known[0] if known and known[1] > time.monotonic() else None

    async def _learn(self, secret: str) -> None:
        """Asks the store whether a key is valid, off the event loop; a valid one counts as itself from the
        next request on. Only after the address paid for this one: invented keys cost their sender."""
        key_id = await anyio.to_thread.run_sync(self.identify, secret)
        if key_id is not None:
            if len(self.known) > 10_000:
                self.known.clear()
            self.known[hashlib.sha256(secret.encode()).hexdigest()] = (key_id, time.monotonic() + self.KNOWN_FOR)

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/static/") or self.buckets is None:
            return await self.app(scope, receive, send)
        secret = bearer_secret(dict(scope.get("headers") or []).get(b"authorization"))
        key_id = self._known_key(secret) if secret else None
        if key_id:
            wait = self._take("key", key_id)
        else:
            wait = self._take("address", self.client_address(scope))
            if secret and not wait:
                await self._learn(secret)
        if wait:
            seconds = str(max(1, math.ceil(wait)))
            return await _send_error(send, ZhulianError(
                "rate_limited", f"Too many requests; try again in {seconds} s.", f"请求过于频繁，请 {seconds} 秒后再试。",
                429), {"Retry-After": seconds})
        await self.app(scope, receive, send)
