"""Expressions of interest: an enterprise sends, the owner's node reads and answers, either side closes;
every change audited; anonymous users cannot send; others' interests stay out of sight."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from zhulian.access import ANONYMOUS, CLI_ADMIN, create_key
from zhulian.access.keys import principal_by_id
from zhulian.config import Settings
from zhulian.errors import ZhulianError
from zhulian.match.interests import InterestService
from zhulian.records import RecordService
from zhulian.web.app import create_app

from tests.portal_forms import csrf_of


def _keys(store) -> dict:
    made = {name: create_key(store, role, node=node, name=name)
            for name, role, node in (("enterprise", "reader", None), ("guangzhou", "publisher", "440100"),
                                     ("shenzhen", "publisher", "440300"))}
    return {name: (principal_by_id(store, key["id"]), secret) for name, (key, secret) in made.items()}


@pytest.fixture
def setting(store):
    achievement = store.create({"type": "achievement", "title": {"zh": "高安全锂电池隔膜材料"}, "node": "440100",
                                "city": "440100"})
    paper = store.create({"type": "paper", "title": {"zh": "锂电池综述"}, "node": "440100"})
    return InterestService(store), _keys(store), achievement, paper


def _state(error: pytest.ExceptionInfo) -> tuple[int, str]:
    return error.value.status, error.value.code


def test_sent_read_answered_closed_with_times_and_audit(setting, store) -> None:
    service, keys, achievement, _paper = setting
    enterprise, guangzhou = keys["enterprise"][0], keys["guangzhou"][0]
    sent = service.send(enterprise, achievement["id"], "希望以技术许可方式合作", contact="020-12345678")
    assert sent["state"] == "sent" and sent["target_node"] == "440100" and sent["target_name"] == "高安全锂电池隔膜材料"
    assert [i["id"] for i in service.list(guangzhou, "inbox")] == [sent["id"]]
    assert service.list(guangzhou, "inbox")[0]["target_name"] == "高安全锂电池隔膜材料"
    read = service.mark_read(guangzhou, sent["id"])
    assert read["state"] == "read" and read["read_at"] and read["state_display"] == {"zh": "已读", "en": "read"}
    assert service.mark_read(guangzhou, sent["id"])["read_at"] == read["read_at"]  # reading again changes nothing
    answered = service.answer(guangzhou, sent["id"], "欢迎来访洽谈")
    assert answered["state"] == "answered" and answered["answered_at"] >= answered["read_at"]
    mine = service.list(enterprise, "sent")
    assert mine[0]["answer"] == "欢迎来访洽谈" and service.get(enterprise, sent["id"])["state"] == "answered"
    with pytest.raises(ZhulianError) as again:
        service.answer(guangzhou, sent["id"], "再答一次")
    assert _state(again) == (409, "conflict")
    closed = service.close(enterprise, sent["id"])
    assert closed["state"] == "closed" and closed["closed_at"]
    with pytest.raises(ZhulianError) as twice:
        service.close(guangzhou, sent["id"])
    assert _state(twice) == (409, "conflict")
    assert service.list(guangzhou, "inbox", state="closed")[0]["id"] == sent["id"]
    audit = RecordService(store).audit(CLI_ADMIN, record=achievement["id"])
    actions = [(e["action"], e["actor"], e["detail"]["state"]) for e in audit if e["action"].startswith("interest")]
    assert actions == [("interest_send", enterprise.id, "sent"), ("interest_read", guangzhou.id, "read"),
                       ("interest_answer", guangzhou.id, "answered"), ("interest_close", enterprise.id, "closed")]
    assert all(e["detail"]["interest"] == sent["id"] for e in audit if e["action"].startswith("interest"))


def test_who_may_send_see_and_answer(setting) -> None:
    service, keys, achievement, paper = setting
    enterprise, guangzhou, shenzhen = (keys[n][0] for n in ("enterprise", "guangzhou", "shenzhen"))
    with pytest.raises(ZhulianError) as anonymous:
        service.send(ANONYMOUS, achievement["id"], "想合作")
    assert _state(anonymous) == (401, "unauthorized") and "登录" in anonymous.value.message_zh
    with pytest.raises(ZhulianError) as wrong_type:
        service.send(enterprise, paper["id"], "想合作")
    assert wrong_type.value.status == 400 and "科技成果或专利" in wrong_type.value.details[0].reason_zh
    for message in ("", "  ", "x" * 2001):
        with pytest.raises(ZhulianError) as empty:
            service.send(enterprise, achievement["id"], message)
        assert empty.value.details[0].field == "message"
    sent = service.send(enterprise, achievement["id"], "想合作")
    assert service.list(shenzhen, "inbox") == []  # another node's publishers do not see it
    with pytest.raises(ZhulianError) as hidden:
        service.get(shenzhen, sent["id"])
    assert _state(hidden) == (404, "not_found")
    with pytest.raises(ZhulianError) as not_theirs:
        service.answer(shenzhen, sent["id"], "我们也有")
    assert _state(not_theirs) == (404, "not_found")
    with pytest.raises(ZhulianError) as own:  # the sender cannot answer for the owner
        service.answer(enterprise, sent["id"], "自问自答")
    assert _state(own) == (403, "forbidden")
    with pytest.raises(ZhulianError) as inbox:  # a reader key has no inbox
        service.list(enterprise, "inbox")
    assert _state(inbox) == (403, "forbidden")
    with pytest.raises(ZhulianError) as bad_box:
        service.list(guangzhou, "outbox")
    assert bad_box.value.status == 400
    assert service.list(CLI_ADMIN, "inbox")[0]["id"] == sent["id"]
    assert service.answer(guangzhou, sent["id"], "好的")["read_at"]  # answering reads it too


def test_interests_over_http(setting, store, tmp_path: Path) -> None:
    _service, keys, achievement, _paper = setting
    enterprise, guangzhou = (f"Bearer {keys[n][1]}" for n in ("enterprise", "guangzhou"))
    with TestClient(create_app(Settings(data_dir=tmp_path), store=store)) as http:
        assert http.post("/api/v1/interests", json={"target": achievement["id"], "message": "想合作"}).status_code == 401
        created = http.post("/api/v1/interests", json={"target": achievement["id"], "message": "想合作"},
                            headers={"Authorization": enterprise})
        assert created.status_code == 201
        interest_id = created.json()["id"]
        inbox = http.get("/api/v1/interests", params={"box": "inbox"}, headers={"Authorization": guangzhou}).json()
        assert [i["id"] for i in inbox["results"]] == [interest_id]
        assert http.post(f"/api/v1/interests/{interest_id}/read", headers={"Authorization": guangzhou}).json()["state"] == "read"
        answered = http.post(f"/api/v1/interests/{interest_id}/answer", json={"answer": "欢迎"},
                             headers={"Authorization": guangzhou})
        assert answered.json()["state"] == "answered"
        assert http.post(f"/api/v1/interests/{interest_id}/answer", json={}, headers={"Authorization": guangzhou}).status_code == 400
        assert http.get(f"/api/v1/interests/{interest_id}", headers={"Authorization": enterprise}).json()["answer"] == "欢迎"
        assert http.get(f"/api/v1/interests/{interest_id}").status_code == 404
        closed = http.post(f"/api/v1/interests/{interest_id}/close", headers={"Authorization": enterprise})
        assert closed.json()["state"] == "closed"
        assert http.get("/api/v1/interests/int_nothing", headers={"Authorization": enterprise}).status_code == 404
        page = http.get("/match/interests")
        assert page.status_code == 200 and "/signin" in page.text


def test_interests_from_the_command_line(run, tmp_path: Path) -> None:
    import json

    run("init")
    path = tmp_path / "achievements.jsonl"
    path.write_text(json.dumps({"type": "achievement", "title": {"zh": "高安全锂电池隔膜材料"}}, ensure_ascii=False),
                    encoding="utf-8")
    run("import", path, "--type", "achievement")
    target = json.loads(run("list", "achievement", "--json").stdout)[0]["id"]
    sent = json.loads(run("interest", "send", target, "--message", "想合作", "--json").stdout)
    assert sent["state"] == "sent"
    assert "已发送" in run("interest", "list", "--box", "sent").stdout
    assert json.loads(run("interest", "answer", sent["id"], "--text", "欢迎", "--json").stdout)["state"] == "answered"
    assert "已关闭" in run("interest", "close", sent["id"]).stdout
    assert "已关闭" in run("interest", "close", sent["id"], code=2).output


def _sign_in(http: TestClient, secret: str) -> None:
    http.cookies.clear()
    token = csrf_of(http.get("/signin").text)
    assert http.post("/signin", data={"key": secret, "csrf": token}, follow_redirects=False).status_code == 303


def test_the_portal_from_need_to_answer(setting, store, tmp_path: Path) -> None:
    _service, keys, achievement, _paper = setting
    with TestClient(create_app(Settings(data_dir=tmp_path), store=store)) as http:
        anonymous = http.get("/match", params={"q": "锂电池隔膜"}).text
        assert "高安全锂电池隔膜材料" in anonymous and 'action="/match/interests"' not in anonymous
        _sign_in(http, keys["enterprise"][1])
        page = http.get("/match", params={"q": "锂电池隔膜"}).text
        assert f'name="target" value="{achievement["id"]}"' in page
        assert http.post("/match/interests", data={"target": achievement["id"], "message": "希望许可",
                                                   "csrf": "forged"}).status_code == 403
        sent = http.post("/match/interests", data={"target": achievement["id"], "message": "希望许可",
                                                   "contact": "张经理", "csrf": csrf_of(page)}, follow_redirects=False)
        assert sent.status_code == 303 and sent.headers["location"] == "/match/interests?box=sent"
        assert "希望许可" in http.get("/match/interests?box=sent").text
        _sign_in(http, keys["guangzhou"][1])
        inbox = http.get("/match/interests").text
        assert "希望许可" in inbox and "张经理" in inbox and "已发送" in inbox
        interest_id = InterestService(store).list(keys["guangzhou"][0])[0]["id"]
        answered = http.post(f"/match/interests/{interest_id}/answer", data={"answer": "欢迎洽谈", "csrf": csrf_of(inbox)},
                             follow_redirects=False)
        assert answered.status_code == 303
        assert "欢迎洽谈" in http.get("/match/interests").text and "已答复" in http.get("/match/interests").text
