"""Alert storms: the ``alert_window`` table remembers, per camera and event type, the case
that the latest alerts went into, and ``video_alert`` every vendor alert id already taken.

Both are written by :class:`AlertWindowHook` in the transaction of the ``alert`` action, so
they always agree with the case. Video cases carry a deterministic external id
``{camera}/{event type}/{generation}``: two alerts racing to open the same storm's case
compute the same id and the case table's unique key lets exactly one of them create it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, Session, SQLModel

from engine.cases.hooks import Change, FollowUp
from engine.cases.models import Case
from engine.db import UTCDateTime

KEY_PART = re.compile(r"^[A-Za-z0-9_.:-]{1,24}$")

# The duplicate check (engine/intake/duplicates.py) looks up open cases by category and a
# latitude band. Declared here, with the intake tables, so schema creation always has it.
Index("ix_case_category_lat", Case.__table__.c.category, Case.__table__.c.lat)  # type: ignore[attr-defined]


class AlertWindow(SQLModel, table=True):
    __tablename__ = "alert_window"

    camera_id: str = Field(primary_key=True, max_length=24)
    event_type: str = Field(primary_key=True, max_length=24)
    generation: int = 1  # the n-th case this camera and event type have opened
    case_id: int = Field(foreign_key="case.id")
    first_at: datetime = Field(sa_type=UTCDateTime)
    last_at: datetime = Field(sa_type=UTCDateTime)


class VideoAlert(SQLModel, table=True):
    """A vendor alert id already merged into a case: a resent alert is not counted twice."""

    __tablename__ = "video_alert"

    alert_id: str = Field(primary_key=True, max_length=64)
    case_id: int = Field(foreign_key="case.id", index=True)
    received_at: datetime = Field(sa_type=UTCDateTime)


def storm_key(camera_id: str, event_type: str, generation: int) -> str:
    return f"{camera_id}/{event_type}/{generation}"


def parse_key(external_id: str) -> tuple[str, str, int] | None:
    parts = external_id.split("/")
    if len(parts) != 3 or not parts[2].isdigit():
        return None
    return parts[0], parts[1], int(parts[2])


def current_window(session: Session, camera_id: str, event_type: str) -> AlertWindow | None:
    return session.get(AlertWindow, (camera_id, event_type))


class AlertWindowHook:
    """Keeps ``alert_window`` and ``video_alert`` in step with each video ``alert`` action."""

    def after_change(self, change: Change) -> Iterable[FollowUp]:
        case = change.case
        if change.event.action != "alert" or case.channel != "video" or not case.external_id:
            return ()
        key = parse_key(case.external_id)
        if key is None:
            return ()
        camera_id, event_type, generation = key
        assert case.id is not None
        session, now = change.session, change.now
        row = current_window(session, camera_id, event_type)
        if row is None:
            row = AlertWindow(
                camera_id=camera_id,
                event_type=event_type,
                generation=generation,
                case_id=case.id,
                first_at=now,
                last_at=now,
            )
        elif generation > row.generation:
            row.generation, row.case_id, row.first_at, row.last_at = generation, case.id, now, now
        elif generation == row.generation:
            row.last_at = now
        session.add(row)
        alert_id = change.data.get("alert_id")
        if alert_id:
            session.add(VideoAlert(alert_id=alert_id, case_id=case.id, received_at=now))
        return ()
