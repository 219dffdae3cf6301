"""Text analysis shared by indexing and querying (DESIGN §5: fold traditional↔simplified and
full-width↔half-width; segment Chinese; stem English)."""

from zhulian.text.analysis import (
    Analyzer,
    analyzer,
    bigrams,
    is_cjk,
    normalize,
    normalize_with_map,
    pinyin_keys,
    pinyin_sort_key,
    stem,
)

__all__ = ["Analyzer", "analyzer", "bigrams", "is_cjk", "normalize", "normalize_with_map", "pinyin_keys",
           "pinyin_sort_key", "stem"]
