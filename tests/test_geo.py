"""engine.geo: point -> grid lookup over synthetic grids."""

from __future__ import annotations

import math

import pytest

from engine.geo import GridIndex, validate_point


def square(code: str, west: float, south: float, size: float = 0.01) -> dict:
    ring = [
        [west, south],
        [west + size, south],
        [west + size, south + size],
        [west, south + size],
        [west, south],
    ]
    return {
        "type": "Feature",
        "properties": {"code": code},
        "geometry": {"type": "Polygon", "coordinates": [ring]},
    }


def collection(*features: dict) -> dict:
    return {"type": "FeatureCollection", "features": list(features)}


@pytest.fixture
def grids() -> GridIndex:
    # 2 x 2 lattice over lng 120.00-120.02, lat 30.00-30.02; codes chosen so that the
    # smallest code is not the first feature.
    return GridIndex.from_geojson(
        collection(
            square("01010102", 120.00, 30.00),
            square("01010101", 120.01, 30.00),
            square("01010201", 120.00, 30.01),
            square("01010202", 120.01, 30.01),
        )
    )


def test_inside_each_grid(grids: GridIndex) -> None:
    assert grids.locate(30.005, 120.005) == "01010102"
    assert grids.locate(30.005, 120.015) == "01010101"
    assert grids.locate(30.015, 120.005) == "01010201"
    assert grids.locate(30.015, 120.015) == "01010202"
    assert len(grids) == 4


def test_outside_every_grid_is_none(grids: GridIndex) -> None:
    assert grids.locate(30.05, 120.05) is None
    assert grids.locate(-30.005, -120.005) is None


def test_boundary_picks_the_smallest_code(grids: GridIndex) -> None:
    assert grids.locate(30.005, 120.01) == "01010101"  # edge between 0102 and 0101
    assert grids.locate(30.01, 120.01) == "01010101"  # corner of all four
    assert grids.locate(30.02, 120.005) == "01010201"  # outer edge belongs to its grid


def test_hole_is_outside() -> None:
    outer = [[0, 0], [3, 0], [3, 3], [0, 3], [0, 0]]
    hole = [[1, 1], [2, 1], [2, 2], [1, 2], [1, 1]]
    feature = {
        "type": "Feature",
        "properties": {"code": "0101"},
        "geometry": {"type": "Polygon", "coordinates": [outer, hole]},
    }
    index = GridIndex.from_geojson(collection(feature))
    assert index.locate(0.5, 0.5) == "0101"
    assert index.locate(1.5, 1.5) is None


def test_multipolygon_grid() -> None:
    a = square("x", 10.0, 10.0)["geometry"]["coordinates"]
    b = square("x", 11.0, 10.0)["geometry"]["coordinates"]
    feature = {
        "type": "Feature",
        "properties": {"code": "07"},
        "geometry": {"type": "MultiPolygon", "coordinates": [a, b]},
    }
    index = GridIndex.from_geojson(collection(feature))
    assert index.locate(10.005, 11.005) == "07"
    assert index.locate(10.005, 10.5) is None


def test_empty_collection_locates_nothing() -> None:
    assert GridIndex.from_geojson(collection()).locate(30.0, 120.0) is None


@pytest.mark.parametrize(
    ("lat", "lng", "fragment"),
    [
        (math.nan, 120.0, "lat must be a finite number"),
        (30.0, math.inf, "lng must be a finite number"),
        (-math.inf, 120.0, "lat must be a finite number"),
        (90.0001, 120.0, "lat 90.0001 is out of range [-90, 90]"),
        (30.0, -180.5, "lng -180.5 is out of range [-180, 180]"),
        (120.1, 30.2, "swapped"),
        ("30.1", 120.0, "lat must be a number"),
        (30.0, None, "lng must be a number"),
        (True, 120.0, "lat must be a number"),
    ],
)
def test_bad_coordinates(grids: GridIndex, lat: object, lng: object, fragment: str) -> None:
    with pytest.raises(ValueError) as info:
        validate_point(lat, lng)  # type: ignore[arg-type]
    assert fragment in str(info.value)
    with pytest.raises(ValueError):
        grids.locate(lat, lng)  # type: ignore[arg-type]


def test_edges_of_the_valid_range() -> None:
    for lat, lng in ((90, 180), (-90, -180), (0, 0)):
        validate_point(lat, lng)


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ({"type": "Feature"}, "expected a GeoJSON FeatureCollection"),
        ({"type": "FeatureCollection", "features": {}}, "'features' must be a list"),
        (collection({"type": "Feature", "properties": {}}), "properties.code must be"),
        (
            collection(
                {**square("01", 0, 0), "geometry": {"type": "Point", "coordinates": [0, 0]}}
            ),
            "code '01'): geometry must be a Polygon or MultiPolygon, got 'Point'",
        ),
        (collection(square("01", 13_000_000, 3_500_000, 500)), "not WGS84"),
        (collection(square("01", 0, 0), square("01", 1, 1)), "duplicate code '01'"),
    ],
)
def test_bad_geojson_is_rejected_with_the_feature_named(data: dict, fragment: str) -> None:
    with pytest.raises(ValueError) as info:
        GridIndex.from_geojson(data)
    assert fragment in str(info.value)


def bowtie() -> dict:
    ring = [[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]
    return {
        "type": "Feature",
        "properties": {"code": "09"},
        "geometry": {"type": "Polygon", "coordinates": [ring]},
    }


def test_invalid_polygon_is_rejected_or_repaired() -> None:
    with pytest.raises(ValueError, match=r"feature #1 \(code '09'\): invalid polygon"):
        GridIndex.from_geojson(collection(bowtie()))
    repaired = GridIndex.from_geojson(collection(bowtie()), repair=True)
    assert repaired.locate(0.5, 0.2) == "09"
    assert repaired.locate(0.5, 0.5) == "09"  # the crossing point
    assert repaired.locate(2.0, 2.0) is None


def test_every_bad_feature_is_reported_at_once() -> None:
    data = collection(square("", 0, 0), square("02", 1, 1), {"type": "Feature"})
    with pytest.raises(ValueError) as info:
        GridIndex.from_geojson(data)
    message = str(info.value)
    assert "2 invalid feature(s)" in message
    assert "feature #1" in message
    assert "feature #3" in message
