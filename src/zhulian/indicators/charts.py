"""Line charts of indicator series drawn as plain SVG (no script, no CDN: they work on an intranet and paste
into a report); ``zhulian.web.charts.png`` turns them into PNG."""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape

from zhulian.web.charts import FONT_STACK


WIDTH, HEIGHT = 640, 320
LEFT, RIGHT, TOP, BOTTOM = 64, 150, 40, 36
COLOURS = ("#1f6fb2", "#d1495b", "#2e933c", "#edae49", "#6a4c93", "#00798c", "#8c564b", "#e377c2", "#7f7f7f",
           "#17becf", "#bcbd22")
CHART_FORMATS = ("svg", "png")
LABEL_GAP = 15  # px between the baselines of two end labels: 12 px text and a little air


@dataclass
class Line:
    label: str
    points: list[tuple[int, float]]


def line_chart(title: str, unit: str, lines: list[Line], *, target: float | None = None,
               target_label: str = "", deadline: int | None = None) -> str:
    """An SVG chart of one indicator: a line per region, the target as a dashed line, the deadline marked."""
    years = [year for line in lines for year, _v in line.points] + ([deadline] if deadline else [])
    values = [value for line in lines for _y, value in line.points] + ([target] if target is not None else [])
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" '
             f'height="{HEIGHT}" role="img" aria-label="{escape(title)}" font-family="{FONT_STACK}" font-size="12">',
             f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#fff"/>',
             f'<text x="{LEFT}" y="22" font-size="14" font-weight="bold">{escape(title)}</text>']
    if not years or not values:
        parts.append(f'<text x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle" fill="#666">暂无数据 no data</text>')
        return "".join(parts) + "</svg>"
    first, last = min(years), max(years)
    if first == last:
        first, last = first - 1, last + 1
    low, high = _nice_range(min(values + [0]), max(values))

    def x(year: float) -> float:
        return LEFT + (year - first) / (last - first) * (WIDTH - LEFT - RIGHT)

    def y(value: float) -> float:
        return HEIGHT - BOTTOM - (value - low) / (high - low) * (HEIGHT - TOP - BOTTOM)

    for tick in _ticks(low, high):
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" stroke="#e5e5e5"/>'
                     f'<text x="{LEFT - 6}" y="{y(tick) + 4:.1f}" text-anchor="end" fill="#555">{tick:g}</text>')
    step = max(1, math.ceil((last - first) / 10))
    for year in range(first, last + 1, step):
        parts.append(f'<text x="{x(year):.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle" '
                     f'fill="#555">{year}</text>')
    parts.append(f'<text x="8" y="{TOP - 8}" fill="#555">{escape(unit)}</text>')
    ends = [y(max(line.points)[1]) for line in lines]
    # The target's label shares the right margin with the lines' names, so it is spread with them.
    labels_at = _spread(ends + ([y(target)] if target is not None else []), LABEL_GAP, TOP + 4, HEIGHT - BOTTOM)
    if target is not None:
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(target):.1f}" y2="{y(target):.1f}" '
                     f'stroke="#d1495b" stroke-dasharray="6 4"/><text class="end-label" x="{WIDTH - RIGHT + 6}" '
                     f'y="{labels_at[-1]:.1f}" fill="#d1495b">{escape(target_label)}</text>')
    if deadline:
        parts.append(f'<line x1="{x(deadline):.1f}" x2="{x(deadline):.1f}" y1="{TOP}" y2="{HEIGHT - BOTTOM}" '
                     f'stroke="#999" stroke-dasharray="2 3"/>')
    for number, line in enumerate(lines):
        colour = COLOURS[number % len(COLOURS)]
        path = " ".join(f"{x(year):.1f},{y(value):.1f}" for year, value in line.points)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        parts += [f'<circle cx="{x(year):.1f}" cy="{y(value):.1f}" r="3" fill="{colour}"><title>{escape(line.label)} '
                  f'{year}: {value:g}</title></circle>' for year, value in line.points]
        # Each line is named at its own end; names pushed apart where ends crowd, with a leader to the end.
        last_x = x(max(line.points)[0])
        parts.append(f'<line class="leader" x1="{last_x + 4:.1f}" y1="{ends[number]:.1f}" x2="{WIDTH - RIGHT + 4}" '
                     f'y2="{labels_at[number] - 4:.1f}" stroke="{colour}" stroke-width="0.8"/>'
                     f'<text class="end-label" x="{WIDTH - RIGHT + 6}" y="{labels_at[number]:.1f}" fill="{colour}">'
                     f'{escape(line.label)}</text>')
    return "".join(parts) + "</svg>"


def _spread(positions: list[float], gap: float, top: float, bottom: float) -> list[float]:
    """Label baselines as near their lines' ends as possible, at least ``gap`` apart, within [top, bottom]."""
    order = sorted(range(len(positions)), key=lambda i: positions[i])
    placed = [0.0] * len(positions)
    floor = top + gap / 2
    for i in order:  # downwards, each at least a gap below the one above
        placed[i] = max(positions[i] + 4, floor)
        floor = placed[i] + gap
    ceiling = bottom
    for i in reversed(order):  # then back up where the last ones ran past the bottom
        placed[i] = min(placed[i], ceiling)
        ceiling = placed[i] - gap
    return placed


def _nice_range(low: float, high: float) -> tuple[float, float]:
    if high == low:
        high = low + 1
    span = _nice_step(high - low)
    return math.floor(low / span) * span, math.ceil(high * 1.05 / span) * span


def _nice_step(span: float) -> float:
    raw = span / 5
    magnitude = 10 ** math.floor(math.log10(raw))
    return next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)


def _ticks(low: float, high: float) -> list[float]:
    step = _nice_step(high - low)
    count = int(round((high - low) / step))
    return [round(low + i * step, 10) for i in range(count + 1)]
