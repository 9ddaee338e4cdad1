"""The org tree as a picker: every unit in tree order with its depth, so a select can show
市 › 区 › 街道 › 社区 › 网格 indented instead of asking for a code."""

from __future__ import annotations

from engine.city.directory import CityDirectory

INDENT = "\u3000"  # a full-width space per level


def unit_options(
    city: CityDirectory, top: str | None = None, max_depth: int = 5
) -> list[tuple[str, str]]:
    """(code, indented name) of ``top`` (default: the city) and every unit below it, parents
    before children, siblings in code order."""
    children: dict[str, list[str]] = {}
    for unit in city.units.values():
        if unit.parent is not None:
            children.setdefault(unit.parent, []).append(unit.code)
    out: list[tuple[str, str]] = []
    stack = [(top or city.root, 0)]
    while stack:
        code, depth = stack.pop()
        out.append((code, INDENT * depth + city.units[code].name))
        if depth < max_depth:
            stack.extend((c, depth + 1) for c in sorted(children.get(code, ()), reverse=True))
    return out
