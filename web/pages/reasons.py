"""Dispatch reasons in the reader's words. The engine records why a case went to a manual
queue as English text (``engine/dispatch/hooks.py``, ``engine/dispatch/classifier_step.py``):
"rule R12 (环卫) asks for manual dispatch; suggested department HW-01". Pages translate
each known part here, name departments and categories, and keep any unknown part as it is.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from web.pages.views import View

_NUMBER = r"[0-9.]+"


def _pct(text: str) -> str:
    return f"{round(float(text) * 100)}%"


def _label(target: str, label: str, v: View) -> str:
    return v.dept(label) if target == "department" else v.category(label)


def _list(text: str, v: View) -> str:
    codes = re.findall(r"'([^']+)'", text) or [text]
    return "、".join(v.dept(c) for c in codes)


_NO_HOLIDAYS = re.compile(r"WARNING: no official holiday schedule for (\d{4})\..*", re.S)
_PATTERNS: list[tuple[re.Pattern[str], str, Callable[[re.Match[str], View], dict[str, str]]]] = [
    (re.compile(r"no rule matched"), "why_no_rule", lambda m, v: {}),
    (
        re.compile(rf"the location \(({_NUMBER}|None), ({_NUMBER}|None)\) is outside every grid"),
        "why_outside_at",
        lambda m, v: {"lat": m[1], "lng": m[2]},
    ),
    (re.compile(r"the location is outside every grid"), "why_outside", lambda m, v: {}),
    (
        re.compile(r"rule (\S+) names departments unknown to the city: (.+)"),
        "why_unknown_departments",
        lambda m, v: {"rule": m[1], "codes": _list(m[2], v)},
    ),
    (
        re.compile(r"rule (\S+)(?: \((.*)\))? asks for manual dispatch"),
        "why_manual_rule",
        lambda m, v: {"rule": m[2] or m[1]},
    ),
    (
        re.compile(r"suggested department (\S+)"),
        "why_suggested",
        lambda m, v: {"department": v.dept(m[1])},
    ),
    (
        re.compile(r"rule (\S+) would dispatch to (\S+) by default"),
        "why_default_row",
        lambda m, v: {"rule": m[1], "department": v.dept(m[2])},
    ),
    (
        re.compile(
            rf"text router: (department|category) (\S+) at ({_NUMBER}) (≥|<) threshold ({_NUMBER})"
        ),
        "why_router",
        lambda m, v: {
            "label": _label(m[1], m[2], v),
            "confidence": _pct(m[3]),
            "verdict": v.t("why_at_least" if m[4] == "≥" else "why_below"),
            "threshold": _pct(m[5]),
        },
    ),
    (
        re.compile(r"the city has no department (\S+)"),
        "why_no_department",
        lambda m, v: {"code": m[1]},
    ),
    (
        re.compile(r"the rules leave category (\S+) to a person \(rule (\S+)\)"),
        "why_category_manual",
        lambda m, v: {"category": v.category(m[1]), "rule": m[2]},
    ),
]


def _part(text: str, v: View) -> str:
    for pattern, key, values in _PATTERNS:
        match = pattern.fullmatch(text.strip())
        if match:
            return v.t(key, **values(match, v))
    return text.strip()


def reason_words(reason: str | None, v: View) -> str:
    """One engine reason, translated part by part ("A; B", "A, but B")."""
    if not reason:
        return ""
    holidays = _NO_HOLIDAYS.fullmatch(reason)
    if holidays:  # engine.calendar's coverage warning
        return v.t("why_no_holidays", year=holidays[1])
    out = []
    for clause in reason.split("; "):
        first, *buts = clause.split(", but ")
        pieces = [_part(first, v), *(v.t("why_but") + _part(b, v) for b in buts)]
        out.append("".join(pieces))
    return v.t("why_sep").join(out)
