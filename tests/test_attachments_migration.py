"""Upgrading to the attachment owners revision indexes the photos events already carry, so a
photo filed before the upgrade is shown with its case, as one filed after it."""

from __future__ import annotations

from alembic import command
from sqlalchemy import select
from test_audit_migration import migrate

from engine.attachment_access import AttachmentCase
from tests.intake_support import png

BEFORE = "2b8e6f0a1c06"  # the revision before attachment owners


async def test_photos_in_the_trail_are_indexed_on_upgrade(make_ctx, make_api, tmp_path):
    ctx = make_ctx(attachments_dir=tmp_path / "photos")
    async with make_api(ctx) as api:
        worker = api.auth("grid_worker", "01010101")
        refs = []
        for seed in (1, 2):
            files = {"file": ("p.png", png(seed), "image/png")}
            upload = await api.client.post("/api/v1/attachments", files=files, headers=worker)
            refs.append(upload.json()["ref"])
        body = {"report_id": "before-upgrade", "category": "09007", "description": "楼道堆物",
                "lat": 30.30333, "lng": 120.1096, "photos": refs}  # fmt: skip
        case = (await api.client.post("/api/v1/intake/grid", json=body, headers=worker)).json()
    with ctx.db.connect() as conn:
        indexed = set(conn.execute(select(AttachmentCase.ref, AttachmentCase.case_id)).all())
    assert indexed == {(ref, case["id"]) for ref in refs}
    ctx.db.dispose()

    migrate(ctx.settings.database_url, command.downgrade, BEFORE)  # the index is gone
    migrate(ctx.settings.database_url, command.upgrade, "head")  # and rebuilt from the trail

    with ctx.db.connect() as conn:
        assert set(conn.execute(select(AttachmentCase.ref, AttachmentCase.case_id)).all()) == (
            indexed
        )
    async with make_api(ctx) as api:
        seen = await api.client.get(
            f"/api/v1/attachments/{refs[0]}", headers=api.auth("dispatcher", "0101")
        )
        hidden = await api.client.get(
            f"/api/v1/attachments/{refs[0]}", headers=api.auth("dispatcher", "0201")
        )
    assert (seen.status_code, hidden.status_code) == (200, 404)
