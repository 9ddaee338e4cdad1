"""HEAD on the pages answers as GET does, without the body (RFC 9110 §9.3.2): link checkers,
uptime probes and proxies ask HEAD, and FastAPI routes a ``@router.get`` page for GET only
(405 before). One generic step instead of a HEAD on every page route: a HEAD request to a
page path goes through the app as a GET, so the routes, the fail-closed policy
(web/policy.py: the GET row decides) and the page itself run unchanged, and only the
response's headers go out. The API, Open311 and the static files keep their own handling.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

NOT_PAGES = ("/api/", "/open311/", "/static/", "/healthz", "/metrics")


class HeadAsGet:
    """ASGI middleware: HEAD on a page path is served as GET, the body left out."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != "HEAD"
            or str(scope["path"]).startswith(NOT_PAGES)
        ):
            await self.app(scope, receive, send)
            return
        done = False

        async def headers_only(message: Message) -> None:
            nonlocal done
            if message["type"] != "http.response.body":
                await send(message)  # the status and headers, Content-Length as for GET
                return
            if not done:  # the body's first part ends the answer; the rest is dropped
                done = True
                await send({"type": "http.response.body", "body": b"", "more_body": False})

        await self.app(dict(scope, method="GET"), receive, headers_only)
