"""Data exchange: the flat form, templates, import with row-level validation, export and the round trip.

Every case of bad input the exchange issue lists has its own test; those that touch the store run on SQLite and
on PostgreSQL through the ``store`` fixture."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import openpyxl
import pytest
import sqlalchemy as sa

from zhulian.errors import ZhulianError
from zhulian.exchange.convert import unflatten
from zhulian.exchange.exporter import export_records
from zhulian.exchange.flat import (
    format_relation_item,
    header_key,
    join_items,
    layout,
    neutralise,
    parse_relation_item,
    split_items,
    unescape,
    unneutralise,
)
from zhulian.exchange.importer import import_file
from zhulian.exchange.template import example_row, template_columns, write_template
from zhulian.model import MODELS, validate_record
from zhulian.store import Store
from zhulian.store.tables import metadata

SYSU = "4144010558"
GDUT = "4144011845"


# -- helpers ---------------------------------------------------------------------------------------------

def write_csv(path: Path, rows: list[list[str]], encoding: str = "utf-8", delimiter: str = ",") -> Path:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def orgs_csv(path: Path, rows: list[list[str]], header: list[str] | None = None, **kwargs) -> Path:
    return write_csv(path, [header or ["name.zh", "pids.moe", "kind", "city"], *rows], **kwargs)


def refuse(code: str, call, *args, **kwargs) -> ZhulianError:
    with pytest.raises(ZhulianError) as caught:
        call(*args, **kwargs)
    error = caught.value
    assert error.code == code, error
    assert error.status == 400
    assert error.message and error.message_zh and error.message != error.message_zh
    return error


def snapshot(store: Store) -> dict:
    with store.engine.connect() as connection:
        tables = {table.name: sorted(repr(tuple(row)) for row in connection.execute(sa.select(table)))
                  for table in metadata.sorted_tables}
    return {"tables": tables, "last_seq": store.last_seq()}


def problems(report) -> list[dict]:
    return list(report.errors)


def seed_units(store: Store) -> None:
    store.upsert({"type": "organization", "name": {"zh": "中山大学"}, "pids": {"moe": SYSU}, "city": "440100"})
    store.upsert({"type": "organization", "name": {"zh": "广东工业大学"}, "pids": {"moe": GDUT}, "city": "440100"})


# -- the flat form -----------------------------------------------------------------------------------------

def test_list_cells_split_on_semicolons_and_keep_escaped_ones() -> None:
    items = ["a;b", "c\\d", "plain", "=x"]
    cell = join_items(items)
    assert cell == "a\\;b;c\\\\d;plain;=x"
    assert [unescape(item) for item in split_items(cell)] == items
    assert split_items(" 人工智能 ; 机器学习 ;; ") == ["人工智能", "机器学习"]


def test_relation_items_carry_role_rank_and_dates_losslessly() -> None:
    relation = {"predicate": "partner_unit", "object": "moe:4144010558", "role": "协同单位, 含[括号]; 分号",
                "rank": 2, "from": "2016-04", "to": "2020"}
    item = format_relation_item(relation, relation["object"])
    parsed = parse_relation_item(split_items(item + ";org_01J0Z6Q7M3VX9K2D4F8H5N1P6R")[0])
    assert parsed == {"ref": "moe:4144010558", "role": "协同单位, 含[括号]; 分号", "rank": "2", "from": "2016-04",
                      "to": "2020"}
    assert parse_relation_item("moe:4144010558[牵头单位]") == {"ref": "moe:4144010558", "role": "牵头单位"}
    assert parse_relation_item(format_relation_item({"role": "rank=1"}, "x:1")) == {"ref": "x:1", "role": "rank=1"}


def test_formula_like_cells_are_neutralised_and_restored() -> None:
    for text in ("=1+1", "+86 20 1234", "-5", "@SUM(A1)", "'=already quoted", "\tx"):
        assert neutralise(text).startswith("'")
        assert unneutralise(neutralise(text)) == text
    for text in ("中山大学", "a=b", "'plain"):
        assert neutralise(text) == text and unneutralise(text) == text


def test_headers_may_be_keys_labels_with_keys_or_chinese_labels() -> None:
    org = layout("organization")
    assert header_key(org, "name.zh") == "name.zh"
    assert header_key(org, "中文名称 (name.zh)") == "name.zh"
    assert header_key(org, "中文名称（name.zh）") == "name.zh"
    assert header_key(org, "\ufeff中文名称") == "name.zh"
    assert header_key(org, "教育部院校代码 (pids.moe)") == "pids.moe"
    assert header_key(org, "pids.my_local_id") == "pids.my_local_id"
    assert header_key(layout("platform"), "牵头单位") == "lead_unit"
    assert header_key(layout("patent"), "申请人（主体）") == "applicant_of.subject"
    assert header_key(layout("patent"), "申请人") == "applicants"  # a field's label wins over a relation's
    assert header_key(org, "统一社会信用代码") == "pids.uscc"
    assert header_key(layout("policy"), "targets.1.value") == "targets.1.value"
    assert header_key(org, "no such column") is None


@pytest.mark.parametrize("type_name", sorted(MODELS))
def test_each_template_example_row_is_a_valid_record(type_name: str) -> None:
    the_layout = layout(type_name)
    example = example_row(type_name)
    converted = unflatten(the_layout, [(the_layout.leaf(k), v, k) for k, v in example.items()])
    assert not converted.problems
    validate_record(converted.record)
    assert {leaf.key for leaf in template_columns(type_name)} >= set(example)


# -- templates ---------------------------------------------------------------------------------------------

def test_csv_template_has_a_labelled_header_and_one_example_row(tmp_path: Path) -> None:
    path = tmp_path / "org.csv"
    write_template("organization", "csv", path)
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")  # Excel reads UTF-8 CSV only with a BOM
    rows = list(csv.reader(path.read_text(encoding="utf-8-sig").splitlines()))
    assert len(rows) == 2
    assert "中文名称 (name.zh)" in rows[0] and "教育部院校代码 (pids.moe)" in rows[0] and "编号 (id)" in rows[0]
    example = dict(zip(rows[0], rows[1], strict=True))
    assert example["中文名称 (name.zh)"] == "中山大学" and example["类型 (type)"] == "organization"


def test_xlsx_template_has_a_notes_sheet_with_meaning_required_and_allowed_values(tmp_path: Path) -> None:
    path = tmp_path / "platform.xlsx"
    write_template("platform", "xlsx", path)
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["创新平台 platform", "说明 notes"]
    data = list(book["创新平台 platform"].values)
    assert "牵头单位 (lead_unit)" in data[0] and len(data) == 2
    notes = {row[1]: row for row in book["说明 notes"].values if row and row[1]}
    assert notes["name.zh"][3].startswith("至少填一种语言")
    assert "collaborative_innovation_center（协同创新中心）" in notes["kind"][4]
    assert "moe:4144010558" in notes["lead_unit"][4]
    assert "2016年4月1日" in notes["established"][4]


def test_importing_an_untouched_template_skips_its_example_row(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "org.csv"
    write_template("organization", "csv", path)
    with path.open("a", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerow(["", "organization", "暨南大学"])
    report = import_file(store, path)
    assert report.created == 1 and report.rows == 1
    assert any("示例行" in note.zh for note in report.notes)
    assert store.counts() == {"organization": 1}


# -- encodings ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16"])
def test_each_supported_encoding_is_detected(store: Store, tmp_path: Path, encoding: str) -> None:
    path = orgs_csv(tmp_path / "orgs.csv", [["中山大学", SYSU, "高等院校", "440100"],
                                            ["广东工业大学", GDUT, "university", "440100"]],
                    encoding=encoding)
    report = import_file(store, path, type_name="organization")
    assert report.created == 2 and report.committed, list(report.errors)
    assert store.get(f"moe:{SYSU}")["name"]["zh"] == "中山大学"
    expected = {"utf-8": "UTF-8", "utf-8-sig": "BOM", "gbk": "GB18030/GBK", "gb18030": "GB18030/GBK",
                "utf-16": "UTF-16"}[encoding]
    assert expected in str(report.notes[0])


def test_a_gbk_line_inside_a_utf8_file_is_refused_naming_the_line(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "mixed.csv"
    path.write_bytes("name.zh,pids.moe\r\n中山大学,4144010558\r\n".encode() + "广东工业大学,4144011845\r\n".encode("gbk"))
    error = refuse("mixed_encoding", import_file, store, path)
    assert "第 3 行" in error.message_zh and "line 3" in error.message
    assert store.counts() == {}


def test_a_utf8_line_inside_a_gbk_file_is_refused_naming_the_line(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "mixed.csv"
    path.write_bytes("name.zh,pids.moe\r\n中山大学,4144010558\r\n".encode("gbk")
                     + "广东工业大学华立学院,4144013656\r\n".encode())
    error = refuse("mixed_encoding", import_file, store, path)
    assert "第 3 行" in error.message_zh
    assert store.counts() == {}


def test_bytes_no_supported_encoding_reads_are_refused(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "binary.csv"
    path.write_bytes(b"name.zh\r\n\x81\x30\xff\xfe\x80\r\n")
    error = refuse("bad_encoding", import_file, store, path)
    assert "UTF-8" in error.message_zh


# -- columns -----------------------------------------------------------------------------------------------

def test_a_missing_required_column_refuses_the_file(store: Store, tmp_path: Path) -> None:
    path = orgs_csv(tmp_path / "orgs.csv", [[SYSU, "440100"]], header=["pids.moe", "city"])
    error = refuse("missing_columns", import_file, store, path, type_name="organization")
    assert "name.zh" in error.message and "缺少必需的列" in error.message_zh
    assert error.details and "name.zh" in error.details[0].field


def test_an_unknown_column_is_a_warning_not_a_failure(store: Store, tmp_path: Path) -> None:
    path = orgs_csv(tmp_path / "orgs.csv", [["中山大学", SYSU, "9.5"]], header=["name.zh", "pids.moe", "rating"])
    report = import_file(store, path, type_name="organization")
    assert report.created == 1 and report.committed and report.errors.count == 0
    [warning] = report.warnings
    assert warning.column == "rating" and "未知列" in warning.reason_zh and "unknown column" in warning.reason


def test_a_column_named_twice_refuses_the_file(store: Store, tmp_path: Path) -> None:
    path = orgs_csv(tmp_path / "orgs.csv", [["中山大学", "中大"]], header=["name.zh", "中文名称"])
    refuse("duplicate_columns", import_file, store, path, type_name="organization")


def test_a_row_with_more_cells_than_the_header_is_invalid(store: Store, tmp_path: Path) -> None:
    path = orgs_csv(tmp_path / "orgs.csv", [["中山大学", SYSU, "university", "440100", "extra, unquoted"]])
    report = import_file(store, path, type_name="organization")
    assert report.refused and problems(report)[0]["row"] == 2
    assert "单元格数多于表头列数" in problems(report)[0]["reason_zh"]


def test_an_oversize_cell_refuses_the_file_naming_the_line(store: Store, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "orgs.csv", [["name.zh", "description.zh"], ["中山大学", "长" * 1_000_001]])
    error = refuse("bad_csv", import_file, store, path, type_name="organization")
    assert "第 2 行" in error.message_zh and "上限" in error.message_zh
    assert store.counts() == {}


# -- dates, money, units -----------------------------------------------------------------------------------

@pytest.mark.parametrize("written, stored", [("2016年4月1日", "2016-04-01"), ("2016-04-01", "2016-04-01"),
                                             ("2016/4/1", "2016-04-01"), ("2016.4", "2016-04"),
                                             ("2016年4月", "2016-04"), ("2016", "2016")])
def test_dates_written_the_chinese_ways_are_accepted(store: Store, tmp_path: Path, written: str, stored: str) -> None:
    path = orgs_csv(tmp_path / "orgs.csv", [["中山大学", SYSU, written]], header=["name.zh", "pids.moe", "founded"])
    report = import_file(store, path, type_name="organization")
    assert report.created == 1, problems(report)
    assert store.get(f"moe:{SYSU}")["founded"] == stored


@pytest.mark.parametrize("written", ["2016-02-30", "2016年13月1日", "2015/2/29", "2016-04-31"])
def test_impossible_dates_are_refused_with_row_column_value_and_reason(store: Store, tmp_path: Path,
                                                                       written: str) -> None:
    path = orgs_csv(tmp_path / "orgs.csv", [["暨南大学", "4144010559", "1906"], ["中山大学", SYSU, written]],
                    header=["name.zh", "pids.moe", "成立时间 (founded)"])
    report = import_file(store, path, type_name="organization")
    assert report.refused and not report.committed and report.invalid == 1
    [problem] = problems(report)
    assert problem["row"] == 3 and problem["column"] == "成立时间 (founded)" and problem["value"] == written
    assert problem["reason_zh"] == "该日期不存在" and problem["reason"] == "this date does not exist"
    assert store.counts() == {}


def test_money_with_chinese_units_is_normalised_to_wan(store: Store, tmp_path: Path) -> None:
    rows = [["项目甲", "12.5万元"], ["项目乙", "1.2亿元"], ["项目丙", "3000元"], ["项目丁", "80"]]
    path = write_csv(tmp_path / "projects.csv", [["title.zh", "budget_wan"], *rows])
    report = import_file(store, path, type_name="project")
    assert report.created == 4, problems(report)
    budgets = {r["title"]["zh"]: r["budget_wan"] for r in store.iterate("project")}
    assert budgets == {"项目甲": 12.5, "项目乙": 12000, "项目丙": 0.3, "项目丁": 80}


def test_target_values_with_units_keep_the_unit(store: Store, tmp_path: Path) -> None:
    header = ["title.zh", "targets.0.indicator", "targets.0.comparator", "targets.0.value",
              "targets.1.indicator", "targets.1.comparator", "targets.1.value", "targets.1.unit"]
    path = write_csv(tmp_path / "policies.csv", [header, ["广州规划", "研发投入强度", ">=", "3%", "发明专利授权量",
                                                          "不低于", "25000件", ""],
                                                 ["深圳规划", "技术合同成交额", ">=", "1,200", "", "", "", ""]])
    report = import_file(store, path, type_name="policy")
    assert report.created == 2, problems(report)
    targets = {r["title"]["zh"]: r["targets"] for r in store.iterate("policy")}
    first, second = targets["广州规划"]
    assert (first["value"], first["unit"], second["value"], second["unit"]) == (3.0, "%", 25000.0, "件")
    assert targets["深圳规划"][0]["value"] == 1200.0


def test_bad_money_is_refused_with_its_column(store: Store, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "projects.csv", [["title.zh", "经费（万元） (budget_wan)"], ["项目甲", "很多钱"]])
    report = import_file(store, path, type_name="project")
    [problem] = problems(report)
    assert problem["column"] == "经费（万元） (budget_wan)" and problem["value"] == "很多钱"
    assert "万元" in problem["reason_zh"]


# -- identity: duplicates, upserts, revisions ----------------------------------------------------------------

def test_a_pid_duplicated_within_the_file_names_both_rows(store: Store, tmp_path: Path) -> None:
    path = orgs_csv(tmp_path / "orgs.csv", [["中山大学", SYSU, "", ""], ["暨南大学", "4144010559", "", ""],
                                            ["中山大学（重复）", f" {SYSU} ", "", ""]])
    report = import_file(store, path, type_name="organization")
    assert report.refused and report.invalid == 1
    [problem] = problems(report)
    assert problem["row"] == 4 and problem["column"] == "pids.moe" and problem["field"] == "pids.moe"
    assert "第 2 行与第 4 行" in problem["reason_zh"] and "rows 2 and 4" in problem["reason"]
    assert store.counts() == {}


def test_an_id_duplicated_within_the_file_is_refused(store: Store, tmp_path: Path) -> None:
    same = "org_01J0Z6Q7M3VX9K2D4F8H5N1P6R"
    path = write_csv(tmp_path / "orgs.csv", [["id", "name.zh"], [same, "甲"], [same, "乙"]])
    report = import_file(store, path, type_name="organization", skip_invalid=True)
    assert report.created == 1 and report.invalid == 1
    assert "第 2 行与第 3 行" in problems(report)[0]["reason_zh"]
    assert store.get(same)["name"]["zh"] == "甲"


def test_importing_the_same_file_again_changes_nothing(store: Store, tmp_path: Path) -> None:
    path = orgs_csv(tmp_path / "orgs.csv", [["中山大学", SYSU, "university", "440100"],
                                            ["广东工业大学", GDUT, "university", "440100"]])
    assert import_file(store, path, type_name="organization").created == 2
    before = snapshot(store)
    again = import_file(store, path, type_name="organization")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert snapshot(store) == before


def test_a_changed_row_makes_exactly_one_new_revision(store: Store, tmp_path: Path) -> None:
    path = orgs_csv(tmp_path / "orgs.csv", [["中山大学", SYSU, "university", "440100"],
                                            ["广东工业大学", GDUT, "university", "440100"]])
    import_file(store, path, type_name="organization")
    changed = orgs_csv(tmp_path / "orgs2.csv", [["中山大学", SYSU, "university", "440100"],
                                                ["广东工业大学", GDUT, "university", "441900"]])
    report = import_file(store, changed, type_name="organization")
    assert (report.created, report.updated, report.unchanged) == (0, 1, 1)
    assert [r["revision"] for r in store.revisions(f"moe:{GDUT}")] == [1, 2]
    assert [r["revision"] for r in store.revisions(f"moe:{SYSU}")] == [1]


# -- all or nothing, skip, dry run, reports --------------------------------------------------------------------

def test_by_default_one_invalid_row_writes_nothing(store: Store, tmp_path: Path) -> None:
    before = snapshot(store)
    path = orgs_csv(tmp_path / "orgs.csv", [["中山大学", SYSU, "university", "440100"],
                                            ["坏数据", "12345", "castle", "999999"]])
    report = import_file(store, path, type_name="organization")
    assert report.refused and not report.committed and report.created == 1 and report.invalid == 1
    assert snapshot(store) == before
    found = {(p["row"], p["column"]) for p in problems(report)}
    assert found == {(3, "pids.moe"), (3, "kind"), (3, "city")}
    assert all(p["reason_zh"] and p["reason"] and p["reason_zh"] != p["reason"] for p in problems(report))


def test_skip_invalid_commits_the_valid_rows_and_reports_the_rest(store: Store, tmp_path: Path) -> None:
    path = orgs_csv(tmp_path / "orgs.csv", [["中山大学", SYSU, "university", "440100"],
                                            ["坏数据", "12345", "", ""]])
    report = import_file(store, path, type_name="organization", skip_invalid=True)
    assert report.committed and not report.refused and (report.created, report.invalid) == (1, 1)
    assert store.counts() == {"organization": 1}


def test_dry_run_validates_everything_and_writes_nothing(store: Store, tmp_path: Path) -> None:
    before = snapshot(store)
    path = orgs_csv(tmp_path / "orgs.csv", [["中山大学", SYSU, "university", "440100"]])
    report = import_file(store, path, type_name="organization", dry_run=True)
    assert report.created == 1 and not report.committed
    assert snapshot(store) == before


@pytest.mark.parametrize("suffix", [".csv", ".json"])
def test_the_report_file_lists_row_column_value_and_both_reasons(store: Store, tmp_path: Path, suffix: str) -> None:
    path = orgs_csv(tmp_path / "orgs.csv", [["中山大学", SYSU, "", "=HYPERLINK(\"x\")"]])
    report = import_file(store, path, type_name="organization")
    out = tmp_path / f"report{suffix}"
    report.write(out)
    if suffix == ".json":
        data = json.loads(out.read_text(encoding="utf-8"))
        assert data["summary"]["refused"] and data["summary"]["invalid"] == 1
        [problem] = data["problems"]
    else:
        rows = list(csv.DictReader(out.read_text(encoding="utf-8-sig").splitlines()))
        [problem] = rows
        problem = {"row": int(problem["行 row"]), "column": problem["列 column"], "value": problem["值 value"],
                   "reason_zh": problem["原因 reason (中文)"], "reason": problem["reason (English)"]}
        assert problem["value"].startswith("'=")  # the report is itself safe to open in a spreadsheet
        problem["value"] = problem["value"][1:]
    assert problem["row"] == 2 and problem["column"] == "city" and problem["value"] == "=HYPERLINK(\"x\")"
    assert "行政区划代码" in problem["reason_zh"] and "division code" in problem["reason"]


# -- empty and header-only files --------------------------------------------------------------------------

@pytest.mark.parametrize("content", [b"", b"\xef\xbb\xbf", b"\r\n\r\n  \r\n"])
def test_an_empty_file_is_refused_clearly(store: Store, tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(content)
    error = refuse("empty_file", import_file, store, path, type_name="organization")
    assert "文件为空" in error.message_zh and "empty" in error.message


@pytest.mark.parametrize("name, content", [("orgs.csv", "name.zh,pids.moe\r\n"), ("orgs.csv", "name.zh,pids.moe\r\n,\r\n"),
                                           ("orgs.json", "[]"), ("orgs.jsonl", "\n\n")])
def test_a_header_only_file_is_refused_clearly(store: Store, tmp_path: Path, name: str, content: str) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    if content.strip() == "":
        refuse("empty_file", import_file, store, path, type_name="organization")
        return
    error = refuse("no_rows", import_file, store, path, type_name="organization")
    assert "没有" in error.message_zh and "no " in error.message
    assert store.counts() == {}


# -- XLSX -----------------------------------------------------------------------------------------------------

def test_xlsx_formulas_import_their_computed_values(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "projects.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["title.zh", "budget_wan"])
    sheet.append(["项目甲", "=100+20"])
    book.save(path)
    _set_cached_value(path, "B2", "120")  # what Excel or WPS stores when it saves
    report = import_file(store, path, type_name="project")
    assert report.created == 1, problems(report)
    assert next(store.iterate("project"))["budget_wan"] == 120
    assert any("公式" in note.zh for note in report.notes)


def test_xlsx_formulas_without_computed_values_are_refused_clearly(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "projects.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["title.zh", "budget_wan"])
    sheet.append(["项目甲", "=100+20"])
    book.save(path)  # openpyxl computes nothing: the formula has no value
    report = import_file(store, path, type_name="project")
    [problem] = problems(report)
    assert problem["row"] == 2 and problem["column"] == "budget_wan" and problem["value"] == "=100+20"
    assert "公式没有计算结果" in problem["reason_zh"] and "formula" in problem["reason"]


def _set_cached_value(path: Path, cell: str, value: str) -> None:
    import re
    import zipfile

    with zipfile.ZipFile(path) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    sheet = files["xl/worksheets/sheet1.xml"].decode()
    sheet = re.sub(rf'(<c r="{cell}"[^>]*>)<f>(.*?)</f>(<v></v>|<v\s*/>)?', rf"\1<f>\2</f><v>{value}</v>", sheet)
    files["xl/worksheets/sheet1.xml"] = sheet.encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)


def test_xlsx_merged_cells_fill_every_cell_of_the_range(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "orgs.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["广州市高校名单"])
    sheet.merge_cells("A1:C1")  # a title row above the header
    sheet.append(["name.zh", "authority", "city"])
    sheet.append(["中山大学", "教育部", "440100"])
    sheet.append(["华南理工大学", None, None])
    sheet.append(["暨南大学", "国务院侨办", None])
    sheet.merge_cells("B3:B4")
    sheet.merge_cells("C3:C5")
    book.save(path)
    report = import_file(store, path, type_name="organization")
    assert report.created == 3, problems(report)
    found = {r["name"]["zh"]: (r.get("authority"), r.get("city")) for r in store.iterate("organization")}
    assert found == {"中山大学": ("教育部", "440100"), "华南理工大学": ("教育部", "440100"),
                     "暨南大学": ("国务院侨办", "440100")}
    notes = " ".join(str(n) for n in report.notes)
    assert "合并单元格" in notes and "标题" in notes


def test_xlsx_with_several_sheets_imports_the_one_named_like_the_type_and_says_so(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "book.xlsx"
    book = openpyxl.Workbook()
    book.active.title = "封面"
    book.active.append(["本工作簿由某市科技局整理"])
    papers = book.create_sheet("论文")
    papers.append(["title.zh"])
    papers.append(["不该导入"])
    orgs = book.create_sheet("机构")
    orgs.append(["name.zh"])
    orgs.append(["中山大学"])
    book.save(path)
    report = import_file(store, path, type_name="organization")
    assert report.sheet == "机构" and report.created == 1
    assert any("导入的是「机构」" in note.zh and "imported '机构'" in note.en for note in report.notes)
    guessed = import_file(store, path)  # no type given: the first sheet named like a type gives it
    assert (guessed.type, guessed.sheet, guessed.created) == ("paper", "论文", 1)
    chosen = import_file(store, path, sheet="论文", type_name="paper")
    assert chosen.created == 1 and chosen.sheet == "论文"


def test_an_old_binary_xls_is_refused_with_advice(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "old.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100)
    error = refuse("unsupported_format", import_file, store, path, type_name="organization")
    assert ".xlsx" in error.message_zh


# -- hostile text ---------------------------------------------------------------------------------------------

def test_html_script_and_sql_are_stored_as_plain_text(store: Store, tmp_path: Path) -> None:
    hostile = ["<script>alert('x')</script>中山大学", "<b>华工</b>' OR 1=1; --", "'); DROP TABLE records; --"]
    path = write_csv(tmp_path / "orgs.csv", [["name.zh", "keywords"], *[[h, "a;<i>b</i>"] for h in hostile]])
    report = import_file(store, path, type_name="organization")
    assert report.created == 3
    names = sorted(r["name"]["zh"] for r in store.iterate("organization"))
    assert names == sorted(hostile)
    assert store.counts() == {"organization": 3}


# -- relations -----------------------------------------------------------------------------------------------

def test_relation_columns_resolve_pids_ids_and_names_with_roles(store: Store, tmp_path: Path) -> None:
    seed_units(store)
    gdut_id = store.resolve(f"moe:{GDUT}")
    path = write_csv(tmp_path / "platforms.csv", [
        ["name.zh", "牵头单位 (lead_unit)", "partner_unit", "hosts.subject"],
        ["协同创新中心甲", f"moe:{SYSU}[牵头单位]", f"{gdut_id}[协同单位, rank=1, from=2016-04];中山大学[协同单位, rank=2]",
         "广东工业大学"]])
    report = import_file(store, path, type_name="platform")
    assert report.created == 1, problems(report)
    platform = next(store.iterate("platform"))
    sysu = store.resolve(f"moe:{SYSU}")
    assert platform["relations"] == [
        {"predicate": "lead_unit", "object": sysu, "role": "牵头单位"},
        {"predicate": "partner_unit", "object": gdut_id, "role": "协同单位", "rank": 1, "from": "2016-04"},
        {"predicate": "partner_unit", "object": sysu, "role": "协同单位", "rank": 2},
        {"predicate": "hosts", "subject": gdut_id}]


def test_a_reference_to_nothing_is_reported_at_its_row_and_column(store: Store, tmp_path: Path) -> None:
    seed_units(store)
    path = write_csv(tmp_path / "platforms.csv", [["name.zh", "lead_unit"], ["中心甲", f"moe:{SYSU}"],
                                                  ["中心乙", "moe:4144099999[牵头单位]"]])
    report = import_file(store, path, type_name="platform")
    assert report.refused
    [problem] = problems(report)
    assert (problem["row"], problem["column"], problem["value"]) == (3, "lead_unit", "moe:4144099999[牵头单位]")
    assert "找不到记录" in problem["reason_zh"]
    assert store.counts() == {"organization": 2}


def test_a_name_reference_to_several_records_is_ambiguous(store: Store, tmp_path: Path) -> None:
    store.upsert({"type": "organization", "name": {"zh": "理工学院"}, "city": "440100"})
    store.upsert({"type": "organization", "name": {"zh": "理工学院"}, "city": "441900"})
    path = write_csv(tmp_path / "platforms.csv", [["name.zh", "lead_unit"], ["中心甲", "理工学院"],
                                                  ["中心乙", "没有这个单位"]])
    report = import_file(store, path, type_name="platform")
    first, second = problems(report)
    assert first["row"] == 2 and "对应多条记录" in first["reason_zh"] and "names 2 records" in first["reason"]
    assert second["row"] == 3 and "找不到名为" in second["reason_zh"]


def test_a_relation_of_the_wrong_type_is_reported(store: Store, tmp_path: Path) -> None:
    store.upsert({"type": "paper", "title": {"zh": "论文甲"}, "pids": {"csl": "x-1"}})
    path = write_csv(tmp_path / "platforms.csv", [["name.zh", "lead_unit"], ["中心甲", "csl:x-1"]])
    [problem] = problems(import_file(store, path, type_name="platform"))
    assert problem["column"] == "lead_unit" and "lead_unit" in problem["reason"]


def test_a_reference_to_a_row_further_down_the_file_resolves(store: Store, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "orgs.csv", [["name.zh", "pids.ref", "member_of"],
                                             ["中山大学附属第一医院", "sysu-h1", "ref:sysu"],
                                             ["中山大学", "sysu", ""]])
    report = import_file(store, path, type_name="organization", batch_size=1)
    assert report.created == 2 and report.committed, problems(report)
    hospital = store.get("ref:sysu-h1")
    assert hospital["relations"] == [{"predicate": "member_of", "object": store.resolve("ref:sysu")}]


# -- JSON and JSONL -----------------------------------------------------------------------------------------

def test_jsonl_lines_that_are_not_json_are_reported_by_line(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "orgs.jsonl"
    path.write_text('{"type": "organization", "name": {"zh": "中山大学"}}\n{"name": broken\n'
                    '{"type": "organization", "name": {"zh": "暨南大学"}, "colour": "red"}\n', encoding="utf-8")
    report = import_file(store, path, skip_invalid=True)
    assert (report.created, report.invalid) == (2, 1)
    assert problems(report)[0]["row"] == 2 and "JSON" in problems(report)[0]["reason_zh"]
    assert report.warnings[0].column == "colour"


def test_a_json_array_is_streamed_and_may_hold_flat_or_nested_records(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "records.json"
    path.write_text(json.dumps([{"type": "organization", "name": {"zh": "中山大学"}, "pids": {"moe": SYSU}},
                                {"type": "organization", "name.zh": "广东工业大学", "pids.moe": GDUT,
                                 "keywords": "工科;广州"}], ensure_ascii=False), encoding="utf-8")
    report = import_file(store, path)
    assert report.created == 2, problems(report)
    assert store.get(f"moe:{GDUT}")["keywords"] == ["工科", "广州"]


def test_malformed_json_is_refused(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "records.json"
    path.write_text('[{"type": "organization", "name": {"zh": "甲"}}, {"type": ', encoding="utf-8")
    error = refuse("bad_json", import_file, store, path)
    assert "JSON" in error.message_zh
    assert store.counts() == {}


def test_a_file_whose_type_cannot_be_told_asks_for_type(store: Store, tmp_path: Path) -> None:
    path = orgs_csv(tmp_path / "orgs.csv", [["中山大学", SYSU, "", ""]])
    error = refuse("type_unknown", import_file, store, path)
    assert "--type" in error.message_zh


def test_node_option_stamps_records_and_must_be_an_adcode(store: Store, tmp_path: Path) -> None:
    path = orgs_csv(tmp_path / "orgs.csv", [["中山大学", SYSU, "", ""]])
    import_file(store, path, type_name="organization", node="440100")
    assert store.get(f"moe:{SYSU}")["node"] == "440100"
    refuse("bad_node", import_file, store, path, type_name="organization", node="广州")


# -- export ----------------------------------------------------------------------------------------------------

def test_csv_and_xlsx_exports_neutralise_formula_cells(store: Store, tmp_path: Path) -> None:
    store.upsert({"type": "organization", "name": {"zh": "=cmd|' /C calc'!A0"}, "aliases": ["+1", "@SUM(1)"],
                  "address": "-2+3", "pids": {"moe": SYSU}})
    export_records(store, "organization", "csv", tmp_path / "orgs.csv")
    rows = list(csv.DictReader((tmp_path / "orgs.csv").read_text(encoding="utf-8-sig").splitlines()))
    assert rows[0]["中文名称 (name.zh)"] == "'=cmd|' /C calc'!A0"
    assert rows[0]["地址 (address)"] == "'-2+3" and rows[0]["别名 (aliases)"] == "'+1;@SUM(1)"
    export_records(store, "organization", "xlsx", tmp_path / "orgs.xlsx")
    sheet = openpyxl.load_workbook(tmp_path / "orgs.xlsx").active
    header = [c.value for c in sheet[1]]
    cell = sheet.cell(2, header.index("中文名称 (name.zh)") + 1)
    assert cell.value == "'=cmd|' /C calc'!A0" and cell.data_type == "s"
    # and they import back as written
    again = import_file(store, tmp_path / "orgs.xlsx")
    assert (again.unchanged, again.created) == (1, 0), problems(again)


def test_exported_relations_name_related_records_by_identifier_or_by_id(store: Store, tmp_path: Path) -> None:
    seed_units(store)
    path = write_csv(tmp_path / "platforms.csv", [["name.zh", "lead_unit"], ["中心甲", f"moe:{SYSU}[牵头单位]"]])
    import_file(store, path, type_name="platform")
    export_records(store, "platform", "csv", tmp_path / "by-pid.csv", header="key")
    [row] = csv.DictReader((tmp_path / "by-pid.csv").read_text(encoding="utf-8-sig").splitlines())
    assert row["lead_unit"] == f"moe:{SYSU}[牵头单位]"  # another node holding 中山大学 under its own id can import it
    export_records(store, "platform", "csv", tmp_path / "by-id.csv", header="key", references="id")
    [row] = csv.DictReader((tmp_path / "by-id.csv").read_text(encoding="utf-8-sig").splitlines())
    assert row["lead_unit"] == f"{store.resolve(f'moe:{SYSU}')}[牵头单位]"


def test_export_filters_with_the_list_grammar(store: Store, tmp_path: Path) -> None:
    seed_units(store)
    store.upsert({"type": "organization", "name": {"zh": "深圳大学"}, "city": "440300"})
    report = export_records(store, "organization", "jsonl", tmp_path / "gz.jsonl", filter="city:440100")
    assert report.count == 2
    names = {json.loads(line)["name"]["zh"] for line in (tmp_path / "gz.jsonl").read_text(encoding="utf-8").splitlines()}
    assert names == {"中山大学", "广东工业大学"}
    with pytest.raises(ZhulianError):
        export_records(store, "organization", "csv", tmp_path / "x.csv", filter="colour:red")


def test_city_names_clerks_type_are_stored_as_their_codes(store: Store, tmp_path: Path) -> None:
    """Every Guangdong sheet says 广州市, not 440100: names, short names, English and district names all import."""
    path = tmp_path / "机构.csv"
    path.write_text("name.zh,kind,city\n广州测试所,institute,广州市\n深圳测试所,institute,深圳\n"
                    "香港测试所,institute,香港\n番禺测试所,institute,番禺区\n英文测试所,institute,Guangzhou\n",
                    encoding="utf-8")
    report = import_file(store, path, type_name="organization")
    assert report.committed and report.created == 5
    cities = {r["name"]["zh"]: r["city"] for r in store.query("organization", limit=10).results}
    assert cities == {"广州测试所": "440100", "深圳测试所": "440300", "香港测试所": "810000", "番禺测试所": "440113",
                      "英文测试所": "440100"}


def test_a_place_name_that_is_unknown_is_refused_with_what_to_write_instead() -> None:
    with pytest.raises(ZhulianError) as refused:
        validate_record({"type": "organization", "name": {"zh": "测试"}, "city": "火星市"})
    [problem] = refused.value.details
    assert problem.field == "city" and "440100" in problem.reason_zh and "广州市" in problem.reason_zh
