"""The exchange standard as code: typed resources in one envelope, typed relations, identifiers.

The twelve core types are declared in ``zhulian.model.core``; modules declare theirs in ``<module>/types.py``
and ``zhulian.plugins`` registers them when this package is first imported (docs/modules.md).
"""

from zhulian.model.ids import PREFIXES, is_id, new_id, parse_ref, type_of_id
from zhulian.model.registry import (
    COLLECTIONS, ENVELOPE_FIELDS, INDEXED_FIELDS, MODELS, RECORD_TYPES, SORTABLE, TYPE_BY_COLLECTION, TYPE_LABELS,
    TYPES, FieldSpec, RecordType, SearchSpec, display_name, filter_field, indexed_values, json_schema, record_label,
    register, resolve_type, type_of_collection, unregister, validate_record,
)
from zhulian.model.relations import PREDICATES, PredicateSpec
from zhulian.model.types import Resource, year_of

__all__ = [
    "COLLECTIONS", "ENVELOPE_FIELDS", "INDEXED_FIELDS", "MODELS", "PREDICATES", "PREFIXES", "RECORD_TYPES",
    "SORTABLE", "TYPES", "TYPE_BY_COLLECTION", "TYPE_LABELS", "FieldSpec", "PredicateSpec", "RecordType", "Resource",
    "SearchSpec", "display_name", "filter_field", "indexed_values", "is_id", "json_schema", "new_id", "parse_ref",
    "record_label", "register", "resolve_type", "type_of_collection", "type_of_id", "unregister", "validate_record",
    "year_of",
]


def _register_all() -> None:
    # Last, once every name above is bound: a module's types.py imports them from this package.
    from zhulian import plugins
    from zhulian.model.core import CORE_TYPES

    for record_type in CORE_TYPES:
        register(record_type)
    plugins.register_types()


_register_all()
