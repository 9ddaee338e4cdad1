"""How right the live classifier is, week by week, on cases people confirmed.

For every closed case with a confirmed label (:mod:`engine.classifier.feed`) whose audit trail
shows the classifier was asked (a ``dispatch`` or ``queue`` event with ``source = "router"``:
its best guess, ``router_target`` and ``model_version`` are recorded there), the guess is
right when it equals the confirmed label. Cases are grouped by the ISO week they closed in.

A warning is raised when the latest week with at least ``MIN_CASES`` cases is more than
``DROP`` below the mean of the weeks before it (each with enough cases), or more than
``DROP`` below the model's own cross-validated accuracy.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from engine.cases.models import CaseEvent
from engine.classifier.feed import confirmed_labels

MIN_CASES = 20
DROP = 0.05
ASKED = ("dispatch", "queue")


@dataclass
class WeekAccuracy:
    week: str  # the week's Monday, ISO date
    cases: int
    right: int
    accuracy: float | None
    model_versions: list[str] = field(default_factory=list)


@dataclass
class AccuracyReport:
    target: str
    weeks: list[WeekAccuracy]
    warning: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "weeks": [asdict(w) for w in self.weeks],
            "warning": self.warning,
            "min_cases": MIN_CASES,
            "drop": DROP,
        }


def weekly_accuracy(
    session: Session,
    since: datetime,
    until: datetime | None = None,
    target: str = "department",
    expected: float | None = None,
) -> AccuracyReport:
    """Week by week accuracy of the classifier's recorded guesses for ``target``;
    ``expected`` is the live model's cross-validated accuracy, if known."""
    confirmed = [
        item
        for item in confirmed_labels(session, target, since=since)
        if item.closed_at is not None and (until is None or item.closed_at < until)
    ]
    guesses = _guesses(session, [item.case_id for item in confirmed], target)
    weeks: dict[date, WeekAccuracy] = {}
    for item in confirmed:
        guess = guesses.get(item.case_id)
        if guess is None or item.closed_at is None:
            continue
        day = item.closed_at.date()
        monday = day - timedelta(days=day.weekday())
        week = weeks.setdefault(monday, WeekAccuracy(monday.isoformat(), 0, 0, None))
        week.cases += 1
        week.right += guess[0] == item.label
        if guess[1] and guess[1] not in week.model_versions:
            week.model_versions.append(guess[1])
    ordered = [weeks[k] for k in sorted(weeks)]
    for week in ordered:
        week.accuracy = round(week.right / week.cases, 4) if week.cases else None
    return AccuracyReport(target, ordered, _warning(ordered, expected))


def _guesses(session: Session, case_ids: list[int], target: str) -> dict[int, tuple[str, str]]:
    """The classifier's first recorded best guess per case: (label, model version)."""
    found: dict[int, tuple[str, str]] = {}
    for start in range(0, len(case_ids), 500):
        chunk = case_ids[start : start + 500]
        query = (
            select(CaseEvent.case_id, CaseEvent.data)
            .where(col(CaseEvent.case_id).in_(chunk), col(CaseEvent.action).in_(ASKED))
            .order_by(col(CaseEvent.case_id), col(CaseEvent.seq))
        )
        for case_id, data in session.exec(query):
            data = data or {}
            if case_id in found or data.get("source") != "router":
                continue
            if data.get("router_target") != target or not data.get("suggestions"):
                continue
            found[case_id] = (str(data["suggestions"][0]["label"]), str(data.get("model_version")))
    return found


def _warning(weeks: list[WeekAccuracy], expected: float | None) -> str | None:
    full = [w for w in weeks if w.cases >= MIN_CASES and w.accuracy is not None]
    if not full:
        return None
    latest, before = full[-1], full[:-1]
    assert latest.accuracy is not None
    if before:
        mean = sum(w.accuracy or 0.0 for w in before) / len(before)
        if latest.accuracy < mean - DROP:
            return (
                f"accuracy dropped: week of {latest.week} {latest.accuracy:.1%} on "
                f"{latest.cases} confirmed cases, against {mean:.1%} in the weeks before"
            )
    if expected is not None and latest.accuracy < expected - DROP:
        return (
            f"accuracy below the model's cross-validated {expected:.1%}: week of "
            f"{latest.week} {latest.accuracy:.1%} on {latest.cases} confirmed cases"
        )
    return None
