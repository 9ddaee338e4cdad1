"""Rows of a table as the database driver takes them, and one executemany of them.

The history import writes hundreds of thousands of rows whose values it made itself, so it
converts them for the driver once, where they are made (possibly in a worker process), and
hands the driver plain tuples. The conversion is SQLAlchemy's own (each column type's bind
processor for the dialect), except for the two types that cost the most per value and whose
form is fixed: ``UTCDateTime`` (naive UTC; on SQLite the text SQLAlchemy's DATETIME stores,
``YYYY-MM-DD HH:MM:SS.ffffff``) and, on SQLite, ``JSON`` (the dialect's JSON serializer).
``tests/test_history_bulk.py`` checks that both give what SQLAlchemy gives.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Connection, Insert, Table, insert
from sqlalchemy.engine import Dialect

from engine.db import UTCDateTime

Convert = Callable[[Any], Any] | None
KeyedRow = Callable[[tuple[Any, ...], dict[str, Any]], tuple[Any, ...]]


def sqlite_time(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def _naive_utc(value: datetime | None) -> datetime | None:
    return None if value is None else value.astimezone(UTC).replace(tzinfo=None)


def _json(dumps: Callable[[Any], str]) -> Callable[[Any], str]:
    empty = dumps({})  # most events' data: written once

    def convert(value: Any) -> str:
        return empty if value.__class__ is dict and not value else dumps(value)

    return convert


class TableRows:
    """One table's INSERT for ``keys`` (its columns, in any order) on one dialect: ``row``
    turns a dict of column values into the driver's parameters, ``row_of`` an object whose
    attributes ``attrs_of`` name them (the other keys are None); ``insert`` writes many.
    ``statement``: another INSERT of the table than the plain one (an upsert); ``lists``:
    ``row_of`` makes lists (a value can be set after, in place) instead of tuples; ``given``:
    columns whose values come as the driver takes them (no conversion)."""

    def __init__(
        self,
        table: Table,
        keys: Sequence[str],
        dialect: Dialect,
        attrs_of: frozenset[str] = frozenset(),
        statement: Insert | None = None,
        lists: bool = False,
        given: frozenset[str] = frozenset(),
    ) -> None:
        written = insert(table).inline() if statement is None else statement
        compiled = written.compile(dialect=dialect, column_keys=list(keys))
        self.sql = compiled.string
        order = compiled.positiontup if compiled.positional else list(compiled.binds)
        assert order is not None and sorted(order) == sorted(keys), (order, keys)
        self.order = tuple(order)
        self.positional = bool(compiled.positional)
        json_dumps = getattr(dialect, "_json_serializer", None) or json.dumps
        converters: list[Convert] = []
        for name in self.order:
            kind = table.c[name].type
            theirs = kind.dialect_impl(dialect).bind_processor(dialect)
            if name in given:
                converters.append(None)
            elif isinstance(kind, UTCDateTime):
                converters.append(sqlite_time if dialect.name == "sqlite" else _naive_utc)
            elif isinstance(kind, JSON) and dialect.name == "sqlite":
                converters.append(_json(json_dumps))
            else:
                converters.append(theirs)
        self.plan = tuple(zip(self.order, converters, strict=True))
        self.row = self._compiled("values[{name!r}]", "values")
        absent = frozenset(keys) - attrs_of
        self.row_of = self._compiled("item.{name}", "item", absent=absent, lists=lists)

    def _compiled(
        self, read: str, argument: str, absent: frozenset[str] = frozenset(), lists: bool = False
    ) -> Callable[[Any], Any]:
        """A function making the driver's tuple from a dict (``row``: every key present) or
        from an object's attributes (``row_of``: those in ``absent`` are None), written out
        once per table so that a row costs one call, not a loop over its columns."""
        scope: dict[str, Any] = {}
        parts = []
        for number, (name, convert) in enumerate(self.plan):
            value = "None" if name in absent else read.format(name=name)
            if convert is None or name in absent:
                parts.append(value)
            else:
                scope[f"c{number}"] = convert
                parts.append(f"c{number}({value})")
        made = f"[{', '.join(parts)}]" if lists else f"({', '.join(parts)},)"
        source = f"def make({argument}):\n    return {made}\n"
        exec(compile(source, f"<rows of {self.sql[:40]}>", "exec"), scope)
        return scope["make"]

    def keyed(self, keys: Sequence[str]) -> KeyedRow:
        """A function making the driver's tuple from a key (the values of ``keys``, in order)
        and a dict of the other columns (one it does not name is 0: counts)."""
        scope: dict[str, Any] = {}
        parts = []
        for number, (name, convert) in enumerate(self.plan):
            value = f"key[{list(keys).index(name)}]" if name in keys else f"other.get({name!r}, 0)"
            if convert is not None:
                scope[f"c{number}"] = convert
                value = f"c{number}({value})"
            parts.append(value)
        source = f"def make(key, other):\n    return ({', '.join(parts)},)\n"
        exec(compile(source, f"<keyed rows of {self.sql[:40]}>", "exec"), scope)
        return scope["make"]

    def insert(self, connection: Connection, rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        if self.positional:  # SQLAlchemy takes a list of tuples (or of dicts) only
            connection.exec_driver_sql(self.sql, [tuple(row) for row in rows])
        else:
            order = self.order
            named = [dict(zip(order, row, strict=True)) for row in rows]
            connection.exec_driver_sql(self.sql, named)


def insert_keys(table: Table) -> tuple[str, ...]:
    """Every column an INSERT of a complete row names (a generated column is the
    database's own)."""
    return tuple(column.name for column in table.columns if column.computed is None)
