"""The registry API under ``/api/v1/registry`` and the review page ``/admin/registry`` (administrators):
thin over ``RegistryService``, which checks every permission."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from zhulian.errors import Problem, invalid
from zhulian.registry.service import DECISIONS, RegistryService
from zhulian.web.context import WebContext
from zhulian.web.portal import render
from zhulian.web.session import check_csrf, csrf_token

NAME = Query(..., max_length=2000, description="机构或专家名称 / the name to resolve")


def _origin(request: Request) -> str | None:
    return request.client.host if request.client else None


def _text(body: dict[str, Any], key: str) -> str:
    value = body.get(key) if isinstance(body, dict) else None
    if not isinstance(value, str) or not value.strip():
        raise invalid([Problem(key, value, f"give {key} as text", f"请以文本填写 {key}")], "query")
    return value.strip()


def router(context: WebContext) -> APIRouter:
    service, principal_of = RegistryService(context.store), context.principal_of
    api = APIRouter()

    @api.get("/api/v1/registry/resolve")
    def resolve(request: Request, name: str = NAME,
                type: str = Query("organization", description="organization | person"),
                city: str | None = Query(None, max_length=6), kind: str | None = Query(None, max_length=40),
                affiliation: str | None = Query(None, max_length=2000, description="专家任职单位 a person's affiliation"),
                field: list[str] = Query([], description="研究领域 research fields"),
                coauthor: list[str] = Query([], description="合作者 co-authors"),
                orcid: str | None = Query(None, max_length=100),
                limit: int = Query(10, ge=1, le=50)) -> dict[str, Any]:
        """按名称解析：候选记录（编号、名称、得分、理由）/ Ranked candidates with id, names, score and reasons."""
        return service.resolve(principal_of(request), name, type_name=type, city=city, kind=kind,
                               affiliation=affiliation, fields=field, coauthors=coauthor,
                               pids={"orcid": orcid} if orcid else None, limit=limit)

    @api.get("/api/v1/registry/review")
    def review(request: Request, status: str = Query("open", description="open | decided | all"),
               per_page: int = Query(50, ge=1, le=200), page: int = Query(1, ge=1, le=10_000)) -> dict[str, Any]:
        """待审核候选（管理员）/ The review queue (administrators)."""
        return service.review(principal_of(request), status=status, limit=per_page, offset=(page - 1) * per_page)

    @api.post("/api/v1/registry/review/{candidate}")
    def decide(request: Request, candidate: int, body: dict[str, Any] = Body(
            ..., examples=[{"decision": "same"}], description="decision: same | not_same | child | parent")) -> dict:
        """审定候选（管理员）/ Decide a candidate (administrators)."""
        return service.decide(principal_of(request), candidate, _text(body, "decision"), origin=_origin(request))

    @api.post("/api/v1/registry/merge")
    def merge(request: Request, body: dict[str, Any] = Body(..., examples=[{"from": "org_…", "into": "org_…"}])) -> dict:
        """合并：from 的编号此后解析到 into / Merge: the id in ``from`` resolves to ``into`` from now on."""
        return service.merge(principal_of(request), _text(body, "from"), _text(body, "into"), origin=_origin(request))

    @api.post("/api/v1/registry/split")
    def split(request: Request, body: dict[str, Any] = Body(..., examples=[{"record": "org_…"}])) -> dict:
        """撤销合并 / Undo a merge."""
        return service.split(principal_of(request), _text(body, "record"), origin=_origin(request))

    @api.post("/api/v1/registry/parent")
    def parent(request: Request, body: dict[str, Any] = Body(..., examples=[{"child": "org_…", "parent": "org_…"}])) -> dict:
        """设置上级机构 / Record that ``child`` is a unit of ``parent``."""
        return service.set_parent(principal_of(request), _text(body, "child"), _text(body, "parent"),
                                  origin=_origin(request))

    @api.get("/api/v1/registry/decisions")
    def decisions(request: Request, record: str | None = Query(None, max_length=200)) -> dict[str, Any]:
        """人工审定记录（管理员）/ Human decisions (administrators)."""
        return {"results": service.decisions(principal_of(request), record)}

    @api.get("/admin/registry", response_class=HTMLResponse, include_in_schema=False)
    def review_page(request: Request, status: str = Query("open", max_length=10)) -> HTMLResponse:
        principal = principal_of(request)
        body = service.review(principal, status=status, limit=100)
        return render(request, "registry_review.html", principal=principal, body=body, shown=status,
                      decisions=DECISIONS, csrf=csrf_token(request))

    @api.post("/admin/registry/{candidate}", include_in_schema=False)
    def review_decide(request: Request, candidate: int, decision: str = Form(..., max_length=20),
                      csrf: str = Form("", max_length=100)) -> RedirectResponse:
        check_csrf(request, csrf)
        service.decide(principal_of(request), candidate, decision, origin=_origin(request))
        return RedirectResponse("/admin/registry", status_code=303)

    return api
