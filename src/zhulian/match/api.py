"""Matching, experts and expressions of interest over HTTP: ``POST /api/v1/match``, ``GET /api/v1/experts``,
``/api/v1/interests…``, and the portal's ``/match`` (an enterprise types its need and sees what answers it,
with reasons) and ``/match/interests`` (the interests a user sent, and a node's inbox)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, ConfigDict, Field

from zhulian.errors import ZhulianError
from zhulian.match.interests import STATES, InterestService
from zhulian.match.service import MATCH_TYPES, MAX_LIMIT, MAX_TEXT, MatchService
from zhulian.region.cities import CIRCLES, CITIES
from zhulian.web.context import WebContext
from zhulian.web.portal import render
from zhulian.web.session import check_csrf, csrf_token


class MatchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str | None = Field(None, max_length=MAX_TEXT, description="需求描述 the need, in the enterprise's words")
    demand: str | None = Field(None, max_length=300, description="企业需求编号 a demand record (dem_… or scheme:value)")
    types: list[str] | str | None = Field(None, description=f"类型 types: {', '.join(MATCH_TYPES)}")
    city: str | None = Field(None, max_length=20, description="城市 adcode, e.g. 440300")
    circle: str | None = Field(None, max_length=40, description="创新圈 gfz | sdh | zzj")
    limit: int = Field(20, ge=1, le=MAX_LIMIT)


class InterestRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    target: str = Field(max_length=300, description="成果或专利 an achievement or patent (id or scheme:value)")
    message: str = Field(max_length=20_000, description="意向内容 what the enterprise would like")
    contact: str | None = Field(None, max_length=20_000, description="联系方式 how to reach the sender")


class AnswerRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    answer: str = Field(max_length=20_000, description="答复 the owner's answer")


class Reason(BaseModel):
    zh: str
    en: str


class Evidence(BaseModel):
    id: str = Field(description="作品、人员、平台或机构的记录编号 / the work, person, platform or organisation")
    type: str = Field(description="paper | patent | achievement | person | platform | organization")
    title: str
    role: str = Field(description="作者、发明人、本人登记的专长、成员、任职 / author_of | inventor_of | declared | "
                                  "member_of | affiliated_with")
    score: float = Field(description="计入的得分（登记专长与所属平台、机构按比例折减）/ what it counts for (declared "
                                     "expertise and membership count at a fraction)")
    matched_terms: list[str]
    reason: Reason = Field(description="理由 / why it counts: the person's part and where the topic's words are")


class Expert(BaseModel):
    """一位专家及其证据 / A person and the evidence for them."""
    id: str | None = Field(description="人员记录编号；仅见于论文署名时为空 / the person record, none when only named "
                                       "on the evidence")
    name: str
    affiliation: str | None
    city: str | None
    research_fields: list[str]
    score: float
    counts: dict[str, int] = Field(description="各类证据的数量 / evidence per kind: paper, patent, achievement, "
                                               "declared, platform, organization")
    evidence: list[Evidence]


class ExpertsMeta(BaseModel):
    count: int
    topic: str
    evidence_searched: int = Field(description="匹配的论文、专利、成果数 / matching papers, patents, achievements")
    profiles_searched: int = Field(description="匹配的人员、平台、机构数 / matching people, platforms, organisations")
    notice: str | None = None
    notice_zh: str | None = None
    took_ms: float


class Experts(BaseModel):
    meta: ExpertsMeta
    results: list[Expert]


EXPERTS_ANSWERS = {200: {"model": Experts},
                   308: {"description": "未给主题：转到人员集合 / no topic: the people collection"}}


def router(context: WebContext) -> APIRouter:
    matcher = MatchService(context.store, context.search)
    interests = InterestService(context.store)
    principal_of = context.principal_of
    api = APIRouter()

    def origin(request: Request) -> str | None:
        return request.client.host if request.client else None

    @api.post("/api/v1/match")
    def match(request: Request, body: MatchRequest) -> dict[str, Any]:
        """技术供需匹配 / Ranked achievements, patents, papers, platforms and instruments for a demand, with reasons."""
        return matcher.match(principal_of(request), text=body.text, demand=body.demand, types=body.types,
                             city=body.city, circle=body.circle, limit=body.limit)

    @api.get("/api/v1/experts", response_model=None, responses=EXPERTS_ANSWERS)
    def experts(request: Request, topic: str | None = Query(None, max_length=MAX_TEXT, description="主题 topic"),
                city: str | None = Query(None, max_length=20), circle: str | None = Query(None, max_length=40),
                limit: int = Query(20, ge=1, le=MAX_LIMIT)) -> dict[str, Any] | RedirectResponse:
        """专家发现 / People ranked by their papers, patents and achievements on a topic, then by their declared
        expertise and the platforms and organisations they belong to, with the evidence and its reason.
        With no topic parameter at all: a 308 redirect to the people collection, which is what ``/experts``
        alone asks for (an empty topic is still a 400 that asks for one)."""
        if topic is None:
            query = urlencode([(k, v) for k, v in request.query_params.multi_items() if k != "topic"])
            return RedirectResponse("/api/v1/people" + (f"?{query}" if query else ""), status_code=308)
        return matcher.experts(principal_of(request), topic, city=city, circle=circle, limit=limit)

    @api.post("/api/v1/interests", status_code=201)
    def send_interest(request: Request, body: InterestRequest) -> dict[str, Any]:
        """登记意向 / Register interest in an achievement or patent (needs a key)."""
        return interests.send(principal_of(request), body.target, body.message, contact=body.contact,
                              origin=origin(request))

    @api.get("/api/v1/interests")
    def list_interests(request: Request, box: str = Query("inbox", max_length=10, description="inbox | sent"),
                       state: str | None = Query(None, max_length=12, description=" | ".join(STATES)),
                       limit: int = Query(50, ge=1, le=200)) -> dict[str, Any]:
        found = interests.list(principal_of(request), box, state=state, limit=limit)
        return {"meta": {"count": len(found), "box": box}, "results": found}

    @api.get("/api/v1/interests/{interest_id}")
    def get_interest(request: Request, interest_id: str) -> dict[str, Any]:
        return interests.get(principal_of(request), interest_id)

    @api.post("/api/v1/interests/{interest_id}/read")
    def read_interest(request: Request, interest_id: str) -> dict[str, Any]:
        return interests.mark_read(principal_of(request), interest_id, origin=origin(request))

    @api.post("/api/v1/interests/{interest_id}/answer")
    def answer_interest(request: Request, interest_id: str, body: AnswerRequest) -> dict[str, Any]:
        return interests.answer(principal_of(request), interest_id, body.answer, origin=origin(request))

    @api.post("/api/v1/interests/{interest_id}/close")
    def close_interest(request: Request, interest_id: str) -> dict[str, Any]:
        return interests.close(principal_of(request), interest_id, origin=origin(request))

    # -- portal ------------------------------------------------------------------------------------

    @api.get("/match", response_class=HTMLResponse, include_in_schema=False)
    def match_page(request: Request, q: str = Query("", max_length=MAX_TEXT), type: str = Query("", max_length=20),
                   city: str = Query("", max_length=20), circle: str = Query("", max_length=40)) -> HTMLResponse:
        principal = principal_of(request)
        found = None
        if q.strip():
            found = matcher.match(principal, text=q, types=type or None, city=city or None, circle=circle or None)
        return render(request, "match.html", q=q, type=type, city=city, circle=circle, found=found,
                      match_types=MATCH_TYPES, cities=CITIES, circles=CIRCLES, principal=principal,
                      csrf=csrf_token(request))

    @api.post("/match/interests", include_in_schema=False)
    def send_from_portal(request: Request, target: str = Form(..., max_length=300),
                         message: str = Form(..., max_length=20_000), contact: str = Form("", max_length=20_000),
                         csrf: str = Form("", max_length=100)) -> RedirectResponse:
        check_csrf(request, csrf)
        interests.send(principal_of(request), target, message, contact=contact, origin=origin(request))
        return RedirectResponse("/match/interests?box=sent", status_code=303)

    @api.get("/match/interests", response_class=HTMLResponse, include_in_schema=False)
    def interests_page(request: Request, box: str = Query("inbox", max_length=10)) -> HTMLResponse:
        principal = principal_of(request)
        signed_in = principal.role != "anonymous"
        can_receive = principal.is_admin or (principal.role == "publisher" and principal.node is not None)
        box = box if box in ("inbox", "sent") and (box == "sent" or can_receive) else "sent"
        found = interests.list(principal, box, limit=200) if signed_in else []
        return render(request, "match_interests.html", principal=principal, signed_in=signed_in, box=box,
                      can_receive=can_receive, interests=found, csrf=csrf_token(request))

    @api.post("/match/interests/{interest_id}/{action}", include_in_schema=False)
    def act_from_portal(request: Request, interest_id: str, action: str, answer: str = Form("", max_length=20_000),
                        box: str = Form("inbox", max_length=10), csrf: str = Form("", max_length=100)
                        ) -> RedirectResponse:
        check_csrf(request, csrf)
        principal, where = principal_of(request), origin(request)
        actions = {"read": lambda: interests.mark_read(principal, interest_id, origin=where),
                   "answer": lambda: interests.answer(principal, interest_id, answer, origin=where),
                   "close": lambda: interests.close(principal, interest_id, origin=where)}
        if action not in actions:
            raise ZhulianError("not_found", f"No action {action!r}; actions: read, answer, close.",
                               f"没有 {action!r} 这个操作；可用操作：read、answer、close。", 404)
        actions[action]()
        return RedirectResponse(f"/match/interests?box={'sent' if box == 'sent' else 'inbox'}", status_code=303)

    return api
