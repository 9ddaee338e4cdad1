"""Grid workers (网格员): on-site reports from the mobile app, self-handled reports closed at
once with before/after photos (自处置), and the worker's on-site check list (核实 / 核查).

A grid worker acts only in the grids their token is scoped to (a grid or a community code);
the case service refuses a report placed outside them (403) before anything is written.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session, col, select

from engine import access
from engine.attachments import AttachmentStore
from engine.cases.hooks import FollowUp, IntakeResult
from engine.cases.models import Case, CaseCreate, Channel, Urgency
from engine.cases.service import CaseService
from engine.city.directory import CityDirectory
from engine.city.models import Tier
from engine.errors import Forbidden, InvalidInput
from engine.users.models import Principal, Role

# state → the action the worker takes there
TASKS = {"verifying": "verify_report", "resolved": "verify"}


class GridReport(BaseModel):
    """A report from a grid worker's app. ``report_id`` (a UUID the app makes) makes a
    resend after a lost connection return the first case."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    report_id: str | None = Field(
        default=None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:\-]+$"
    )
    category: str = Field(pattern=r"^\d{5}$")
    description: str = Field(min_length=1, max_length=4000)
    lat: float = Field(ge=-90, le=90)
    lng: float = Field(ge=-180, le=180)
    grid_code: str | None = Field(default=None, min_length=1, max_length=32)
    address: str | None = Field(default=None, max_length=300)
    urgency: Urgency | None = None
    photos: list[str] = Field(min_length=1, max_length=20)  # on-site photos (before)
    self_handled: bool = False  # 自处置: fixed on the spot
    result: str | None = Field(default=None, max_length=4000)  # what was done, if self-handled
    after_photos: list[str] = Field(default_factory=list, max_length=20)


def _placed(
    cases: CaseService, city: CityDirectory, principal: Principal, report: GridReport
) -> str:
    """The grid the report belongs to: given, located from the point, or the worker's own."""
    if report.grid_code is not None:
        unit = city.units.get(report.grid_code)
        if unit is None:
            raise InvalidInput("grid_code", f"unknown grid {report.grid_code!r}")
        if unit.tier is not Tier.grid:
            raise InvalidInput("grid_code", f"{report.grid_code} is a {unit.tier}, not a grid")
        return unit.code
    probe = CaseCreate(
        channel=Channel.grid, description=report.description, lat=report.lat, lng=report.lng
    )
    located = cases.locator(probe, city) if cases.locator else None
    if located and city.units[located].tier is Tier.grid:
        return located
    scope = city.units.get(principal.scope or "")
    if scope is not None and scope.tier is Tier.grid:
        return scope.code
    raise InvalidInput("grid_code", "the point is in no known grid; give grid_code")


def file_report(
    cases: CaseService, photos: AttachmentStore, principal: Principal, report: GridReport
) -> IntakeResult:
    if principal.role is not Role.grid_worker:
        raise Forbidden("only grid workers file grid reports")
    city = cases.city
    grid = _placed(cases, city, principal, report)
    photos.check_refs("photos", report.photos)
    steps = [FollowUp("note", {"note": "上报现场照片", "photos": report.photos}, by=principal)]
    if report.self_handled:
        if not report.result:
            raise InvalidInput("result", "required when self_handled is true")
        if not report.after_photos:
            raise InvalidInput("after_photos", "required when self_handled is true")
        photos.check_refs("after_photos", report.after_photos)
        done = {"result": report.result, "photos": report.after_photos}
        steps.append(FollowUp("self_handle", done, by=principal))
    else:
        steps.insert(0, FollowUp("register", {}))
    data = CaseCreate(
        channel=Channel.grid,
        external_id=report.report_id,
        category=report.category,
        description=report.description,
        lat=report.lat,
        lng=report.lng,
        grid_code=grid,
        address=report.address,
        urgency=report.urgency,
    )
    return cases.intake(principal, data, then=steps)


def verification_tasks(
    session: Session, principal: Principal, city: CityDirectory, limit: int
) -> list[tuple[str, Case]]:
    """(action, case) for every case waiting for an on-site check in the worker's grids."""
    if principal.role is not Role.grid_worker:
        raise Forbidden("the on-site check list is for grid workers")
    query = (
        select(Case)
        .where(col(Case.state).in_(list(TASKS)), access.case_scope(principal, city))
        .order_by(col(Case.updated_at), col(Case.id))
        .limit(limit)
    )
    return [(TASKS[case.state], case) for case in session.exec(query)]
