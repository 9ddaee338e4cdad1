"""Hot statements run on the driver's cursor: compiled once per dialect, bound by hand.

Every execution through SQLAlchemy's Core costs about 20 µs of Python on top of the driver's
own (cache key, execution context, result wrapping): a quarter of a case step's CPU went
there. A ``Prepared`` statement is still written as a Core statement, so the SQL and the
type conversions stay SQLAlchemy's for every dialect: it is compiled once per dialect, its
parameters go through the same bind processors, its result columns through the same result
processors, and an error goes through the connection's own handling (an ``IntegrityError``
stays one, a lost connection is invalidated). Listeners of the engine's
``before_cursor_execute`` and ``after_cursor_execute`` events still see each statement (with
no execution context). What it gives up is what the write path does not use: expanding
``IN`` lists, Python column defaults (an INSERT names every column it writes:
``rowbuffer.columns_of``; an UPDATE of a column with ``onupdate`` is refused), the engine's
echo log, and the ORM's autoflush (the row buffer flushes itself; a caller whose ORM objects
changed flushes the session first).

It runs on the connection's current transaction, as ``connection.execute`` would.

The fast path reads private SQLAlchemy attributes (``PRIVATE_API``; SQLAlchemy is pinned below
its next minor release and ``tests/test_prepared_internals.py`` checks each of them). With
``GRIDFLOW_FAST_PATH=0`` (``Settings.fast_path``) the same statements run through plain
``Connection.execute`` instead, with the same refusals and the same results: the way out if a
release changes them. See docs/ARCHITECTURE.md#the-write-path.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement

from engine.settings import get_settings

# What the fast path uses of SQLAlchemy that is not public API (each checked by the tests).
PRIVATE_API = (
    "Connection._handle_dbapi_exception",  # (e, statement, parameters, cursor, context)
    "Connection._has_events",
    "Engine._has_events",
    "SQLCompiler._bind_processors",  # bind name → processor
    "SQLCompiler._result_columns",  # (keyname, name, objects, type_) per result column
    "TypeEngine._cached_result_processor",  # (dialect, coltype)
)


def fast_path() -> bool:
    """Whether statements run on the driver's cursor (else through ``Connection.execute``)."""
    return get_settings().fast_path


Processor = Callable[[Any], Any] | None


@dataclass(slots=True)
class _Form:
    """The statement as one dialect runs it."""

    sql: str
    positional: bool
    # Parameters in order: the caller's name, the name in the SQL (escaped), the converter.
    binds: tuple[tuple[str, str, Processor], ...]
    constants: dict[str, Any]  # the values the statement was written with (``x == 3``)
    columns: tuple[tuple[str, Any], ...]  # result column keys, with their types
    readers: tuple[tuple[str, Processor], ...] | None = None  # … and converters, once known

    def bind(self, params: dict[str, Any]) -> Sequence[Any] | dict[str, Any]:
        if self.constants:
            params = self.constants | params
        if self.positional:
            return tuple(
                params[name] if convert is None else convert(params[name])
                for name, _, convert in self.binds
            )
        return {
            key: params[name] if convert is None else convert(params[name])
            for name, key, convert in self.binds
        }

    def rows(
        self, dialect: Dialect, cursor: Any, found: list[Sequence[Any]]
    ) -> list[dict[str, Any]]:
        readers = self.readers
        if readers is None:  # a driver's converter may depend on the type it reports
            codes = [column[1] for column in cursor.description]
            readers = self.readers = tuple(
                (key, type_._cached_result_processor(dialect, code))
                for (key, type_), code in zip(self.columns, codes, strict=True)
            )
        return [
            {
                key: value if convert is None else convert(value)
                for (key, convert), value in zip(readers, values, strict=True)
            }
            for values in found
        ]


class Prepared:
    """A Core statement run on the driver's cursor. ``keys`` names the parameters of an
    INSERT without values (its columns), as ``connection.execute`` would learn them."""

    def __init__(self, statement: ClauseElement, keys: Iterable[str] | None = None) -> None:
        self.statement = statement
        self.keys = None if keys is None else list(keys)
        self._forms: dict[tuple[str, str], _Form] = {}
        self._checked: set[tuple[str, str]] = set()

    def rowcount(self, connection: Connection, params: dict[str, Any]) -> int:
        """Run once; the number of rows it changed."""
        if not fast_path():
            return self._plain(connection, params).rowcount
        cursor = self._run(connection, params)
        try:
            return cursor.rowcount
        finally:
            cursor.close()

    def many(self, connection: Connection, rows: list[dict[str, Any]]) -> None:
        """Run once per row, as one executemany."""
        if not fast_path():
            self._plain(connection, rows)
            return
        self._run(connection, rows, many=True).close()

    def first(self, connection: Connection, params: dict[str, Any]) -> dict[str, Any] | None:
        """The first result row as a dict of column key → value, or None."""
        found = self._read(connection, params, one=True)
        return found[0] if found else None

    def all(self, connection: Connection, params: dict[str, Any]) -> list[dict[str, Any]]:
        """Every result row as a dict of column key → value."""
        return self._read(connection, params, one=False)

    def _read(
        self, connection: Connection, params: dict[str, Any], one: bool
    ) -> list[dict[str, Any]]:
        if not fast_path():
            found = self._plain(connection, params).mappings()
            rows = [found.first()] if one else found.all()
            return [dict(row) for row in rows if row is not None]
        cursor = self._run(connection, params)
        try:
            if one:
                first = cursor.fetchone()
                found = [] if first is None else [first]
            else:
                found = cursor.fetchall()
            if not found:
                return []
            return self._form(connection.dialect).rows(connection.dialect, cursor, found)
        finally:
            cursor.close()

    def _plain(self, connection: Connection, params: Any) -> Any:
        """The statement through ``Connection.execute``, refused as the fast path refuses."""
        kind = (connection.dialect.name, connection.dialect.driver)
        if kind not in self._checked:
            self._check(self._compiled(connection.dialect))
            self._checked.add(kind)
        return connection.execute(self.statement, params)

    def _run(self, connection: Connection, params: Any, many: bool = False) -> Any:
        """The driver's cursor after running the statement (the caller closes it)."""
        form = self._form(connection.dialect)
        if not connection.in_transaction():
            connection.begin()  # as ``connection.execute`` would: its commit() keeps this
        cursor = connection.connection.cursor()
        try:
            self._guard(connection, cursor, form, params, many)
        except BaseException:
            cursor.close()
            raise
        return cursor

    @staticmethod
    def _guard(connection: Connection, cursor: Any, form: _Form, params: Any, many: bool) -> None:
        """Bind ``params`` and run on ``cursor``, telling the engine's statement listeners, if
        it has any. An error goes through the connection's own handling, as in Core: wrapped
        as SQLAlchemy's exception, and a lost connection invalidated."""
        sql, bound = form.sql, params
        try:
            bound = [form.bind(row) for row in params] if many else form.bind(params)
            heard = connection._has_events or connection.engine._has_events
            if heard:
                connection.dispatch.before_cursor_execute(
                    connection, cursor, sql, bound, None, many
                )
            if many:
                cursor.executemany(sql, bound)
            else:
                cursor.execute(sql, bound)
            if heard:
                connection.dispatch.after_cursor_execute(connection, cursor, sql, bound, None, many)
        except BaseException as error:
            connection._handle_dbapi_exception(error, sql, bound, cursor, None)

    def _form(self, dialect: Dialect) -> _Form:
        kind = (dialect.name, dialect.driver)
        form = self._forms.get(kind)
        if form is None:
            form = self._forms[kind] = self._compile(dialect)
        return form

    def _compiled(self, dialect: Dialect) -> Any:
        return self.statement.compile(
            dialect=dialect, column_keys=self.keys, for_executemany=self.keys is not None
        )

    def _check(self, compiled: Any) -> None:
        """Refuse what binding by hand would get wrong."""
        if any(bind.expanding for bind in compiled.binds.values()):
            raise ValueError("a prepared statement takes no expanding IN parameters")
        if compiled.isinsert and self.keys is not None:
            # Core would compute the Python default of a column left out; this would bind NULL.
            missing = [c.name for c in compiled.insert_prefetch if c.name not in self.keys]
            if missing:
                raise ValueError(f"a prepared INSERT needs a value for {', '.join(missing)}")
        if compiled.isupdate and compiled.update_prefetch:
            computed = ", ".join(c.name for c in compiled.update_prefetch)
            raise ValueError(f"a prepared UPDATE does not compute the onupdate of {computed}")

    def _compile(self, dialect: Dialect) -> _Form:
        compiled = self._compiled(dialect)
        self._check(compiled)
        processors = compiled._bind_processors
        named = compiled.bind_names  # BindParameter → its name
        names = compiled.positiontup if compiled.positional else list(dict.fromkeys(named.values()))
        escaped = compiled.escaped_bind_names or {}  # name → as the SQL spells it
        constants = {
            name: bind.effective_value for bind, name in named.items() if not bind.required
        }
        columns = tuple((key, type_) for key, _name, _objects, type_ in compiled._result_columns)
        return _Form(
            sql=compiled.string,
            positional=compiled.positional,
            binds=tuple((name, escaped.get(name, name), processors.get(name)) for name in names),
            constants=constants,
            columns=columns,
        )
