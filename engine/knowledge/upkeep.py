"""The knowledge base's daily upkeep, run by the server once per city day (web/sweeps.py)
and by hand with ``gridflow knowledge expire`` / ``knowledge repeats``.

* Articles past their review date are marked expired (a version row by the system) and so
  listed for review. Reading never waits for this: an article past its review date is hidden
  from operators from that day on (``access.visible_condition``).
* Calls filed since the last run are checked for a repeat of an answer at intake, which flags
  the article answered (``answers.sweep_repeat_calls``).

Both steps are idempotent: a second run on the same day changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine

from engine.city.directory import CityDirectory
from engine.db import new_session
from engine.knowledge import answers, lifecycle
from engine.knowledge.access import local_today


@dataclass(frozen=True)
class Upkeep:
    expired: list[int]  # the articles marked expired by this run
    repeat_flags: int  # repeat-call flags raised or found


def expire_articles(db: Engine, city: CityDirectory, now: datetime) -> list[int]:
    with new_session(db) as session, session.begin():
        return lifecycle.expire_due(session, local_today(now, city.timezone), now)


def flag_repeat_calls(
    db: Engine, city: CityDirectory, since: datetime, now: datetime, days: int | None = None
) -> int:
    with new_session(db) as session, session.begin():
        days = days or answers.repeat_days(city.settings)
        return answers.sweep_repeat_calls(session, since, now, days)


def daily_upkeep(db: Engine, city: CityDirectory, since: datetime, now: datetime) -> Upkeep:
    """Both steps, each in its own transaction (calls filed since ``since`` are checked)."""
    return Upkeep(expire_articles(db, city, now), flag_repeat_calls(db, city, since, now))
