"""Open311 GeoReport v2: the city's categories as services, citizen reports as service
requests (channel ``open311``), and their status as the spec describes it.

Only requests filed through Open311 are listed: hotline and grid cases may carry personal
details that were never meant to be public. A request merged into another (并单) shows the
master's status, so its reporter follows the case that is actually being handled.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from sqlmodel import Session, col, select

from engine.cases.models import Case, CaseCreate, Channel
from engine.cases.service import CaseService, FollowUp, IntakeResult
from engine.cases.workflow import Workflow
from engine.city.directory import CityDirectory
from engine.db import MAX_ID
from engine.errors import InvalidInput, NotFound
from engine.users.models import Principal

try:  # the SLA engine gives the expected time; without it expected_datetime is null
    from engine.sla.models import SlaClock
except ImportError:  # pragma: no cover - depends on what is installed
    SlaClock = None  # type: ignore[assignment,misc]

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
MAX_RESULTS = 1000
DEFAULT_SPAN = timedelta(days=90)
FINAL_CLOSED = ("closed", "voided")
# CaseCreate field → the Open311 field a client sent
PHONE = re.compile(r"^[0-9+\- ]{3,30}$")
SPEC_NAMES = {"reporter_phone": "phone", "reporter_name": "last_name", "lng": "long"}


def settings_of(city: CityDirectory) -> dict[str, Any]:
    return dict(city.settings.get("open311") or {})


def check_jurisdiction(city: CityDirectory, jurisdiction_id: str | None) -> None:
    ours = settings_of(city).get("jurisdiction_id")
    if jurisdiction_id and ours and jurisdiction_id != ours:
        raise NotFound(f"jurisdiction_id {jurisdiction_id!r} is not served here (use {ours!r})")


def discovery(city: CityDirectory, base_url: str, changeset: datetime) -> dict[str, Any]:
    conf = settings_of(city)
    return {
        "changeset": iso(changeset, city),
        "contact": conf.get("contact", f"{city.name} 12345"),
        "key_service": conf.get("key_service", "Ask the city for an api_key"),
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": base_url,
                "changeset": iso(changeset, city),
                "type": "production",
                "formats": ["application/json"],
            }
        ],
    }


def services(city: CityDirectory) -> list[dict[str, Any]]:
    return [
        {
            "service_code": c.code,
            "service_name": c.name,
            "description": c.name_en or c.name,
            "metadata": False,
            "type": "realtime",
            "keywords": ",".join(k for k in (c.class_name, c.name) if k),
            "group": c.class_name,
        }
        for c in sorted(city.categories.values(), key=lambda c: c.code)
    ]


def service_definition(city: CityDirectory, code: str) -> dict[str, Any]:
    if code not in city.categories:
        raise NotFound(f"service_code {code!r} not found")
    return {"service_code": code, "attributes": []}


def _float(form: dict[str, str], name: str) -> float | None:
    value = form.get(name)
    if value in (None, ""):
        return None
    try:
        return float(value)
    except ValueError as exc:
        raise InvalidInput(name, "must be a number") from exc


def file_request(cases: CaseService, principal: Principal, form: dict[str, str]) -> IntakeResult:
    """POST requests: form fields as the spec names them."""
    city = cases.city
    code = (form.get("service_code") or "").strip()
    if not code:
        raise InvalidInput("service_code", "required")
    if code not in city.categories:
        raise InvalidInput("service_code", f"unknown service_code {code!r}")
    lat, lng = _float(form, "lat"), _float(form, "long")
    address = (form.get("address_string") or "").strip() or None
    if (lat is None) != (lng is None):
        raise InvalidInput("long" if lng is None else "lat", "lat and long come together")
    if lat is None and address is None and not form.get("address_id"):
        raise InvalidInput(
            "lat", "a location is required: lat & long, address_string or address_id"
        )
    name = "".join(p for p in (form.get("last_name"), form.get("first_name")) if p) or None
    phone = (form.get("phone") or "").strip() or None
    if phone is not None and not PHONE.match(phone):
        raise InvalidInput("phone", "must be a phone number (digits, +, -, spaces)")
    description = (form.get("description") or "").strip() or city.categories[code].name
    try:
        data = CaseCreate(
            channel=Channel.open311,
            category=code,
            description=description,
            lat=lat,
            lng=lng,
            address=address or form.get("address_id") or None,
            reporter_name=name,
            reporter_phone=phone,
        )
    except ValidationError as exc:  # name the first bad field as the spec calls it
        first = exc.errors()[0]
        where = str(first["loc"][0]) if first["loc"] else "description"
        raise InvalidInput(SPEC_NAMES.get(where, where), first["msg"]) from exc
    steps: list[FollowUp] = []
    media = (form.get("media_url") or "").strip()
    if media:
        if not media.startswith(("http://", "https://")) or len(media) > 300:
            raise InvalidInput("media_url", "must be an http(s) URL of at most 300 characters")
        if Channel.open311 in city.trusted_channels:
            steps.append(FollowUp("register", {}))
        steps.append(FollowUp("note", {"note": "市民提交的图片", "photos": [media]}, by=principal))
    return cases.intake(principal, data, then=steps)


def iso(value: datetime | None, city: CityDirectory) -> str | None:
    if value is None:
        return None
    return value.astimezone(ZoneInfo(city.timezone)).isoformat(timespec="seconds")


def _expected(session: Session, case: Case) -> datetime | None:
    if SlaClock is None or case.state in ("closed", "voided", "merged"):
        return None
    query = (
        select(SlaClock)
        .where(col(SlaClock.case_id) == case.id, col(SlaClock.stopped_at).is_(None))
        .order_by(col(SlaClock.id).desc())
    )
    clock = session.exec(query).first()
    return clock.due_at if clock is not None else None


def request_view(
    session: Session, case: Case, city: CityDirectory, workflow: Workflow
) -> dict[str, Any]:
    shown = case
    notes: list[str] = []
    if case.state == "merged" and case.merged_into is not None:
        master = session.get(Case, case.merged_into)
        if master is not None:
            shown = master
            notes.append(f"已并入 {master.id} 号案件一并办理")
    closed = shown.state in FINAL_CLOSED
    state = workflow.states.get(shown.state)
    notes.append(state.label if state else shown.state)
    if closed and shown.resolution:
        notes.append(shown.resolution)
    department = city.departments.get(shown.lead_department or "")
    category = city.categories.get(case.category or "")
    return {
        "service_request_id": str(case.id),
        "status": "closed" if closed else "open",
        "status_notes": "；".join(notes),
        "service_name": category.name if category else None,
        "service_code": case.category,
        "description": case.description,
        "agency_responsible": department.name if department else None,
        "service_notice": None,
        "requested_datetime": iso(case.created_at, city),
        "updated_datetime": iso(max(case.updated_at, shown.updated_at), city),
        "expected_datetime": iso(_expected(session, shown), city),
        "address": case.address,
        "address_id": None,
        "zipcode": None,
        "lat": case.lat,
        "long": case.lng,
        "media_url": None,
    }


def find_requests(
    session: Session, query: dict[str, str], now: datetime, city: CityDirectory
) -> list[Case]:
    where = [col(Case.channel) == Channel.open311]
    ids = _list(query.get("service_request_id"))
    if ids:
        if not all(_row_id(i) for i in ids):
            raise InvalidInput("service_request_id", "must be request ids separated by commas")
        where.append(col(Case.id).in_([int(i) for i in ids]))
    else:
        end = _date(query, "end_date") or now
        start = _date(query, "start_date") or end - DEFAULT_SPAN
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
            where.append(col(Case.state).in_(("closed", "voided", "merged")))
    statement = select(Case).where(*where).order_by(col(Case.id).desc()).limit(MAX_RESULTS)
    found = list(session.exec(statement))
    if statuses and len(set(statuses)) == 1:  # a merged request shows its master's status
        found = [c for c in found if _status(session, c) == statuses[0]]
    return found


def _status(session: Session, case: Case) -> str:
    if case.state == "merged" and case.merged_into is not None:
        master = session.get(Case, case.merged_into)
        state = master.state if master is not None else case.state
        return "closed" if state in FINAL_CLOSED else "open"
    return "closed" if case.state in FINAL_CLOSED else "open"


def get_request(session: Session, request_id: str) -> Case:
    case = session.get(Case, int(request_id)) if _row_id(request_id) else None
    if case is None or case.channel != Channel.open311:
        raise NotFound(f"service request {request_id!r} not found")
    return case


def _row_id(text: str) -> bool:
    """Whether ``text`` is a number in the id columns' range (a larger one names nothing)."""
    return text.isascii() and text.isdigit() and 0 < int(text) <= MAX_ID


def _list(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


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
