"""One error shape for every layer (after Datasette): code, bilingual message, details.

Services raise these; the CLI prints them and the API returns them as
``{ok: false, error: {code, message, message_zh, details}}`` with ``status``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Problem:
    """One thing wrong with an input: where, what was given, and why it was refused."""

    field: str
    value: Any
    reason: str
    reason_zh: str

    def as_dict(self) -> dict[str, Any]:
        return {"field": self.field, "value": self.value, "reason": self.reason, "reason_zh": self.reason_zh}


@dataclass
class ZhulianError(Exception):
    code: str
    message: str
    message_zh: str
    status: int = 400
    details: list[Problem] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": False,
            "error": {
                "code": self.code,
                "message": self.message,
                "message_zh": self.message_zh,
                "details": [p.as_dict() for p in self.details],
            },
        }

    def __str__(self) -> str:
        lines = [f"{self.message_zh} / {self.message}"]
        lines += [f"  - {p.field}: {p.reason_zh} / {p.reason} (值 value: {p.value!r})" for p in self.details]
        return "\n".join(lines)


_WHAT = {  # what was refused -> (Chinese name, what follows from refusing it, in English and Chinese)
    "record": ("记录", "nothing was written", "未写入任何内容"),
    "query": ("查询", "the query was not run", "查询未执行"),
    "file": ("文件", "nothing was imported", "未导入任何内容"),
}


def invalid(problems: list[Problem], what: str = "record") -> ZhulianError:
    what_zh, outcome, outcome_zh = _WHAT[what]
    return ZhulianError(
        "invalid",
        f"The {what} has {len(problems)} problem(s); {outcome}.",
        f"{what_zh}有 {len(problems)} 处问题，{outcome_zh}。",
        400,
        problems,
    )


def not_found(ref: str) -> ZhulianError:
    return ZhulianError(
        "not_found",
        f"No record {ref!r}. Check the id or the scheme:value identifier.",
        f"找不到记录 {ref!r}，请检查编号或“方案:值”形式的标识符。",
        404,
    )


def gone(ref: str, revision: int) -> ZhulianError:
    return ZhulianError(
        "gone",
        f"Record {ref!r} was deleted (tombstone at revision {revision}).",
        f"记录 {ref!r} 已删除（墓碑，第 {revision} 版）。",
        410,
    )


def conflict(message: str, message_zh: str, details: list[Problem] | None = None) -> ZhulianError:
    return ZhulianError("conflict", message, message_zh, 409, details or [])


def check_listing(box: str, boxes: dict[str, str], state: str | None, states: tuple[str, ...], limit: int,
                  most: int) -> None:
    """The query of a list of a principal's items (which box, which state, how many), every problem at once;
    ``boxes`` maps each box's name to its Chinese label."""
    problems = []
    if box not in boxes:
        problems.append(Problem("box", box, " or ".join(boxes),
                                "应为 " + " 或 ".join(f"{name}（{label}）" for name, label in boxes.items())))
    if state is not None and state not in states:
        problems.append(Problem("state", state, f"one of {', '.join(states)}", f"应为 {'、'.join(states)} 之一"))
    if not 1 <= limit <= most:
        problems.append(Problem("limit", limit, f"1 to {most}", f"应为 1 至 {most}"))
    if problems:
        raise invalid(problems, "query")
