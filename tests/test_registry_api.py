"""The registry through the API, the admin page and the ``zhulian registry`` commands."""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from zhulian.access import create_key
from zhulian.config import Settings
from zhulian.exchange import import_file
from zhulian.web.app import create_app


@pytest.fixture
def client(store, tmp_path: Path):
    with TestClient(create_app(Settings(data_dir=tmp_path), store=store)) as client:
        yield client


def _bearer(store, role: str, node: str | None = None) -> dict[str, str]:
    _record, key = create_key(store, role, node=node, name=role)
    return {"Authorization": f"Bearer {key}"}


def _error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code and error["message"] and error["message_zh"]
    return error


def _queue_one(store, tmp_path: Path) -> dict:
    sysu = store.create({"type": "organization", "name": {"zh": "中山大学"}, "kind": "university"})
    incoming = tmp_path / "in.jsonl"
    incoming.write_text(json.dumps({"type": "organization", "name": {"zh": "中大"}}, ensure_ascii=False) + "\n",
                        encoding="utf-8")
    assert import_file(store, incoming).created == 1
    return sysu


def test_resolve_answers_ranked_candidates_with_reasons(client, store) -> None:
    sysu = store.create({"type": "organization", "name": {"zh": "中山大学"}, "city": "440100"})
    body = client.get("/api/v1/registry/resolve", params={"name": "中山大學", "city": "440100"}).json()
    top = body["results"][0]
    assert top["id"] == sysu["id"] and top["decision"] == "match" and 0.95 <= top["score"] <= 1
    assert {"comparison", "level", "weight", "reason", "reason_zh"} <= set(top["reasons"][0])
    for bad, code in (("", "name_empty"), ("有限公司", "name_no_words"), ("中" * 1000, "name_too_long"),
                      ("<script>alert(1)</script>' OR 1=1 --", None)):
        response = client.get("/api/v1/registry/resolve", params={"name": bad})
        if code is None:
            assert response.status_code == 200 and response.json()["results"] == []
        else:
            _error(response, 400, code)
    _error(client.get("/api/v1/registry/resolve", params={"name": "x" * 3000}), 400, "invalid")


def test_review_and_decisions_are_for_administrators(client, store, tmp_path) -> None:
    sysu = _queue_one(store, tmp_path)
    _error(client.get("/api/v1/registry/review"), 403, "forbidden")
    publisher = _bearer(store, "publisher", "440100")
    _error(client.get("/api/v1/registry/review", headers=publisher), 403, "forbidden")
    admin = _bearer(store, "admin")
    (candidate,) = client.get("/api/v1/registry/review", headers=admin).json()["results"]
    _error(client.post(f"/api/v1/registry/review/{candidate['id']}", json={"decision": "same"}, headers=publisher),
           403, "forbidden")
    _error(client.post(f"/api/v1/registry/review/{candidate['id']}", json={"decision": "maybe"}, headers=admin),
           400, "invalid")
    _error(client.post(f"/api/v1/registry/review/{candidate['id']}", json=["same"], headers=admin), 400, "invalid")
    _error(client.post("/api/v1/registry/review/999999", json={"decision": "same"}, headers=admin), 404, "not_found")
    decided = client.post(f"/api/v1/registry/review/{candidate['id']}", json={"decision": "same"}, headers=admin)
    assert decided.status_code == 200 and decided.json()["into"] == sysu["id"]
    merged_away = client.get(f"/api/v1/orgs/{candidate['record_id']}")
    assert merged_away.status_code == 200 and merged_away.json()["id"] == sysu["id"]
    _error(client.post("/api/v1/registry/merge", json={"from": sysu["id"], "into": sysu["id"]}, headers=admin),
           400, "merge_self")
    _error(client.post("/api/v1/registry/merge", json={"from": sysu["id"], "into": candidate["record_id"]},
                       headers=admin), 409, "gone")
    _error(client.post("/api/v1/registry/parent", json={"child": sysu["id"], "parent": sysu["id"]}, headers=admin),
           400, "parent_self")
    kinds = [d["kind"] for d in client.get("/api/v1/registry/decisions", headers=admin).json()["results"]]
    assert kinds == ["merge"]


def test_admin_page_lists_candidates_and_takes_decisions(client, store, tmp_path) -> None:
    _queue_one(store, tmp_path)
    assert client.get("/admin/registry").status_code == 403
    _record, key = create_key(store, "admin", name="审核员")
    page = client.get("/signin")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    client.post("/signin", data={"key": key, "csrf": csrf})
    page = client.get("/admin/registry")
    assert page.status_code == 200 and "中大" in page.text and "中山大学" in page.text and "为已知别名" in page.text
    candidate = re.search(r'action="/admin/registry/(\d+)"', page.text).group(1)
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    assert client.post(f"/admin/registry/{candidate}", data={"decision": "not_same", "csrf": "forged"}).status_code == 403
    done = client.post(f"/admin/registry/{candidate}", data={"decision": "not_same", "csrf": csrf})
    assert done.status_code == 200 and "没有候选" in done.text


def test_cli_resolves_reviews_and_merges(run, tmp_path) -> None:
    run("init")
    incoming = tmp_path / "orgs.jsonl"
    incoming.write_text("".join(json.dumps({"type": "organization", "name": {"zh": name}}, ensure_ascii=False) + "\n"
                                for name in ("华南理工大学", "华工")), encoding="utf-8")
    run("import", incoming)
    body = json.loads(run("registry", "resolve", "华南理工", "--json").output)
    assert body["results"][0]["name"]["zh"] in ("华南理工大学", "华工")
    queue = json.loads(run("registry", "review", "--json").output)
    (candidate,) = queue["results"]
    assert "华工" in run("registry", "review").output
    run("registry", "decide", candidate["id"], "maybe", code=2)
    merged = json.loads(run("registry", "decide", candidate["id"], "same", "--json").output)
    assert merged["into"] == candidate["candidate_id"]
    run("registry", "merge", candidate["candidate_id"], candidate["candidate_id"], code=2)
    assert "merge" in run("registry", "decisions").output
    run("registry", "resolve", "有限公司", code=2)
