"""Point -> grid lookup over the city's grid polygons, with a shapely STRtree.

Input is ``grids.geojson``: a FeatureCollection in WGS84 with ``[lng, lat]`` coordinates,
one ``Polygon`` or ``MultiPolygon`` feature per grid, ``properties.code`` = the grid's unit
code. A point on the boundary of several grids (a shared edge or corner) goes to the
smallest code, so the answer never depends on file or tree order. Walking from the grid up
to community, street and district is the org tree's business, not this module's.

See docs/ARCHITECTURE.md#dispatch.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from numbers import Real
from typing import Any

import shapely
from shapely.geometry import MultiPolygon, Point, Polygon, shape
from shapely.geometry.base import BaseGeometry
from shapely.strtree import STRtree
from shapely.validation import explain_validity

_MAX_REPORTED = 20


def validate_point(lat: float, lng: float) -> None:
    """Raise ValueError unless ``lat`` is in [-90, 90] and ``lng`` in [-180, 180]."""
    for name, value, limit in (("lat", lat, 90), ("lng", lng, 180)):
        if isinstance(value, bool) or not isinstance(value, Real):
            raise ValueError(f"{name} must be a number, got {value!r}")
        if not math.isfinite(value):
            raise ValueError(f"{name} must be a finite number, got {value!r}")
        if not -limit <= value <= limit:
            hint = ""
            if name == "lat" and isinstance(lng, Real) and -90 <= lng <= 90:
                hint = " (are lat and lng swapped?)"
            raise ValueError(f"{name} {value!r} is out of range [-{limit}, {limit}]{hint}")


def _polygonal(geometry: BaseGeometry) -> BaseGeometry:
    """The polygonal part of a repaired geometry (make_valid may add lines or points)."""
    if isinstance(geometry, Polygon | MultiPolygon):
        return geometry
    parts = [g for g in getattr(geometry, "geoms", ()) if isinstance(g, Polygon | MultiPolygon)]
    return shapely.union_all(parts) if parts else Polygon()


def _feature(index: int, feature: Any, repair: bool) -> tuple[str, BaseGeometry]:
    """Validate one feature; raise ValueError naming it."""
    where = f"feature #{index + 1}"
    if not isinstance(feature, Mapping):
        raise ValueError(f"{where}: not a GeoJSON Feature object")
    properties = feature.get("properties")
    code = properties.get("code") if isinstance(properties, Mapping) else None
    if not isinstance(code, str) or not code.strip():
        raise ValueError(f"{where}: properties.code must be a non-empty string, got {code!r}")
    where = f"{where} (code {code!r})"
    raw = feature.get("geometry")
    if not isinstance(raw, Mapping) or raw.get("type") not in ("Polygon", "MultiPolygon"):
        kind = raw.get("type") if isinstance(raw, Mapping) else raw
        raise ValueError(f"{where}: geometry must be a Polygon or MultiPolygon, got {kind!r}")
    try:
        geometry = shape(raw)
    except Exception as exc:  # shapely raises several types for malformed coordinates
        raise ValueError(f"{where}: malformed geometry: {exc}") from None
    if geometry.is_empty:
        raise ValueError(f"{where}: empty geometry")
    west, south, east, north = geometry.bounds
    if not (-180 <= west <= east <= 180 and -90 <= south <= north <= 90):
        raise ValueError(
            f"{where}: coordinates {geometry.bounds} are not WGS84 [lng, lat] "
            "(projected coordinates, or lat/lng swapped?)"
        )
    if not geometry.is_valid:
        if not repair:
            raise ValueError(f"{where}: invalid polygon: {explain_validity(geometry)}")
        geometry = _polygonal(shapely.make_valid(geometry))
    return code, geometry


class GridIndex:
    """Grid polygons with a spatial index; :meth:`locate` maps a point to a grid code."""

    def __init__(self, codes: Sequence[str], geometries: Sequence[BaseGeometry]) -> None:
        if len(codes) != len(geometries):
            raise ValueError("codes and geometries must have the same length")
        self._codes = tuple(codes)
        self._geometries = tuple(geometries)
        self._tree = STRtree(self._geometries)

    @classmethod
    def from_geojson(cls, data: Mapping[str, Any], *, repair: bool = False) -> GridIndex:
        """Build from a parsed ``grids.geojson``. Raises ValueError listing every bad
        feature (missing code, duplicate code, non-polygon, out-of-range or invalid
        geometry). ``repair=True`` fixes invalid polygons with ``shapely.make_valid``
        instead of rejecting them."""
        if not isinstance(data, Mapping) or data.get("type") != "FeatureCollection":
            raise ValueError("grids: expected a GeoJSON FeatureCollection")
        features = data.get("features")
        if not isinstance(features, list):
            raise ValueError("grids: 'features' must be a list")
        problems: list[str] = []
        codes: list[str] = []
        geometries: list[BaseGeometry] = []
        seen: dict[str, int] = {}
        for index, feature in enumerate(features):
            try:
                code, geometry = _feature(index, feature, repair)
            except ValueError as exc:
                problems.append(str(exc))
                continue
            if code in seen:
                problems.append(
                    f"feature #{index + 1}: duplicate code {code!r} "
                    f"(also feature #{seen[code] + 1}; use one MultiPolygon per grid)"
                )
                continue
            seen[code] = index
            codes.append(code)
            geometries.append(geometry)
        if problems:
            shown = "\n  ".join(problems[:_MAX_REPORTED])
            extra = len(problems) - _MAX_REPORTED
            more = f"\n  … and {extra} more" if extra > 0 else ""
            raise ValueError(f"grids: {len(problems)} invalid feature(s):\n  {shown}{more}")
        return cls(codes, geometries)

    def __len__(self) -> int:
        return len(self._codes)

    @property
    def codes(self) -> tuple[str, ...]:
        return self._codes

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(west, south, east, north) of all grids, in degrees."""
        west, south, east, north = shapely.total_bounds(self._geometries)
        return float(west), float(south), float(east), float(north)

    def locate(self, lat: float, lng: float) -> str | None:
        """The code of the grid containing the point (boundary included; the smallest code
        when several grids touch it), or None when it is outside every grid."""
        validate_point(lat, lng)
        hits = self._tree.query(Point(float(lng), float(lat)), predicate="intersects")
        return min((self._codes[i] for i in hits), default=None)
