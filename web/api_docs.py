"""The interactive API documentation (/docs: Swagger UI, /redoc: ReDoc), served entirely from
the app's own static files so it works on an intranet without Internet access.

The assets are vendored in web/static/vendor (versions and licences in its README.md).
Swagger UI is started by a static script (vendor/swagger-init.js) instead of FastAPI's inline
one, so the docs' Content-Security-Policy allows scripts from 'self' only.
"""

from __future__ import annotations

from html import escape

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html
from fastapi.responses import HTMLResponse

VENDOR = "/static/vendor"
SWAGGER_JS = f"{VENDOR}/swagger-ui/swagger-ui-bundle.js"
SWAGGER_CSS = f"{VENDOR}/swagger-ui/swagger-ui.css"
SWAGGER_INIT = f"{VENDOR}/swagger-init.js"
REDOC_JS = f"{VENDOR}/redoc/redoc.standalone.js"
FAVICON = f"{VENDOR}/swagger-ui/favicon-32x32.png"


def swagger_page(title: str, openapi_url: str) -> str:
    return f"""<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link type="text/css" rel="stylesheet" href="{SWAGGER_CSS}">
<link rel="icon" href="{FAVICON}">
<title>{escape(title)}</title>
</head>
<body>
<div id="swagger-ui" data-openapi-url="{escape(openapi_url)}"></div>
<script src="{SWAGGER_JS}"></script>
<script src="{SWAGGER_INIT}"></script>
</body>
</html>
"""


def install(app: FastAPI) -> None:
    """Add /docs and /redoc; the app is created with FastAPI's own (CDN) docs turned off."""
    openapi_url = app.openapi_url or "/openapi.json"
    swagger = swagger_page(f"{app.title} - Swagger UI", openapi_url)
    redoc = get_redoc_html(
        openapi_url=openapi_url,
        title=f"{app.title} - ReDoc",
        redoc_js_url=REDOC_JS,
        redoc_favicon_url=FAVICON,
        with_google_fonts=False,
    ).body.decode()

    async def swagger_ui(_: Request) -> HTMLResponse:
        return HTMLResponse(swagger)

    async def redoc_ui(_: Request) -> HTMLResponse:
        return HTMLResponse(redoc)

    # Plain routes, as FastAPI adds its own docs: outside the API's authorization dependency
    # (web/policy.py UNGUARDED) and the OpenAPI schema.
    app.add_route("/docs", swagger_ui, include_in_schema=False)
    app.add_route("/redoc", redoc_ui, include_in_schema=False)
