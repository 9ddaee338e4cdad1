"""The training-label feed: (text, label) pairs people confirmed, from the city's own cases.

What counts as confirmed (docs/CLASSIFIER.md#labels), read from each closed case's audit
trail:

- **department**: the case's final lead department, when
  - a person chose it (a dispatcher's ``dispatch`` or ``redispatch``: ``how = "dispatcher"``),
  - or the system chose it (a rule, or the classifier itself) and nobody corrected it, and
    the result then passed an on-site check (``verify`` with ``passed``): ``how =
    "verified"``. An uncorrected classifier dispatch that was never verified is NOT a label:
    otherwise the classifier's own mistakes would train it.
  Every department that returned the case (退单, not refused by ``reject_return``) is a
  negative in ``rejected``, and a department that returned the case is never its label.
- **category**: the case's final category when a person filed or changed it (the intake
  event was a person's) or the case passed an on-site check.

Cases are read in id order (oldest first: the order training's time split needs) in
batches, so the feed streams a large database without loading it whole.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from engine.cases.models import Case, CaseEvent
from engine.classifier.model import TARGETS
from engine.classifier.text import case_text
from engine.errors import InvalidInput

ASSIGNING = ("dispatch", "redispatch")
READ = (*ASSIGNING, "return", "reject_return", "verify")
SYSTEM_ROLE = "system"


@dataclass(frozen=True)
class LabelledText:
    text: str
    label: str
    case_id: int
    rejected: tuple[str, ...] = ()  # departments that returned the case (negatives)
    how: str = "dispatcher"  # "dispatcher" | "verified" | "person" (category filed by one)
    closed_at: datetime | None = None

    @property
    def corrected(self) -> bool:
        """A department returned the case before it closed."""
        return bool(self.rejected)


@dataclass
class _Trail:
    """What a case's audit trail says about its department."""

    assigned: list[tuple[str, bool]] = field(default_factory=list)  # (department, by person)
    returned: list[str] = field(default_factory=list)
    verified_after_last_assignment: bool = False
    first_by_person: bool = False


def confirmed_labels(
    session: Session,
    target: str,
    since: datetime | None = None,
    batch_size: int = 1000,
) -> Iterator[LabelledText]:
    """Yield a confirmed label per closed case (closed at or after ``since``, if given)."""
    if target not in TARGETS:
        raise InvalidInput("target", f"must be one of {', '.join(TARGETS)}")
    last_id = 0
    while True:
        query = select(Case).where(Case.state == "closed", col(Case.id) > last_id)
        if since is not None:
            query = query.where(col(Case.closed_at) >= since)
        cases = list(session.exec(query.order_by(col(Case.id)).limit(batch_size)))
        if not cases:
            return
        last_id = cases[-1].id or last_id
        trails = _trails(session, [c.id for c in cases if c.id is not None])
        for case in cases:
            if case.id is None:
                continue
            item = label_of(case, trails.get(case.id, _Trail()), target)
            if item is not None:
                yield item


def label_of(case: Case, trail: _Trail, target: str) -> LabelledText | None:
    """The confirmed label of one closed case, or None when nobody confirmed one."""
    rejected = tuple(dict.fromkeys(trail.returned))
    if target == "category":
        if not case.category:
            return None
        if trail.first_by_person or trail.verified_after_last_assignment:
            how = "person" if trail.first_by_person else "verified"
            return LabelledText(
                case_text(case), case.category, case.id or 0, (), how, case.closed_at
            )
        return None
    label = case.lead_department
    if not label or label in rejected:
        return None
    final_by_person = bool(trail.assigned) and trail.assigned[-1] == (label, True)
    if final_by_person:
        how = "dispatcher"
    elif trail.verified_after_last_assignment:
        how = "verified"
    else:
        return None
    return LabelledText(case_text(case), label, case.id or 0, rejected, how, case.closed_at)


def _trails(session: Session, case_ids: list[int]) -> dict[int, _Trail]:
    query = (
        select(CaseEvent.case_id, CaseEvent.action, CaseEvent.actor_role, CaseEvent.data)
        .where(col(CaseEvent.case_id).in_(case_ids))
        .order_by(col(CaseEvent.case_id), col(CaseEvent.seq))
    )
    trails: dict[int, _Trail] = {}
    for case_id, action, role, data in session.exec(query):
        trail = trails.get(case_id)
        if trail is None:  # the case's first event: who filed it
            trail = trails[case_id] = _Trail(first_by_person=str(role) != SYSTEM_ROLE)
        _step(trail, action, str(role), data or {})
    return trails


def _step(trail: _Trail, action: str, role: str, data: dict[str, Any]) -> None:
    if action in ASSIGNING and data.get("department"):
        trail.assigned.append((data["department"], role != SYSTEM_ROLE))
        trail.verified_after_last_assignment = False
    elif action == "return" and trail.assigned:
        trail.returned.append(trail.assigned[-1][0])
    elif action == "reject_return" and trail.returned:
        trail.returned.pop()  # the return was refused: that department keeps the case
    elif action == "verify" and data.get("passed") is True:
        trail.verified_after_last_assignment = True


closed_case_labels = confirmed_labels  # the name before labels had to be confirmed
