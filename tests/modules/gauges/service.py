"""What the module adds over the record service: its gauges counted by level, as a principal may see them."""

from __future__ import annotations

from typing import Any

from zhulian.access import Principal
from zhulian.records import RecordService


class GaugeService:
    def __init__(self, records: RecordService) -> None:
        self.records = records

    def levels(self, principal: Principal) -> list[dict[str, Any]]:
        return self.records.group_by(principal, "gauge", "level")
