"""Property-based API tests from our own OpenAPI document (schemathesis): whatever a client sends, no
answer is a server error, every answer's status is one the document lists, and its body matches the schema
the document gives for that status."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from zhulian.access import create_key
from zhulian.config import Settings
from zhulian.records.reference import load_region
from zhulian.store import Store
from zhulian.web.app import create_app

# The schema is read when the module is collected, so its store lives as long as the module: removed after its
# last test, or when the interpreter exits if none ran.
_folder = tempfile.TemporaryDirectory(prefix="zhulian-schemathesis-")
_settings = Settings(data_dir=Path(_folder.name), rate_per_key=0, rate_per_address=0)
_store = Store.from_settings(_settings)
load_region(_store)
# An admin key, so that generated writes reach the record service instead of stopping at 401.
_admin = {"Authorization": f"Bearer {create_key(_store, 'admin')[1]}"}
schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(_settings, store=_store))


@pytest.fixture(scope="module", autouse=True)
def _remove_the_store() -> Iterator[None]:
    yield
    _store.close()
    _folder.cleanup()


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_input_gets_a_server_error_and_answers_match_the_schema(case) -> None:
    case.call_and_validate(headers=_admin, checks=[not_a_server_error, response_schema_conformance,
                                                         status_code_conformance])
