"""Imports every table model so ``SQLModel.metadata`` is complete (schema creation, Alembic)."""

from engine.cases.models import Case, CaseEvent, CaseTask
from engine.city.models import Category, CityConfig, Department, Unit
from engine.users.models import ApiToken, User

__all__ = [
    "ApiToken",
    "Case",
    "CaseEvent",
    "CaseTask",
    "Category",
    "CityConfig",
    "Department",
    "Unit",
    "User",
]
