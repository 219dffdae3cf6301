"""Background jobs: submitted work answers at once, runs off the caller, and its end — success, failure or a
process that died — is what any reader of the store sees."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from functools import partial
from pathlib import Path

import sqlalchemy as sa

from zhulian.access import ANONYMOUS, CLI_ADMIN, Principal
from zhulian.errors import Problem, ZhulianError, invalid
from zhulian.jobs import JobService
from zhulian.jobs.tables import jobs

PUBLISHER = Principal("key_pub", "publisher", node="440100")


def test_a_job_answers_at_once_and_reports_progress_then_its_result(store):
    service = JobService(store)
    release = threading.Event()

    def work(progress):
        progress(3, 10, "rows")
        release.wait(10)
        return {"created": 10}

    job = service.submit(PUBLISHER, "import", work, detail={"file": "机构.csv"})
    assert job.state in ("queued", "running")
    for _ in range(200):
        running = service.get(PUBLISHER, job.id)
        if running.progress and running.progress["done"] == 3:
            break
        release.wait(0.01)
    assert running.progress == {"done": 3, "total": 10, "percent": 30.0, "note": "rows"}
    release.set()
    finished = service.wait(PUBLISHER, job.id)
    assert finished.state == "succeeded" and finished.result == {"created": 10}
    assert finished.detail == {"file": "机构.csv"} and finished.finished >= finished.started
    service.close()


def test_a_failed_job_keeps_the_error_a_person_can_act_on(store):
    service = JobService(store)

    def refuse(progress):
        raise invalid([Problem("city", "火星", "unknown city", "未知城市")])

    def crash(progress):
        raise RuntimeError("disk full")

    refused = service.wait(CLI_ADMIN, service.submit(CLI_ADMIN, "import", refuse).id)
    crashed = service.wait(CLI_ADMIN, service.submit(CLI_ADMIN, "import", crash).id)
    assert refused.state == "failed" and refused.error["details"][0]["field"] == "city"
    assert crashed.state == "failed" and "disk full" in crashed.error["message"] and crashed.error["message_zh"]
    service.close()


def test_only_the_owner_and_administrators_see_a_job(store):
    service = JobService(store)
    job = service.wait(PUBLISHER, service.submit(PUBLISHER, "import", lambda progress: {}).id)
    assert service.get(CLI_ADMIN, job.id).id == job.id
    for stranger in (ANONYMOUS, Principal("key_other", "publisher", node="440300")):
        try:
            service.get(stranger, job.id)
        except ZhulianError as error:
            assert error.status == 404
        else:
            raise AssertionError("a stranger read another's job")
    assert [j.id for j in service.list(PUBLISHER)] == [job.id]
    assert service.list(ANONYMOUS) == []
    service.close()


def test_a_job_whose_process_died_is_reported_interrupted_not_running(store):
    with store.transaction() as writer:
        writer.connection.execute(sa.insert(jobs).values(
            id="job_dead", kind="import", owner="cli", state="running", host=__import__("socket").gethostname(),
            pid=2 ** 22 + 12345, created="2026-11-30T00:00:00Z"))
    job = JobService(store).get(CLI_ADMIN, "job_dead")
    assert job.state == "failed" and job.error["code"] == "job_interrupted"


def test_an_import_sent_with_prefer_respond_async_runs_as_a_job(store, tmp_path):
    """202 at once with the job's address; the job ends with the same report a waiting import answers."""
    from fastapi.testclient import TestClient

    from zhulian.access import create_key
    from zhulian.config import Settings
    from zhulian.web.app import create_app

    secret = create_key(store, "publisher", node="440100", name="广州节点")[1]
    rows = "name.zh,kind,city\n" + "".join(f"测试机构{n},enterprise,440100\n" for n in range(300))
    auth = {"Authorization": f"Bearer {secret}"}
    with TestClient(create_app(Settings(data_dir=tmp_path), store=store)) as http:
        sent = http.post("/api/v1/import/orgs", headers={**auth, "Prefer": "respond-async"},
                         files={"file": ("机构.csv", rows.encode("utf-8"), "text/csv")})
        assert sent.status_code == 202 and sent.headers["Preference-Applied"] == "respond-async"
        location = sent.headers["Location"]
        assert location == f"/api/v1/jobs/{sent.json()['id']}"
        for _ in range(400):
            job = http.get(location, headers=auth).json()
            if job["state"] in ("succeeded", "failed"):
                break
            threading.Event().wait(0.05)
        assert job["state"] == "succeeded", job["error"]
        assert job["result"]["ok"] and job["result"]["summary"]["created"] == 300
        assert job["detail"] == {"file": "机构.csv", "type": "organization", "dry_run": False}
        assert http.get(location).status_code in (401, 404)  # not anyone's to read
        assert [j["id"] for j in http.get("/api/v1/jobs", headers=auth).json()["results"]] == [job["id"]]


def test_the_portal_lists_a_users_jobs_and_shows_each_jobs_report(store, tmp_path):
    import re

    from fastapi.testclient import TestClient

    from zhulian.access import create_key
    from zhulian.config import Settings
    from zhulian.web.app import create_app

    secret = create_key(store, "publisher", node="440100", name="广州节点")[1]
    auth = {"Authorization": f"Bearer {secret}"}
    good = "name.zh,kind,city\n" + "".join(f"门户机构{n},enterprise,440100\n" for n in range(5))
    bad = "name.zh,kind,city\n门户坏行,enterprise,火星\n"
    with TestClient(create_app(Settings(data_dir=tmp_path), store=store)) as http:
        sent = {}
        for name, rows in (("好文件.csv", good), ("坏文件.csv", bad)):
            answer = http.post("/api/v1/import/orgs", headers={**auth, "Prefer": "respond-async"},
                               files={"file": (name, rows.encode("utf-8"), "text/csv")})
            sent[name] = answer.json()["id"]
            for _ in range(400):
                if http.get(answer.headers["Location"], headers=auth).json()["state"] in ("succeeded", "failed"):
                    break
                threading.Event().wait(0.05)
        assert "/signin" in http.get("/jobs").text and "好文件.csv" not in http.get("/jobs").text
        token = re.search(r'name="csrf" value="([^"]+)"', http.get("/signin").text)[1]
        assert http.post("/signin", data={"key": secret, "csrf": token}, follow_redirects=False).status_code == 303
        assert 'href="/jobs"' in http.get("/data").text
        listed = http.get("/jobs").text
        assert f'href="/jobs/{sent["好文件.csv"]}"' in listed and "好文件.csv" in listed and "坏文件.csv" in listed
        assert "已完成" in listed and 'name="viewport"' in listed
        done = http.get(f"/jobs/{sent['好文件.csv']}").text
        assert re.search(r'id="created">5<', done) and "已完成" in done and "门户机构" not in done
        assert 'http-equiv="refresh"' not in done  # an ended job's page stops refreshing
        refused = http.get(f"/jobs/{sent['坏文件.csv']}").text
        assert re.search(r'id="created">0<', refused) and "火星" in refused and 'id="problems"' in refused
        http.cookies.set("zhulian_lang", "en")
        assert "succeeded" in http.get("/jobs").text and "Import report" in http.get(f"/jobs/{sent['好文件.csv']}").text
        stranger = {"Authorization": f"Bearer {create_key(store, 'publisher', node='440300')[1]}"}
        http.cookies.clear()
        assert http.get(f"/jobs/{sent['好文件.csv']}", headers=stranger).status_code == 404


# -- jobs run apart, in a child process ------------------------------------------------------------------------
# The work a child runs must be importable by name: these are module-level functions.

def _wait_for_file_then_answer(release: str, progress):
    progress(3, 10, f"行 rows in {os.getpid()}")
    while not Path(release).exists():
        time.sleep(0.02)
    return {"created": 10, "pid": os.getpid(), "niceness": os.nice(0)}


def _refuse(progress):
    raise invalid([Problem("city", "火星", "unknown city", "未知城市")])


def _crash(progress):
    raise OSError("disk full")


def _note_pid_then_sleep(pid_file: str, progress):
    Path(pid_file).write_text(str(os.getpid()))
    time.sleep(120)
    return {}


def test_a_job_run_apart_relays_its_progress_and_result_from_its_own_process(store, tmp_path):
    service = JobService(store)
    release = tmp_path / "release"
    job = service.submit(PUBLISHER, "import", partial(_wait_for_file_then_answer, str(release)), apart=True)
    for _ in range(600):  # a child process takes a moment to start
        running = service.get(PUBLISHER, job.id)
        if running.progress and running.progress["done"] == 3:
            break
        time.sleep(0.05)
    assert running.state == "running" and running.progress["percent"] == 30.0
    release.touch()
    finished = service.wait(PUBLISHER, job.id, timeout=60)
    assert finished.state == "succeeded" and finished.result["created"] == 10
    assert finished.result["pid"] != os.getpid() and str(finished.result["pid"]) in running.progress["note"]
    assert finished.result["niceness"] == min(os.nice(0) + 10, 19)  # the requests come first
    service.close()


def test_a_job_run_apart_fails_with_the_same_errors_as_one_run_here(store):
    service = JobService(store)
    refused = service.wait(CLI_ADMIN, service.submit(CLI_ADMIN, "import", _refuse, apart=True).id, timeout=60)
    crashed = service.wait(CLI_ADMIN, service.submit(CLI_ADMIN, "import", _crash, apart=True).id, timeout=60)
    assert refused.state == "failed" and refused.error["code"] == "invalid"
    assert refused.error["details"] == [{"field": "city", "value": "火星", "reason": "unknown city",
                                         "reason_zh": "未知城市"}]
    assert crashed.state == "failed" and crashed.error["message"] == "The job failed: OSError: disk full"
    service.close()


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"  # ended, not yet reaped by its parent


def _child_pid(pid_file: Path, runner: subprocess.Popen | None = None) -> int:
    for _ in range(1200):
        if pid_file.exists() and pid_file.read_text():
            return int(pid_file.read_text())
        assert runner is None or runner.poll() is None, "the job's server ended early"
        time.sleep(0.05)
    raise AssertionError("the job's child process never started")


def test_closing_the_service_ends_a_job_running_apart_at_once(store, tmp_path):
    service = JobService(store)
    pid_file = tmp_path / "child.pid"
    job = service.submit(CLI_ADMIN, "import", partial(_note_pid_then_sleep, str(pid_file)), apart=True)
    child = _child_pid(pid_file)
    service.close()  # does not wait out the child's two minutes
    assert _gone(child)
    ended = service.get(CLI_ADMIN, job.id)
    assert ended.state == "failed" and "stopped" in ended.error["message"]


def test_a_job_running_apart_ends_when_its_server_is_killed(database_url, tmp_path):
    """A server killed with SIGKILL leaves no import behind it to commit later, unseen."""
    pid_file = tmp_path / "child.pid"
    script = ("import sys, time; from functools import partial; from zhulian.access import CLI_ADMIN; "
              "from zhulian.jobs import JobService; from zhulian.store import Store; import test_jobs; "
              "store = Store(sys.argv[1]); store.migrate(); "
              "JobService(store).submit(CLI_ADMIN, 'import', partial(test_jobs._note_pid_then_sleep, sys.argv[2]), "
              "apart=True); time.sleep(120)")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent), *sys.path])}
    server = subprocess.Popen([sys.executable, "-c", script, database_url, str(pid_file)], env=env)
    try:
        child = _child_pid(pid_file, server)
    finally:
        server.send_signal(signal.SIGKILL)
        server.wait(timeout=30)
    for _ in range(200):
        if _gone(child):
            break
        time.sleep(0.05)
    assert _gone(child), "the job's process outlived its server"
