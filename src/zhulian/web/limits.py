"""Request limits as ASGI middleware: body size (413) and per-key and per-address rates (429)."""

from __future__ import annotations

import hashlib
import json
import math
import threading
import time
from typing import Any

from zhulian.errors import ZhulianError

Scope = dict[str, Any]

UPLOAD_PATHS = ("/api/v1/import", "/data/import")


def _error_response(error: ZhulianError, headers: dict[str, str] | None = None) -> tuple[int, list, bytes]:
    body = json.dumps(error.as_dict(), ensure_ascii=False).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    return error.status, raw, body


async def _send_error(send: Any, error: ZhulianError, headers: dict[str, str] | None = None) -> None:
    status, raw, body = _error_response(error, headers)
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    """Refuses bodies over the limit, by Content-Length up front or by counting as they stream in."""

    def __init__(self, app: Any, *, max_body: int, max_upload: int) -> None:
        self.app, self.max_body, self.max_upload = app, max_body, max_upload

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = self.max_upload if scope["path"].startswith(UPLOAD_PATHS) else self.max_body
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length", b"").decode("latin-1")
        too_big = ZhulianError("too_large", f"The request body is over {limit:,} bytes.",
                               f"请求体超过 {limit:,} 字节。", 413)
        if declared.isdigit() and int(declared) > limit:
            return await _send_error(send, too_big)
        received = 0

        async def counting_receive() -> dict:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                raise _TooLarge()
            return message

        try:
            await self.app(scope, counting_receive, send)
        except _TooLarge:
            await _send_error(send, too_big)


class _TooLarge(Exception):
    pass


class RateLimit:
    """A token bucket per API key and per client address: ``per_key`` and ``per_address`` requests per
    ``window`` seconds (0 turns a limit off). Answers 429 with Retry-After when a bucket is empty."""

    def __init__(self, app: Any, *, per_key: int, per_address: int, window: float = 10.0) -> None:
        self.app, self.window = app, window
        self.limits = {"key": per_key, "address": per_address}
        self.buckets: dict[tuple[str, str], tuple[float, float]] = {}
        self.lock = threading.Lock()

    def _take(self, kind: str, who: str) -> float:
        """Seconds to wait before a token is free; 0 when one was taken."""
        capacity = self.limits[kind]
        if not capacity:
            return 0.0
        rate = capacity / self.window
        now = time.monotonic()
        with self.lock:
            tokens, last = self.buckets.get((kind, who), (float(capacity), now))
            tokens = min(capacity, tokens + (now - last) * rate)
            if tokens < 1:
                self.buckets[(kind, who)] = (tokens, now)
                return (1 - tokens) / rate
            self.buckets[(kind, who)] = (tokens - 1, now)
            if len(self.buckets) > 100_000:  # forget idle clients rather than grow without bound
                self.buckets.clear()
            return 0.0

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/static/"):
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        authorization = headers.get(b"authorization")
        if authorization:
            wait = self._take("key", hashlib.sha256(authorization).hexdigest())
        else:
            wait = self._take("address", (scope.get("client") or ("?",))[0])
        if wait:
            seconds = str(max(1, math.ceil(wait)))
            return await _send_error(send, ZhulianError(
                "rate_limited", f"Too many requests; try again in {seconds} s.", f"请求过于频繁，请 {seconds} 秒后再试。",
                429), {"Retry-After": seconds})
        await self.app(scope, receive, send)
