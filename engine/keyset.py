"""Keyset pagination (docs/SEARCH.md#lookups-search-and-pagination): a list sorted by a few
columns, the last of them unique, continues after the last row shown instead of skipping
``offset`` rows, so page 100 costs what page 1 costs and rows inserted meanwhile neither
repeat nor vanish.

A cursor is opaque to clients: base64url of the list's name and the sort key of the last
row. A cursor of another list, or one that does not decode, is bad input naming ``cursor``.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, false, or_

from engine.errors import InvalidInput

FIELD = "cursor"
_TIME = "$t"


@dataclass(frozen=True)
class SortKey:
    """One column of a list's order; ``descending`` for newest-first style orders."""

    name: str  # the attribute of the row the value is read from
    column: Any  # the SQL column (or expression) it sorts by
    descending: bool = False

    def order(self) -> Any:
        return self.column.desc() if self.descending else self.column.asc()


@dataclass(frozen=True)
class Keyset:
    """A list's order: its name (a cursor names the list it belongs to) and its sort keys,
    the last of which must be unique (the row id)."""

    name: str
    keys: tuple[SortKey, ...]

    def order_by(self) -> list[Any]:
        return [key.order() for key in self.keys]

    def after(self, cursor: str | None) -> ColumnElement[bool] | None:
        """The WHERE clause selecting the rows after ``cursor`` (None: from the start)."""
        if cursor is None:
            return None
        values = self.decode(cursor)
        clauses = []
        for depth, key in enumerate(self.keys):
            equal = [k.column == v for k, v in zip(self.keys[:depth], values, strict=False)]
            value = values[depth]
            if value is None:  # NULLs sort apart; keys of a keyset are never NULL
                raise InvalidInput(FIELD, "does not belong to this list")
            beyond = key.column < value if key.descending else key.column > value
            clauses.append(and_(*equal, beyond))
        return or_(*clauses) if clauses else false()

    def cursor(self, row: Any) -> str:
        values = [_plain(getattr(row, key.name)) for key in self.keys]
        payload = json.dumps({"l": self.name, "k": values}, separators=(",", ":"))
        return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")

    def next_cursor(self, rows: Sequence[Any], limit: int) -> str | None:
        """The cursor of the page after ``rows``, or None when this page is the last."""
        return self.cursor(rows[-1]) if rows and len(rows) >= limit else None

    def decode(self, cursor: str) -> list[Any]:
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
            payload = json.loads(raw)
            name, values = payload["l"], payload["k"]
        except (binascii.Error, ValueError, TypeError, KeyError) as exc:
            raise InvalidInput(FIELD, "is not a cursor this API gave out") from exc
        if name != self.name or not isinstance(values, list) or len(values) != len(self.keys):
            raise InvalidInput(FIELD, "belongs to another list")
        try:
            return [_typed(value) for value in values]
        except (TypeError, ValueError) as exc:
            raise InvalidInput(FIELD, "is not a cursor this API gave out") from exc


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return {_TIME: value.isoformat()}
    if hasattr(value, "value"):  # an enum member
        return value.value
    return value


def _typed(value: Any) -> Any:
    if isinstance(value, dict):
        return datetime.fromisoformat(value[_TIME])
    if value is None or isinstance(value, str | int | float):
        return value
    raise TypeError(type(value).__name__)
