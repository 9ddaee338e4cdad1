"""Read a city configuration directory and store it in the database.

The directory is what a city's IT team edits; ``gridflow init`` loads it. Every problem is
reported with the file, the row and the field, before anything is written.

See docs/ARCHITECTURE.md#city-configuration.
"""

from __future__ import annotations

import csv
import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from engine.city.grids import store_grids
from engine.city.models import Category, CityConfig, Department, Tier, Unit

STAGES = ("dispatch", "accept", "handle", "verify")


class CityConfigError(ValueError):
    """A city directory that cannot be loaded; the message names file, row and field."""


@dataclass
class CityFiles:
    name: str
    settings: dict[str, Any]
    units: list[Unit]
    departments: list[Department]
    categories: list[Category]
    users: list[dict[str, Any]] = field(default_factory=list)
    demo_password: str | None = None
    rules_text: str | None = None
    grids_geojson: dict[str, Any] | None = None


def _toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise CityConfigError(f"{path}: missing") from exc
    except tomllib.TOMLDecodeError as exc:
        raise CityConfigError(f"{path.name}: not valid TOML: {exc}") from exc


def read_city(directory: Path) -> CityFiles:
    from engine.durations import parse_duration

    if not directory.is_dir():
        raise CityConfigError(f"{directory}: not a directory")
    city = _toml(directory / "city.toml")
    if not city.get("name"):
        raise CityConfigError("city.toml: 'name' is required")
    settings = {k: v for k, v in city.items() if k != "name"}
    units = _read_units(directory / "units.csv")
    codes = {u.code for u in units}
    departments = []
    for i, row in enumerate(_toml(directory / "departments.toml").get("department", []), 1):
        where = f"departments.toml: department #{i}"
        for key in ("code", "name", "unit"):
            if not row.get(key):
                raise CityConfigError(f"{where}: '{key}' is required")
        if row["unit"] not in codes:
            raise CityConfigError(f"{where} ({row['code']}): unit {row['unit']!r} is unknown")
        departments.append(
            Department(
                code=row["code"],
                name=row["name"],
                unit=row["unit"],
                webhook_url=row.get("webhook") or None,
                webhook_secret=row.get("webhook_secret") or None,
            )
        )
    cat_raw = _toml(directory / "categories.toml")
    classes = {c["code"]: c["name"] for c in cat_raw.get("class", [])}
    categories = []
    for i, row in enumerate(cat_raw.get("category", []), 1):
        where = f"categories.toml: category #{i} ({row.get('code')})"
        code = str(row.get("code", ""))
        if len(code) != 5 or not code.isdigit():
            raise CityConfigError(f"{where}: 'code' must be 5 digits")
        if code[:2] not in classes:
            raise CityConfigError(f"{where}: class {code[:2]!r} is not declared")
        limits = row.get("limits", {})
        for urgency in ("normal", "urgent"):
            for stage in STAGES:
                value = limits.get(urgency, {}).get(stage)
                try:
                    parse_duration(str(value))
                except ValueError as exc:
                    raise CityConfigError(f"{where}: limits.{urgency}.{stage}: {exc}") from exc
        categories.append(
            Category(
                code=code,
                name=row["name"],
                name_en=row.get("name_en"),
                class_code=code[:2],
                class_name=classes[code[:2]],
                default_urgency=row.get("default_urgency", "normal"),
                verification=row.get("verification", "grid"),
                limits=limits,
            )
        )
    users_raw = _toml(directory / "users.toml") if (directory / "users.toml").exists() else {}
    rules = directory / "rules.toml"
    grids = directory / "grids.geojson"
    return CityFiles(
        name=city["name"],
        settings=settings,
        units=units,
        departments=departments,
        categories=categories,
        users=users_raw.get("user", []),
        demo_password=users_raw.get("password"),
        rules_text=rules.read_text(encoding="utf-8") if rules.exists() else None,
        grids_geojson=json.loads(grids.read_text(encoding="utf-8")) if grids.exists() else None,
    )


def _read_units(path: Path) -> list[Unit]:
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh))
    except FileNotFoundError as exc:
        raise CityConfigError(f"{path}: missing") from exc
    units: dict[str, Unit] = {}
    for line, row in enumerate(rows, 2):
        where = f"units.csv line {line}"
        code, tier = (row.get("code") or "").strip(), (row.get("tier") or "").strip()
        if not code or not row.get("name"):
            raise CityConfigError(f"{where}: 'code' and 'name' are required")
        if code in units:
            raise CityConfigError(f"{where}: duplicate code {code!r}")
        try:
            tier_value = Tier(tier)
        except ValueError as exc:
            raise CityConfigError(f"{where}: tier {tier!r} is not one of {list(Tier)}") from exc
        parent = (row.get("parent") or "").strip() or None
        units[code] = Unit(code=code, name=row["name"].strip(), tier=tier_value, parent=parent)
    roots = [u for u in units.values() if u.parent is None]
    if len(roots) != 1 or roots[0].tier is not Tier.city:
        raise CityConfigError("units.csv: exactly one unit, the city, must have no parent")
    for unit in units.values():
        if unit.parent is None:
            continue
        parent = units.get(unit.parent)
        if parent is None:
            raise CityConfigError(f"units.csv: {unit.code}: parent {unit.parent!r} is unknown")
        if parent.tier.rank >= unit.tier.rank:
            raise CityConfigError(
                f"units.csv: {unit.code} ({unit.tier}) cannot sit under "
                f"{parent.code} ({parent.tier})"
            )
    # Parents first, so foreign keys hold while inserting.
    return sorted(units.values(), key=lambda u: u.tier.rank)


def store_city(session: Session, files: CityFiles) -> None:
    """Upsert the city's reference data (units, departments, categories, settings)."""
    config = session.get(CityConfig, 1) or CityConfig(id=1, name=files.name)
    config.name, config.settings = files.name, files.settings
    session.add(config)
    for rows in (files.units, files.departments, files.categories):
        for row in rows:
            session.merge(row)
        session.flush()
    if files.grids_geojson is not None:
        try:
            store_grids(session, files.grids_geojson, {u.code: u for u in files.units})
        except ValueError as exc:
            raise CityConfigError(f"grids.geojson: {exc}") from exc


def stored_city_exists(session: Session) -> bool:
    return session.exec(select(CityConfig)).first() is not None
