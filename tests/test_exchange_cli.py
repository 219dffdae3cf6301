"""``zhulian template``, ``import`` and ``export`` as a user runs them, on SQLite and on PostgreSQL."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import openpyxl


def orgs(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([["中文名称 (name.zh)", "pids.moe", "kind", "city"], *rows])
    return path


def test_each_command_has_help(run) -> None:
    for command in ("template", "import", "export"):
        output = run(command, "--help").output
        assert "--" in output and ("/" in output)
    assert "--skip-invalid" in run("import", "--help").output


def test_template_writes_csv_and_xlsx(run, tmp_path: Path) -> None:
    assert "已写入模板" in run("template", "platform", "--format", "xlsx").output
    book = openpyxl.load_workbook(tmp_path / "platform-template.xlsx")
    assert "说明 notes" in book.sheetnames
    run("template", "机构", "--format", "csv", "-o", tmp_path / "t.csv")
    assert "中文名称 (name.zh)" in (tmp_path / "t.csv").read_text(encoding="utf-8-sig")
    assert "unknown_type" in run("template", "castle", code=2).output


def test_import_prints_counts_and_a_second_run_changes_nothing(run, tmp_path: Path) -> None:
    path = orgs(tmp_path / "orgs.csv", [["中山大学", "4144010558", "高等院校", "440100"]])
    first = run("import", path, "--type", "organization").output
    assert "新建 created 1" in first and "已全部导入" in first
    second = run("import", path, "--type", "organization").output
    assert "新建 created 0, 更新 updated 0, 未变 unchanged 1" in second


def test_an_import_refused_for_invalid_rows_exits_2_and_says_where(run, tmp_path: Path) -> None:
    path = orgs(tmp_path / "orgs.csv", [["中山大学", "4144010558", "", "440100"], ["坏", "1", "", "2016-13-01"]])
    result = run("import", path, "--type", "organization", "--report", tmp_path / "r.csv", code=2)
    assert "未写入任何内容" in result.output and "nothing was written" in result.output
    assert "pids.moe" in result.output and "city" in result.output
    rows = list(csv.DictReader((tmp_path / "r.csv").read_text(encoding="utf-8-sig").splitlines()))
    assert {(r["行 row"], r["列 column"]) for r in rows} == {("3", "pids.moe"), ("3", "city")}
    listed = json.loads(run("list", "organization", "--json").output)
    assert listed == []


def test_skip_invalid_and_dry_run_and_json_output(run, tmp_path: Path) -> None:
    path = orgs(tmp_path / "orgs.csv", [["中山大学", "4144010558", "", ""], ["坏", "1", "", ""]])
    dry = json.loads(run("import", path, "-t", "organization", "--dry-run", "--json", code=2).output)
    assert dry["dry_run"] and not dry["committed"] and dry["created"] == 1 and dry["invalid"] == 1
    assert dry["problems_shown"][0]["row"] == 3 and dry["problems_shown"][0]["column"] == "pids.moe"
    skipped = json.loads(run("import", path, "-t", "organization", "--skip-invalid", "--json").output)
    assert skipped["committed"] and skipped["created"] == 1 and skipped["invalid"] == 1


def test_file_level_errors_are_bilingual_and_exit_2(run, tmp_path: Path) -> None:
    (tmp_path / "empty.csv").write_bytes(b"")
    output = run("import", tmp_path / "empty.csv", "-t", "organization", code=2).output
    assert "empty_file" in output and "文件为空" in output and "empty" in output
    assert "not_found" in run("import", tmp_path / "nope.csv", code=1).output
    assert "unknown_mapping" in run("import", tmp_path / "empty.csv", "--mapping", "nope", code=2).output
    assert "bad_report" in run("import", tmp_path / "empty.csv", "--report", "r.txt", code=2).output
    run("import", tmp_path / "empty.csv", "-t", "organization", "--report", "r.json", code=2)
    refused = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert "empty_file" in refused["summary"]["notes"][0]["en"] and refused["problems"][0]["reason_zh"]


def test_export_to_a_file_and_to_stdout(run, tmp_path: Path) -> None:
    run("import", orgs(tmp_path / "orgs.csv", [["中山大学", "4144010558", "", "440100"],
                                              ["深圳大学", "4144010590", "", "440300"]]), "-t", "organization")
    result = run("export", "organization", "-o", tmp_path / "out.xlsx", "--filter", "city:440300")
    assert "已导出 exported 1" in result.output
    values = list(openpyxl.load_workbook(tmp_path / "out.xlsx").active.values)
    assert len(values) == 2 and "深圳大学" in values[1]
    lines = run("export", "orgs", "--format", "jsonl").stdout.strip().splitlines()
    assert len(lines) == 2 and json.loads(lines[0])["type"] == "organization"
    csv_text = run("export", "organization", "--header", "key").stdout
    assert csv_text.lstrip("\ufeff").startswith("id,type,name.zh")
    assert "bad_option" in run("export", "organization", "--format", "xlsx", code=2).output
