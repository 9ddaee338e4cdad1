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

from engine.city.grids import check_grids, store_grids
from engine.city.models import Category, CityConfig, Department, Tier, Unit
from engine.city.toml_lines import key_line

STAGES = ("dispatch", "accept", "handle", "verify")


class CityConfigError(ValueError):
    """A city directory that cannot be loaded; each problem names file, line and field."""

    def __init__(self, *problems: str) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


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
    warnings: list[str] = field(default_factory=list)


def where(file: str, line: int | None, key: str | None = None) -> str:
    """``"city.toml line 6, field 'timezone'"``: the place a problem is reported at."""
    place = f"{file} line {line}" if line is not None else file
    return f"{place}, field {key!r}" if key else place


def _toml(path: Path) -> tuple[dict[str, Any], str]:
    try:
        text = path.read_text(encoding="utf-8").removeprefix("\ufeff")
    except FileNotFoundError as exc:
        raise CityConfigError(f"{path.name}: missing (expected at {path})") from exc
    except UnicodeDecodeError as exc:
        raise CityConfigError(f"{path.name}: not UTF-8 text ({exc.reason})") from exc
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as exc:
        raise CityConfigError(f"{path.name}: not valid TOML: {exc}") from exc


def read_city(directory: Path) -> CityFiles:
    """Read and check every file of a city directory; raise listing every problem found."""
    if not directory.is_dir():
        raise CityConfigError(f"{directory}: not a directory")
    problems: list[str] = []

    def attempt(read: Any, *args: Any) -> Any:
        try:
            return read(*args)
        except CityConfigError as exc:
            problems.extend(exc.problems)
            return None

    city = attempt(_read_settings, directory / "city.toml")
    units = attempt(_read_units, directory / "units.csv")
    codes = {u.code for u in units} if units is not None else None
    departments = attempt(_read_departments, directory / "departments.toml", codes)
    categories = attempt(_read_categories, directory / "categories.toml")
    users = attempt(_read_users, directory / "users.toml")
    grids = attempt(_read_grids, directory / "grids.geojson", units)
    rules_text = attempt(_read_rules, directory / "rules.toml", departments, categories)
    if problems:
        raise CityConfigError(*problems)
    name, settings, warnings = city
    return CityFiles(
        name=name,
        settings=settings,
        units=units,
        departments=departments,
        categories=categories,
        users=users[0],
        demo_password=users[1],
        rules_text=rules_text,
        grids_geojson=grids,
        warnings=warnings,
    )


def _read_settings(path: Path) -> tuple[str, dict[str, Any], list[str]]:
    from engine.city.settings_check import check_settings

    city, text = _toml(path)
    if not isinstance(city.get("name"), str) or not city["name"].strip():
        raise CityConfigError(f"{where('city.toml', key_line(text, ('name',)), 'name')}: required")
    settings = {k: v for k, v in city.items() if k != "name"}
    warnings = check_settings(settings, text)
    return city["name"], settings, warnings


def _read_departments(path: Path, units: set[str] | None) -> list[Department]:
    raw, text = _toml(path)
    problems, departments, seen = [], [], set()
    for i, row in enumerate(raw.get("department", []), 1):
        place = f"departments.toml: department #{i}"

        def at(key: str, i: int = i) -> str:
            return where("departments.toml", key_line(text, ("department", key), item=i), key)

        missing = [key for key in ("code", "name", "unit") if not row.get(key)]
        if missing:
            problems.extend(f"{at(key)}: required ({place})" for key in missing)
            continue
        if row["code"] in seen:
            problems.append(f"{at('code')}: duplicate code {row['code']!r}")
        seen.add(row["code"])
        if units is not None and row["unit"] not in units:
            problems.append(f"{at('unit')}: unit {row['unit']!r} is not in units.csv")
        webhook = row.get("webhook") or None
        if webhook is not None and not str(webhook).startswith(("http://", "https://")):
            problems.append(f'{at("webhook")}: must be an http(s) URL or ""')
        departments.append(
            Department(
                code=row["code"],
                name=row["name"],
                unit=row["unit"],
                webhook_url=webhook,
                webhook_secret=row.get("webhook_secret") or None,
            )
        )
    if problems:
        raise CityConfigError(*problems)
    return departments


def _read_categories(path: Path) -> list[Category]:
    from engine.durations import parse_duration

    raw, text = _toml(path)
    classes = {str(c.get("code")): c.get("name", "") for c in raw.get("class", [])}
    problems, categories, seen = [], [], set()
    for i, row in enumerate(raw.get("category", []), 1):

        def at(key: str, i: int = i) -> str:
            return where("categories.toml", key_line(text, ("category", key), item=i), key)

        code = str(row.get("code", ""))
        if len(code) != 5 or not code.isascii() or not code.isdigit():
            problems.append(f"{at('code')}: {code!r} must be 5 digits (category #{i})")
            continue
        if code in seen:
            problems.append(f"{at('code')}: duplicate code {code!r}")
        seen.add(code)
        if code[:2] not in classes:
            problems.append(f"{at('code')}: class {code[:2]!r} is not declared ([[class]])")
            continue
        if not row.get("name"):
            problems.append(f"{at('name')}: required (category {code})")
        if row.get("default_urgency", "normal") not in ("normal", "urgent"):
            problems.append(f"{at('default_urgency')}: must be 'normal' or 'urgent'")
        if row.get("verification", "grid") not in ("grid", "callback", "both", "none"):
            problems.append(f"{at('verification')}: must be grid, callback, both or none")
        limits = row.get("limits", {})
        for urgency in ("normal", "urgent"):
            for stage in STAGES:
                value = limits.get(urgency, {}).get(stage)
                try:
                    parse_duration(str(value))
                except ValueError as exc:
                    path = ("category", "limits", urgency, stage)
                    line = key_line(text, path, item=i)
                    problems.append(
                        f"{where('categories.toml', line, f'limits.{urgency}.{stage}')}: "
                        f"category {code}: {exc}"
                    )
        categories.append(
            Category(
                code=code,
                name=row.get("name", ""),
                name_en=row.get("name_en"),
                class_code=code[:2],
                class_name=classes[code[:2]],
                default_urgency=row.get("default_urgency", "normal"),
                verification=row.get("verification", "grid"),
                limits=limits,
            )
        )
    if problems:
        raise CityConfigError(*problems)
    return categories


def _read_users(path: Path) -> tuple[list[dict[str, Any]], str | None]:
    from engine.users.models import Role

    if not path.exists():
        return [], None
    raw, text = _toml(path)
    users = raw.get("user", [])
    problems = []
    roles = [str(r) for r in Role]
    for i, row in enumerate(users, 1):
        line = key_line(text, ("user", "role"), item=i)
        if not row.get("username"):
            problems.append(f"{where('users.toml', line, 'username')}: required (user #{i})")
        if str(row.get("role")) not in roles:
            problems.append(f"{where('users.toml', line, 'role')}: must be one of {roles}")
    if problems:
        raise CityConfigError(*problems)
    return users, raw.get("password")


def _read_grids(path: Path, units: list[Unit] | None) -> dict[str, Any] | None:
    if not path.exists():
        return None
    try:
        geojson = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CityConfigError(f"grids.geojson: not valid JSON: {exc}") from exc
    try:
        if units is not None:
            check_grids(geojson, {u.code: u for u in units})
    except ValueError as exc:
        raise CityConfigError(f"grids.geojson: {exc}") from exc
    return geojson


def _read_rules(
    path: Path, departments: list[Department] | None, categories: list[Category] | None
) -> str | None:
    """The rule table's text, once it parses and its static check has no errors."""
    from engine.rules.check import check_table
    from engine.rules.table import RuleTableError, parse_table

    if not path.exists():
        return None
    text = path.read_text(encoding="utf-8")
    known_deps = {d.code for d in departments} if departments is not None else None
    known_cats = {c.code for c in categories} if categories is not None else None
    try:
        table = parse_table(text, known_deps, known_cats)
    except RuleTableError as exc:
        raise CityConfigError(*(f"rules.toml: {p}" for p in exc.problems)) from exc
    errors = [f for f in check_table(table, known_deps, known_cats) if f.severity == "error"]
    if errors:
        raise CityConfigError(*(f"rules.toml: [{f.code}] {f.message}" for f in errors))
    return text


def _read_units(path: Path) -> list[Unit]:
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh))
    except FileNotFoundError as exc:
        raise CityConfigError(f"units.csv: missing (expected at {path})") from exc
    except UnicodeDecodeError as exc:
        raise CityConfigError(f"units.csv: not UTF-8 text ({exc.reason})") from exc
    problems: list[str] = []
    units: dict[str, Unit] = {}
    lines: dict[str, int] = {}
    for line, row in enumerate(rows, 2):
        code, tier = (row.get("code") or "").strip(), (row.get("tier") or "").strip()
        missing = [key for key, value in (("code", code), ("name", row.get("name"))) if not value]
        if missing:
            problems.extend(f"{where('units.csv', line, key)}: required" for key in missing)
            continue
        if code in units:
            problems.append(f"{where('units.csv', line, 'code')}: duplicate code {code!r}")
            continue
        try:
            tier_value = Tier(tier)
        except ValueError:
            problems.append(
                f"{where('units.csv', line, 'tier')}: {tier!r} is not one of "
                f"{[str(t) for t in Tier]}"
            )
            continue
        parent = (row.get("parent") or "").strip() or None
        units[code] = Unit(code=code, name=row["name"].strip(), tier=tier_value, parent=parent)
        lines[code] = line
    roots = [u for u in units.values() if u.parent is None]
    if len(roots) != 1 or roots[0].tier is not Tier.city:
        problems.append("units.csv, field 'parent': exactly one unit, the city, must have none")
    for unit in units.values():
        if unit.parent is None:
            continue
        at = where("units.csv", lines[unit.code], "parent")
        parent = units.get(unit.parent)
        if parent is None:
            problems.append(f"{at}: {unit.code}: parent {unit.parent!r} is unknown")
        elif parent.tier.rank >= unit.tier.rank:
            problems.append(
                f"{at}: {unit.code} ({unit.tier}) cannot sit under {parent.code} ({parent.tier})"
            )
    if problems:
        raise CityConfigError(*problems)
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


def other_city(session: Session, files: CityFiles) -> str | None:
    """The city stored in the database when it is not the one in ``files`` (by name or by
    the code of the city unit), else None."""
    config = session.get(CityConfig, 1)
    if config is None:
        return None
    root = session.exec(select(Unit).where(Unit.parent == None)).first()  # noqa: E711
    new_root = next(u.code for u in files.units if u.parent is None)
    if config.name != files.name or (root is not None and root.code != new_root):
        stored = f"{config.name}, city unit {root.code}" if root is not None else config.name
        return stored
    return None
