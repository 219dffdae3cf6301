"""The store: SQLite or PostgreSQL behind one interface, with revisions, tombstones and a change feed.

This package's namespace is its public interface; modules import from ``zhulian.store`` only, never from its
files (a test checks). It offers:

- ``Store`` and its ``Writer`` (used through the record service, ``zhulian.records``, which audits each write);
  ``order_lock``, the statement taking ``Writer.keep_order``'s lock, for a writer batching it with others;
- ``FeedFollower``, for tables derived from the change feed;
- the list grammar: ``parse_filter``, ``Condition``, ``allowed_fields``, ``Visibility``;
- helpers on record content: ``now``, ``content_of``, ``resolve_ref``, ``Partial``, ``field_units``,
  ``changed_units``;
- for a module's own tables and migrations: the column types ``Json``, ``Serial``, ``Timestamp`` and ``WRITE``
  (the execution option that opens a write transaction on SQLite);
- the read model: ``records``, ``revisions``, ``pids``, ``relations`` and ``store_identity``, the tables a
  derived table or a feed may query with SQLAlchemy. They are read-only to everyone outside the store: every
  write goes through the record service. A revision's record is ``revision_data``, selected from
  ``revisions_and_records`` (the latest revision's is kept once, in ``records``).
"""

from zhulian.store.engine import WRITE
from zhulian.store.follow import FeedFollower
from zhulian.store.query import Condition, Visibility, allowed_fields, parse_filter
from zhulian.store.store import (
    Page, Partial, Store, WriteResult, Writer, changed_units, content_of, field_units, now, order_lock,
    resolve_ref,
)
from zhulian.store.tables import (
    Json, Serial, Timestamp, pids, records, relations, revision_data, revisions, revisions_and_records,
    store_identity,
)

__all__ = ["WRITE", "Condition", "FeedFollower", "Json", "Page", "Partial", "Serial", "Store", "Timestamp",
           "Visibility", "WriteResult", "Writer", "allowed_fields", "changed_units", "content_of", "field_units",
           "now", "order_lock", "parse_filter", "pids", "records", "relations", "resolve_ref", "revision_data",
           "revisions", "revisions_and_records", "store_identity"]
