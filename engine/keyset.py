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

from sqlalchemy import ColumnElement, and_, false, or_, select, tuple_, union_all

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


def partitioned_ids(
    session: Any,
    keyset: Keyset,
    partitions: Sequence[Sequence[Any]],
    head_values: Sequence[Any],
    cursor: str | None,
    limit: int,
) -> list[int]:
    """The ids of the first ``limit`` rows after ``cursor`` in ``keyset`` order, where the
    rows are the union of ``partitions`` (lists of equality conditions). ``keyset``'s first
    key takes one of a few ``head_values`` (listed in the list's order); its other keys are
    all ascending or all descending, the last the id. Each partition × head value is one
    index walk already in
    order, stopping at ``limit`` rows (an index on the partition's columns, the head, then
    the tail); the walks go out as one UNION ALL and are merged here. A list filtered by
    several values (IN) and sorted would otherwise sort every matching row for each page."""
    head, tail = keyset.keys[0], keyset.keys[1:]
    backwards = tail[0].descending
    assert all(k.descending == backwards for k in tail), "the tail keys go one way"
    after = keyset.decode(cursor) if cursor is not None else None
    rank = {value: i for i, value in enumerate(head_values)}
    if after is not None and after[0] not in rank:
        raise InvalidInput(FIELD, "does not belong to this list")
    walks = []
    for conditions in partitions:
        for value in head_values:
            where = [*conditions, head.column == value]
            if after is not None:
                if rank[value] < rank[after[0]]:
                    continue  # this head value comes wholly before the cursor
                if value == after[0]:
                    keys, seen = tuple_(*(k.column for k in tail)), tuple_(*after[1:])
                    where.append(keys < seen if backwards else keys > seen)
            walk = (
                select(*(k.column.label(k.name) for k in keyset.keys))
                .where(*where)
                .order_by(*(k.order() for k in tail))
                .limit(limit)
            )
            walks.append(select(walk.subquery()))
    if not walks:
        return []
    rows = session.execute(union_all(*walks) if len(walks) > 1 else walks[0]).all()
    names = [k.name for k in tail]
    rows.sort(key=lambda row: tuple(row._mapping[n] for n in names), reverse=backwards)
    rows.sort(key=lambda row: rank[row._mapping[head.name]])  # stable: the tail's order kept
    return [row._mapping[tail[-1].name] for row in rows[:limit]]
