"""A real EPCIS 2.0 client we did not write — ``openepcis-client`` (PyPI, Apache-2.0), its ``Capture`` and ``Query``
used unchanged over HTTP against a served app — captures the farm-to-shop chain through ``/epcis/``, reads
the capture job's verdict, and queries the events back, by record time and by one identifier."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from openepcis_client.core.client import Client
from openepcis_client.core.config import ClientConfig
from openepcis_client.core.errors import OpenEpcisError
from openepcis_client.events.service import Capture, Query

from tests.browser import served
from zhulian.access import create_key
from zhulian.config import Settings
from zhulian.store import Store
from zhulian.web.app import create_app

from test_trace_chain import PACK_1, chain_document, chain_events


class ApiKey:
    """The client's ``AuthStrategy`` (its documented seam for credentials): a platform API key as the bearer."""

    def __init__(self, key: str) -> None:
        self.key = key

    def bearer(self) -> str:
        return self.key

    def invalidate(self) -> None:
        pass  # a platform key does not lapse


@pytest.fixture
def served_epcis(tmp_path: Path) -> Iterator[tuple[str, Store]]:
    """The app on a real port (the client speaks HTTP with requests), and its store."""
    settings = Settings(data_dir=tmp_path, rate_per_key=0, rate_per_address=0)
    store = Store.from_settings(settings)
    with served(create_app(settings, store=store)) as base:
        yield f"{base}/epcis", store
    store.close()


def test_openepcis_client_captures_and_queries_through_the_rest_binding(served_epcis) -> None:
    base, store = served_epcis
    publisher = Client(ClientConfig(base), ApiKey(create_key(store, "publisher", node="440100", name="p")[1]))
    capture, query = Capture(publisher), Query(publisher)
    assert capture.check() == "" and query.check() == ""
    receipt = capture.submit(chain_document())
    assert receipt.answerable and receipt.job.startswith("cap_")
    assert set(receipt.event_ids) == {event["eventID"] for event in chain_events().values()}
    outcome = capture.outcome(receipt)
    assert (outcome.known, outcome.running, outcome.success, outcome.errors) == (True, False, True, ())
    # One page holds them all: the client looks for nextPageToken in the body, where the binding sends a Link header.
    recorded = list(query.since("2020-01-01T00:00:00+00:00", per_page=100))
    assert {event["eventID"] for event in recorded} == set(receipt.event_ids)
    naming_pack = query.for_epc(PACK_1)
    assert {event["eventID"] for event in naming_pack} == {chain_events()[name]["eventID"] for name in
                                                           ("e4", "e5", "e8", "e9", "e12", "e13")}
    with pytest.raises(OpenEpcisError) as twice:  # the same events again: refused whole, with the reason
        capture.submit(chain_document())
    assert twice.value.status == 409
    reader = Client(ClientConfig(base), ApiKey(create_key(store, "reader", name="r")[1]))
    with pytest.raises(OpenEpcisError) as forbidden:  # a reader's key queries but does not capture
        Capture(reader).submit(chain_document())
    assert forbidden.value.status == 403 and Query(reader).check() == ""
