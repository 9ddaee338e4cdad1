"""Which checks a resolved case needs before it may close (resolved → closed).

* 核查 (``verify``): a grid worker checks the result on site, when the category's
  ``verification`` is ``grid`` or ``both``; a passing check needs at least one photo unless
  the city turns that off (``[review] verify_photos = false``).
* 回访 (``callback``): the caller is called back, always for the channels in
  ``[review] callback_channels`` (default: the 12345 hotline), and when the category's
  ``verification`` is ``callback`` or ``both``. A category that asks for a callback on a
  case nobody can be called back about (no phone, from a channel without callers: a grid
  worker's or a camera's report) gets an on-site check instead.
* ``none`` (and no callback channel): the department's result closes the case.

See docs/ARCHITECTURE.md#the-workflow.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.cases.models import Case
from engine.city.directory import CityDirectory
from engine.durations import parse_duration

VERIFICATIONS = ("grid", "callback", "both", "none")
DEFAULT_CALLBACK_CHANNELS = ("hotline",)


@dataclass(frozen=True)
class ReviewSettings:
    """``[review]`` in city.toml."""

    callback_channels: frozenset[str] = frozenset(DEFAULT_CALLBACK_CHANNELS)
    verify_photos: bool = True  # a passing verify needs at least one photo
    default_verification: str = "grid"  # for a case without a category
    # The handle limit a reworked case gets ("" = the stage's own limit, from the start).
    rework_handle_limit: str = ""

    @classmethod
    def of(cls, settings: dict[str, Any]) -> ReviewSettings:
        raw: dict[str, Any] = settings.get("review", {}) or {}
        channels = raw.get("callback_channels", list(DEFAULT_CALLBACK_CHANNELS))
        if not isinstance(channels, list) or not all(isinstance(c, str) for c in channels):
            raise ValueError("city.toml: review.callback_channels must be a list of channels")
        default = str(raw.get("default_verification", "grid"))
        if default not in VERIFICATIONS:
            raise ValueError(
                f"city.toml: review.default_verification must be one of {VERIFICATIONS}"
            )
        limit = str(raw.get("rework_handle_limit", "") or "")
        if limit:
            parse_duration(limit)  # a bad duration fails loudly, here
        return cls(frozenset(channels), bool(raw.get("verify_photos", True)), default, limit)


@dataclass(frozen=True)
class Requirements:
    verify: bool  # an on-site check (核查) must pass
    callback: bool  # a callback (回访) must be made
    photos: bool  # a passing verify needs photos

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(
            k for k, needed in (("verify", self.verify), ("callback", self.callback)) if needed
        )


def requirements(
    case: Case, city: CityDirectory, settings: ReviewSettings | None = None
) -> Requirements:
    settings = settings or ReviewSettings.of(city.settings)
    category = city.categories.get(case.category or "")
    mode = category.verification if category is not None else settings.default_verification
    channel_calls = str(case.channel) in settings.callback_channels
    verify = mode in ("grid", "both")
    callback = channel_calls or mode in ("callback", "both")
    if callback and not channel_calls and not case.reporter_phone:
        callback, verify = False, True  # nobody to call: check on site instead
    return Requirements(verify, callback, verify and settings.verify_photos)
