"""The write path's contract with its plugins: the step a hook sees (:class:`Change`), the
system actions it may ask for next (:class:`FollowUp`), the hook itself (:class:`CaseHook`),
and what intake answers (:class:`IntakeResult`). Kept apart from the service so a plugin
reads what it may rely on without the service's machinery."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlmodel import Session

from engine.audit import NewEvent
from engine.cases.models import Case, CaseCreate
from engine.city.directory import CityDirectory
from engine.users.models import Principal


@dataclass
class Change:
    """One applied step, as hooks see it (inside the transaction)."""

    session: Session
    case: Case
    event: NewEvent
    principal: Principal
    data: dict[str, Any]
    now: datetime
    city: CityDirectory


@dataclass(frozen=True)
class FollowUp:
    action: str
    data: dict[str, Any]
    by: Principal | None = None  # who takes the step; None: the system


class CaseHook(Protocol):
    """A write-path plugin. It may also define ``register_effects(effects: ActionEffects)``
    to add what its actions do to the case (``engine.cases.effects``)."""

    def after_change(self, change: Change) -> Iterable[FollowUp]:
        """Write rows for this change; return system actions to apply next."""
        ...


Locator = Callable[[CaseCreate, CityDirectory], str | None]


@dataclass
class IntakeResult:
    case: Case
    created: bool
