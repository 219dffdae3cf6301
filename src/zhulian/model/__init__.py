"""The exchange standard as code: thirteen typed resources in one envelope, typed relations, identifiers."""

from zhulian.model.ids import PREFIXES, is_id, new_id, parse_ref, type_of_id
from zhulian.model.registry import (
    COLLECTIONS, ENVELOPE_FIELDS, INDEXED_FIELDS, SORTABLE, TYPE_BY_COLLECTION, TYPE_LABELS, TYPES, display_name,
    indexed_values, json_schema, record_label, resolve_type, type_of_collection, validate_record,
)
from zhulian.model.relations import PREDICATES
from zhulian.model.types import MODELS, Resource

__all__ = [
    "COLLECTIONS", "ENVELOPE_FIELDS", "INDEXED_FIELDS", "MODELS", "PREDICATES", "PREFIXES", "SORTABLE",
    "TYPES", "TYPE_BY_COLLECTION", "TYPE_LABELS", "Resource", "display_name", "indexed_values", "is_id",
    "json_schema", "new_id", "parse_ref", "record_label", "resolve_type", "type_of_collection", "type_of_id",
    "validate_record",
]
