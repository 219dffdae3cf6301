"""Who is asking: an API key in ``Authorization: Bearer``, or a portal session signed in with one.
Portal forms that change data carry a per-session CSRF token."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable

from fastapi import Request

from zhulian.access import ANONYMOUS, Principal
from zhulian.access.keys import authenticate, principal_by_id
from zhulian.errors import ZhulianError
from zhulian.store import Store


def principal_resolver(store: Store) -> Callable[[Request], Principal]:
    def principal_of(request: Request) -> Principal:
        cached = getattr(request.state, "principal", None)
        if cached is not None:
            return cached
        header = request.headers.get("authorization")
        if header:
            principal = authenticate(store, header)
        elif key_id := request.session.get("key_id"):
            principal = principal_by_id(store, key_id)
        else:
            principal = ANONYMOUS
        request.state.principal = principal
        return principal

    return principal_of


def sign_in(request: Request, principal: Principal) -> None:
    request.session.clear()
    request.session["key_id"] = principal.id
    request.session["csrf"] = secrets.token_urlsafe(32)


def csrf_token(request: Request) -> str:
    if "csrf" not in request.session:
        request.session["csrf"] = secrets.token_urlsafe(32)
    return request.session["csrf"]


def check_csrf(request: Request, token: str | None) -> None:
    expected = request.session.get("csrf")
    if not expected or not token or not hmac.compare_digest(expected, token):
        raise ZhulianError("csrf", "The form has expired or did not come from this site; reload the page and retry.",
                           "表单已过期或并非来自本站，请刷新页面后重试。", 403)
