"""Training labels are what people confirmed; the weekly accuracy of the live classifier."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from dispatch_support import activate, case_row
from page_support import file_hotline

from engine.classifier.accuracy import weekly_accuracy
from engine.classifier.feed import _step, _Trail, confirmed_labels, label_of
from engine.db import new_session
from engine.users.models import Principal, Role
from tests.router_support import save_demo_models

GARBAGE = "东坡社区门口垃圾堆积三天无人清理，气味很大"  # no category: the classifier decides
CLOSED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _case(lead: str | None = "HW-01", category: str | None = "06002"):
    return SimpleNamespace(
        id=7, description="垃圾没人清理", address=None, lead_department=lead,
        category=category, closed_at=CLOSED,
    )  # fmt: skip


def _trail(*steps: tuple[str, str, dict], first_by_person: bool = True) -> _Trail:
    trail = _Trail(first_by_person=first_by_person)
    for action, role, data in steps:
        _step(trail, action, role, data)
    return trail


def test_an_uncorrected_system_dispatch_counts_only_once_verified():
    by_classifier = ("dispatch", "system", {"department": "HW-01", "source": "router"})
    assert label_of(_case(), _trail(by_classifier), "department") is None
    verified = label_of(
        _case(), _trail(by_classifier, ("verify", "grid_worker", {"passed": True})), "department"
    )
    assert verified is not None and (verified.label, verified.how) == ("HW-01", "verified")
    failed = _trail(by_classifier, ("verify", "grid_worker", {"passed": False}))
    assert label_of(_case(), failed, "department") is None


def test_a_dispatcher_choice_is_a_label_and_returned_departments_are_negatives():
    steps = [
        ("dispatch", "system", {"department": "CG-0101", "source": "router"}),
        ("return", "handler", {"reason": "非本单位"}),
        ("redispatch", "dispatcher", {"department": "HW-01"}),
    ]
    item = label_of(_case(), _trail(*steps), "department")
    assert (item.label, item.how, item.rejected, item.corrected) == (
        "HW-01", "dispatcher", ("CG-0101",), True,
    )  # fmt: skip
    # the department that returned the case is never its label, even if it ends up there
    back = [
        *steps,
        ("return", "handler", {}),
        ("redispatch", "dispatcher", {"department": "CG-0101"}),
    ]
    assert label_of(_case("CG-0101"), _trail(*back), "department") is None
    # a refused return (reject_return) is no negative: that department keeps the case
    refused = [steps[0], steps[1], ("reject_return", "dispatcher", {})]
    item = label_of(
        _case("CG-0101"),
        _trail(*refused, ("verify", "grid_worker", {"passed": True})),
        "department",
    )
    assert item is not None and item.rejected == ()


def test_category_labels_need_a_person_or_a_verification():
    by_system = _trail(first_by_person=False)
    assert label_of(_case(), by_system, "category") is None
    assert label_of(_case(), _trail(), "category").how == "person"
    verified = _trail(("verify", "grid_worker", {"passed": True}), first_by_person=False)
    assert label_of(_case(), verified, "category").how == "verified"
    assert label_of(_case(category=None), _trail(), "category") is None


@pytest.fixture
def routed(make_ctx, tmp_path):
    save_demo_models(tmp_path / "models")
    ctx = make_ctx()
    activate(ctx)
    return ctx


def _finish(ctx, case_id: int, department: str) -> None:
    handler = Principal("h", Role.handler, department)
    for principal, action, data in (
        (handler, "accept", {}),
        (handler, "resolve", {"result": "已清理"}),
        (Principal("o", Role.operator, "00"), "callback", {"satisfaction": "satisfied"}),
        (Principal("g", Role.grid_worker, "01010101"), "verify",
         {"passed": True, "photos": ["p/after.jpg"]}),
    ):  # fmt: skip
        ctx.cases.act(principal, case_id, action, data)
    assert case_row(ctx, case_id).state == "closed"


def test_weekly_accuracy_of_the_classifiers_recorded_guesses(routed, clock):
    ctx = routed
    right = file_hotline(ctx, GARBAGE, category=None)
    assert case_row(ctx, right).dispatch_source == "router"
    _finish(ctx, right, "HW-01")  # verified: the classifier was right
    wrong = file_hotline(ctx, GARBAGE, category=None)
    ctx.cases.act(Principal("h", Role.handler, "HW-01"), wrong, "return", {"reason": "非本单位"})
    ctx.cases.act(
        Principal("d", Role.dispatcher, "00"), wrong, "redispatch", {"department": "CG-0101"}
    )
    _finish(ctx, wrong, "CG-0101")

    with new_session(ctx.db) as session:
        labels = {i.case_id: i for i in confirmed_labels(session, "department")}
        report = weekly_accuracy(session, clock.now() - timedelta(weeks=1), None, "department")
    assert (labels[right].how, labels[wrong].how) == ("verified", "dispatcher")
    assert labels[wrong].rejected == ("HW-01",)
    [week] = report.weeks
    assert (week.cases, week.right, week.accuracy) == (2, 1, 0.5)
    assert week.model_versions == [ctx.router.get().model_version]
    assert report.warning is None  # too few cases to judge a drop


def test_a_drop_is_warned_about():
    from engine.classifier.accuracy import WeekAccuracy, _warning

    weeks = [WeekAccuracy(f"2026-03-{d:02d}", 40, 36, 0.9) for d in (2, 9, 16)]
    assert _warning(weeks, None) is None
    weeks.append(WeekAccuracy("2026-03-23", 40, 30, 0.75))
    assert "dropped" in _warning(weeks, None)
    assert "cross-validated" in _warning(weeks[:1], 0.97)
    weeks[-1] = WeekAccuracy("2026-03-23", 5, 0, 0.0)  # too few cases that week: not judged
    assert _warning(weeks, None) is None
