"""An in-memory snapshot of a city's reference data, read once from the database.

Services ask it about the org tree (ancestors, subtrees, command centers), departments and
categories on every request, so every answer here is a dict look-up or a cached tuple.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from sqlmodel import Session, select

from engine.city.models import Category, CityConfig, Department, Unit


@dataclass
class CityDirectory:
    name: str
    settings: dict[str, Any]
    units: dict[str, Unit]
    departments: dict[str, Department]
    categories: dict[str, Category]
    _ancestors: dict[str, tuple[str, ...]] = field(default_factory=dict, repr=False)

    @classmethod
    def load(cls, session: Session) -> CityDirectory:
        config = session.get(CityConfig, 1)
        if config is None:
            raise LookupError("no city is configured: run `gridflow init` first")
        return cls(
            name=config.name,
            settings=dict(config.settings),
            units={u.code: u for u in session.exec(select(Unit))},
            departments={d.code: d for d in session.exec(select(Department))},
            categories={c.code: c for c in session.exec(select(Category))},
        )

    @cached_property
    def root(self) -> str:
        return next(code for code, unit in self.units.items() if unit.parent is None)

    @property
    def timezone(self) -> str:
        return str(self.settings.get("timezone", "Asia/Shanghai"))

    @property
    def trusted_channels(self) -> frozenset[str]:
        return frozenset(self.settings.get("trusted_channels", ["hotline", "grid", "web", "upper"]))

    def ancestors(self, code: str) -> tuple[str, ...]:
        """``code`` and every unit above it, up to the city."""
        found = self._ancestors.get(code)
        if found is None:
            chain, current = [], code
            while current is not None:
                chain.append(current)
                current = self.units[current].parent
            found = self._ancestors[code] = tuple(chain)
        return found

    def is_within(self, code: str, scope: str) -> bool:
        """Whether unit ``code`` lies in the subtree of unit ``scope``."""
        return code in self.units and scope in self.ancestors(code)

    @cached_property
    def _children(self) -> dict[str, list[str]]:
        children: dict[str, list[str]] = {code: [] for code in self.units}
        for unit in self.units.values():
            if unit.parent is not None:
                children[unit.parent].append(unit.code)
        return children

    def subtree(self, scope: str) -> list[str]:
        """``scope`` and every unit below it."""
        out, stack = [], [scope]
        while stack:
            code = stack.pop()
            out.append(code)
            stack.extend(self._children.get(code, ()))
        return out
