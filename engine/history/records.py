"""One past case as the old system hands it over: a JSON object per line.

```json
{"old_id": "GD2025-0000001", "source": "hotline", "category": "06002", "grid": "01010101",
 "department": "HW-01", "urgency": "normal", "request_type": "complaint",
 "caller": {"name": "王芳", "phone": "13512340001"}, "address": "…", "description": "…",
 "result": "…", "reported_at": "2025-03-02T09:15:00+08:00",
 "timeline": [{"action": "register", "at": "…"}, {"action": "dispatch", "at": "…"},
              {"action": "accept", "at": "…"}, {"action": "resolve", "at": "…"},
              {"action": "callback", "at": "…", "satisfaction": "satisfied"},
              {"action": "close", "at": "…"}]}
```

The timeline's actions are the workflow's (workflows/standard.toml), e.g. ``register``,
``dispatch``, ``accept``, ``return``, ``redispatch``, ``request_extension``,
``approve_extension``, ``suspend``, ``resume``, ``escalate``, ``resolve``, ``verify``,
``callback``, ``rework``, ``close`` (``Action`` lists them all). A time without an
offset is the city's local time. Unknown keys are refused, so a misspelt column is an error,
not silently lost data.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from engine.cases.models import CategoryCode, Channel, Phone, RequestType, Urgency

OldId = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:\-]+$")
Action = Literal[
    "register",
    "request_verification",
    "verify_report",
    "void",
    "self_handle",
    "dispatch",
    "accept",
    "return",
    "redispatch",
    "reject_return",
    "request_extension",
    "approve_extension",
    "reject_extension",
    "suspend",
    "resume",
    "escalate",
    "resolve",
    "verify",
    "callback",
    "rework",
    "close",
    "note",
]
Source = Literal["hotline", "grid", "video", "open311", "web", "upper"]


class Step(BaseModel):
    """One step of a past case's timeline, after its report."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    action: Action
    at: datetime
    by: str | None = Field(default=None, min_length=1, max_length=50)  # who, in the old system
    department: str | None = Field(default=None, min_length=1, max_length=32)
    reason: str | None = Field(default=None, max_length=2000)
    result: str | None = Field(default=None, max_length=4000)
    passed: bool | None = None
    satisfaction: Literal["satisfied", "basic", "unsatisfied"] | None = None
    resolved_state: Literal["solved", "partly", "unsolved"] | None = None
    fault: Literal["department", "other"] | None = None
    duration: str | None = Field(default=None, pattern=r"^\d+(m|h|d|wh|wd)$")
    card: Literal["yellow", "red"] | None = None
    note: str | None = Field(default=None, max_length=2000)


class Caller(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str | None = Field(default=None, max_length=50)
    phone: Phone | None = None


class HistoryRecord(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    old_id: str = OldId  # the old system's case number: unique, the key of a re-run
    source: Source = Channel.hotline.value  # how the case came in, in the old system
    category: CategoryCode
    grid: str | None = Field(default=None, min_length=1, max_length=32)
    department: str | None = Field(default=None, min_length=1, max_length=32)  # the lead
    urgency: Urgency | None = None
    request_type: RequestType | None = None
    caller: Caller | None = None
    address: str | None = Field(default=None, max_length=300)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lng: float | None = Field(default=None, ge=-180, le=180)
    description: str = Field(min_length=1, max_length=4000)
    result: str | None = Field(default=None, max_length=4000)  # the final 办结反馈
    reported_at: datetime
    timeline: list[Step] = Field(default_factory=list, max_length=200)

    @model_validator(mode="after")
    def _point(self) -> HistoryRecord:
        if (self.lat is None) != (self.lng is None):
            raise ValueError("lat and lng come together")
        return self


class RecordError(Exception):
    """A bad record: where (the field, e.g. ``timeline[2].at``) and why."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field, self.reason = field, reason


def field_name(location: tuple[int | str, ...]) -> str:
    """``('timeline', 2, 'at')`` → ``timeline[2].at``."""
    out = ""
    for part in location:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "record"


def validation_errors(exc: ValidationError) -> list[RecordError]:
    return [
        RecordError(field_name(tuple(error["loc"])), error["msg"].removeprefix("Value error, "))
        for error in exc.errors()
    ]
