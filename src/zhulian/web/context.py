"""What a module's router gets from the web app: the services it is thin over."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fastapi import Request

from zhulian.access import Principal
from zhulian.config import Settings
from zhulian.records import RecordService
from zhulian.search.service import SearchService
from zhulian.store import Store


@dataclass(frozen=True)
class WebContext:
    settings: Settings
    store: Store
    records: RecordService
    search: SearchService
    principal_of: Callable[[Request], Principal]
