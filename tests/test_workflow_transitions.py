"""Every transition of the standard workflow fires from each of its source states, and every
action that is not possible in a state is refused with the list of actions that are."""

from __future__ import annotations

import pytest

from engine.cases.models import CaseCreate, CaseTask
from engine.cases.workflow import standard_workflow
from engine.db import new_session
from engine.errors import ActionNotAllowed
from engine.users.models import Principal, Role

WORKFLOW = standard_workflow()
DEPT = "HW-01"
GRID = "01010101"
OTHER_DEPT = "CG-01"
CO_DEPT = "CG-0101"  # joins as a co-handler (协办) to report with co_report

# How to reach each state from a fresh untrusted-channel report: (action, role, data) steps.
PATHS: dict[str, list[tuple[str, dict]]] = {
    "reported": [],
    "verifying": [("request_verification", {})],
    "registered": [("register", {})],
    "dispatching": [("register", {}), ("queue", {})],
    "assigned": [("register", {}), ("dispatch", {"department": DEPT})],
    "in_progress": [("register", {}), ("dispatch", {"department": DEPT}), ("accept", {})],
    "returned": [("register", {}), ("dispatch", {"department": DEPT}), ("return", {"reason": "x"})],
    "suspended": [
        ("register", {}),
        ("dispatch", {"department": DEPT}),
        ("accept", {}),
        ("suspend", {"reason": "等待施工许可"}),
    ],
    "resolved": [
        ("register", {}),
        ("dispatch", {"department": DEPT}),
        ("accept", {}),
        ("resolve", {"result": "已处理"}),
    ],
}

# Data that satisfies each action (a `when` value is filled in per transition).
DATA = {
    "void": {"reason": "重复来电，无效信息"},
    "merge": {},  # master_id added at run time
    "dispatch": {"department": DEPT},
    "redispatch": {"department": OTHER_DEPT},
    "reject_return": {"reason": "属于你单位职责"},
    "self_handle": {"result": "现场已清理", "photos": ["before.jpg", "after.jpg"]},
    "return": {"reason": "非本单位职责"},
    "resolve": {"result": "已清运"},
    "suspend": {"reason": "需协调产权单位"},
    "close": {"reason": "市民撤诉"},
    "summon": {"departments": ["CG-0101"]},
    "request_extension": {"duration": "2wd", "reason": "需采购配件"},
    "request_suspension": {"reason": "等待施工许可"},
    "request_void": {"reason": "重复工单"},
    "reject_void": {"reason": "非重复工单，请继续办理"},
    "note": {"note": "已电话联系市民"},
    "urge": {"note": "市民再次来电催促"},
    "reveal_contact": {"reason": "需电话联系市民确认地址"},
    "escalate": {"reason": "超期"},
    "co_report": {"result": "协办部分已完成"},
    "verify": {"photos": ["after.jpg"]},
    "callback": {"fault": "other"},  # an unsatisfied callback that is not the department's doing
    "rework": {"reason": "市民反映仍未解决"},
    "answer_at_intake": {"answer": "已在电话中答复市民"},
}


def principal_for(role: Role) -> Principal:
    scope = {Role.handler: DEPT, Role.grid_worker: GRID}.get(role, "00")
    return Principal(name=f"t-{role}", role=role, scope=scope)


def role_for(roles: frozenset[Role]) -> Role:
    order = [Role.grid_worker, Role.handler, Role.operator, Role.dispatcher, Role.supervisor]
    return next((r for r in order if r in roles), next(iter(roles)))


def new_case(ctx, state: str) -> int:
    operator = principal_for(Role.operator)
    # 12001 needs both checks (核查 and 回访), so one passing check leaves it resolved.
    report = CaseCreate(
        channel="open311",
        category="12001",
        description="噪声",
        grid_code=GRID,
        reporter_phone="13800000000",
    )
    case = ctx.cases.intake(operator, report).case
    for action, data in PATHS[state]:
        spec = WORKFLOW.specs(action, case.state)[0]
        case = ctx.cases.act(principal_for(role_for(spec.roles)), case.id, action, data)
    assert case.state == state
    return case.id


TRANSITIONS = [
    pytest.param(spec, source, id=f"{spec.action}:{source}->{spec.dest or '='}{dict(spec.when)}")
    for spec in WORKFLOW.transitions
    for source in spec.sources
]


@pytest.mark.parametrize(("spec", "source"), TRANSITIONS)
def test_transition(ctx, spec, source):
    case_id = new_case(ctx, source)
    data = dict(DATA.get(spec.action, {}))
    for name, values in spec.when:
        data[name] = values[0]
    if spec.action in ("merge", "flag_duplicate"):
        data["master_id"] = new_case(ctx, "registered")
    if spec.action in ("approve_extension", "reject_extension"):
        handler = principal_for(Role.handler)
        request = {"duration": "1wd", "reason": "配件"}
        ctx.cases.act(handler, case_id, "request_extension", request)
        data = {"reason": "同意"} if spec.action == "reject_extension" else {}
    if spec.action in ("void", "reject_void") and source not in ("reported", "verifying"):
        asks = {"reason": "重复工单"}  # once registered, a void decides a 作废申请
        ctx.cases.act(principal_for(Role.operator), case_id, "request_void", asks)
    role = role_for(spec.roles)
    if spec.action == "request_void" and source in ("registered", "dispatching"):
        role = Role.operator  # no department holds the case yet
    who = principal_for(role)
    if spec.action == "co_report":  # only a co-handler department reports its part
        with new_session(ctx.db) as session, session.begin():
            session.add(CaseTask(case_id=case_id, department=CO_DEPT, lead=False))
        who = Principal(name="t-co", role=role, scope=CO_DEPT)
    if spec.action == "answer_at_intake":  # sampled for 回访, so it stays resolved (no close)
        ctx.city.settings.setdefault("review", {})["answered_callback_share"] = 1
    case = ctx.cases.act(who, case_id, spec.action, data)
    assert case.state == (spec.dest or source)
    from engine.cases.queries import events

    with new_session(ctx.db) as session:
        last = events(session, case_id)[-1]
    assert (last.action, last.from_state, last.to_state) == (
        spec.action,
        source,
        spec.dest or source,
    )
    assert last.actor_role == role


ALL_ACTIONS = sorted({t.action for t in WORKFLOW.transitions})
ILLEGAL = [
    pytest.param(state, action, id=f"{action}@{state}")
    for state in PATHS
    for action in ALL_ACTIONS
    if action not in WORKFLOW.actions_in(state)
]


@pytest.mark.parametrize(("state", "action"), ILLEGAL)
def test_illegal_action_is_refused_with_allowed_list(ctx, state, action):
    case_id = new_case(ctx, state)
    admin = Principal(name="admin", role=Role.admin, scope="00")
    with pytest.raises(ActionNotAllowed) as refused:
        ctx.cases.act(admin, case_id, action, DATA.get(action, {}))
    assert refused.value.details["state"] == state
    allowed = refused.value.details["allowed_actions"]
    assert action not in allowed
    assert set(allowed) <= set(WORKFLOW.actions_in(state))


@pytest.mark.parametrize("final", ["closed", "voided", "merged"])
def test_final_states_accept_no_action(final):
    assert WORKFLOW.actions_in(final) == []
    assert WORKFLOW.is_final(final)


def test_rework_is_counted(ctx):
    case_id = new_case(ctx, "resolved")
    gw = principal_for(Role.grid_worker)
    case = ctx.cases.act(gw, case_id, "verify", {"passed": False, "note": "仍有垃圾"})
    assert (case.state, case.rework_count) == ("in_progress", 1)
