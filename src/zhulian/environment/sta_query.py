"""SensorThings 1.1 query options: ``$filter`` (parsed by a grammar, compiled to SQL), ``$orderby``, ``$top``,
``$skip``, ``$count``, ``$select`` and ``$expand`` with nested options (``Datastreams($top=1;$orderby=id)``).

``$filter`` takes comparisons (eq ne gt ge lt le) joined by and/or/not and parentheses; literals are strings
(``'it''s'``), numbers, ISO 8601 times (``2026-03-01T00:00:00+08:00``), true, false and null. A property is
compared with a literal; which properties an entity set offers, and which of them hold times, is the set's own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from lark import Lark, Token, Transformer, v_args
from lark.exceptions import LarkError, VisitError

from zhulian.errors import Problem, ZhulianError, invalid

DEFAULT_TOP = 100
MAX_TOP = 1000

_GRAMMAR = r"""
?start: disjunction
?disjunction: conjunction | disjunction OR conjunction -> either
?conjunction: negation | conjunction AND negation -> both
?negation: comparison | NOT negation -> negate
?comparison: operand COMPARATOR operand -> compare
           | "(" disjunction ")"
?operand: PATH -> path
        | STRING -> string
        | DATETIME -> moment
        | NUMBER -> number
        | TRUE -> true
        | FALSE -> false
        | NULL -> null
OR.3: /or\b/
AND.3: /and\b/
NOT.3: /not\b/
TRUE.3: /true\b/
FALSE.3: /false\b/
NULL.3: /null\b/
COMPARATOR.3: /(eq|ne|gt|ge|lt|le)\b/
DATETIME.2: /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})/
NUMBER.1: /-?\d+(\.\d+)?([eE][-+]?\d+)?/
STRING: /'([^']|'')*'/
PATH: /[A-Za-z@][A-Za-z0-9_@.]*(\/[A-Za-z@][A-Za-z0-9_@.]*)*/
%ignore /\s+/
"""
_PARSER = Lark(_GRAMMAR, parser="lalr")
_KIND_NAMES = {"time": ("a time such as 2026-03-01T00:00:00+08:00", "时间，例如 2026-03-01T00:00:00+08:00"),
               "number": ("a number", "数值"), "text": ("text in single quotes", "单引号括起的文本")}
_COMPARE = {"eq": "__eq__", "ne": "__ne__", "gt": "__gt__", "ge": "__ge__", "lt": "__lt__", "le": "__le__"}


@dataclass(frozen=True)
class Field:
    """A property a query may filter and order on: its column, and what it holds: text, a number, or a time
    (stored as epoch seconds)."""

    column: str
    kind: str = "text"


@dataclass
class Options:
    filter: str | None = None
    orderby: list[tuple[str, bool]] = field(default_factory=list)  # (property, descending)
    top: int = DEFAULT_TOP
    skip: int = 0
    count: bool = False
    select: list[str] | None = None
    expand: dict[str, Options] = field(default_factory=dict)
    result_format: str | None = None
    given: dict[str, str] = field(default_factory=dict)  # the options as written: what a next link repeats


def _problem(option: str, value: Any, reason: str, reason_zh: str) -> ZhulianError:
    return invalid([Problem(option, value, reason, reason_zh)], "query")


def parse_options(params: dict[str, str]) -> Options:
    """The query options of a request (or of one ``$expand`` item)."""
    unknown = [name for name in params if name.startswith("$") and name not in
               ("$filter", "$orderby", "$top", "$skip", "$count", "$select", "$expand", "$resultFormat")]
    if unknown:
        raise _problem(unknown[0], params[unknown[0]], "unknown query option; SensorThings 1.1 offers $filter, "
                       "$orderby, $top, $skip, $count, $select, $expand, $resultFormat",
                       "未知的查询选项；可用 $filter、$orderby、$top、$skip、$count、$select、$expand、$resultFormat")
    options = Options(filter=params.get("$filter") or None, result_format=params.get("$resultFormat"),
                      given=dict(params))
    if options.filter:
        parse_filter(options.filter)  # refused now, before any query runs
    options.top = _integer(params, "$top", DEFAULT_TOP, MAX_TOP)
    options.skip = _integer(params, "$skip", 0, None)
    count = params.get("$count", "false")
    if count not in ("true", "false"):
        raise _problem("$count", count, "$count is true or false", "$count 只能是 true 或 false")
    options.count = count == "true"
    if "$select" in params:
        options.select = [name.strip() for name in params["$select"].split(",") if name.strip()]
    for item in split_top_level(params.get("$orderby", ""), ","):
        words = item.split()
        if len(words) == 2:  # clients send ASC/DESC as well
            words[1] = words[1].lower()
        if len(words) > 2 or (len(words) == 2 and words[1] not in ("asc", "desc")):
            raise _problem("$orderby", item, "each $orderby item is a property, then asc or desc",
                           "$orderby 每项为属性名，其后可跟 asc 或 desc")
        options.orderby.append((words[0], len(words) == 2 and words[1] == "desc"))
    for item in split_top_level(params.get("$expand", ""), ","):
        _add_expand(options.expand, item)
    return options


def _add_expand(expand: dict[str, Options], item: str) -> None:
    """``Datastreams/Observations($top=2)`` nests: Datastreams expands its Observations."""
    name, _, rest = item.partition("(")
    head, _, tail = name.strip().partition("/")
    if not head:
        raise _problem("$expand", item, "an $expand item names a navigation property", "$expand 每项须为导航属性名")
    nested = expand.setdefault(head, Options())
    if tail:
        _add_expand(nested.expand, tail + ("(" + rest if rest else ""))
        return
    if rest:
        if not rest.endswith(")"):
            raise _problem("$expand", item, "unbalanced parentheses", "括号不配对")
        params = {}
        for option in split_top_level(rest[:-1], ";"):
            key, equals, value = option.partition("=")
            if not equals:
                raise _problem("$expand", option, "nested options are $name=value separated by ;",
                               "嵌套选项形如 $name=value，以 ; 分隔")
            params[key.strip()] = value.strip()
        found = parse_options(params)
        found.expand = nested.expand | found.expand
        expand[head] = found


def split_top_level(text: str, separator: str) -> list[str]:
    """Split at ``separator`` outside parentheses and quoted strings."""
    parts, depth, quoted, current = [], 0, False, []
    for char in text:
        if char == "'":
            quoted = not quoted
        elif not quoted and char == "(":
            depth += 1
        elif not quoted and char == ")":
            depth -= 1
        if char == separator and depth == 0 and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [part.strip() for part in parts if part.strip()]


def _integer(params: dict[str, str], name: str, default: int, most: int | None) -> int:
    text = params.get(name)
    if text is None:
        return default
    if not text.isdigit() or (most is not None and int(text) > most):
        bound = f" up to {most}" if most is not None else ""
        raise _problem(name, text, f"{name} is a whole number{bound}",
                       f"{name} 须为非负整数" + (f"，不超过 {most}" if most is not None else ""))
    return int(text)


def parse_filter(text: str) -> Any:
    try:
        return _PARSER.parse(text)
    except LarkError as error:
        where = getattr(error, "column", None)
        at = f" at character {where}" if where else ""
        raise _problem("$filter", text, f"the filter cannot be read{at}: write comparisons such as "
                       "result gt 35 and phenomenonTime ge 2026-03-01T00:00:00+08:00",
                       f"无法解析过滤条件{('（第 %s 个字符处）' % where) if where else ''}：应为比较式，例如 "
                       "result gt 35 and phenomenonTime ge 2026-03-01T00:00:00+08:00") from None


def compile_filter(text: str, columns: Any, fields: dict[str, Field]) -> sa.ColumnElement[bool]:
    """``$filter`` as a SQL condition over ``columns`` (a subquery's ``.c``)."""
    try:
        return _Compiler(columns, fields).transform(parse_filter(text))
    except VisitError as error:
        if isinstance(error.orig_exc, ZhulianError):
            raise error.orig_exc from None
        raise


def order_columns(options: Options, columns: Any, fields: dict[str, Field]) -> list[sa.ColumnElement[Any]]:
    ordered = []
    for name, descending in options.orderby:
        column = columns[_field(name, fields).column]
        ordered.append(column.desc() if descending else column.asc())
    return ordered


def _field(name: str, fields: dict[str, Field]) -> Field:
    if name not in fields:
        raise _problem("$filter/$orderby", name, f"no property {name!r} to filter or order on here; "
                       f"this set offers {', '.join(fields)}", f"此处不能按 {name!r} 过滤或排序；可用 {'、'.join(fields)}")
    return fields[name]


@v_args(inline=True)
class _Compiler(Transformer):  # type: ignore[type-arg]
    def __init__(self, columns: Any, fields: dict[str, Field]) -> None:
        super().__init__()
        self.columns = columns
        self.fields = fields

    def either(self, left: Any, _op: Token, right: Any) -> Any:
        return sa.or_(left, right)

    def both(self, left: Any, _op: Token, right: Any) -> Any:
        return sa.and_(left, right)

    def negate(self, _op: Token, inner: Any) -> Any:
        return sa.not_(inner)

    def path(self, token: Token) -> Field:
        return _field(str(token), self.fields)

    def string(self, token: Token) -> str:
        return str(token)[1:-1].replace("''", "'")

    def moment(self, token: Token) -> datetime:
        try:
            return datetime.fromisoformat(str(token).replace("Z", "+00:00"))
        except ValueError:
            raise _problem("$filter", str(token), "not a valid time", "不是有效的时间") from None

    def number(self, token: Token) -> float | int:
        text = str(token)
        return float(text) if any(c in text for c in ".eE") else int(text)

    def true(self, _token: Token) -> bool:
        return True

    def false(self, _token: Token) -> bool:
        return False

    def null(self, _token: Token) -> None:
        return None

    def compare(self, left: Any, comparator: Token, right: Any) -> Any:
        operator = str(comparator)
        if isinstance(right, Field) and not isinstance(left, Field):  # 35 lt result: the property on the left
            left, right = right, left
            operator = {"gt": "lt", "lt": "gt", "ge": "le", "le": "ge"}.get(operator, operator)
        if not isinstance(left, Field) or isinstance(right, Field):
            raise _problem("$filter", operator, "each comparison sets one property against one literal",
                           "每个比较须是一个属性与一个字面值")
        column = self.columns[left.column]
        if right is None:
            if operator not in ("eq", "ne"):
                raise _problem("$filter", operator, "null compares only with eq or ne", "null 只能用 eq 或 ne 比较")
            return column.is_(None) if operator == "eq" else column.is_not(None)
        expected = {"time": datetime, "number": int | float, "text": str}[left.kind]
        if not isinstance(right, expected) or isinstance(right, bool):
            shown = right.isoformat() if isinstance(right, datetime) else right
            raise _problem("$filter", shown, f"this property holds {_KIND_NAMES[left.kind][0]}: compare it with one",
                           f"此属性为{_KIND_NAMES[left.kind][1]}，须与同类值比较")
        if isinstance(right, datetime):
            right = int(right.timestamp())
        return getattr(column, _COMPARE[operator])(right)
