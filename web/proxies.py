"""Who is on the other end: the connecting address, or what a trusted reverse proxy says.

``X-Forwarded-For`` and ``X-Forwarded-Proto`` are believed only from the addresses and
networks in ``GRIDFLOW_TRUSTED_PROXIES`` (default: none), by uvicorn's own middleware
installed in the app itself, so the app sees the same client and scheme under any server
and in tests. The scheme decides the Secure cookie flag and HSTS; the client address keys
the login throttle.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware


def install(app: FastAPI, trusted_proxies: list[str]) -> None:
    """Add last, so it runs first: every other layer sees the forwarded client and scheme."""
    if trusted_proxies:
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=trusted_proxies)


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"
