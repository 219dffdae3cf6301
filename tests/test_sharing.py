"""Shared instruments: a host publishes a service profile, users book slots that never overlap (also under
twenty clients at once), the host confirms or refuses, the operator records the use and the fee follows from
the user's class; users rate; statements per user and host; every change audited; bad input refused with a
reason in both languages."""

from __future__ import annotations

import datetime as dt
import threading
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
from zhulian.records import RecordService
from zhulian.sharing import SharingService
from zhulian.sharing.profile import CHINA
from zhulian.web.app import create_app

PROFILE = {
    "services": [
        {"code": "sem-imaging", "name": "扫描电镜成像", "name_en": "SEM imaging", "unit": "hour",
         "samples": "干燥、导电或已喷金的固体样品，直径不超过 25 mm",
         "rates": {"internal": 200, "external": 400, "enterprise": 600}},
        {"code": "eds", "name": "能谱分析", "unit": "sample", "rates": {"internal": 50, "external": 100}},
    ],
    "operators": ["李工"],
    "opening": [{"days": [1, 2, 3, 4, 5], "opens": "09:00", "closes": "17:00"}],
    "max_hours": 4,
}


def monday(weeks: int = 2) -> dt.date:
    """A Monday at least a week ahead, so every booking in these tests lies in the future."""
    today = dt.datetime.now(CHINA).date()
    return today + dt.timedelta(days=7 * weeks - today.weekday())


def at(day: dt.date, hour: int, minute: int = 0) -> str:
    return dt.datetime.combine(day, dt.time(hour, minute), CHINA).isoformat()


def keys(store) -> dict:
    made = {name: create_key(store, role, node=node, name=name)
            for name, role, node in (("firm", "reader", None), ("other", "reader", None),
                                     ("guangzhou", "publisher", "440100"), ("shenzhen", "publisher", "440300"),
                                     ("harvester", "harvester", None))}
    return {name: (principal_by_id(store, key["id"]), secret) for name, (key, secret) in made.items()}


@pytest.fixture
def setting(store):
    instrument = store.create({"type": "instrument", "name": {"zh": "场发射扫描电子显微镜"}, "host": "中山大学",
                               "city": "440100", "node": "440100", "category": "电子光学仪器"})
    firm = store.create({"type": "organization", "name": {"zh": "深圳微纳科技有限公司"}, "kind": "enterprise",
                         "city": "440300"})
    university = store.create({"type": "organization", "name": {"zh": "中山大学"}, "kind": "university",
                               "city": "440100"})
    service = SharingService(store)
    service.set_profile(CLI_ADMIN, instrument["id"], PROFILE)
    return service, keys(store), instrument, firm, university


def at_once(call, count: int, refused) -> list[object]:
    """``call(0 … count-1)`` in as many threads, released together; each answer is the call's result,
    ``refused(error)`` for a ZhulianError, or any other exception itself (which would have been a 500)."""
    start = threading.Barrier(count)
    answers: list[object] = [None] * count

    def one(n: int) -> None:
        start.wait()
        try:
            answers[n] = call(n)
        except ZhulianError as error:
            answers[n] = refused(error)
        except Exception as error:  # kept for the caller's assertion
            answers[n] = error

    threads = [threading.Thread(target=one, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def _error(error: pytest.ExceptionInfo) -> tuple[int, str]:
    return error.value.status, error.value.code


def test_requested_confirmed_in_use_completed_rated_with_fee_and_audit(setting, store) -> None:
    service, people, instrument, firm, _university = setting
    user, host = people["firm"][0], people["guangzhou"][0]
    day = monday()
    booked = service.book(user, instrument["id"], start=at(day, 9), end=at(day, 11), service="sem-imaging",
                          samples=3, purpose="隔膜孔径表征", organization=firm["id"])
    assert booked["state"] == "requested" and booked["user_class"] == "enterprise" and booked["user_city"] == "440300"
    assert booked["start_local"] == f"{day} 09:00" and booked["start"].endswith("Z")
    assert service.confirm(host, booked["id"])["state"] == "confirmed"
    assert service.begin_use(host, booked["id"])["state"] == "in_use"
    done = service.complete(host, booked["id"], hours=2.5, samples=3)
    assert done["state"] == "completed" and done["fee"] == 1500.0 and done["rate"] == 600.0 and done["unit"] == "hour"
    with pytest.raises(ZhulianError) as not_a_rating:
        service.rate(user, booked["id"], True)
    assert not_a_rating.value.details[0].field == "rating" and "1 至 5" in not_a_rating.value.details[0].reason_zh
    rated = service.rate(user, booked["id"], 5, "出图清晰")
    assert rated["state"] == "rated" and rated["rating"] == 5
    with pytest.raises(ZhulianError) as again:
        service.rate(user, booked["id"], 4)
    assert _error(again) == (409, "conflict") and "已评价" in again.value.message_zh
    mine = service.statement(user)
    assert mine["totals"] == {"bookings": 1, "hours": 2.5, "samples": 3, "fee": 1500.0}
    assert mine["items"][0]["instrument_name"] == "场发射扫描电子显微镜"
    assert service.statement(host, host="440100", year=day.year)["totals"]["fee"] == 1500.0
    audit = RecordService(store).audit(CLI_ADMIN, record=instrument["id"])
    steps = [(e["action"], e["detail"]["state"]) for e in audit if e["action"].startswith("booking")]
    assert steps == [("booking_request", "requested"), ("booking_confirm", "confirmed"), ("booking_begin", "in_use"),
                     ("booking_complete", "completed"), ("booking_rate", "rated")]


def test_fees_by_user_class_per_hour_and_per_sample(setting) -> None:
    service, people, instrument, firm, university = setting
    user, host = people["firm"][0], people["guangzhou"][0]
    day = monday()
    internal = service.book(user, instrument["id"], start=at(day, 9), end=at(day, 10), service="sem-imaging",
                            purpose="课题组测试", organization=university["id"])
    per_sample = service.book(user, instrument["id"], start=at(day, 10), end=at(day, 11), service="eds", samples=4,
                              purpose="成分分析")
    assert internal["user_class"] == "internal" and per_sample["user_class"] == "external"
    for booking in (internal, per_sample):
        service.confirm(host, booking["id"])
    assert service.complete(host, internal["id"], hours=1)["fee"] == 200.0
    assert service.complete(host, per_sample["id"], hours=1, samples=6)["fee"] == 600.0  # 6 samples × 100
    with pytest.raises(ZhulianError) as not_for_firms:
        service.book(user, instrument["id"], start=at(day, 12), end=at(day, 13), service="eds", samples=1,
                     purpose="成分分析", organization=firm["id"])
    assert _error(not_for_firms) == (400, "invalid") and "企业用户" in not_for_firms.value.details[0].reason_zh


@pytest.mark.parametrize(("start", "end", "field", "zh"), [
    ((-14, 9), (-14, 10), "start", "已过"),
    ((0, 8), (0, 9), "start", "开放时间"),
    ((5, 10), (5, 11), "start", "开放时间"),  # a Saturday
    ((0, 9), (0, 15), "end", "最长 4 小时"),
    ((0, 11), (0, 10), "end", "晚于"),
])
def test_bad_slots_are_refused_with_a_reason(setting, start, end, field, zh) -> None:
    service, people, instrument, _firm, _university = setting
    day = monday()
    with pytest.raises(ZhulianError) as refused:
        service.book(people["firm"][0], instrument["id"], start=at(day + dt.timedelta(days=start[0]), start[1]),
                     end=at(day + dt.timedelta(days=end[0]), end[1]), service="sem-imaging", purpose="测试")
    assert _error(refused) == (400, "invalid")
    problem = refused.value.details[0]
    assert problem.field == field and zh in problem.reason_zh and problem.reason


def test_closures_services_and_rights(setting, store) -> None:
    service, people, instrument, _firm, _university = setting
    day = monday()
    service.set_profile(people["guangzhou"][0], instrument["id"], {
        **PROFILE, "closures": [{"start": str(day), "end": str(day), "kind": "maintenance", "reason": "更换灯丝"}]})
    book = dict(start=at(day, 9), end=at(day, 10), service="sem-imaging", purpose="测试")
    with pytest.raises(ZhulianError) as closed:
        service.book(people["firm"][0], instrument["id"], **book)
    assert "维护" in closed.value.details[0].reason_zh and "更换灯丝" in closed.value.details[0].reason_zh
    later = dict(book, start=at(day, 9).replace(str(day), str(day + dt.timedelta(days=1))),
                 end=at(day, 10).replace(str(day), str(day + dt.timedelta(days=1))))
    with pytest.raises(ZhulianError) as unknown:
        service.book(people["firm"][0], instrument["id"], **{**later, "service": "xrd"})
    assert unknown.value.details[0].field == "service" and "sem-imaging" in unknown.value.details[0].reason
    with pytest.raises(ZhulianError) as anonymous:
        service.book(ANONYMOUS, instrument["id"], **later)
    assert _error(anonymous) == (401, "unauthorized") and "登录" in anonymous.value.message_zh
    with pytest.raises(ZhulianError) as harvester:
        service.book(people["harvester"][0], instrument["id"], **later)
    assert _error(harvester) == (403, "forbidden")
    booked = service.book(people["firm"][0], instrument["id"], **later)
    with pytest.raises(ZhulianError) as other_node:
        service.confirm(people["shenzhen"][0], booked["id"])
    assert _error(other_node) == (404, "not_found")  # another node's booking is not its to see
    with pytest.raises(ZhulianError) as self_confirm:
        service.confirm(people["firm"][0], booked["id"])
    assert _error(self_confirm) == (403, "forbidden") and "发布者" in self_confirm.value.message_zh
    with pytest.raises(ZhulianError) as profile_elsewhere:
        service.set_profile(people["shenzhen"][0], instrument["id"], PROFILE)
    assert _error(profile_elsewhere) == (403, "forbidden")
    with pytest.raises(ZhulianError) as bad_profile:
        service.set_profile(CLI_ADMIN, instrument["id"], {**PROFILE, "opening": [{"days": [8], "opens": "17:00",
                                                                                 "closes": "09:00"}]})
    assert bad_profile.value.status == 400 and bad_profile.value.details
    refused = service.refuse(people["guangzhou"][0], booked["id"], "当天样品已排满")
    assert refused["state"] == "refused" and refused["reason"] == "当天样品已排满"
    assert service.book(people["other"][0], instrument["id"], **later)["state"] == "requested"  # the slot is free again


def test_a_taken_slot_answers_409_with_the_clash_and_frees_on_cancel(setting) -> None:
    service, people, instrument, _firm, _university = setting
    day = monday()
    first = service.book(people["firm"][0], instrument["id"], start=at(day, 9), end=at(day, 11),
                         service="sem-imaging", purpose="测试")
    with pytest.raises(ZhulianError) as clash:
        service.book(people["other"][0], instrument["id"], start=at(day, 10), end=at(day, 12),
                     service="sem-imaging", purpose="测试")
    assert _error(clash) == (409, "conflict") and f"{day} 09:00" in clash.value.message_zh
    assert clash.value.details[0].value == {"start": first["start"], "end": first["end"], "state": "requested"}
    adjacent = service.book(people["other"][0], instrument["id"], start=at(day, 11), end=at(day, 12),
                            service="sem-imaging", purpose="测试")  # touching is not overlapping
    assert adjacent["state"] == "requested"
    with pytest.raises(ZhulianError) as no_reason:
        service.cancel(people["firm"][0], first["id"], "")
    assert no_reason.value.status == 400
    assert service.cancel(people["firm"][0], first["id"], "样品未到")["state"] == "cancelled"
    again = service.book(people["other"][0], instrument["id"], start=at(day, 10), end=at(day, 11),
                         service="sem-imaging", purpose="测试")
    assert again["state"] == "requested"
    calendar = service.calendar(ANONYMOUS, instrument["id"], first=day, days=7)
    monday_slots = calendar["days"][0]
    assert monday_slots["open"] == [{"start": "09:00", "end": "17:00"}]
    assert [(t["start"], t["end"]) for t in monday_slots["taken"]] == [(f"{day} 10:00", f"{day} 11:00"),
                                                                        (f"{day} 11:00", f"{day} 12:00")]
    assert calendar["days"][5]["open"] == [] and "user_id" not in monday_slots["taken"][0]


def test_twenty_concurrent_clients_one_slot(setting, store) -> None:
    """Twenty users ask at once for overlapping slots of one instrument, each on its own connection: exactly
    one booking is made, every other answer is 409, nothing else."""
    service, people, instrument, _firm, _university = setting
    day = monday()
    users = [principal_by_id(store, create_key(store, "reader", name=f"user {n}")[0]["id"]) for n in range(20)]
    def ask(n: int) -> dict:
        return service.book(users[n], instrument["id"], start=at(day, 9 + n % 3, 10 * (n % 2)), end=at(day, 12, 30),
                            service="sem-imaging", purpose=f"测试 {n}")

    answers = at_once(ask, len(users), lambda error: error.status)
    made = [a for a in answers if isinstance(a, dict)]
    assert len(made) == 1 and sorted(a for a in answers if not isinstance(a, dict)) == [409] * 19, answers
    assert [b["id"] for b in service.list(CLI_ADMIN, "host", instrument=instrument["id"])] == [made[0]["id"]]


def test_the_database_itself_refuses_overlapping_active_bookings(setting, store) -> None:
    """On PostgreSQL the exclusion constraint holds even for a write that skips the service's check; a
    cancelled booking holds no slot."""
    if not store.is_postgres:
        pytest.skip("SQLite has no exclusion constraints: its write transaction serialises the check instead")
    import sqlalchemy as sa

    from zhulian.sharing.tables import bookings

    service, people, instrument, _firm, _university = setting
    day = monday()
    first = service.book(people["firm"][0], instrument["id"], start=at(day, 9), end=at(day, 11),
                         service="sem-imaging", purpose="测试")
    with store.engine.connect() as connection:
        row = dict(connection.execute(sa.select(bookings).where(bookings.c.id == first["id"])).mappings().one())
    overlapping = {**row, "id": "bkg_overlap", "start_at": row["start_at"].replace("T01", "T02")}
    with pytest.raises(sa.exc.IntegrityError, match="ex_sharing_bookings_slot"), store.engine.begin() as connection:
        connection.execute(bookings.insert().values(**overlapping))
    with store.engine.begin() as connection:
        connection.execute(bookings.insert().values(**{**overlapping, "state": "cancelled"}))


def test_bookings_over_http(setting, store, tmp_path: Path) -> None:
    service, people, instrument, _firm, _university = setting
    day = monday()
    body = {"start": at(day, 9), "end": at(day, 10), "service": "sem-imaging", "samples": 1, "purpose": "测试"}
    user, host = (f"Bearer {people[n][1]}" for n in ("firm", "guangzhou"))
    with TestClient(create_app(Settings(data_dir=tmp_path), store=store)) as http:
        path = f"/api/v1/instruments/{instrument['id']}/bookings"
        assert http.post(path, json=body).status_code == 401
        created = http.post(path, json=body, headers={"Authorization": user})
        assert created.status_code == 201 and created.json()["state"] == "requested"
        clash = http.post(path, json=body, headers={"Authorization": f"Bearer {people['other'][1]}"})
        assert clash.status_code == 409 and clash.json()["error"]["details"][0]["value"]["start"] == created.json()["start"]
        bad = http.post(path, json={**body, "start": "明天上午"}, headers={"Authorization": user})
        assert bad.status_code == 400 and bad.json()["error"]["details"][0]["reason_zh"]
        assert http.post(path, json={**body, "extra": 1}, headers={"Authorization": user}).status_code in (400, 422)
        booking = created.json()["id"]
        assert http.post(f"/api/v1/bookings/{booking}/confirm", headers={"Authorization": user}).status_code == 403
        assert http.post(f"/api/v1/bookings/{booking}/confirm", headers={"Authorization": host}).json()["state"] == "confirmed"
        done = http.post(f"/api/v1/bookings/{booking}/complete", json={"hours": 1}, headers={"Authorization": host})
        assert done.json()["fee"] == 400.0
        rated = http.post(f"/api/v1/bookings/{booking}/rate", json={"rating": 4, "comment": "好"},
                          headers={"Authorization": user})
        assert rated.json()["state"] == "rated"
        mine = http.get("/api/v1/sharing/statements", headers={"Authorization": user}).json()
        assert mine["totals"]["fee"] == 400.0
        profile = http.get(f"/api/v1/instruments/{instrument['id']}/profile").json()
        assert profile["profile"]["services"][0]["code"] == "sem-imaging"
        later = http.post(path, json={**body, "start": at(day, 13), "end": at(day, 14)}, headers={"Authorization": user})
        assert later.status_code == 201
        page = http.get(f"/sharing/instruments/{instrument['id']}", params={"from": str(day)})
        assert page.status_code == 200 and "扫描电镜成像" in page.text and "<script" not in page.text
        assert "13:00–14:00" in page.text and "09:00–10:00" not in page.text  # used and rated: it holds no slot
        assert http.get("/sharing/instruments/ins_01M8NA7AQ8XQ6A81SNM453EKQB").status_code == 404


def test_booking_from_the_command_line(run, tmp_path: Path) -> None:
    import json

    run("init")
    path = tmp_path / "instruments.jsonl"
    path.write_text(json.dumps({"type": "instrument", "name": {"zh": "X射线衍射仪"}, "node": "440100"},
                               ensure_ascii=False), encoding="utf-8")
    run("import", path, "--type", "instrument")
    instrument = json.loads(run("list", "instrument", "--json").stdout)[0]["id"]
    profile = tmp_path / "profile.json"
    profile.write_text(json.dumps(PROFILE, ensure_ascii=False), encoding="utf-8")
    run("sharing", "profile", instrument, profile)
    day = monday()
    booked = json.loads(run("sharing", "book", instrument, "--start", at(day, 9), "--end", at(day, 10),
                            "--service", "sem-imaging", "--purpose", "测试", "--json").stdout)
    assert booked["state"] == "requested"
    assert "已被预约" in run("sharing", "book", instrument, "--start", at(day, 9), "--end", at(day, 10),
                         "--service", "sem-imaging", "--purpose", "测试", code=2).output
    assert "已确认" in run("sharing", "confirm", booked["id"]).stdout
    completed = json.loads(run("sharing", "complete", booked["id"], "--hours", "1", "--json").stdout)
    assert completed["fee"] == 400.0
    assert "已评价" in run("sharing", "rate", booked["id"], "--rating", "5").stdout
    other = json.loads(run("sharing", "book", instrument, "--start", at(day, 13), "--end", at(day, 14),
                           "--service", "sem-imaging", "--purpose", "测试", "--json").stdout)
    assert "已取消" in run("sharing", "cancel", other["id"], "--reason", "改期").stdout
