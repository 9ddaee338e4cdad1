"""The operator's helpers: likely duplicates of a call before it is saved, and the text
router's category suggestions (when a model is present; without one, none)."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import or_
from sqlmodel import Session, col, select

from engine import access
from engine.cases.models import Case
from engine.city.directory import CityDirectory
from engine.errors import GridflowError
from engine.router import ModelStore, TextRouter
from engine.users.models import Principal

FINAL = ("closed", "voided", "merged")
log = logging.getLogger("gridflow.pages")


def likely_duplicates(
    session: Session,
    principal: Principal,
    city: CityDirectory,
    category: str | None,
    grid_code: str | None,
    phone: str | None,
    limit: int = 5,
) -> list[Case]:
    """Open cases the operator may see: the same category in the same grid, or the same
    caller's phone; newest first."""
    same = []
    if category and grid_code:
        same.append((col(Case.category) == category) & (col(Case.owning_unit) == grid_code))
    if phone:
        same.append(col(Case.reporter_phone) == phone)
    if not same:
        return []
    query = (
        select(Case)
        .where(or_(*same), col(Case.state).not_in(FINAL), access.case_scope(principal, city))
        .order_by(col(Case.id).desc())
        .limit(limit)
    )
    return list(session.exec(query))


@dataclass(frozen=True)
class Suggestion:
    category: str
    confidence: float


class RouterCache:
    """The newest text router model in ``models_dir``, loaded once per version."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loaded: tuple[tuple[str | None, ...], TextRouter] | None = None

    def get(self, models_dir: Path, key: str) -> TextRouter | None:
        store = ModelStore(models_dir, key)
        try:
            versions = (store.latest("category"), store.latest("department"))
        except OSError:
            return None
        if not any(versions):
            return None
        with self._lock:
            if self._loaded is None or self._loaded[0] != versions:
                try:
                    self._loaded = (versions, TextRouter.load(store))
                except (GridflowError, OSError, ValueError) as exc:
                    log.warning("text router unavailable: %s", exc)
                    return None
            return self._loaded[1]

    def suggest(self, models_dir: Path, key: str, text: str) -> list[Suggestion] | None:
        """Top-3 categories for ``text``; None when no model is present."""
        router = self.get(models_dir, key)
        if router is None:
            return None
        guess = router.predict(text).guess("category")
        if guess is None:
            return []
        return [Suggestion(label, round(p, 3)) for label, p in guess.top3]


ROUTERS = RouterCache()
