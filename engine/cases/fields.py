"""Validate and normalise the fields an action carries, by the workflow's field types."""

from __future__ import annotations

from typing import Any

from engine.cases.workflow import SLA_STAGES, FieldSpec, TransitionSpec
from engine.city.directory import CityDirectory
from engine.db import MAX_ID
from engine.durations import parse_duration
from engine.errors import InvalidInput

MAX_TEXT = 4000
MAX_LIST = 20


def clean_fields(
    action: str,
    specs: list[TransitionSpec],
    fields: dict[str, FieldSpec],
    data: dict[str, Any],
    city: CityDirectory,
) -> dict[str, Any]:
    allowed = {name for spec in specs for name in spec.fields}
    required = {name for spec in specs for name in spec.requires}
    clean: dict[str, Any] = {}
    for name, value in data.items():
        if name not in allowed:
            reason = f"not a field of '{action}'; its fields are {sorted(allowed) or 'none'}"
            raise InvalidInput(name, reason)
        if value is None or value == "" or value == []:
            continue
        clean[name] = _clean(fields[name], value, city)
    for name in sorted(required):
        if name not in clean:
            raise InvalidInput(name, f"required for '{action}'")
    return clean


def _clean(spec: FieldSpec, value: Any, city: CityDirectory) -> Any:
    name, kind = spec.name, spec.type
    if kind == "text":
        if not isinstance(value, str) or not value.strip():
            raise InvalidInput(name, "must be non-empty text")
        if len(value) > MAX_TEXT:
            raise InvalidInput(name, f"at most {MAX_TEXT} characters")
        return value.strip()
    if kind == "bool":
        if not isinstance(value, bool):
            raise InvalidInput(name, "must be true or false")
        return value
    if kind == "choice":
        if value not in spec.choices:
            raise InvalidInput(name, f"must be one of {list(spec.choices)}")
        return value
    if kind == "department":
        if not isinstance(value, str) or value not in city.departments:
            raise InvalidInput(name, f"unknown department {value!r}")
        return value
    if kind in ("departments", "photos"):
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise InvalidInput(name, "must be a list of strings")
        if len(value) > MAX_LIST:
            raise InvalidInput(name, f"at most {MAX_LIST} items")
        if kind == "departments":
            unknown = [v for v in value if v not in city.departments]
            if unknown:
                raise InvalidInput(name, f"unknown departments {unknown}")
            return list(dict.fromkeys(value))
        if any(len(v) > 300 for v in value):
            raise InvalidInput(name, "each reference at most 300 characters")
        return value
    if kind == "case":
        if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_ID:
            raise InvalidInput(name, "must be a case id")
        return value
    if kind == "duration":
        try:
            return str(parse_duration(str(value)))
        except ValueError as exc:
            raise InvalidInput(name, str(exc)) from exc
    if kind == "unit":
        if not isinstance(value, str) or value not in city.units:
            raise InvalidInput(name, f"unknown unit {value!r}")
        return value
    if kind == "limits":
        return _clean_limits(name, value)
    if kind == "probability":
        return _probability(name, value)
    if kind == "ranked":
        return _clean_ranked(name, value)
    raise InvalidInput(name, f"unsupported field type {kind}")  # pragma: no cover


def _clean_limits(name: str, value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        raise InvalidInput(name, "must be an object of stage → duration")
    clean = {}
    for stage, text in value.items():
        if stage not in SLA_STAGES:
            raise InvalidInput(f"{name}.{stage}", f"not a stage; stages are {list(SLA_STAGES)}")
        try:
            clean[stage] = str(parse_duration(str(text)))
        except ValueError as exc:
            raise InvalidInput(f"{name}.{stage}", str(exc)) from exc
    return clean


def _probability(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise InvalidInput(name, "must be a number from 0 to 1")
    return float(value)


def _clean_ranked(name: str, value: Any) -> list[dict[str, Any]]:
    """``[{"label": "HW-01", "confidence": 0.91}, …]``, best first."""
    if not isinstance(value, list) or len(value) > MAX_LIST:
        raise InvalidInput(name, f"must be a list of at most {MAX_LIST} labels")
    clean = []
    for i, item in enumerate(value):
        label = item.get("label") if isinstance(item, dict) else None
        if not isinstance(label, str) or not label or len(label) > 64:
            raise InvalidInput(f"{name}.{i}", "needs a label (text, at most 64 characters)")
        clean.append(
            {"label": label, "confidence": _probability(f"{name}.{i}", item.get("confidence"))}
        )
    return clean
