"""A realistic synthetic history of a city: past cases with their timelines, as JSON Lines.

Arrivals come from the city simulator (``engine.simulation.arrivals``: channels as Poisson
processes with their hourly patterns, synthetic complaints with their category and the
department that really handles them), one day at a time and scaled by the day of the week.
Each case's life follows the simulator's odds and pace (``SimulationConfig``): dispatch and
acceptance in working time, a misrouted case returned and redispatched, extensions,
suspensions, handling times lognormal around a share of the category's limit (so some run
late and are escalated), failed on-site checks and unsatisfied callers that rework it, and
the close. The cases filed in the history's last ``open_hours`` (three days by default) are
still open in the old system, dispatched, being handled or suspended, as in a real city,
where the open cases are the recent ones (arrivals a day × the days a case takes to close),
however long the history: a year holds as many open cases as a month with the same cases a
day. The same plan and seed give the same history. Records are written as they are made, so
a million take no more memory than ten.
"""

from __future__ import annotations

import json
import random
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from engine.calendar import WorkCalendar
from engine.city.directory import CityDirectory
from engine.city.loader import CityFiles
from engine.durations import Duration, deadline, extend, parse_duration
from engine.review.requirements import ReviewSettings
from engine.simulation.arrivals import Arrival, arrivals
from engine.simulation.config import SimulationConfig
from engine.simulation.workforce import WORKDAY_HOURS, after, handling_seconds
from engine.sla.limits import SlaSettings

# Relative arrivals per weekday (Monday first): people call less at the weekend.
WEEKDAYS = (1.12, 1.06, 1.02, 1.0, 1.0, 0.92, 0.88)
PREFIXES = {"hotline": "RX", "grid": "WG", "video": "SP"}
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀英华慧建国平刚桂兰霞文辉鹏飞玉红波宁海燕"
REQUEST_TYPES = (
    ("complaint", 45),
    ("help", 25),
    ("report", 12),
    ("consult", 10),
    ("suggestion", 8),
)
RESULTS = (
    "经现场核实，{name}问题已处理完毕，已告知来电人。",
    "已安排人员到场处置，{name}问题已解决。",
    "已责令责任单位整改，{name}问题现已整改到位。",
    "接单后当日处置，{name}问题已消除，现场恢复正常。",
    "经协调相关单位，{name}问题已妥善处理。",
)
REWORK_RESULTS = "返工后再次处置，{name}问题已彻底解决。"
OPEN_HOURS = 72.0  # the default: cases filed in the history's last three days are open


def city_of(files: CityFiles) -> CityDirectory:
    """A city directory read from its files (a history needs no database)."""
    return CityDirectory(
        name=files.name,
        settings=files.settings,
        units={unit.code: unit for unit in files.units},
        departments={department.code: department for department in files.departments},
        categories={category.code: category for category in files.categories},
    )


@dataclass(frozen=True)
class HistoryPlan:
    cases: int
    days: int
    end: date  # the last day of the history (local)
    seed: int = 1
    # Cases filed in the history's last hours are still open in the old system. Three days
    # is about the mean time a generated case takes to close (2.9 days: open cases = cases
    # a day × that) and the backlog the simulator ends with (a week at 5,000 reports a day
    # ends with 3.2 days of arrivals open, a month at 20,000 a day with 3.8).
    open_hours: float = OPEN_HOURS

    def __post_init__(self) -> None:
        if self.cases < 1 or self.days < 1:
            raise ValueError("cases and days must be at least 1")
        if not self.open_hours >= 0:  # NaN too
            raise ValueError("open hours must be at least 0")


@dataclass
class _Callers:
    """Callers, some calling again (caller history is one reason to import the past)."""

    rng: random.Random
    recent: deque[tuple[str, str]] = field(default_factory=lambda: deque(maxlen=5000))

    def next(self) -> dict[str, str]:
        rng = self.rng
        if self.recent and rng.random() < 0.15:
            name, phone = rng.choice(self.recent)
        else:
            name = rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.choice((1, 2))))
            phone = rng.choice(("13", "15", "18", "17")) + f"{rng.randrange(10**9):09d}"
            self.recent.append((name, phone))
        return {"name": name, "phone": phone}


class HistoryGenerator:
    def __init__(self, city: CityDirectory, calendar: WorkCalendar, plan: HistoryPlan) -> None:
        self.city, self.calendar, self.plan = city, calendar, plan
        self.rng = random.Random(plan.seed)
        self.zone = ZoneInfo(city.timezone)
        self.config = SimulationConfig(seed=plan.seed)
        self.sla = SlaSettings.of(city)
        self.review = ReviewSettings.of(city.settings)
        self.callers = _Callers(random.Random(plan.seed + 1))
        self.departments = sorted(city.departments)
        self._limits: dict[tuple[str, str, str], Duration] = {}
        # The history ends at the local midnight after its last day; cases filed from
        # ``open_hours`` before then are still open.
        self.end = datetime.combine(plan.end + timedelta(days=1), time(0), self.zone)
        self.open_from = self.end - timedelta(hours=plan.open_hours)

    def records(self) -> Iterator[dict[str, Any]]:
        """Every record of the history, oldest first."""
        plan = self.plan
        first = plan.end - timedelta(days=plan.days - 1)
        for offset, count in enumerate(self._per_day()):
            day = first + timedelta(days=offset)
            for seq, arrival in enumerate(self._arrivals(day, count, offset), 1):
                old_id = f"{PREFIXES[arrival.channel]}{day:%Y%m%d}{seq:06d}"
                yield self._record(old_id, arrival, still_open=arrival.at >= self.open_from)

    def _per_day(self) -> list[int]:
        """``cases`` spread over the days by weekday weight (largest remainders)."""
        plan = self.plan
        first = plan.end - timedelta(days=plan.days - 1)
        weights = [WEEKDAYS[(first + timedelta(days=d)).weekday()] for d in range(plan.days)]
        total = sum(weights)
        shares = [plan.cases * w / total for w in weights]
        counts = [int(s) for s in shares]
        by_remainder = sorted(range(plan.days), key=lambda d: counts[d] - shares[d])
        for d in by_remainder[: plan.cases - sum(counts)]:
            counts[d] += 1
        return counts

    def _arrivals(self, day: date, count: int, offset: int) -> list[Arrival]:
        """``count`` arrivals of the simulator's daily pattern on ``day``, in time order."""
        if count == 0:
            return []
        for attempt in range(20):
            seed = self.plan.seed * 1_000_003 + offset * 31 + attempt
            config = SimulationConfig(
                days=1, events_per_day=int(count * 1.25) + 10, seed=seed, start=day
            )
            found = arrivals(config, self.city)
            if len(found) >= count:
                keep = sorted(self.rng.sample(range(len(found)), count))
                return [found[i] for i in keep]
        raise RuntimeError(f"could not draw {count} arrivals for {day}")

    # ------------------------------------------------------------------ one case

    def _record(self, old_id: str, arrival: Arrival, still_open: bool) -> dict[str, Any]:
        rng, complaint = self.rng, arrival.complaint
        category = self.city.categories[complaint.category]
        hotline = arrival.channel == "hotline"
        urgency = category.default_urgency
        if hotline and urgency == "normal" and rng.random() < 0.05:
            urgency = "urgent"
        record: dict[str, Any] = {
            "old_id": old_id,
            "source": arrival.channel,
            "category": complaint.category,
            "grid": complaint.unit,
            "department": complaint.department,
            "urgency": urgency,
        }
        if hotline:
            kinds, weights = zip(*REQUEST_TYPES, strict=True)
            record["request_type"] = rng.choices(kinds, weights)[0]
            record["caller"] = self.callers.next()
        record["description"] = complaint.text
        life = _Life(self, arrival, urgency, category.name)
        steps = life.run(self_handle=not still_open and arrival.channel == "grid")
        if still_open:
            steps = life.cut(steps)
        record["result"] = life.result
        record["reported_at"] = self._local(arrival.at)
        record["timeline"] = [
            {"action": action, "at": self._local(at), **fields} for action, at, fields in steps
        ]
        return record

    def limit(self, category: str, urgency: str, stage: str) -> Duration:
        key = (category, urgency, stage)
        found = self._limits.get(key)
        if found is None:
            text = self.city.categories[category].limits.get(urgency, {}).get(stage)
            found = self._limits[key] = parse_duration(text or self.sla.default_limits[stage])
        return found

    def _local(self, at: datetime) -> str:
        return at.astimezone(self.zone).isoformat(timespec="seconds")


Step = tuple[str, datetime, dict[str, Any]]


class _Life:
    """One case's timeline, step by step from its report."""

    def __init__(
        self, history: HistoryGenerator, arrival: Arrival, urgency: str, name: str
    ) -> None:
        self.h, self.arrival, self.urgency, self.name = history, arrival, urgency, name
        self.rng, self.calendar = history.rng, history.calendar
        self.pace, self.odds = history.config.pace, history.config.odds
        self.category = history.city.categories[arrival.complaint.category]
        self.result: str | None = None
        self.steps: list[Step] = []
        self.now = arrival.at

    def run(self, self_handle: bool) -> list[Step]:
        rng, odds, truth = self.rng, self.odds, self.arrival.complaint.department
        if self_handle and rng.random() < odds.self_handle:
            self.result = f"网格员现场已处置，{self.name}问题已解决。"
            self._step("self_handle", self._minutes(rng.uniform(5, 40)), result=self.result)
            return self.steps
        self._step("register", self._minutes(rng.uniform(1, 8)))
        lead = truth
        if rng.random() < odds.misdispatch * 3:
            lead = rng.choice([d for d in self.h.departments if d != truth] or [truth])
        self._step(
            "dispatch",
            self._working(rng.expovariate(1 / self.pace.dispatch_minutes)),
            department=lead,
        )
        if lead != truth:
            self._step("return", self._accepting(), reason=f"非本单位职责，建议改派{truth}")
            self._step(
                "redispatch",
                self._working(rng.expovariate(1 / self.pace.dispatch_minutes)),
                department=truth,
            )
        self._step("accept", self._accepting())
        self._handle(first=True)
        self._review()
        return self.steps

    def cut(self, steps: list[Step]) -> list[Step]:
        """The timeline of a case still open: up to a dispatch, an accept or a suspension."""
        ends = [i for i, (action, _, _) in enumerate(steps) if action in _OPEN_AFTER]
        kept = steps[: self.rng.choice(ends) + 1] if ends else steps
        if not any(action == "resolve" for action, _, _ in kept):
            self.result = None
        return kept

    # ------------------------------------------------------------------ stages

    def _handle(self, first: bool) -> None:
        rng, h, pace = self.rng, self.h, self.pace
        category = self.arrival.complaint.category
        limit = h.limit(category, self.urgency, "handle")
        started = self.now
        due = deadline(started, limit, self.calendar)
        if first and rng.random() < 0.04:
            self._step(
                "request_extension",
                self._minutes(rng.uniform(30, 240)),
                duration="3wd",
                reason="需协调相关单位，申请延期",
            )
            self._step("approve_extension", self._working(rng.uniform(20, 120)))
            due = extend(due, "3wd", self.calendar)
        share = pace.handle_share if first else pace.handle_share / 3
        seconds = handling_seconds(limit, rng, share, pace.handle_sigma)
        if first and rng.random() < self.odds.suspend:
            self._step(
                "suspend", self._working(rng.uniform(30, 180)), reason="需等待相关手续，申请挂起"
            )
            paused = rng.randint(1, 3) * WORKDAY_HOURS * 3600
            self._step("resume", after(self.now, paused, "working", self.calendar))
            due = extend(due, f"{round(paused / 3600)}wh", self.calendar)
        done = after(self.now, seconds, limit.kind, self.calendar)
        if done > due:  # late: the timer escalated it, and again after the grace period
            self._step("escalate", due, card="yellow", reason="办理超期")
            second = extend(due, h.sla.escalation_grace, self.calendar)
            if done > second:
                self._step("escalate", second, card="red", reason="超期未办结，提级督办")
        self.now = max(self.now, done)
        template = self.rng.choice(RESULTS) if first else REWORK_RESULTS
        self.result = template.format(name=self.name)
        self._step("resolve", self.now, result=self.result)

    def _review(self) -> None:
        rng, odds, pace = self.rng, self.odds, self.pace
        mode = self.category.verification
        calls = self.arrival.channel in self.h.review.callback_channels
        if mode in ("grid", "both") or (mode == "callback" and not calls):
            passed = rng.random() >= odds.verify_fail
            self._step(
                "verify", self._working(rng.expovariate(1 / pace.verify_minutes)), passed=passed
            )
            if not passed:
                self._handle(first=False)
                self._step(
                    "verify", self._working(rng.expovariate(1 / pace.verify_minutes)), passed=True
                )
        if calls or mode in ("callback", "both"):
            self._callback()
        self._step("close", self._minutes(rng.uniform(5, 60)), reason="核查回访完成，结案")

    def _callback(self) -> None:
        rng, odds, pace = self.rng, self.odds, self.pace
        at = self._working(rng.expovariate(1 / pace.callback_minutes))
        roll = rng.random()
        if roll < odds.satisfied or roll < odds.satisfied + odds.basic:
            satisfaction = "satisfied" if roll < odds.satisfied else "basic"
            self._step("callback", at, satisfaction=satisfaction, resolved_state="solved")
            return
        if rng.random() < odds.fault_other:
            self._step(
                "callback", at, satisfaction="unsatisfied", resolved_state="solved", fault="other"
            )
            return
        self._step("callback", at, satisfaction="unsatisfied", resolved_state="unsolved")
        self._step("rework", self._minutes(1), reason="回访不满意，返工")
        self._handle(first=False)
        at = self._working(rng.expovariate(1 / pace.callback_minutes))
        self._step("callback", at, satisfaction="basic", resolved_state="solved")

    # ------------------------------------------------------------------ time

    def _step(self, action: str, at: datetime, **fields: Any) -> None:
        self.now = max(self.now, at)
        self.steps.append((action, self.now, fields))

    def _minutes(self, minutes: float) -> datetime:
        return self.now + timedelta(minutes=minutes)

    def _working(self, minutes: float) -> datetime:
        return after(self.now, minutes * 60, "working", self.calendar)

    def _accepting(self) -> datetime:
        return self._working(self.rng.expovariate(1 / self.pace.accept_minutes))


_OPEN_AFTER = ("dispatch", "redispatch", "accept", "suspend")


def write_history(
    generator: HistoryGenerator,
    write: Callable[[str], Any],
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write every record as a JSON line; the number written."""
    count = 0
    for record in generator.records():
        write(json.dumps(record, ensure_ascii=False) + "\n")
        count += 1
        if progress and count % 1000 == 0:
            progress(1000)
    if progress:
        progress(count % 1000)
    return count
