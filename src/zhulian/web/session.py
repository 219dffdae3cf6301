"""Who is asking: an API key in ``Authorization: Bearer``, or a portal session signed in with one.
Portal forms that change data carry a per-session CSRF token, and so must an API write that a session cookie
authenticates (in ``X-CSRF-Token``): a cookie alone is sent by any page the browser visits. Every response
carries the headers a web application on a government intranet should have."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from typing import Any

from fastapi import Request

from zhulian.access import ANONYMOUS, Principal
from zhulian.access.keys import authenticate, principal_by_id
from zhulian.errors import ZhulianError
from zhulian.store import Store

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
CSRF_HEADER = "X-CSRF-Token"
# Pages load scripts, styles and images from this server only (the platform works offline); only the API
# docs page runs Swagger UI's inline start-up script. No page may be framed by another site.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")
DOCS_CSP = CSP.replace("script-src 'self'", "script-src 'self' 'unsafe-inline'")
SECURITY_HEADERS = [(b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"),
                    (b"referrer-policy", b"same-origin")]


def principal_resolver(store: Store) -> Callable[[Request], Principal]:
    def principal_of(request: Request) -> Principal:
        cached = getattr(request.state, "principal", None)
        if cached is not None:
            return cached
        header = request.headers.get("authorization")
        if header:
            principal = authenticate(store, header)
        elif key_id := request.session.get("key_id"):
            if request.method not in SAFE_METHODS and request.url.path.startswith("/api/"):
                _check_api_csrf(request)
            principal = principal_by_id(store, key_id)
        else:
            principal = ANONYMOUS
        request.state.principal = principal
        return principal

    return principal_of


def key_identifier(store: Store) -> Callable[[str], str | None]:
    """For the rate limits: the id of the valid API key ``secret`` is, or None."""

    def key_id(secret: str) -> str | None:
        try:
            principal = authenticate(store, f"Bearer {secret}")
        except ZhulianError:
            return None
        return principal.id

    return key_id


def sign_in(request: Request, principal: Principal) -> None:
    request.session.clear()
    request.session["key_id"] = principal.id
    request.session["csrf"] = secrets.token_urlsafe(32)


def csrf_token(request: Request) -> str:
    if "csrf" not in request.session:
        request.session["csrf"] = secrets.token_urlsafe(32)
    return request.session["csrf"]


def _check_api_csrf(request: Request) -> None:
    expected = request.session.get("csrf")
    token = request.headers.get(CSRF_HEADER)
    if not expected or not token or not hmac.compare_digest(expected, token):
        raise ZhulianError("csrf", f"A write signed in by the portal's session cookie needs the {CSRF_HEADER} header "
                           "with the session's token; scripts and other programs send 'Authorization: Bearer KEY' instead.",
                           f"以门户登录会话（Cookie）发起的写入须带 {CSRF_HEADER} 请求头（会话的令牌）；脚本和其他程序请改用"
                           "“Authorization: Bearer 密钥”。", 403)


class SecurityHeaders:
    """ASGI middleware: CSP, X-Frame-Options, nosniff and Referrer-Policy on every response, and the
    session cookie marked ``Secure`` when the request came over HTTPS (so it is never sent in clear)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        csp = (DOCS_CSP if scope["path"] == "/docs" else CSP).encode()
        https = scope.get("scheme") == "https"

        async def with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = [(name, _secure(value) if https and name.lower() == b"set-cookie" else value)
                           for name, value in message.get("headers", [])]
                present = {name.lower() for name, _value in headers}
                headers += [(name, value) for name, value in [(b"content-security-policy", csp), *SECURITY_HEADERS]
                            if name not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)


def _secure(cookie: bytes) -> bytes:
    return cookie if b"; secure" in cookie.lower() else cookie + b"; Secure"


def check_csrf(request: Request, token: str | None) -> None:
    expected = request.session.get("csrf")
    if not expected or not token or not hmac.compare_digest(expected, token):
        raise ZhulianError("csrf", "The form has expired or did not come from this site; reload the page and retry.",
                           "表单已过期或并非来自本站，请刷新页面后重试。", 403)
