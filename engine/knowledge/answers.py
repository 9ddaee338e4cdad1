"""Answered at intake (直接答复) and the repeat calls that send an answer back for review.

The operator answers a consultation from an article (or in their own words) and the call
becomes a case closed at intake in ONE transaction of the case service: the hotline intake
followed by the workflow's ``answer_at_intake`` action (workflows/standard.toml), whose
audit event carries the answer and the article's id and version. Nothing here writes a
case row.

A repeat call: a case from the same phone in the same category within N days after a case
answered from an article. The article is then flagged for review (``repeat_call``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_
from sqlmodel import Session, col, select

from engine.cases.hooks import FollowUp
from engine.cases.models import (
    RECORDING_URL_PATTERN,
    Case,
    CaseCreate,
    CaseEvent,
    Channel,
    RequestType,
)
from engine.cases.service import CaseService
from engine.db import new_session
from engine.errors import Conflict, InvalidInput
from engine.knowledge import flags, views
from engine.knowledge.access import is_visible
from engine.knowledge.models import FlagKind, split_codes
from engine.knowledge.versions import served_version
from engine.users.models import SYSTEM, Principal

ANSWER_ACTION = "answer_at_intake"
REPEAT_DAYS = 7  # city.toml [knowledge] repeat_call_days overrides
MAX_ANSWER = 4000  # the workflow's text fields hold at most this
RECORDING = re.compile(RECORDING_URL_PATTERN)
MAX_RECORDING = 300


@dataclass(frozen=True)
class DirectAnswer:
    """A consultation answered on the phone."""

    description: str  # the caller's words
    answer: str | None = None  # None: the article's answer, as it stands
    article_id: int | None = None
    category: str | None = None  # None: the article's first category
    reporter_phone: str | None = None
    reporter_name: str | None = None
    call_id: str | None = None  # the phone system's call id: the case's external id
    recording_url: str | None = None
    grid_code: str | None = None


@dataclass(frozen=True)
class Answered:
    case: Case
    created: bool  # False: this call id was recorded before (its case is returned)
    article_id: int | None
    article_version: int | None


def repeat_days(settings: dict[str, Any]) -> int:
    value = settings.get("knowledge", {}).get("repeat_call_days", REPEAT_DAYS)
    return value if isinstance(value, int) and 0 < value <= 365 else REPEAT_DAYS


def answer_at_intake(
    cases: CaseService, principal: Principal, call: DirectAnswer, today: date
) -> Answered:
    """Record the call as a case closed at intake, citing the article's current version."""
    answer, category, version = call.answer, call.category, None
    if call.article_id is not None:
        with new_session(cases.db) as session:
            article = views.get(session, principal, call.article_id, today)
            if not is_visible(article, today):
                raise Conflict(f"article {call.article_id} is not published and valid today")
            version = served_version(session, article)  # not a pending revision's
            answer = answer or article.answer
            category = category or next(iter(split_codes(article.categories)), None)
    answer = (answer or "").strip()
    if not answer:
        raise InvalidInput("answer", "give the answer, or the article it comes from")
    if len(answer) > MAX_ANSWER:
        raise InvalidInput("answer", f"at most {MAX_ANSWER} characters")
    fields: dict[str, Any] = {"answer": answer}
    if call.article_id is not None:
        fields |= {"article": str(call.article_id), "article_version": str(version)}
    if call.recording_url:
        if len(call.recording_url) > MAX_RECORDING or not RECORDING.match(call.recording_url):
            raise InvalidInput("recording_url", "an http(s) address of the call's recording")
        fields["recording_url"] = call.recording_url
    data = CaseCreate(
        channel=Channel.hotline,
        external_id=call.call_id,
        category=category,
        description=call.description,
        request_type=RequestType.consult,
        reporter_phone=call.reporter_phone,
        reporter_name=call.reporter_name,
        grid_code=call.grid_code,
    )
    result = cases.intake(principal, data, then=[FollowUp(ANSWER_ACTION, fields, by=principal)])
    if result.created:
        with new_session(cases.db) as session, session.begin():
            flag_repeat_of(
                session, result.case, cases.clock.now(), repeat_days(cases.city.settings)
            )
    return Answered(result.case, result.created, call.article_id, version)


def cited_article(event_data: dict[str, Any]) -> tuple[int, int] | None:
    """(article id, version) an answer event cites, if any."""
    try:
        return int(event_data["article"]), int(event_data["article_version"])
    except (KeyError, TypeError, ValueError):
        return None


def cited_version(session: Session, case_id: int, article_id: int) -> int | None:
    """The version of ``article_id`` the case's answer cites, if it was answered from it."""
    for data in session.exec(
        select(CaseEvent.data).where(
            col(CaseEvent.case_id) == case_id, col(CaseEvent.action) == ANSWER_ACTION
        )
    ):
        cited = cited_article(data or {})
        if cited is not None and cited[0] == article_id:
            return cited[1]
    return None


def flag_repeat_of(session: Session, case: Case, now: datetime, days: int) -> list[int]:
    """``case`` is a call: flag every article answered to the same phone in the same category
    in the ``days`` before it. Returns the flagged article ids."""
    if case.id is None or not case.category or not case.reporter_phone:
        return []
    key = session.exec(select(col(Case.phone_key)).where(col(Case.id) == case.id)).first()
    if not key:
        return []
    since = case.created_at - timedelta(days=days)
    earlier = session.exec(
        select(CaseEvent.data)
        .join(Case, and_(col(Case.id) == col(CaseEvent.case_id)))
        .where(
            col(Case.phone_key) == key,
            col(Case.category) == case.category,
            col(Case.id) != case.id,
            col(Case.created_at) >= since,
            col(Case.created_at) <= case.created_at,
            col(CaseEvent.action) == ANSWER_ACTION,
        )
    ).all()
    flagged = []
    for data in earlier:
        cited = cited_article(data or {})
        if cited is None:
            continue
        note = f"repeat call: case {case.id} within {days} days of the answer"
        flags.flag(session, SYSTEM, cited[0], cited[1], case.id, FlagKind.repeat_call, now, note)
        flagged.append(cited[0])
    return flagged


def sweep_repeat_calls(session: Session, since: datetime, now: datetime, days: int) -> int:
    """Check every call filed since ``since`` (by any channel) for an earlier answer; returns
    how many flags were raised or found. Run by ``gridflow knowledge repeats``."""
    calls = session.exec(
        select(Case).where(
            col(Case.created_at) >= since,
            col(Case.phone_key).is_not(None),
            col(Case.category).is_not(None),
        )
    ).all()
    return sum(len(flag_repeat_of(session, call, now, days)) for call in calls)
