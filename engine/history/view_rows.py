"""The read models' rows of an imported batch, made where its cases are replayed.

A worker process adds each replayed case's facts to a ``Tally`` (engine.views.tally: the
rebuild's own rules) and turns the chunk's sums into the driver's tuples here
(``engine.history.bulk``), sorted by key; the writing process then runs one executemany per
read-model table: the counts added to the stored rows of their keys (an upsert), the
per-case rows inserted (the cases are new).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection
from sqlalchemy.engine import Dialect

from engine.history.bulk import KeyedRow, TableRows, insert_keys
from engine.views import statements
from engine.views.tally import COUNTED, PER_CASE, Tally

# One table's rows as the driver takes them: (table name, tuples).
Made = list[tuple[str, list[tuple[Any, ...]]]]


class ViewRows:
    """The read-model tables' statements on one dialect, compiled once (before the worker
    processes start: they inherit them)."""

    def __init__(self, dialect: Dialect) -> None:
        self.tables: dict[str, TableRows] = {}
        self.keyed: dict[str, KeyedRow] = {}
        self.keys: dict[str, tuple[str, ...]] = {}
        for table, keys in COUNTED:
            adding = statements.upsert_statement(dialect.name, table, keys, add=True)
            rows = TableRows(table, insert_keys(table), dialect, statement=adding)
            self.tables[table.name] = rows
            self.keyed[table.name] = rows.keyed(keys)
        for table, keys in PER_CASE:
            self.tables[table.name] = TableRows(table, insert_keys(table), dialect)
            self.keys[table.name] = keys

    def made(self, tally: Tally) -> Made:
        """The tally's rows as the driver takes them, each table's in key order (one lock
        order for every writer)."""
        found: Made = []
        for table, _, facts in tally.counted():
            if facts:
                make = self.keyed[table.name]
                found.append((table.name, [make(key, facts[key]) for key in sorted(facts)]))
        for table, rows in tally.per_case():
            if rows:
                keys = self.keys[table.name]
                rows.sort(key=lambda row: tuple(row[k] for k in keys))
                make = self.tables[table.name].row
                found.append((table.name, [make(row) for row in rows]))
        return found

    def write(self, connection: Connection, made: Made) -> None:
        """One executemany per table, in the batch's transaction."""
        for name, rows in made:
            self.tables[name].insert(connection, rows)
