"""Open311 GeoReport v2: the city's categories as services, citizen reports as service
requests (channel ``open311``), and their status as the spec describes it.

Only requests filed through Open311 are listed: hotline and grid cases may carry personal
details that were never meant to be public. A request merged into another (并单) shows the
master's status, so its reporter follows the case that is actually being handled.

Format-neutral: these functions return plain rows; ``web/open311.py`` writes them as XML or
JSON. The read side (request views, status updates) is in ``adapters/open311_views.py``.
"""

from __future__ import annotations

import math
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from sqlmodel import Session, col, select

from engine.cases.hooks import FollowUp, IntakeResult
from engine.cases.models import Case, CaseCreate, Channel, RequestType
from engine.cases.service import CaseService
from engine.city.directory import CityDirectory
from engine.errors import InvalidInput, NotFound
from engine.users.models import Principal

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
MAX_RESULTS = 1000
METRES_PER_DEGREE = 111_320.0  # of latitude; of longitude times cos(latitude)
MAX_ID = 2**31 - 1  # case ids are 32-bit integers in the database
PHONE = re.compile(r"^[0-9+\- ]{3,30}$")
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
# CaseCreate field → the Open311 field a client sent
SPEC_NAMES = {"reporter_phone": "phone", "reporter_name": "last_name", "lng": "long"}
ATTRIBUTE = re.compile(r"^attribute\[(.+)\]$")
REQUEST_TYPES = {
    RequestType.consult: "咨询 (consultation)",
    RequestType.help: "求助 (asking for help)",
    RequestType.complaint: "投诉 (complaint)",
    RequestType.report: "举报 (reporting a violation)",
    RequestType.suggestion: "建议 (suggestion)",
}


@dataclass(frozen=True)
class Area:
    """Where the city serves reports: its grids' extent, widened by a margin."""

    south: float
    west: float
    north: float
    east: float

    @classmethod
    def around(cls, bounds: tuple[float, float, float, float], margin_m: float) -> Area:
        """``bounds`` (west, south, east, north) widened by ``margin_m`` metres each way."""
        west, south, east, north = bounds
        dlat = margin_m / METRES_PER_DEGREE
        dlng = margin_m / (
            METRES_PER_DEGREE * max(math.cos(math.radians(max(abs(south), abs(north)))), 0.01)
        )
        return cls(south - dlat, west - dlng, north + dlat, east + dlng)

    def contains(self, lat: float, lng: float) -> bool:
        return self.south <= lat <= self.north and self.west <= lng <= self.east

    def describe(self) -> str:
        return f"lat {self.south:.4f}…{self.north:.4f}, long {self.west:.4f}…{self.east:.4f}"


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
                "formats": ["text/xml", "application/json"],
            }
        ],
    }


def services(city: CityDirectory) -> list[dict[str, Any]]:
    return [
        {
            "service_code": c.code,
            "service_name": c.name,
            "description": c.name_en or c.name,
            "metadata": True,  # the service definition lists the request's attributes
            "type": "realtime",
            "keywords": ",".join(k for k in (c.class_name, c.name) if k),
            "group": c.class_name,
        }
        for c in sorted(city.categories.values(), key=lambda c: c.code)
    ]


def _category(city: CityDirectory, code: str) -> None:
    if code not in city.categories:
        raise NotFound(f"service_code {code!r} not found")


def service_definition(city: CityDirectory, code: str) -> dict[str, Any]:
    """The attributes a request of this category may carry beyond the spec's own fields:
    the case fields an operator would otherwise ask the caller for."""
    _category(city, code)
    category = city.categories[code]
    return {
        "service_code": code,
        "attributes": [
            {
                "variable": True,
                "code": "request_type",
                "datatype": "singlevaluelist",
                "required": False,
                "datatype_description": "诉求类型 (kind of request)",
                "order": 1,
                "description": f"{category.name}：诉求类型 / kind of request",
                "values": [{"key": str(k), "name": v} for k, v in REQUEST_TYPES.items()],
            }
        ],
    }


def _attributes(form: dict[str, str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for name, value in form.items():
        match = ATTRIBUTE.match(name)
        if match is None:
            continue
        code = match.group(1)
        if code != "request_type":
            raise InvalidInput(name, "not an attribute of this service (see its definition)")
        found[code] = value.strip()
    return found


def _request_type(value: str | None) -> RequestType | None:
    if not value:
        return None
    if value not in RequestType.__members__:
        keys = ", ".join(RequestType.__members__)
        raise InvalidInput("attribute[request_type]", f"must be one of {keys}")
    return RequestType(value)


def _float(form: dict[str, str], name: str) -> float | None:
    value = form.get(name)
    if value in (None, ""):
        return None
    try:
        number = float(value)
    except ValueError as exc:
        raise InvalidInput(name, "must be a number") from exc
    if number != number or number in (float("inf"), float("-inf")):
        raise InvalidInput(name, "must be a finite number")
    return number


def _contact(form: dict[str, str]) -> list[str]:
    """Email and device id: kept on the case's timeline (a note), never shown publicly."""
    parts = []
    email = (form.get("email") or "").strip()
    if email:
        if len(email) > 254 or not EMAIL.match(email):
            raise InvalidInput("email", "must be an email address")
        parts.append(f"邮箱 {email}")
    device = (form.get("device_id") or "").strip()
    if device:
        if len(device) > 100:
            raise InvalidInput("device_id", "at most 100 characters")
        parts.append(f"设备 {device}")
    return parts


def new_token() -> str:
    return secrets.token_urlsafe(12)


def file_request(
    cases: CaseService,
    principal: Principal,
    form: dict[str, str],
    area: Area | None = None,
) -> IntakeResult:
    """POST requests: form fields as the spec names them. The case's ``external_id`` is the
    request's token (``GET tokens/{token}``)."""
    city = cases.city
    code = (form.get("service_code") or "").strip()
    if not code:
        raise InvalidInput("service_code", "required")
    _category(city, code)
    attributes = _attributes(form)
    lat, lng = _float(form, "lat"), _float(form, "long")
    address = (form.get("address_string") or "").strip() or None
    if (lat is None) != (lng is None):
        raise InvalidInput("long" if lng is None else "lat", "lat and long come together")
    if lat is None and address is None and not form.get("address_id"):
        raise InvalidInput(
            "lat", "a location is required: lat & long, address_string or address_id"
        )
    if lat is not None and lng is not None and area is not None and not area.contains(lat, lng):
        raise InvalidInput(
            "lat",
            f"the point ({lat}, {lng}) is outside {city.name} ({area.describe()})",
        )
    name = "".join(p for p in (form.get("last_name"), form.get("first_name")) if p) or None
    phone = (form.get("phone") or "").strip() or None
    if phone is not None and not PHONE.match(phone):
        raise InvalidInput("phone", "must be a phone number (digits, +, -, spaces)")
    contact = _contact(form)
    description = (form.get("description") or "").strip() or city.categories[code].name
    try:
        data = CaseCreate(
            channel=Channel.open311,
            external_id=new_token(),
            category=code,
            description=description,
            lat=lat,
            lng=lng,
            address=address or form.get("address_id") or None,
            request_type=_request_type(attributes.get("request_type")),
            reporter_name=name,
            reporter_phone=phone,
        )
    except ValidationError as exc:  # name the first bad field as the spec calls it
        first = exc.errors()[0]
        where = str(first["loc"][0]) if first["loc"] else "description"
        raise InvalidInput(SPEC_NAMES.get(where, where), first["msg"]) from exc
    media = (form.get("media_url") or "").strip()
    if media and (not media.startswith(("http://", "https://")) or len(media) > 300):
        raise InvalidInput("media_url", "must be an http(s) URL of at most 300 characters")
    return cases.intake(principal, data, then=_follow_ups(city, principal, media, contact))


def _follow_ups(
    city: CityDirectory, principal: Principal, media: str, contact: list[str]
) -> list[FollowUp]:
    """The citizen's photo and contact details as a note on the new case's timeline."""
    if not media and not contact:
        return []
    note: dict[str, Any] = {"note": "；".join(["市民通过 Open311 提交", *contact])}
    if media:
        note["photos"] = [media]
    steps = [FollowUp("note", note, by=principal)]
    if Channel.open311 in city.trusted_channels:  # `then` replaces the automatic register
        steps.insert(0, FollowUp("register", {}))
    return steps


def iso(value: datetime | None, city: CityDirectory) -> str | None:
    if value is None:
        return None
    return value.astimezone(ZoneInfo(city.timezone)).isoformat(timespec="seconds")


def case_id(value: str) -> int | None:
    """A request id as the database holds it; None when it cannot be one."""
    if not value.isascii() or not value.isdigit():
        return None
    number = int(value)
    return number if 0 < number <= MAX_ID else None


def get_request(session: Session, request_id: str) -> Case:
    number = case_id(request_id)
    case = session.get(Case, number) if number is not None else None
    if case is None or case.channel != Channel.open311:
        raise NotFound(f"service request {request_id!r} not found")
    return case


def by_token(session: Session, token: str) -> Case:
    statement = select(Case).where(
        col(Case.channel) == Channel.open311, col(Case.external_id) == token
    )
    case = session.exec(statement).first() if 0 < len(token) <= 64 else None
    if case is None:
        raise NotFound(f"token {token!r} not found")
    return case
