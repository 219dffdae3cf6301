"""Blank templates: the header row of a type, one example row, and (XLSX) a notes sheet saying what each
column means, whether it is required and which values it takes."""

from __future__ import annotations

from pathlib import Path
from typing import IO, Any

from zhulian.exchange.flat import (
    READ_ONLY,
    Leaf,
    group_leaf,
    layout,
    relation_columns,
    relation_leaf,
    type_label,
)
from zhulian.exchange.formats import NOTES_SHEET, TableWriter
from zhulian.model import PREDICATES, RECORD_TYPES, TYPE_LABELS
from zhulian.model.common import CHOICES

# Relations a record naturally declares from the object's side (a patent names its applicants).
SUBJECT_SIDE = ("author_of", "inventor_of", "applicant_of", "owner_of", "hosts")

def template_columns(type_name: str) -> list[Leaf]:
    """The columns a blank template of a type has, in order."""
    the_layout = layout(type_name)
    columns = [leaf for key, leaf in the_layout.static.items() if key not in READ_ONLY]
    for group in the_layout.groups.values():
        columns += [group_leaf(group, 0, sub) for sub in group.leaves]
    columns += relation_columns(type_name)
    for predicate in SUBJECT_SIDE:
        if type_name in PREDICATES[predicate][1]:
            columns.append(relation_leaf(predicate, "subject"))
    return columns


def example_row(type_name: str) -> dict[str, str]:
    """The example row the type's declaration gives (``RecordType.example``)."""
    return {"type": type_name, **RECORD_TYPES[type_name].example}


def describe(leaf: Leaf, type_name: str) -> tuple[str, str]:
    """What a column takes, in Chinese and in English."""
    many_zh, many_en = ("；多个值用英文分号 ; 分隔", "; several values separated by ;") if leaf.many else ("", "")
    kind = leaf.kind
    if kind == "choice" and leaf.choices:
        options = CHOICES[leaf.choices]
        zh = "取值：" + "、".join(f"{code}（{label_zh}）" for code, (label_zh, _en) in options.items()) + \
            "；填代码或中文、英文名称均可"
        en = "one of: " + ", ".join(f"{code} ({label_en})" for code, (_zh, label_en) in options.items()) + \
            "; the code or its Chinese or English name"
        return zh + many_zh, en + many_en
    text = {
        "text": ("文本", "text"),
        "date": ("日期：2016-04-01、2016-04 或 2016；也可写作 2016年4月1日、2016/4/1、2016.4",
                 "a date: 2016-04-01, 2016-04 or 2016; also 2016年4月1日, 2016/4/1, 2016.4"),
        "adcode": ("GB/T 2260 行政区划代码，如 440100（广州）、440300（深圳）、810000（香港）",
                   "a GB/T 2260 division code, e.g. 440100 (Guangzhou), 440300 (Shenzhen), 810000 (Hong Kong)"),
        "url": ("以 http:// 或 https:// 开头的网址", "a web address starting with http:// or https://"),
        "integer": ("整数", "a whole number"),
        "number": ("数字；可带单位，如 3%、25件（单位存入 unit）", "a number; may carry a unit such as 3% or 25件"),
        "amount": ("金额，单位万元；也可写 12.5万元、1.2亿元、3000元", "money in 10k CNY; 12.5万元, 1.2亿元, 3000元 also work"),
        "bool": ("是 / 否（true / false）", "yes / no (是 / 否, true / false)"),
        "pid": ("外部标识，按该方案的规则校验", "an external identifier, checked by its scheme's rules"),
        "relation": ("引用其他记录：记录编号（org_01…）、方案:值（如 moe:4144010558）或库中已有记录的准确名称；多个用 ; 分隔；"
                     "属性写在方括号内：[角色, rank=1, from=2016, to=2020]",
                     "references to other records: an id (org_01…), scheme:value (moe:4144010558) or the exact name of "
                     "a record already stored; several separated by ;; attributes in brackets: "
                     "[role, rank=1, from=2016, to=2020]"),
        "id": ("记录编号：留空则按外部标识匹配或新建；填写则更新该记录", "the record id: empty to match by identifier or "
               "create; given to update that record"),
        "type": (f"类型，固定为 {type_name}（{TYPE_LABELS[type_name][0]}）", f"the type, always {type_name}"),
        "read_only": ("导出时写出，导入时忽略", "written on export, ignored on import"),
    }[kind]
    zh, en = text
    if leaf.max_length and kind == "text":
        zh, en = f"{zh}，最多 {leaf.max_length} 字", f"{en}, at most {leaf.max_length} characters"
    return zh + many_zh, en + many_en


def required_text(leaf: Leaf) -> str:
    return {"yes": "必填 required", "one_of": "至少填一种语言 one language at least",
            "in_item": "填写该项目标时必填 required within an item"}.get(leaf.required, "")


GENERAL_NOTES = [
    ("表头", "header", "第一行是表头：中文名称后括号内为字段键；导入时两种写法都认。",
     "The first row is the header: a Chinese label with the field key in brackets; import accepts either."),
    ("示例行", "example row", "第二行是示例，导入时若原样保留会被跳过；请删除或改成真实数据。",
     "The second row is an example; left unchanged it is skipped on import. Replace or delete it."),
    ("多值", "lists", "多个值写在一格内，用英文分号 ; 分隔；值内本身的 ; 写作 \\;。",
     "Several values share one cell, separated by ; (a ; inside a value is written \\;)."),
    ("关系", "relations", "关系列以关系名命名（如 lead_unit 牵头单位），填写被引用记录的编号、方案:值或准确名称；"
     "“关系名.subject”列表示本记录是关系的客体（如仪器的 hosts.subject 为其依托单位）。属性写在方括号内，"
     "如 moe:4144010558[牵头单位, rank=1]。",
     "A relation column is named by its predicate and holds references (id, scheme:value or exact name); a "
     "<predicate>.subject column lists the records pointing to this one. Attributes go in brackets."),
    ("量化目标", "targets", "政策的多个目标按序号编号：targets.0.indicator、targets.1.indicator……",
     "A policy's targets are numbered: targets.0.indicator, targets.1.indicator, …"),
    ("更新", "updates", "按编号（id）或任一外部标识（pids.*）匹配已有记录；再次导入同一文件不会产生新版本。",
     "Rows match stored records by id or any identifier; importing the same file again changes nothing."),
    ("编码", "encoding", "CSV 可为 UTF-8（可带 BOM）、GBK 或 GB18030；建议 UTF-8。",
     "CSV may be UTF-8 (with or without BOM), GBK or GB18030; UTF-8 is preferred."),
]


def notes_rows(type_name: str) -> list[list[Any]]:
    example = example_row(type_name)
    rows: list[list[Any]] = [["列 column", "字段键 key", "含义 meaning", "必填 required", "格式与取值（中文）",
                              "format and values", "示例 example"]]
    for leaf in template_columns(type_name):
        zh, en = describe(leaf, type_name)
        meaning = f"{leaf.label_zh} / {leaf.label_en}" if leaf.label_en else leaf.label_zh
        rows.append([leaf.header, leaf.key, meaning, required_text(leaf), zh, en, example.get(leaf.key, "")])
    rows.append([])
    rows.append(["其他列 other columns", "", "", "", "", "", ""])
    rows.append(["外部标识 (pids.方案)", "pids.<scheme>", "任一方案的外部标识 / any identifier scheme", "",
                 "如 pids.uscc、pids.doi、pids.cstr", "e.g. pids.uscc, pids.doi, pids.cstr", ""])
    for leaf in relation_columns(type_name, both=True):
        if leaf.end == "subject" and leaf.predicate not in SUBJECT_SIDE:
            zh, en = describe(leaf, type_name)
            rows.append([leaf.header, leaf.key, f"{leaf.label_zh} / {leaf.label_en}", "", zh, en, ""])
    for key in READ_ONLY:
        leaf = layout(type_name).static[key]
        zh, en = describe(leaf, type_name)
        rows.append([leaf.header, leaf.key, f"{leaf.label_zh} / {leaf.label_en}", "", zh, en, ""])
    rows.append([])
    rows.append(["说明 notes", "", "", "", "", "", ""])
    for zh_title, en_title, zh, en in GENERAL_NOTES:
        rows.append([f"{zh_title} {en_title}", "", "", "", zh, en, ""])
    return rows


def write_template(type_name: str, fmt: str, target: Path | IO[bytes]) -> list[Leaf]:
    """Write a blank template of a type as CSV (UTF-8 with BOM, which Excel opens correctly) or XLSX."""
    columns = template_columns(type_name)
    example = example_row(type_name)
    widths = [max(12, min(40, len(leaf.header) + 4)) for leaf in columns]
    writer = TableWriter(target, fmt, sheet=type_label(type_name), widths=widths)
    writer.header([leaf.header for leaf in columns])
    writer.row([example.get(leaf.key, "") for leaf in columns])
    writer.extra_sheet(NOTES_SHEET, notes_rows(type_name), widths=[28, 22, 30, 16, 60, 60, 30])
    writer.close()
    return columns
