"""The store: SQLite or PostgreSQL behind one interface, with revisions, tombstones and a change feed."""

from zhulian.store.store import Page, Store, WriteResult, Writer

__all__ = ["Page", "Store", "WriteResult", "Writer"]
