"""``GET /api/v1/air/levels``: thin over the module's service, with the caller's principal."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from tests.modules.gauges.service import GaugeService
from zhulian.web.context import WebContext


def router(context: WebContext) -> APIRouter:
    service = GaugeService(context.records)
    api = APIRouter()

    @api.get("/api/v1/air/levels", tags=["air"])
    def levels(request: Request) -> dict[str, Any]:  # def, not async def: the service reads the database
        """空气质量测点按级别统计 / Air-quality gauges counted by level."""
        return {"results": service.levels(context.principal_of(request))}

    return api
