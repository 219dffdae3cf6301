"""Where subscription reports may go: never to this machine or the networks behind it.

A webhook ``dest`` is a URL a subscriber chose, and the notifier POSTs to it from inside the platform's network,
so an unchecked one turns the platform into a proxy onto its own database, admin ports and neighbours (SSRF).
A destination must be http(s), and every address its host resolves to must be public: not loopback, private,
link-local (cloud metadata at 169.254.169.254), multicast, reserved or unspecified. It is checked when the
subscription is made and again on every delivery, where the connection goes to the very address that was
checked, so a host whose DNS answer changes in between (DNS rebinding) is still refused. Hosts named in the
admin setting ``ZHULIAN_TRACE_WEBHOOK_HOSTS`` (comma-separated, for a receiver on the platform's own network)
are exempt."""

from __future__ import annotations

import ipaddress
import socket
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx

from zhulian.errors import Problem

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Why an address is refused, in the order checked (an address may be several of these: the first names it).
_REASONS = (("is_loopback", "loopback", "本机回环"), ("is_link_local", "link-local", "链路本地"),
            ("is_multicast", "multicast", "组播"), ("is_unspecified", "unspecified", "未指定"),
            ("is_reserved", "reserved", "保留"), ("is_private", "private", "内网"))


class DestinationRefused(Exception):
    def __init__(self, english: str, chinese: str) -> None:
        super().__init__(english)
        self.english, self.chinese = english, chinese


class WebhookGuard:
    """Checks webhook destinations against the rules above; ``allowed_hosts`` is the admin's exemption list."""

    def __init__(self, allowed_hosts: str = "") -> None:
        self.allowed = frozenset(host.strip().lower().strip("[]") for host in allowed_hosts.split(",")
                                 if host.strip())

    def problem(self, dest: Any) -> Problem | None:
        """Why a subscription may not report to ``dest``, or None; resolves the host now."""
        parts = urlsplit(dest) if isinstance(dest, str) else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
            return Problem("dest", dest, "an http or https URL of the webhook", "应为接收推送的 http 或 https 网址")
        try:
            self.addresses(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
        except DestinationRefused as refused:
            return Problem("dest", dest, refused.english, refused.chinese)
        return None

    def addresses(self, host: str, port: int) -> list[str]:
        """The addresses of ``host`` to connect to, all checked; raises DestinationRefused naming the reason."""
        host = host.lower().strip("[]")
        try:
            found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as error:
            raise DestinationRefused(f"the host {host} does not resolve ({error}); check the name",
                                     f"主机 {host} 无法解析（{error}），请检查网址") from None
        addresses = list(dict.fromkeys(str(info[4][0]) for info in found))
        if host not in self.allowed:
            for address in addresses:
                _check_public(host, ipaddress.ip_address(address.split("%")[0]))
        return addresses

    def transport(self) -> httpx.HTTPTransport:
        """A transport that connects only to checked addresses, ignoring proxy variables of the environment."""
        return _GuardedTransport(self)


def _check_public(host: str, address: IPAddress) -> None:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    reasons = [(english, chinese) for attribute, english, chinese in _REASONS if getattr(address, attribute)]
    if not reasons and not address.is_global:  # e.g. carrier-grade NAT, 100.64.0.0/10
        reasons.append(("non-public", "非公网"))
    for english, chinese in reasons[:1]:
        raise DestinationRefused(
                f"{host} resolves to {address}, a {english} address; webhooks go to public addresses only "
                "(an admin may allow a host with ZHULIAN_TRACE_WEBHOOK_HOSTS)",
                f"{host} 解析为{chinese}地址 {address}；推送只发往公网地址（管理员可用 ZHULIAN_TRACE_WEBHOOK_HOSTS 放行主机）")


class _PinnedBackend(httpcore.NetworkBackend):
    """Resolves and checks the host itself, then connects to that checked address (TLS still verifies the
    name, which httpcore takes from the URL, not from the address)."""

    def __init__(self, guard: WebhookGuard) -> None:
        self.guard, self.plain = guard, httpcore.SyncBackend()

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Any = None) -> httpcore.NetworkStream:
        try:
            addresses = self.guard.addresses(host, port)
        except DestinationRefused as refused:
            raise httpcore.ConnectError(f"refused: {refused.english}") from None
        failure: httpcore.ConnectError | None = None
        for address in addresses:  # every one checked: the first that answers
            try:
                return self.plain.connect_tcp(address, port, timeout, local_address, socket_options)
            except httpcore.ConnectError as error:
                failure = error
        raise failure or httpcore.ConnectError(f"{host} has no address")

    def connect_unix_socket(self, path: str, timeout: float | None = None, socket_options: Any = None
                            ) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("refused: webhooks never go to a Unix socket")

    def sleep(self, seconds: float) -> None:
        self.plain.sleep(seconds)


class _GuardedTransport(httpx.HTTPTransport):
    def __init__(self, guard: WebhookGuard) -> None:
        super().__init__(trust_env=False)
        # httpx has no parameter for httpcore's network backend: the pool it built is replaced by the same pool
        # over the pinned backend (no proxy: a proxy would resolve the host where it cannot be checked).
        self._pool = httpcore.ConnectionPool(ssl_context=httpx.create_ssl_context(),
                                             network_backend=_PinnedBackend(guard))
