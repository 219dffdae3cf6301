"""The registry's answers to the core's hooks (``zhulian.hooks``): organisations are resolved before an import
writes them, and harvested organisations are queued for review when they look like one already here."""

from __future__ import annotations

from typing import Any

from zhulian.registry.service import Resolution, queue_harvested
from zhulian.registry.service import resolve_incoming as _resolve


def resolve_incoming(batch: Any, records: list[Any]) -> Resolution:
    return _resolve(batch, records)


def harvested(store: Any, records: list[dict[str, Any]]) -> None:
    queue_harvested(store, records)
