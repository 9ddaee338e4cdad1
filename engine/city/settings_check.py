"""Check city.toml's settings with the very parsers that use them at run time.

Each setting is read by one function elsewhere (the calendar, the SLA settings, the review
and KPI settings, duplicates); here every one of them runs once at load time, so a typo is
refused by ``gridflow init`` and ``gridflow config check`` instead of failing the first
request that needs it. Problems name city.toml's line and the field.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from engine.city.toml_lines import key_line

_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")

# The sections and keys city.toml may hold; anything else is reported as a likely typo.
KNOWN_KEYS = frozenset(
    {
        "name",
        "name_en",
        "timezone",
        "trusted_channels",
        "work",
        "sla",
        "calendar",
        "hotline",
        "duplicates",
        "open311",
        "review",
        "kpi",
        "board",
    }
)


def _timezone(settings: dict[str, Any]) -> None:
    from engine.calendar import DEFAULT_TIMEZONE, zone_named

    zone_named(settings.get("timezone", DEFAULT_TIMEZONE))


def _windows(settings: dict[str, Any]) -> None:
    from engine.calendar import DEFAULT_WINDOWS, parse_windows

    parse_windows(_table(settings, "work").get("windows", DEFAULT_WINDOWS))


def _overrides(settings: dict[str, Any]) -> None:
    from engine.calendar import parse_overrides

    overrides = _table(settings, "calendar").get("overrides", {})
    if not isinstance(overrides, dict):
        raise ValueError('must be a table of "YYYY-MM-DD" = "workday" | "holiday"')
    parse_overrides(overrides)


def _channels(values: object) -> None:
    from engine.cases.models import Channel

    known = [str(c) for c in Channel]
    if not isinstance(values, list):
        raise ValueError(f"must be a list of channels from {known}")
    unknown = [v for v in values if v not in known]
    if unknown:
        raise ValueError(f"unknown channel(s) {unknown}; known: {known}")


def _sla(settings: dict[str, Any]) -> None:
    from engine.sla.limits import SlaSettings

    SlaSettings.from_settings(settings)


def _review(settings: dict[str, Any]) -> None:
    from engine.review.requirements import ReviewSettings

    ReviewSettings.of(settings)
    _channels(_table(settings, "review").get("callback_channels", []))


def _kpi(settings: dict[str, Any]) -> None:
    from engine.kpis.definitions import weights_of

    weights_of(settings)


def _duplicates(settings: dict[str, Any]) -> None:
    from engine.intake.duplicates import radius_of

    value = _table(settings, "duplicates").get("radius_m", 0)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"must be a number of metres, got {value!r}")
    if radius_of(settings) < 0:
        raise ValueError("must be 0 (off) or more")


def _hotline(settings: dict[str, Any]) -> None:
    webhook = _table(settings, "hotline").get("webhook", "")
    if webhook and not str(webhook).startswith(("http://", "https://")):
        raise ValueError(f'must be an http(s) URL or "", got {webhook!r}')


def _board(settings: dict[str, Any]) -> None:
    from engine.city.tiles import tile_layer

    tile_layer(settings)


def _table(settings: dict[str, Any], name: str) -> dict[str, Any]:
    value = settings.get(name, {})
    if not isinstance(value, dict):
        raise ValueError(f"[{name}] must be a table")
    return value


CHECKS: list[tuple[tuple[str, ...], Callable[[dict[str, Any]], None]]] = [
    (("timezone",), _timezone),
    (("trusted_channels",), lambda s: _channels(s.get("trusted_channels", []))),
    (("work", "windows"), _windows),
    (("calendar", "overrides"), _overrides),
    (("sla",), _sla),
    (("review",), _review),
    (("kpi", "weights"), _kpi),
    (("duplicates", "radius_m"), _duplicates),
    (("hotline", "webhook"), _hotline),
    (("board",), _board),
]


def check_settings(settings: dict[str, Any], text: str) -> list[str]:
    """Raise :class:`CityConfigError` listing every invalid setting; return the warnings."""
    from engine.city.loader import CityConfigError, where

    problems = []
    for path, check in CHECKS:
        try:
            check(settings)
        except (ValueError, TypeError) as exc:
            message = str(exc).removeprefix("city.toml: ")
            field, line = _place(path, message, text)
            message = message.removeprefix(f"{field}: ")
            problems.append(f"{where('city.toml', line, field)}: {message}")
    if problems:
        raise CityConfigError(*problems)
    return [
        f"{where('city.toml', key_line(text, (key,)), key)}: unknown setting, ignored "
        f"(known: {', '.join(sorted(KNOWN_KEYS))})"
        for key in settings
        if key not in KNOWN_KEYS
    ]


def _place(path: tuple[str, ...], message: str, text: str) -> tuple[str, int | None]:
    """The most precise field the message names (e.g. ``sla.yellow_at``) and its line."""
    first = message.split(":", 1)[0].split(" ", 1)[0]
    if first.startswith(f"{path[0]}.") and all(part for part in first.split(".")):
        path = tuple(first.split("."))
    day = _DAY.search(message) if path == ("calendar", "overrides") else None
    if day is not None:
        path = (*path, day.group(0))
    return ".".join(path), key_line(text, path)
