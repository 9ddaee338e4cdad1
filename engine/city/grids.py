"""The city's grid polygons (grids.geojson) in the database, and intake's point -> grid seam.

``gridflow init`` stores the GeoJSON (one row, checked against the org tree) so every
process places points the same way. :class:`GridLocator` is the case service's ``locator``:
it builds the STRtree index on first use and maps an intake's lat/lng to a grid code.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import JSON
from sqlalchemy.engine import Engine
from sqlmodel import Field, Session, SQLModel

from engine.city.models import Tier, Unit
from engine.db import new_session
from engine.errors import InvalidInput
from engine.geo import GridIndex, validate_point

if TYPE_CHECKING:
    from engine.city.directory import CityDirectory


class Located(Protocol):
    """What the locator reads of an intake (a ``CaseCreate``): its point, if any."""

    lat: float | None
    lng: float | None


class CityGrid(SQLModel, table=True):
    """The city's grid polygons: one row, the GeoJSON FeatureCollection as loaded."""

    __tablename__ = "city_grid"

    id: int = Field(default=1, primary_key=True)
    version: str = Field(max_length=16)  # first 12 hex digits of the canonical JSON's SHA-256
    features: int = 0
    geojson: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)


def check_grids(geojson: Mapping[str, Any], units: Mapping[str, Unit]) -> GridIndex:
    """Build the index, and check every feature is a grid of the org tree.

    Raises ValueError listing the problems."""
    index = GridIndex.from_geojson(geojson)
    bad = [code for code in index.codes if code not in units or units[code].tier is not Tier.grid]
    if bad:
        raise ValueError(f"codes that are not grids in units.csv: {', '.join(sorted(bad))}")
    return index


def store_grids(session: Session, geojson: Mapping[str, Any], units: Mapping[str, Unit]) -> None:
    """Check and upsert the grid polygons (raises ValueError when they are invalid)."""
    index = check_grids(geojson, units)
    canonical = json.dumps(geojson, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    version = hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:12]
    row = session.get(CityGrid, 1) or CityGrid(id=1, version=version)
    row.version, row.features, row.geojson = version, len(index), dict(geojson)
    session.add(row)


class GridLocator:
    """Point -> grid for intake (``CaseService.locator``), over the stored polygons."""

    def __init__(self, db: Engine) -> None:
        self.db = db
        self._index: GridIndex | None = None
        self._loaded = False
        self._lock = threading.Lock()

    def index(self) -> GridIndex | None:
        """The spatial index, built once per process; None when the city has no grids."""
        if not self._loaded:
            with self._lock:
                if not self._loaded:
                    with new_session(self.db) as session:
                        row = session.get(CityGrid, 1)
                    self._index = GridIndex.from_geojson(row.geojson) if row else None
                    self._loaded = True
        return self._index

    def reload(self) -> None:
        """Read the polygons again on next use (after ``gridflow init`` stored new ones)."""
        with self._lock:
            self._index, self._loaded = None, False

    def __call__(self, data: Located, city: CityDirectory) -> str | None:
        """The grid containing the intake's point, or None (no point, or outside every grid).

        Malformed coordinates are an ``InvalidInput`` naming ``lat`` or ``lng``."""
        if data.lat is None or data.lng is None:
            return None
        try:
            validate_point(data.lat, data.lng)
        except ValueError as exc:
            message = str(exc)
            raise InvalidInput("lng" if message.startswith("lng") else "lat", message) from None
        index = self.index()
        code = index.locate(data.lat, data.lng) if index is not None else None
        return code if code is not None and code in city.units else None
