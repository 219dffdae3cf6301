"""The network's charts: the city heatmap and the organisation graph as SVG drawn here (no chart library, no
script needed to read them). The page embeds the same SVG; ``zhulian.web.charts`` turns it into PNG and
writes the network's tables as CSV or XLSX."""

from __future__ import annotations

import math
from html import escape
from typing import Any

from zhulian.analytics.derive import LINK_KINDS
from zhulian.web.charts import FONT_STACK

PALETTE = ("#c0392b", "#1f6fb2", "#1e8449", "#7d3c98", "#d35400", "#117a65", "#b7950b", "#2e4053",
           "#a93226", "#2874a6", "#239b56", "#6c3483")
CHART_FORMATS = ("svg", "png")


def _name(names: dict[str, str], lang: str) -> str:
    return names.get(lang) or names.get("zh") or names.get("en") or ""


# -- the city matrix ---------------------------------------------------------------------------------

def matrix_svg(body: dict[str, Any], lang: str = "zh") -> str:
    """A heatmap of the city matrix: darker is more collaboration, the count is written in each cell."""
    cities, matrix = body["cities"], body["matrix"]
    cell, left, top = 46, 170, 150
    size = len(cities)
    width, height = left + cell * size + 90, top + cell * size + 40  # room for the last rotated label
    largest = max((v for row in matrix for v in row), default=0) or 1
    title = "城市间合作矩阵" if lang == "zh" else "Collaboration between cities"
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
             f'height="{height}" role="img" aria-label="{escape(title)}" class="heatmap" '
             f'font-family="{FONT_STACK}" font-size="12">',
             f'<rect width="{width}" height="{height}" fill="#fff"/>',
             f'<text x="10" y="22" font-size="16" font-weight="bold">{escape(title)}</text>']
    for i, city in enumerate(cities):
        label = escape(_name(city["name"], lang))
        y = top + i * cell + cell / 2 + 4
        parts.append(f'<text x="{left - 6}" y="{y}" text-anchor="end">{label}</text>')
        x = left + i * cell + cell / 2
        parts.append(f'<text transform="translate({x + 4},{top - 6}) rotate(-60)">{label}</text>')
    for i, row in enumerate(matrix):
        for j, value in enumerate(row):
            shade = math.log1p(value) / math.log1p(largest)
            fill = _blend(shade)
            x, y = left + j * cell, top + i * cell
            names = f'{_name(cities[i]["name"], lang)} × {_name(cities[j]["name"], lang)}: {value}'
            parts.append(f'<g class="cell" data-a="{cities[i]["key"]}" data-b="{cities[j]["key"]}">'
                         f'<rect x="{x}" y="{y}" width="{cell - 2}" height="{cell - 2}" fill="{fill}">'
                         f'<title>{escape(names)}</title></rect>')
            if value:
                colour = "#fff" if shade > 0.55 else "#222"
                parts.append(f'<text x="{x + cell / 2 - 1}" y="{y + cell / 2 + 4}" text-anchor="middle" '
                             f'fill="{colour}">{value}</text>')
            parts.append("</g>")
    note = ("格中数字：两市机构之间的合作（机构对 × 共同参与的平台、项目、论文、专利等）；对角线为市内合作"
            if lang == "zh" else "Each cell: organisation pairs × shared platforms, projects, papers, patents…; "
            "the diagonal is collaboration within a city")
    parts.append(f'<text x="10" y="{height - 12}" fill="#555">{escape(note)}</text></svg>')
    return "".join(parts)


def _blend(shade: float) -> str:
    """White to the portal's deep blue."""
    low, high = (247, 251, 255), (8, 48, 107)
    r, g, b = (round(lo + (hi - lo) * shade) for lo, hi in zip(low, high, strict=True))
    return f"#{r:02x}{g:02x}{b:02x}"


# -- the organisation graph --------------------------------------------------------------------------

def graph_svg(body: dict[str, Any], lang: str = "zh", width: int = 960, height: int = 640) -> str:
    """Organisations as circles (area by number of partners, colour by community) and links as lines
    (width by shared activities). Each element carries its id so that the page's script can highlight a
    node's partners; ``<title>`` gives the same facts without the script."""
    margin, label_room = 30, 110  # labels are written right of their circles
    nodes = {n["id"]: n for n in body["nodes"]}
    title = "机构合作网络" if lang == "zh" else "Collaboration network of organisations"
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
             f'height="{height}" role="img" aria-label="{escape(title)}" class="network-graph" '
             f'font-family="{FONT_STACK}" font-size="11">',
             f'<rect width="{width}" height="{height}" fill="#fff"/>']
    if not nodes:
        empty = "没有符合条件的合作关系" if lang == "zh" else "No collaboration matches these filters"
        parts.append(f'<text x="{width / 2}" y="{height / 2}" text-anchor="middle">{escape(empty)}</text></svg>')
        return "".join(parts)

    def point(node: dict[str, Any]) -> tuple[float, float]:
        return (round(margin + node["x"] * (width - 2 * margin - label_room), 1),
                round(margin + node["y"] * (height - 2 * margin), 1))

    strongest = max((link["weight"] for link in body["links"]), default=1)
    parts.append('<g class="links" stroke="#8a9bb0" stroke-opacity="0.6">')
    for link in body["links"]:
        (x1, y1), (x2, y2) = point(nodes[link["source"]]), point(nodes[link["target"]])
        kinds = "、".join(f"{LINK_KINDS[k][0 if lang == 'zh' else 1]} {n}" for k, n in sorted(link["kinds"].items()))
        label = f'{nodes[link["source"]]["label"]} — {nodes[link["target"]]["label"]}: {kinds}'
        parts.append(f'<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" data-source="{link["source"]}" '
                     f'data-target="{link["target"]}" stroke-width="{1 + 3 * link["weight"] / strongest:.1f}">'
                     f'<title>{escape(label)}</title></line>')
    parts.append('</g><g class="nodes">')
    largest = max(n["degree"] for n in nodes.values()) or 1
    for node in nodes.values():
        x, y = point(node)
        radius = 4 + 10 * math.sqrt(node["degree"] / largest)
        colour = PALETTE[node["community"] % len(PALETTE)] if node["community"] is not None else "#999"
        name = _name(node["name"], lang) or node["label"]
        facts = (f'{name}：合作伙伴 {node["degree"]}，合作次数 {node["strength"]}' if lang == "zh"
                 else f'{name}: {node["degree"]} partners, {node["strength"]} shared activities')
        parts.append(f'<g class="node" data-id="{node["id"]}" tabindex="0">'
                     f'<circle cx="{x}" cy="{y}" r="{radius:.1f}" fill="{colour}" stroke="#fff"/>'
                     f'<text x="{x + radius + 2:.1f}" y="{y + 4}">{escape(name[:16])}</text>'
                     f'<title>{escape(facts)}</title></g>')
    parts.append("</g></svg>")
    return "".join(parts)
