"""The filters and paging the work lists share (dispatch queue, department inbox): the
filter values a page accepts, checked against the city and the workflow, and the page
size, at most ``settings.max_page_size``. Lists page by keyset cursors (engine/keyset.py)."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from engine.cases.models import Channel, Urgency
from engine.cases.queries import CaseFilter
from engine.city.directory import CityDirectory
from engine.errors import InvalidInput

DEFAULT_SIZE = 30
SIZES = (10, 30, 50, 100, 200)


@dataclass(frozen=True)
class ListFilters:
    category: str | None = None  # a class (2 digits) or a category (5 digits)
    channel: str | None = None
    urgency: str | None = None

    def case_filter(self, **more: object) -> CaseFilter:
        return CaseFilter(
            category=self.category, channel=self.channel, urgency=self.urgency, **more
        )

    def query(self) -> dict[str, str]:
        """The filters as query parameters (for the paging links)."""
        return {k: v for k, v in vars(self).items() if v}

    @property
    def active(self) -> bool:
        return any(vars(self).values())


def read_filters(request: Request, city: CityDirectory) -> ListFilters:
    """The list filters of the query string; an unknown value is a 422 naming the field."""
    params = request.query_params
    values: dict[str, str | None] = {}
    for name in ("category", "channel", "urgency"):
        value = (params.get(name) or "").strip()[:10] or None
        values[name] = value
    category = values["category"]
    if category and not any(code.startswith(category) for code in city.categories):
        raise InvalidInput("category", f"no category starts with {category!r}")
    if values["channel"] and values["channel"] not in {c.value for c in Channel}:
        raise InvalidInput("channel", f"unknown channel {values['channel']!r}")
    if values["urgency"] and values["urgency"] not in {u.value for u in Urgency}:
        raise InvalidInput("urgency", f"unknown urgency {values['urgency']!r}")
    return ListFilters(**values)


def page_size(request: Request, max_page_size: int) -> int:
    """``?size=`` within 1 … ``max_page_size`` (default 30)."""
    raw = request.query_params.get("size") or ""
    size = int(raw) if raw.isascii() and raw.isdigit() else DEFAULT_SIZE
    return max(1, min(size, max_page_size))


def size_choices(max_page_size: int) -> list[int]:
    return [s for s in SIZES if s <= max_page_size] or [max_page_size]


def category_classes(city: CityDirectory) -> list[tuple[str, str]]:
    """(class code, class name) of the city's categories, in code order."""
    classes = {c.class_code: c.class_name for c in city.categories.values()}
    return sorted(classes.items())
