"""Replay closed cases against a candidate rule table (``gridflow rules backtest``).

Each closed case that a department handled is decided again with the input its original
decision saw (stored by the dispatch hook; for older cases, rebuilt from the case at its
registration time). It "moves" when the candidate would send it anywhere but the department
that finally handled it — another department, or a manual queue.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from engine.cases.models import Case
from engine.city.directory import CityDirectory
from engine.dispatch.cases_file import label
from engine.dispatch.inputs import input_from_json, outside_grids
from engine.dispatch.models import DispatchDecisionRecord
from engine.rules import DispatchInput, RuleTable
from engine.rules.matcher import decide

BATCH = 500


@dataclass(frozen=True)
class Moved:
    case_id: int
    handled_by: str
    candidate: str  # department, or queue:<tier>
    rule_id: str


@dataclass
class Backtest:
    total: int = 0
    same: int = 0
    moved: list[Moved] = field(default_factory=list)


def _closed(session: Session, since: datetime | None) -> Iterator[list[Case]]:
    """Closed cases a department handled, in batches by id."""
    last = 0
    while True:
        query = select(Case).where(
            Case.state == "closed", col(Case.lead_department).is_not(None), col(Case.id) > last
        )
        if since is not None:
            query = query.where(col(Case.created_at) >= since)
        batch = list(session.exec(query.order_by(col(Case.id)).limit(BATCH)))
        if not batch:
            return
        yield batch
        last = batch[-1].id or last


def _recorded(session: Session, case_ids: list[int]) -> dict[int, DispatchDecisionRecord]:
    query = (
        select(DispatchDecisionRecord)
        .where(col(DispatchDecisionRecord.case_id).in_(case_ids))
        .order_by(col(DispatchDecisionRecord.id))
    )
    return {d.case_id: d for d in session.exec(query)}


def _rebuilt(case: Case, city: CityDirectory) -> DispatchInput:
    outside = outside_grids(case, city)
    return DispatchInput(
        channel=str(case.channel),
        category=case.category,
        unit_codes=()
        if outside or case.owning_unit not in city.units
        else city.ancestors(case.owning_unit),
        description=case.description,
        urgency=str(case.urgency),
        request_type=str(case.request_type) if case.request_type else None,
        local_time=case.created_at.astimezone(ZoneInfo(city.timezone)),
    )


def backtest(
    session: Session, table: RuleTable, city: CityDirectory, since: datetime | None = None
) -> Backtest:
    return replay(session, table, city, _closed(session, since))


def replay(
    session: Session, table: RuleTable, city: CityDirectory, batches: Iterable[list[Case]]
) -> Backtest:
    """Decide each closed case of ``batches`` again with ``table`` (the admin page picks a
    bounded recent window; the CLI every closed case since a date)."""
    report = Backtest()
    for chunk in batches:
        recorded = _recorded(session, [c.id for c in chunk if c.id is not None])
        for case in chunk:
            assert case.id is not None and case.lead_department is not None
            found = recorded.get(case.id)
            inp = input_from_json(found.input) if found else _rebuilt(case, city)
            decision = decide(table, inp)
            got = label(decision, outside_grids(case, city))
            report.total += 1
            if got == case.lead_department:
                report.same += 1
            else:
                report.moved.append(Moved(case.id, case.lead_department, got, decision.rule_id))
    return report
