"""The read side of Open311: service requests as the spec shows them, and their status
updates (mySociety's ``servicerequestupdates`` extension, which FixMyStreet polls).

``expected_datetime`` is when the request should be fulfilled: the deadline of the case's
``handle`` stage (办理时限, in progress → resolved). Before that stage has started it is
projected from the running stage's deadline through the stages still to come.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from adapters.open311 import MAX_RESULTS, case_id, iso
from engine.calendar import WorkCalendar
from engine.cases.models import Case, CaseEvent, Channel
from engine.cases.workflow import SLA_STAGES, Workflow
from engine.city.directory import CityDirectory
from engine.durations import deadline
from engine.errors import InvalidInput
from engine.sla.limits import SlaSettings, stage_limit
from engine.sla.models import SlaClock

DEFAULT_SPAN = timedelta(days=90)  # GET requests without dates: the last 90 days
UPDATES_SPAN = timedelta(days=1)  # GET servicerequestupdates without dates: the last day
FINAL_CLOSED = ("closed", "voided")
FULFILMENT_STAGE = "handle"


class RequestViews:
    """Builds the spec's request rows for cases read in one session."""

    def __init__(
        self, session: Session, city: CityDirectory, workflow: Workflow, calendar: WorkCalendar
    ) -> None:
        self.session, self.city, self.workflow, self.calendar = session, city, workflow, calendar
        self.settings = SlaSettings.of(city)

    def rows(self, cases: Sequence[Case]) -> list[dict[str, Any]]:
        media = media_urls(self.session, [c.id for c in cases if c.id is not None])
        return [self.row(case, media.get(case.id or 0)) for case in cases]

    def row(self, case: Case, media_url: str | None) -> dict[str, Any]:
        shown, notes = case, []
        if case.state == "merged" and case.merged_into is not None:
            master = self.session.get(Case, case.merged_into)
            if master is not None:
                shown = master
                notes.append(f"已并入 {master.id} 号案件一并办理")
        closed = shown.state in FINAL_CLOSED
        state = self.workflow.states.get(shown.state)
        notes.append(state.label if state else shown.state)
        if closed and shown.resolution:
            notes.append(shown.resolution)
        department = self.city.departments.get(shown.lead_department or "")
        category = self.city.categories.get(case.category or "")
        return {
            "service_request_id": str(case.id),
            "status": "closed" if closed else "open",
            "status_notes": "；".join(notes),
            "service_name": category.name if category else None,
            "service_code": case.category or "",
            "description": case.description,
            "agency_responsible": department.name if department else None,
            "service_notice": None,
            "requested_datetime": iso(case.created_at, self.city),
            "updated_datetime": iso(max(case.updated_at, shown.updated_at), self.city),
            "expected_datetime": iso(self.expected(shown), self.city),
            "address": case.address,
            "address_id": None,
            "zipcode": None,
            "lat": case.lat,
            "long": case.lng,
            "media_url": media_url,
        }

    def expected(self, case: Case) -> datetime | None:
        """The fulfilment deadline: the handle stage's, projected while it has not begun."""
        if case.state in (*FINAL_CLOSED, "merged"):
            return None
        statement = select(SlaClock).where(col(SlaClock.case_id) == case.id)
        clocks = list(self.session.exec(statement.order_by(col(SlaClock.id))))
        handle = [c for c in clocks if c.stage == FULFILMENT_STAGE]
        if handle:
            return handle[-1].due_at
        running = [c for c in clocks if c.stopped_at is None and c.stage in SLA_STAGES]
        if not running:
            return None
        current = running[-1]
        due = current.due_at
        following = SLA_STAGES[SLA_STAGES.index(current.stage) + 1 :]
        for stage in following[: following.index(FULFILMENT_STAGE) + 1]:
            due = deadline(due, stage_limit(case, stage, self.city, self.settings), self.calendar)
        return due


def media_urls(session: Session, case_ids: list[int]) -> dict[int, str]:
    """The citizen's photo URL of each request (kept on its Open311 note)."""
    if not case_ids:
        return {}
    statement = (
        select(CaseEvent.case_id, CaseEvent.data)
        .where(col(CaseEvent.case_id).in_(case_ids), col(CaseEvent.action) == "note")
        .order_by(col(CaseEvent.seq))
    )
    found: dict[int, str] = {}
    for cid, data in session.exec(statement):
        url = _url_photo(data)
        if url is not None and cid not in found:
            found[cid] = url
    return found


def _url_photo(data: dict[str, Any] | None) -> str | None:
    for photo in (data or {}).get("photos") or []:
        if isinstance(photo, str) and photo.startswith(("http://", "https://")):
            return photo
    return None


def find_requests(
    session: Session, query: dict[str, str], now: datetime, city: CityDirectory
) -> list[Case]:
    """Open311 requests, newest first (ix_case_channel_id). Besides the spec's filters,
    ``page_size`` (at most MAX_RESULTS) and ``after`` (the last service_request_id shown)
    page through them by keyset (docs/SEARCH.md)."""
    where = [col(Case.channel) == Channel.open311]
    ids = _list(query.get("service_request_id"))
    if ids:
        numbers = [case_id(i) for i in ids]
        if None in numbers:
            raise InvalidInput("service_request_id", "must be request ids separated by commas")
        where.append(col(Case.id).in_(numbers))
    else:
        end, start = _window(query, now, DEFAULT_SPAN)
        where += [col(Case.created_at) >= start, col(Case.created_at) <= end]
    codes = _list(query.get("service_code"))
    if codes:
        where.append(col(Case.category).in_(codes))
    statuses = _list(query.get("status"))
    if statuses:
        if not set(statuses) <= {"open", "closed"}:
            raise InvalidInput("status", "must be open, closed or both")
        if statuses == ["open"]:
            where.append(col(Case.state).not_in(FINAL_CLOSED))
        elif statuses == ["closed"]:
            where.append(col(Case.state).in_((*FINAL_CLOSED, "merged")))
    after = query.get("after")  # keyset paging: the last service_request_id of the page before
    if after:
        last = case_id(after)
        if last is None:
            raise InvalidInput("after", "must be a service_request_id from the page before")
        where.append(col(Case.id) < last)
    statement = select(Case).where(*where).order_by(col(Case.id).desc()).limit(_page_size(query))
    found = list(session.exec(statement))
    if statuses and len(set(statuses)) == 1:  # a merged request shows its master's status
        found = [c for c in found if _status(session, c) == statuses[0]]
    return found


def _page_size(query: dict[str, str]) -> int:
    raw = query.get("page_size")
    if not raw:
        return MAX_RESULTS
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= MAX_RESULTS:
        raise InvalidInput("page_size", f"must be a whole number from 1 to {MAX_RESULTS}")
    return int(raw)


def find_updates(
    session: Session, query: dict[str, str], now: datetime, city: CityDirectory, workflow: Workflow
) -> list[dict[str, Any]]:
    """Every change of state of an Open311 request between start_date and end_date."""
    end, start = _window(query, now, UPDATES_SPAN)
    statement = (
        select(CaseEvent)
        .join(Case, col(Case.id) == col(CaseEvent.case_id))
        .where(
            col(Case.channel) == Channel.open311,
            col(CaseEvent.at) >= start,
            col(CaseEvent.at) <= end,
            col(CaseEvent.from_state).is_not(None),
            col(CaseEvent.from_state) != col(CaseEvent.to_state),
        )
        .order_by(col(CaseEvent.id))
        .limit(MAX_RESULTS)
    )
    return [_update(event, city, workflow) for event in session.exec(statement)]


def _update(event: CaseEvent, city: CityDirectory, workflow: Workflow) -> dict[str, Any]:
    state = workflow.states.get(event.to_state or "")
    text = [state.label if state else str(event.to_state)]
    data = event.data or {}
    for key in ("result", "reason"):
        if isinstance(data.get(key), str) and data[key].strip():
            text.append(data[key].strip())
    if event.to_state == "merged" and data.get("master_id"):
        text.append(f"已并入 {data['master_id']} 号案件一并办理")
    return {
        "update_id": str(event.id),
        "service_request_id": str(event.case_id),
        "status": "closed" if event.to_state in FINAL_CLOSED else "open",
        "updated_datetime": iso(event.at, city),
        "description": "：".join(text[:1]) + ("：" + "；".join(text[1:]) if text[1:] else ""),
        "media_url": _url_photo(data),
    }


def _status(session: Session, case: Case) -> str:
    if case.state == "merged" and case.merged_into is not None:
        master = session.get(Case, case.merged_into)
        state = master.state if master is not None else case.state
        return "closed" if state in FINAL_CLOSED else "open"
    return "closed" if case.state in FINAL_CLOSED else "open"


def _list(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def _window(query: dict[str, str], now: datetime, span: timedelta) -> tuple[datetime, datetime]:
    end = _date(query, "end_date") or now
    start = _date(query, "start_date") or end - span
    if start > end:
        raise InvalidInput("start_date", "must not be after end_date")
    return end, start


def _date(query: dict[str, str], name: str) -> datetime | None:
    value = query.get(name)
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise InvalidInput(name, "must be an ISO 8601 date-time with a time zone") from exc
    if parsed.tzinfo is None:
        raise InvalidInput(name, "must include a time zone (Z or ±HH:MM)")
    return parsed
