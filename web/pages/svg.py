"""Server-made SVG: the board's daily chart and the map of grids coloured by open cases.

Plain strings with every text escaped; no script, no outside reference, so the images can
be inlined in the page or served on their own.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from web.pages.board_data import DaySeries

SERIES = (("opened", "#0b5cad"), ("closed", "#1f9d55"), ("overdue", "#c53030"))
# Open cases per grid → fill colour (none, few, some, many).
SCALE = ((0, "#edf2f7"), (1, "#fbd38d"), (3, "#f6ad55"), (6, "#e53e3e"))


def _svg(width: int, height: int, title: str, body: Iterable[str], ident: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'role="img" aria-labelledby="{ident}-title" class="chart" id="{ident}">'
        f'<title id="{ident}-title">{escape(title)}</title>' + "".join(body) + "</svg>"
    )


def daily_chart(series: DaySeries, t: Callable[..., str], title: str) -> str:
    """Grouped bars per day: opened, closed, overdue, with a legend and day labels."""
    width, height, left, bottom, top = 700, 260, 36, 36, 30
    plot_w, plot_h = width - left - 10, height - bottom - top
    peak = max([1, *series.opened, *series.closed, *series.overdue])
    step = max(1, math.ceil(peak / 4))
    ceiling = step * math.ceil(peak / step)
    slot = plot_w / max(len(series.days), 1)
    bar = max(slot / 4, 2)
    body: list[str] = []
    for tick in range(0, ceiling + 1, step):
        y = top + plot_h - plot_h * tick / ceiling
        body.append(
            f'<line x1="{left}" x2="{width - 10}" y1="{y:.1f}" y2="{y:.1f}" stroke="#d9e2ec"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11">{tick}</text>'
        )
    values = {"opened": series.opened, "closed": series.closed, "overdue": series.overdue}
    for i, day in enumerate(series.days):
        x0 = left + slot * i + (slot - 3 * bar) / 2
        for j, (name, colour) in enumerate(SERIES):
            n = values[name][i]
            h = plot_h * n / ceiling
            y = top + plot_h - h
            label = f"{day.isoformat()} {t(name if name != 'overdue' else 'overdue')}: {n}"
            body.append(
                f'<rect x="{x0 + j * bar:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                f'fill="{colour}" data-series="{name}" data-day="{day.isoformat()}" '
                f'data-value="{n}"><title>{escape(label)}</title></rect>'
            )
        if i % 2 == 0 or len(series.days) <= 7:
            cx = left + slot * i + slot / 2
            body.append(
                f'<text x="{cx:.1f}" y="{height - bottom + 16}" text-anchor="middle" '
                f'font-size="11">{day.strftime("%m-%d")}</text>'
            )
    for j, (name, colour) in enumerate(SERIES):
        x = left + j * 110
        body.append(
            f'<rect x="{x}" y="8" width="12" height="12" fill="{colour}"/>'
            f'<text x="{x + 16}" y="18" font-size="12">{escape(t(name))}</text>'
        )
    return _svg(width, height, title, body, "daily-chart")


def _rings(geometry: Mapping[str, Any]) -> list[Sequence[Sequence[float]]]:
    if geometry.get("type") == "Polygon":
        return [geometry["coordinates"][0]]
    if geometry.get("type") == "MultiPolygon":
        return [polygon[0] for polygon in geometry["coordinates"]]
    return []


def fill_for(count: int) -> str:
    colour = SCALE[0][1]
    for threshold, shade in SCALE:
        if count >= threshold:
            colour = shade
    return colour


def grid_map(
    geojson: Mapping[str, Any],
    counts: Mapping[str, int],
    keep: Callable[[str], bool],
    title: str,
    names: Mapping[str, str],
) -> str:
    """The grids ``keep`` accepts, each filled by its open cases (equirectangular)."""
    features = [
        f
        for f in geojson.get("features", [])
        if keep(str((f.get("properties") or {}).get("code", "")))
    ]
    points = [p for f in features for ring in _rings(f["geometry"]) for p in ring]
    width, height, pad = 640, 480, 10
    if not points:
        return _svg(width, 60, title, [f'<text x="10" y="30">{escape(title)}: —</text>'], "map")
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    squash = math.cos(math.radians((min(ys) + max(ys)) / 2))
    span_x, span_y = (max(xs) - min(xs)) * squash or 1e-9, (max(ys) - min(ys)) or 1e-9
    scale = min((width - 2 * pad) / span_x, (height - 2 * pad) / span_y)
    height = int(span_y * scale + 2 * pad)

    def at(p: Sequence[float]) -> str:
        x = pad + (p[0] - min(xs)) * squash * scale
        y = pad + (max(ys) - p[1]) * scale
        return f"{x:.1f},{y:.1f}"

    body = []
    for feature in features:
        code = str(feature["properties"]["code"])
        n = counts.get(code, 0)
        label = f"{names.get(code, code)} ({code}): {n}"
        for ring in _rings(feature["geometry"]):
            body.append(
                f'<polygon points="{" ".join(at(p) for p in ring)}" fill="{fill_for(n)}" '
                f'stroke="#52606d" stroke-width="1" data-grid={quoteattr(code)} '
                f'data-open="{n}"><title>{escape(label)}</title></polygon>'
            )
    return _svg(width, height, title, body, "grid-map")


def score_bars(rows: Sequence[tuple[str, float | None]], title: str, ident: str) -> str:
    """Horizontal bars of a 0–100 score per name, the highest first (a KPI ranking); a name
    with no score is left out."""
    ranked = sorted(((n, s) for n, s in rows if s is not None), key=lambda r: (-r[1], r[0]))
    width, left, row_h, top = 700, 200, 26, 10
    height = top * 2 + row_h * max(len(ranked), 1)
    plot_w = width - left - 60
    body: list[str] = []
    for i, (name, score) in enumerate(ranked):
        y = top + i * row_h
        w = plot_w * max(0.0, min(score, 100.0)) / 100
        body.append(
            f'<text x="{left - 8}" y="{y + 17}" text-anchor="end" font-size="12">'
            f"{escape(name)}</text>"
            f'<rect x="{left}" y="{y + 4}" width="{w:.1f}" height="{row_h - 8}" fill="#0b5cad" '
            f'data-name={quoteattr(name)} data-value="{score:.1f}">'
            f"<title>{escape(name)}: {score:.1f}</title></rect>"
            f'<text x="{left + w + 6:.1f}" y="{y + 17}" font-size="12">{score:.1f}</text>'
        )
    return _svg(width, height, title, body, ident)
