"""The zhulian command as a user runs it, on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from zhulian.model import TYPES


def test_demo_loads_the_region_and_a_second_run_changes_nothing(run) -> None:
    first = run("demo", "--no-serve").output
    assert "新建 created 63" in first
    platforms = json.loads(run("list", "platform", "--json").output)
    second = run("demo", "--no-serve").output
    assert "新建 created 0, 更新 updated 0, 未变 unchanged 63" in second
    # the packaged real sample: loaded once, matched by identifier the second time
    assert "csl_papers.tsv: 新建 created 597" in first and "csl_papers.tsv: 新建 created 0, 更新 updated 0" in second
    assert "kppatent_patents.jsonl: 新建 created 0, 更新 updated 0" in second
    assert json.loads(run("list", "platform", "--json").output) == platforms


def test_list_platform_json_shows_centres_with_lead_and_partner_units(run) -> None:
    run("demo", "--no-serve")
    platforms = json.loads(run("list", "platform", "--json").output)
    by_name = {p["name"]["zh"]: p for p in platforms}
    centre = by_name["珠三角科技金融产业协同创新发展中心"]
    leads = [r["object"] for r in centre["relations"] if r["predicate"] == "lead_unit"]
    assert leads[0]["name"] == "广东财经大学" and leads[0]["type"] == "organization"
    assert leads[0]["id"].startswith("org_")
    assert sum(r["predicate"] == "partner_unit" for r in centre["relations"]) >= 4
    assert {"深港微电子协同创新联盟", "珠三角品牌战略协同创新中心", "东莞市横沥模具产业协同创新中心"} <= set(by_name)


def test_list_policy_json_carries_structured_targets(run) -> None:
    run("demo", "--no-serve")
    policies = json.loads(run("list", "policy", "--json").output)
    targets = [t for p in policies for t in p["targets"] if t["indicator"] == "全社会研发投入占GDP比重"]
    assert targets == [targets[0]] and targets[0]["value"] == 3.0 and targets[0]["year"] == 2020


def test_list_filter_limit_and_get_by_pid(run) -> None:
    run("init", "--with-region")
    universities = json.loads(run("list", "orgs", "--filter", "kind:university,city:440100", "--json").output)
    assert {"中山大学", "暨南大学"} <= {u["name"]["zh"] for u in universities}
    assert len(json.loads(run("list", "organization", "--limit", "2", "--json").output)) == 2
    record = json.loads(run("get", "moe:4144010558", "--json").output)
    assert record["name"]["zh"] == "中山大学" and record["pids"]["moe"] == "4144010558"
    assert "中山大学" in run("get", "moe:4144010558").output


def test_errors_are_bilingual_and_exit_non_zero(run) -> None:
    run("init")
    missing = run("get", "moe:4100000000", code=1)
    assert "找不到记录" in missing.output and "No record" in missing.output
    bad_type = run("list", "widgets", code=2)
    unwrapped = bad_type.output.replace("\n", "")  # the console wraps the longer list of types
    assert "未知类型" in unwrapped and "Unknown type" in unwrapped
    bad_filter = run("list", "organization", "--filter", "colour:red", code=2)
    assert "不能按" in bad_filter.output and "cannot filter" in bad_filter.output


def test_history_and_changes(run) -> None:
    run("init", "--with-region")
    history = json.loads(run("history", "ref:org-sysu", "--json").output)
    assert history == [{"revision": 1, "op": "create", "at": history[0]["at"]}]
    feed = json.loads(run("changes", "--since", "60", "--json").output)
    assert [entry["seq"] for entry in feed] == [61, 62, 63]


def test_schema_out_writes_one_schema_per_type(run, tmp_path: Path) -> None:
    run("schema", "--out", str(tmp_path / "schemas"))
    files = sorted(p.name for p in (tmp_path / "schemas").iterdir())
    assert files == sorted(f"{name}.schema.json" for name in TYPES)  # the modules' types too (station, observation)
    patent = json.loads((tmp_path / "schemas" / "patent.schema.json").read_text(encoding="utf-8"))
    assert {"number", "kind", "ipc", "applicants", "inventors", "legal_status"} <= set(patent["properties"])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_demo_serves_the_api_and_the_home_page(tmp_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, "ZHULIAN_DATA_DIR": str(tmp_path / "data")}
    env.pop("ZHULIAN_DATABASE_URL", None)
    process = subprocess.Popen([sys.executable, "-m", "zhulian.cli", "demo", "--port", str(port)], env=env,
                               cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/platforms", timeout=2) as response:
                    body = json.load(response)
                break
            except OSError:
                assert process.poll() is None, process.stdout.read().decode()
                assert time.monotonic() < deadline, "zhulian demo did not start serving within 60 s"
                time.sleep(0.3)
        assert body["meta"]["count"] == 5
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
            page = response.read().decode()
        assert "珠三角科技协同创新平台" in page and "广佛肇" in page
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/policies", timeout=5) as response:
            assert "全社会研发投入占GDP比重" in response.read().decode()
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_keys_are_created_listed_and_revoked(run) -> None:
    run("init")
    created = json.loads(run("keys", "create", "--role", "publisher", "--node", "440100", "--name", "广州",
                             "--json").output)
    assert created["key"].startswith("zl_") and created["role"] == "publisher"
    listed = json.loads(run("keys", "list", "--json").output)
    assert [k["id"] for k in listed] == [created["id"]] and "key" not in listed[0]
    assert created["id"] in run("keys", "list").output  # the table keeps the id whole, to paste into `revoke`
    assert "已吊销 revoked" in run("keys", "revoke", created["id"]).output
    refused = run("keys", "create", "--role", "publisher", code=2)
    assert "发布者密钥需要 --node" in refused.output
    audit = json.loads(run("audit", "--json").output)  # the refused key left no entry
    assert [(e["action"], e["detail"]["key"], e["actor"].startswith("cli:")) for e in audit] == [
        ("key_create", created["id"], True), ("key_revoke", created["id"], True)]
