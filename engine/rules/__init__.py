"""Dispatch rules (docs/ARCHITECTURE.md#dispatch): the data model shared by the rule modules.

Here: the vocabularies, a parsed row (:class:`Rule`) and file (:class:`RuleTable`), the
input of a decision (:class:`DispatchInput`) and its outcome (:class:`Decision`,
:class:`Explanation`). The work is done in:

* :mod:`engine.rules.table` — the ``rules.toml`` format; ``parse_table`` validates it.
* :mod:`engine.rules.matcher` — ``decide`` (indexed first hit), ``explain``,
  ``decide_linear`` (the reference scan) and ``RuleBook`` (hot reload).
* :mod:`engine.rules.check` — ``check_table`` (static checks for maintainers).

Pure Python: no database, and nothing else of the project is imported.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from types import MappingProxyType
from typing import Any

CHANNELS = ("hotline", "grid", "video", "open311", "web", "upper")
URGENCIES = ("urgent", "normal")
REQUEST_TYPES = ("consult", "help", "complaint", "report", "suggestion")
TIERS = ("city", "district", "street", "community", "grid")
QUEUES = ("city", "district", "street")
STAGES = ("dispatch", "accept", "handle", "verify")
CONDITIONS = (
    "channel", "category", "area", "tier", "urgency", "request_type", "weekdays", "hours",
    "keywords_all", "keywords_any", "keywords_none",
)  # fmt: skip
OUTPUTS = ("department", "co_handlers", "set_urgency", "limits", "auto", "queue")


_FULLWIDTH = {
    cp: cp - 0xFEE0 for lo, hi in ((0xFF10, 0xFF19), (0xFF21, 0xFF3A), (0xFF41, 0xFF5A))
    for cp in range(lo, hi + 1)
}  # fmt: skip
_FULLWIDTH_RE = re.compile("[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]")


def normalize_text(text: str) -> str:
    """The form keywords and descriptions are compared in: full-width Latin letters and
    digits (Ａ, ｂ, ３) folded to ASCII, then lower case. Chinese text is unchanged."""
    if _FULLWIDTH_RE.search(text):
        text = text.translate(_FULLWIDTH)
    return text.lower()


@dataclass(frozen=True, slots=True)
class Window:
    """A time-of-day window in minutes after midnight: ``start <= t < end``, wrapping."""

    start: int
    end: int

    def __contains__(self, minute: object) -> bool:
        if not isinstance(minute, int):
            return False
        if self.start < self.end:
            return self.start <= minute < self.end
        return minute >= self.start or minute < self.end

    def __str__(self) -> str:
        return "-".join(f"{m // 60:02d}:{m % 60:02d}" for m in (self.start, self.end))


@dataclass(frozen=True, slots=True, eq=False)
class Rule:
    """One validated row. ``index`` is its 0-based position in the file."""

    index: int
    id: str
    name: str = ""
    note: str = ""
    default: bool = False
    line: int | None = None
    channel: tuple[str, ...] | None = None
    category: tuple[str, ...] | None = None
    area: tuple[str, ...] | None = None
    tier: str | None = None
    urgency: tuple[str, ...] | None = None
    request_type: tuple[str, ...] | None = None
    weekdays: tuple[int, ...] | None = None
    hours: Window | None = None
    keywords_all: tuple[str, ...] | None = None  # normalised (see normalize_text)
    keywords_any: tuple[str, ...] | None = None
    keywords_none: tuple[str, ...] | None = None
    department: str | None = None
    co_handlers: tuple[str, ...] = ()
    set_urgency: str | None = None
    limits: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    auto: bool = True
    queue: str | None = None

    def conditions(self) -> dict[str, object]:
        """The conditions this row has, in evaluation order, as display values."""
        out: dict[str, object] = {}
        for name in CONDITIONS:
            value = getattr(self, name)
            if value is not None:
                out[name] = str(value) if isinstance(value, Window) else value
        return out


@dataclass(frozen=True, eq=False)
class RuleTable:
    """A parsed table. ``cache`` holds derived structures (the matcher's index)."""

    rules: tuple[Rule, ...]
    version: str
    version_note: str = ""
    cache: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def default(self) -> Rule | None:
        return self.rules[-1] if self.rules and self.rules[-1].default else None

    @property
    def names(self) -> dict[str, str]:
        """Rule id -> its name, for the rows that have one (what a person is shown)."""
        return {rule.id: rule.name for rule in self.rules if rule.name}


def _plain(value: object) -> object:
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    return value


def known_prefixes(codes: Iterable[str]) -> frozenset[str]:
    """Every non-empty prefix of every code: the valid category prefixes."""
    return frozenset(code[:n] for code in codes for n in range(1, len(code) + 1))


@dataclass(frozen=True, slots=True)
class DispatchInput:
    """What a dispatch decision looks at.

    ``unit_codes`` is the location's unit chain from the most specific unit up to the city,
    e.g. ``("01020101", "010201", "0102", "01", "00")``, empty when the point is outside
    every grid. Its length says how far the location is known (5 grid, 4 community, 3
    street, 2 district, 1 city) for the ``tier`` condition, and picks the command center of
    a manual queue (:attr:`Decision.queue_unit`). ``local_time`` is an aware datetime in the
    city zone; ``hours`` and ``weekdays`` use its wall clock. Values outside the
    vocabularies (e.g. a new channel) match no list condition, only its absence.
    """

    channel: str
    category: str | None
    unit_codes: tuple[str, ...]
    description: str
    urgency: str
    request_type: str | None
    local_time: datetime

    def __post_init__(self) -> None:
        if not isinstance(self.unit_codes, tuple):
            object.__setattr__(self, "unit_codes", tuple(self.unit_codes))
        if not isinstance(self.local_time, datetime) or self.local_time.utcoffset() is None:
            raise ValueError("local_time must be an aware datetime in the city zone")


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome of :func:`decide`. ``matched`` maps each condition of the rule to the
    value that satisfied it; ``queue_unit`` is the unit code of the command center whose
    manual queue gets the case (auto = false; None when the location is unknown)."""

    rule_id: str
    rule_index: int
    department: str | None
    co_handlers: tuple[str, ...]
    urgency: str
    limits: Mapping[str, str]
    auto: bool
    queue: str | None
    queue_unit: str | None
    table_version: str
    matched: Mapping[str, object]
    default: bool

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (lists for tuples)."""
        return {f.name: _plain(getattr(self, f.name)) for f in fields(self)}


@dataclass(frozen=True, slots=True)
class Miss:
    """A row tried before the matched one and the first of its conditions that failed."""

    rule_id: str
    rule_index: int
    field: str
    expected: object
    actual: object


@dataclass(frozen=True, slots=True)
class Explanation:
    """A decision plus every row tried before it (file order), see ``explain``."""

    decision: Decision
    tried: tuple[Miss, ...]

    def to_dict(self) -> dict[str, Any]:
        tried = [{f.name: _plain(getattr(m, f.name)) for f in fields(m)} for m in self.tried]
        return {"decision": self.decision.to_dict(), "tried": tried}
