"""The ``rules.toml`` format (docs/ARCHITECTURE.md#dispatch): parsing and validation.

A table is a list of ``[[rule]]`` rows (plus an optional top-level ``version_note``); the
FIRST row in file order whose conditions all hold decides, and the last row must be the
default row (``default = true``, no conditions). Row keys:

* ``id`` (required, unique, no whitespace), ``name`` and ``note`` (free text), ``default``.
* Conditions, each optional (absent = any; a list must not be empty): ``channel``,
  ``urgency``, ``request_type`` (lists of values); ``category`` (category code prefixes of
  1-5 digits: ``"06"`` = the whole class); ``area`` (unit code prefixes: holds when a unit
  code of the case's location starts with one); ``tier`` (the location is known at least to
  this tier); ``keywords_any`` / ``keywords_all`` / ``keywords_none`` (substrings of the
  description, compared after folding full-width Latin letters and digits to ASCII and
  lower-casing; no word segmentation); ``hours`` (``"HH:MM-HH:MM"`` local time, start
  included, end excluded, ``24:00`` allowed as an end, wraps midnight when start > end);
  ``weekdays`` (ISO 1 = Monday … 7 = Sunday).
* Outputs: ``department`` (lead; required when ``auto`` is true, an optional suggestion for
  the dispatcher when false), ``co_handlers``, ``set_urgency``, ``limits`` (stage ->
  duration, e.g. ``{ handle = "4h", accept = "1wh" }``), ``auto`` (default true; false =
  manual queue) and ``queue`` (only with ``auto = false``: city | district | street,
  default city).

Every problem is reported at once by :class:`RuleTableError`; each names the row (1-based
``rule #N``, its id, the line of its ``[[rule]]`` header) and the field.
:attr:`RuleTable.version` is the first 12 hex digits of the SHA-256 of the canonical JSON
of the parsed document (sorted keys): comments and formatting do not change it.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from engine.rules import (
    CHANNELS,
    CONDITIONS,
    QUEUES,
    REQUEST_TYPES,
    STAGES,
    TIERS,
    URGENCIES,
    Rule,
    RuleTable,
    Window,
    known_prefixes,
    normalize_text,
)

_ID_RE = re.compile(r"\S{1,64}")
_DEPT_RE = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
_CATEGORY_RE = re.compile(r"[0-9]{1,5}")
_AREA_RE = re.compile(r"[0-9]{1,24}")
_HOURS_RE = re.compile(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*")
_DURATION_RE = re.compile(r"\s*(\d+)\s*(wh|wd|m|h|d)\s*", re.IGNORECASE)
_HEADER_RE = re.compile(r"^[ \t]*\[\[[ \t]*rule[ \t]*\]\]", re.MULTILINE)
_LINE_RE = re.compile(r"line (\d+)")


@dataclass(frozen=True, slots=True)
class Problem:
    """One validation problem. ``row`` is the 0-based row index (None: whole file)."""

    message: str
    row: int | None = None
    rule_id: str | None = None
    field: str | None = None
    line: int | None = None

    def __str__(self) -> str:
        where = []
        if self.row is not None:
            ident = f"id {self.rule_id!r}" if self.rule_id is not None else "no id"
            where.append(f"rule #{self.row + 1} ({ident})")
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.field is not None:
            where.append(f"field {self.field!r}")
        return f"{', '.join(where)}: {self.message}" if where else self.message


class RuleTableError(ValueError):
    """An invalid rule table; ``problems`` lists every problem found."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = tuple(problems)
        lines = "\n".join(f"  {p}" for p in self.problems)
        super().__init__(f"invalid rule table ({len(self.problems)} problem(s)):\n{lines}")


class _Bad(Exception):
    """A field value is invalid; the message says why."""


def _item(ok: Callable[[Any], object], what: str) -> Callable[[Any], Any]:
    def parse(value: Any) -> Any:
        if not ok(value):
            raise _Bad(f"{value!r} is not {what}")
        return value

    return parse


def _list(item: Callable[[Any], Any]) -> Callable[[Any], tuple[Any, ...]]:
    def parse(value: Any) -> tuple[Any, ...]:
        if not isinstance(value, list):
            raise _Bad(f"must be a list, got {value!r}")
        if not value:
            raise _Bad("must not be empty (leave the key out to match anything)")
        return tuple(dict.fromkeys(item(v) for v in value))  # dedupe, keep order

    return parse


def _choice(allowed: tuple[str, ...]) -> Callable[[Any], str]:
    return _item(lambda v: isinstance(v, str) and v in allowed, f"one of {', '.join(allowed)}")


def _pattern(regex: re.Pattern[str], what: str) -> Callable[[Any], str]:
    return _item(lambda v: isinstance(v, str) and regex.fullmatch(v), f"a valid {what}")


_text = _item(lambda v: isinstance(v, str), "a string")
_bool = _item(lambda v: isinstance(v, bool), "true or false")
_weekday = _item(lambda v: type(v) is int and 1 <= v <= 7, "an ISO weekday (1 = Monday)")


def _keyword(value: Any) -> str:
    word = normalize_text(_text(value)).strip()
    if not word:
        raise _Bad(f"keyword {value!r} is empty")
    return word


def _hours(value: Any) -> Window:
    match = _HOURS_RE.fullmatch(value) if isinstance(value, str) else None
    if match:
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        start, end = h1 * 60 + m1, h2 * 60 + m2
        if h1 < 24 and m1 < 60 and m2 < 60 and end <= 1440 and start != end:
            return Window(start, end)
    raise _Bad(f"{value!r} is not a window 'HH:MM-HH:MM' (00:00-24:00, start != end)")


def _limits(value: Any) -> Mapping[str, str]:
    if not isinstance(value, dict):
        raise _Bad(f'must be a table such as {{ handle = "4h" }}, got {value!r}')
    out = {}
    for stage, text in value.items():
        if stage not in STAGES:
            raise _Bad(f"unknown stage {stage!r}; stages: {', '.join(STAGES)}")
        match = _DURATION_RE.fullmatch(text) if isinstance(text, str) else None
        if not match or int(match[1]) <= 0:
            raise _Bad(f"{stage} = {text!r} is not a duration such as '30m', '2h', '4wh', '5wd'")
        out[stage] = f"{int(match[1])}{match[2].lower()}"
    return MappingProxyType(out)


_DEPT = _pattern(_DEPT_RE, "department code")
_FIELDS: dict[str, Callable[[Any], Any]] = {
    "id": _pattern(_ID_RE, "rule id (1-64 characters, no whitespace)"),
    "name": _text,
    "note": _text,
    "default": _bool,
    "channel": _list(_choice(CHANNELS)),
    "category": _list(_pattern(_CATEGORY_RE, "category code prefix (1-5 digits)")),
    "area": _list(_pattern(_AREA_RE, "unit code prefix (digits)")),
    "tier": _choice(TIERS),
    "urgency": _list(_choice(URGENCIES)),
    "request_type": _list(_choice(REQUEST_TYPES)),
    "weekdays": _list(_weekday),
    "hours": _hours,
    "keywords_all": _list(_keyword),
    "keywords_any": _list(_keyword),
    "keywords_none": _list(_keyword),
    "department": _DEPT,
    "co_handlers": _list(_DEPT),
    "set_urgency": _choice(URGENCIES),
    "limits": _limits,
    "auto": _bool,
    "queue": _choice(QUEUES),
}


def parse_table(
    text: str,
    known_departments: set[str] | frozenset[str] | None = None,
    known_categories: set[str] | frozenset[str] | None = None,
) -> RuleTable:
    """Parse and validate ``rules.toml`` text; raise :class:`RuleTableError` listing all
    problems. With the known sets given, unknown department codes and category prefixes
    that match no known category are problems too."""
    text = text.removeprefix("\ufeff")
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = _LINE_RE.search(str(exc))
        problem = Problem(f"TOML syntax error: {exc}", line=int(line[1]) if line else None)
        raise RuleTableError([problem]) from None
    problems: list[Problem] = [
        Problem("unknown top-level key; allowed: version_note, [[rule]]", field=key)
        for key in doc
        if key not in ("version_note", "rule")
    ]
    note = doc.get("version_note", "")
    if not isinstance(note, str):
        problems.append(Problem("must be a string", field="version_note"))
    raw_rules = doc.get("rule", [])
    if not isinstance(raw_rules, list) or not all(isinstance(r, dict) for r in raw_rules):
        raise RuleTableError([*problems, Problem("'rule' must be an array of tables [[rule]]")])
    headers = [text.count("\n", 0, m.start()) + 1 for m in _HEADER_RE.finditer(text)]
    lines = headers if len(headers) == len(raw_rules) else [None] * len(raw_rules)
    cats = known_prefixes(known_categories) if known_categories is not None else None
    rules: list[Rule] = []
    seen: dict[str, int] = {}
    for i, raw in enumerate(raw_rules):
        rid = raw.get("id")
        if isinstance(rid, str) and rid in seen:
            message = f"duplicate id (also rule #{seen[rid] + 1})"
            problems.append(Problem(message, i, rid, "id", lines[i]))
        elif isinstance(rid, str):
            seen[rid] = i
        last = i == len(raw_rules) - 1
        rule = _parse_row(i, raw, lines[i], last, problems, known_departments, cats)
        if rule is not None:
            rules.append(rule)
    if not raw_rules or raw_rules[-1].get("default") is not True:
        problems.append(Problem("no default row: the last [[rule]] must have default = true"))
    if problems:
        raise RuleTableError(problems)
    doc = {"version_note": note, "rule": raw_rules}
    canonical = json.dumps(doc, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    version = hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:12]
    return RuleTable(tuple(rules), version, note)


def _parse_row(
    index: int,
    raw: dict[str, Any],
    line: int | None,
    last: bool,
    problems: list[Problem],
    known_departments: set[str] | frozenset[str] | None,
    known_category_prefixes: frozenset[str] | None,
) -> Rule | None:
    rid = raw.get("id")
    ident = rid if isinstance(rid, str) else None
    before = len(problems)

    def bad(name: str, message: str) -> None:
        problems.append(Problem(message, index, ident, name, line))

    if "id" not in raw:
        bad("id", "required")
    values: dict[str, Any] = {}
    for key, value in raw.items():
        parser = _FIELDS.get(key)
        if parser is None:
            bad(key, f"unknown key; allowed: {', '.join(_FIELDS)}")
            continue
        try:
            values[key] = parser(value)
        except _Bad as exc:
            bad(key, str(exc))
    auto = values.get("auto", True)
    if values.get("default"):
        if not last:
            bad("default", "the default row must be the last row")
        for name in CONDITIONS:
            if name in raw:
                bad(name, "the default row must not have conditions")
    if auto and "department" not in raw:
        bad("department", "required when auto = true (the default); or set auto = false")
    if "queue" in raw and auto:
        bad("queue", "only applies with auto = false")
    if not auto:
        values.setdefault("queue", "city")
    department = values.get("department")
    if department is not None and department in values.get("co_handlers", ()):
        bad("co_handlers", f"{department!r} is already the lead department")
    if known_departments is not None:
        for name in ("department", "co_handlers"):
            codes = values.get(name, ())
            for code in (codes,) if isinstance(codes, str) else codes:
                if code not in known_departments:
                    bad(name, f"unknown department code {code!r}")
    if known_category_prefixes is not None:
        for prefix in values.get("category", ()):
            if prefix not in known_category_prefixes:
                bad("category", f"prefix {prefix!r} matches no known category")
    if len(problems) > before:
        return None
    return Rule(index=index, line=line, **values)
