"""What intake checks before a case is written: the report's fields against the city (known
category and grid, lat with lng) and the unit it will belong to, which the filer must be
allowed to file at (engine.access.may_file_at)."""

from __future__ import annotations

from engine import access
from engine.cases.hooks import Locator
from engine.cases.models import CaseCreate
from engine.city.directory import CityDirectory
from engine.errors import Forbidden, InvalidInput
from engine.users.models import Principal


def owning_unit(data: CaseCreate, city: CityDirectory, locator: Locator | None) -> str:
    """Validate against the city; return the owning unit (the grid, or where the location
    falls, or the city itself)."""
    if data.category is not None and data.category not in city.categories:
        raise InvalidInput("category", f"unknown category {data.category!r}")
    if (data.lat is None) != (data.lng is None):
        raise InvalidInput("lat" if data.lat is None else "lng", "lat and lng come together")
    if data.grid_code is not None:
        if data.grid_code not in city.units:
            raise InvalidInput("grid_code", f"unknown grid {data.grid_code!r}")
        return data.grid_code
    located = locator(data, city) if locator else None
    return located or city.root


def filing_unit(
    principal: Principal, data: CaseCreate, city: CityDirectory, locator: Locator | None
) -> str:
    """The unit a new case of ``data`` belongs to, once ``principal`` may file there: a place
    outside the caller's scope is refused (Forbidden) naming the field to change."""
    unit = owning_unit(data, city, locator)
    if access.may_file_at(principal, unit, city):
        return unit
    field = "grid_code" if data.grid_code is not None or data.lat is None else "lat"
    where = "" if principal.scope is None else f" ({principal.scope})"
    reason = f"the case would belong to {unit}, outside your area{where}"
    if unit == city.root and data.grid_code is None:
        reason += ": give grid_code, or lat/lng inside your area"
    raise Forbidden(f"{field}: {reason}", [{"field": field, "reason": reason}])
