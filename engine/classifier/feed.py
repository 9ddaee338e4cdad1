"""The training-label feed: (text, label) pairs from the city's own closed cases.

A closed case carries the answer the city finally gave: ``case.category`` after any
correction, and ``case.lead_department`` after any return (退单) and redispatch (改派), since
those actions replace the lead department. So the label is always the final one, and a
department that held the case earlier and handed it back is recorded in ``rejected``: a
negative example ("not this one"). The current trainer ignores negatives (a linear model
learns the corrected label from the positive example alone); they are kept for evaluating
misdispatch rates and for a later model that can use them.

Cases are read in id order in batches, so the feed streams a large database without
loading it whole. Closed cases without the label (a self-handled case has no department;
a case may have no category) are skipped.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from engine.cases.models import Case, CaseEvent
from engine.classifier.model import TARGETS
from engine.classifier.text import case_text
from engine.errors import InvalidInput

ASSIGNING = ("dispatch", "redispatch")


@dataclass(frozen=True)
class LabelledText:
    text: str
    label: str
    case_id: int
    rejected: tuple[str, ...] = ()  # departments that held the case and lost it (negatives)

    @property
    def corrected(self) -> bool:
        """The case was redispatched away from a department before it closed."""
        return bool(self.rejected)


def closed_case_labels(
    session: Session,
    target: str,
    since: datetime | None = None,
    batch_size: int = 1000,
) -> Iterator[LabelledText]:
    """Yield a labelled text per closed case (closed at or after ``since``, if given)."""
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
        history = _lead_history(session, [c.id for c in cases if c.id is not None])
        for case in cases:
            label = case.category if target == "category" else case.lead_department
            if not label or case.id is None:
                continue
            rejected: tuple[str, ...] = ()
            if target == "department":
                held = history.get(case.id, [])
                rejected = tuple(dict.fromkeys(d for d in held if d != label))
            yield LabelledText(case_text(case), label, case.id, rejected)


def _lead_history(session: Session, case_ids: list[int]) -> dict[int, list[str]]:
    """Every department each case was dispatched or redispatched to, in order."""
    query = (
        select(CaseEvent.case_id, CaseEvent.data)
        .where(col(CaseEvent.case_id).in_(case_ids), col(CaseEvent.action).in_(ASSIGNING))
        .order_by(col(CaseEvent.case_id), col(CaseEvent.seq))
    )
    history: dict[int, list[str]] = {}
    for case_id, data in session.exec(query):
        department = (data or {}).get("department")
        if department:
            history.setdefault(case_id, []).append(department)
    return history
