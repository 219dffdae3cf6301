"""The evaluation and the voucher flows as files a report needs: bar and heatmap charts as SVG drawn here (no
chart library, no script), and workbooks written with openpyxl in which no text cell can run as a formula."""

from __future__ import annotations

import io
import math
import re
from html import escape
from typing import Any

FONT = 'font-family="Noto Sans CJK SC, Microsoft YaHei, PingFang SC, sans-serif" font-size="12"'
_FORMULA_LIKE = re.compile(r"^[=+\-@\t\r]")


def neutralise(value: Any) -> Any:
    """``=1+1`` → ``'=1+1``: a spreadsheet shows text beginning with = + - @ as text instead of running it."""
    return "'" + value if isinstance(value, str) and _FORMULA_LIKE.match(value) else value


def workbook(sheets: list[tuple[str, list[str], list[list[Any]]]]) -> bytes:
    """Sheets of (title, header, rows) as an XLSX file; the header is bold and stays in view."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    book = Workbook(write_only=True)
    for title, header, rows in sheets:
        sheet = book.create_sheet(title[:31])
        sheet.freeze_panes = "A2"
        cells = []
        for text in header:
            cell = WriteOnlyCell(sheet, value=neutralise(text))
            cell.font = Font(bold=True)
            cells.append(cell)
        sheet.append(cells)
        for row in rows:
            sheet.append([neutralise(value) for value in row])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def bars_svg(title: str, labels: list[str], series: list[tuple[str, str, list[float]]], unit: str) -> str:
    """Horizontal grouped bars: one group per label, one bar per series (name, colour, values)."""
    bar, gap, left, top, width = 14, 12, 150, 50, 720
    group = bar * len(series) + gap
    height = top + group * max(len(labels), 1) + 40
    largest = max((v for _n, _c, values in series for v in values), default=0) or 1
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
             f'height="{height}" role="img" aria-label="{escape(title)}" class="bars" {FONT}>',
             f'<rect width="{width}" height="{height}" fill="#fff"/>',
             f'<text x="10" y="22" font-size="16" font-weight="bold">{escape(title)}</text>']
    for index, (name, colour, _values) in enumerate(series):
        x = left + index * 160
        parts.append(f'<rect x="{x}" y="32" width="10" height="10" fill="{colour}"/>'
                     f'<text x="{x + 14}" y="41">{escape(name)}</text>')
    span = width - left - 90
    for row, label in enumerate(labels):
        y = top + row * group
        parts.append(f'<text x="{left - 6}" y="{y + group / 2}" text-anchor="end">{escape(label)}</text>')
        for index, (name, colour, values) in enumerate(series):
            value = values[row]
            length = span * value / largest
            parts.append(f'<rect x="{left}" y="{y + index * bar}" width="{length:.1f}" height="{bar - 2}" '
                         f'fill="{colour}"><title>{escape(f"{label} {name}: {value:g} {unit}")}</title></rect>'
                         f'<text x="{left + length + 4:.1f}" y="{y + index * bar + bar - 4}">{value:g}</text>')
    if not labels:
        parts.append(f'<text x="{width / 2}" y="{top + 20}" text-anchor="middle">—</text>')
    parts.append("</svg>")
    return "".join(parts)


def heatmap_svg(title: str, names: list[str], matrix: list[list[float]], note: str) -> str:
    """A square matrix as a heatmap, rows read as "from", columns as "to"; each cell shows its value."""
    cell, left, top = 56, 120, 130
    size = len(names)
    width, height = left + cell * size + 60, top + cell * size + 40
    largest = max((v for row in matrix for v in row), default=0) or 1
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
             f'height="{height}" role="img" aria-label="{escape(title)}" class="heatmap" {FONT}>',
             f'<rect width="{width}" height="{height}" fill="#fff"/>',
             f'<text x="10" y="22" font-size="16" font-weight="bold">{escape(title)}</text>']
    for i, name in enumerate(names):
        parts.append(f'<text x="{left - 6}" y="{top + i * cell + cell / 2 + 4}" text-anchor="end">{escape(name)}</text>')
        x = left + i * cell + cell / 2
        parts.append(f'<text transform="translate({x + 4},{top - 6}) rotate(-60)">{escape(name)}</text>')
    for i, row in enumerate(matrix):
        for j, value in enumerate(row):
            shade = math.log1p(value) / math.log1p(largest)
            x, y = left + j * cell, top + i * cell
            parts.append(f'<rect x="{x}" y="{y}" width="{cell - 2}" height="{cell - 2}" fill="{_blend(shade)}">'
                         f'<title>{escape(f"{names[i]} → {names[j]}: {value:g}")}</title></rect>')
            if value:
                colour = "#fff" if shade > 0.55 else "#222"
                parts.append(f'<text x="{x + cell / 2 - 1}" y="{y + cell / 2 + 4}" text-anchor="middle" '
                             f'font-size="10" fill="{colour}">{value:g}</text>')
    parts.append(f'<text x="10" y="{height - 12}" fill="#555">{escape(note)}</text></svg>')
    return "".join(parts)


def _blend(shade: float) -> str:
    low, high = (247, 251, 255), (8, 48, 107)
    r, g, b = (round(lo + (hi - lo) * shade) for lo, hi in zip(low, high, strict=True))
    return f"#{r:02x}{g:02x}{b:02x}"


# -- the open-sharing report and the voucher flows -------------------------------------------------------

FIGURES = [("instruments", "仪器数", "instruments"), ("bookings", "使用次数", "uses"),
           ("hours", "有效工作机时", "effective hours"), ("external_hours", "对外服务机时", "external hours"),
           ("external_share", "对外服务占比", "external share"), ("users_inside", "校（所）内用户", "users inside"),
           ("users_outside", "校（所）外用户", "users outside"), ("income", "服务收入（元）", "income (yuan)"),
           ("rating", "用户评分", "rating")]


def _header(first: list[str]) -> list[str]:
    return [*first, *(f"{zh} {en}" for _k, zh, en in FIGURES), "服务用户城市分布 users by city"]


def _figures(item: dict[str, Any]) -> list[Any]:
    by_city = "; ".join(f"{city or '-'}: {count}" for city, count in item["users_by_city"].items())
    return [*(item[key] for key, _zh, _en in FIGURES), by_city]


def report_xlsx(report: dict[str, Any]) -> bytes:
    region = {"name": {"zh": "大湾区合计", "en": "region"}, **report["region"]}
    return workbook([
        ("城市 cities", _header(["城市代码 city", "城市 name"]),
         [[c["city"], c["name"]["zh"], *_figures(c)] for c in [*report["cities"], {**region, "city": "*"}]]),
        ("单位 hosts", _header(["单位 host", "城市 city"]), [[h["host"], h["name"]["zh"], *_figures(h)]
                                                            for h in report["hosts"]]),
        ("仪器 instruments", _header(["编号 id", "仪器 name", "单位 host", "城市 city"]),
         [[i["id"], i["name"], i["host"], i["city"], *_figures(i)] for i in report["instruments"]]),
    ])


def report_svg(report: dict[str, Any], lang: str = "zh") -> str:
    zh = lang == "zh"
    labels = [c["name"]["zh" if zh else "en"] for c in report["cities"]]
    return bars_svg(f"{report['year']} 年各市大型仪器开放共享机时" if zh else f"Shared instrument hours by city, {report['year']}",
                    labels, [("有效工作机时" if zh else "effective hours", "#1f6fb2", [c["hours"] for c in report["cities"]]),
                             ("对外服务机时" if zh else "external hours", "#d35400",
                              [c["external_hours"] for c in report["cities"]])], "h")


def flows_xlsx(flows: dict[str, Any]) -> bytes:
    names = [c["name"]["zh"] for c in flows["cities"]]
    return workbook([("创新券流向 voucher flows", ["发券城市 \\ 服务城市 issuing \\ provider (元 yuan)", *names],
                      [[name, *row] for name, row in zip(names, flows["matrix"], strict=True)])])


def flows_svg(flows: dict[str, Any], lang: str = "zh") -> str:
    zh = lang == "zh"
    names = [c["name"]["zh" if zh else "en"] for c in flows["cities"]]
    return heatmap_svg("创新券跨市流向（元）" if zh else "Voucher money between cities (yuan)", names, flows["matrix"],
                       "行：发券城市；列：服务机构所在城市" if zh else "Rows: the issuing city; columns: the provider's city")
