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
* A consultation answered at intake (直接答复, ``answer_at_intake``) is resolved without a
  department and needs no 核查: a share of them, ``[review] answered_callback_share``
  (default 0.1), waits for a 回访 in the same queue as every resolved case; the rest close
  at once. Which cases are sampled follows from the case id alone (:func:`sampled`), so the
  answer is the same every time it is asked and the share holds over any run of cases.

See docs/ARCHITECTURE.md#the-workflow.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from engine.cases.models import Case, CaseEvent
from engine.city.directory import CityDirectory
from engine.durations import parse_duration

VERIFICATIONS = ("grid", "callback", "both", "none")
DEFAULT_CALLBACK_CHANNELS = ("hotline",)
ANSWER_ACTION = "answer_at_intake"  # 直接答复 (workflows/standard.toml)
DEFAULT_ANSWERED_SHARE = 0.1
_SPREAD = 2654435761  # Knuth's multiplicative hash: consecutive ids spread over [0, 2**32)


@dataclass(frozen=True)
class ReviewSettings:
    """``[review]`` in city.toml."""

    callback_channels: frozenset[str] = frozenset(DEFAULT_CALLBACK_CHANNELS)
    verify_photos: bool = True  # a passing verify needs at least one photo
    default_verification: str = "grid"  # for a case without a category
    # The handle limit a reworked case gets ("" = the stage's own limit, from the start).
    rework_handle_limit: str = ""
    # The share of cases answered at intake that are called back (0 = none, 1 = all).
    answered_callback_share: float = DEFAULT_ANSWERED_SHARE

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
        share = raw.get("answered_callback_share", DEFAULT_ANSWERED_SHARE)
        if isinstance(share, bool) or not isinstance(share, int | float) or not 0 <= share <= 1:
            raise ValueError("city.toml: review.answered_callback_share must be from 0 to 1")
        return cls(
            frozenset(channels), bool(raw.get("verify_photos", True)), default, limit, float(share)
        )


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


def answered_at_intake(session: Session, case: Case) -> bool:
    """Whether the case was answered at intake (it then never had a lead department)."""
    if case.lead_department is not None or case.id is None:
        return False
    query = select(col(CaseEvent.seq)).where(
        col(CaseEvent.case_id) == case.id, col(CaseEvent.action) == ANSWER_ACTION
    )
    return session.exec(query.limit(1)).first() is not None


def sampled(case_id: int, share: float) -> bool:
    """Whether the case answered at intake is one of the ``share`` called back."""
    return (case_id * _SPREAD) % 2**32 < share * 2**32


def requirements(
    case: Case, city: CityDirectory, settings: ReviewSettings | None = None, answered: bool = False
) -> Requirements:
    """What the case needs; ``answered``: it was answered at intake (:func:`answered_at_intake`)."""
    settings = settings or ReviewSettings.of(city.settings)
    if answered:
        assert case.id is not None
        return Requirements(False, sampled(case.id, settings.answered_callback_share), False)
    category = city.categories.get(case.category or "")
    mode = category.verification if category is not None else settings.default_verification
    channel_calls = str(case.channel) in settings.callback_channels
    verify = mode in ("grid", "both")
    callback = channel_calls or mode in ("callback", "both")
    if callback and not channel_calls and not case.reporter_phone:
        callback, verify = False, True  # nobody to call: check on site instead
    return Requirements(verify, callback, verify and settings.verify_photos)
