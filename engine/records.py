"""Table objects built from values that were validated already, without validating again.

``Model.model_validate(row)`` runs every field's validation and then sets each attribute
through the ORM's instrumentation: about 70 µs for a case, more than reading its row. A row
the database returned was valid when it was written, and a new case's fields were validated
as its ``CaseCreate``; so ``from_row`` only turns the enum columns back into their enums and
fills the object the way the ORM's own loader does, and ``from_valid`` adds the defaults.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable
from enum import Enum
from typing import Any, TypeVar

from sqlalchemy.orm.instrumentation import manager_of_class
from sqlmodel import SQLModel

M = TypeVar("M", bound=SQLModel)


def _enum_of(annotation: Any) -> type[Enum] | None:
    """The enum type of ``E`` or ``E | None``, else None."""
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return annotation
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        found = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        if len(found) == 1:
            return _enum_of(found[0])
    return None


def from_row(model: type[M]) -> Callable[[dict[str, Any]], M]:
    """A function making a transient ``model`` object (in no session) of a full row of its
    table."""
    manager = manager_of_class(model)
    enums = {
        name: enum
        for name, field in model.model_fields.items()
        if (enum := _enum_of(field.annotation))
    }
    put = object.__setattr__

    def build(row: dict[str, Any]) -> M:
        values = dict(row)
        for name, enum in enums.items():
            value = values.get(name)
            if value is not None:
                values[name] = enum(value)
        found = manager.new_instance()
        put(found, "__pydantic_fields_set__", set(values))
        put(found, "__pydantic_extra__", None)
        put(found, "__pydantic_private__", None)
        found.__dict__.update(values)
        return found  # type: ignore[no-any-return]

    return build


def from_valid(model: type[M]) -> Callable[[dict[str, Any]], M]:
    """A function making a ``model`` object of values validated already (a Create model's
    fields and the caller's own), the fields not given taking their defaults."""
    build = from_row(model)
    fields = model.model_fields

    def make(values: dict[str, Any]) -> M:
        row = {}
        for name, info in fields.items():
            if name in values:
                row[name] = values[name]
            elif info.is_required():
                raise ValueError(f"{model.__name__}.{name} is required")
            else:
                row[name] = info.get_default(call_default_factory=True)
        found = build(row)
        object.__setattr__(found, "__pydantic_fields_set__", set(values) & fields.keys())
        return found

    return make
