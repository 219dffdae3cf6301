"""Federation with real processes: three city nodes, a 广佛肇 circle hub and a provincial hub, driven over HTTP;
a hub killed mid-harvest; a city taken down and brought back; hostile nodes; the node validator."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from tests.federation.cluster import FeedGate, Node, free_port
from zhulian.access import CLI_ADMIN
from zhulian.federation.harvester import Harvester
from zhulian.federation.tables import nodes as node_table
from zhulian.federation.validator import validate_node
from zhulian.records import RecordService
from zhulian.records.reference import load_region
from zhulian.region import reference_ids

HOSTILE = Path(__file__).parent / "federation" / "hostile_node.py"


def orgs(prefix: str, count: int, city: str) -> list[dict]:
    return [{"type": "organization", "name": {"zh": f"{prefix}测试机构{i:04d}"}, "kind": "enterprise", "city": city}
            for i in range(count)]


def harvest(hub: Node, *names: str, **settings) -> list:
    harvester = Harvester(hub.store(), hub.settings(**settings))
    try:
        return harvester.harvest_many(list(names) or None)
    finally:
        harvester.close()


def add_node(hub: Node, name: str, source: Node, key: str, **options) -> None:
    harvester = Harvester(hub.store(), hub.settings())
    try:
        harvester.add(name, source.url, key, **options)
    finally:
        harvester.close()


def node_row(hub: Node, name: str) -> dict:
    store = hub.store()
    try:
        with store.engine.connect() as connection:
            return dict(connection.execute(sa.select(node_table).where(node_table.c.name == name)).mappings().one())
    finally:
        store.close()


def wait_for(condition, timeout: float = 90, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def cities(tmp_path: Path):
    started = []

    def start(*nodes: Node) -> None:
        for node in nodes:
            node.start()
            started.append(node)

    yield start
    for node in started:
        node.stop()


@pytest.fixture
def feed_gate():
    gates = []

    def gate(upstream: str) -> FeedGate:
        gates.append(FeedGate(upstream, pages=40))
        return gates[-1]

    yield gate
    for opened in gates:
        opened.close()


def test_cities_to_circle_hub_to_province_with_kills_outages_updates_and_deletes(tmp_path: Path, cities,
                                                                                  feed_gate) -> None:
    gz, sz, fs = (Node("gz", tmp_path / "gz", "440100"), Node("sz", tmp_path / "sz", "440300"),
                  Node("fs", tmp_path / "fs", "440600"))
    gfz = Node("gfz-hub", tmp_path / "gfz")
    gd = Node("gd-hub", tmp_path / "gd", extra_env={"ZHULIAN_HARVEST_PAGE": "5"})
    cities(gz, sz, fs, gfz, gd)
    sz_gate = feed_gate(sz.url)
    publish = {city: city.key("publisher") for city in (gz, sz, fs)}

    # Cities publish: Guangzhou a centre with its lead units, Shenzhen enough to interrupt, Foshan a few.
    created = gz.publish(publish[gz], "orgs", orgs("广州", 30, "440100"))
    assert created["summary"]["created"] == 30
    lead_units = sorted(gz.live())[:2]
    centre = httpx.post(f"{gz.url}/api/v1/platforms", headers={"Authorization": f"Bearer {publish[gz]}"}, json={
        "type": "platform", "name": {"zh": "穗港协同创新中心"}, "kind": "collaborative_innovation_center", "city": "440100",
        "relations": [{"predicate": "lead_unit", "object": lead_units[0]},
                      {"predicate": "partner_unit", "object": lead_units[1]}]})
    assert centre.status_code == 201, centre.text
    sz.publish(publish[sz], "orgs", orgs("深圳", 600, "440300"))
    fs.publish(publish[fs], "orgs", orgs("佛山", 20, "440600"))

    # The circle hub harvests Guangzhou and Foshan.
    add_node(gfz, "gz", gz, gz.key("harvester"))
    add_node(gfz, "fs", fs, fs.key("harvester"))
    assert all(outcome.ok for outcome in harvest(gfz))
    assert gfz.live() == gz.live() | fs.live()
    assert {r["object"]["id"] for r in gfz.store().get(centre.json()["id"], expand=True)["relations"]} == set(lead_units)

    # Harvesting again changes nothing.
    again = harvest(gfz)
    assert [(o.created, o.updated, o.deleted) for o in again] == [(0, 0, 0), (0, 0, 0)]

    # The provincial hub harvests the circle hub and Shenzhen on its own schedule, five entries a page;
    # it is killed (SIGKILL) in the middle of Shenzhen (a gate holds Shenzhen's feed after 40 pages) and restarted.
    gd.cli("nodes", "add", "gfz", gfz.url, "--key", gfz.key("harvester"), "--interval", "1")
    gd.cli("nodes", "add", "sz", sz_gate.url, "--key", sz.key("harvester"), "--interval", "1")
    wait_for(lambda: sz_gate.holding and node_row(gd, "sz")["harvested"] >= 100, 60,
             "the provincial hub to be mid-harvest")
    gd.kill()
    interrupted = node_row(gd, "sz")
    sz_records = {i for i in gd.live() if i in sz.live()}
    assert 100 <= interrupted["harvested"] < 600
    assert len(sz_records) == interrupted["harvested"]  # exactly what the committed pages hold, no more
    sz_gate.open()
    gd.start()
    union = lambda: gz.live() | sz.live() | fs.live()  # noqa: E731
    wait_for(lambda: gd.live() == union(), 90, "the provincial hub to catch up after its restart")

    # Updates and deletes on the cities travel up the chain; tombstones propagate.
    first_gz = sorted(gz.live())[5]
    current = httpx.get(f"{gz.url}/api/v1/orgs/{first_gz}")
    patched = httpx.patch(f"{gz.url}/api/v1/orgs/{first_gz}", json={"name": {"zh": "广州更名后的机构"}},
                          headers={"Authorization": f"Bearer {publish[gz]}", "If-Match": current.headers["etag"]})
    assert patched.status_code == 200, patched.text
    gone_fs = sorted(fs.live())[0]
    tag = httpx.get(f"{fs.url}/api/v1/orgs/{gone_fs}").headers["etag"]
    assert httpx.delete(f"{fs.url}/api/v1/orgs/{gone_fs}", headers={"Authorization": f"Bearer {publish[fs]}",
                                                                        "If-Match": tag}).status_code in (200, 204)
    gone_sz = sorted(sz.live())[0]
    tag = httpx.get(f"{sz.url}/api/v1/orgs/{gone_sz}").headers["etag"]
    assert httpx.delete(f"{sz.url}/api/v1/orgs/{gone_sz}", headers={"Authorization": f"Bearer {publish[sz]}",
                                                                        "If-Match": tag}).status_code in (200, 204)
    assert all(o.ok for o in harvest(gfz))
    assert gfz.live() == gz.live() | fs.live()
    assert gfz.live()[first_gz]["name"]["zh"] == "广州更名后的机构"
    wait_for(lambda: gd.live() == union(), 60, "the update and the tombstones to reach the province")
    assert httpx.get(f"{gd.url}/api/v1/orgs/{gone_fs}").status_code == 410
    assert httpx.get(f"{gd.url}/api/v1/orgs/{first_gz}").json()["name"]["zh"] == "广州更名后的机构"

    # Foshan goes down: its harvest fails with a clear error, Guangzhou's goes on; Foshan comes back.
    gz.publish(publish[gz], "orgs", orgs("广州新", 3, "440100"))
    fs.stop()
    outcomes = {o.node: o for o in harvest(gfz)}
    assert outcomes["gz"].ok and outcomes["gz"].created == 3
    assert not outcomes["fs"].ok and "无法连接" in outcomes["fs"].error and "unreachable" in outcomes["fs"].error
    listed = {n["name"]: n for n in json.loads(gfz.cli("nodes", "list", "--json").stdout)}
    assert listed["fs"]["last_error"] and listed["fs"]["failures"] == 1 and listed["gz"]["last_error"] is None
    fs.start()
    fs.publish(publish[fs], "orgs", orgs("佛山新", 2, "440600"))
    done = json.loads(gfz.cli("harvest", "--json").stdout)
    assert {o["node"]: o["ok"] for o in done} == {"gz": True, "fs": True}
    assert gfz.live() == gz.live() | fs.live()
    wait_for(lambda: gd.live() == union(), 60, "the province to hold exactly the union of the cities")

    # The hubs serve their harvested records with their origins, and a hub's own feed passes the validator.
    feed = httpx.get(f"{gd.url}/api/v1/changes", params={"limit": 1000},
                     headers={"Authorization": f"Bearer {gd.key('harvester')}"}).json()
    assert {e["origin"]["node"] for e in feed["results"]} == {"gz", "sz", "fs"}
    report = validate_node(gfz.url, gfz.key("harvester"))
    assert report.ok, report.as_dict()


def test_hubs_harvesting_two_demo_nodes_see_no_conflict_and_settle_a_real_one(tmp_path: Path, cities) -> None:
    a, b = Node("a", tmp_path / "a", "440100"), Node("b", tmp_path / "b", "440300")
    hub, plain = Node("hub", tmp_path / "hub"), Node("plain", tmp_path / "plain")  # with and without the region
    for node in (a, b):
        node.cli("demo", "--no-serve")
    load_region(hub.store())  # what demo loads
    cities(a, b)
    for harvesting in (hub, plain):
        for source in (a, b):
            add_node(harvesting, source.name, source, source.key("harvester"))
        outcomes = harvest(harvesting)
        assert [(o.node, o.ok, o.conflicts) for o in outcomes] == [("a", True, 0), ("b", True, 0)]
        assert Harvester(harvesting.store(), harvesting.settings()).conflicts() == []
        # b's copies of the region and of the demo's sample are the same facts a published: nothing to settle
        assert set(harvesting.live()) == set(a.live()) and set(reference_ids().values()) <= set(b.live())
    assert [o.created for o in outcomes] == [len(a.live()), 0]  # the plain hub takes them from the first node only

    # A real conflict: the hub's own record and a's record under the same MoE code, shown and settled by the CLI.
    store = hub.store()
    own = store.create({"type": "organization", "name": {"zh": "北京大学"}, "kind": "university",
                        "pids": {"moe": "4111010001"}, "website": "https://www.pku.edu.cn"})
    a.publish(a.key("publisher"), "orgs", [{"type": "organization", "name": {"zh": "北京大學"}, "kind": "university",
                                            "pids": {"moe": "4111010001"}, "city": "110000"}])
    assert [o.conflicts for o in harvest(hub, "a")] == [1]
    shown = hub.cli("nodes", "conflicts", env_columns=200).stdout
    assert "北京大学" in shown and "北京大學" in shown and "website" in shown and "https://www.pku.edu.cn" in shown
    [conflict] = Harvester(store, hub.settings()).conflicts()
    assert conflict["local_id"] == own["id"] and {d["field"] for d in conflict["differences"]} == {"name", "city",
                                                                                                   "website"}
    refused = hub.cli("nodes", "resolve", str(conflict["seq"]), "--keep", "theirs", check=False)
    assert refused.returncode != 0 and "local" in refused.stdout + refused.stderr
    hub.cli("nodes", "resolve", str(conflict["seq"]), "--keep", "merged")
    assert store.get(own["id"])["name"]["zh"] == "北京大学" and store.get(own["id"])["city"] == "110000"
    assert Harvester(store, hub.settings()).conflicts() == []
    entry = RecordService(store).audit(CLI_ADMIN, record=own["id"])[-1]
    assert entry["action"] == "update" and entry["actor"] == CLI_ADMIN.id and entry["detail"]["keep"] == "merged"


@pytest.fixture(scope="module")
def hostile() -> str:
    port = free_port()
    process = subprocess.Popen([sys.executable, str(HOSTILE), str(port)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/good/api/v1/node", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    yield url
    process.kill()
    process.wait()


@pytest.mark.parametrize(("mode", "expected"), [
    ("bad_json", "did not answer usable JSON"),
    ("deep_json", "nested deeper than"),
    ("wrong_schema", "does not follow zhulian-feed/1"),
    ("invalid_record", "nothing of it written"),
    ("foreign_origin", "claims origin 'gz'"),
    ("backwards", "went backwards"),
    ("oversize", "larger than"),
    ("slow", "did not answer within"),
])
def test_a_hostile_node_is_refused_and_the_hub_is_unchanged(tmp_path: Path, hostile: str, mode: str,
                                                             expected: str) -> None:
    hub = Node("hub", tmp_path / "hub")
    store = hub.store()
    before = (store.last_seq(), store.counts())
    add_node(hub, mode, Node(mode, tmp_path / "x"), "any", check=False)
    add_node(hub, "good", Node("good", tmp_path / "y"), "any", check=False)
    with store.engine.begin() as connection:  # point the two registered nodes at the hostile server's paths
        for name in (mode, "good"):
            connection.execute(node_table.update().where(node_table.c.name == name).values(url=f"{hostile}/{name}"))
    outcomes = {o.node: o for o in harvest(hub, mode, "good", harvest_timeout_s=1.0, harvest_max_bytes=200_000)}
    assert not outcomes[mode].ok and expected in outcomes[mode].error
    assert outcomes["good"].ok and outcomes["good"].created == 1  # one bad node never stops the others
    assert store.last_seq() == before[0] + 1 and store.counts() == {"organization": 1}
    row = node_row(hub, mode)
    assert row["cursor"] == "" and row["failures"] == 1 and expected in row["last_error"] and row["next_attempt"]


def test_a_node_whose_feed_breaks_the_harvester_is_recorded_backed_off_and_the_others_harvested(
        tmp_path: Path, hostile: str) -> None:
    hub = Node("hub", tmp_path / "hub")
    for name in ("deep_json", "good"):
        add_node(hub, name, Node(name, tmp_path / name), "any", check=False)
    store = hub.store()
    with store.engine.begin() as connection:
        for name in ("deep_json", "good"):
            connection.execute(node_table.update().where(node_table.c.name == name).values(url=f"{hostile}/{name}"))
    done = hub.cli("harvest", "--json", check=False)
    assert done.returncode == 1  # the run reports the failure, after harvesting every node
    outcomes = {o["node"]: o for o in json.loads(done.stdout)}
    assert outcomes["good"]["ok"] and outcomes["good"]["created"] == 1 and not outcomes["deep_json"]["ok"]
    broken, good = node_row(hub, "deep_json"), node_row(hub, "good")
    assert broken["last_error"] and broken["failures"] == 1 and broken["next_attempt"] and good["last_error"] is None
    assert store.counts() == {"organization": 1}


def test_an_impostor_never_overwrites_a_record_of_another_origin(tmp_path: Path, hostile: str) -> None:
    hub = Node("hub", tmp_path / "hub", "440100")
    store = hub.store()
    own = store.create({"type": "organization", "name": {"zh": "本节点的机构"}, "kind": "university"})
    add_node(hub, "impostor", Node("x", tmp_path / "x"), "any", check=False)
    with store.engine.begin() as connection:
        connection.execute(node_table.update().values(url=f"{hostile}/impostor/{own['id']}"))
    [outcome] = harvest(hub)
    assert outcome.ok and outcome.conflicts == 1 and outcome.created == outcome.updated == 0
    assert store.get(own["id"])["name"]["zh"] == "本节点的机构"
    [conflict] = Harvester(store, hub.settings()).conflicts()
    assert conflict["record_id"] == own["id"] and "本节点的记录" in conflict["reason_zh"]


def test_validate_node_fails_a_broken_node_with_a_readable_report(tmp_path: Path, hostile: str) -> None:
    done = subprocess.run([sys.executable, "-m", "zhulian.cli", "validate-node", f"{hostile}/backwards"],
                          capture_output=True, text=True, timeout=120,
                          env={**__import__("os").environ, "COLUMNS": "200"})
    assert done.returncode == 1
    assert "未通过 FAIL" in done.stdout and "不符合协议 does not conform" in done.stdout
    report = validate_node(f"{hostile}/tombstone_resurrects", None)
    failed = {check.name for check in report.checks if not check.ok}
    assert {"authorisation", "tombstones"} <= failed
    invalid = validate_node(f"{hostile}/invalid_record", "k")
    assert not invalid.ok and any("city" in c.detail for c in invalid.checks if c.name == "records")
