"""Security headers on every response: a Content-Security-Policy without inline script or
style, no framing, no MIME sniffing, a same-origin Referrer-Policy, and HSTS over HTTPS.

The pages load their scripts and styles from /static only. The interactive API docs
(/docs, /redoc, web/api_docs.py) load Swagger UI and ReDoc from /static/vendor too, but both
set inline styles, ReDoc runs a worker from a blob: URL and Swagger UI shows data: images:
they get a policy of their own that allows those, still no script from anywhere but 'self'.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from web.asgi_headers import Headers, editing_headers

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "object-src 'none'"
)
DOCS_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
DOCS_PATHS = ("/docs", "/redoc")
HSTS = "max-age=31536000"

COMMON = [
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
]


def policy_for(path: str) -> str:
    docs = any(path == p or path.startswith(p + "/") for p in DOCS_PATHS)
    return DOCS_CSP if docs else CSP


class SecurityHeaders:
    """Pure ASGI middleware: adds the headers when the response starts (streams included)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = [*COMMON, (b"content-security-policy", policy_for(scope["path"]).encode())]
        if scope.get("scheme") == "https":
            extra.append((b"strict-transport-security", HSTS.encode()))

        def add(headers: Headers) -> Headers:
            present = {name.lower() for name, _ in headers}
            return [*headers, *((name, value) for name, value in extra if name not in present)]

        await self.app(scope, receive, editing_headers(send, add))
