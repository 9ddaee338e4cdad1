"""AI video alerts (智能视频告警): an alert becomes a case, or is counted into the open case
its camera and event type opened within the storm window.

Confidence below the threshold sends the new case to an on-site check (核实); at or above it
the case is registered at once. Storms are race-free: the case a storm opens has a
deterministic external id (camera/event type/generation), so concurrent alerts agree on one
case, and counting an alert into it is a versioned update retried on conflict. Within one
process a lock per camera and event type keeps those retries rare.
"""

from __future__ import annotations

import threading
import tomllib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import IntegrityError

from engine.cases.hooks import FollowUp
from engine.cases.models import Case, CaseCreate, Channel
from engine.cases.service import CaseService
from engine.db import new_session
from engine.errors import ActionNotAllowed, Conflict, InvalidInput
from engine.intake.alerts import KEY_PART, VideoAlert, current_window, storm_key
from engine.isotime import IsoDateTime
from engine.users.models import SYSTEM, Principal

NATURAL = {"m": "minutes", "h": "hours", "d": "days"}
MAX_TRIES = 100


class VideoConfigError(ValueError):
    """video.toml cannot be used; the message names the entry and the field."""


@dataclass(frozen=True)
class Camera:
    id: str
    name: str
    lat: float | None
    lng: float | None
    grid: str | None


@dataclass(frozen=True)
class EventType:
    type: str
    name: str
    category: str
    threshold: float | None = None


@dataclass(frozen=True)
class VideoConfig:
    threshold: float = 0.8
    window: timedelta = timedelta(minutes=30)
    cameras: dict[str, Camera] = field(default_factory=dict)
    events: dict[str, EventType] = field(default_factory=dict)


def _window(text: Any) -> timedelta:
    value = str(text).strip().lower()
    unit, amount = value[-1:], value[:-1]
    if unit not in NATURAL or not amount.isdigit() or int(amount) <= 0:
        raise VideoConfigError(f"video.toml: storm_window {text!r}: use natural time like '30m'")
    return timedelta(**{NATURAL[unit]: int(amount)})


def _threshold(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise VideoConfigError(f"video.toml: {where}: threshold must be a number in 0–1")
    return float(value)


def load_video_config(path: Path) -> VideoConfig:
    """Read video.toml; a city without one has no cameras (every alert is refused)."""
    if not path.exists():
        return VideoConfig()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise VideoConfigError(f"video.toml: not valid TOML: {exc}") from exc
    section = raw.get("video", {})
    cameras: dict[str, Camera] = {}
    for i, row in enumerate(raw.get("camera", []), 1):
        where = f"camera #{i}"
        if not KEY_PART.match(str(row.get("id", ""))):
            raise VideoConfigError(f"video.toml: {where}: id must match {KEY_PART.pattern}")
        has_point = row.get("lat") is not None and row.get("lng") is not None
        if not has_point and not row.get("grid"):
            raise VideoConfigError(f"video.toml: {where} ({row['id']}): needs lat/lng or grid")
        cameras[row["id"]] = Camera(
            row["id"], row.get("name", row["id"]), row.get("lat"), row.get("lng"), row.get("grid")
        )
    events: dict[str, EventType] = {}
    for i, row in enumerate(raw.get("event", []), 1):
        where = f"event #{i}"
        if not KEY_PART.match(str(row.get("type", ""))):
            raise VideoConfigError(f"video.toml: {where}: type must match {KEY_PART.pattern}")
        if not str(row.get("category", "")).isdigit() or len(str(row["category"])) != 5:
            raise VideoConfigError(f"video.toml: {where} ({row['type']}): category: 5 digits")
        threshold = row.get("threshold")
        events[row["type"]] = EventType(
            row["type"],
            row.get("name", row["type"]),
            str(row["category"]),
            None if threshold is None else _threshold(threshold, where),
        )
    return VideoConfig(
        threshold=_threshold(section.get("confidence_threshold", 0.8), "[video]"),
        window=_window(section.get("storm_window", "30m")),
        cameras=cameras,
        events=events,
    )


class VideoAlertIn(BaseModel):
    """One alert as the video platform posts it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    alert_id: str | None = Field(
        default=None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:\-]+$"
    )  # the platform's id: a resent alert is counted once
    camera_id: str = Field(min_length=1, max_length=24)
    event_type: str = Field(min_length=1, max_length=24)
    confidence: float = Field(ge=0, le=1)
    snapshot: str | None = Field(default=None, min_length=1, max_length=300)
    occurred_at: IsoDateTime
    lat: float | None = Field(default=None, ge=-90, le=90)
    lng: float | None = Field(default=None, ge=-180, le=180)
    description: str | None = Field(default=None, max_length=1000)


@dataclass
class VideoOutcome:
    case: Case
    created: bool  # this alert opened a new case
    merged: bool  # this alert was counted into an open case
    duplicate: bool = False  # this alert id was already taken


class VideoIntake:
    def __init__(self, config: VideoConfig) -> None:
        self.config = config
        self._locks: defaultdict[tuple[str, str], threading.Lock] = defaultdict(threading.Lock)
        self._guard = threading.Lock()

    def _lock(self, key: tuple[str, str]) -> threading.Lock:
        with self._guard:
            return self._locks[key]

    def ingest(self, cases: CaseService, principal: Principal, alert: VideoAlertIn) -> VideoOutcome:
        camera = self.config.cameras.get(alert.camera_id)
        if camera is None:
            raise InvalidInput("camera_id", f"unknown camera {alert.camera_id!r}")
        event = self.config.events.get(alert.event_type)
        if event is None:
            raise InvalidInput("event_type", f"unknown event type {alert.event_type!r}")
        if (alert.lat is None) != (alert.lng is None):
            raise InvalidInput("lat" if alert.lat is None else "lng", "lat and lng come together")
        # The platform's token must cover the camera's place, also for an alert counted
        # into an open case (that step is the system's): refused before anything is written.
        cases.filing_unit(principal, self._case(alert, camera, event, 1))
        with self._lock((camera.id, event.type)):
            return self._ingest(cases, principal, alert, camera, event)

    def _ingest(
        self,
        cases: CaseService,
        principal: Principal,
        alert: VideoAlertIn,
        camera: Camera,
        event: EventType,
    ) -> VideoOutcome:
        seen = self._seen(cases, alert.alert_id)
        if seen is not None:
            return VideoOutcome(seen, created=False, merged=False, duplicate=True)
        note = (
            f"{event.name}：摄像头 {camera.name}（{camera.id}），置信度 {alert.confidence:.2f}，"
            f"告警时间 {alert.occurred_at.isoformat()}"
        )
        counted = {"note": note, "snapshot": alert.snapshot, "alert_id": alert.alert_id}
        for _ in range(MAX_TRIES):
            with new_session(cases.db) as session:
                window = current_window(session, camera.id, event.type)
            now = cases.clock.now()
            if window is not None and window.last_at >= now - self.config.window:
                try:
                    case = cases.act(SYSTEM, window.case_id, "alert", counted)
                    return VideoOutcome(case, created=False, merged=True)
                except ActionNotAllowed:
                    pass  # closed meanwhile: this alert opens the next case
                except Conflict:
                    continue  # another alert counted first: read again
                except IntegrityError:
                    return self._duplicate(cases, alert)
            generation = window.generation + 1 if window is not None else 1
            data = self._case(alert, camera, event, generation)
            threshold = event.threshold if event.threshold is not None else self.config.threshold
            if alert.confidence >= threshold:
                first = FollowUp("register", {"note": f"AI告警置信度 {alert.confidence:.2f}"})
            else:
                reason = f"AI告警置信度 {alert.confidence:.2f} 低于 {threshold:.2f}，请现场核实"
                first = FollowUp("request_verification", {"note": reason})
            try:
                result = cases.intake(principal, data, then=[first, FollowUp("alert", counted)])
            except IntegrityError:
                return self._duplicate(cases, alert)
            if result.created:
                return VideoOutcome(result.case, created=True, merged=False)
            # Another alert opened this generation's case first: count into it next round.
        raise Conflict(f"camera {camera.id} is too busy; send the alert again")

    @staticmethod
    def _seen(cases: CaseService, alert_id: str | None) -> Case | None:
        if alert_id is None:
            return None
        with new_session(cases.db) as session:
            row = session.get(VideoAlert, alert_id)
            return session.get(Case, row.case_id) if row is not None else None

    def _duplicate(self, cases: CaseService, alert: VideoAlertIn) -> VideoOutcome:
        seen = self._seen(cases, alert.alert_id)
        if seen is None:
            raise Conflict("the alert could not be stored; send it again")
        return VideoOutcome(seen, created=False, merged=False, duplicate=True)

    @staticmethod
    def _case(alert: VideoAlertIn, camera: Camera, event: EventType, generation: int) -> CaseCreate:
        lat, lng = (alert.lat, alert.lng) if alert.lat is not None else (camera.lat, camera.lng)
        text = alert.description or f"AI视频告警：{event.name}（{camera.name}）"
        return CaseCreate(
            channel=Channel.video,
            external_id=storm_key(camera.id, event.type, generation),
            category=event.category,
            description=text,
            lat=lat,
            lng=lng,
            grid_code=camera.grid,
            address=camera.name,
        )


def check_config(config: VideoConfig, units: dict[str, Any], categories: dict[str, Any]) -> None:
    """Cross-check video.toml against the city: grids and categories must exist."""
    for camera in config.cameras.values():
        if camera.grid is not None and camera.grid not in units:
            raise VideoConfigError(f"video.toml: camera {camera.id}: unknown grid {camera.grid!r}")
    for event in config.events.values():
        if event.category not in categories:
            raise VideoConfigError(
                f"video.toml: event {event.type}: unknown category {event.category!r}"
            )
