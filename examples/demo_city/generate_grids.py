"""Generate grids.geojson for the Demo City (示范市) from units.csv.

Run from anywhere:

    python examples/demo_city/generate_grids.py

The output is deterministic (fixed random seed), so re-running it reproduces the
committed file byte for byte unless units.csv or this script changed.

Layout
------
The city extent (lng 120.10-120.22, lat 30.22-30.32) is cut into a 6 x 4 lattice of
cells, one cell per grid. The lattice vertices are jittered and every cell edge gets a
jittered midpoint, so the polygons look like real, irregular grid boundaries. Neighbouring
cells use the *same* vertex objects for their shared edge, which guarantees there are no
overlaps and no gaps between grids.

Cells are assigned by the unit tree so that every community, street and district is
contiguous:

* district k (k = 0, 1) takes lattice columns 3k .. 3k+2 (west / east half);
* street j (j = 0, 1) inside a district takes rows 2j .. 2j+1 (north / south);
* inside a street's 3 x 2 block, community 0 takes an L shape of three cells and
  community 1 the complementary L shape.

This script is only for the demo. A real city exports its grid polygons from its GIS
(WGS84 / EPSG:4326, lng-lat order) into the same GeoJSON shape.
"""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

from shapely.geometry import Polygon, mapping, shape
from shapely.geometry.polygon import orient

HERE = Path(__file__).resolve().parent
UNITS_CSV = HERE / "units.csv"
OUT = HERE / "grids.geojson"

# City extent in WGS84 degrees.
LNG_MIN, LNG_MAX = 120.10, 120.22
LAT_MIN, LAT_MAX = 30.22, 30.32
COLS, ROWS = 6, 4
DX = (LNG_MAX - LNG_MIN) / COLS
DY = (LAT_MAX - LAT_MIN) / ROWS

# Jitter as a fraction of the cell size. Corners move at most 18 %, edge midpoints
# bulge at most 12 % sideways: small enough that every cell stays a simple polygon.
CORNER_JITTER = 0.18
MID_JITTER = 0.12
DECIMALS = 6  # about 0.1 m; shared vertices are rounded once, so they stay identical

# Cells (col, row) inside a street's 3 x 2 block for community 0 and community 1,
# listed in grid order (第一网格, 第二网格, 第三网格). Row 0 is the northern row.
COMMUNITY_CELLS = [
    [(0, 0), (1, 0), (0, 1)],
    [(2, 0), (2, 1), (1, 1)],
]


def load_units() -> list[dict[str, str]]:
    with UNITS_CSV.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def children(units: list[dict[str, str]], parent: str, tier: str) -> list[dict[str, str]]:
    return sorted(
        (u for u in units if u["parent"] == parent and u["tier"] == tier), key=lambda u: u["code"]
    )


def assign_cells(units: list[dict[str, str]]) -> dict[tuple[int, int], dict[str, str]]:
    """Map lattice cell (col, row) -> grid unit, following the layout described above."""
    cells: dict[tuple[int, int], dict[str, str]] = {}
    districts = children(units, "00", "district")
    assert len(districts) == 2, "the demo layout expects 2 districts"
    for k, district in enumerate(districts):
        streets = children(units, district["code"], "street")
        assert len(streets) == 2, f"{district['code']}: expected 2 streets"
        for j, street in enumerate(streets):
            communities = children(units, street["code"], "community")
            assert len(communities) == 2, f"{street['code']}: expected 2 communities"
            for c, community in enumerate(communities):
                grids = children(units, community["code"], "grid")
                assert len(grids) == 3, f"{community['code']}: expected 3 grids"
                for grid, (dc, dr) in zip(grids, COMMUNITY_CELLS[c], strict=True):
                    cells[(3 * k + dc, 2 * j + dr)] = grid | {"community": community["code"]}
    assert len(cells) == COLS * ROWS
    return cells


def build_vertices(rng: random.Random):
    """Jittered lattice corners plus one jittered midpoint per cell edge."""
    # corners[i][r]: i = column line 0..COLS (west -> east), r = row line 0..ROWS (north -> south)
    corners = [[(0.0, 0.0)] * (ROWS + 1) for _ in range(COLS + 1)]
    for i in range(COLS + 1):
        for r in range(ROWS + 1):
            x = LNG_MIN + i * DX
            y = LAT_MAX - r * DY
            on_ew_border = i in (0, COLS)
            on_ns_border = r in (0, ROWS)
            # Border vertices only slide along the border, so the outline stays tidy;
            # the four city corners stay fixed.
            if not on_ew_border:
                x += rng.uniform(-CORNER_JITTER, CORNER_JITTER) * DX
            if not on_ns_border:
                y += rng.uniform(-CORNER_JITTER, CORNER_JITTER) * DY
            corners[i][r] = (x, y)

    def midpoint(a, b, perp_scale):
        mx, my = (a[0] + b[0]) / 2, (a[1] + b[1]) / 2
        # Perpendicular offset (scaled separately per axis because degrees of lng and
        # lat differ in length). Border edges get a midpoint too, which roughens the outline.
        dx, dy = b[0] - a[0], b[1] - a[1]
        t = rng.uniform(-MID_JITTER, MID_JITTER)
        x = mx - dy / DY * DX * t * perp_scale
        y = my + dx / DX * DY * t * perp_scale
        # Keep the city inside its extent: border midpoints may only dent inwards.
        return (min(max(x, LNG_MIN), LNG_MAX), min(max(y, LAT_MIN), LAT_MAX))

    # Horizontal edges: between corners[i][r] and corners[i+1][r].
    h_mid = {
        (i, r): midpoint(corners[i][r], corners[i + 1][r], 1.0)
        for i in range(COLS)
        for r in range(ROWS + 1)
    }
    # Vertical edges: between corners[i][r] and corners[i][r+1].
    v_mid = {
        (i, r): midpoint(corners[i][r], corners[i][r + 1], 1.0)
        for i in range(COLS + 1)
        for r in range(ROWS)
    }
    return corners, h_mid, v_mid


def cell_ring(col: int, row: int, corners, h_mid, v_mid) -> list[tuple[float, float]]:
    nw, ne = corners[col][row], corners[col + 1][row]
    se, sw = corners[col + 1][row + 1], corners[col][row + 1]
    ring = [
        nw,
        h_mid[(col, row)],
        ne,
        v_mid[(col + 1, row)],
        se,
        h_mid[(col, row + 1)],
        sw,
        v_mid[(col, row)],
        nw,
    ]
    return [(round(x, DECIMALS), round(y, DECIMALS)) for x, y in ring]


def main() -> None:
    units = load_units()
    cells = assign_cells(units)
    rng = random.Random(20240521)
    corners, h_mid, v_mid = build_vertices(rng)

    features = []
    for (col, row), grid in sorted(cells.items(), key=lambda kv: kv[1]["code"]):
        # RFC 7946: exterior rings are counter-clockwise.
        poly = orient(Polygon(cell_ring(col, row, corners, h_mid, v_mid)), sign=1.0)
        assert poly.is_valid, grid["code"]
        geom = mapping(poly)
        geom = {
            "type": "Polygon",
            "coordinates": [[list(pt) for pt in ring] for ring in geom["coordinates"]],
        }
        features.append(
            {
                "type": "Feature",
                "properties": {
                    "code": grid["code"],
                    "name": grid["name"],
                    "community": grid["community"],
                },
                "geometry": geom,
            }
        )

    # Self-check: no two grids overlap, and together they tile the city without gaps.
    polys = [shape(f["geometry"]) for f in features]
    for a in range(len(polys)):
        for b in range(a + 1, len(polys)):
            assert polys[a].intersection(polys[b]).area < 1e-12, (a, b)

    fc = {"type": "FeatureCollection", "features": features}
    with OUT.open("w", encoding="utf-8", newline="\n") as f:
        f.write('{\n"type": "FeatureCollection",\n"features": [\n')
        f.write(
            ",\n".join(
                json.dumps(feat, ensure_ascii=False, separators=(",", ":"))
                for feat in fc["features"]
            )
        )
        f.write("\n]\n}\n")
    print(f"wrote {len(features)} grid polygons to {OUT}")


if __name__ == "__main__":
    main()
