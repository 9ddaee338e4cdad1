"""Intake places a lat/lng in its grid from the stored grid polygons; malformed coordinates
are a 422 naming lat or lng; a point outside every grid goes to the city's manual queue."""

from __future__ import annotations

import json

import pytest

from engine.city.loader import CityConfigError, read_city, store_city
from engine.db import new_session
from tests.dispatch_support import (
    DEMO_CITY,
    IN_01010101,
    IN_02020203,
    OUTSIDE,
    activate,
    events,
)


async def test_a_point_is_placed_in_its_grid_without_any_rule_table(api):
    case = await api.file(grid_code=None, **IN_02020203)
    assert case["owning_unit"] == "02020203"
    assert case["state"] == "registered"  # no rule table: no automatic dispatch


async def test_the_grid_found_from_lat_lng_drives_area_rules(api, ctx):
    activate(ctx)
    east = await api.file(grid_code=None, **IN_01010101)  # 暴露垃圾 in district 01
    west = await api.file(grid_code=None, **IN_02020203)  # … in district 02 (contracted out)
    assert (east["owning_unit"], east["lead_department"]) == ("01010101", "HW-01")
    assert (west["owning_unit"], west["lead_department"]) == ("02020203", "HWGS-02")
    assert west["dispatch_rule"] == "sanitation-02" and west["dispatch_queue"] == "02"


async def test_an_explicit_grid_code_wins_over_the_point(api):
    case = await api.file(grid_code="01020101", **IN_02020203)
    assert case["owning_unit"] == "01020101"


async def test_outside_every_grid_goes_to_the_city_queue_with_the_reason(api, ctx):
    activate(ctx)
    case = await api.file(grid_code=None, **OUTSIDE)
    assert (case["owning_unit"], case["state"]) == ("00", "dispatching")
    assert (case["dispatch_queue"], case["dispatch_source"]) == ("00", "rule")
    queued = events(ctx, case["id"])[-1]
    assert queued.action == "queue" and queued.data["queue"] == "city"
    assert "outside every grid" in queued.data["reason"]

    city = await api.client.get("/api/v1/dispatch/queue", headers=api.auth("dispatcher", "00"))
    [item] = city.json()["items"]
    assert item["case"]["id"] == case["id"] and "outside every grid" in item["reason"]
    district = await api.client.get("/api/v1/dispatch/queue", headers=api.auth("dispatcher", "01"))
    assert district.json()["total"] == 0


async def test_even_an_urgent_keyword_row_outside_the_grids_waits_for_the_city(api, ctx):
    activate(ctx)
    case = await api.file(grid_code=None, description="燃气泄漏", **OUTSIDE)
    assert (case["state"], case["dispatch_queue"], case["lead_department"]) == (
        "dispatching",
        "00",
        None,
    )


@pytest.mark.parametrize(
    ("point", "field"),
    [
        ({"lat": 95.0, "lng": 120.1}, "lat"),
        ({"lat": 30.3, "lng": 181.0}, "lng"),
        ({"lat": "north", "lng": 120.1}, "lat"),
        ({"lat": 30.3, "lng": None}, "lng"),
        ({"lat": None, "lng": 120.1}, "lat"),
    ],
)
async def test_malformed_coordinates_are_422_naming_the_field(api, point, field):
    body = {"channel": "hotline", "category": "06002", "description": "垃圾"} | point
    response = await api.client.post("/api/v1/cases", json=body, headers=api.auth("operator"))
    assert response.status_code == 422, response.text
    fields = [d["field"] for d in response.json()["error"]["details"]]
    assert fields[0] == field


async def test_not_a_number_coordinates_are_422(api):
    body = '{"channel": "hotline", "description": "垃圾", "lat": NaN, "lng": 120.1}'
    headers = api.auth("operator") | {"Content-Type": "application/json"}
    response = await api.client.post("/api/v1/cases", content=body, headers=headers)
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "lat"


def test_init_refuses_polygons_that_are_not_grids_of_the_org_tree(ctx):
    files = read_city(DEMO_CITY)
    features = json.loads(json.dumps(files.grids_geojson))
    features["features"][0]["properties"]["code"] = "0101"  # a street, not a grid
    files.grids_geojson = features
    with new_session(ctx.db) as session, session.begin(), pytest.raises(CityConfigError) as bad:
        store_city(session, files)
    assert "grids.geojson" in str(bad.value) and "0101" in str(bad.value)
