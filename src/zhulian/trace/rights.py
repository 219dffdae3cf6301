"""Who may do what in the trace module: any key reads, publishers and administrators write."""

from __future__ import annotations

from zhulian.access import Principal
from zhulian.errors import ZhulianError


def check_capture_rights(principal: Principal) -> None:
    if principal.role == "anonymous":
        raise ZhulianError("unauthorized", "Capturing EPCIS events needs an API key (Authorization: Bearer KEY).",
                           "采集 EPCIS 事件需要 API 密钥（Authorization: Bearer 密钥）。", 401)
    if principal.role not in ("admin", "publisher"):
        raise ZhulianError("forbidden", "Only publishers and administrators capture EPCIS events.",
                           "只有发布者和管理员可以采集 EPCIS 事件。", 403)


def check_read_rights(principal: Principal) -> None:
    if principal.role == "anonymous":
        raise ZhulianError("unauthorized", "Querying EPCIS events needs an API key (Authorization: Bearer KEY).",
                           "查询 EPCIS 事件需要 API 密钥（Authorization: Bearer 密钥）。", 401)
