"""Full-text search over every resource type: a Tantivy index on local disk, derived from the store and
kept current by following its change feed (DESIGN §2)."""

from zhulian.search.index import SearchIndex
from zhulian.search.service import SearchService

__all__ = ["SearchIndex", "SearchService"]
