"""The private SQLAlchemy attributes the fast path (engine.prepared) reads, each checked for
the shape the fast path relies on: a SQLAlchemy release that changes one fails here, naming
it, instead of failing every write. The way out is GRIDFLOW_FAST_PATH=0 (plain
``Connection.execute``) until engine/prepared.py is adapted."""

from __future__ import annotations

import inspect
from collections.abc import Callable

import pytest
from sqlalchemy import Integer, bindparam, create_engine, select
from sqlalchemy.engine import Connection
from sqlalchemy.types import TypeEngine

from engine.cases.models import Case
from engine.prepared import PRIVATE_API

CASES = Case.__table__  # type: ignore[attr-defined]


def compiled_select():
    statement = select(CASES.c.id, CASES.c.state).where(CASES.c.id == bindparam("case_id"))
    return statement.compile(dialect=create_engine("sqlite://").dialect)


def parameters(function) -> list[str]:
    return list(inspect.signature(function).parameters)


def handle_dbapi_exception() -> None:
    found = parameters(Connection._handle_dbapi_exception)[:6]
    assert found == ["self", "e", "statement", "parameters", "cursor", "context"], found


def connection_has_events() -> None:
    with create_engine("sqlite://").connect() as connection:
        assert isinstance(connection._has_events, bool)


def engine_has_events() -> None:
    assert isinstance(create_engine("sqlite://")._has_events, bool)


def bind_processors() -> None:
    compiled = compiled_select()
    processors = compiled._bind_processors
    assert isinstance(processors, dict), type(processors)
    assert set(processors) <= set(compiled.bind_names.values()), "not keyed by bind name"
    assert all(callable(processor) for processor in processors.values())


def result_columns() -> None:
    entries = compiled_select()._result_columns
    assert [len(entry) for entry in entries] == [4, 4], "no longer 4-tuples"
    key, _name, _objects, type_ = entries[1]
    assert (entries[0][0], key) == ("id", "state"), "the first item is not the key"
    assert isinstance(entries[0][3], Integer) and isinstance(type_, TypeEngine), "no type"


def cached_result_processor() -> None:
    assert parameters(TypeEngine._cached_result_processor) == ["self", "dialect", "coltype"]


CHECKS: dict[str, Callable[[], None]] = {
    "Connection._handle_dbapi_exception": handle_dbapi_exception,
    "Connection._has_events": connection_has_events,
    "Engine._has_events": engine_has_events,
    "SQLCompiler._bind_processors": bind_processors,
    "SQLCompiler._result_columns": result_columns,
    "TypeEngine._cached_result_processor": cached_result_processor,
}


def test_every_private_attribute_of_the_fast_path_has_a_check():
    assert set(PRIVATE_API) == set(CHECKS)


@pytest.mark.parametrize("attribute", PRIVATE_API)
def test_private_attribute_keeps_its_shape(attribute):
    try:
        CHECKS[attribute]()
    except (AssertionError, AttributeError, TypeError, ValueError) as exc:
        pytest.fail(
            f"SQLAlchemy's {attribute} changed ({exc!r}): adapt engine/prepared.py, "
            "or run with GRIDFLOW_FAST_PATH=0 meanwhile"
        )


@pytest.mark.parametrize(
    "name", ["bind_names", "positiontup", "escaped_bind_names", "insert_prefetch", "binds"]
)
def test_compiler_attributes_the_fast_path_binds_with_exist(name):
    assert hasattr(compiled_select(), name), f"SQLCompiler.{name} is gone"
