"""Cross-channel duplicates: a new report within a radius of an open case of the same
category is flagged (``case.duplicate_of``) so an operator or dispatcher can merge it (并单).

The look-up is one indexed query per located report (ix_case_category_lat, declared in
engine/intake/alerts.py with the intake tables): category + a latitude band, then a
longitude band and the great-circle distance in Python over the few rows left.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from sqlmodel import col, select

from engine.cases.hooks import Change, FollowUp
from engine.cases.models import Case
from engine.cases.workflow import REPORT

EARTH_RADIUS_M = 6_371_008.8
METERS_PER_DEGREE = 111_320.0
DEFAULT_RADIUS_M = 100.0
FINAL = ("closed", "voided", "merged")


def distance_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle (haversine) distance in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def radius_of(settings: dict) -> float:
    """``[duplicates] radius_m`` in city.toml; 0 turns detection off."""
    value = (settings.get("duplicates") or {}).get("radius_m", DEFAULT_RADIUS_M)
    return float(value)


class DuplicateHook:
    """On a new report, flag the nearest open case of the same category within the radius."""

    def after_change(self, change: Change) -> Iterable[FollowUp]:
        case = change.case
        if change.event.action != REPORT or case.lat is None or case.lng is None:
            return ()
        if case.category is None:
            return ()
        radius = radius_of(change.city.settings)
        if radius <= 0:
            return ()
        dlat = radius / METERS_PER_DEGREE
        dlng = radius / (METERS_PER_DEGREE * max(math.cos(math.radians(case.lat)), 0.01))
        query = select(Case.id, Case.lat, Case.lng, Case.duplicate_of).where(
            col(Case.category) == case.category,
            col(Case.lat).between(case.lat - dlat, case.lat + dlat),
            col(Case.lng).between(case.lng - dlng, case.lng + dlng),
            col(Case.state).not_in(FINAL),
            col(Case.id) != case.id,
        )
        best: tuple[bool, float, int] | None = None
        for other_id, lat, lng, duplicate_of in change.session.exec(query):
            meters = distance_m(case.lat, case.lng, lat, lng)
            if meters > radius:
                continue
            # Prefer an original over another duplicate, then the nearest, then the oldest.
            key = (duplicate_of is not None, meters, other_id)
            if best is None or key < best:
                best = key
        if best is None:
            return ()
        note = f"{best[1]:.0f} m from case {best[2]}, same category"
        return (FollowUp("flag_duplicate", {"master_id": best[2], "note": note}),)
