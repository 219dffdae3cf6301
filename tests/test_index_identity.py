"""The index belongs to the store, wherever the store lies: a data folder copied elsewhere answers from its index
at once; an index of another store keeps answering while its replacement is built in the background, with the
build's progress in ``index status``; and ``zhulian serve`` stops within seconds of SIGTERM, even mid-build, and
builds cleanly at the next start."""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from zhulian.records.reference import load_region
from zhulian.search import SearchService
from zhulian.search.rebuild import RebuildLock
from zhulian.store import Store

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
CSL = DATA / "csl" / "csl_full_fields_union.tsv"
SOURCE = Path(__file__).resolve().parents[1] / "src"


def _sqlite_store(folder: Path) -> Store:
    store = Store(f"sqlite:///{folder / 'zhulian.db'}")
    store.migrate()
    return store


def _ids(body: dict) -> list[str]:
    return [r["id"] for r in body["results"]]


def test_a_data_folder_copied_elsewhere_answers_from_its_index_without_a_rebuild(tmp_path: Path) -> None:
    original = tmp_path / "original"
    original.mkdir()
    store = _sqlite_store(original)
    load_region(store)
    built = SearchService(store, path=original / "index")
    built.rebuild()
    expected = _ids(built.search("中山大学"))
    build_id = built.status()
    store.close()

    shutil.copytree(original, tmp_path / "moved")
    shutil.rmtree(original)
    moved = _sqlite_store(tmp_path / "moved")
    service = SearchService(moved, path=tmp_path / "moved" / "index")
    service.start_follower()  # as a server: a rebuild, if one were needed, would run in the background
    try:
        assert _ids(service.search("中山大学")) == expected and expected
        status = service.status()
        assert status["own_store"] and status["rebuilding"] is None and status["lag"] == 0
        assert status["built_at"] == build_id["built_at"] and status["documents"] == build_id["documents"]
        assert not list((tmp_path / "moved").glob(".index.building-*"))
    finally:
        service.stop_follower()
        moved.close()


def test_an_index_of_another_store_answers_until_its_replacement_is_in(store, tmp_path: Path) -> None:
    (tmp_path / "other").mkdir()
    other = _sqlite_store(tmp_path / "other")  # a different store (its own id) that built the index first
    other.create({"type": "paper", "title": {"zh": "石墨烯传感器研究"}, "city": "440300"})
    SearchService(other, path=tmp_path / "index").rebuild()
    mine = store.create({"type": "paper", "title": {"zh": "石墨烯复合材料的制备"}, "city": "440100"})

    service = SearchService(store, path=tmp_path / "index")
    assert service.status()["own_store"] is False
    service.start_follower(interval=0.05)
    try:
        service.search("石墨烯")  # answered at once, from the old index, while the new one is built
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not service.status()["own_store"]:
            time.sleep(0.05)
        assert _ids(service.search("石墨烯")) == [mine["id"]]
        assert service.status()["rebuilding"] is None
    finally:
        service.stop_follower()
        other.close()


def test_index_status_shows_a_rebuild_under_way_in_another_process(run, tmp_path: Path) -> None:
    run("index", "rebuild")
    lock = RebuildLock(tmp_path / "data" / "index")
    assert lock.acquire()  # what a server's rebuild holds for as long as it runs
    try:
        lock.report(1200, 4800)
        status = json.loads(run("index", "status", "--json").stdout)
        assert status["rebuilding"]["records_done"] == 1200 and status["rebuilding"]["records_total"] == 4800
        assert "1,200 / 4800" in run("index", "status").stdout and "25%" in run("index", "status").stdout
        refused = run("index", "rebuild", code=2)
        assert "index status" in refused.output
    finally:
        lock.release()
    assert json.loads(run("index", "status", "--json").stdout)["rebuilding"] is None


def test_serve_stops_within_5_s_of_sigterm_mid_rebuild_and_builds_cleanly_next_time(tmp_path: Path) -> None:
    if not CSL.exists():
        pytest.skip(f"real data not found at {CSL} (the shared data folder sits beside the checkout in CI)")
    data = tmp_path / "data"
    data.mkdir()
    store = _sqlite_store(data)
    with CSL.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))[:1000]  # a build of a few seconds
    with store.transaction() as writer:
        writer.upsert_many({"type": "paper", "title": {"zh": r["title"][:500]}, "abstract": r["abstract"][:5000],
                            "keywords": [k[:100] for k in r["keywords"].split(";") if k.strip()][:50]}
                           for r in rows)
    store.close()
    progress = data / ".index.rebuild.json"

    first = _serve(data)
    try:
        _wait_for(progress.exists, 60, first)  # the server started the first build in the background
        stopped = _terminate(first)
    finally:
        first.kill()
    print(f"stopped {stopped:.2f} s after SIGTERM mid-build")
    assert stopped < 5.0, f"took {stopped:.1f} s to stop after SIGTERM"
    assert not list(data.glob(".index.building-*")) and not progress.exists()  # nothing half-built left

    second = _serve(data)
    try:
        port = second.port  # type: ignore[attr-defined]
        _wait_for(lambda: _count(port, "研究") > 0, 120, second)
        served = _count(port, "研究")
        assert _terminate(second) < 5.0
    finally:
        second.kill()
    store = _sqlite_store(data)
    reopened = SearchService(store, path=data / "index")  # the index the server built, whole and current
    assert reopened.status()["lag"] == 0 and reopened.status()["documents"] == len(rows)
    assert reopened.search("研究")["meta"]["count"] == served
    store.close()


def _serve(data: Path) -> subprocess.Popen:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "zhulian.cli", "serve", "--port", str(port)], env=_env(data),
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    server.port = port  # type: ignore[attr-defined]
    return server


def _env(data: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "ZHULIAN_DATABASE_URL"}
    return {**env, "ZHULIAN_DATA_DIR": str(data), "PYTHONPATH": str(SOURCE)}


def _count(port: int, q: str) -> int:
    try:
        response = httpx.get(f"http://127.0.0.1:{port}/api/v1/search", params={"q": q}, timeout=30)
    except httpx.HTTPError:
        return -1
    return response.json()["meta"]["count"] if response.status_code == 200 else -1


def _wait_for(check, seconds: float, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert server.poll() is None, server.stderr.read().decode() if server.stderr else ""
        assert time.monotonic() < deadline, f"not within {seconds} s"
        time.sleep(0.02)


def _terminate(server: subprocess.Popen) -> float:
    started = time.monotonic()
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        pass
    return time.monotonic() - started
