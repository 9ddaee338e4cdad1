"""A bulk history import's read models: the facts of the cases each batch lands, added in the
batch's own transaction, so the board and KPIs count imported cases at once and ``gridflow
views check`` finds nothing to say after an import.

The import (engine.history) replays each record before it lands, so the facts are worked
out from that replay where it runs (its worker processes), with ``tally``: the writing
process only adds up each batch's rows. ``land`` is the slower way, for a batch whose rows
were not made so (some of its cases had landed before): it replays the batch's cases from
their audit trail in the database (engine.views.rebuild ``add_cases``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from engine.calendar import WorkCalendar
from engine.cases.workflow import Workflow
from engine.city.directory import CityDirectory
from engine.sla.limits import SlaSettings
from engine.views.rebuild import add_cases
from engine.views.tally import Tally


class ImportedCases:
    """A history import's batch sink (``engine.history.landing``): ``tally`` makes an empty
    tally of read-model rows for a batch's cases, ``land`` adds a landed batch's facts
    replayed from the database."""

    def __init__(
        self,
        city: CityDirectory,
        workflow: Workflow,
        calendar: WorkCalendar,
        now: Callable[[], datetime],
    ) -> None:
        self.city, self.workflow, self.calendar, self.now = city, workflow, calendar, now
        self.zone = ZoneInfo(city.timezone)
        self.yellow_at = SlaSettings.of(city).yellow_at

    def tally(self, now: datetime | None = None) -> Tally:
        """An empty tally of the read models' rows, for cases replayed at ``now``."""
        when = self.now() if now is None else now
        return Tally(self.zone, self.workflow, self.calendar, when, self.yellow_at)

    def land(self, session: Any, batch: Sequence[Any]) -> None:
        ids = [landed.id for landed in batch]
        add_cases(session.connection(), self.city, self.workflow, self.calendar, self.now(), ids)
