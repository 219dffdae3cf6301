"""The flat form of the model: the columns a CSV or XLSX sheet of one type has, and the conversion between a
record (nested JSON, as the store keeps it) and a row of cells.

Conventions (also written into every template's notes sheet):

* a nested field is a dotted key: ``name.zh``, ``description.en``, ``booking.open``;
* identifiers are one column per scheme: ``pids.uscc``, ``pids.moe``;
* a list of values is one cell, items joined with ``;`` (a ``;`` or ``\\`` inside an item is written ``\\;`` or
  ``\\\\``);
* a list of structured items (a policy's ``targets``) is numbered: ``targets.0.indicator``, ``targets.1.value``;
* a relation is one column per predicate, holding references to other records (an id such as
  ``org_01J…``, an identifier such as ``moe:4144010558``, or the exact name of a record already in the
  store), ``;``-separated, each optionally followed by its attributes in brackets:
  ``moe:4144010558[牵头单位]`` or ``org_01…[协同单位, rank=2, from=2016-04, to=2020]``. The column
  ``<predicate>`` lists the records this one points to (it is the subject); ``<predicate>.subject`` lists
  the records that point to this one (it is the object, e.g. a lab's ``hosts.subject`` is its host);
* ``revision``, ``created`` and ``updated`` are written on export and ignored on import.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from zhulian.model import MODELS, PREDICATES, RECORD_TYPES, TYPE_LABELS
from zhulian.model.common import CHOICES, MAX_LIST
from zhulian.model.ids import PID_SCHEME_PATTERN
from zhulian.model.pids import SCHEMES

READ_ONLY = ("revision", "created", "updated")
LIST_SEPARATOR = ";"
RELATION_ATTRIBUTES = ("role", "rank", "from", "to")
_CJK = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f（）]")


def split_title(title: str | None) -> tuple[str, str]:
    """A field title such as ``"专利号 number"`` as its Chinese and English parts."""
    title = (title or "").strip()
    last = None
    for match in _CJK.finditer(title):
        last = match
    if last is None:
        return "", title
    return title[: last.end()].strip(), title[last.end():].strip()


@dataclass(frozen=True)
class Leaf:
    """One column of the flat form."""

    key: str
    kind: str  # text | date | adcode | url | choice | integer | number | amount | bool | pid | relation | type | id | read_only
    path: tuple[Any, ...]
    label_zh: str = ""
    label_en: str = ""
    many: bool = False
    required: str = ""  # "" | "yes" | "one_of" (one of a group, e.g. name.zh/name.en/name.zh_hant) | "in_item"
    choices: str | None = None
    predicate: str | None = None
    end: str | None = None  # relation columns: "object" (this record is the subject) or "subject"
    max_length: int | None = None

    @property
    def header(self) -> str:
        """What a template writes: the Chinese label with the key beside it."""
        return f"{self.label_zh} ({self.key})" if self.label_zh else self.key

    @property
    def is_text(self) -> bool:
        return self.kind in ("text", "date", "adcode", "url", "choice", "pid", "relation", "type", "id")

    @property
    def unit(self) -> str:
        """The part of a record this column changes on its own (``zhulian.store.store.field_units``): a
        field, one key of an object field (``name.en``), or the relations of one predicate."""
        if self.kind == "relation":
            return f"relations.{self.predicate}"
        if len(self.path) > 1 and isinstance(self.path[1], str):
            return f"{self.path[0]}.{self.path[1]}"
        return str(self.path[0])

    @property
    def clearable(self) -> bool:
        """Whether an empty cell may clear the field (with ``--clear-empty``): not the type or the id."""
        return self.kind not in ("type", "id", "read_only")


@dataclass(frozen=True)
class Group:
    """A list of structured items flattened with an index: ``targets.0.indicator``."""

    name: str
    label_zh: str
    label_en: str
    leaves: tuple[Leaf, ...]  # keyed by the sub-field name (``indicator``), path relative to the item


@dataclass
class Layout:
    """Every column a type can have in the flat form."""

    type: str
    static: dict[str, Leaf]  # in display order
    groups: dict[str, Group] = field(default_factory=dict)
    by_label: dict[str, str] = field(default_factory=dict)

    def leaf(self, key: str) -> Leaf | None:
        """The column a key names, static or dynamic; None when the type has no such column."""
        found = self.static.get(key)
        if found is not None:
            return found
        return _dynamic_leaf(self, key)


def _unwrap(annotation: Any) -> tuple[Any, list[Any]]:
    metadata: list[Any] = []
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            base, *extra = typing.get_args(annotation)
            metadata.extend(extra)
            annotation = base
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            annotation = args[0] if len(args) == 1 else annotation
            if len(args) != 1:
                return annotation, metadata
        else:
            return annotation, metadata


def _validator_names(metadata: list[Any]) -> set[str]:
    names = set()
    for item in metadata:
        func = getattr(item, "func", None)
        if func is not None:
            names.add(getattr(func, "__name__", ""))
        for sub in getattr(item, "metadata", None) or ():
            func = getattr(sub, "func", None)
            if func is not None:
                names.add(getattr(func, "__name__", ""))
    return names


def _max_length(metadata: list[Any]) -> int | None:
    for item in metadata:
        for candidate in [item, *(getattr(item, "metadata", None) or ())]:
            if getattr(candidate, "max_length", None) is not None:
                return candidate.max_length
    return None


def _scalar_kind(annotation: Any, metadata: list[Any], key: str) -> tuple[str, str | None]:
    annotation, more = _unwrap(annotation)
    metadata = metadata + more
    if typing.get_origin(annotation) is typing.Literal:
        options = typing.get_args(annotation)
        for name, choices in CHOICES.items():
            if tuple(choices) == options:
                return "choice", name
        return "choice", None
    if annotation is bool:
        return "bool", None
    if annotation is int:
        return "integer", None
    if annotation is float:
        return ("amount" if key.endswith("_wan") else "number"), None
    names = _validator_names(metadata)
    if "_check_flex_date" in names:
        return "date", None
    if "_check_url" in names:
        return "url", None
    if "_check_adcode" in names:
        return "adcode", None
    return "text", None


def _walk(fields: dict[str, FieldInfo], prefix: tuple[Any, ...], parent_zh: str, parent_en: str, multilang: bool,
          required_parent: bool) -> list[Leaf]:
    """The leaves under some fields of a model, nested models flattened into dotted keys."""
    leaves = []
    for name, info in fields.items():
        key = ".".join(str(p) for p in (*prefix, name))
        zh, en = split_title(info.title)
        if multilang:
            lang_zh = {"zh": "中文", "en": "英文", "zh_hant": "繁体"}.get(name, zh)
            lang_en = {"zh": "Chinese", "en": "English", "zh_hant": "traditional Chinese"}.get(name, en)
            zh, en = f"{lang_zh}{parent_zh}", f"{parent_en} ({lang_en})"
        elif parent_zh:
            zh, en = f"{parent_zh}·{zh}", f"{parent_en}: {en}"
        required = ("one_of" if multilang and required_parent else "yes" if info.is_required() else "")
        annotation, metadata = _unwrap(info.annotation)
        metadata = list(info.metadata) + metadata
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            from zhulian.model.common import MultiLang, MultiLangText

            leaves += _walk(annotation.model_fields, (*prefix, name), zh, en,
                            issubclass(annotation, (MultiLang, MultiLangText)), info.is_required())
            continue
        many = typing.get_origin(annotation) is list
        item = typing.get_args(annotation)[0] if many else annotation
        kind, choices = _scalar_kind(item, [] if many else metadata, name)
        item_metadata = _unwrap(item)[1] if many else metadata
        leaves.append(Leaf(key, kind, (*prefix, name), zh, en, many, required, choices,
                           max_length=_max_length(item_metadata)))
    return leaves


_SKIP = {"id", "type", "pids", "relations", "revision", "created", "updated", "deleted"}
_ENVELOPE_TAIL = ("aliases", "city", "node", "access", "description", "keywords")


@cache
def layout(type_name: str) -> Layout:
    """The columns of a type, in the order templates and exports write them."""
    model = MODELS[type_name]
    own = {name: info for name, info in model.model_fields.items() if name not in _SKIP}
    first = [n for n in own if n in ("name", "title")]
    middle = [n for n in own if n not in first and n not in _ENVELOPE_TAIL]
    ordered = first + middle + [n for n in _ENVELOPE_TAIL if n in own]

    static: dict[str, Leaf] = {
        "id": Leaf("id", "id", ("id",), "编号", "id"),
        "type": Leaf("type", "type", ("type",), "类型", "type"),
    }
    groups: dict[str, Group] = {}

    for name in ordered:
        info = own[name]
        annotation, _ = _unwrap(info.annotation)
        if typing.get_origin(annotation) is list:
            item = _unwrap(typing.get_args(annotation)[0])[0]
            if isinstance(item, type) and issubclass(item, BaseModel):
                zh, en = split_title(info.title)
                sub = tuple(Leaf(s.key, s.kind, s.path, s.label_zh, s.label_en, s.many,
                                 "in_item" if s.required else "", s.choices, max_length=s.max_length)
                            for s in _walk(item.model_fields, (), "", "", False, False))
                groups[name] = Group(name, zh, en, sub)
                continue
        for leaf in _walk({name: info}, (), "", "", False, False):
            static[leaf.key] = leaf
        if first and name == first[0]:
            for scheme in RECORD_TYPES[type_name].pid_schemes:
                pid = pid_leaf(scheme)
                static[pid.key] = pid
    for key in READ_ONLY:
        zh, en = split_title(MODELS[type_name].model_fields[key].title)
        static[key] = Leaf(key, "read_only", (key,), zh, en)
    result = Layout(type_name, static, groups)
    extra = [*relation_columns(type_name, both=True), *(pid_leaf(scheme) for scheme in SCHEMES)]
    for leaf in [*static.values(), *extra]:
        if leaf.label_zh:
            result.by_label.setdefault(re.sub(r"\s+", "", leaf.label_zh), leaf.key)
    return result


def pid_leaf(scheme: str) -> Leaf:
    known = SCHEMES.get(scheme)
    zh = known.label_zh if known else f"外部标识 {scheme}"
    en = known.label_en if known else f"identifier {scheme}"
    return Leaf(f"pids.{scheme}", "pid", ("pids", scheme), zh, en)


def relation_leaf(predicate: str, end: str) -> Leaf:
    _subjects, _objects, zh, en = PREDICATES[predicate]
    if end == "object":
        return Leaf(predicate, "relation", ("relations",), zh, en, True, predicate=predicate, end="object")
    return Leaf(f"{predicate}.subject", "relation", ("relations",), f"{zh}（主体）", f"{en} (subject)", True,
                predicate=predicate, end="subject")


def relation_columns(type_name: str, *, both: bool = False) -> list[Leaf]:
    """Relation columns for a type: those where it is the subject; with ``both`` also those where it is
    the object."""
    columns = []
    for predicate, (subjects, _objects, _zh, _en) in PREDICATES.items():
        if type_name in subjects:
            columns.append(relation_leaf(predicate, "object"))
    if both:
        for predicate, (_subjects, objects, _zh, _en) in PREDICATES.items():
            if type_name in objects:
                columns.append(relation_leaf(predicate, "subject"))
    return columns


_INDEXED = re.compile(r"^([a-z_]+)\.(\d{1,3})\.([a-z_][a-z0-9_.]*)$")


def group_leaf(group: Group, index: int, sub: Leaf) -> Leaf:
    return Leaf(f"{group.name}.{index}.{sub.key}", sub.kind, (group.name, index, *sub.path),
                f"{group.label_zh}{index + 1}·{sub.label_zh}", f"{group.label_en} #{index + 1}: {sub.label_en}",
                sub.many, sub.required, sub.choices, max_length=sub.max_length)


def _dynamic_leaf(layout_: Layout, key: str) -> Leaf | None:
    if key.startswith("pids."):
        scheme = key[5:]
        return pid_leaf(scheme) if PID_SCHEME_PATTERN.match(scheme) else None
    predicate, _, end = key.partition(".")
    if predicate in PREDICATES and end in ("", "object", "subject"):
        return relation_leaf(predicate, end if end == "subject" else "object")
    match = _INDEXED.match(key)
    if match and match[1] in layout_.groups and int(match[2]) < MAX_LIST:
        group = layout_.groups[match[1]]
        for sub in group.leaves:
            if sub.key == match[3]:
                return group_leaf(group, int(match[2]), sub)
    return None


_HEADER_KEY = re.compile(r"[（(]\s*([A-Za-z_][A-Za-z0-9_.]*)\s*[)）]\s*$")


def header_key(layout_: Layout, header: Any) -> str | None:
    """The key a header cell names: the key itself, ``label (key)``, or a Chinese label alone."""
    if header is None:
        return None
    text = str(header).replace("\ufeff", "").strip()
    if not text:
        return None
    candidates = [text, text.lower()]
    match = _HEADER_KEY.search(text)
    if match:
        candidates.insert(0, match[1])
    for candidate in candidates:
        if layout_.leaf(candidate) is not None:
            return candidate
    compact = re.sub(r"\s+", "", text)
    if compact in layout_.by_label:
        return layout_.by_label[compact]
    if text in layout_.by_label:
        return layout_.by_label[text]
    return None


# -- cells -------------------------------------------------------------------------------------------

def escape_item(text: str, specials: str = ";") -> str:
    out = []
    for char in text:
        if char == "\\" or char in specials:
            out.append("\\")
        out.append(char)
    return "".join(out)


def split_items(cell: str, separator: str = ";") -> list[str]:
    """A list cell as its items: split on ``;`` (not ``\\;``), items stripped, empty ones dropped.
    Brackets group: a ``;`` inside ``[...]`` does not split."""
    if "\\" not in cell and "[" not in cell:
        return [part for part in map(str.strip, cell.split(separator)) if part]
    items, current, depth, index = [], [], 0, 0
    while index < len(cell):
        char = cell[index]
        if char == "\\" and index + 1 < len(cell) and cell[index + 1] in ("\\", separator, "[", "]", ","):
            current.append(cell[index:index + 2])
            index += 2
            continue
        if char == "[":
            depth += 1
        elif char == "]" and depth:
            depth -= 1
        if char == separator and depth == 0:
            items.append("".join(current))
            current = []
        else:
            current.append(char)
        index += 1
    items.append("".join(current))
    return [item.strip() for item in items if item.strip()]


def unescape(text: str) -> str:
    if "\\" not in text:
        return text
    return re.sub(r"\\([\\;\[\],])", r"\1", text)


def join_items(items: list[Any]) -> str:
    return LIST_SEPARATOR.join(escape_item(str(item)) for item in items)


class RelationSyntaxError(ValueError):
    def __init__(self, reason: str, reason_zh: str) -> None:
        super().__init__(reason)
        self.reason, self.reason_zh = reason, reason_zh


def parse_relation_item(item: str) -> dict[str, Any]:
    """``moe:4144010558[牵头单位, rank=1, from=2016]`` as ``{ref, role, rank, from, to}``."""
    ref_part, attrs = item, None
    position = _unescaped_index(item, "[")
    if position is not None:
        if not item.rstrip().endswith("]") or item.rstrip().endswith("\\]"):
            raise RelationSyntaxError(f"unclosed attribute bracket in {item!r}", f"“{item}”中的方括号未闭合")
        ref_part, attrs = item[:position], item[position + 1: len(item.rstrip()) - 1]
    result: dict[str, Any] = {"ref": unescape(ref_part.strip())}
    if not result["ref"]:
        raise RelationSyntaxError(f"a reference is missing before the brackets in {item!r}",
                                  f"“{item}”中方括号前缺少引用")
    if attrs:
        for part in split_items(attrs, ","):
            name, sep, value = part.partition("=")
            name = name.strip()
            if sep and name in RELATION_ATTRIBUTES:
                if name in result:
                    raise RelationSyntaxError(f"{name} is given twice in {item!r}", f"“{item}”中 {name} 重复")
                result[name] = unescape(value.strip())
            elif "role" not in result:
                result["role"] = unescape(part)
            else:
                raise RelationSyntaxError(
                    f"attributes in brackets are a role and then rank=, from=, to=; got {part!r} in {item!r}",
                    f"方括号内依次为角色及 rank=、from=、to=；“{item}”中的“{part}”无法识别")
    return result


def _unescaped_index(text: str, char: str) -> int | None:
    index = 0
    while index < len(text):
        if text[index] == "\\":
            index += 2
            continue
        if text[index] == char:
            return index
        index += 1
    return None


def format_relation_item(relation: dict[str, Any], ref: str) -> str:
    specials = ";[],"
    text = escape_item(ref, specials)
    attrs = []
    role = relation.get("role")
    if role is not None:
        role_text = escape_item(str(role), specials)
        head = role_text.split("=", 1)[0].strip()
        attrs.append(f"role={role_text}" if "=" in role_text and head in RELATION_ATTRIBUTES else role_text)
    for name in ("rank", "from", "to"):
        if relation.get(name) is not None:
            attrs.append(f"{name}={escape_item(str(relation[name]), specials)}")
    return text + (f"[{', '.join(attrs)}]" if attrs else "")


# -- neutralising cells a spreadsheet would run as a formula ---------------------------------------------

# A spreadsheet runs a cell as a formula when it starts with = + - @ (or their full-width forms, which some
# spreadsheets fold), also after leading spaces, or with a tab or carriage return (OWASP CSV injection).
_FORMULA_LIKE = re.compile(r"^'*(?:\s*[=+\-@＝＋－＠]|[\t\r])")


def neutralise(text: str) -> str:
    """``=1+1`` → ``'=1+1``: a spreadsheet shows it as text instead of running it. Reversed by
    ``unneutralise`` so that an export imports back unchanged."""
    return "'" + text if _FORMULA_LIKE.match(text) else text


def unneutralise(text: str) -> str:
    return text[1:] if text.startswith("'") and _FORMULA_LIKE.match(text[1:]) else text


# -- record -> cells ---------------------------------------------------------------------------------

def cell_text(value: Any) -> str:
    """A typed cell value (from XLSX or JSON) as the text a CSV would hold."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isfinite(value) and value == int(value) and abs(value) < 1e16:
            return str(int(value))
        return repr(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0, 0):
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return str(value)


def flatten(record: dict[str, Any], layout_: Layout, reference: Callable[[str], str] | None = None) -> dict[str, Any]:
    """A stored record as cells keyed by column: text for text columns; numbers and booleans as such.
    ``reference`` turns the id a relation holds into the reference written (e.g. the record's pid)."""
    cells: dict[str, Any] = {}
    for leaf in layout_.static.values():
        if leaf.kind == "pid":
            continue
        value = _get(record, leaf.path)
        if value is None or value == []:
            continue
        cells[leaf.key] = join_items(value) if leaf.many else value
    for scheme, value in (record.get("pids") or {}).items():
        cells[f"pids.{scheme}"] = value
    for name, group in layout_.groups.items():
        for index, item in enumerate(record.get(name) or []):
            for sub in group.leaves:
                value = _get(item, sub.path)
                if value is None or value == []:
                    continue
                cells[f"{name}.{index}.{sub.key}"] = join_items(value) if sub.many else value
    relation_cells: dict[str, list[str]] = {}
    for relation in record.get("relations") or []:
        end = "object" if "object" in relation else "subject"
        other = relation[end]
        if isinstance(other, dict):  # an expanded relation
            other = other["id"]
        if reference is not None:
            other = reference(other)
        column = relation["predicate"] if end == "object" else f"{relation['predicate']}.subject"
        relation_cells.setdefault(column, []).append(format_relation_item(relation, other))
    for column, items in relation_cells.items():
        cells[column] = LIST_SEPARATOR.join(items)
    return cells


def _get(data: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        if data is None:
            return None
        if isinstance(part, int):
            data = data[part] if isinstance(data, list) and part < len(data) else None
        else:
            data = data.get(part) if isinstance(data, dict) else None
    return data


def type_label(type_name: str) -> str:
    zh, en = TYPE_LABELS[type_name]
    return f"{zh} {type_name}"
