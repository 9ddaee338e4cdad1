"""Who sees a photo (issue 18, defect 4): exactly those who can see a case that refers to it,
and its uploader until it is attached; anyone else gets the same 404 as for a photo never
stored. Putting a photo into a case is a write like any other: refused, with nothing
written, to someone who may not see the photo."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from engine.attachment_access import AttachmentCase, AttachmentUpload
from engine.cases.models import CaseEvent
from engine.db import new_session
from tests.intake_support import png
from tests.page_support import PNG, login, post

URL = "/api/v1/attachments"
GRID, OTHER_GRID = "01010101", "02010101"
NEVER_STORED = f"att:{'0' * 64}.png"


@pytest.fixture
async def api(make_ctx, make_api, tmp_path):
    ctx = make_ctx(attachments_dir=tmp_path / "photos")
    async with make_api(ctx) as client:
        yield client


async def upload(api, seed: int, role: str = "grid_worker", scope: str = GRID) -> str:
    files = {"file": ("p.png", png(seed), "image/png")}
    response = await api.client.post(URL, files=files, headers=api.auth(role, scope))
    assert response.status_code == 201, response.text
    return response.json()["ref"]


async def status(api, ref: str, role: str, scope: str | None) -> int:
    return (await api.client.get(f"{URL}/{ref}", headers=api.auth(role, scope))).status_code


async def grid_report(api, ref: str, scope: str = GRID) -> dict:
    body = {
        "report_id": f"scope-{ref[4:12]}",
        "category": "09007",
        "description": "楼道口堆放装修垃圾",
        "lat": 30.30333,
        "lng": 120.1096,
        "grid_code": GRID,
        "photos": [ref],
    }
    headers = api.auth("grid_worker", scope)
    response = await api.client.post("/api/v1/intake/grid", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def rows(api, table) -> int:
    with new_session(api.ctx.db) as session:
        return session.execute(select(func.count()).select_from(table)).scalar_one()


async def test_an_unattached_photo_is_its_uploaders_alone(api):
    ref = await upload(api, 1)
    assert await status(api, ref, "grid_worker", GRID) == 200
    for role, scope in [
        ("grid_worker", OTHER_GRID),
        ("dispatcher", "0101"),
        ("handler", "HW-01"),
        ("supervisor", "00"),
        ("admin", "00"),  # not even an admin: no case refers to it yet
    ]:
        assert await status(api, ref, role, scope) == 404, (role, scope)
    # The same answer as for a reference never stored: existence does not leak.
    answer = await api.client.get(f"{URL}/{ref}", headers=api.auth("admin"))
    missing = await api.client.get(f"{URL}/{NEVER_STORED}", headers=api.auth("admin"))
    assert answer.status_code == missing.status_code == 404
    assert answer.json()["error"]["code"] == missing.json()["error"]["code"]


async def test_an_attached_photo_follows_its_cases_scope(api):
    ref = await upload(api, 2)
    case = await grid_report(api, ref)
    dispatched = await api.act(case["id"], "dispatch", "dispatcher", department="HW-01")
    assert dispatched.status_code == 200, dispatched.text
    with new_session(api.ctx.db) as session:
        index = session.execute(select(AttachmentCase.ref, AttachmentCase.case_id)).all()
        pending = session.execute(select(AttachmentUpload.attached_at)).scalars().all()
    assert index == [(ref, case["id"])] and pending[0] is not None
    visible = [
        ("grid_worker", GRID),  # the uploader, now through the case
        ("dispatcher", "0101"),
        ("supervisor", "01"),
        ("handler", "HW-01"),  # the lead department holds a task
        ("admin", "00"),
    ]
    hidden = [
        ("grid_worker", OTHER_GRID),
        ("dispatcher", "0201"),
        ("supervisor", "02"),
        ("handler", "HW-02"),
    ]
    for role, scope in visible:
        assert await status(api, ref, role, scope) == 200, (role, scope)
    for role, scope in hidden:
        assert await status(api, ref, role, scope) == 404, (role, scope)


async def test_attaching_a_photo_one_may_not_see_writes_nothing(api):
    ref = await upload(api, 3)
    await grid_report(api, ref)
    other = await upload(api, 4)  # uploaded, not attached: its uploader's alone
    own_case = await api.file(grid_code=OTHER_GRID, role="dispatcher", scope="0201")
    before = rows(api, CaseEvent), rows(api, AttachmentCase)
    for stolen in (ref, other):
        response = await api.act(
            own_case["id"], "note", "dispatcher", "0201", note="现场照片", photos=[stolen]
        )
        assert response.status_code == 422, response.text
        assert response.json()["error"]["details"][0]["field"] == "photos[0]"
    assert (rows(api, CaseEvent), rows(api, AttachmentCase)) == before
    assert await status(api, ref, "dispatcher", "0201") == 404
    # Someone who sees the photo's case may cite it on another case they see.
    second = await api.file(grid_code=GRID, role="dispatcher", scope="0101")
    cited = await api.act(second["id"], "note", "dispatcher", "0101", note="同一处", photos=[ref])
    assert cited.status_code == 200, cited.text
    assert rows(api, AttachmentCase) == before[1] + 1


async def test_a_later_upload_of_the_same_bytes_is_that_uploaders(api):
    ref = await upload(api, 5)
    await grid_report(api, ref)
    assert await status(api, ref, "grid_worker", OTHER_GRID) == 404
    again = await upload(api, 5, scope=OTHER_GRID)  # holds the bytes: sees their own upload
    assert again == ref and await status(api, ref, "grid_worker", OTHER_GRID) == 200


async def test_the_page_photo_route_checks_the_same_scope(api):
    ref = await upload(api, 6)
    case = await grid_report(api, ref)
    await login(api, "dispatcher", "0201")
    assert (await api.client.get(f"/files/{ref}")).status_code == 404
    assert (await api.client.get(f"/files/{NEVER_STORED}")).status_code == 404
    await login(api, "dispatcher", "0101")
    shown = await api.client.get(f"/files/{ref}")
    assert shown.status_code == 200 and shown.content == png(6)
    # A photo a page form uploads is attached in that request and shown with its case.
    csrf = await login(api, "dispatcher", "0101", name="dispatcher-photos")
    files = {"photos": ("现场.png", PNG, "image/png")}
    answer = await post(api, f"/cases/{case['id']}/act/note", csrf, files=files, note="补充照片")
    assert answer.status_code in (200, 303), answer.text
    with new_session(api.ctx.db) as session:
        refs = set(session.execute(select(AttachmentCase.ref)).scalars())
    assert len(refs) == 2
    page_ref = (refs - {ref}).pop()
    assert (await api.client.get(f"/files/{page_ref}")).status_code == 200
    await login(api, "grid_worker", OTHER_GRID)
    assert (await api.client.get(f"/files/{page_ref}")).status_code == 404
