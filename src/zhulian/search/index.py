"""The Tantivy index on local disk: its schema, how a record becomes a document, and its state (the
change-feed position it has applied, and which build it is).

The index is derived: ``build`` makes a fresh one from the store in a new folder and swaps it in, so a
reader never sees a half-built index and the folder can be deleted at any time. Text is analysed in
Python (``zhulian.text``) and handed to Tantivy as space-separated tokens, indexed by Tantivy's
whitespace tokenizer.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import multiprocessing
import os
import shutil
import threading
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import tantivy

from zhulian.model import INDEXED_FIELDS, record_label
from zhulian.region.cities import CITIES
from zhulian.search import documents as docs
from zhulian.search.rebuild import BuildStopped, RebuildLock, running_error
from zhulian.store import Store
from zhulian.store import records as records_table
from zhulian.store import store_identity as store_identity_table
from zhulian.text import Analyzer, bigrams, pinyin_keys, pinyin_sort_key
from zhulian.text.analysis import characters, normalize_many, unigrams

log = logging.getLogger(__name__)

SCHEMA_VERSION = 6  # 3: the facet fast field; 4: one fast column per grouped field (``groups``); 5: names by pinyin;
# 6: the body's phrases on characters (``body_c``) instead of bigrams
UNGROUPED = ("id", "created", "updated")  # one value per record: nothing to count by
BUILD_BATCH = 1000  # records read from the store at a time
ANALYSIS_CHUNK = 100  # records analysed together, between progress reports and checks for a request to stop
PARALLEL_FROM = 20_000  # records: below this, starting analysis processes costs more than it saves
MAX_ANALYSIS_WORKERS = 4
STATE_FILE = "state.json"
DICTIONARY_FILE = "dictionary.txt"
DICTIONARY_TYPES = ("organization", "platform")
SORT_FIELDS = {"id": "id", "name": "s_name", "city": "s_city", "year": "year", "created": "s_created",
               "updated": "s_updated", "revision": "revision"}
NUMBER_FIELDS = {name for specs in INDEXED_FIELDS.values() for name, spec in specs.items() if spec.kind == "number"}


def build_schema() -> tantivy.Schema:
    b = tantivy.SchemaBuilder()
    b.add_text_field("id", stored=True, fast=True, tokenizer_name="raw", index_option="basic")
    b.add_text_field("kv", tokenizer_name="raw", index_option="basic")  # field=value for filters
    # the same values (but those of one value per record: id, timestamps) as {field: [values]}, a JSON fast field:
    # Tantivy keeps one column per field in it, so a group_by count reads only the fields asked for (one text
    # field of every pair counted all of a match's values, 8 a paper, to keep 2)
    b.add_json_field("groups", fast=True, tokenizer_name="raw", index_option="basic")
    for name in ("name_w", "kw_w", "body_w"):  # analysed words: BM25 needs frequencies, not positions
        b.add_text_field(name, tokenizer_name="whitespace", index_option="freq")
    # character bigrams of names and keywords with positions: substrings and exact phrases; a bigram's postings are
    # short, so the substring clause every Chinese query word carries stays cheap
    b.add_text_field("name_b", tokenizer_name="whitespace", index_option="position")
    # the body's characters with positions: its exact phrases (quoted, or a chunk's contiguous-phrase bonus). Half of
    # Tantivy's indexing and a sixth of the analysis were the body's bigrams; characters cost a third of both
    b.add_text_field("body_c", tokenizer_name="whitespace", index_option="position")
    b.add_text_field("uni", tokenizer_name="whitespace", index_option="freq")  # single characters of names
    b.add_text_field("ac", tokenizer_name="raw", index_option="basic")  # autocomplete keys
    b.add_bytes_field("card", stored=True)  # what autocomplete shows, without a store round trip
    for name in ("s_name", "s_city", "s_created", "s_updated"):
        b.add_text_field(name, fast=True, tokenizer_name="raw", index_option="basic")
    b.add_integer_field("year", indexed=True, fast=True)
    b.add_integer_field("revision", indexed=True, fast=True)
    return b.build()


def canonical_value(field: str, value: str) -> str:
    """Numbers written one way (``100`` for 100.0) so that equality filters match however they were typed."""
    if field in NUMBER_FIELDS or field in ("year", "revision"):
        try:
            number = float(value)
        except ValueError:
            return value
        return str(int(number)) if number.is_integer() else repr(number)
    return value


def domain_words(store: Any) -> list[str]:
    """Names kept whole by the segmenter: organisations and platforms in the store, and the cities."""
    words = [name for city in CITIES for name in (city.zh, city.zh_hant, city.zh.removesuffix("市"))]
    for type_name in DICTIONARY_TYPES:
        for record in store.iterate(type_name):
            words += docs.name_texts(record)
    return words


def store_identity(store: Any) -> str:
    """The id written into the store when it was made: the same wherever its files are moved or restored."""
    with store.engine.connect() as connection:
        return connection.execute(sa.select(store_identity_table.c.id)).scalar_one()


class IndexNotBuilt(Exception):
    pass


class SearchIndex:
    """One built index folder. Readers share it; one writer at a time (Tantivy's lock)."""

    def __init__(self, path: Path, index: tantivy.Index, analyzer: Analyzer, state: dict[str, Any]) -> None:
        self.path = path
        self.index = index
        self.schema = index.schema
        self.analyzer = analyzer
        self.state = state
        self._writer: tantivy.IndexWriter | None = None
        self._lock = threading.RLock()

    # -- opening ----------------------------------------------------------------------------------

    @staticmethod
    def read_state(path: Path) -> dict[str, Any] | None:
        try:
            return json.loads((path / STATE_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    @classmethod
    def open(cls, path: Path) -> SearchIndex:
        state = cls.read_state(path)
        if not state or state.get("schema") != SCHEMA_VERSION:
            raise IndexNotBuilt(str(path))
        try:
            index = tantivy.Index(build_schema(), path=str(path), reuse=True)
        except ValueError as error:
            raise IndexNotBuilt(str(path)) from error
        words = (path / DICTIONARY_FILE).read_text(encoding="utf-8").split("\n") \
            if (path / DICTIONARY_FILE).exists() else []
        return cls(path, index, Analyzer(words), state)

    @classmethod
    def create(cls, path: Path, words: Iterable[str], state: dict[str, Any]) -> SearchIndex:
        path.mkdir(parents=True, exist_ok=True)
        index = tantivy.Index(build_schema(), path=str(path), reuse=False)
        built = cls(path, index, Analyzer(words), state)
        built.save_dictionary()
        return built

    def save_dictionary(self) -> None:
        tmp = self.path / (DICTIONARY_FILE + ".tmp")
        tmp.write_text("\n".join(sorted(self.analyzer.words)), encoding="utf-8")
        os.replace(tmp, self.path / DICTIONARY_FILE)

    def save_state(self) -> None:
        tmp = self.path / (STATE_FILE + ".tmp")
        tmp.write_text(json.dumps(self.state, ensure_ascii=False, indent=1), encoding="utf-8")
        os.replace(tmp, self.path / STATE_FILE)

    # -- writing ----------------------------------------------------------------------------------

    def writer(self, heap: int = 64_000_000, threads: int = 1) -> tantivy.IndexWriter:
        with self._lock:
            if self._writer is None:
                self._writer = self.index.writer(heap, threads)
            return self._writer

    def close_writer(self) -> None:
        with self._lock:
            if self._writer is not None:
                writer, self._writer = self._writer, None
                try:
                    writer.wait_merging_threads()
                except Exception as error:  # noqa: BLE001 - already consumed or failed; dropping it frees the lock
                    log.debug("closing the index writer: %s", error)

    def document(self, record: dict[str, Any]) -> tantivy.Document:
        return as_document(analyse(self.analyzer, record), self.schema)

    def add(self, record: dict[str, Any]) -> None:
        self.writer().add_document(self.document(record))

    def delete(self, record_id: str) -> None:
        self.writer().delete_documents_by_term("id", record_id)

    def apply(self, entries: list[dict[str, Any]]) -> int:
        """Apply change-feed entries in order (upserts replace, tombstones remove) and commit, with the
        feed position, so that replaying them changes nothing."""
        if not entries:
            return 0
        with self._lock:
            writer = self.writer()
            new_words = False
            for entry in entries:
                writer.delete_documents_by_term("id", entry["id"])
                record = entry.get("record")
                if entry["op"] == "delete" or not record or record.get("deleted"):
                    continue
                if record.get("type") in DICTIONARY_TYPES:
                    new_words |= bool(self.analyzer.add_words(docs.name_texts(record)))
                writer.add_document(self.document(record))
            writer.commit()
            if new_words:
                self.save_dictionary()
            self.state["position"] = entries[-1]["seq"]
            self.state["applied_at"] = _now()
            self.save_state()
            self.index.reload()
        return len(entries)

    # -- reading ----------------------------------------------------------------------------------

    def searcher(self) -> tantivy.Searcher:
        return self.index.searcher()

    def size_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.path.iterdir() if p.is_file())


def analyse(a: Analyzer, record: dict[str, Any], *, sort_name: str | None = None) -> dict[str, Any]:
    """The index fields of a record, as plain Python values (so worker processes can compute them). ``sort_name``
    is the store's, when the record was read from its table; a feed entry's is worked out the same way here."""
    name_texts, keyword_texts, body_texts = docs.name_texts(record), docs.keyword_texts(record), \
        docs.body_texts(record)
    values = [(f, canonical_value(f, v)) for f, v in docs.filter_values(record)]
    pairs = [f"{f}={v}" for f, v in values]
    groups: dict[str, list[str]] = {}
    for field, value in values:
        if field not in UNGROUPED:
            groups.setdefault(field, []).append(value)
    normalized = normalize_many(name_texts + keyword_texts + body_texts)
    names = normalized[:len(name_texts)]
    keywords = normalized[len(name_texts):len(name_texts) + len(keyword_texts)]
    body = " ".join(normalized[len(name_texts) + len(keyword_texts):])
    short = " ".join(names + keywords)
    fields: dict[str, Any] = {
        "id": record["id"],
        "kv": pairs,
        "groups": groups,
        "name_w": a.index_text(" ".join(names)),
        "kw_w": a.index_text(" ".join(keywords)),
        "body_w": a.index_text(body),
        "name_b": bigrams(short),
        "body_c": characters(body),
        "uni": unigrams(short),
        "ac": autocomplete_keys(record, names),
        "card": json.dumps(card(record), ensure_ascii=False).encode(),
        "s_name": (sort_name if sort_name is not None else pinyin_sort_key(record_label(record))) or "\uffff",
        "s_city": record.get("city") or "\uffff",
        "s_created": record.get("created") or "",
        "s_updated": record.get("updated") or "",
        "revision": int(record.get("revision") or 0),
    }
    year = docs.record_year(record)
    if year is not None:
        fields["year"] = year
    return {k: v for k, v in fields.items() if v not in ([], "", {})}


def as_document(fields: dict[str, Any], schema: tantivy.Schema) -> tantivy.Document:
    """A Tantivy document of ``analyse``'s fields, each converted by its type in the schema: keyword arguments to
    ``tantivy.Document`` cost 2–10× as much (the same documents indexed), in the one process that feeds the writer."""
    return tantivy.Document.from_dict(fields, schema)


def card(record: dict[str, Any]) -> dict[str, Any]:
    names = record.get("name") or record.get("title") or {}
    return {"id": record["id"], "type": record["type"], "name": {k: v for k, v in names.items() if v},
            "city": record.get("city"), "kind": record.get("kind"), "access": record.get("access", "public")}


def autocomplete_keys(record: dict[str, Any], normalized_names: list[str]) -> list[str]:
    keys: list[str] = []
    for name in normalized_names:
        name = name[:100]
        keys.append(name)
        if name.isascii():  # English: also from the start of each later word ("university" in "... university")
            keys += [name[i + 1:] for i, c in enumerate(name) if c in " -" and i + 1 < len(name)]
    if record["type"] in docs.PINYIN_TYPES:
        names = record.get("name") or {}
        for text in (names.get("zh"), names.get("zh_hant"), *record.get("aliases", [])):
            if text:
                keys += pinyin_keys(text)
    return list(dict.fromkeys(k for k in keys if k))


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def build(store: Any, path: Path, *, progress: Callable[[int], None] | None = None,
          stop: threading.Event | None = None, heap: int = 256_000_000, threads: int = 2) -> dict[str, Any]:
    """Build a fresh index of every live record in the store in a sibling folder, then swap it in.
    The feed position is read before the store is read, so anything written meanwhile is replayed by
    the follower (applying an entry twice changes nothing). One build at a time (``RebuildLock``); setting
    ``stop`` ends it between batches, leaving the index as it was (``BuildStopped``)."""
    lock = RebuildLock(path)
    if not lock.acquire():
        raise running_error(lock.running())
    try:
        return _build(store, path, lock, progress, stop, heap, threads)
    finally:
        lock.release()


def _build(store: Any, path: Path, lock: RebuildLock, progress: Callable[[int], None] | None,
           stop: threading.Event | None, heap: int, threads: int) -> dict[str, Any]:
    started = dt.datetime.now(dt.UTC)
    building = path.parent / f".{path.name}.building-{uuid.uuid4().hex[:8]}"
    position = store.last_seq()
    total = sum(store.counts().values())
    state = {"schema": SCHEMA_VERSION, "build_id": uuid.uuid4().hex, "position": position,
             "store": store_identity(store), "built_at": _now(), "records": 0}
    lock.report(0, total)
    index: SearchIndex | None = None
    try:
        words = domain_words(store)
        index = SearchIndex.create(building, words, state)
        writer = index.writer(heap, threads)
        count = 0
        for fields in _analysed(store, index.analyzer, words, total):
            if stop is not None and stop.is_set():
                raise BuildStopped(str(path))
            for one in fields:
                writer.add_document(as_document(one, index.schema))
            count += len(fields)
            lock.report(count, total)
            if progress:
                progress(count)
        writer.commit()
        index.close_writer()
        if progress:
            progress(count)
        state["records"] = count
        state["seconds"] = round((dt.datetime.now(dt.UTC) - started).total_seconds(), 3)
        index.save_state()
        index = None
        _swap(building, path)
    except BaseException:
        if index is not None:  # Tantivy's threads stop writing segments there before the folder goes
            index.close_writer()
        shutil.rmtree(building, ignore_errors=True)
        raise
    return state


def _analysed(store: Any, analyzer: Analyzer, words: list[str], total: int) -> Iterator[list[dict[str, Any]]]:
    """The index fields of every live record, a chunk at a time in id order. Reading the records (their JSON
    decoded) and analysing them is most of a build's work and pure Python, so a store big enough to repay starting
    them is read and analysed in worker processes, one per core, a few chunks ahead of the writer (not the whole
    store: memory stays flat). This process reads only the ids that bound each chunk: it also feeds Tantivy, and
    when it decoded and sent every record its one core held the build back."""
    chunks = _id_ranges(store.engine)
    workers = min(os.cpu_count() or 1, MAX_ANALYSIS_WORKERS) if total >= PARALLEL_FROM else 1
    if workers == 1 or not _shareable(store.url):
        for first, last in chunks:
            yield _read_and_analyse(store.engine, analyzer, first, last)
        return
    # spawned, not forked: a server's threads (and Tantivy's) make a forked child unsafe
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_start_analysis_worker, initargs=(store.url, words))
    pending: deque[Future] = deque()
    try:
        for first, last in chunks:
            pending.append(pool.submit(_analyse_range, first, last))
            if len(pending) > 2 * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)  # a stopped build does not wait for the queue
        raise
    pool.shutdown()


def _id_ranges(engine: sa.Engine) -> Iterator[tuple[str, str]]:
    """(first, last) ids of each chunk of ``ANALYSIS_CHUNK`` live records, in id order."""
    after = ""
    while True:
        with engine.connect() as connection:
            ids = connection.execute(sa.select(records_table.c.id).where(
                records_table.c.deleted.is_(None), records_table.c.id > after)
                .order_by(records_table.c.id).limit(BUILD_BATCH)).scalars().all()
        if not ids:
            return
        for start in range(0, len(ids), ANALYSIS_CHUNK):
            chunk = ids[start:start + ANALYSIS_CHUNK]
            yield chunk[0], chunk[-1]
        after = ids[-1]


def _read_and_analyse(engine: sa.Engine, analyzer: Analyzer, first: str, last: str) -> list[dict[str, Any]]:
    """The index fields of the live records with ids from ``first`` to ``last``. Their sort key is the store's
    own ``records.sort_name`` (the order ``sort=name`` lists), read beside the JSON rather than worked out again
    (pinyin per record was a tenth of the analysis)."""
    with engine.connect() as connection:
        rows = connection.execute(sa.select(records_table.c.data, records_table.c.sort_name).where(
            records_table.c.deleted.is_(None), records_table.c.id >= first, records_table.c.id <= last)
            .order_by(records_table.c.id)).all()
    return [analyse(analyzer, data, sort_name=sort_name) for data, sort_name in rows]


def _shareable(url: str) -> bool:
    """Whether worker processes can open the same database (not an in-memory SQLite one)."""
    parsed = sa.make_url(url)
    return parsed.get_backend_name() != "sqlite" or parsed.database not in (None, "", ":memory:")


_worker_engine: sa.Engine | None = None
_worker_analyzer: Analyzer | None = None


def _start_analysis_worker(url: str, words: list[str]) -> None:
    global _worker_engine, _worker_analyzer
    _worker_engine = Store(url).engine
    _worker_analyzer = Analyzer(words)


def _analyse_range(first: str, last: str) -> list[dict[str, Any]]:
    assert _worker_engine is not None and _worker_analyzer is not None
    return _read_and_analyse(_worker_engine, _worker_analyzer, first, last)


def _swap(building: Path, path: Path) -> None:
    old = None
    if path.exists():
        old = path.parent / f".{path.name}.old-{uuid.uuid4().hex[:8]}"
        os.replace(path, old)
    os.replace(building, path)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
