"""Body size and intake rate limits answer 413 and 429 before any route runs."""

from __future__ import annotations

import pytest

BODY = {"channel": "web", "description": "路灯不亮", "grid_code": "01010101"}


@pytest.fixture
async def limited(make_ctx, make_api):
    ctx = make_ctx(max_body_bytes=2_000, intake_rate_per_second=1.0, intake_burst=3)
    async with make_api(ctx) as api:
        yield api


async def test_oversize_body_is_413(limited):
    body = {"channel": "web", "description": "很" * 3000}
    response = await limited.client.post(
        "/api/v1/cases", json=body, headers=limited.auth("operator")
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"


async def test_chunked_oversize_body_is_413(limited):
    async def chunks():
        for _ in range(10):
            yield b"x" * 500

    headers = limited.auth("operator") | {"content-type": "application/json"}
    response = await limited.client.post("/api/v1/cases", content=chunks(), headers=headers)
    assert response.status_code == 413


async def test_intake_rate_limit_per_token_with_retry_after(limited):
    client = limited.client
    mine, other = limited.auth("operator", "00"), limited.auth("operator", "01")
    codes = [
        (await client.post("/api/v1/cases", json=BODY, headers=mine)).status_code for _ in range(4)
    ]
    assert codes == [201, 201, 201, 429]
    refused = await client.post("/api/v1/cases", json=BODY, headers=mine)
    assert refused.headers["retry-after"] == "1"
    assert (await client.post("/api/v1/cases", json=BODY, headers=other)).status_code == 201
    assert (await client.get("/api/v1/cases", headers=mine)).status_code == 200  # reads are free
    limited.ctx.clock.advance(seconds=2)
    assert (await client.post("/api/v1/cases", json=BODY, headers=mine)).status_code == 201
