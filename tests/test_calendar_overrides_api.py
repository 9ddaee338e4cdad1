"""Administrators keep the working calendar's override table; deadlines follow it at once
and /healthz stops warning about a year once its schedule is entered."""

from __future__ import annotations

from datetime import date

from sla_support import act, auth, local_iso, sla, stage

DEPT = "HW-01"
URL = "/api/v1/calendar/overrides"


async def test_admin_sets_lists_and_deletes_overrides(api):
    admin = auth(api.ctx, "admin")
    put = await api.client.put(
        f"{URL}/2026-03-03", json={"kind": "holiday", "note": "防汛停工"}, headers=admin
    )
    assert put.status_code == 200, put.text
    assert put.json() | {"updated_at": None} == {
        "day": "2026-03-03",
        "kind": "holiday",
        "note": "防汛停工",
        "updated_by": "admin@00",
        "updated_at": None,
    }
    replaced = await api.client.put(f"{URL}/2026-03-03", json={"kind": "workday"}, headers=admin)
    assert replaced.json()["kind"] == "workday"
    listed = (await api.client.get(URL, headers=auth(api.ctx, "dispatcher"))).json()
    assert [(i["day"], i["kind"]) for i in listed["items"]] == [("2026-03-03", "workday")]
    assert [c["year"] for c in listed["coverage"]] == [2026, 2027]

    assert (await api.client.delete(f"{URL}/2026-03-03", headers=admin)).status_code == 204
    assert (await api.client.delete(f"{URL}/2026-03-03", headers=admin)).status_code == 404
    assert (await api.client.get(URL, headers=admin)).json()["items"] == []


async def test_only_admins_edit_and_bad_input_is_422(api):
    dispatcher = auth(api.ctx, "dispatcher")
    denied = await api.client.put(f"{URL}/2026-03-03", json={"kind": "holiday"}, headers=dispatcher)
    assert denied.status_code == 403
    admin = auth(api.ctx, "admin")
    assert (
        await api.client.put(f"{URL}/2026-03-03", json={"kind": "x"}, headers=admin)
    ).status_code == 422
    assert (
        await api.client.put(f"{URL}/2026-02-30", json={"kind": "holiday"}, headers=admin)
    ).status_code == 422
    twice = {"items": [{"day": "2027-01-01", "kind": "holiday"}] * 2}
    response = await api.client.put(URL, json=twice, headers=admin)
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "items"
    assert (await api.client.get(URL)).status_code == 401


async def test_deadlines_follow_an_override_at_once(api):
    admin = auth(api.ctx, "admin")
    await api.client.put(f"{URL}/2026-03-03", json={"kind": "holiday"}, headers=admin)  # Tuesday
    await api.client.put(f"{URL}/2026-03-07", json={"kind": "workday"}, headers=admin)  # Saturday
    days = await api.client.get(
        "/api/v1/calendar/days", params={"from": "2026-03-02", "to": "2026-03-08"}, headers=admin
    )
    assert [d["workday"] for d in days.json()] == [True, False, True, True, True, True, False]

    case = await api.file()
    await act(api, case["id"], "dispatch", "dispatcher", department=DEPT, limits={"handle": "4wd"})
    await act(api, case["id"], "accept", "handler", DEPT)
    # Monday start: Wednesday, Thursday, Friday and the make-up Saturday.
    assert stage(await sla(api, case["id"]), "handle")["due_local"] == local_iso(2026, 3, 7, 18)


async def test_healthz_warns_until_next_years_schedule_is_entered(api):
    health = (await api.client.get("/healthz", headers=auth(api.ctx, "admin"))).json()
    assert any("2027" in w for w in health["warnings"])  # the package stops at 2026
    schedule = {
        "items": [
            {"day": "2027-01-01", "kind": "holiday", "note": "元旦"},
            {"day": "2027-02-06", "kind": "holiday", "note": "春节"},
            {"day": "2027-02-14", "kind": "workday", "note": "春节调休"},
        ]
    }
    response = await api.client.put(URL, json=schedule, headers=auth(api.ctx, "admin"))
    assert response.status_code == 200 and len(response.json()) == 3
    health = (await api.client.get("/healthz", headers=auth(api.ctx, "admin"))).json()
    assert not any("2027" in w for w in health["warnings"])
    listed = await api.client.get(URL, params={"year": 2027}, headers=auth(api.ctx, "admin"))
    assert listed.json()["coverage"][1] == {"year": 2027, "covered": True, "warning": None}


async def test_an_edit_in_another_process_is_seen(api, make_ctx):
    other = make_ctx()  # a second server process on the same database
    before = other.calendars.get()
    assert before.is_workday(date(2026, 3, 3))
    admin = auth(api.ctx, "admin")
    await api.client.put(f"{URL}/2026-03-03", json={"kind": "holiday"}, headers=admin)
    assert not other.calendars.get().is_workday(date(2026, 3, 3))
