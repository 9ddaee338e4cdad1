"""GET /api/v1/cases/{id}/dispatch: which rule matched, the conditions that held, the rows
tried before it, the table version (old versions stay explainable) and who chose."""

from __future__ import annotations

from tests.dispatch_support import activate

V1 = """\
[[rule]]
id = "gas"
keywords_all = ["燃气", "泄漏"]
department = "RQ-00"

[[rule]]
id = "garbage-01"
category = ["06002"]
area = ["01"]
department = "HW-01"

[[rule]]
id = "default"
default = true
auto = false
"""
V2 = V1.replace('department = "HW-01"', 'department = "CG-01"')


async def explain(api, case_id: int, role: str = "admin", scope: str | None = "00"):
    return await api.client.get(f"/api/v1/cases/{case_id}/dispatch", headers=api.auth(role, scope))


async def test_a_rule_decision_is_explained(api, ctx):
    version = activate(ctx, V1)
    case = await api.file()
    view = (await explain(api, case["id"])).json()
    assert (view["source"], view["department"], view["rule_id"]) == ("rule", "HW-01", "garbage-01")
    assert view["rules_version"] == version and view["queue"] == "01"
    decision = view["decision"]
    assert (decision["action"], decision["rules_version"]) == ("dispatch", version)
    assert decision["rule"]["id"] == "garbage-01" and decision["rule"]["row"] == 2
    assert decision["rule"]["line"] == 6
    assert decision["conditions"] == {"category": "06002", "area": "01"}
    assert decision["tried"] == [
        {"rule_id": "gas", "row": 1, "field": "keywords_all", "expected": ["燃气", "泄漏"],
         "actual": [], "missing": ["燃气", "泄漏"]},  # actual: the keywords the text HAS
    ]  # fmt: skip
    assert decision["outputs"]["department"] == "HW-01" and decision["outputs"]["auto"] is True
    assert decision["input"]["unit_codes"] == ["01010101", "010101", "0101", "01", "00"]
    assert decision["input"]["local_time"] == "2026-03-02T09:00:00+08:00"
    assert [h["action"] for h in view["history"]] == ["dispatch"]
    assert view["history"][0]["data"]["rule"] == "garbage-01"


async def test_old_decisions_are_explained_with_their_own_table_version(api, ctx):
    v1 = activate(ctx, V1)
    old = await api.file()
    v2 = activate(ctx, V2)
    new = await api.file()
    assert (new["lead_department"], new["rules_version"]) == ("CG-01", v2)
    view = (await explain(api, old["id"])).json()
    assert view["rules_version"] == v1 and view["decision"]["rules_version"] == v1
    assert view["decision"]["outputs"]["department"] == "HW-01"


async def test_a_person_dispatch_from_the_queue_keeps_the_queueing_rule(api, ctx):
    activate(ctx, V1)
    case = await api.file(category="09002", description="店外经营")
    assert case["state"] == "dispatching"
    await api.act(case["id"], "dispatch", "dispatcher", department="CG-0101")
    view = (await explain(api, case["id"])).json()
    assert (view["source"], view["department"]) == ("person", "CG-0101")
    assert view["decision"]["action"] == "queue" and view["decision"]["rule"]["default"]
    assert len(view["decision"]["tried"]) == 2
    assert [(h["action"], h["actor_role"]) for h in view["history"]] == [
        ("queue", "system"),
        ("dispatch", "dispatcher"),
    ]
    assert view["history"][1]["data"]["dispatch_source"] == "person"


async def test_a_case_dispatched_by_hand_without_rules_has_no_decision(api):
    case = await api.file()
    await api.act(case["id"], "dispatch", "dispatcher", department="HW-01")
    view = (await explain(api, case["id"])).json()
    assert (view["source"], view["decision"], view["rule_id"]) == ("person", None, None)


async def test_the_explanation_is_scoped_like_the_case(api, ctx):
    activate(ctx, V1)
    case = await api.file()
    assert (await explain(api, case["id"], "handler", "HW-01")).status_code == 200
    assert (await explain(api, case["id"], "handler", "CG-02")).status_code == 404
    assert (await explain(api, case["id"], "dispatcher", "02")).status_code == 404
    assert (await explain(api, 999999)).status_code == 404
