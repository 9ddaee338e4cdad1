"""Photo uploads: typed by magic bytes, size-limited (413), content-addressed on disk, and the
reference they return is accepted in photos fields."""

from __future__ import annotations

import hashlib

import pytest

from tests.intake_support import JPEG, WEBP, png

URL = "/api/v1/attachments"


@pytest.fixture
async def client(make_ctx, make_api, tmp_path):
    ctx = make_ctx(attachments_dir=tmp_path / "photos", max_attachment_bytes=4096)
    async with make_api(ctx) as api:
        yield api


async def upload(api, data: bytes, name: str = "现场照片.jpg", kind: str = "image/jpeg"):
    files = {"file": (name, data, kind)}
    return await api.client.post(URL, files=files, headers=api.auth("grid_worker", "01010101"))


async def test_png_jpeg_webp_are_stored_by_content(client, tmp_path):
    for data, ext, kind in ((png(1), "png", "image/png"), (JPEG, "jpg", "image/jpeg"),
                            (WEBP, "webp", "image/webp")):  # fmt: skip
        response = await upload(client, data, name="photo.bin", kind="application/octet-stream")
        assert response.status_code == 201, response.text
        body = response.json()
        digest = hashlib.sha256(data).hexdigest()
        assert body["ref"] == f"att:{digest}.{ext}" and body["content_type"] == kind
        assert body["size"] == len(data)
        stored = tmp_path / "photos" / digest[:2] / f"{digest}.{ext}"
        assert stored.read_bytes() == data
        fetched = await client.client.get(
            body["url"], headers=client.auth("grid_worker", "01010101")
        )
        assert fetched.status_code == 200 and fetched.content == data
        assert fetched.headers["content-type"] == kind


async def test_same_bytes_same_reference(client, tmp_path):
    first = (await upload(client, png(7))).json()
    second = (await upload(client, png(7), name="again.png")).json()
    assert first["ref"] == second["ref"]
    assert len(list((tmp_path / "photos").rglob("*.png"))) == 1


async def test_not_an_image_is_refused(client):
    for data in (b"%PDF-1.7 not a photo", b"GIF89a......", b"<svg></svg>"):
        response = await upload(client, data, name="evil.jpg")
        assert response.status_code == 422
        assert response.json()["error"]["details"][0]["field"] == "file"


async def test_oversize_upload_is_413(client, tmp_path):
    big = JPEG + b"\x00" * 5000
    response = await upload(client, big)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"
    assert not list((tmp_path / "photos").rglob("*.jpg"))


async def test_missing_file_part_and_wrong_content_type(client):
    headers = client.auth("grid_worker", "01010101")
    no_file = await client.client.post(URL, data={"note": "x"}, headers=headers)
    assert no_file.status_code == 422
    as_json = await client.client.post(URL, json={"file": "abc"}, headers=headers)
    assert as_json.status_code == 422
    empty = await upload(client, b"")
    assert empty.status_code == 422


async def test_upload_needs_a_token_and_unknown_ref_is_404(client):
    response = await client.client.post(URL, files={"file": ("a.png", png(), "image/png")})
    assert response.status_code == 401
    missing = await client.client.get(f"{URL}/att:{'0' * 64}.png", headers=client.auth("admin"))
    assert missing.status_code == 404
