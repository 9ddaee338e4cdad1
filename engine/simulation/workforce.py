"""Departments as queues: each works on at most ``capacity`` cases at once (its handlers ×
the cases each keeps going), first come first served; a case's handling time is lognormal
around a share of its handle limit, in the limit's own measure (working or natural time)."""

from __future__ import annotations

import math
import random
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from engine.calendar import WorkCalendar
from engine.durations import Duration

WORKDAY_HOURS = 7.5


@dataclass
class Desk:
    """One department: its capacity, the cases waiting for a free slot, and its pace."""

    code: str
    capacity: int
    speed: float = 1.0  # > 1: slower than the city's median department
    busy: int = 0
    waiting: deque[int] = field(default_factory=deque)
    peak_waiting: int = 0

    def free(self) -> bool:
        return self.busy < self.capacity


def handling_seconds(limit: Duration, rng: random.Random, share: float, sigma: float) -> float:
    """A handling time in the limit's measure: lognormal, median ``share`` of the limit."""
    amount = float(limit.amount)
    if limit.unit == "wd":
        seconds = amount * WORKDAY_HOURS * 3600
    elif limit.unit == "wh":
        seconds = amount * 3600
    else:
        seconds = amount * {"m": 60, "h": 3600, "d": 86400}[limit.unit]
    return seconds * share * math.exp(rng.gauss(0.0, sigma))


def after(start: datetime, seconds: float, kind: str, calendar: WorkCalendar) -> datetime:
    """``seconds`` of working (or natural) time after ``start``."""
    if kind == "working":
        return calendar.add_working_seconds(start, seconds)
    return start + timedelta(seconds=seconds)


def size_capacity(
    load_hours: dict[str, float], workdays: float, headroom: float, fixed: dict[str, int]
) -> dict[str, int]:
    """Cases each department works on at once: ``fixed`` as given, the others sized to their
    expected workload (hours of handling per working day ÷ a working day × headroom), at
    least one."""
    sized = {
        code: max(1, math.ceil(hours / max(workdays, 1) / WORKDAY_HOURS * headroom))
        for code, hours in load_hours.items()
    }
    return sized | fixed


def make_desks(
    capacity: dict[str, int], departments: list[str], rng: random.Random
) -> dict[str, Desk]:
    """A desk for every department (capacity one where ``capacity`` names none), each with
    its own pace around the city's median."""
    return {
        code: Desk(code, capacity.get(code, 1), speed=rng.uniform(0.8, 1.25))
        for code in sorted(departments)
    }
