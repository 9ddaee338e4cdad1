"""Where a case stands in review: what it needs, what has settled, every check so far."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from sqlmodel import Session, col, select

from engine.cases.models import Case
from engine.city.directory import CityDirectory
from engine.review.models import ReviewCheck
from engine.review.requirements import ReviewSettings, answered_at_intake, requirements


class ReviewCheckPublic(BaseModel):
    kind: str
    round: int
    passed: bool
    settles: bool
    satisfaction: str | None
    resolved_state: str | None
    fault: str | None
    photos: int
    department: str | None
    actor: str
    at: datetime
    event_seq: int


class ReviewStatus(BaseModel):
    case_id: int
    state: str
    round: int  # reworks so far; only this round's checks count
    required: list[str]  # verify and/or callback
    photos_required: bool  # a passing verify needs photos
    settled: list[str]  # required or not, settled in this round
    missing: list[str]  # required and not settled yet (while the case is resolved)
    checks: list[ReviewCheckPublic]  # every round, oldest first


def review_status(session: Session, case: Case, city: CityDirectory) -> ReviewStatus:
    assert case.id is not None
    answered = answered_at_intake(session, case)
    needed = requirements(case, city, ReviewSettings.of(city.settings), answered)
    query = (
        select(ReviewCheck)
        .where(ReviewCheck.case_id == case.id)
        .order_by(col(ReviewCheck.event_seq))
    )
    checks = list(session.exec(query))
    settled = sorted(
        {c.kind for c in checks if c.settles and c.round == case.rework_count}, reverse=True
    )
    missing = [k for k in needed.kinds if k not in settled] if case.state == "resolved" else []
    return ReviewStatus(
        case_id=case.id,
        state=case.state,
        round=case.rework_count,
        required=list(needed.kinds),
        photos_required=needed.photos,
        settled=settled,
        missing=missing,
        checks=[ReviewCheckPublic.model_validate(c, from_attributes=True) for c in checks],
    )
