"""``zhulian stations [--json]``: thin over the module's service."""

from __future__ import annotations

import typer

from tests.modules.stations.service import StationService
from zhulian.access import CLI_ADMIN
from zhulian.console import JsonFlag, bilingual_errors, open_store, out, print_json
from zhulian.records import RecordService


def register(app: typer.Typer) -> None:
    @app.command("stations")
    @bilingual_errors
    def stations(as_json: JsonFlag = False) -> None:
        """监测站点按级别统计 / Monitoring stations counted by level."""
        levels = StationService(RecordService(open_store())).levels(CLI_ADMIN)
        if as_json:
            print_json(levels)
            return
        for level in levels:
            out.print(f"{level['key_display_name']} {level['key']}: {level['count']}")
