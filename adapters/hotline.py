"""12345 hotline intake: a hotline ticket becomes a case; the ticket number is the
idempotency key (``external_id`` on channel ``hotline``), so a resent ticket or a re-run
import never makes a second case.

Status goes back to the hotline system through the outbox (engine/outbox/hooks.py): accepted,
reply, callback result, closed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from engine.cases.hooks import IntakeResult
from engine.cases.models import RECORDING_URL_PATTERN, CaseCreate, Channel, RequestType, Urgency
from engine.cases.service import CaseService
from engine.errors import InvalidInput
from engine.users.models import Principal

REQUEST_TYPES = {
    "咨询": RequestType.consult,
    "求助": RequestType.help,
    "投诉": RequestType.complaint,
    "举报": RequestType.report,
    "建议": RequestType.suggestion,
    "意见建议": RequestType.suggestion,
}
URGENCIES = {
    "紧急": Urgency.urgent,
    "特急": Urgency.urgent,
    "加急": Urgency.urgent,
    "一般": Urgency.normal,
    "普通": Urgency.normal,
}


def _blank_to_none(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def _request_type(value: Any) -> Any:
    value = _blank_to_none(value)
    if isinstance(value, str):
        found = REQUEST_TYPES.get(value) or REQUEST_TYPES.get(value.rstrip("类"))
        if found is not None:
            return found
        if value.lower() in RequestType.__members__:
            return RequestType(value.lower())
        raise ValueError(
            "must be 咨询/求助/投诉/举报/建议 or consult/help/complaint/report/suggestion"
        )
    return value


def _urgency(value: Any) -> Any:
    value = _blank_to_none(value)
    if isinstance(value, str):
        found = URGENCIES.get(value)
        if found is not None:
            return found
        if value.lower() in Urgency.__members__:
            return Urgency(value.lower())
        raise ValueError("must be 紧急/一般 or urgent/normal")
    return value


def _no_bool(value: Any) -> Any:
    """A coordinate is a number: ``true`` is not 1.0 (pydantic would take it as one)."""
    if isinstance(value, bool):
        raise ValueError("a coordinate is a number, not true or false")
    return value


def _documented(pattern: str) -> Callable[[dict[str, Any]], None]:
    """The pattern the schema shows for a text field, in place of the one checked after the
    ticket has dropped its spaces and empty values."""

    def update(schema: dict[str, Any]) -> None:
        for branch in schema.get("anyOf", [schema]):
            if branch.get("type") == "string":
                branch["pattern"] = pattern
                # The pattern bounds the trimmed length; the raw text may be longer.
                branch.pop("minLength", None)
                branch.pop("maxLength", None)

    return update


class HotlineTicket(BaseModel):
    """A 12345 ticket as the hotline system sends it (English keys; values may be Chinese)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    # The schema's patterns allow the spaces around a value (and an empty optional value)
    # that the ticket drops before checking it.
    ticket_no: str = Field(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9_.:\-]+$",
        json_schema_extra=_documented(r"^\s*[A-Za-z0-9_.:\-]{1,64}\s*$"),
    )
    content: str = Field(min_length=1, max_length=4000)  # 诉求内容
    caller_name: str | None = Field(default=None, max_length=50)
    caller_phone: str | None = Field(
        default=None,
        pattern=r"^[0-9+\- ]{3,30}$",
        json_schema_extra=_documented(r"^\s*([0-9+\- ]{3,30})?\s*$"),
    )
    address: str | None = Field(default=None, max_length=300)
    request_type: Annotated[RequestType | None, BeforeValidator(_request_type)] = None
    urgency: Annotated[Urgency | None, BeforeValidator(_urgency)] = None
    category: str | None = Field(  # the operator's 事项分类
        default=None, pattern=r"^\d{5}$", json_schema_extra=_documented(r"^\s*(\d{5})?\s*$")
    )
    grid_code: str | None = Field(default=None, max_length=32)
    lat: Annotated[float | None, BeforeValidator(_no_bool)] = Field(default=None, ge=-90, le=90)
    lng: Annotated[float | None, BeforeValidator(_no_bool)] = Field(default=None, ge=-180, le=180)
    recording_url: str | None = Field(  # the call's recording, kept on the case's report event
        default=None,
        max_length=300,
        pattern=RECORDING_URL_PATTERN,
        json_schema_extra=_documented(
            r"^\s*(http://[^\s\"'<>]{1,293}|https://[^\s\"'<>]{1,292})?\s*$"
        ),
    )

    @model_validator(mode="before")
    @classmethod
    def _blanks(cls, data: Any) -> Any:
        """Hotline exports leave optional columns empty: an empty value is no value."""
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if not (isinstance(v, str) and not v.strip())}
        return data

    def to_case(self) -> CaseCreate:
        return CaseCreate(
            channel=Channel.hotline,
            external_id=self.ticket_no,
            category=self.category,
            description=self.content,
            address=self.address,
            request_type=self.request_type,
            urgency=self.urgency,
            reporter_name=self.caller_name,
            reporter_phone=self.caller_phone,
            grid_code=self.grid_code,
            lat=self.lat,
            lng=self.lng,
            recording_url=self.recording_url,
        )


class HotlineBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tickets: list[HotlineTicket] = Field(min_length=1)


def file_ticket(cases: CaseService, principal: Principal, ticket: HotlineTicket) -> IntakeResult:
    return cases.intake(principal, ticket.to_case())


def file_tickets(
    cases: CaseService, principal: Principal, tickets: list[HotlineTicket]
) -> list[IntakeResult]:
    """All or nothing: one transaction; a ticket already filed returns its case."""
    try:
        return cases.intake_batch(principal, [t.to_case() for t in tickets])
    except InvalidInput as exc:
        field = str(exc.details[0]["field"]).replace("items[", "tickets[", 1)
        raise InvalidInput(field, exc.details[0]["reason"]) from exc
