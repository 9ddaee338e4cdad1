"""Dates and times as the API documents them: ISO 8601 text only.

Pydantic's lax mode also reads a number as a Unix time (``0`` is 1970-01-01), which the
OpenAPI schema (``format: date`` / ``date-time``) does not promise; these types refuse it,
so the server accepts exactly what its schema declares.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any

from pydantic import AwareDatetime, BeforeValidator

DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# RFC 3339: date, "T", time with seconds, optional fraction, "Z" or an offset.
DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")


def _iso_date(value: Any) -> Any:
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not DATE.fullmatch(value):
        raise ValueError("a date as YYYY-MM-DD")
    return value


def _iso_date_time(value: Any) -> Any:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        value = value.upper()  # RFC 3339 allows "t" and "z"
        if DATE_TIME.fullmatch(value):
            return value
    raise ValueError("a date and time with its offset, e.g. 2026-03-02T09:00:00+08:00")


IsoDate = Annotated[date, BeforeValidator(_iso_date)]
IsoDateTime = Annotated[AwareDatetime, BeforeValidator(_iso_date_time)]
