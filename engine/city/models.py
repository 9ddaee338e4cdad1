"""Reference-data tables: the five-tier org tree, departments and the category catalogue."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy import JSON
from sqlmodel import Field, SQLModel


class Tier(StrEnum):
    city = "city"
    district = "district"
    street = "street"
    community = "community"
    grid = "grid"

    @property
    def rank(self) -> int:
        """0 for city … 4 for grid: a smaller rank is a higher tier."""
        return list(Tier).index(self)


class UnitBase(SQLModel):
    code: str = Field(primary_key=True, max_length=32)
    name: str = Field(max_length=100)
    tier: Tier
    parent: str | None = Field(default=None, foreign_key="unit.code", max_length=32)


class Unit(UnitBase, table=True):
    pass


class DepartmentBase(SQLModel):
    code: str = Field(primary_key=True, max_length=32)
    name: str = Field(max_length=100)
    unit: str = Field(foreign_key="unit.code", max_length=32, index=True)


class Department(DepartmentBase, table=True):
    webhook_url: str | None = Field(default=None, max_length=500)
    webhook_secret: str | None = Field(default=None, max_length=200)


class CategoryBase(SQLModel):
    code: str = Field(primary_key=True, min_length=5, max_length=5)
    name: str = Field(max_length=100)
    name_en: str | None = Field(default=None, max_length=200)
    class_code: str = Field(max_length=2, index=True)
    class_name: str = Field(max_length=100)
    default_urgency: str = Field(default="normal", max_length=10)
    verification: str = Field(default="grid", max_length=10)


class Category(CategoryBase, table=True):
    # {"normal": {"dispatch": "2wh", ...}, "urgent": {...}}
    limits: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)


class CityConfig(SQLModel, table=True):
    """The city's settings from city.toml (one row): zone, work windows, channels, SLA."""

    __tablename__ = "city_config"

    id: int = Field(default=1, primary_key=True)
    name: str = Field(max_length=100)
    settings: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
