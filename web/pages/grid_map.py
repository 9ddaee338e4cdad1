"""The grid worker's map, drawn by the server as SVG (no map library, no tiles): the grids
around the worker with their names, and a pin the page places at the phone's position
(web/static/gridflow.js [data-map]). The projection is carried in data attributes, so the
script turns latitude and longitude into the same picture coordinates."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from engine.city.directory import CityDirectory
from engine.city.models import Tier

WIDTH, PAD = 360, 8


def _rings(geometry: Mapping[str, Any]) -> list[Sequence[Sequence[float]]]:
    if geometry.get("type") == "Polygon":
        return [geometry["coordinates"][0]]
    if geometry.get("type") == "MultiPolygon":
        return [polygon[0] for polygon in geometry["coordinates"]]
    return []


def map_area(city: CityDirectory, scope: str | None) -> str:
    """The unit whose grids the map shows: a grid worker's grid shows its community."""
    if not scope or scope not in city.units:
        return city.root
    unit = city.units[scope]
    if Tier(unit.tier) is Tier.grid and unit.parent:
        return unit.parent
    return scope


def worker_map(
    geojson: Mapping[str, Any], city: CityDirectory, scope: str | None, title: str
) -> str:
    """An SVG of the grids of ``scope``'s area; the worker's own grids are marked."""
    area = map_area(city, scope)
    features = [
        f
        for f in geojson.get("features", [])
        if city.is_within(str((f.get("properties") or {}).get("code", "")), area)
    ]
    points = [p for f in features for ring in _rings(f["geometry"]) for p in ring]
    if not points:
        return ""
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    squash = math.cos(math.radians((min(ys) + max(ys)) / 2))
    span_x, span_y = (max(xs) - min(xs)) * squash or 1e-9, (max(ys) - min(ys)) or 1e-9
    scale = (WIDTH - 2 * PAD) / span_x
    height = min(int(span_y * scale + 2 * PAD), 480)
    scale = min(scale, (height - 2 * PAD) / span_y)

    def at(p: Sequence[float]) -> str:
        return f"{PAD + (p[0] - min(xs)) * squash * scale:.1f},{PAD + (max(ys) - p[1]) * scale:.1f}"

    body = []
    for feature in features:
        code = str(feature["properties"]["code"])
        name = city.units[code].name if code in city.units else code
        mine = bool(scope) and city.is_within(code, str(scope))
        for ring in _rings(feature["geometry"]):
            body.append(
                f'<polygon points="{" ".join(at(p) for p in ring)}" '
                f'class="grid-shape{" mine" if mine else ""}" data-grid={quoteattr(code)} '
                f"data-name={quoteattr(name)}><title>{escape(name)}</title></polygon>"
            )
        ring = _rings(feature["geometry"])[0]
        cx = sum(p[0] for p in ring) / len(ring)
        cy = sum(p[1] for p in ring) / len(ring)
        x, y = at((cx, cy)).split(",")
        body.append(
            f'<text x="{x}" y="{y}" class="grid-label" text-anchor="middle">{escape(name)}</text>'
        )
    body.append(
        '<g id="map-pin" class="pin off"><circle r="9" class="pin-halo"/><circle r="4"/></g>'
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'class="worker-map" id="worker-map" aria-labelledby="worker-map-title" data-map '
        f'data-min-lng="{min(xs)}" data-max-lat="{max(ys)}" data-squash="{squash}" '
        f'data-scale="{scale}" data-pad="{PAD}">'
        f'<title id="worker-map-title">{escape(title)}</title>' + "".join(body) + "</svg>"
    )
