"""Requests that wait for a dispatcher's decision: 延期 (extension), 挂起 (suspension) and
作废 (void) 申请.

The case row's ``pending_request`` names the kind of request awaiting a decision (None: none),
kept by the case service in the same transaction as the action that asks, decides or
outdates it, so the navigation's counts and the approvals queue read an index
(``ix_case_pending_request``: kind, then unit) instead of each open case's events. A case
waits on one request at a time: asking again before the decision is a conflict.

A request ends with its decision (approve or reject), or lapses when the case moves where
it can no longer be decided (a suspension request once the result is in, a return …) or
to another lead department (a redispatch: the request was the old department's). The
event of the action that outdated it says so (``lapsed``). The extension asked for stays
in ``pending_extension`` (its duration) for as long as the request waits.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn

from engine.errors import Conflict

if TYPE_CHECKING:
    from engine.cases.effects import EffectContext
    from engine.cases.models import Case


@dataclass(frozen=True)
class RequestKind:
    kind: str  # the value of ``case.pending_request``
    ask: str  # the action that asks
    decisions: tuple[str, ...]  # the actions that decide it: approve first, then reject


EXTENSION = RequestKind("extension", "request_extension", ("approve_extension", "reject_extension"))
SUSPENSION = RequestKind("suspension", "request_suspension", ("suspend", "reject_suspension"))
VOID = RequestKind("void", "request_void", ("void", "reject_void"))
KINDS = {kind.kind: kind for kind in (EXTENSION, SUSPENSION, VOID)}
BY_ASK = {kind.ask: kind for kind in KINDS.values()}
BY_DECISION = {action: kind for kind in KINDS.values() for action in kind.decisions}
# Before registration an operator or dispatcher voids a report at once; after it, a void
# decides a pending 作废申请 (workflows/standard.toml).
VOID_AT_ONCE = ("reported", "verifying")


def decided_request(action: str, state: str) -> RequestKind | None:
    """The kind of request ``action`` decides in ``state``; None when it decides none (it is
    no decision, or it is a void before registration, which voids a report at once)."""
    kind = BY_DECISION.get(action)
    return None if kind is VOID and state in VOID_AT_ONCE else kind


def _refuse(reason: str) -> NoReturn:
    """409, naming the field a client can read the case's waiting request from."""
    raise Conflict(reason, [{"field": "pending_request", "reason": reason}])


def _ask(kind: RequestKind) -> Callable[[EffectContext], dict[str, Any]]:
    def ask(ctx: EffectContext) -> dict[str, Any]:
        case = ctx.case
        if case.pending_extension:  # also an extension request the history import left
            _refuse(f"an extension of {case.pending_extension} is already pending")
        if case.pending_request:
            _refuse(f"a {case.pending_request} request is already pending")
        case.pending_request = kind.kind
        if kind is EXTENSION:
            case.pending_extension = ctx.data["duration"]
        return {}

    return ask


def _decide(kind: RequestKind) -> Callable[[EffectContext], dict[str, Any]]:
    """An extension or void decision needs its request pending; a suspension may be decided
    without one (a dispatcher suspends a case on their own)."""

    def decide(ctx: EffectContext) -> dict[str, Any]:
        case = ctx.case
        if decided_request(kind.decisions[0], case.state) is None:  # a void at once
            return {}
        if kind is EXTENSION:
            pending = case.pending_extension
            if not pending:
                _refuse("no extension request is pending")
            case.pending_extension = None
            if case.pending_request == EXTENSION.kind:
                case.pending_request = None
            return {"duration": pending}
        if case.pending_request == kind.kind:
            case.pending_request = None
        elif kind is VOID:
            _refuse("no void request is pending")
        return {}

    return decide


EFFECTS: dict[str, Callable[[EffectContext], dict[str, Any]]] = {
    **{kind.ask: _ask(kind) for kind in KINDS.values()},
    **{action: _decide(kind) for action, kind in BY_DECISION.items()},
}


def lapse(case: Case, decidable: Callable[[str], bool], lead_before: str | None) -> dict:
    """After a step: the pending request lapses when none of its decisions is possible in
    the case's new state (``decidable(action)``) or the lead department changed. The facts
    for the step's audit event."""
    kind = KINDS.get(case.pending_request or "")
    if kind is None:
        return {}
    if case.lead_department == lead_before and any(decidable(action) for action in kind.decisions):
        return {}
    case.pending_request = None
    if kind is EXTENSION:
        case.pending_extension = None
    return {"lapsed": kind.kind}
