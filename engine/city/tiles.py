"""The big screen's optional base map: a tile server the city runs itself (city.toml).

```toml
[board]
tile_url = "https://tiles.example.gov.cn/{z}/{x}/{y}.png"
tile_attribution = "© 示范市自然资源和规划局"
```

No ``[board]`` table, or ``tile_url = ""``: no tiles, the grids are drawn on a plain
background (government networks often have no map server at all). The URL is checked once,
when the city is read (``gridflow init``, ``gridflow config check``: engine.city.
settings_check), and read again by the board page (web/pages/board.py), which allows the
tile server's origin in its Content-Security-Policy's ``img-src`` and nothing more.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

KEYS = ("tile_url", "tile_attribution")
PLACEHOLDERS = ("{z}", "{x}", "{y}")
_PLACEHOLDER = re.compile(r"\{[^{}]*\}")
_HOST = re.compile(r"[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?")
_UNSAFE = re.compile(r"[\s\"'<>\\;,`]")  # nothing that could end an attribute or a CSP source


@dataclass(frozen=True)
class TileLayer:
    url: str  # Leaflet's URL template: {z} {x} {y}
    attribution: str  # plain text, shown in the map's corner
    origin: str  # scheme://host[:port], the one source the page's img-src adds


def tile_layer(settings: dict[str, Any]) -> TileLayer | None:
    """The configured tile layer, or None; ValueError naming the key when it is unusable."""
    board = settings.get("board", {})
    if not isinstance(board, dict):
        raise ValueError("board: [board] must be a table")
    unknown = sorted(set(board) - set(KEYS))
    if unknown:
        raise ValueError(f"board.{unknown[0]}: unknown setting (known: {', '.join(KEYS)})")
    url = board.get("tile_url", "")
    attribution = board.get("tile_attribution", "")
    if not isinstance(url, str):
        raise ValueError(f'board.tile_url: must be a URL in quotes or "", got {url!r}')
    if not isinstance(attribution, str):
        raise ValueError(f"board.tile_attribution: must be text in quotes, got {attribution!r}")
    if not url:
        return None
    return TileLayer(url=url, attribution=attribution.strip(), origin=_origin(url))


def _origin(url: str) -> str:
    def bad(why: str) -> ValueError:
        return ValueError(f"board.tile_url: {why}, got {url!r}")

    if _UNSAFE.search(url):
        raise bad("must not contain spaces, quotes, <, >, ;, or commas")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise bad("must be an http:// or https:// URL")
    if "@" in parts.netloc:
        raise bad("must not carry a user name or password")
    host = parts.hostname or ""
    if not _HOST.fullmatch(host):
        raise bad("the host must be a plain name or address (no {s} subdomains)")
    try:
        port = parts.port
    except ValueError as exc:
        raise bad("the port must be a number") from exc
    missing = [p for p in PLACEHOLDERS if p not in url]
    if missing:
        raise bad(f"must contain {{z}}, {{x}} and {{y}} (missing {' '.join(missing)})")
    others = sorted(set(_PLACEHOLDER.findall(url)) - set(PLACEHOLDERS))
    if others:
        raise bad(f"unknown placeholder {others[0]}; only {{z}}, {{x}} and {{y}} are filled in")
    return f"{parts.scheme}://{host.lower()}" + (f":{port}" if port is not None else "")
