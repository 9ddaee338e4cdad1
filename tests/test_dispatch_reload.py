"""Hot reload of the rule table over the API: read, check, replace; an invalid table is
refused (422 naming the row and field) and the old one stays live, in every process."""

from __future__ import annotations

from tests.dispatch_support import DEMO_RULES, activate

V1 = """\
version_note = "v1"

[[rule]]
id = "garbage"
category = ["06002"]
department = "HW-01"

[[rule]]
id = "default"
default = true
auto = false
"""
V2 = V1.replace('"HW-01"', '"CG-01"').replace('"v1"', '"v2"')
UNKNOWN_DEPARTMENT = V1.replace('"HW-01"', '"NOPE-99"')
SHADOWED = V1.replace(
    '[[rule]]\nid = "default"',
    '[[rule]]\nid = "garbage-01"\ncategory = ["06002"]\narea = ["01"]\ndepartment = "SZ-00"\n\n'
    '[[rule]]\nid = "default"',
)
TOML = {"Content-Type": "application/toml"}


async def put(api, text: str, role: str = "admin"):
    return await api.client.put(
        "/api/v1/rules", content=text.encode(), headers=api.auth(role) | TOML
    )


async def active(api) -> dict:
    response = await api.client.get("/api/v1/rules", headers=api.auth("dispatcher"))
    assert response.status_code == 200, response.text
    return response.json()


async def test_no_table_yet_is_404_and_an_admin_activates_one(api):
    missing = await api.client.get("/api/v1/rules", headers=api.auth("admin"))
    assert missing.status_code == 404
    response = await put(api, V1)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["changed"] and body["previous_version"] is None and body["rows"] == 2
    shown = await active(api)
    assert shown["version"] == body["version"] and shown["text"] == V1
    assert shown["created_by"] == "admin@00" and shown["version_note"] == "v1"
    case = await api.file()
    assert (case["lead_department"], case["rules_version"]) == ("HW-01", body["version"])


async def test_replacing_takes_effect_at_once_and_the_same_text_is_a_no_op(api):
    first = (await put(api, V1)).json()
    second = (await put(api, V2)).json()
    assert second["changed"] and second["previous_version"] == first["version"]
    assert (await api.file())["lead_department"] == "CG-01"
    again = (await put(api, V2)).json()
    assert not again["changed"] and again["version"] == second["version"]
    versions = await api.client.get("/api/v1/rules/versions", headers=api.auth("admin"))
    assert [(v["version"], v["active"]) for v in versions.json()] == [
        (second["version"], True),
        (first["version"], False),
    ]
    old = await api.client.get(
        f"/api/v1/rules/versions/{first['version']}", headers=api.auth("admin")
    )
    assert old.json()["text"] == V1


async def test_json_body_is_accepted_too(api):
    response = await api.client.put("/api/v1/rules", json={"text": V1}, headers=api.auth("admin"))
    assert response.status_code == 200 and response.json()["rows"] == 2


async def test_an_invalid_table_is_refused_and_the_old_one_stays_live(api):
    live = (await put(api, V1)).json()["version"]
    refused = await put(api, UNKNOWN_DEPARTMENT)
    assert refused.status_code == 422
    [detail] = refused.json()["error"]["details"]
    assert detail["field"] == "rule[1].department"
    assert "NOPE-99" in detail["reason"] and "'garbage'" in detail["reason"]
    syntax = await put(api, V1.replace("[[rule]]\nid", "[[rule]\nid", 1))
    assert syntax.status_code == 422 and "TOML" in syntax.json()["error"]["message"]
    assert (await active(api))["version"] == live
    case = await api.file()
    assert (case["lead_department"], case["rules_version"]) == ("HW-01", live)


async def test_a_shadowed_row_is_refused(api):
    await put(api, V1)
    refused = await put(api, SHADOWED)
    assert refused.status_code == 422
    detail = refused.json()["error"]["details"][0]
    assert detail["field"] == "rule[2]" and "shadowed" in detail["reason"]


async def test_check_reports_without_activating(api):
    live = (await put(api, V1)).json()["version"]
    headers = api.auth("dispatcher") | TOML
    bad = await api.client.post("/api/v1/rules/check", content=SHADOWED.encode(), headers=headers)
    assert bad.status_code == 200
    body = bad.json()
    assert not body["ok"] and body["rows"] == 3
    assert [f["code"] for f in body["findings"]] == ["shadowed"]
    good = await api.client.post(
        "/api/v1/rules/check", content=DEMO_RULES.encode(), headers=headers
    )
    assert good.json()["ok"] and good.json()["problems"] == []
    assert {f["severity"] for f in good.json()["findings"]} == {"warning"}
    assert (await active(api))["version"] == live


async def test_only_admins_replace_and_empty_bodies_are_422(api):
    assert (await put(api, V1, role="dispatcher")).status_code == 403
    assert (await put(api, "   ")).status_code == 422
    handler = await api.client.get("/api/v1/rules", headers=api.auth("handler", "HW-01"))
    assert handler.status_code == 403


async def test_another_process_picks_up_the_new_version_within_a_second(ctx, make_ctx, make_api):
    other = make_ctx()  # a second process on the same database
    activate(ctx, V1)
    async with make_api(other) as api:
        assert (await api.file())["lead_department"] == "HW-01"
        activate(ctx, V2)  # activated by the first process only
        ctx.clock.advance(seconds=1)  # the other process re-reads the active version this often
        assert (await api.file())["lead_department"] == "CG-01"
