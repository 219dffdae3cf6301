"""The user's query language: words ANDed by default, ``OR`` between two items, ``"quoted phrases"`` and
``-exclusion``. Anything else that looks like syntax (unbalanced quotes, a lone OR, parentheses,
``field:``, ``^``, ``~``, ``*``) never fails: the query is then read as plain words, and the result
says so."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

MAX_QUERY_CHARS = 500
MAX_ITEMS = 32
_SYNTAX = re.compile(r'[()\[\]{}^~*\\]|(?<![\w])[A-Za-z_]+:|:')


@dataclass(frozen=True)
class Clause:
    text: str
    phrase: bool = False


@dataclass(frozen=True)
class Item:
    """One AND-ed part: one clause, or several joined by OR; ``negated`` for -exclusion."""

    alternatives: tuple[Clause, ...]
    negated: bool = False


@dataclass
class ParsedQuery:
    text: str
    items: list[Item] = field(default_factory=list)
    plain: bool = False  # syntax was malformed: read as plain words
    notices: list[tuple[str, str]] = field(default_factory=list)  # (English, Chinese)

    @property
    def empty(self) -> bool:
        return not self.items

    @property
    def positive(self) -> list[Item]:
        return [item for item in self.items if not item.negated]


def clean(text: str) -> str:
    """Control and format characters become spaces."""
    return "".join(" " if unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co") else c for c in text)


def parse(text: str | None) -> ParsedQuery:
    raw = clean(text or "").strip()
    parsed = ParsedQuery(raw)
    if len(raw) > MAX_QUERY_CHARS:
        raw = raw[:MAX_QUERY_CHARS]
        parsed.notices.append((f"The query was cut to its first {MAX_QUERY_CHARS} characters.",
                               f"查询过长，只使用前 {MAX_QUERY_CHARS} 个字符。"))
    if not raw:
        return parsed
    items = _structured(raw)
    if items is None:
        parsed.plain = True
        parsed.notices.append(("The query syntax was malformed; it was searched as plain words.",
                               "查询语法有误，已按普通词语检索。"))
        items = _plain(raw)
    if len(items) > MAX_ITEMS:
        items = items[:MAX_ITEMS]
        parsed.notices.append((f"Only the first {MAX_ITEMS} words were used.", f"只使用了前 {MAX_ITEMS} 个词。"))
    parsed.items = items
    return parsed


def _lex(text: str) -> list[tuple[str, str, bool]] | None:
    """(kind, text, negated) tokens: kind is word, phrase or or. None when the syntax is malformed."""
    tokens: list[tuple[str, str, bool]] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
            continue
        negated = False
        if c == "-" and i + 1 < n and not text[i + 1].isspace():
            negated, i = True, i + 1
            c = text[i]
            if c == "-":
                return None
        if c == '"':
            end = text.find('"', i + 1)
            if end < 0:
                return None
            phrase = text[i + 1:end].strip()
            if not phrase:
                return None
            tokens.append(("phrase", phrase, negated))
            i = end + 1
            continue
        j = i
        while j < n and not text[j].isspace() and text[j] != '"':
            j += 1
        word = text[i:j]
        if word == "-":
            return None
        if word == "OR" and not negated:
            tokens.append(("or", word, False))
        else:
            tokens.append(("word", word, negated))
        i = j
    return tokens


def _structured(text: str) -> list[Item] | None:
    if _SYNTAX.search(text.replace('"', " ")):
        return None
    tokens = _lex(text)
    if tokens is None:
        return None
    items: list[Item] = []
    pending_or = False
    for kind, value, negated in tokens:
        if kind == "or":
            if pending_or or not items or items[-1].negated:
                return None
            pending_or = True
            continue
        clause = Clause(value, kind == "phrase")
        if pending_or:
            if negated:
                return None
            items[-1] = Item(items[-1].alternatives + (clause,))
            pending_or = False
        else:
            items.append(Item((clause,), negated))
    if pending_or:
        return None
    return items


def _plain(text: str) -> list[Item]:
    text = re.sub(r"[\^~]\d*(?:\.\d+)?", " ", text)  # boosts and fuzziness go with their numbers
    text = _SYNTAX.sub(" ", text.replace('"', " "))
    words = [w.lstrip("-") for w in text.split()]
    return [Item((Clause(w),)) for w in words if w and w not in ("OR", "AND", "NOT", "TO")]
