"""``GET /api/v1/air/levels``: thin over the module's service, with the caller's principal."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from tests.modules.stations.service import StationService
from zhulian.web.context import WebContext


def router(context: WebContext) -> APIRouter:
    service = StationService(context.records)
    api = APIRouter()

    @api.get("/api/v1/air/levels", tags=["air"])
    def levels(request: Request) -> dict[str, Any]:  # def, not async def: the service reads the database
        """监测站点按级别统计 / Monitoring stations counted by level."""
        return {"results": service.levels(context.principal_of(request))}

    return api
