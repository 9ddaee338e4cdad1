"""Drives the timer sweep inside the server process (docs/ARCHITECTURE.md#timers-and-escalation).

APScheduler 3 is only the alarm clock: a sweep every few seconds, brought forward to the next
due time when that comes sooner, and a daily purge of finished timers. The timers themselves
live in the database, so nothing is lost when the server stops, and the first sweep after a
start catches up on whatever came due meanwhile.

It also runs the daily upkeep of the knowledge base (engine.knowledge.upkeep: expire articles
past their review date, flag repeat calls) once per city day by the injected clock: a job
every minute asks whether the clock's day has moved on since the last run, so a virtual
clock that jumps a day runs it on the next check. Each step is idempotent, so workers that
run it on the same day change nothing the second time.
"""

from __future__ import annotations

import contextlib
import logging
from datetime import UTC, date, datetime, timedelta

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers import SchedulerNotRunningError
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from engine.clock import Clock
from engine.knowledge.access import local_today
from engine.knowledge.upkeep import Upkeep, daily_upkeep
from engine.timers.sweeper import Sweeper, SweepReport

log = logging.getLogger("gridflow.timers")
# A sweep longer than the tick makes APScheduler skip (coalesce) the next tick, as intended;
# its warning for each one is noise in the logs.
logging.getLogger("apscheduler.scheduler").setLevel(logging.ERROR)

SWEEP_JOB = "timer-sweep"
CATCH_UP_JOB = "timer-catch-up"
WAKE_JOB = "timer-wake"
PURGE_JOB = "timer-purge"
UPKEEP_JOB = "knowledge-upkeep"
UPKEEP_NOW_JOB = "knowledge-upkeep-now"
UPKEEP_CHECK = timedelta(minutes=1)  # how often the day is looked at (not how often it runs)


class SweepDriver:
    def __init__(
        self,
        sweeper: Sweeper,
        clock: Clock,
        tick: timedelta = timedelta(seconds=5),
        keep: timedelta = timedelta(days=30),
    ) -> None:
        self.sweeper, self.clock, self.tick_every, self.keep = sweeper, clock, tick, keep
        self.scheduler: AsyncIOScheduler | None = None
        self._upkept: tuple[date, datetime] | None = None  # the city day and time of the last

    def start(self) -> None:
        """Start ticking; needs the running event loop (call from the app's lifespan)."""
        if self.scheduler is not None:
            return
        scheduler = AsyncIOScheduler(timezone=UTC)
        common = {"max_instances": 1, "coalesce": True, "misfire_grace_time": None}
        every = self.tick_every.total_seconds()
        scheduler.add_job(self.tick, "interval", seconds=every, id=SWEEP_JOB, **common)
        scheduler.add_job(self.tick, id=CATCH_UP_JOB)  # at once: whatever came due meanwhile
        scheduler.add_job(self.purge, "interval", hours=24, id=PURGE_JOB, **common)
        check = UPKEEP_CHECK.total_seconds()
        scheduler.add_job(self.upkeep, "interval", seconds=check, id=UPKEEP_JOB, **common)
        scheduler.add_job(self.upkeep, id=UPKEEP_NOW_JOB)  # at once, as the catch-up tick
        scheduler.start()
        self.scheduler = scheduler

    async def stop(self) -> None:
        if self.scheduler is not None:
            # Without jobs, a wake-up already queued on the event loop has nothing to start.
            self.scheduler.remove_all_jobs()
            self.scheduler.shutdown(wait=False)
            self.scheduler = None

    def tick(self) -> SweepReport:
        """One sweep at the clock's now, then bring the next tick forward if a timer is due
        before it."""
        now = self.clock.now()
        report = self.sweeper.sweep(now)
        self._wake_for(now)
        return report

    def purge(self) -> int:
        return self.sweeper.purge(self.clock.now() - self.keep)

    def upkeep(self) -> Upkeep | None:
        """The knowledge base's daily upkeep, when the clock's city day has moved on since the
        last run (None: already done today). Calls filed since the last run (at the first,
        the last day) are checked for repeats."""
        now = self.clock.now()
        city = self.sweeper.cases.city
        today = local_today(now, city.timezone)
        if self._upkept is not None and self._upkept[0] >= today:
            return None
        since = self._upkept[1] if self._upkept else now - timedelta(days=1)
        try:
            done = daily_upkeep(self.sweeper.db, city, since, now)
        except Exception:  # another worker's run at the same moment; the next check retries
            log.exception("knowledge upkeep failed; retried at the next check")
            return None
        self._upkept = (today, now)
        if done.expired or done.repeat_flags:
            log.info("knowledge upkeep: %d expired, %d repeat-call flags", len(done.expired),
                     done.repeat_flags)  # fmt: skip
        return done

    def _wake_for(self, now: datetime) -> None:
        """Sweep again when the next timer comes due, if that is before the next tick.

        The delay is relative (the clock may be virtual; APScheduler keeps wall time): a
        one-off job ``delay`` from now, replacing any earlier wake-up."""
        scheduler = self.scheduler
        upcoming = self.sweeper.next_due(now)
        if scheduler is None or upcoming is None or upcoming - now >= self.tick_every:
            return
        delay = max((upcoming - now).total_seconds(), 0.001)
        with contextlib.suppress(SchedulerNotRunningError):  # shutting down
            scheduler.add_job(
                self._wake, "interval", seconds=delay, id=WAKE_JOB, replace_existing=True
            )

    def _wake(self) -> None:
        scheduler = self.scheduler
        if scheduler is not None:
            with contextlib.suppress(JobLookupError):
                scheduler.remove_job(WAKE_JOB)
        self.tick()
