"""``zhulian gauges [--json]``: thin over the module's service."""

from __future__ import annotations

import typer

from tests.modules.gauges.service import GaugeService
from zhulian.access import CLI_ADMIN
from zhulian.console import JsonFlag, bilingual_errors, open_store, out, print_json
from zhulian.records import RecordService


def register(app: typer.Typer) -> None:
    @app.command("gauges")
    @bilingual_errors
    def gauges(as_json: JsonFlag = False) -> None:
        """空气质量测点按级别统计 / Air-quality gauges counted by level."""
        levels = GaugeService(RecordService(open_store())).levels(CLI_ADMIN)
        if as_json:
            print_json(levels)
            return
        for level in levels:
            out.print(f"{level['key_display_name']} {level['key']}: {level['count']}")
