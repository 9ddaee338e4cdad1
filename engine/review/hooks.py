"""ReviewHook: records every 核查 and 回访 and closes or reopens the case by what they found.

* ``resolve`` of a case that needs no check closes it at once (a system ``close``).
* ``verify``: a pass is recorded (refused without photos when the city asks for them); a
  failure already reopened handling through the workflow (``rework = true``).
* ``callback``: satisfied or basically satisfied is recorded; unsatisfied reopens handling
  (a system ``rework``) unless the operator marks it ``fault = "other"`` (not the
  department's doing), which records the dissatisfaction and settles the callback.
* When the last required check of the current round has settled, the system closes the
  case in the same transaction. A rework starts a new round: every check is needed again.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import bindparam, select, true
from sqlmodel import Session

from engine import rowbuffer
from engine.cases.effects import ActionEffects
from engine.cases.hooks import Change, FollowUp
from engine.cases.models import Case
from engine.cases.workflow import Workflow
from engine.errors import InvalidInput
from engine.prepared import Prepared
from engine.review import effects as review_effects
from engine.review.models import ReviewCheck
from engine.review.requirements import (
    ANSWER_ACTION,
    Requirements,
    ReviewSettings,
    answered_at_intake,
    requirements,
)

CHECKS_TABLE = ReviewCheck.__table__  # type: ignore[attr-defined]
_SETTLED = Prepared(
    select(CHECKS_TABLE.c.kind).where(
        CHECKS_TABLE.c.case_id == bindparam("case_id"),
        CHECKS_TABLE.c.round == bindparam("round"),
        CHECKS_TABLE.c.settles == true(),
    )
)
_check_row = rowbuffer.columns_of(CHECKS_TABLE)
RESOLVED = "resolved"
CHECKS = ("verify", "callback")
LABELS = {"verify": "核查通过", "callback": "回访完成"}


class ReviewHook:
    def __init__(self, workflow: Workflow) -> None:
        self.workflow = workflow

    def register_effects(self, effects: ActionEffects) -> None:
        review_effects.register(effects)

    def after_change(self, change: Change) -> Iterable[FollowUp]:
        event, case = change.event, change.case
        if event.action == "resolve" and event.to_state == RESOLVED:
            needed = requirements(case, change.city)
            if not needed.kinds:
                return (FollowUp("close", {"reason": "无需核查回访，按办结反馈结案"}),)
            return ()
        if event.action == ANSWER_ACTION and event.to_state == RESOLVED:
            if not requirements(case, change.city, answered=True).kinds:
                return (FollowUp("close", {"reason": "直接答复，未抽中回访，结案"}),)
            return ()  # sampled: waits for its 回访 like every resolved case
        if event.action not in CHECKS:
            return ()
        settings = ReviewSettings.of(change.city.settings)
        answered = answered_at_intake(change.session, case)
        needed = requirements(case, change.city, settings, answered)
        check = self._record(change, needed, answered)
        if event.action == "callback" and not check["settles"]:
            return (FollowUp("rework", {"reason": "回访不满意，返工重办"}),)
        if case.state != RESOLVED:
            return ()
        settled = settled_kinds(change.session, case)
        if all(kind in settled for kind in needed.kinds):
            reason = "，".join(LABELS[k] for k in needed.kinds) + "，结案"
            return (FollowUp("close", {"reason": reason}),)
        return ()

    def _record(self, change: Change, needed: Requirements, answered: bool) -> dict[str, Any]:
        """The check's row, written with the case's rows (engine.rowbuffer)."""
        event, case, data = change.event, change.case, change.data
        assert case.id is not None
        photos = len(data.get("photos", []))
        rework = any(
            spec.rework and spec.dest == event.to_state
            for spec in self.workflow.specs(event.action, event.from_state or "")
        )
        check: dict[str, Any] = {"case_id": case.id, "event_seq": event.seq, "photos": photos}
        if event.action == "verify":
            passed = bool(data["passed"])
            if passed and needed.photos and not photos:
                raise InvalidInput("photos", "a passing 核查 needs at least one on-site photo")
            check |= {"kind": "verify", "passed": passed, "settles": passed}
        else:
            passed = data["satisfaction"] in ("satisfied", "basic")
            fault = data.get("fault") if not passed else None
            if answered and not passed:
                # No department handled it, so nothing to rework: the dissatisfaction is
                # recorded and the case closes; the caller's need is filed as a new case.
                fault = "other"
            check |= {
                "kind": "callback",
                "passed": passed,
                "settles": passed or fault == "other",
                "satisfaction": data["satisfaction"],
                "resolved_state": data.get("resolved_state"),
                "fault": None if passed else (fault or "department"),
            }
        check |= {
            "round": case.rework_count - (1 if rework else 0),
            "department": case.lead_department,
            "actor": event.actor,
            "at": change.now,
        }
        row = _check_row(check)
        rowbuffer.add(change.session, CHECKS_TABLE, row)
        return row


def settled_kinds(session: Session, case: Case) -> set[str]:
    """The kinds of check that have settled in the case's current round: those stored and
    those this transaction recorded (still waiting in the row buffer)."""
    assert case.id is not None
    params = {"case_id": case.id, "round": case.rework_count}
    stored = {row["kind"] for row in _SETTLED.all(session.connection(), params)}
    recorded = rowbuffer.waiting(session, CHECKS_TABLE, case.id)
    return stored | {
        c["kind"] for c in recorded if c["settles"] and c["round"] == case.rework_count
    }
