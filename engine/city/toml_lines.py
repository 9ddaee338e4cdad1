"""Where a key sits in a TOML file, for error messages that name the line.

``tomllib`` returns plain values without positions, so the line is found by scanning the text
for the table header and the key. Good enough for hand-edited configuration: a key that the
scan cannot place (built from inline tables, say) gets its enclosing table's line, or none.
"""

from __future__ import annotations

import re

_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"""^\s*("[^"]*"|'[^']*'|[A-Za-z0-9_\-.]+)\s*=""")


def _plain(key: str) -> str:
    key = key.strip()
    if len(key) >= 2 and key[0] == key[-1] and key[0] in "\"'":
        return key[1:-1]
    return key


def _header_path(inner: str) -> tuple[str, ...]:
    return tuple(_plain(part) for part in inner.split("."))


def key_line(text: str, path: tuple[str, ...], item: int | None = None) -> int | None:
    """The 1-based line of ``path`` (e.g. ``("sla", "yellow_at")``).

    ``item`` picks the ``item``-th (1-based) ``[[path[0]]]`` entry of an array of tables, the
    rest of ``path`` being a key inside it."""
    table: tuple[str, ...] = ()
    seen_items = 0
    best: int | None = None  # the line of the deepest table header on the path so far
    best_depth = -1
    for number, line in enumerate(text.splitlines(), 1):
        header = _HEADER.match(line)
        if header is not None:
            table = _header_path(header.group(2))
            if header.group(1) == "[[" and table == path[:1]:
                seen_items += 1
            if item is not None and seen_items != item:
                continue
            if path[: len(table)] == table and len(table) > best_depth:
                best, best_depth = number, len(table)
            continue
        match = _KEY.match(line)
        if match is None or (item is not None and seen_items != item):
            continue
        if path[: len(table)] != table:
            continue
        rest = path[len(table) :]
        if rest and _header_path(match.group(1))[0] == rest[0]:
            return number
    return best
