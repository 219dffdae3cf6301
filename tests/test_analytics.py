"""The collaboration network as a bureau or an organisation sees it: the city matrix of the seed, graphs that
self-loops, duplicate edges and isolated nodes do not distort, partner recommendations with reasons, and
incremental updates that leave exactly what a rebuild would."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from zhulian.access.principal import ANONYMOUS, CLI_ADMIN
from zhulian.analytics.service import NetworkService
from zhulian.analytics.tables import (
    network_activities,
    network_cities,
    network_links,
    network_nodes,
    network_participants,
    network_topics,
)
from zhulian.errors import ZhulianError
from zhulian.records.reference import load_region


def org(key: str, city: str = "440100", **fields) -> dict:
    return {"type": "organization", "pids": {"ref": key}, "name": {"zh": key}, "city": city, **fields}


def platform(key: str, *relations: dict, **fields) -> dict:
    return {"type": "platform", "pids": {"ref": key}, "name": {"zh": key}, "relations": list(relations), **fields}


def unit(predicate: str, key: str) -> dict:
    return {"predicate": predicate, "object": f"ref:{key}"}


def write(store, *records: dict) -> list[dict]:
    with store.transaction() as writer:
        return [writer.upsert(r)[0] for r in records]


@pytest.fixture
def network(store) -> NetworkService:
    return NetworkService(store)


def cell(body: dict, a: str, b: str) -> int:
    keys = [c["key"] for c in body["cities"]]
    return body["matrix"][keys.index(a)][keys.index(b)]


def node_of(network: NetworkService, key: str) -> dict:
    return network.node(CLI_ADMIN, f"ref:{key}")


def test_the_seed_shows_cross_city_and_cross_border_collaboration(store, network) -> None:
    load_region(store)
    network.current()
    body = network.cities()
    assert cell(body, "440300", "810000") == 1 == cell(body, "810000", "440300")  # 深港微电子联盟: Shenzhen × HK
    assert cell(body, "440100", "440600") > 0  # the sci-tech finance centre: Guangzhou × Foshan
    assert body["cross_border"] >= 1 and body["cross_city"] > 0
    circles = {g["key"]: i for i, g in enumerate(body["by_circle"]["groups"])}
    assert body["by_circle"]["matrix"][circles["sdh"]][circles["hkmo"]] == 1
    roles = {g["key"]: i for i, g in enumerate(body["by_role"]["groups"])}
    assert body["by_role"]["matrix"][roles["lead"]][roles["sar"]] == 1
    graph = network.graph(ANONYMOUS)
    labels = {n["label"] for n in graph["nodes"]}
    assert "广东财经大学" in labels and all(0 <= n["x"] <= 1 and 0 <= n["y"] <= 1 for n in graph["nodes"])
    assert network.status()["lag"] == 0


def test_self_loops_duplicate_edges_and_isolated_nodes(store, network) -> None:
    write(store, org("lead"), org("partner", "440600"), org("loner", "441200", keywords=["储能"]))
    write(store, {"type": "platform", "pids": {"ref": "lab"}, "name": {"zh": "实验室"},
                  "relations": [{"predicate": "hosts", "subject": "ref:lead"}]})
    write(store, platform("centre", unit("lead_unit", "lead"), unit("partner_unit", "lab"),  # lab's host: lead again
                          unit("partner_unit", "partner"), unit("partner_unit", "partner")))  # partner named twice
    write(store, platform("alliance", unit("lead_unit", "partner"), unit("partner_unit", "lead"), established="2015"))
    network.rebuild()
    with store.engine.connect() as connection:
        links = connection.execute(sa.select(network_links)).all()
    assert all(link.org_a != link.org_b for link in links)  # no self-loop
    assert sorted((link.kind, link.year, link.weight) for link in links) == [("platform", 0, 1), ("platform", 2015, 1)]
    lead = node_of(network, "lead")
    assert (lead["degree"], lead["strength"]) == (1, 2)  # one partner, two shared platforms
    assert [p["weight"] for p in lead["partners"]] == [2]
    loner = node_of(network, "loner")
    assert (loner["degree"], loner["strength"], loner["betweenness"], loner["community"]) == (0, 0, 0.0, None)
    assert loner["id"] not in {n["id"] for n in network.graph(ANONYMOUS)["nodes"]}
    assert network.partners(ANONYMOUS, "ref:loner")["results"] == []
    assert cell(network.cities(), "440100", "440600") == 2 and cell(network.cities(), "441200", "441200") == 0


def test_a_graph_of_isolated_nodes_only_has_no_links_and_no_communities(store, network) -> None:
    write(store, org("a"), org("b"))
    state = network.rebuild()
    assert (state["organisations"], state["links"]) == (2, 0)
    assert network.graph(ANONYMOUS)["nodes"] == [] and network.cities()["total"] == 0


def test_partners_are_ranked_with_reasons(store, network) -> None:
    write(store, org("me", keywords=["新材料"]), org("hub", "440300"), org("far", "440400", keywords=["新材料"]),
          org("near", "440600", keywords=["新材料", "储能"]), org("stranger", "441300"))
    write(store, platform("p1", unit("lead_unit", "me"), unit("partner_unit", "hub")),
          platform("p2", unit("lead_unit", "hub"), unit("partner_unit", "near")),
          platform("p3", unit("lead_unit", "stranger"), unit("partner_unit", "hub")))
    network.current()
    body = network.partners(ANONYMOUS, "ref:me")
    ranked = [r["label"] for r in body["results"]]
    assert ranked == ["near", "stranger", "far"]
    near = body["results"][0]
    codes = {r["code"]: r for r in near["reasons"]}
    assert codes["shared_neighbours"]["items"] == ["hub"] and codes["shared_topics"]["items"] == ["新材料"]
    assert codes["same_circle"]["zh"] == "同在广佛肇创新圈"  # 广州 and 佛山
    assert "hub" not in ranked  # already a partner


def test_incremental_updates_leave_what_a_rebuild_would(store, network) -> None:
    write(store, org("a"), org("b", "440300"), org("c", "810000"), org("d", "820000"))
    network.rebuild()
    b = store.get("ref:b")
    steps = [
        lambda: write(store, platform("p", unit("lead_unit", "a"), unit("partner_unit", "b"), keywords=["芯片"])),
        lambda: write(store, {"type": "person", "pids": {"ref": "x"}, "name": {"zh": "甲"},
                              "relations": [unit("affiliated_with", "c")]},
                      {"type": "person", "pids": {"ref": "y"}, "name": {"zh": "乙"},
                       "relations": [unit("affiliated_with", "d"), unit("member_of", "a")]},
                      {"type": "paper", "title": {"zh": "论文"}, "pids": {"ref": "paper"}, "year_published": 2016,
                       "relations": [{"predicate": "author_of", "subject": "ref:x"},
                                     {"predicate": "author_of", "subject": "ref:y"}]}),
        lambda: store.update("ref:y", {"type": "person", "pids": {"ref": "y"}, "name": {"zh": "乙"},
                                       "relations": [unit("affiliated_with", "b")]}),  # moves to b
        lambda: store.update("ref:b", {**{k: v for k, v in b.items() if k in ("type", "pids", "name")},
                                       "city": "440400"}),  # b moves from Shenzhen to Zhuhai
        lambda: write(store, {"type": "platform", "pids": {"ref": "lab"}, "name": {"zh": "实验室"},
                              "relations": [{"predicate": "hosts", "subject": "ref:d"}]},
                      platform("q", unit("lead_unit", "c"), unit("partner_unit", "lab"))),
        lambda: write(store, {"type": "platform", "pids": {"ref": "lab"}, "name": {"zh": "实验室"},
                              "relations": [{"predicate": "hosts", "subject": "ref:a"}]}),  # lab changes host
        lambda: write(store, {"type": "patent", "title": {"zh": "专利"}, "pids": {"ref": "pat"},
                              "relations": [{"predicate": "applicant_of", "subject": "ref:a"}]}),
        lambda: write(store, org("e", relations=[unit("applicant_of", "pat")])),  # only e's record says so
        lambda: store.delete("ref:c"),
        lambda: store.delete("ref:p"),
    ]
    for number, step in enumerate(steps):
        step()
        network.catch_up()
        network.refresh_metrics()
        incremental = snapshot(store)
        network.rebuild()
        assert snapshot(store) == incremental
        if number == 3:  # b is in Zhuhai now: a–b through the platform, b–c (Hong Kong) through the paper
            assert cell(network.cities(), "440400", "440100") == 1 == cell(network.cities(), "440400", "810000")
            assert cell(network.cities(), "440300", "440100") == 0
    # c and the platform are gone; the paper and the centre have one organisation each; the patent joins a and e
    assert network.cities()["total"] == 1 == cell(network.cities(), "440100", "440100")
    assert [p["label"] for p in node_of(network, "a")["partners"]] == ["e"]


def snapshot(store) -> dict:
    tables = {"links": network_links, "cities": network_cities, "activities": network_activities,
              "nodes": network_nodes}
    with store.engine.connect() as connection:
        found = {name: sorted(tuple(row) for row in connection.execute(sa.select(table)))
                 for name, table in tables.items()}
        found["participants"] = sorted(connection.execute(sa.select(
            network_participants.c.activity_id, network_participants.c.org_id, network_participants.c.via_id,
            network_participants.c.predicate)).all())
        found["topics"] = sorted(connection.execute(sa.select(
            network_topics.c.org_id, network_topics.c.topic, network_topics.c.source_id)).all())
    return found


def test_readers_never_see_organisations_they_may_not(store, network) -> None:
    write(store, org("open"), org("secret", access="internal", node="440100"))
    write(store, platform("p", unit("lead_unit", "open"), unit("partner_unit", "secret")))
    network.current()
    assert [n["label"] for n in network.graph(ANONYMOUS)["nodes"]] == ["open"]
    assert network.node(ANONYMOUS, "ref:open")["partners"] == []
    with pytest.raises(ZhulianError) as refused:
        network.partners(ANONYMOUS, "ref:secret")
    assert refused.value.status == 404
    assert {n["label"] for n in network.graph(CLI_ADMIN)["nodes"]} == {"open", "secret"}


@pytest.mark.parametrize("call", [
    lambda n: n.cities(link="friendship"), lambda n: n.cities(year_from=1066),
    lambda n: n.graph(ANONYMOUS, city="999999"), lambda n: n.graph(ANONYMOUS, kind="club"),
    lambda n: n.graph(ANONYMOUS, limit=0), lambda n: n.nodes(ANONYMOUS, sort="name"),
    lambda n: n.partners(ANONYMOUS, "not a ref"), lambda n: n.partners(ANONYMOUS, "ref:nobody"),
])
def test_bad_queries_are_refused_with_a_reason(store, network, call) -> None:
    network.rebuild()
    with pytest.raises(ZhulianError) as refused:
        call(network)
    assert 400 <= refused.value.status < 500 and refused.value.message_zh


def test_a_seeded_layout_leaves_igraphs_generator_as_it_found_it(store, network) -> None:
    """Layouts and communities are seeded for repeatable pictures, but the seed must not stay behind in the
    process: afterwards igraph draws from Python's own generator again, as everyone else's code expects."""
    import random

    import igraph

    def draw() -> list[tuple[int, int]]:
        random.seed(1)
        return igraph.Graph.Erdos_Renyi(n=30, p=0.2).get_edgelist()

    load_region(store)
    network.current()
    before = draw()
    graph = network.graph(CLI_ADMIN)
    assert graph["nodes"], "the seed's network has organisations to lay out"
    assert draw() == before
