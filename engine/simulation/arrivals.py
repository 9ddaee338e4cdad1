"""Arrivals: each channel a Poisson process whose rate follows its daily pattern (hourly
rates, constant within an hour), with a synthetic complaint for each report."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from engine.city.directory import CityDirectory
from engine.classifier.synthetic import Complaint, ComplaintGenerator
from engine.simulation.config import GRID_HOURS, HOTLINE_HOURS, VIDEO_HOURS, SimulationConfig

PROFILES = {"hotline": HOTLINE_HOURS, "grid": GRID_HOURS, "video": VIDEO_HOURS}
# What each channel reports: grid workers and cameras see the street, not 12345 requests.
GRID_CLASSES = ("01", "02", "04", "06", "07", "08", "09", "10", "11")
VIDEO_CLASSES = ("06", "07", "09")


@dataclass(frozen=True)
class Arrival:
    at: datetime  # UTC
    channel: str
    complaint: Complaint
    seq: int


def arrivals(config: SimulationConfig, city: CityDirectory) -> list[Arrival]:
    """Every arrival of the run, in time order; the same config gives the same list."""
    rng = np.random.default_rng(config.seed)
    zone = ZoneInfo(city.timezone)
    generator = ComplaintGenerator(
        city.units.values(), city.departments.values(), city.categories, seed=config.seed
    )
    known = generator.categories
    pools = {
        "hotline": known,
        "grid": [c for c in known if c[:2] in GRID_CLASSES] or known,
        "video": [c for c in known if c[:2] in VIDEO_CLASSES] or known,
    }
    total_share = sum(config.mix.values())
    times: list[tuple[float, str]] = []
    day0 = datetime.combine(config.start, time(0), zone)
    for day in range(config.days):
        for channel, share in config.mix.items():
            profile = PROFILES[channel]
            weight = sum(profile)
            for hour, w in enumerate(profile):
                rate = config.events_per_day * share / total_share * w / weight
                count = int(rng.poisson(rate)) if rate > 0 else 0
                base = (day0 + timedelta(days=day, hours=hour)).timestamp()
                times.extend((base + 3600 * u, channel) for u in rng.random(count))
    times.sort()
    out = []
    for seq, (stamp, channel) in enumerate(times):
        pool = pools[channel]
        category = pool[int(rng.integers(len(pool)))] if channel != "hotline" else None
        complaint = generator.complaint(category)
        at = datetime.fromtimestamp(stamp, ZoneInfo("UTC"))
        out.append(Arrival(at, channel, complaint, seq))
    return out
