"""Smart dispatch (智能分拨): the text router decides what the rules cannot, and only that.

The demo models are trained once per session on synthetic complaints (tests/router_support.py)
and put in the test's models directory; the rule table is the demo city's.
"""

from __future__ import annotations

import logging

import pytest
from dispatch_support import OUTSIDE, activate, case_row, events
from page_support import file_hotline
from sqlmodel import col, select

from engine.audit import Finding, verify_trail
from engine.classifier import TextRouter, closed_case_labels
from engine.db import new_session
from engine.dispatch.hooks import DispatchHook
from engine.dispatch.models import DispatchDecisionRecord
from engine.users.models import Principal, Role
from tests.router_support import save_demo_models

GARBAGE = "东坡社区门口垃圾堆积三天无人清理，气味很大"  # uncategorised: the default row decides
NOISE = "原因不明的噪音"
ROUTER_KEYS = ("model_version", "router_target", "confidence", "threshold", "suggestions")


def record(ctx, case_id: int) -> DispatchDecisionRecord:
    with new_session(ctx.db) as session:
        query = select(DispatchDecisionRecord).where(DispatchDecisionRecord.case_id == case_id)
        return session.exec(query.order_by(col(DispatchDecisionRecord.id).desc())).one()


def system_step(ctx, case_id: int):
    """The hook's follow-up: the system's dispatch or queue event."""
    return next(e for e in events(ctx, case_id) if e.action in ("dispatch", "queue"))


def hook(ctx) -> DispatchHook:
    return next(h for h in ctx.cases.hooks if isinstance(h, DispatchHook))


class NeverAsked:
    """A router that must not be consulted (the hook may only ask in the unsure cases)."""

    def __init__(self) -> None:
        self.calls = 0

    def get(self):
        self.calls += 1
        raise AssertionError("the router was consulted")


@pytest.fixture
def routed(make_ctx, tmp_path):
    """A context with both demo models and the demo rules; ``confidence`` of GARBAGE."""
    store = save_demo_models(tmp_path / "models")
    ctx = make_ctx()
    activate(ctx)
    return ctx, TextRouter.load(store).predict(GARBAGE).confidence


def test_a_confident_prediction_dispatches_with_source_router(routed):
    ctx, confidence = routed
    assert confidence >= ctx.settings.router_threshold == 0.85  # the setting's default
    case_id = file_hotline(ctx, GARBAGE, category=None)

    case = case_row(ctx, case_id)
    assert (case.state, case.lead_department, case.dispatch_source) == (
        "assigned", "HW-01", "router",
    )  # fmt: skip
    assert case.dispatch_rule == "default"  # the row that had no answer stays on record
    event = system_step(ctx, case_id)
    assert (event.action, event.actor_role) == ("dispatch", "system")
    data = event.data
    assert (data["source"], data["dispatch_source"], data["department"]) == (
        "router", "router", "HW-01",
    )  # fmt: skip
    version = ctx.router.get().model_version
    assert data["model_version"] == version and "department@" in version
    assert data["confidence"] == pytest.approx(confidence, abs=1e-4)
    assert data["threshold"] == 0.85 and data["router_target"] == "department"
    assert data["suggestions"][0]["label"] == "HW-01" and len(data["suggestions"]) == 3
    assert data["dispatch_queue"] == "01"  # a district department: the district reviews returns

    # floats in the MAC'd event read back intact
    assert [f for f in verify_trail(ctx.db, ctx.audit_keys) if isinstance(f, Finding)] == []

    decision = record(ctx, case_id)
    assert (decision.action, decision.source, decision.department) == (
        "dispatch", "router", "HW-01",
    )  # fmt: skip
    assert decision.model_version == version and decision.rule_id == "default"
    assert decision.confidence == pytest.approx(confidence, abs=1e-4)
    assert decision.candidates == data["suggestions"] and decision.threshold == 0.85


def test_below_the_threshold_the_case_is_queued_with_the_top_3(make_ctx, tmp_path):
    store = save_demo_models(tmp_path / "models")
    confidence = TextRouter.load(store).predict(GARBAGE).confidence
    ctx = make_ctx(router_threshold=min(1.0, confidence + 0.005))  # just out of reach
    activate(ctx)
    case_id = file_hotline(ctx, GARBAGE, category=None)

    case = case_row(ctx, case_id)
    assert (case.state, case.lead_department, case.dispatch_queue) == ("dispatching", None, "00")
    assert case.dispatch_source == "router"  # asked, and not sure enough
    event = system_step(ctx, case_id)
    assert event.action == "queue" and event.data["queue_unit"] == "00"  # the default row's
    top3 = [s["label"] for s in event.data["suggestions"]]
    assert top3[0] == "HW-01" and len(top3) == 3
    reason = event.data["reason"]
    assert "asks for manual dispatch" in reason  # the rule's reason, then the router's:
    assert f"department HW-01 at {confidence:.2f} < threshold" in reason

    decision = record(ctx, case_id)
    assert (decision.action, decision.source, decision.queue_unit) == ("queue", "router", "00")
    assert [c["label"] for c in decision.candidates] == top3 and decision.reason == reason
    assert decision.confidence == pytest.approx(confidence, abs=1e-4)


def test_an_unsure_router_sends_an_automatic_default_row_to_a_person(make_ctx, tmp_path):
    """The default row is no confident answer even when it dispatches by itself: below the
    threshold the case waits in the city's queue with the router's top 3."""
    store = save_demo_models(tmp_path / "models")
    confidence = TextRouter.load(store).predict(GARBAGE).confidence
    ctx = make_ctx(router_threshold=min(1.0, confidence + 0.005))
    activate(ctx, '[[rule]]\nid = "default"\ndefault = true\ndepartment = "CG-00"\n')
    case_id = file_hotline(ctx, GARBAGE, category=None)

    case = case_row(ctx, case_id)
    assert (case.state, case.lead_department, case.dispatch_queue) == ("dispatching", None, "00")
    event = system_step(ctx, case_id)
    assert event.action == "queue" and len(event.data["suggestions"]) == 3
    assert "would dispatch to CG-00 by default" in event.data["reason"]
    assert record(ctx, case_id).action == "queue"


def test_a_rule_decision_never_consults_the_router(routed):
    ctx, _ = routed
    stub = hook(ctx).router = NeverAsked()
    dispatched = file_hotline(ctx, GARBAGE)  # 06002 in district 01: rule sanitation-01
    queued = file_hotline(ctx, "楼上广场舞噪声扰民", category="12001")  # a manual row, categorised
    assert stub.calls == 0
    case = case_row(ctx, dispatched)
    assert (case.lead_department, case.dispatch_source, case.dispatch_rule) == (
        "HW-01", "rule", "sanitation-01",
    )  # fmt: skip
    assert case_row(ctx, queued).dispatch_source == "rule"
    for case_id in (dispatched, queued):
        assert not set(ROUTER_KEYS) & set(system_step(ctx, case_id).data)
        assert record(ctx, case_id).source == "rule"


def test_without_a_model_dispatch_is_unchanged(ctx):
    activate(ctx)
    assert ctx.router.get() is None  # the test's models directory is empty
    case_id = file_hotline(ctx, GARBAGE, category=None)
    case = case_row(ctx, case_id)
    assert (case.state, case.dispatch_queue, case.dispatch_source, case.dispatch_rule) == (
        "dispatching", "00", "rule", "default",
    )  # fmt: skip
    event = system_step(ctx, case_id)
    assert event.data["reason"].endswith("asks for manual dispatch")
    assert not set(ROUTER_KEYS) & set(event.data)
    decision = record(ctx, case_id)
    assert (decision.source, decision.model_version, decision.candidates) == ("rule", None, None)


def test_a_category_only_model_maps_through_the_rule_table(make_ctx, tmp_path):
    save_demo_models(tmp_path / "models", ("category",))
    ctx = make_ctx()
    activate(ctx)
    confident = file_hotline(ctx, GARBAGE, category=None)
    case = case_row(ctx, confident)
    assert (case.lead_department, case.dispatch_source, case.dispatch_rule) == (
        "HW-01", "router", "sanitation-01",  # 06002 predicted; the rules map it
    )  # fmt: skip
    assert case.category is None  # the prediction is not written over the operator's input
    data = system_step(ctx, confident).data
    assert data["router_target"] == "category" and data["suggestions"][0]["label"] == "06002"
    decision = record(ctx, confident)
    assert decision.rule_id == "sanitation-01" and decision.input["category"] == "06002"

    # Noise is 12001, which the rules leave to a street dispatcher: queued, with suggestions.
    manual = file_hotline(ctx, NOISE, category=None)
    case = case_row(ctx, manual)
    assert (case.state, case.dispatch_queue, case.dispatch_rule) == (
        "dispatching", "00", "default",
    )  # fmt: skip
    event = system_step(ctx, manual)
    assert event.data["suggestions"][0]["label"] == "12001"
    assert "leave category 12001 to a person (rule noise-placed)" in event.data["reason"]


def test_outside_every_grid_the_router_only_suggests(routed):
    ctx, _ = routed
    from engine.cases.models import CaseCreate

    operator = Principal("op", Role.operator, "00")
    data = CaseCreate(channel="hotline", description=GARBAGE, grid_code=None, **OUTSIDE)
    case_id = ctx.cases.intake(operator, data).case.id
    event = system_step(ctx, case_id)
    assert (event.action, event.data["queue_unit"], event.data["source"]) == (
        "queue", "00", "router",
    )  # fmt: skip
    assert "outside every grid" in event.data["reason"]
    assert event.data["suggestions"][0]["label"] == "HW-01"


def test_a_failing_router_is_logged_and_the_rules_decide(routed, caplog):
    ctx, _ = routed

    class Broken:
        def get(self):
            raise RuntimeError("disk on fire")

    hook(ctx).router = Broken()
    with caplog.at_level(logging.ERROR, logger="gridflow.dispatch"):
        case_id = file_hotline(ctx, GARBAGE, category=None)
    assert "text router failed" in caplog.text
    case = case_row(ctx, case_id)
    assert (case.state, case.dispatch_source) == ("dispatching", "rule")


def test_the_hook_and_the_intake_page_share_one_router(ctx):
    assert hook(ctx).router is ctx.router
    assert hook(ctx).threshold == ctx.settings.router_threshold


def test_return_then_redispatch_makes_the_final_department_the_label(routed):
    """A router dispatch that the department hands back becomes a corrected training label
    (through the case service: return, redispatch, handle, review, close)."""
    ctx, _ = routed
    case_id = file_hotline(ctx, GARBAGE, category=None)
    assert case_row(ctx, case_id).lead_department == "HW-01"  # the router's choice
    dispatcher = Principal("d", Role.dispatcher, "00")
    steps = [
        (Principal("h", Role.handler, "HW-01"), "return", {"reason": "门前三包，应由城管处理"}),
        (dispatcher, "redispatch", {"department": "CG-0101"}),
        (Principal("c", Role.handler, "CG-0101"), "accept", {}),
        (Principal("c", Role.handler, "CG-0101"), "resolve", {"result": "已清理"}),
        (Principal("o", Role.operator, "00"), "callback", {"satisfaction": "satisfied"}),
        (Principal("g", Role.grid_worker, "01010101"), "verify",
         {"passed": True, "photos": ["p/after.jpg"]}),
    ]  # fmt: skip
    for principal, action, data in steps:
        ctx.cases.act(principal, case_id, action, data)
    case = case_row(ctx, case_id)
    assert (case.state, case.lead_department, case.dispatch_source) == (
        "closed", "CG-0101", "person",
    )  # fmt: skip

    with new_session(ctx.db) as session:
        [label] = list(closed_case_labels(session, "department"))
        uncategorised = list(closed_case_labels(session, "category"))
    assert (label.case_id, label.label, label.rejected) == (case_id, "CG-0101", ("HW-01",))
    assert label.text == GARBAGE and label.corrected
    assert uncategorised == []  # no category: nothing to learn for that target
