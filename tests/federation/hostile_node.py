"""A node that breaks the protocol on purpose, one way per path prefix: ``http://host:port/{mode}/…``.

Run as ``python tests/federation/hostile_node.py PORT``. ``/impostor/{id}/`` serves one record with that id
under the node's own origin, to see that a hub never lets it overwrite a record of another origin.
"""

from __future__ import annotations

import sys
import time

import uvicorn
from fastapi import FastAPI
from fastapi.responses import JSONResponse, Response

app = FastAPI()
GOOD_ORG = {"id": "org_01JDZ0000000000000000000AA", "type": "organization", "name": {"zh": "恶意节点测试机构"},
            "kind": "enterprise", "access": "public", "revision": 1, "created": "2026-01-01T00:00:00Z",
            "updated": "2026-01-01T00:00:00Z"}


def entry(seq: int, record: dict, origin: str = "evil") -> dict:
    return {"seq": seq, "op": "upsert", "id": record["id"], "type": record["type"], "revision": record["revision"],
            "at": "2026-01-01T00:00:00Z", "origin": {"node": origin, "id": record["id"], "revision": record["revision"]},
            "record": record}


def page(entries: list[dict], next_seq: int) -> dict:
    return {"meta": {"next_cursor": f"v1.{next_seq}", "has_more": False, "last_seq": next_seq}, "results": entries}


@app.get("/{mode}/api/v1/node")
@app.get("/{mode}/{record_id}/api/v1/node")
def node(mode: str, record_id: str | None = None) -> dict:
    return {"node": "evil", "protocol": "zhulian-feed/1", "origins": ["evil"], "sets": ["organization"]}


@app.get("/{mode}/api/v1/changes")
@app.get("/{mode}/{record_id}/api/v1/changes")
def changes(mode: str, since: str = "", limit: int = 100, record_id: str | None = None) -> Response:
    if since.startswith("v1.") and int(since[3:]) >= 2:
        return JSONResponse(page([], 2))  # a well-behaved node has nothing more after its last entry
    if mode == "good":
        return JSONResponse(page([entry(1, GOOD_ORG)], 1))
    if mode == "bad_json":
        return Response(b'{"meta": {"next_cursor": ', media_type="application/json")
    if mode == "deep_json":  # 60 KB of nesting: too deep for a JSON parser's recursion
        return Response(b'{"meta": ' + b"[" * 30_000 + b"]" * 30_000 + b"}", media_type="application/json")
    if mode == "wrong_schema":
        return JSONResponse({"items": [GOOD_ORG]})
    if mode == "invalid_record":
        return JSONResponse(page([entry(1, GOOD_ORG), entry(2, {**GOOD_ORG, "id": "org_01JDZ0000000000000000000AB",
                                                                "kind": "spaceship", "city": "999999"})], 2))
    if mode == "foreign_origin":
        return JSONResponse(page([entry(1, GOOD_ORG), entry(2, {**GOOD_ORG, "id": "org_01JDZ0000000000000000000AC"},
                                                            origin="gz")], 2))
    if mode == "backwards":
        first = entry(5, GOOD_ORG)
        return JSONResponse(page([first, entry(3, {**GOOD_ORG, "id": "org_01JDZ0000000000000000000AD"})], 5))
    if mode == "oversize":
        return JSONResponse(page([entry(1, {**GOOD_ORG, "description": {"zh": "长" * 300_000}})], 1))
    if mode == "slow":
        time.sleep(5)
        return JSONResponse(page([entry(1, GOOD_ORG)], 1))
    if mode == "impostor":
        return JSONResponse(page([entry(1, {**GOOD_ORG, "id": record_id, "name": {"zh": "冒名顶替的机构"}})], 1))
    if mode == "tombstone_resurrects":
        tombstone = {**entry(2, {**GOOD_ORG, "revision": 2, "deleted": "2026-01-02T00:00:00Z"}), "op": "delete"}
        return JSONResponse(page([entry(1, GOOD_ORG), tombstone, entry(3, {**GOOD_ORG, "revision": 3})], 3))
    return JSONResponse({"ok": False, "error": {"code": "not_found", "message": mode, "message_zh": mode}}, 404)


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
