"""Highlights: fragments of the original text, HTML-escaped, with only ``<em>`` added around matches."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from functools import lru_cache

from zhulian.text import normalize_with_map

FRAGMENT_CHARS = 80
MAX_FRAGMENTS = 3
_OPEN, _CLOSE = "\ue001", "\ue002"  # where <em> and </em> go, put in before escaping (private-use characters)


@lru_cache(maxsize=4096)
def _ascii_pattern(needle: str) -> re.Pattern[str]:
    pattern = re.escape(needle)
    if needle[-1:].isalnum():  # a stem matches the words it comes from (learn → learning)
        pattern = r"(?<![a-z0-9])" + pattern + r"[a-z0-9]*"
    return re.compile(pattern)


def spans(normalized: str, needles: Iterable[str]) -> list[tuple[int, int]]:
    """Where the needles occur (ASCII needles only at a word start), merged, in order."""
    found = []
    for needle in needles:
        if not needle or needle not in normalized:  # most of a page's texts hold none: found with one C scan
            continue
        if needle.isascii():
            found += [(m.start(), m.end()) for m in _ascii_pattern(needle).finditer(normalized)]
        else:
            start = normalized.find(needle)
            while start >= 0:
                found.append((start, start + len(needle)))
                start = normalized.find(needle, start + 1)
    found.sort()
    merged: list[tuple[int, int]] = []
    for start, end in found:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def fragments(text: str, needles: Iterable[str], *, size: int = FRAGMENT_CHARS,
              limit: int = MAX_FRAGMENTS, normalized: tuple[str, Sequence[int]] | None = None) -> list[str]:
    """Up to ``limit`` escaped fragments of ``text`` around the matches, or [] when nothing matches.
    ``normalized`` is ``normalize_with_map(text)`` when the caller already has it."""
    if not text:
        return []
    normalized, origin = normalized or normalize_with_map(text)
    if _OPEN in text or _CLOSE in text:  # a text holding the marks themselves: they are dropped, never made tags
        text = text.replace(_OPEN, " ").replace(_CLOSE, " ")
    found = spans(normalized, needles)
    if not found:
        return []
    # back to original offsets
    original = [(origin[s], origin[e - 1] + 1) for s, e in found]
    windows: list[tuple[int, int]] = [(0, len(text))] if len(text) <= size else []
    for start, end in original if not windows else ():
        if windows and end <= windows[-1][1]:
            continue
        if len(windows) == limit:
            break
        begin = max(0, start - size // 3)
        if windows and begin < windows[-1][1]:
            begin = windows[-1][1]
        windows.append((begin, min(len(text), max(end, begin + size))))
    out = []
    for begin, finish in windows:
        pieces, cursor = [], begin
        for start, end in original:
            if end <= begin or start >= finish:
                continue
            start, end = max(start, begin), min(end, finish)
            if start < cursor:
                continue
            pieces += [text[cursor:start], _OPEN, text[start:end], _CLOSE]
            cursor = end
        pieces.append(text[cursor:finish])
        # escaped once per fragment, the marks turned into tags after: one escape per piece cost more than the search
        marked = html.escape("".join(pieces))
        prefix = "…" if begin > 0 else ""
        suffix = "…" if finish < len(text) else ""
        out.append(prefix + marked.replace(_OPEN, "<em>").replace(_CLOSE, "</em>") + suffix)
    return out
