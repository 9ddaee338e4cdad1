"""Table objects built without validation (engine.records): ``from_row`` makes of a stored
case row the same Case that ``Case.model_validate`` would, with its enums, as an ORM-instrumented
(transient) object that takes assignments; ``from_valid`` adds the fields' defaults (a fresh
one from each default factory) and names a missing required field."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import inspect, select

from engine.cases.models import Case, CaseCreate, Channel, RequestType, Urgency
from engine.db import new_session
from engine.records import from_row, from_valid
from engine.users.models import Principal, Role

CASES = Case.__table__  # type: ignore[attr-defined]
OPERATOR = Principal(name="op", role=Role.operator, scope="00")
NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
REQUIRED = {
    "channel": "hotline",
    "description": "路灯不亮",
    "state": "new",
    "owning_unit": "01010101",
    "created_at": NOW,
    "updated_at": NOW,
}
case_of_row = from_row(Case)
new_case = from_valid(Case)


def stored_row(ctx) -> dict:
    """The full row of a case reported through the case service."""
    data = CaseCreate(
        channel="hotline", description="路灯不亮", grid_code="01010101", request_type="help"
    )
    case_id = ctx.cases.intake(OPERATOR, data).case.id
    with new_session(ctx.db) as session:
        found = session.execute(select(CASES).where(CASES.c.id == case_id)).mappings().one()
    return dict(found)


def test_from_row_makes_the_case_the_validator_makes(ctx):
    row = stored_row(ctx)
    built, validated = case_of_row(row), Case.model_validate(row)
    assert type(built) is Case
    assert isinstance(built.channel, Channel) and built.channel is Channel.hotline
    assert isinstance(built.urgency, Urgency)
    assert built.request_type is RequestType.help
    for name in Case.model_fields:
        assert getattr(built, name) == getattr(validated, name), name
    assert built.model_dump() == validated.model_dump()
    assert built.model_dump(exclude_unset=True) == validated.model_dump(exclude_unset=True)
    assert built.created_at.tzinfo is not None


def test_from_row_turns_enum_values_back_into_enums(ctx):
    """A driver may give an enum column as its plain string: the object holds the enum."""
    row = stored_row(ctx) | {"channel": "grid", "urgency": "urgent", "request_type": "report"}
    built = case_of_row(row)
    assert built.channel is Channel.grid and built.urgency is Urgency.urgent
    assert built.request_type is RequestType.report
    assert case_of_row(row | {"request_type": None}).request_type is None
    with pytest.raises(ValueError):
        case_of_row(row | {"channel": "carrier-pigeon"})


def test_a_built_case_is_an_instrumented_table_object(ctx):
    row = stored_row(ctx)
    built = case_of_row(row)
    assert inspect(built).transient  # no session and no identity yet
    built.state, built.card = "closed", "red"
    assert (built.state, built.card) == ("closed", "red")
    assert inspect(built).attrs.card.history.added == ["red"]
    assert built.model_dump()["state"] == "closed"
    assert row["state"] != "closed"  # the row itself is not changed
    with new_session(ctx.db) as session:  # the ORM takes it as any Case of that id
        session.merge(built)
        session.commit()
    with new_session(ctx.db) as session:
        again = session.get(Case, row["id"])
        assert (again.state, again.card) == ("closed", "red")


def test_from_valid_fills_the_defaults(ctx):
    first, second = new_case(REQUIRED), new_case(REQUIRED | {"urgency": "urgent"})
    assert type(first) is Case and first.channel is Channel.hotline
    assert first.sla_limits == {} and first.sla_limits is not second.sla_limits
    assert (first.rework_count, first.alert_count, first.version) == (0, 0, 1)
    assert first.urgency is Urgency.normal and second.urgency is Urgency.urgent
    assert first.id is None and first.external_id is None and first.audit_head == ""
    assert first.model_dump(exclude={"id"}) == Case.model_validate(REQUIRED).model_dump(
        exclude={"id"}
    )
    first.sla_limits["handle"] = "4h"
    assert second.sla_limits == {}
    with new_session(ctx.db) as session:  # a complete object the ORM can insert
        session.add(first)
        session.commit()
        assert first.id is not None
    with new_session(ctx.db) as session:
        stored = session.get(Case, first.id)
        assert stored.sla_limits == {"handle": "4h"} and stored.urgency is Urgency.normal


@pytest.mark.parametrize("missing", ["channel", "state", "owning_unit", "created_at"])
def test_from_valid_names_a_missing_required_field(missing):
    values = {name: value for name, value in REQUIRED.items() if name != missing}
    with pytest.raises(ValueError, match=rf"^Case\.{missing} is required$"):
        new_case(values)
