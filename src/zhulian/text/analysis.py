"""Normalisation, segmentation and keys for search.

Every text, at index time and at query time, goes through ``normalize``: NFKC (full-width → half-width),
lowercase, whitespace collapsed, then OpenCC traditional → simplified. Chinese is segmented by rjieba
(jieba's dictionary and algorithm in Rust; about 20× faster than the Python jieba on CSL text) with
a domain dictionary of organisation, platform and city names that keeps those names whole; English
words are stemmed with the Snowball English stemmer (compiled: PyStemmer). ``bigrams`` gives the character
bigram stream that makes one- and two-character queries, partial names and phrases work whatever the
segmentation; ``characters`` gives the character stream (a break between runs) that the body text's phrases
are matched on.
"""

from __future__ import annotations

import gc
import operator
import re
import threading
import unicodedata
from collections.abc import Iterable, Sequence
from functools import cache

import opencc
import rjieba
import Stemmer

_t2s = opencc.OpenCC("t2s")
_t2s_lock = threading.Lock()
_SPACES = re.compile(r"\s+")
# A "word character" for grams: letters, digits and CJK ideographs; anything else breaks a run.
_RUNS = re.compile(r"[^\W_]+")
_ASCII_WORD = re.compile(r"[a-z][a-z0-9]*")
_NON_WORD = re.compile(r"[\W_]+")  # punctuation and symbols: a break, never part of a token
_STEMS: dict[str, str] = {}
_stemmer = Stemmer.Stemmer("english")  # Snowball English in C (PyStemmer)
_stem_lock = threading.Lock()

# Frequency given to dictionary words from the store: high enough that jieba keeps the name whole.
DOMAIN_FREQ = 50_000
QUERY_CACHE = 10_000  # query chunks whose tokens an analyzer remembers


# Variants OpenCC's t2s leaves alone because both forms are valid simplified text, but which mean the same
# in titles and names (measured on CSL titles written in traditional characters): folded the same way at
# index and at query time. Each replacement keeps the length, so highlight offsets stay right.
_VARIANTS = {"於": "于", "裏": "里", "祕": "秘", "綫": "线", "麪": "面", "座标": "坐标", "想像": "想象"}
# one regex pass in C, a Python call only where a variant is (str.translate calls back for every character)
_VARIANT_PATTERN = re.compile("|".join(sorted(_VARIANTS, key=len, reverse=True)))


def _variant(match: re.Match[str]) -> str:
    return _VARIANTS[match.group()]


def _convert(text: str) -> str:
    with _t2s_lock:  # the OpenCC converter is not documented as thread-safe
        converted = _t2s.convert(text)
    return _VARIANT_PATTERN.sub(_variant, converted)


# Full-width forms and the ideographic space, the usual reason a Chinese text is not NFKC already (，：（）),
# each replaced by its NFKC form in one regex pass: NFKC of a whole text costs several times as much
_FULL_WIDTH = re.compile("[\u3000\uff01-\uff5e]")
_HALF_WIDTH = {c: unicodedata.normalize("NFKC", c) for c in ["\u3000", *map(chr, range(0xFF01, 0xFF5F))]}


def _half_width(match: re.Match[str]) -> str:
    return _HALF_WIDTH[match.group()]


def _nfkc(text: str) -> str:
    """``unicodedata.normalize("NFKC", text)``, cheaper for text whose only compatibility characters are full-width
    forms (the same result: each is replaced by its own NFKC form, then anything left is normalised)."""
    if unicodedata.is_normalized("NFKC", text):
        return text
    text = _FULL_WIDTH.sub(_half_width, text)
    return text if unicodedata.is_normalized("NFKC", text) else unicodedata.normalize("NFKC", text)


def normalize(text: str) -> str:
    """Full-width → half-width, lowercase, whitespace collapsed, traditional → simplified."""
    if not text:
        return ""
    text = _nfkc(text)
    text = text.lower()
    text = _SPACES.sub(" ", text).strip()
    return _convert(text) if not text.isascii() else text


_SEPARATOR = "\ue000"  # a private-use character: NFKC, lowercasing and OpenCC leave it alone


def normalize_many(texts: list[str]) -> list[str]:
    """``normalize`` of each text, done in one pass over their concatenation (one OpenCC call)."""
    if not texts:
        return []
    joined = _nfkc(_SEPARATOR.join(texts))
    joined = joined.lower()
    joined = _SPACES.sub(" ", joined)
    if not joined.isascii():
        joined = _convert(joined)
    parts = [part.strip() for part in joined.split(_SEPARATOR)]
    return parts if len(parts) == len(texts) else [normalize(t) for t in texts]


def normalize_many_with_map(texts: list[str]) -> list[tuple[str, Sequence[int]]]:
    """``normalize_with_map`` of each text. The texts whose characters map one for one (nearly all) are converted
    together in one OpenCC call; only a text that NFKC changes in length (``℃`` → ``°c``) takes the slow path."""
    folded = [_nfkc(text) for text in texts]
    simple = [n for n, (text, fold) in enumerate(zip(texts, folded, strict=True)) if len(fold) == len(text)]
    out: list[tuple[str, Sequence[int]] | None] = [None] * len(texts)
    joined = _SEPARATOR.join(folded[n] for n in simple).lower()
    converted = joined if joined.isascii() else _convert(joined)
    parts = converted.split(_SEPARATOR)
    if len(parts) == len(simple):
        for n, part in zip(simple, parts, strict=True):
            if len(part) == len(texts[n]):  # lowercasing and OpenCC kept the length too: offsets carry over
                out[n] = (part, range(len(part)))
    return [done if done is not None else normalize_with_map(text) for done, text in zip(out, texts, strict=True)]


def normalize_with_map(text: str) -> tuple[str, Sequence[int]]:
    """``normalize`` (without trimming) together with, for each normalised character, the index of the
    original character it came from (a ``range`` when they map one for one); used to put highlights on the original
    text."""
    folded = unicodedata.normalize("NFKC", text).lower()
    if len(folded) == len(text):  # the usual case: one character for one, so offsets carry over as they are
        converted = folded if folded.isascii() else _convert(folded)
        if len(converted) == len(text):
            return converted, range(len(text))
    pieces, origin = [], []
    previous_space = False
    folded_chars = {char: unicodedata.normalize("NFKC", char).lower() for char in set(text)}  # each once
    for index, char in enumerate(text):
        piece = folded_chars[char]
        if piece.isspace() or not piece:
            if previous_space or not piece:
                continue
            piece = " "
        previous_space = piece == " "
        pieces.append(piece)
        origin.extend([index] * len(piece))
    joined = "".join(pieces)
    if joined.isascii():
        return joined, origin
    converted = _convert(joined)
    if len(converted) != len(joined):  # a phrase conversion changed length: convert char by char instead
        converted = "".join(_convert(c) if len(_convert(c)) == 1 else c for c in joined)
    return converted, origin


def is_cjk(char: str) -> bool:
    code = ord(char)
    return 0x3400 <= code <= 0x9FFF or 0xF900 <= code <= 0xFAFF or 0x20000 <= code <= 0x3134F


def stem(word: str) -> str:
    """The Snowball English stem of a lowercased ASCII word; other words are returned as they are."""
    cached = _STEMS.get(word)
    if cached is not None:
        return cached
    if len(word) < 3 or not _ASCII_WORD.fullmatch(word):
        return word
    with _stem_lock:
        stemmed = _stemmer.stemWord(word)
    if len(_STEMS) < 500_000:
        _STEMS[word] = stemmed
    return stemmed


def _stem_match(match: re.Match[str]) -> str:
    return stem(match.group())


def _stem_all(text: str) -> str:
    """Every ASCII word of a space-separated token string stemmed, in one regex pass."""
    return _ASCII_WORD.sub(_stem_match, text)


_ASCII_LETTER = re.compile(r"[a-z]")


def _has_ascii_letters(text: str) -> bool:
    return _ASCII_LETTER.search(text) is not None


def bigrams(normalized: str) -> str:
    """The character bigrams of each run of word characters, space separated, in order; a run of one
    character gives that character. Positions in this stream line up for phrase queries because a
    bigram is never formed across a break, at index and at query time alike."""
    out = []
    for run in _RUNS.findall(normalized):
        if len(run) == 1:
            out.append(run)
        else:
            out.append(" ".join(map(operator.add, run, run[1:])))
    return " ".join(out)


RUN_BREAK = "|"  # stands between two runs in ``characters``: a phrase spans a break only where the text has one


def characters(normalized: str) -> str:
    """The characters of each run of word characters, space separated, ``RUN_BREAK`` between runs: with positions
    in the index, a phrase query of these finds a substring or an exact phrase as bigrams do, for a third of the
    Python work and of Tantivy's (one term per character: a small dictionary), and without grams crossing a break.
    Built by C-level string operations only."""
    return " ".join(RUN_BREAK.join(_RUNS.findall(normalized)))


def unigrams(normalized: str) -> str:
    return " ".join(c for c in normalized if c.isalnum())


class Analyzer:
    """Segmentation with a domain dictionary. One per index: the words a store contributes are added
    with ``add_words`` (idempotent), and the same analyzer is used to index and to query."""

    def __init__(self, words: Iterable[str] = ()) -> None:
        self._jieba = rjieba.Jieba()
        self._words: set[str] = set()
        self._query_tokens: dict[str, list[tuple[str, str]]] = {}
        self._lock = threading.Lock()
        self.add_words(words)

    @property
    def words(self) -> set[str]:
        return set(self._words)

    def add_words(self, words: Iterable[str]) -> int:
        """Add names to the dictionary (normalised, 2–40 characters, at least one CJK character)."""
        added = 0
        with self._lock:
            for word in words:
                word = normalize(word or "")
                if not (2 <= len(word) <= 40) or word in self._words or not any(map(is_cjk, word)):
                    continue
                if " " in word:
                    continue
                self._jieba.add_word(word, DOMAIN_FREQ, None)
                self._words.add(word)
                added += 1
            if added:
                self._query_tokens = {}  # segmentation may differ now: tokens are found again
        return added

    def index_text(self, normalized: str) -> str:
        """Search-mode tokens for indexing, space separated: every word and the dictionary words inside
        it, so both a whole name and its parts are found; punctuation dropped; English words stemmed."""
        text = " ".join(self._jieba.cut_for_search(_NON_WORD.sub(" ", normalized), False))
        return _stem_all(text) if _has_ascii_letters(text) else text

    def index_tokens(self, normalized: str) -> list[str]:
        return self.index_text(normalized).split()

    def query_tokens(self, normalized: str) -> list[tuple[str, str]]:
        """Non-overlapping tokens of a query chunk as (indexed form, surface form). Remembered until the dictionary
        changes: one search asks for the same chunk's tokens to rank, to count groups and to highlight."""
        remembered = self._query_tokens  # taken first: ``add_words`` replaces it once its words are in
        tokens = remembered.get(normalized)
        if tokens is None:
            words = self._jieba.cut(_NON_WORD.sub(" ", normalized), False)
            tokens = [(stem(word), word) for word in words if not word.isspace()]
            if len(remembered) >= QUERY_CACHE:
                self._query_tokens = remembered = {}
            remembered[normalized] = tokens
        return list(tokens)


_shared: Analyzer | None = None


def analyzer() -> Analyzer:
    """A process-wide analyzer without store words (for callers that have no index)."""
    global _shared
    if _shared is None:
        _shared = Analyzer()
    return _shared


SORT_KEY_CHARS = 60  # names agree on their order long before; 60 syllables fit a 500-character column


def pinyin_sort_key(name: str) -> str:
    """What orders names as readers look them up, by pinyin rather than by code point (北京 before 广州
    before 深圳): syllables joined by spaces, so that 西安 (xi an) comes before 先进 (xian jin) as a
    dictionary has it; Latin letters and digits as they are, lower-cased. Every stored record gets one, so it
    reads tables made once from pypinyin's (``_sort_tables``), in a fifteenth of the time ``lazy_pinyin`` takes."""
    text = normalize(name[:SORT_KEY_CHARS])
    readings, pairs = _sort_tables()
    words: list[str] = []
    for match in _SORT_TOKENS.finditer(text):
        token = match[0]
        reading = readings.get(token)
        if reading is None:
            if token.isalnum():
                words.append(token)
        elif type(reading) is str:
            words.append(reading)
        else:
            words.append(_reading_in_context(text, match.start(), reading, pairs))
    return " ".join(words).lower()


def _reading_in_context(text: str, start: int, readings: tuple[str, ...],
                        pairs: dict[str, tuple[str, str]]) -> str:
    """A character of several readings read as in the two-character word it starts or ends (长沙 chang, 银行 hang),
    else by its most common reading."""
    word = pairs.get(text[start:start + 2])
    if word is not None:
        return word[0]
    word = pairs.get(text[start - 1:start + 1]) if start else None
    return word[1] if word is not None else readings[0]


_SORT_TOKENS = re.compile(r"[A-Za-z0-9]+|\S")


@cache
def _sort_tables() -> tuple[dict[str, str | tuple[str, ...]], dict[str, tuple[str, str]]]:
    """The sort key's tables, toneless: each character's one reading, or its readings (the most common first)
    when it has several that differ without their tones (中 zhōng, zhòng is one); and the readings of pypinyin's
    two-character words."""
    pinyin_dict, phrases_dict = _pypinyin_tables()
    readings: dict[str, str | tuple[str, ...]] = {}
    for code, found in pinyin_dict.items():
        toneless = tuple(dict.fromkeys(_toneless(reading) for reading in found.split(",")))
        readings[chr(code)] = toneless[0] if len(toneless) == 1 else toneless
    pairs = {word: (_toneless(syllables[0][0]), _toneless(syllables[1][0]))
             for word, syllables in phrases_dict.items() if len(word) == 2 and len(syllables) == 2}
    return readings, pairs


@cache
def _toneless(syllable: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", syllable) if not unicodedata.combining(c)).replace("ü", "v")


@cache
def _pypinyin_tables() -> tuple[dict[int, str], dict[str, list[list[str]]]]:
    """pypinyin's character and phrase tables, imported (with pypinyin) once, when first needed. The phrase
    table is some 190,000 lists that live as long as the process; once they are in, every object alive is moved
    out of the cyclic garbage collector's view (``gc.freeze``), because each full collection walked those lists
    again: a sixth of an import's CPU time (bench/import_bench.py). Only what is alive at that moment is frozen;
    garbage made later is collected as ever."""
    import pypinyin  # noqa: F401 - all of it in before the freeze
    from pypinyin.phrases_dict import phrases_dict
    from pypinyin.pinyin_dict import pinyin_dict

    gc.collect()
    gc.freeze()
    return pinyin_dict, phrases_dict


def pinyin_keys(text: str) -> list[str]:
    """Pinyin initials and full pinyin of a Chinese name (中山大学 → zsdx, zhongshandaxue)."""
    _pypinyin_tables()  # loaded, and out of the collector's view, before pypinyin is used
    from pypinyin import Style, lazy_pinyin

    text = normalize(text)
    if not any(map(is_cjk, text)):
        return []
    chars = [c for c in text if c.isalnum()]
    full = lazy_pinyin(chars, errors="ignore")
    initials = lazy_pinyin(chars, style=Style.FIRST_LETTER, errors="ignore")
    keys = ["".join(initials), "".join(full)]
    return [k for k in dict.fromkeys(keys) if k]
