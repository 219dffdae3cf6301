"""The network service: the one place the CLI, the API and the portal ask for the collaboration network.

Reads come from the derived tables only (pages never compute the graph on request); ``catch_up`` follows the
store's change feed into them and a ``FeedFollower`` does so in the background while a server runs. Who sees what
is decided here: organisations a reader may not see are left out of graphs, lists and recommendations; the
city matrix is counts only and is the same for everyone.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from typing import Any

import igraph
import sqlalchemy as sa

from zhulian.access import Principal
from zhulian.access.principal import visibility
from zhulian.analytics import network
from zhulian.analytics.derive import LINK_KINDS, OUTSIDE, region_city
from zhulian.analytics.tables import network_cities, network_links, network_nodes, network_topics
from zhulian.errors import Problem, ZhulianError, invalid
from zhulian.model.common import CHOICES
from zhulian.region.cities import CIRCLES, CITIES, CITY_BY_ADCODE, ROLES
from zhulian.store import FeedFollower, Store, Visibility, now

log = logging.getLogger(__name__)

FEED_BATCH = 2_000
REBUILD_LAG = 50_000  # a feed this far ahead is cheaper to rebuild from than to follow record by record
METRICS_INTERVAL = 30.0  # seconds between background recomputations of betweenness and communities
MAX_GRAPH_NODES = 300
MAX_PARTNERS = 50
LISTED_PARTNERS = 200
NEIGHBOURS_LOOKED_AT = 200
OUTSIDE_NAME = {"zh": "区域外/未知", "en": "Elsewhere/unknown"}
GROUPS = {  # matrix aggregations: how a city is grouped, and each group's names
    "circle": {**CIRCLES, "hkmo": {"zh": "港澳", "en": "Hong Kong and Macao"}, OUTSIDE: OUTSIDE_NAME},
    "role": {**ROLES, OUTSIDE: OUTSIDE_NAME},
}
# Reasons a partner is recommended, and how much each counts.
WEIGHTS = {"shared_neighbours": 2.0, "shared_topics": 1.0, "same_community": 0.5, "same_circle": 0.5}


class NetworkService:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.engine = store.engine
        self._follower: FeedFollower | None = None
        self._metrics_at = 0.0
        self._lock = threading.Lock()

    # -- keeping the tables current --------------------------------------------------------------------

    def rebuild(self, progress: network.Progress = None) -> dict[str, Any]:
        with self._lock:
            return network.rebuild(self.engine, self.store.last_seq(), progress)

    def position(self) -> int | None:
        with self.engine.connect() as connection:
            return network.read_state(connection).get("position")

    def catch_up(self, *, max_batches: int | None = None) -> int:
        """Apply the change feed beyond the tables' position; returns how many feed entries. Built from
        scratch when never built or far behind."""
        applied, batches = 0, 0
        with self._lock:
            position = self.position()
            if position is None or self.store.last_seq() - position > REBUILD_LAG:
                state = network.rebuild(self.engine, self.store.last_seq())
                return max(0, state["position"] - (position or 0))
            while max_batches is None or batches < max_batches:
                entries = self.store.changes(position, FEED_BATCH)
                if not entries:
                    break
                with network.write_connection(self.engine) as connection, connection.begin():
                    network.lock(connection)
                    if network.read_state(connection).get("position") != position:
                        position = network.read_state(connection).get("position")
                        continue  # another process applied this batch meanwhile
                    network.apply(connection, [entry["id"] for entry in entries])
                    position = entries[-1]["seq"]
                    network.write_state(connection, position=position, applied_at=now())
                applied += len(entries)
                batches += 1
        return applied

    def refresh_metrics(self, *, only_if_stale: bool = True) -> dict[str, Any] | None:
        with self._lock:
            state = self._state()
            if only_if_stale and state.get("metrics_position") == state.get("position"):
                return None
            return network.refresh_metrics(self.engine)

    def current(self) -> None:
        """Up to date with the store, metrics included: what a one-off command wants before answering."""
        self.catch_up()
        self.refresh_metrics()

    def status(self) -> dict[str, Any]:
        state = self._state()
        last = self.store.last_seq()
        with self.engine.connect() as connection:
            counts = {name: connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
                      for name, table in (("organisations", network_nodes), ("link_rows", network_links))}
            counts["linked_organisations"] = connection.execute(
                sa.select(sa.func.count()).where(network_nodes.c.degree > 0)).scalar_one()
        position = state.get("position")
        return {"built": position is not None, "position": position, "last_seq": last,
                "lag": None if position is None else max(0, last - position),
                "metrics_position": state.get("metrics_position"), "built_at": state.get("built_at"),
                "applied_at": state.get("applied_at"), "metrics_at": state.get("metrics_at"),
                "betweenness": state.get("betweenness"), **counts,
                "following": self._follower is not None and self._follower.is_alive()}

    def _state(self) -> dict[str, Any]:
        with self.engine.connect() as connection:
            return network.read_state(connection)

    def follower(self, interval: float = 0.5) -> FeedFollower:
        """A new thread that keeps the network tables following the change feed, for the app to start and stop
        while it serves; ``status`` says whether it runs."""
        self._follower = FeedFollower("zhulian-network-follower", self._follow, interval)
        return self._follower

    def _follow(self) -> int:
        """One step of the background follower: the feed first; once it is quiet, the global metrics at most
        every ``METRICS_INTERVAL`` seconds."""
        applied = self.catch_up(max_batches=5)
        if not applied and time.monotonic() - self._metrics_at > METRICS_INTERVAL:
            self.refresh_metrics()
            self._metrics_at = time.monotonic()
        return applied

    # -- the city matrix --------------------------------------------------------------------------------

    def cities(self, *, link: str | None = None, year_from: int | None = None,
               year_to: int | None = None) -> dict[str, Any]:
        """The cross-city matrix (the 9 cities, Hong Kong, Macao, and organisations elsewhere), with the same
        counts by innovation circle and by "1+1+7" role. A cell counts organisation pairs × shared activities;
        the diagonal is collaboration within one city."""
        where = _link_filters(network_cities, link, year_from, year_to)
        with self.engine.connect() as connection:
            rows = connection.execute(sa.select(network_cities.c.city_a, network_cities.c.city_b,
                                                sa.func.sum(network_cities.c.weight))
                                      .where(*where).group_by(network_cities.c.city_a, network_cities.c.city_b))
            cells = {(a, b): int(w) for a, b, w in rows if w}
        keys = [c.adcode for c in CITIES] + [OUTSIDE]
        matrix = [[cells.get(tuple(sorted((a, b))), 0) for b in keys] for a in keys]
        cities = [_city_card(key) for key in keys]
        for card, row in zip(cities, matrix, strict=True):
            card["total"] = sum(row)
            card["cross_city"] = sum(row) - row[keys.index(card["key"])]
        cross_border = sum(w for (a, b), w in cells.items() if a != b and ({a, b} & {"810000", "820000"})
                           and not {a, b} <= {"810000", "820000", OUTSIDE})
        return {"filters": {"link": link, "year_from": year_from, "year_to": year_to},
                "cities": cities, "matrix": matrix,
                "links": sorted(({"a": a, "b": b, "weight": w} for (a, b), w in cells.items()),
                                key=lambda x: (-x["weight"], x["a"], x["b"])),
                "total": sum(cells.values()), "cross_city": sum(w for (a, b), w in cells.items() if a != b),
                "cross_border": cross_border,
                "by_circle": _grouped(cells, "circle"), "by_role": _grouped(cells, "role")}

    # -- organisations ----------------------------------------------------------------------------------

    def graph(self, principal: Principal, *, city: str | None = None, kind: str | None = None,
              link: str | None = None, year_from: int | None = None, year_to: int | None = None,
              limit: int = 120) -> dict[str, Any]:
        """The best-connected organisations matching the filters, the links among them, and a layout
        (x, y in 0..1) computed for just these, so a page draws it as it comes."""
        _check_limit(limit, MAX_GRAPH_NODES)
        _check_filters(city, kind)
        where = [network_nodes.c.degree > 0, *_visible(principal)]
        if city:
            where.append(network_nodes.c.city == city if city != OUTSIDE else _outside())
        if kind:
            where.append(network_nodes.c.kind == kind)
        with self.engine.connect() as connection:
            nodes = [dict(row._mapping) for row in connection.execute(
                sa.select(network_nodes).where(*where)
                .order_by(network_nodes.c.degree.desc(), network_nodes.c.strength.desc(), network_nodes.c.org_id)
                .limit(limit))]
            ids = [n["org_id"] for n in nodes]
            links = _links_among(connection, ids, _link_filters(network_links, link, year_from, year_to))
        positions = _layout(ids, links)
        return {"filters": {"city": city, "kind": kind, "link": link, "year_from": year_from, "year_to": year_to,
                            "limit": limit},
                "nodes": [_node_card(n, positions.get(n["org_id"])) for n in nodes], "links": links}

    def nodes(self, principal: Principal, *, sort: str = "degree", city: str | None = None,
              kind: str | None = None, page: int = 1, per_page: int = 50) -> dict[str, Any]:
        columns = {"degree": network_nodes.c.degree, "strength": network_nodes.c.strength,
                   "betweenness": network_nodes.c.betweenness}
        if sort not in columns:
            raise invalid([Problem("sort", sort, f"sort by one of {', '.join(columns)}",
                                   f"排序字段应为 {'、'.join(columns)} 之一")], "query")
        _check_limit(per_page, 200, "per_page")
        _check_filters(city, kind)
        where = _visible(principal)
        if city:
            where.append(network_nodes.c.city == city if city != OUTSIDE else _outside())
        if kind:
            where.append(network_nodes.c.kind == kind)
        with self.engine.connect() as connection:
            count = connection.execute(sa.select(sa.func.count()).select_from(network_nodes)
                                       .where(*where)).scalar_one()
            rows = connection.execute(sa.select(network_nodes).where(*where)
                                      .order_by(columns[sort].desc(), network_nodes.c.org_id)
                                      .limit(per_page).offset((page - 1) * per_page))
            results = [_node_card(dict(row._mapping)) for row in rows]
        return {"meta": {"count": count, "page": page, "per_page": per_page, "sort": sort}, "results": results}

    def node(self, principal: Principal, ref: str) -> dict[str, Any]:
        """One organisation's place in the network: its metrics and its partners, strongest first (the first
        ``LISTED_PARTNERS``; ``degree`` counts them all)."""
        with self.engine.connect() as connection:
            row = self._visible_node(connection, principal, ref)
            partners = _neighbours(connection, row["org_id"])
            partners = dict(sorted(partners.items(), key=lambda p: (-sum(p[1].values()), p[0]))[:LISTED_PARTNERS])
            cards = _cards(connection, principal, list(partners))
        neighbours = sorted(({**cards[org], "weight": sum(kinds.values()), "kinds": dict(kinds)}
                             for org, kinds in partners.items() if org in cards),
                            key=lambda n: (-n["weight"], n["id"]))
        return {**_node_card(row), "partners": neighbours}

    def partners(self, principal: Principal, ref: str, *, limit: int = 10) -> dict[str, Any]:
        """Organisations to work with next, ranked with reasons: partners of its partners (shared
        neighbours), shared subject words, the same community, the same innovation circle. Current partners
        are left out."""
        _check_limit(limit, MAX_PARTNERS)
        with self.engine.connect() as connection:
            me = self._visible_node(connection, principal, ref)
            my_id = me["org_id"]
            mine = _neighbours(connection, my_id)
            strongest = sorted(mine, key=lambda org: -sum(mine[org].values()))[:NEIGHBOURS_LOOKED_AT]
            shared: dict[str, set[str]] = {}
            for partner in strongest:
                for other in _neighbours(connection, partner):
                    if other != my_id and other not in mine:
                        shared.setdefault(other, set()).add(partner)
            topics = _shared_topics(connection, my_id)
            candidates = (set(shared) | set(topics)) - set(mine) - {my_id}
            cards = _cards(connection, principal, sorted(candidates | set(strongest)))
        recommendations = []
        for org in candidates & set(cards):
            card, reasons, score = cards[org], [], 0.0
            via = sorted(p for p in shared.get(org, ()) if p in cards)
            if via:
                score += WEIGHTS["shared_neighbours"] * len(via)
                reasons.append(_reason("shared_neighbours", f"{len(via)} 个共同合作伙伴", f"{len(via)} shared partners",
                                       [cards[p]["label"] for p in via[:5]]))
            if topics.get(org):
                score += WEIGHTS["shared_topics"] * len(topics[org])
                reasons.append(_reason("shared_topics", f"{len(topics[org])} 个共同主题",
                                       f"{len(topics[org])} shared topics", sorted(topics[org])[:5]))
            if me["community"] is not None and card["community"] == me["community"]:
                score += WEIGHTS["same_community"]
                reasons.append(_reason("same_community", "同属一个合作社群", "in the same collaboration community"))
            circle = _group_of(me["city"], "circle")
            if circle not in ("hkmo", OUTSIDE) and _group_of(card["city"], "circle") == circle:
                score += WEIGHTS["same_circle"]
                reasons.append(_reason("same_circle", f"同在{CIRCLES[circle]['zh']}创新圈",
                                       f"in the same innovation circle ({CIRCLES[circle]['en']})"))
            recommendations.append({**card, "score": round(score, 3), "reasons": reasons})
        recommendations.sort(key=lambda r: (-r["score"], r["id"]))
        return {"organisation": _node_card(me), "weights": WEIGHTS, "results": recommendations[:limit]}

    def _visible_node(self, connection: sa.Connection, principal: Principal, ref: str) -> dict[str, Any]:
        record_id = self.store.resolve(ref)
        row = connection.execute(sa.select(network_nodes).where(network_nodes.c.org_id == record_id)).one_or_none()
        if row is None or not visibility(principal).allows(row.access, row.node):
            raise ZhulianError("not_found", f"{ref} is not an organisation in the collaboration network "
                               "(it may be another type, deleted, or not yet applied from the change feed).",
                               f"{ref} 不是合作网络中的机构（可能是其他类型、已删除，或尚未从变更流更新）。", 404)
        return dict(row._mapping)


# -- helpers -----------------------------------------------------------------------------------------

def _visible(principal: Principal) -> list[Any]:
    seen: Visibility = visibility(principal)
    if seen.everything:
        return []
    allowed = network_nodes.c.access.in_(sorted(seen.levels))
    if seen.node:
        allowed = sa.or_(allowed, sa.and_(network_nodes.c.access == "internal", network_nodes.c.node == seen.node))
    return [allowed]


def _outside() -> Any:
    inside = [c.adcode for c in CITIES]
    return sa.or_(network_nodes.c.city.is_(None), network_nodes.c.city.not_in(inside))


def _link_filters(table: sa.Table, link: str | None, year_from: int | None, year_to: int | None) -> list[Any]:
    problems = []
    if link and link not in LINK_KINDS:
        problems.append(Problem("link", link, f"link is one of {', '.join(LINK_KINDS)}",
                                f"合作类型应为 {'、'.join(LINK_KINDS)} 之一"))
    for name, year in (("year_from", year_from), ("year_to", year_to)):
        if year is not None and not 1900 <= year <= 2100:
            problems.append(Problem(name, year, "a year between 1900 and 2100", "年份应在 1900 至 2100 之间"))
    if problems:
        raise invalid(problems, "query")
    where = []
    if link:
        where.append(table.c.kind == link)
    if year_from is not None:
        where.append(table.c.year >= year_from)
    if year_to is not None:
        where.append(sa.and_(table.c.year <= year_to, table.c.year > 0))
    return where


def _check_filters(city: str | None, kind: str | None) -> None:
    problems = []
    if city and city not in CITY_BY_ADCODE and city != OUTSIDE:
        problems.append(Problem("city", city, "city is one of the eleven adcodes (440100 … 820000) or other",
                                "城市应为 11 个城市的行政区划代码之一（440100…820000）或 other"))
    if kind and kind not in CHOICES["org_kind"]:
        problems.append(Problem("kind", kind, f"kind is one of {', '.join(CHOICES['org_kind'])}",
                                f"机构类型应为 {'、'.join(CHOICES['org_kind'])} 之一"))
    if problems:
        raise invalid(problems, "query")


def _check_limit(value: int, largest: int, name: str = "limit") -> None:
    if not 1 <= value <= largest:
        raise invalid([Problem(name, value, f"{name} is 1 to {largest}", f"{name} 应为 1 至 {largest}")], "query")


def _city_card(key: str) -> dict[str, Any]:
    city = CITY_BY_ADCODE.get(key)
    if city is None:
        return {"key": OUTSIDE, "name": OUTSIDE_NAME, "role": OUTSIDE, "circle": OUTSIDE}
    return {"key": key, "name": {"zh": city.zh, "en": city.en}, "role": city.role,
            "circle": city.circle or "hkmo"}


def _group_of(adcode: str | None, by: str) -> str:
    card = _city_card(region_city(adcode))
    return card[by]


def _grouped(cells: dict[tuple[str, str], int], by: str) -> dict[str, Any]:
    keys = list(GROUPS[by])
    grouped: Counter = Counter()
    for (a, b), weight in cells.items():
        grouped[tuple(sorted((_group_of(a, by), _group_of(b, by))))] += weight
    return {"groups": [{"key": k, "name": GROUPS[by][k]} for k in keys],
            "matrix": [[grouped.get(tuple(sorted((a, b))), 0) for b in keys] for a in keys]}


def _node_card(row: dict[str, Any], position: tuple[float, float] | None = None) -> dict[str, Any]:
    card = {"id": row["org_id"], "label": row["label"], "name": row["name"], "city": row["city"],
            "kind": row["kind"], "degree": row["degree"], "strength": row["strength"],
            "betweenness": row["betweenness"], "community": row["community"]}
    if position is not None:
        card["x"], card["y"] = position
    return card


def _cards(connection: sa.Connection, principal: Principal, ids: list[str]) -> dict[str, dict[str, Any]]:
    found = {}
    for start in range(0, len(ids), 500):
        rows = connection.execute(sa.select(network_nodes).where(
            network_nodes.c.org_id.in_(ids[start:start + 500]), *_visible(principal)))
        found.update({row.org_id: _node_card(dict(row._mapping)) for row in rows})
    return found


def _neighbours(connection: sa.Connection, org_id: str) -> dict[str, Counter]:
    partners: dict[str, Counter] = {}
    for mine, theirs in ((network_links.c.org_a, network_links.c.org_b),
                         (network_links.c.org_b, network_links.c.org_a)):
        rows = connection.execute(sa.select(theirs, network_links.c.kind, sa.func.sum(network_links.c.weight))
                                  .where(mine == org_id).group_by(theirs, network_links.c.kind))
        for other, kind, weight in rows:
            partners.setdefault(other, Counter())[kind] += int(weight)
    return partners


def _shared_topics(connection: sa.Connection, org_id: str, limit: int = 200) -> dict[str, set[str]]:
    mine = sorted(set(connection.execute(sa.select(network_topics.c.topic)
                                         .where(network_topics.c.org_id == org_id)).scalars()))
    if not mine:
        return {}
    top = (sa.select(network_topics.c.org_id).where(network_topics.c.topic.in_(mine),
                                                    network_topics.c.org_id != org_id)
           .group_by(network_topics.c.org_id)
           .order_by(sa.func.count(sa.distinct(network_topics.c.topic)).desc(), network_topics.c.org_id)
           .limit(limit))
    ids = list(connection.execute(top).scalars())
    found: dict[str, set[str]] = {}
    if ids:
        rows = connection.execute(sa.select(network_topics.c.org_id, network_topics.c.topic).where(
            network_topics.c.org_id.in_(ids), network_topics.c.topic.in_(mine)))
        for org, topic in rows:
            found.setdefault(org, set()).add(topic)
    return found


def _links_among(connection: sa.Connection, ids: list[str], where: list[Any]) -> list[dict[str, Any]]:
    if not ids:
        return []
    rows = connection.execute(sa.select(network_links.c.org_a, network_links.c.org_b, network_links.c.kind,
                                        sa.func.sum(network_links.c.weight))
                              .where(network_links.c.org_a.in_(ids), network_links.c.org_b.in_(ids), *where)
                              .group_by(network_links.c.org_a, network_links.c.org_b, network_links.c.kind))
    links: dict[tuple[str, str], Counter] = {}
    for a, b, kind, weight in rows:
        links.setdefault((a, b), Counter())[kind] += int(weight)
    return [{"source": a, "target": b, "weight": sum(kinds.values()), "kinds": dict(kinds)}
            for (a, b), kinds in sorted(links.items())]


def _layout(ids: list[str], links: list[dict[str, Any]]) -> dict[str, tuple[float, float]]:
    """Fruchterman–Reingold positions scaled to 0..1, the same for the same graph (seeded)."""
    if not ids:
        return {}
    index = {org: n for n, org in enumerate(ids)}
    graph = igraph.Graph(n=len(ids), edges=[(index[l["source"]], index[l["target"]]) for l in links])
    with network.seeded_igraph(7):
        coords = graph.layout_fruchterman_reingold(niter=300, weights=[l["weight"] for l in links] or None).coords
    xs, ys = [c[0] for c in coords], [c[1] for c in coords]
    span_x, span_y = (max(xs) - min(xs)) or 1.0, (max(ys) - min(ys)) or 1.0
    return {org: (round((coords[n][0] - min(xs)) / span_x, 4), round((coords[n][1] - min(ys)) / span_y, 4))
            for org, n in index.items()}


def _reason(code: str, zh: str, en: str, items: list[str] | None = None) -> dict[str, Any]:
    return {"code": code, "zh": zh, "en": en, "items": items or []}


# -- exports -----------------------------------------------------------------------------------------

EXPORT_TABLES = {
    "organisations": ("机构 organisations", ["编号 id", "名称 name", "城市 city", "类型 kind", "合作伙伴数 degree",
                                            "合作次数 strength", "中介中心性 betweenness", "社群 community"]),
    "links": ("合作 links", ["机构甲 org_a", "名称甲 name_a", "城市甲 city_a", "机构乙 org_b", "名称乙 name_b",
                           "城市乙 city_b", "合作类型 link", "年份 year", "次数 weight"]),
    "cities": ("城市 cities", ["城市甲 city_a", "名称甲 name_a", "城市乙 city_b", "名称乙 name_b", "合作 weight"]),
    "circles": ("创新圈 circles", ["组甲 group_a", "名称甲 name_a", "组乙 group_b", "名称乙 name_b", "合作 weight"]),
    "roles": ("定位 roles", ["组甲 group_a", "名称甲 name_a", "组乙 group_b", "名称乙 name_b", "合作 weight"]),
}


def export_rows(service: NetworkService, principal: Principal, table: str, *, link: str | None = None,
                year_from: int | None = None, year_to: int | None = None) -> tuple[str, list[str], list[list[Any]]]:
    """One derived table as rows for a file: its sheet name, its bilingual headers and its rows."""
    if table not in EXPORT_TABLES:
        raise ZhulianError("not_found", f"No network table {table!r}; tables: {', '.join(EXPORT_TABLES)}.",
                           f"没有网络数据表 {table!r}；可选：{'、'.join(EXPORT_TABLES)}。", 404)
    sheet, headers = EXPORT_TABLES[table]
    if table in ("cities", "circles", "roles"):
        body = service.cities(link=link, year_from=year_from, year_to=year_to)
        groups = ([{"key": c["key"], "name": c["name"]} for c in body["cities"]] if table == "cities"
                  else body["by_circle" if table == "circles" else "by_role"]["groups"])
        matrix = body["matrix"] if table == "cities" else body["by_circle" if table == "circles" else "by_role"]["matrix"]
        rows = [[a["key"], a["name"]["zh"], b["key"], b["name"]["zh"], matrix[i][j]]
                for i, a in enumerate(groups) for j, b in enumerate(groups) if j >= i and matrix[i][j]]
        return sheet, headers, rows
    with service.engine.connect() as connection:
        nodes = {row.org_id: row for row in connection.execute(
            sa.select(network_nodes).where(*_visible(principal)).order_by(network_nodes.c.org_id))}
        if table == "organisations":
            return sheet, headers, [[n.org_id, n.label, n.city, n.kind, n.degree, n.strength, n.betweenness,
                                     n.community] for n in nodes.values()]
        where = _link_filters(network_links, link, year_from, year_to)
        rows = []
        for link_row in connection.execute(sa.select(network_links).where(*where).order_by(
                network_links.c.org_a, network_links.c.org_b, network_links.c.kind, network_links.c.year)):
            a, b = nodes.get(link_row.org_a), nodes.get(link_row.org_b)
            if a is not None and b is not None:
                rows.append([a.org_id, a.label, a.city, b.org_id, b.label, b.city, link_row.kind,
                             link_row.year or None, link_row.weight])
    return sheet, headers, rows
