"""Dispatch rule tables: read the active one, check a candidate, activate (hot reload).

``PUT /api/v1/rules`` takes the rules.toml text, either as the raw body
(``Content-Type: text/plain``, or ``application/toml``) or as JSON ``{"text": "..."}``. An
invalid table is refused with 422 naming each row and field, and the old table stays live.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel
from sqlmodel import Session

from engine.db import new_session
from engine.dispatch import rule_versions as store
from engine.dispatch.models import RuleTableRecord
from engine.errors import Forbidden, InvalidInput, NotFound
from engine.rules.check import Finding
from engine.users.models import Principal, Role
from web.context import AppContext
from web.deps import Admin, Ctx, CurrentPrincipal

router = APIRouter(prefix="/api/v1/rules", tags=["rules"])

READERS = {Role.admin, Role.dispatcher, Role.supervisor}
MAX_TEXT = 1_000_000
TEXT_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "text/plain": {"schema": {"type": "string"}},
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {"text": {"type": "string"}},
                    "required": ["text"],
                    "additionalProperties": False,
                }
            },
        },
    }
}


class RuleTableSummary(BaseModel):
    version: str
    version_note: str
    rows: int
    active: bool
    created_at: datetime
    created_by: str
    activated_at: datetime | None
    activated_by: str | None


class RuleTableView(RuleTableSummary):
    text: str


class FindingView(BaseModel):
    severity: str
    code: str
    rule_ids: list[str]
    message: str


class ProblemView(BaseModel):
    field: str
    reason: str


class Activation(BaseModel):
    version: str
    previous_version: str | None
    changed: bool  # false: this version was already the active one
    rows: int
    warnings: list[FindingView]


class CheckResult(BaseModel):
    ok: bool  # false: activating it would be refused
    version: str | None
    rows: int
    problems: list[ProblemView]  # what makes it invalid (rows and fields)
    findings: list[FindingView]  # errors and warnings of `gridflow rules check`


def _reader(principal: Principal) -> None:
    if principal.role not in READERS:
        raise Forbidden(f"role '{principal.role}' may not read the rule tables")


def _findings(findings: list[Finding]) -> list[FindingView]:
    return [
        FindingView(severity=f.severity, code=f.code, rule_ids=list(f.rule_ids), message=f.message)
        for f in findings
    ]


def _view(record: RuleTableRecord) -> RuleTableView:
    return RuleTableView.model_validate(record, from_attributes=True)


async def _text(request: Request) -> str:
    body = await request.body()
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "application/json":
        try:
            data: Any = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise InvalidInput("body", "not valid JSON") from None
        text = data.get("text") if isinstance(data, dict) else None
        unknown = sorted(set(data) - {"text"}) if isinstance(data, dict) else []
        if unknown:
            raise InvalidInput(str(unknown[0]), "Extra inputs are not permitted")
        if not isinstance(text, str):
            raise InvalidInput("text", 'send {"text": "<rules.toml>"} or the TOML itself')
    else:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidInput("text", "the rules text must be UTF-8") from None
    if not text.strip():
        raise InvalidInput("text", "empty: send the rules.toml text")
    if len(text) > MAX_TEXT:
        raise InvalidInput("text", f"at most {MAX_TEXT} characters")
    return text


def _active(session: Session) -> RuleTableRecord:
    record = store.active_record(session)
    if record is None:
        raise NotFound("no rule table is active: PUT /api/v1/rules or `gridflow rules activate`")
    return record


@router.get("", response_model=RuleTableView)
def active_table(ctx: Ctx, principal: CurrentPrincipal) -> RuleTableView:
    """The active rule table: its text and version."""
    _reader(principal)
    with new_session(ctx.db) as session:
        return _view(_active(session))


@router.get("/versions", response_model=list[RuleTableSummary])
def versions(ctx: Ctx, principal: CurrentPrincipal) -> list[RuleTableSummary]:
    """Every stored version, newest first (old versions explain old decisions)."""
    _reader(principal)
    with new_session(ctx.db) as session:
        return [
            RuleTableSummary.model_validate(r, from_attributes=True) for r in store.history(session)
        ]


@router.get("/versions/{version}", response_model=RuleTableView)
def one_version(version: str, ctx: Ctx, principal: CurrentPrincipal) -> RuleTableView:
    _reader(principal)
    with new_session(ctx.db) as session:
        record = store.record_of(session, version)
        if record is None:
            raise NotFound(f"no rule table version {version!r}")
        return _view(record)


@router.put("", response_model=Activation, openapi_extra=TEXT_BODY)
async def activate(request: Request, ctx: Ctx, principal: Admin) -> Activation:
    """Replace the live rule table (hot reload for every process). Invalid: 422 naming each
    row and field; the old table stays live."""
    text = await _text(request)
    return _activate(ctx, text, principal)


def _activate(ctx: AppContext, text: str, principal: Principal) -> Activation:
    with new_session(ctx.db) as session, session.begin():
        done = ctx.rules.activate(session, text, ctx.city, principal.name, ctx.clock.now())
    ctx.rules.accepted(done)
    return Activation(
        version=done.table.version,
        previous_version=done.previous,
        changed=done.changed,
        rows=len(done.table.rules),
        warnings=_findings(done.findings),
    )


@router.post("/check", response_model=CheckResult, openapi_extra=TEXT_BODY)
async def check(request: Request, ctx: Ctx, principal: CurrentPrincipal) -> CheckResult:
    """Check a candidate table without activating it."""
    _reader(principal)
    return check_text(ctx, await _text(request))


def check_text(ctx: AppContext, text: str) -> CheckResult:
    table, problems, findings = store.inspect(text, ctx.city)
    return CheckResult(
        ok=not problems,
        version=table.version if table is not None else None,
        rows=len(table.rules) if table is not None else 0,
        problems=[ProblemView(**p) for p in problems],
        findings=_findings(findings),
    )
