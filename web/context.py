"""The composition root: wires settings, database, clock, workflow, city and services."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from functools import cached_property

from sqlalchemy.engine import Engine

from engine.audit import AuditKeys
from engine.cases.hooks import CaseHook
from engine.cases.service import CaseService
from engine.cases.workflow import Workflow, standard_workflow
from engine.city.directory import CityDirectory
from engine.city.grids import GridLocator
from engine.classifier.live import LiveRouter
from engine.clock import Clock, FileClock, SystemClock
from engine.db import make_engine, new_session
from engine.dispatch.hooks import DispatchHook
from engine.dispatch.rule_versions import LiveRules
from engine.review.hooks import ReviewHook
from engine.schema import upgrade_schema
from engine.settings import Settings
from engine.sla.calendars import CityCalendars
from engine.sla.hooks import SlaHook
from engine.timers.hooks import TimerHook
from engine.timers.sweeper import Sweeper
from engine.views.hooks import ViewsHook
from web.channels import Channels, channel_hooks
from web.sweeps import SweepDriver


@dataclass
class AppContext:
    settings: Settings
    db: Engine
    clock: Clock
    workflow: Workflow
    cases: CaseService = field(init=False)
    _city: CityDirectory | None = field(default=None, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    def __post_init__(self) -> None:
        self.cases = CaseService(
            self.db,
            self.clock,
            self.workflow,
            lambda: self.city,
            hooks=self._hooks(),
            locator=self.grids,
            audit_keys=self.audit_keys,
        )

    def _hooks(self) -> list[CaseHook]:
        """Hooks that write their rows in every case transaction, in this order."""
        return [
            SlaHook(self.workflow, self.calendars),
            TimerHook(self.workflow, self.calendars),
            *channel_hooks(),
            DispatchHook(self.rules, self.router, self.settings.router_threshold),
            ReviewHook(self.workflow),
            ViewsHook(self.workflow, self.calendars),
        ]

    async def start(self) -> None:
        """Start background work (timer sweeps, outbox delivery) inside the server."""
        await self.channels.start()
        self.sweeps.start()

    async def stop(self) -> None:
        """Stop background work; called on server shutdown."""
        await self.channels.stop()
        await self.sweeps.stop()

    @cached_property
    def audit_keys(self) -> AuditKeys:
        """The audit trail's MAC keys in the instance folder (the first made on first use)."""
        return AuditKeys(self.settings.instance_dir)

    @cached_property
    def rules(self) -> LiveRules:
        """The city's live dispatch rule table (shared through the database)."""
        return LiveRules()

    @cached_property
    def router(self) -> LiveRouter:
        """The text router over the newest models in ``models_dir`` (loaded once per version),
        shared by the dispatch hook and the operator's intake suggestions."""
        return LiveRouter(self.settings.models_dir, self.settings.secret_key)

    @cached_property
    def grids(self) -> GridLocator:
        """Point -> grid over the city's stored grid polygons (intake's locator)."""
        return GridLocator(self.db)

    @cached_property
    def calendars(self) -> CityCalendars:
        """The city's working calendar (city.toml and the override table), kept current."""
        return CityCalendars(self.db, lambda: self.city)

    @cached_property
    def sweeper(self) -> Sweeper:
        return Sweeper(self.cases)

    @cached_property
    def sweeps(self) -> SweepDriver:
        return SweepDriver(self.sweeper, self.clock)

    @cached_property
    def channels(self) -> Channels:
        """Intake channels' configuration and the outbox delivery loop."""
        return Channels(self)

    @property
    def city(self) -> CityDirectory:
        city = self._city
        if city is None:
            with self._lock:
                if self._city is None:
                    with new_session(self.db) as session:
                        self._city = CityDirectory.load(session)
                city = self._city
        return city

    def reload_city(self) -> None:
        """Drop the cached reference data; the next request reads it afresh."""
        self._city = None


def build_context(
    settings: Settings, clock: Clock | None = None, durable: bool = True
) -> AppContext:
    """``durable=False``: the database is a scratch one (engine.db.make_engine)."""
    db = make_engine(settings.database_url, durable)
    upgrade_schema(db)
    if clock is None:
        clock = FileClock(settings.clock_file) if settings.clock_file else SystemClock()
    return AppContext(settings, db, clock, standard_workflow())
