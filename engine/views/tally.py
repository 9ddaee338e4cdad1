"""The read-model rows of some cases, added up from their replayed facts, with no database.

One source for what a case's facts (engine.kpis.replay) put in each read model, shared by the
rebuild and check (the facts of a chunk of cases replayed from the audit trail,
engine.views.rebuild) and by a bulk import (each case's facts from its replayed timeline, in
the import's worker processes: engine.history). ``ViewsHook`` keeps the same facts step by
step on the write path; ``gridflow views check`` compares the two ways.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import Table

from engine.calendar import WorkCalendar
from engine.cases.models import Channel
from engine.cases.workflow import Workflow
from engine.knowledge.answers import ANSWER_ACTION
from engine.kpis.aggregate import callback_counts, micros
from engine.kpis.definitions import STAGE_COUNTS
from engine.kpis.replay import ClockRow, EventRow, Fact, replay_case
from engine.sla.clocks import yellow_point
from engine.views.facts import (
    DAY_KEY,
    DAY_UNIT_KEY,
    DAY_UNITS,
    DAYS,
    ESCALATIONS,
    INTAKE,
    INTAKE_KEY,
    LATE,
    LIGHTS,
    MONTH_KEY,
    MONTHS,
    OPEN,
    OPEN_KEY,
    local_day,
    rolled_up,
    rollup,
    sum_into,
)
from engine.views.models import DAY_KEYS, INTAKE_KEYS

# (table, its key columns) of the counts, added up per key: what ``Tally.counted`` gives.
COUNTED = (
    (DAYS, DAY_KEY),
    (DAY_UNITS, DAY_UNIT_KEY),
    (MONTHS, MONTH_KEY),
    (INTAKE, INTAKE_KEY),
    (OPEN, OPEN_KEY),
)
# (table, its key columns) of the facts kept per case.
PER_CASE = (
    (LIGHTS, ("case_id", "stage")),
    (LATE, ("case_id", "stage", "generation")),
    (ESCALATIONS, ("case_id",)),
)


class ClockLike(Protocol):
    """An SLA clock as the rows read it: an ``sla_clock`` row or an ``engine.sla.runs``
    ``ClockRun``."""

    started_at: datetime
    due_at: datetime
    kind: str
    paused_seconds: float
    paused_at: datetime | None
    stopped_at: datetime | None


def intake_facts(steps: Iterable[tuple[str, str | None, str]]) -> Iterator[tuple[str, bool]]:
    """直办率's rule over a hotline case's trail, oldest first: each step's (actor, from_state,
    action). Gives (filer, True) for the step that filed the case (its first from no state)
    and (filer, False) for each answer at intake (its filer, or "" if it came before the
    filing). engine.views.hooks applies the same rule step by step as cases move."""
    filer: str | None = None
    for actor, from_state, action in steps:
        if from_state is None and filer is None:
            filer = actor
            yield filer, True
        elif action == ANSWER_ACTION:
            yield filer or "", False


class Tally:
    """Read-model rows of the cases added so far: counts added up per key (daily facts,
    直办率's, open cases) and the per-case rows (lights, late runs, escalations).

    ``case`` arguments are mappings of the case row's columns: ``id``, ``owning_unit``,
    ``category``, ``state``, ``supervision_unit``, ``card``, ``channel``, ``created_at``,
    ``lead_department`` (the last only for ``add_open``)."""

    def __init__(
        self,
        zone: ZoneInfo,
        workflow: Workflow,
        calendar: WorkCalendar,
        now: datetime,
        yellow_at: float,
    ) -> None:
        self.zone, self.workflow, self.calendar = zone, workflow, calendar
        self.now, self.yellow_at = now, yellow_at
        self.days: dict[tuple[Any, ...], dict[str, int]] = {}
        self.intake: dict[tuple[Any, ...], dict[str, int]] = {}
        self.open: dict[tuple[Any, ...], int] = {}
        self.lights: list[dict[str, Any]] = []
        self.late: list[dict[str, Any]] = []
        self.escalations: dict[int, dict[str, Any]] = {}

    # ------------------------------------------------------------------ adding facts

    def add_case(
        self,
        case: Mapping[str, Any],
        events: list[EventRow],
        clocks: Mapping[tuple[str, int], ClockLike],
        filer: str,
    ) -> None:
        """Everything one case puts in the read models, from its whole trail (``events``,
        oldest first), its SLA clocks by (stage, generation) and who filed it (the actor of
        its first event, the report)."""
        due = {key: ClockRow(key[0], key[1], c.due_at, c.paused_at) for key, c in clocks.items()}
        for fact in replay_case(events, due, self.workflow, self.calendar, self.now):
            self.add_fact(case, fact, clocks.get((fact.stage or "", fact.generation)))
        if case["channel"] == Channel.hotline:
            steps = ((filer, e.from_state, e.action) for e in events)
            for by, filed in intake_facts(steps):
                self.add_intake(case, by, filed)
        if not self.workflow.is_final(case["state"]):
            self.add_open(case["state"], case["owning_unit"], case["lead_department"], 1)

    def add_fact(self, case: Mapping[str, Any], fact: Fact, clock: ClockLike | None) -> None:
        """One replayed fact of ``case``; ``clock``: the SLA clock of the fact's stage run."""
        unit, category = case["owning_unit"], case["category"] or ""
        department = fact.department or ""
        kind = fact.kind
        if kind == "open_run":
            if clock is not None:
                self.lights.append(self._light(fact, clock, unit, department, category))
        elif kind == "escalated":
            if not self.workflow.is_final(case["state"]):
                self.escalations[fact.case_id] = {
                    "case_id": fact.case_id,
                    "unit": unit,
                    "supervision_unit": case["supervision_unit"] or "",
                    "card": case["card"] or "",
                    "stage": fact.stage or "",
                    "at": fact.at,
                }
        else:
            counts = fact_counts(fact)
            day = local_day(fact.at, self.zone)
            if counts:
                sum_into(self.days, (day, unit, department, category), counts)
            if kind == "run" and not fact.on_time and not fact.still_open:
                self.late.append(
                    {
                        "case_id": fact.case_id, "stage": fact.stage,
                        "generation": fact.generation, "unit": unit,
                        "department": department, "category": category, "day": day,
                    }
                )  # fmt: skip

    def add_intake(self, case: Mapping[str, Any], filer: str, filed: bool) -> None:
        """直办率's fact of one event of a hotline case (engine.views.hooks writes the same):
        the case filed, or answered at intake, on the day it was filed for its filer."""
        day = local_day(case["created_at"], self.zone)
        key = (day, case["owning_unit"], filer, case["category"] or "")
        sum_into(self.intake, key, {"hotline_cases" if filed else "answered_at_intake": 1})

    def add_open(self, state: str, unit: str, department: str | None, cases: int) -> None:
        key = (state, unit, department or "")
        self.open[key] = self.open.get(key, 0) + cases

    def _light(
        self, fact: Fact, clock: ClockLike, unit: str, department: str, category: str
    ) -> dict[str, Any]:
        return {
            "case_id": fact.case_id, "stage": fact.stage, "generation": fact.generation,
            "unit": unit, "department": department, "category": category,
            "started_at": fact.at,
            "yellow_at": yellow_point(clock, self.calendar, self.yellow_at),
            "due_at": clock.due_at, "paused_at": clock.paused_at, "light": fact.light,
            "working_seconds": (fact.hours or 0.0) * 3600, "since": fact.since,
        }  # fmt: skip

    # ------------------------------------------------------------------ rows

    def day_rows(self) -> list[dict[str, Any]]:
        return _count_rows(self.days, DAY_KEY, DAY_KEYS)

    def day_unit_rows(self) -> list[dict[str, Any]]:
        return rollup(self.days, "day", whole_month=False)  # type: ignore[arg-type]

    def month_rows(self) -> list[dict[str, Any]]:
        return rollup(self.days, "month", whole_month=True)  # type: ignore[arg-type]

    def intake_rows(self) -> list[dict[str, Any]]:
        return _count_rows(self.intake, INTAKE_KEY, INTAKE_KEYS)

    def open_rows(self) -> list[dict[str, Any]]:
        return [
            dict(zip(OPEN_KEY, key, strict=True)) | {"cases": n}
            for key, n in self.open.items()
            if n
        ]

    def counted(self) -> list[tuple[Table, tuple[str, ...], dict[tuple[Any, ...], dict[str, int]]]]:
        """The count tables' facts (table, key columns, key → counts: ``COUNTED``'s order),
        each to be added to the stored row of its key; keys that count nothing left out."""
        facts = (
            {key: counts for key, counts in self.days.items() if any(counts.values())},
            rolled_up(self.days, whole_month=False),
            rolled_up(self.days, whole_month=True),
            {key: counts for key, counts in self.intake.items() if any(counts.values())},
            {key: {"cases": n} for key, n in self.open.items() if n},
        )
        return [(table, keys, found) for (table, keys), found in zip(COUNTED, facts, strict=True)]

    def per_case(self) -> list[tuple[Table, list[dict[str, Any]]]]:
        """The per-case tables' rows, each new (its case had no row there)."""
        return [
            (LIGHTS, self.lights),
            (LATE, self.late),
            (ESCALATIONS, list(self.escalations.values())),
        ]

    def clear_counts(self) -> None:
        self.days, self.intake = {}, {}

    def clear_cases(self) -> None:
        self.lights, self.late, self.escalations = [], [], {}


def fact_counts(fact: Fact) -> dict[str, int]:
    """The daily counts one replayed fact adds (engine.views.hooks writes the same)."""
    k = fact.kind
    if k == "received":
        return {"received": 1}
    if k == "closed":
        return {"closed": 1}
    if k == "assigned":
        return {"assigned": 1}
    if k == "returned":
        return {"returns": 1}
    if k == "redispatched":
        return {"redispatched": 1}
    if k == "reworked":
        return {"reworks": 1}
    if k == "verified":
        return {"verifies": 1, "verifies_passed": int(fact.passed)}
    if k == "callback":
        return callback_counts(fact.values)
    if k == "resolved":
        return {"resolves": 1, "handled": 1, "handle_us": micros(fact.hours or 0.0)}
    if k == "run" and not fact.still_open and fact.stage in STAGE_COUNTS:
        due, on_time = STAGE_COUNTS[fact.stage]
        return {due: 1, on_time: int(fact.on_time)}
    return {}


def _count_rows(
    facts: Mapping[tuple[Any, ...], Mapping[str, int]],
    keys: tuple[str, ...],
    counts: Sequence[str],
) -> list[dict[str, Any]]:
    return [
        dict(zip(keys, key, strict=True)) | {k: found.get(k, 0) for k in counts}
        for key, found in facts.items()
        if any(found.values())
    ]


def trail_of(case_id: int, steps: Iterable[Any]) -> list[EventRow]:
    """A case's events as the replay reads them, from objects with the event's ``seq``-less
    fields (``at``, ``action``, ``from_state``, ``to_state``, ``data``), oldest first."""
    return [
        EventRow(case_id, seq, s.at, s.action, s.from_state, s.to_state, s.data)
        for seq, s in enumerate(steps, 1)
    ]
