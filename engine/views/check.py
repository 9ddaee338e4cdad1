"""Check the kept read models against a rebuild from the audit trail, naming each difference.

The rebuilt counts go to temporary tables and are compared with the kept ones in SQL; the
per-case rows (lights, late runs, escalations) are compared chunk by chunk
(engine.views.rebuild). See docs/READ_SIDE.md#rebuild-and-check.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Column, Connection, MetaData, Table, and_, or_, select

from engine.calendar import WorkCalendar
from engine.cases.workflow import Workflow
from engine.city.directory import CityDirectory
from engine.views.facts import OPEN, OPEN_KEY
from engine.views.rebuild import COUNT_TABLES, COUNTED, Progress, Rebuilder, add_counts
from engine.views.tally import PER_CASE

# Compared with a tolerance: sums of floats that the two ways add in another order.
APPROXIMATE = {"working_seconds": 1e-3}


def check(
    conn: Connection,
    city: CityDirectory,
    workflow: Workflow,
    calendar: WorkCalendar,
    now: datetime,
    progress: Progress | None = None,
) -> list[str]:
    """Every difference between the kept read models and a rebuild, each named. The rebuilt
    counts go to temporary tables, compared with the kept ones in SQL."""
    builder = Rebuilder(conn, city, workflow, calendar, now)
    found: list[str] = []
    scratch = [_scratch(conn, table) for table in COUNT_TABLES]
    try:
        for chunk in builder.chunks():
            for table, keys in PER_CASE:
                kept = conn.execute(select(table).where(table.c.case_id.in_(chunk.case_ids)))
                found += differences(
                    table.name, keys, list(kept.mappings()), chunk.rows[table.name]
                )
            add_counts(conn, builder.result, scratch)
            if progress is not None:
                progress(len(chunk.case_ids))
        for (kept, keys, _), rebuilt in zip(COUNTED, scratch, strict=True):
            found += _count_differences(conn, kept, rebuilt, keys)
    finally:
        for rebuilt in scratch:
            rebuilt.drop(conn)
    builder.open_counts()
    kept_open = [dict(r) for r in conn.execute(select(OPEN).where(OPEN.c.cases != 0)).mappings()]
    found += differences(OPEN.name, OPEN_KEY, kept_open, builder.result.open_rows())
    return found


def _scratch(conn: Connection, table: Table) -> Table:
    """An empty temporary table shaped as ``table``."""
    columns = [Column(c.name, c.type, primary_key=c.primary_key) for c in table.columns]
    scratch = Table(f"rebuilt_{table.name}", MetaData(), *columns, prefixes=["TEMPORARY"])
    # A pooled connection may keep one from a check whose transaction rolled its drop back.
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {scratch.name}")
    scratch.create(conn)
    return scratch


def _count_differences(
    conn: Connection, kept: Table, rebuilt: Table, keys: tuple[str, ...]
) -> list[str]:
    """The kept count rows that differ from the rebuilt ones, or that only one side has."""
    on = and_(*(kept.c[k] == rebuilt.c[k] for k in keys))
    counts = [c.name for c in kept.columns if c.name not in keys]
    marker = rebuilt.c[keys[0]].label("rebuilt_key")
    theirs = [rebuilt.c[c].label(f"rebuilt_{c}") for c in counts]
    changed = (
        select(kept, marker, *theirs)
        .select_from(kept.outerjoin(rebuilt, on))
        .where(
            or_(*(kept.c[c] != 0 for c in counts)),
            or_(marker.is_(None), *(kept.c[c] != rebuilt.c[c] for c in counts)),
        )
    )
    found = []
    for row in conn.execute(changed).mappings():
        name = f"{kept.name} {'/'.join(str(_plain(row[k])) for k in keys)}"
        if row["rebuilt_key"] is None:
            found.append(f"{name}: extra (not in the audit trail)")
            continue
        for c in counts:
            if row[c] != row[f"rebuilt_{c}"]:
                found.append(f"{name}: {c} kept {row[c]!r}, rebuilt {row[f'rebuilt_{c}']!r}")
    missing = (
        select(rebuilt).select_from(rebuilt.outerjoin(kept, on)).where(kept.c[keys[0]].is_(None))
    )
    for row in conn.execute(missing).mappings():
        name = f"{kept.name} {'/'.join(str(_plain(row[k])) for k in keys)}"
        found.append(f"{name}: missing (the audit trail has it)")
    return sorted(found)


def differences(
    table: str,
    keys: tuple[str, ...],
    kept: list[Any],
    rebuilt: list[dict[str, Any]],
) -> list[str]:
    """``table key: column kept X, rebuilt Y`` for each differing value; a row only one side
    has is named as missing or extra."""
    kept_by = {tuple(_plain(row[k]) for k in keys): row for row in kept}
    rebuilt_by = {tuple(_plain(row[k]) for k in keys): row for row in rebuilt}
    found = []
    for key in sorted(kept_by.keys() | rebuilt_by.keys(), key=str):
        name = f"{table} {'/'.join(str(part) for part in key)}"
        mine, theirs = kept_by.get(key), rebuilt_by.get(key)
        if mine is None:
            found.append(f"{name}: missing (the audit trail has it)")
        elif theirs is None:
            found.append(f"{name}: extra (not in the audit trail)")
        else:
            for column, value in theirs.items():
                if column in keys or _same(column, mine[column], value):
                    continue
                found.append(f"{name}: {column} kept {mine[column]!r}, rebuilt {value!r}")
    return found


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date | datetime) else value


def _same(column: str, kept: Any, rebuilt: Any) -> bool:
    tolerance = APPROXIMATE.get(column)
    if tolerance is not None and kept is not None and rebuilt is not None:
        return abs(kept - rebuilt) <= tolerance
    if isinstance(kept, datetime) and isinstance(rebuilt, datetime):
        return abs((kept - rebuilt).total_seconds()) < 1e-3
    return kept == rebuilt
