"""Which time limit a stage gets, and the city's SLA settings (``[sla]`` in city.toml)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.cases.models import Case
from engine.city.directory import CityDirectory
from engine.durations import Duration, parse_duration

# Used when neither the dispatch rule nor the category names a limit (e.g. no category).
DEFAULT_LIMITS = {"dispatch": "2wh", "accept": "2wh", "handle": "5wd", "verify": "2wd"}
DEFAULT_YELLOW_AT = 0.8
DEFAULT_GRACE = "1wd"


@dataclass(frozen=True)
class SlaSettings:
    yellow_at: float = DEFAULT_YELLOW_AT  # fraction of a limit at which the light turns yellow
    escalation_grace: Duration = field(default_factory=lambda: parse_duration(DEFAULT_GRACE))
    default_limits: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_LIMITS))

    @classmethod
    def of(cls, city: CityDirectory) -> SlaSettings:
        return cls.from_settings(city.settings)

    @classmethod
    def from_settings(cls, settings: dict[str, Any]) -> SlaSettings:
        """``[sla]`` of city.toml; a bad value is a ValueError naming the key."""
        raw: dict[str, Any] = settings.get("sla", {})
        yellow = raw.get("yellow_at", DEFAULT_YELLOW_AT)
        if isinstance(yellow, bool) or not isinstance(yellow, int | float) or not 0 < yellow < 1:
            raise ValueError(f"sla.yellow_at: must be a number between 0 and 1, got {yellow!r}")
        try:
            grace = parse_duration(str(raw.get("escalation_grace", DEFAULT_GRACE)))
        except ValueError as exc:
            raise ValueError(f"sla.escalation_grace: {exc}") from None
        limits = dict(raw.get("default_limits", {}))
        for stage, text in limits.items():
            if stage not in DEFAULT_LIMITS:
                raise ValueError(f"sla.default_limits: unknown stage {stage!r}")
            try:
                parse_duration(str(text))
            except ValueError as exc:
                raise ValueError(f"sla.default_limits.{stage}: {exc}") from None
        return cls(
            yellow_at=float(yellow),
            escalation_grace=grace,
            default_limits=DEFAULT_LIMITS | limits,
        )


def stage_limit(case: Case, stage: str, city: CityDirectory, settings: SlaSettings) -> Duration:
    """The dispatch rule's override, else the category's limit for the case's urgency, else
    the city default."""
    text = (case.sla_limits or {}).get(stage)
    if text is None and case.category is not None:
        category = city.categories.get(case.category)
        if category is not None:
            text = category.limits.get(str(case.urgency), {}).get(stage)
    if text is None:
        text = settings.default_limits[stage]
    return parse_duration(str(text))
