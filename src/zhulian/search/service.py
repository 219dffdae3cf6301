"""The search service: one place that the CLI, the API and other modules call to search, autocomplete,
rebuild the index and follow the store's change feed."""

from __future__ import annotations

import json
import logging
import threading
import time
from pathlib import Path
from typing import Any

import tantivy
from tantivy import Occur, Query

from zhulian.config import Settings
from zhulian.errors import Problem, ZhulianError, invalid
from zhulian.model import (
    COLLECTIONS,
    TYPE_BY_COLLECTION,
    TYPES,
    display_name,
    resolve_type,
)
from zhulian.region.adcodes import adcode_name, by_city
from zhulian.search import documents as docs
from zhulian.search import highlight
from zhulian.search.index import (
    SORT_FIELDS,
    UNGROUPED,
    IndexNotBuilt,
    SearchIndex,
    build,
    canonical_value,
    store_identity,
)
from zhulian.search.rebuild import BuildStopped, RebuildLock, building_error
from zhulian.search.query import Clause, ParsedQuery, clean, parse
from zhulian.store import Condition, FeedFollower, allowed_fields, parse_filter
from zhulian.text import bigrams, normalize
from zhulian.text.analysis import characters, normalize_many_with_map

log = logging.getLogger(__name__)

MAX_PER_PAGE = 200
MAX_OFFSET = 10_000
AUTOCOMPLETE_LIMIT = 10
MAX_GROUP_VALUES = 1_000_000  # distinct field=value pairs counted per query: all of them, so counts are exact
FEED_BATCH = 2000  # feed entries per commit: 5,000 edits took 4.2–4.8 CPU-s applied 500 a commit, 3.1 at 2,000
WEIGHTS = {"name_w": 3.0, "kw_w": 2.0, "body_w": 1.0, "name_b": 2.5, "uni": 2.0, "body_c": 1.0}
FIRST_BUILD_WAIT = 20.0  # seconds a search waits for the first index of a server before answering 503
BUILD_POLL = 0.05
RETRY_AFTER = 30.0  # seconds before a server tries again a rebuild that failed
STOP_WAIT = 2.0  # seconds to wait for the follower, then for a rebuild, to stop
VISIBLE_ACCESS = ("public",)  # keys and roles (the API issue) widen this; the level is in the index


class SearchService:
    def __init__(self, store: Any, *, settings: Settings | None = None, path: Path | None = None) -> None:
        self.store = store
        self.path = Path(path) if path else (settings or Settings()).data_dir / "index"
        self._index: SearchIndex | None = None
        self._state_mtime: int | None = None
        self._lock = threading.RLock()
        self._follower: FeedFollower | None = None
        self._builder: threading.Thread | None = None  # a server's rebuild in the background
        self._stopping = threading.Event()  # set when the server stops: ends a rebuild and any wait for one
        self._failed_at = -RETRY_AFTER
        self._stale = False  # the open index was built from another store; a rebuild replaces it

    # -- the index ---------------------------------------------------------------------------------

    def index(self) -> SearchIndex:
        """The open index; reopened when another process rebuilt it. Without one that belongs to this store,
        one is built: in the calling thread for a command, in the background for a server, which keeps
        answering from the index it has (even one of another store's, until the new one is in) or, with none
        at all, waits a little for the first build and then answers 503 with its progress."""
        current = self._index
        if current is not None and self._state_stamp() == self._state_mtime:
            return current  # the usual case, without waiting for a follower that is applying a batch
        deadline = time.monotonic() + FIRST_BUILD_WAIT
        while True:
            opened = self._current_index()
            if opened is not None:
                return opened
            # a server with no index yet: wait (without the lock, so the follower and other searches go on)
            if self._stopping.is_set() or time.monotonic() > deadline:
                raise building_error(RebuildLock(self.path).running())
            time.sleep(BUILD_POLL)

    def _current_index(self) -> SearchIndex | None:
        with self._lock:
            mtime = self._state_stamp()
            if self._index is not None and mtime == self._state_mtime:
                return self._index
            state = SearchIndex.read_state(self.path)
            if self._index is not None and state and state.get("build_id") == self._index.state.get("build_id"):
                self._index.state = state
                self._index.index.reload()
                self._state_mtime = mtime
                return self._index
            self._close()
            opened = self._open_own()
            if opened is None and self._follower is None:  # a command: build it here and now
                self._build_or_wait()
                opened = self._open_own()
            elif opened is None:
                self._start_background_build()
                opened = self._open_stale()
            if opened is not None:
                self._index = opened
                self._state_mtime = self._state_stamp()
                # a newly built index starts where its build read the feed: what was written during the build
                # goes in before anyone searches it
                while self._follower is not None and not self._stale and self._apply_batch(opened):
                    pass
            return opened

    def _open_own(self) -> SearchIndex | None:
        """The index on disk if it was built from this store (its id, not its path) and not ahead of its feed."""
        try:
            opened = SearchIndex.open(self.path)
        except IndexNotBuilt:
            return None
        if opened.state.get("store") != store_identity(self.store) or \
                opened.state.get("position", 0) > self.store.last_seq():
            return None
        self._stale = False
        return opened

    def _open_stale(self) -> SearchIndex | None:
        """The index on disk when it belongs to another store (or a later state of this one): better than
        nothing while its replacement is built, but never fed this store's changes."""
        try:
            opened = SearchIndex.open(self.path)
        except IndexNotBuilt:
            return None
        self._stale = True
        return opened

    def _build_or_wait(self) -> None:
        try:
            build(self.store, self.path)
        except ZhulianError as error:
            if error.code != "index_rebuilding":
                raise
            while RebuildLock(self.path).running() is not None:  # another process builds it: use theirs
                time.sleep(BUILD_POLL)

    def _start_background_build(self) -> None:
        if self._builder is not None and self._builder.is_alive():
            return
        if self._stopping.is_set() or RebuildLock(self.path).running() is not None or \
                time.monotonic() < self._failed_at + RETRY_AFTER:
            return  # stopping, another process (a worker beside this one) is building it, or it just failed
        self._builder = threading.Thread(target=self._background_build, name="zhulian-search-rebuild", daemon=True)
        self._builder.start()

    def _background_build(self) -> None:
        try:
            build(self.store, self.path, stop=self._stopping)
            self.catch_up()  # what was written during the build, before the first search sees the new index
        except BuildStopped:
            log.info("index rebuild stopped: the server is shutting down; the next start builds it again")
        except ZhulianError as error:
            log.info("index rebuild not started: %s", error.message)
        except Exception:
            self._failed_at = time.monotonic()
            log.exception("rebuilding the search index failed; trying again in %s s", RETRY_AFTER)

    def _state_stamp(self) -> int | None:
        try:
            return (self.path / "state.json").stat().st_mtime_ns
        except OSError:
            return None

    def _close(self) -> None:
        if self._index is not None:
            self._index.close_writer()
            self._index = None

    def rebuild(self, progress: Any = None) -> dict[str, Any]:
        with self._lock:
            self._close()
            state = build(self.store, self.path, progress=progress)
            self._index = SearchIndex.open(self.path)
            self._stale = False
            self._state_mtime = self._state_stamp()
            return state

    def catch_up(self, *, max_batches: int | None = None) -> int:
        """Apply what the change feed holds beyond the index's position; returns how many entries. Nothing
        while a rebuild runs: the new index starts from its own position."""
        applied, batches = 0, 0
        while (max_batches is None or batches < max_batches) and not self._stopping.is_set():
            with self._lock:  # one batch at a time, so searches are never held up for long
                if self._follower is None:
                    index = self.index()
                elif self._stopping.is_set() or RebuildLock(self.path).running() is not None:
                    break
                else:
                    index = self._current_index()  # never waits: with none yet, the build has begun
                if index is None or self._stale:
                    break
                done = self._apply_batch(index)
                if not done:
                    break
                applied += done
                batches += 1
        return applied

    def _apply_batch(self, index: SearchIndex) -> int:
        """One batch of the feed beyond the index's position (the caller holds the lock)."""
        entries = self.store.changes(index.state["position"], FEED_BATCH, with_records=True)
        if not entries:
            return 0
        try:
            index.writer()
        except ValueError as error:  # another process (a server's follower) holds the writer
            log.info("index writer busy, leaving the feed to its holder: %s", error)
            return 0
        applied = index.apply(entries)
        self._state_mtime = self._state_stamp()
        return applied

    def status(self) -> dict[str, Any]:
        """Where the index stands, without building anything: position, lag, and any rebuild under way."""
        last = self.store.last_seq()
        rebuilding = RebuildLock(self.path).running()
        try:
            index = self._index if self._index is not None and self._state_stamp() == self._state_mtime \
                else SearchIndex.open(self.path)
        except IndexNotBuilt:  # none yet, or of an older schema
            return {"built": False, "path": str(self.path), "position": None, "last_seq": last, "lag": None,
                    "rebuilding": rebuilding}
        state = index.state
        own = state.get("store") == store_identity(self.store) and state.get("position", 0) <= last
        return {"built": True, "path": str(self.path), "position": index.state["position"], "last_seq": last,
                "lag": max(0, last - index.state["position"]) if own else None, "own_store": own,
                "rebuilding": rebuilding, "documents": index.searcher().num_docs,
                "built_at": index.state.get("built_at"), "applied_at": index.state.get("applied_at"),
                "size_bytes": index.size_bytes(), "dictionary_words": len(index.analyzer.words),
                "following": self._follower is not None and self._follower.is_alive()}

    # -- following the change feed -----------------------------------------------------------------

    def start_follower(self, interval: float = 0.2) -> FeedFollower:
        """Keep the index current while a server runs (and build it in the background when it must be)."""
        self._stopping.clear()
        if self._follower is None or not self._follower.is_alive():
            self._follower = FeedFollower("zhulian-search-follower", lambda: self.catch_up(max_batches=20), interval)
            self._follower.start()
        return self._follower

    def stop_follower(self) -> None:
        """Stop following and any rebuild under way (between two batches), within a few seconds."""
        self._stopping.set()
        if self._follower is not None:
            self._follower.stop(STOP_WAIT)
            self._follower = None
        if self._builder is not None:
            self._builder.join(STOP_WAIT)
            self._builder = None
        with self._lock:
            if self._index is not None:
                self._index.close_writer()

    # -- searching ---------------------------------------------------------------------------------

    def search(self, q: str | None = None, *, type: str | list[str] | None = None, filter: str | None = None,
               sort: str | None = None, group_by: str | None = None, page: int = 1, per_page: int = 25,
               highlights: bool = True, fetch: bool = True,
               access: tuple[str, ...] = VISIBLE_ACCESS) -> dict[str, Any]:
        """``access`` is the record access levels the caller may see (public only until keys and roles
        decide more)."""
        started = time.perf_counter()
        types = _types(type)
        type_name = types[0] if len(types) == 1 else None
        _check_paging(page, per_page)
        conditions = parse_filter(filter, type_name)
        group_fields = _group_fields(group_by, type_name)
        order = _sort(sort)
        parsed = parse(q)
        index = self.index()
        searcher = index.searcher()
        query = self.query(index, searcher, parsed, types, conditions, access)
        offset = (page - 1) * per_page
        if offset >= MAX_OFFSET:
            raise invalid([Problem("page", page, f"page × per_page may not exceed {MAX_OFFSET}",
                                   f"页码 × 每页条数不能超过 {MAX_OFFSET}")], "query")
        if order is None:
            result = searcher.search(query, per_page, count=True, offset=offset)
        else:
            field, descending = order
            result = searcher.search(query, per_page, count=True, offset=offset, order_by_field=SORT_FIELDS[field],
                                     order=tantivy.Order.Desc if descending else tantivy.Order.Asc)
        # sorted by a field, Tantivy gives that field's value where the score would be: no relevance to show
        hits = [(score if order is None else None, searcher.doc(address)["id"][0]) for score, address in result.hits]
        if order is None:
            # Tantivy orders equal scores by where the documents sit in the index, which a rebuild changes: the
            # record id orders them instead, so a page lists the same records in the same order after a rebuild
            hits.sort(key=lambda hit: (-hit[0], hit[1]))
        results = self._results(index, hits, parsed, highlights, access) if fetch else [
            {"id": record_id, "score": score} for score, record_id in hits]
        meta: dict[str, Any] = {"count": result.count, "page": page, "per_page": per_page, "q": parsed.text,
                                "query_mode": "plain" if parsed.plain else "syntax",
                                "sort": f"{order[0]}:{'desc' if order[1] else 'asc'}" if order else "relevance"}
        if parsed.notices:
            meta["notice"] = " ".join(en for en, _zh in parsed.notices)
            meta["notice_zh"] = "".join(zh for _en, zh in parsed.notices)
        body: dict[str, Any] = {"meta": meta, "results": results}
        if group_fields:
            # over the ranking query itself: its optional contiguous-phrase bonuses match nothing on their own, and
            # unscored they cost the aggregation next to nothing, less than building a query without them (0.15 ms)
            groups = _groups(searcher, query, group_fields, type_name, result.count)
            body["group_by"] = groups[group_fields[0]]
            if len(group_fields) > 1:
                body["groups"] = groups
        meta["took_ms"] = round((time.perf_counter() - started) * 1000, 2)
        return body

    def _results(self, index: SearchIndex, hits: list[tuple[float | None, str]], parsed: ParsedQuery,
                 want_highlights: bool, access: tuple[str, ...]) -> list[dict]:
        if not hits:
            return []
        records = self.store.get_many([record_id for _score, record_id in hits])
        results = []
        for score, record_id in hits:
            record = records.get(record_id)
            if record is None or record.get("access", "public") not in access:
                continue  # deleted since the index last caught up
            results.append({**record, "score": None if score is None else round(float(score), 4)})
        if want_highlights:
            for item, found in zip(results, _highlights(results, _needles(index, parsed)), strict=True):
                item["highlights"] = found
        return results

    # -- query building ----------------------------------------------------------------------------

    def query(self, index: SearchIndex, searcher: tantivy.Searcher, parsed: ParsedQuery, types: list[str],
              conditions: list[Condition], access: tuple[str, ...]) -> Query:
        """The Tantivy query a search runs, ranked by its words and narrowed by its filters and access."""
        return _boolean([(Occur.Must, self._text_query(index, parsed)),
                         *self._filter_parts(index, searcher, types, conditions, access)])

    def _text_query(self, index: SearchIndex, parsed: ParsedQuery) -> Query:
        if parsed.empty:
            return Query.all_query()
        parts: list[tuple[Occur, Query]] = []
        # The last word typed after others may be unfinished (``DH`` of ``半潜式钻井平台用钢DH``): its Latin
        # part also matches as a prefix. A single word alone is matched whole (prefixes are autocomplete's).
        last = parsed.items[-1].alternatives[-1] if not parsed.text[-1:].isspace() else None
        several = len(parsed.items) > 1
        for item in parsed.items:
            alternatives = [q for q in (self._clause_query(index, c, prefix=c is last, several=several)
                                        for c in item.alternatives) if q is not None]
            if not alternatives:
                continue  # nothing searchable in it (punctuation only): it asks for nothing
            query = alternatives[0] if len(alternatives) == 1 else _boolean(
                [(Occur.Should, q) for q in alternatives])
            parts.append((Occur.MustNot if item.negated else Occur.Must, query))
        if not any(occur == Occur.Must for occur, _ in parts):
            if parsed.positive:  # words were given but none could match anything
                return Query.empty_query()
            parts.append((Occur.Must, Query.all_query()))
        return _boolean(parts)

    def _clause_query(self, index: SearchIndex, clause: Clause, *, prefix: bool = False,
                      several: bool = False) -> Query | None:
        schema = index.schema
        text = normalize(clause.text)
        if clause.phrase:
            grams = bigrams(text).split()
            if not grams:
                return None
            if len(grams) == 1 and len(grams[0]) == 1:
                return self._token_query(index, grams[0], grams[0])
            return Query.disjunction_max_query([
                Query.boost_query(_grams(schema, "name_b", grams), WEIGHTS["name_b"] + 0.5),
                Query.boost_query(_grams(schema, "body_c", characters(text).split()), WEIGHTS["body_c"]),
            ], 0.1)
        tokens = index.analyzer.query_tokens(text)
        if not tokens:
            return None
        parts = [(Occur.Must, self._token_query(index, stemmed, surface,
                                                prefix=prefix and n == len(tokens) - 1 and (several or n > 0)))
                 for n, (stemmed, surface) in enumerate(tokens)]
        if len(tokens) > 1:  # the chunk as written, contiguous, ranks above its words scattered
            grams = bigrams(text).split()
            if len(grams) > 1:
                parts.append((Occur.Should, Query.boost_query(_grams(schema, "name_b", grams), 2.0)))
                parts.append((Occur.Should, Query.boost_query(_grams(schema, "body_c", characters(text).split()), 0.5)))
        return parts[0][1] if len(parts) == 1 else _boolean(parts)

    def _token_query(self, index: SearchIndex, stemmed: str, surface: str, *, prefix: bool = False) -> Query:
        schema = index.schema
        subs = [Query.boost_query(Query.term_query(schema, field, stemmed), WEIGHTS[field])
                for field in ("name_w", "kw_w", "body_w")]
        if prefix and surface.isascii() and surface.isalnum():
            subs.append(Query.boost_query(Query.regex_query(schema, "name_w", _regex_escape(surface) + ".+"), 1.0))
        if surface.isalnum() and not surface.isascii():  # substrings of Chinese; English matches whole words
            if len(surface) == 1:
                subs.append(Query.boost_query(Query.term_query(schema, "uni", surface), WEIGHTS["uni"]))
            else:
                subs.append(Query.boost_query(_grams(schema, "name_b", bigrams(surface).split()), WEIGHTS["name_b"]))
        return Query.disjunction_max_query(subs, 0.1)

    def _filter_parts(self, index: SearchIndex, searcher: tantivy.Searcher, types: list[str],
                      conditions: list[Condition], access: tuple[str, ...]) -> list[tuple[Occur, Query]]:
        """The clauses that narrow a text query to the records asked for and visible: each a Must scoring
        nothing or a MustNot."""
        schema = index.schema
        parts: list[tuple[Occur, Query]] = _hidden(searcher, schema, access)
        if types:
            parts.append((Occur.Must, Query.term_set_query(schema, "kv", [f"type={t}" for t in types])))
        for condition in conditions:
            field = condition.field
            if condition.op in ("eq", "ne"):
                terms = [f"{field}={canonical_value(field, v)}" for v in condition.values]
                parts.append((Occur.Must if condition.op == "eq" else Occur.MustNot,
                              Query.term_set_query(schema, "kv", terms)))
                continue
            prefix = f"{field}="
            matching = [term for term, _n in searcher.terms_with_prefix("kv", prefix)
                        if _compare(condition, term[len(prefix):])]
            parts.append((Occur.Must, Query.term_set_query(schema, "kv", matching) if matching
                          else Query.empty_query()))
        return [(occur, Query.const_score_query(query, 0.0) if occur == Occur.Must else query)
                for occur, query in parts]

    # -- autocomplete ------------------------------------------------------------------------------

    def autocomplete(self, collection: str | None, q: str | None, *, limit: int = AUTOCOMPLETE_LIMIT,
                     access: tuple[str, ...] = VISIBLE_ACCESS) -> dict[str, Any]:
        started = time.perf_counter()
        type_name = None if collection in (None, "", "all") else _collection_type(collection)
        prefix = normalize(clean(q or ""))[:100]
        results: list[dict[str, Any]] = []
        if prefix:
            index = self.index()
            searcher = index.searcher()
            schema = index.schema
            parts = [(Occur.Must, Query.regex_query(schema, "ac", _regex_escape(prefix) + ".*")),
                     *_hidden(searcher, schema, access)]
            if type_name:
                parts.append((Occur.Must, Query.term_query(schema, "kv", f"type={type_name}")))
            hits = searcher.search(_boolean(parts), 200, count=False).hits
            cards = [json.loads(bytes(searcher.doc(address)["card"][0]).decode()) for _s, address in hits]
            cards.sort(key=lambda c: _autocomplete_rank(c, prefix))
            results = [_suggestion(c) for c in cards[:min(limit, AUTOCOMPLETE_LIMIT)]]
        took_ms = round((time.perf_counter() - started) * 1000, 2)
        return {"meta": {"count": len(results), "q": q or "", "took_ms": took_ms}, "results": results}


# -- helpers -----------------------------------------------------------------------------------------

def _hidden(searcher: tantivy.Searcher, schema: tantivy.Schema, access: tuple[str, ...]) -> list[tuple[Occur, Query]]:
    """Leave out the access levels the index holds that the caller may not see. Excluding the few is the same as
    requiring the visible: a record has one level. But requiring ``access=public``, which nearly every record
    has, made Tantivy walk that whole posting list with each query: two to three times its search and facet time
    (bench/search_bench.py)."""
    hidden = [term for term, _n in searcher.terms_with_prefix("kv", "access=")
              if term.removeprefix("access=") not in access]
    return [(Occur.MustNot, Query.term_set_query(schema, "kv", hidden))] if hidden else []


def _groups(searcher: tantivy.Searcher, query: Query, fields: list[str], type_name: str | None,
            count: int) -> dict[str, list[dict[str, Any]]]:
    """Exact counts per value of each field over the matches: one pass of Tantivy's terms aggregations over the
    ``groups`` fast columns of the fields asked for (not one evaluation of the query per value, and not the
    columns of fields nobody asked about). A district's count goes to its city, the district listed under it."""
    counted = searcher.aggregate(query, group_spec(fields))
    values: dict[str, list[dict[str, Any]]] = {}
    for field in fields:
        values[field] = [{"key": bucket["key"], "key_display_name": display_name(type_name, field, bucket["key"]),
                          "count": bucket["doc_count"]} for bucket in counted[field]["buckets"]
                         if bucket["doc_count"] > 0]
        if field in ("city", "node", "year", "access", "type", "revision"):  # one value per record
            missing = count - sum(g["count"] for g in values[field])
            if missing > 0:
                values[field].append({"key": None, "key_display_name": "未知 unknown", "count": missing})
        values[field].sort(key=lambda g: (-g["count"], str(g["key"])))
    if "city" in values:
        values["city"] = by_city(values["city"])
    return values


def group_spec(fields: list[str]) -> dict[str, Any]:
    """Tantivy's terms aggregations counting every value of each field's ``groups`` fast column."""
    return {field: {"terms": {"field": f"groups.{field}", "size": MAX_GROUP_VALUES, "segment_size": MAX_GROUP_VALUES}}
            for field in fields}


def _grams(schema: tantivy.Schema, field: str, grams: list[str]) -> Query:
    """A run of bigrams or characters in a row (a substring); Tantivy's phrase query needs two terms at least."""
    if len(grams) == 1:
        return Query.term_query(schema, field, grams[0])
    return Query.phrase_query(schema, field, grams)


def _boolean(parts: list[tuple[Occur, Query]]) -> Query:
    return Query.boolean_query(parts)


def _types(type_param: str | list[str] | None) -> list[str]:
    if not type_param:
        return []
    names = type_param if isinstance(type_param, list) else str(type_param).split(",")
    return list(dict.fromkeys(resolve_type(n) for n in names if n.strip()))


def _collection_type(collection: str) -> str:
    if collection in TYPE_BY_COLLECTION:
        return TYPE_BY_COLLECTION[collection]
    if collection in TYPES:
        return collection
    known = ", ".join(COLLECTIONS.values())
    raise ZhulianError("not_found", f"No collection {collection!r}; collections: all, {known}.",
                       f"没有 {collection!r} 这个集合；可用集合：all、{'、'.join(COLLECTIONS.values())}。", 404)


def _check_paging(page: int, per_page: int) -> None:
    problems = []
    if not 1 <= per_page <= MAX_PER_PAGE:
        problems.append(Problem("per_page", per_page, f"per_page is 1 to {MAX_PER_PAGE}",
                                f"每页条数应为 1 至 {MAX_PER_PAGE}"))
    if page < 1:
        problems.append(Problem("page", page, "page starts at 1", "页码从 1 开始"))
    if problems:
        raise invalid(problems, "query")


def _group_fields(group_by: str | None, type_name: str | None) -> list[str]:
    if not group_by:
        return []
    fields = allowed_fields(type_name)
    choices = [f for f in fields if f not in UNGROUPED]
    wanted = [f.strip() for f in group_by.split(",") if f.strip()]
    bad = [f for f in wanted if f not in choices]
    if bad or len(wanted) > 5:
        raise invalid([Problem("group_by", ",".join(bad) or group_by, f"group by one of {', '.join(choices)}",
                               f"分组字段应为 {'、'.join(choices)} 之一")], "query")
    return wanted


def _sort(sort: str | None) -> tuple[str, bool] | None:
    if not sort or sort.strip() in ("relevance", "score", "relevance:desc"):
        return None
    name, _, direction = sort.split(",")[0].strip().partition(":")
    if name not in SORT_FIELDS or direction not in ("", "asc", "desc"):
        choices = ["relevance", *SORT_FIELDS]
        raise invalid([Problem("sort", sort, f"sort by one of {', '.join(choices)}, optionally :asc or :desc",
                               f"排序字段应为 {'、'.join(choices)} 之一，可加 :asc 或 :desc")], "query")
    return name, direction == "desc"


def _compare(condition: Condition, value: str) -> bool:
    if condition.kind == "number":
        try:
            number, bounds = float(value), [float(v) for v in condition.values]
        except ValueError:
            return False
    else:
        number, bounds = value, list(condition.values)
    if condition.op == "gt":
        return number > bounds[0]
    if condition.op == "lt":
        return number < bounds[0]
    return bounds[0] <= number <= bounds[1]


def _needles(index: SearchIndex, parsed: ParsedQuery) -> list[str]:
    needles: list[str] = []
    for item in parsed.positive:
        for clause in item.alternatives:
            text = normalize(clause.text)
            if clause.phrase:
                needles.append(text)
            else:
                for stemmed, surface in index.analyzer.query_tokens(text):
                    needles += [surface, stemmed]
    return sorted(set(needles), key=len, reverse=True)


def _highlights(records: list[dict[str, Any]], needles: list[str]) -> list[dict[str, list[str]]]:
    """Each record's escaped fragments per field (name/title, aliases, keywords, abstract/description/body/specs).
    The whole page's texts are folded in one call: folding them record by record was most of a search's
    highlighting (bench/search_bench.py)."""
    if not needles:
        return [{} for _record in records]
    texts = [_highlighted_texts(record) for record in records]
    folded = iter(normalize_many_with_map([text for own in texts for _field, text in own]))
    pages = []
    for own in texts:
        found: dict[str, list[str]] = {}
        for field, text in own:
            frags = highlight.fragments(text, needles, normalized=next(folded))
            if frags:
                found.setdefault(field, []).extend(frags)
        pages.append({field: frags[:highlight.MAX_FRAGMENTS] if field not in ("keywords", "aliases") else frags
                      for field, frags in found.items()})
    return pages


def _highlighted_texts(record: dict[str, Any]) -> list[tuple[str, str]]:
    texts: list[tuple[str, str]] = []
    for field in docs.NAME_FIELDS + ("aliases", "keywords") + docs.BODY_FIELDS:
        value = record.get(field)
        if isinstance(value, dict):
            texts += [(field, value[lang]) for lang in ("zh", "zh_hant", "en") if value.get(lang)]
        elif isinstance(value, list):
            texts += [(field, v) for v in value if isinstance(v, str) and v]
        elif isinstance(value, str) and value:
            texts.append((field, value))
    return texts


def _regex_escape(text: str) -> str:
    return "".join("\\" + c if c in r"\.+*?()|[]{}^$#&-~" else c for c in text)


def _autocomplete_rank(card: dict[str, Any], prefix: str) -> tuple:
    names = [normalize(v) for v in card["name"].values()]
    exact = prefix in names
    starts = any(n.startswith(prefix) for n in names)
    label = card["name"].get("zh") or card["name"].get("zh_hant") or card["name"].get("en") or ""
    return (not exact, not starts, len(label), label, card["id"])


def _suggestion(card: dict[str, Any]) -> dict[str, Any]:
    from zhulian.model import TYPE_LABELS

    type_name = card["type"]
    hint, hint_en = [], []
    if card.get("city"):
        hint.append(adcode_name(card["city"]) or card["city"])
        en = _city_en(card["city"])
        hint_en.append(en or card["city"])
    if card.get("kind"):
        hint.append(display_name(type_name, "kind", card["kind"]))
        hint_en.append(card["kind"].replace("_", " "))
    else:
        hint.append(TYPE_LABELS[type_name][0])
        hint_en.append(TYPE_LABELS[type_name][1])
    names = card["name"]
    return {"id": card["id"], "type": type_name, "name": names.get("zh") or names.get("zh_hant") or names.get("en"),
            "names": names, "city": card.get("city"), "kind": card.get("kind"),
            "hint": " · ".join(hint), "hint_en": " · ".join(hint_en)}


def _city_en(adcode: str) -> str | None:
    from zhulian.region.cities import CITIES

    known = next((c.en for c in CITIES if c.adcode == adcode), None)
    if known:
        return known
    name = adcode_name(adcode)
    if not name:
        return None
    from pypinyin import lazy_pinyin

    base = name.removesuffix("市").removesuffix("省")
    return "".join(lazy_pinyin(base)).capitalize() or name
