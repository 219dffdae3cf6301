"""Named queries and webhook subscriptions per the EPCIS 2.0 REST binding, on SQLite and PostgreSQL, reported
to a real HTTP receiver on this machine: stream reports after capture, GS1-Signature is the HMAC-SHA256 of the
body, a failed report is retried with backoff, a schedule with reportIfEmpty reports an empty result, and the
router's own notifier thread delivers over plain HTTP."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import socket
import threading
import time
import warnings
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from zhulian.access import CLI_ADMIN, create_key
from zhulian.config import Settings
from zhulian.errors import ZhulianError
from zhulian.trace.service import TraceService
from zhulian.trace.subscriptions import Notifier, SubscriptionService, next_run
from zhulian.web.app import create_app

from test_trace_chain import chain_document, chain_events

TOKEN = "13df38d8275b13f05704629e5f1cf3d45d6132d5"
LOCAL = "127.0.0.1"  # the admin setting that lets reports reach the test receiver on this machine


class Receiver:
    """A webhook endpoint: keeps each request's headers and body; answers 500 to the first ``failures``."""

    def __init__(self, failures: int = 0) -> None:
        self.failures, self.received = failures, []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                failing = receiver.failures > 0
                receiver.failures -= 1
                if not failing:
                    receiver.received.append((dict(self.headers), body))
                self.send_response(500 if failing else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/callback"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def documents(self) -> list[dict[str, Any]]:
        return [json.loads(body) for _, body in self.received]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    made = Receiver()
    yield made
    made.server.shutdown()
    made.server.server_close()


def _event_ids(document: dict[str, Any]) -> list[str]:
    return [e["eventID"] for e in document["epcisBody"]["queryResults"]["resultsBody"]["eventList"]]


SHIPPED = [e["eventID"] for e in chain_events().values() if e["bizStep"] == "shipping"]


def test_a_stream_reports_each_new_matching_event_signed_and_retries_a_failure(store, receiver) -> None:
    standing = SubscriptionService(store, LOCAL)
    standing.create_query(CLI_ADMIN, "shipped", {"EQ_bizStep": ["https://ref.gs1.org/cbv/BizStep-shipping"]})
    subscription = standing.subscribe(CLI_ADMIN, "shipped", {"dest": receiver.url, "signatureToken": TOKEN,
                                                             "stream": True})
    assert subscription["stream"] is True and "signatureToken" not in subscription and subscription["signed"]
    receiver.failures = 1
    TraceService(store).capture(CLI_ADMIN, chain_document())
    notifier = Notifier(store, backoff_s=0.05, webhook_hosts=LOCAL)
    with standing.webhook_client(5) as client:
        assert notifier.run_once(client) == 0  # the receiver answered 500: queued again
        [pending] = standing.deliveries(subscription["subscriptionID"])
        assert (pending["status"], pending["attempts"], pending["last_error"]) == ("pending", 1, "HTTP 500")
        time.sleep(0.1)
        assert notifier.run_once(client) == 1
        assert notifier.run_once(client) == 0  # nothing new: nothing sent
    [(headers, body)] = receiver.received
    assert headers["GS1-Signature"] == hmac.new(TOKEN.encode(), body, hashlib.sha256).hexdigest()
    document = json.loads(body)
    assert document["type"] == "EPCISQueryDocument"
    results = document["epcisBody"]["queryResults"]
    assert (results["queryName"], results["subscriptionID"]) == ("shipped", subscription["subscriptionID"])
    assert _event_ids(document) == SHIPPED
    [delivered] = standing.deliveries(subscription["subscriptionID"])
    assert (delivered["status"], delivered["attempts"]) == ("delivered", 2)
    assert standing.subscription(CLI_ADMIN, "shipped", subscription["subscriptionID"])["lastNotifiedAt"]


def test_a_schedule_with_report_if_empty_reports_an_empty_result_when_due(store, receiver) -> None:
    standing = SubscriptionService(store, LOCAL)
    standing.create_query(CLI_ADMIN, "recalled", {"EQ_disposition": ["recalled"]})
    subscription = standing.subscribe(CLI_ADMIN, "recalled", {"dest": receiver.url, "reportIfEmpty": True,
                                                              "schedule": {"minute": "5", "hour": "1"}})
    assert subscription["nextRun"].endswith("T01:05:00.000Z")
    due = dt.datetime.fromisoformat(subscription["nextRun"].replace("Z", "+00:00"))
    assert standing.report_due(due - dt.timedelta(seconds=1)) == 0
    assert standing.report_due(due) == 1
    assert standing.report_due(due) == 0  # the next run is a day later
    with standing.webhook_client(5) as client:
        assert standing.deliver_due(client, due, 0.05) == 1
    [document] = receiver.documents()
    assert _event_ids(document) == [] and "GS1-Signature" not in receiver.received[0][0]
    assert standing.subscription(CLI_ADMIN, "recalled", subscription["subscriptionID"])["nextRun"] == \
        (due + dt.timedelta(days=1)).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def test_schedules_match_like_cron() -> None:
    at = dt.datetime(2026, 11, 30, 4, 30, 10, tzinfo=dt.UTC)  # a Monday
    assert next_run({"minute": "[31-33],50"}, at) == "2026-11-30T04:31:00.000Z"
    assert next_run({"second": "10,40"}, at) == "2026-11-30T04:30:40.000Z"
    assert next_run({"hour": "2", "dayOfWeek": "3"}, at) == "2026-12-02T02:00:00.000Z"
    assert next_run({"dayOfMonth": "31", "month": "2"}, at) is None


def test_bad_queries_and_subscriptions_are_refused_with_reasons(store, receiver) -> None:
    standing = SubscriptionService(store, LOCAL)
    with pytest.raises(ZhulianError) as unknown_parameter:
        standing.create_query(CLI_ADMIN, "q", {"EQ_colour": ["red"]})
    assert unknown_parameter.value.status == 400 and unknown_parameter.value.details[0].field == "EQ_colour"
    with pytest.raises(ZhulianError) as bad_name:
        standing.create_query(CLI_ADMIN, "no spaces", {"eventType": "ObjectEvent"})
    assert bad_name.value.details[0].field == "name"
    standing.create_query(CLI_ADMIN, "q", {"eventType": "ObjectEvent"})
    with pytest.raises(ZhulianError) as twice:
        standing.create_query(CLI_ADMIN, "q", {"eventType": "ObjectEvent"})
    assert twice.value.status == 409
    cases = {"stream": {"dest": receiver.url},  # neither stream nor schedule
             "dest": {"dest": "file:///etc/passwd", "stream": True},
             "schedule": {"dest": receiver.url, "schedule": {"hour": "25"}}}
    for field, body in cases.items():
        with pytest.raises(ZhulianError) as refused:
            standing.subscribe(CLI_ADMIN, "q", body)
        assert refused.value.status == 400 and [p.field for p in refused.value.details] == [field]
    with pytest.raises(ZhulianError) as missing:
        standing.subscribe(CLI_ADMIN, "nope", {"dest": receiver.url, "stream": True})
    assert missing.value.status == 404


def test_queries_and_subscriptions_over_http_delivered_by_the_routers_notifier(sqlite_store, receiver,
                                                                               tmp_path: Path) -> None:
    store = sqlite_store
    secret = create_key(store, "publisher", node="440100", name="p")[1]
    reader = create_key(store, "reader", name="r")[1]
    auth = {"Authorization": f"Bearer {secret}"}
    with TestClient(create_app(Settings(data_dir=tmp_path, trace_webhook_hosts=LOCAL), store=store)) as http:
        created = http.post("/epcis/queries", headers=auth, json={
            "name": "pack1", "query": {"MATCH_anyEPC": ["https://id.gs1.org/01/04012345543216/21/P1"]}})
        assert created.status_code == 201 and created.headers["Location"] == "/epcis/queries/pack1"
        assert created.headers["GS1-EPCIS-Version"] == "2.0.0"
        assert [q["name"] for q in http.get("/epcis/queries", headers=auth).json()["queries"]] == ["pack1"]
        subscribed = http.post("/epcis/queries/pack1/subscriptions", headers=auth,
                               json={"dest": receiver.url, "signatureToken": TOKEN, "stream": True})
        assert subscribed.status_code == 201
        location = subscribed.headers["Location"]
        assert http.get(location, headers=auth).json()["dest"] == receiver.url
        assert http.post("/epcis/queries/pack1/subscriptions", headers=auth,
                         json={"dest": receiver.url}).status_code == 400
        assert http.post("/epcis/capture", headers=auth, json=chain_document()).status_code == 202
        deadline = time.monotonic() + 10
        while not receiver.received and time.monotonic() < deadline:
            time.sleep(0.1)
        named = http.get("/epcis/queries/pack1/events", headers=auth, params={"perPage": 2})
        assert named.status_code == 200 and 'rel="next"' in named.headers["Link"]
        assert http.delete("/epcis/queries/pack1", headers={"Authorization": f"Bearer {reader}"}).status_code == 403
        assert http.delete("/epcis/queries/pack1", headers=auth).status_code == 204
        assert http.get(location, headers=auth).status_code == 404
    [document] = receiver.documents()
    pack_1 = {"e9", "e12", "e13", "e5", "e4", "e8"}  # the events naming the pack, in capture order
    assert set(_event_ids(document)) == {chain_events()[name]["eventID"] for name in pack_1}


REFUSED = {"http://127.0.0.1:9/hook": "loopback", "http://localhost/hook": "loopback",
           "http://[::1]/hook": "loopback", "http://[::ffff:127.0.0.1]/hook": "loopback",
           "http://10.0.0.5/hook": "private", "http://192.168.1.10:8080/hook": "private",
           "http://169.254.169.254/latest/meta-data": "link-local", "http://224.0.0.1/hook": "multicast",
           "http://240.0.0.1/hook": "reserved", "http://0.0.0.0/hook": "unspecified",
           "http://100.64.0.1/hook": "non-public", "gopher://93.184.216.34/hook": "http or https",
           "file:///etc/passwd": "http or https", "http://no-such-host.invalid/hook": "does not resolve"}


def test_webhooks_to_this_machine_or_private_networks_are_refused_naming_why(store) -> None:
    standing = SubscriptionService(store)  # no host allowed by the admin
    standing.create_query(CLI_ADMIN, "q", {"eventType": "ObjectEvent"})
    for dest, reason in REFUSED.items():
        with pytest.raises(ZhulianError) as refused:
            standing.subscribe(CLI_ADMIN, "q", {"dest": dest, "stream": True})
        [problem] = refused.value.details
        assert (refused.value.status, problem.field) == (400, "dest"), dest
        assert reason in problem.reason, (dest, problem.reason)
        assert problem.reason_zh, dest
    assert standing.subscriptions(CLI_ADMIN, "q") == []


def test_a_refused_webhook_answers_a_bilingual_400_over_http(sqlite_store, tmp_path: Path) -> None:
    secret = create_key(sqlite_store, "publisher", node="440100", name="p")[1]
    auth = {"Authorization": f"Bearer {secret}"}
    with TestClient(create_app(Settings(data_dir=tmp_path), store=sqlite_store)) as http:
        http.post("/epcis/queries", headers=auth, json={"name": "q", "query": {"eventType": ["ObjectEvent"]}})
        answer = http.post("/epcis/queries/q/subscriptions", headers=auth,
                           json={"dest": "http://169.254.169.254/latest/meta-data", "stream": True})
    assert answer.status_code == 400
    text = json.dumps(answer.json(), ensure_ascii=False)
    assert "169.254.169.254, a link-local address" in text and "链路本地地址 169.254.169.254" in text


class Resolver:
    """DNS for made-up names, the rest as usual: ``answers[name]`` is popped one address per lookup, the last
    kept, so a name can change its answer between the subscription and the delivery (DNS rebinding)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, **answers: list[str]) -> None:
        self.answers, self.real = {name.replace("_", "."): list(a) for name, a in answers.items()}, socket.getaddrinfo
        monkeypatch.setattr(socket, "getaddrinfo", self.getaddrinfo)

    def getaddrinfo(self, host: str, port: Any, *args: Any, **kwargs: Any) -> Any:
        addresses = self.answers.get(host)
        if addresses is None:
            return self.real(host, port, *args, **kwargs)
        address = addresses.pop(0) if len(addresses) > 1 else addresses[0]
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]


def test_a_host_rebound_to_this_machine_after_subscribing_gets_no_report(store, receiver, monkeypatch) -> None:
    port = receiver.server.server_address[1]
    Resolver(monkeypatch, rebind_example=["93.184.216.34", "127.0.0.1"])
    standing = SubscriptionService(store)
    standing.create_query(CLI_ADMIN, "all", {"eventType": "ObjectEvent"})
    subscription = standing.subscribe(CLI_ADMIN, "all", {"dest": f"http://rebind.example:{port}/callback",
                                                          "stream": True})  # public when subscribed
    TraceService(store).capture(CLI_ADMIN, chain_document())
    with standing.webhook_client(5) as client:
        assert Notifier(store, backoff_s=0.05).run_once(client) == 0
    [pending] = standing.deliveries(subscription["subscriptionID"])
    assert pending["status"] == "pending" and "127.0.0.1, a loopback address" in pending["last_error"]
    assert receiver.received == []


def test_an_allowed_host_is_reached_at_the_address_that_was_checked(store, receiver, monkeypatch) -> None:
    port = receiver.server.server_address[1]
    Resolver(monkeypatch, hub_lan=["127.0.0.1"])
    standing = SubscriptionService(store, "hub.lan")
    standing.create_query(CLI_ADMIN, "all", {"eventType": "ObjectEvent"})
    standing.subscribe(CLI_ADMIN, "all", {"dest": f"http://hub.lan:{port}/callback", "stream": True})
    TraceService(store).capture(CLI_ADMIN, chain_document())
    with standing.webhook_client(5) as client:
        assert Notifier(store, webhook_hosts="hub.lan").run_once(client) == 1
    [(headers, _)] = receiver.received
    assert headers["Host"] == f"hub.lan:{port}"
