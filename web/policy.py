"""Who may call which endpoint: one table for the API and one for the pages, enforced in one
place (an app-wide dependency) for every route.

The tables say which roles may reach a route at all. What happens to a case beyond that is
decided by the same engine code for API and pages alike: the workflow lists the roles that
may take each action (workflows/standard.toml) and ``engine.access`` limits every role to
its scope (a case outside it is a 404, so existence does not leak). A route missing from
this table is refused, and a test fails on it.
"""

from __future__ import annotations

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from engine.errors import Forbidden
from engine.users.models import PERSON_ROLES, Role
from web.deps import get_principal
from web.pages import sessions
from web.pages.views import PageForbidden

OP, D, H, G, S, A = (
    Role.operator,
    Role.dispatcher,
    Role.handler,
    Role.grid_worker,
    Role.supervisor,
    Role.admin,
)
EVERYONE = frozenset(PERSON_ROLES)
KB_READERS = frozenset({OP, D, H, S, A})  # the desks that read the knowledge base
PUBLIC = None  # no token needed (health, login, Open311's public reads: its spec's api_key)

ROUTES: dict[tuple[str, str], frozenset[Role] | None] = {
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/metrics"): PUBLIC,  # restrict to the monitoring network at the proxy
    ("POST", "/api/v1/auth/token"): PUBLIC,
    # Cases: the workflow and the caller's scope decide the rest.
    ("POST", "/api/v1/cases"): frozenset({OP, D, G, A}),
    ("POST", "/api/v1/cases/batch"): frozenset({OP, D, G, A}),
    ("GET", "/api/v1/cases"): EVERYONE,
    ("GET", "/api/v1/cases/{case_id}"): EVERYONE,
    ("POST", "/api/v1/cases/{case_id}/actions/{action}"): EVERYONE,
    ("POST", "/api/v1/cases/{case_id}/contact"): EVERYONE,
    ("GET", "/api/v1/cases/{case_id}/events"): EVERYONE,
    ("GET", "/api/v1/cases/{case_id}/sla"): EVERYONE,
    ("GET", "/api/v1/cases/{case_id}/dispatch"): EVERYONE,
    ("GET", "/api/v1/cases/{case_id}/review"): EVERYONE,
    # Channels.
    ("POST", "/api/v1/intake/hotline"): frozenset({OP, D, A}),
    ("POST", "/api/v1/intake/hotline/batch"): frozenset({OP, D, A}),
    ("POST", "/api/v1/intake/video"): frozenset({OP, D, A}),
    ("POST", "/api/v1/intake/grid"): frozenset({G}),
    ("GET", "/api/v1/intake/grid/tasks"): frozenset({G}),
    ("POST", "/api/v1/attachments"): EVERYONE,
    ("GET", "/api/v1/attachments/{ref}"): EVERYONE,
    # Open311 (XML at the bare name and .xml, JSON at .json): POST checks its api_key.
    **{
        (method, f"/open311/v2/{name}{ext}"): PUBLIC
        for method, name in [
            ("GET", "discovery"),
            ("GET", "services"),
            ("GET", "requests"),
            ("POST", "requests"),
            ("GET", "servicerequestupdates"),
        ]
        for ext in ("", ".{format}")
    },
    ("GET", "/open311/v2/services/{service_code}"): PUBLIC,
    ("GET", "/open311/v2/requests/{request_id}"): PUBLIC,
    ("GET", "/open311/v2/tokens/{token}"): PUBLIC,
    # Anything else under /open311/v2 answers in the spec's error format.
    **{(method, "/open311/v2/{rest}"): PUBLIC for method in ("GET", "POST", "PUT", "DELETE")},
    # Dispatch and supervision.
    ("GET", "/api/v1/dispatch/queue"): frozenset({D, S, A}),
    ("GET", "/api/v1/inbox"): frozenset({H}),  # a department's 待办箱
    ("GET", "/api/v1/supervision"): frozenset({D, S, A}),
    ("GET", "/api/v1/board"): frozenset({D, S, A}),  # the board's answer (engine.views)
    ("GET", "/api/v1/rules"): frozenset({D, S, A}),
    ("GET", "/api/v1/rules/versions"): frozenset({D, S, A}),
    ("GET", "/api/v1/rules/versions/{version}"): frozenset({D, S, A}),
    ("POST", "/api/v1/rules/check"): frozenset({D, S, A}),
    ("PUT", "/api/v1/rules"): frozenset({A}),
    ("GET", "/api/v1/kpis"): frozenset({OP, D, H, S, A}),
    ("GET", "/api/v1/kpis.xlsx"): frozenset({OP, D, H, S, A}),
    ("GET", "/api/v1/kpis/definitions"): EVERYONE,
    ("GET", "/api/v1/kpis/intake"): frozenset({OP, D, S, A}),  # 直办率 (web/api/kpis.py)
    # The working calendar: everyone reads it; admins keep it.
    ("GET", "/api/v1/calendar/overrides"): EVERYONE,
    ("GET", "/api/v1/calendar/days"): EVERYONE,
    ("PUT", "/api/v1/calendar/overrides"): frozenset({A}),
    ("PUT", "/api/v1/calendar/overrides/{day}"): frozenset({A}),
    ("DELETE", "/api/v1/calendar/overrides/{day}"): frozenset({A}),
    # Administration.
    ("GET", "/api/v1/admin/users"): frozenset({A}),
    ("POST", "/api/v1/admin/users"): frozenset({A}),
    ("PATCH", "/api/v1/admin/users/{user_id}"): frozenset({A}),
    ("GET", "/api/v1/admin/tokens"): frozenset({A}),
    ("POST", "/api/v1/admin/tokens"): frozenset({A}),
    ("DELETE", "/api/v1/admin/tokens/{token_id}"): frozenset({A}),
    ("GET", "/api/v1/admin/incidents"): frozenset({A}),
    ("POST", "/api/v1/admin/incidents/{timer_id}/retry"): frozenset({A}),
    ("POST", "/api/v1/admin/incidents/{timer_id}/dismiss"): frozenset({A}),
    ("GET", "/api/v1/admin/outbox"): frozenset({A}),
    ("POST", "/api/v1/admin/outbox/{message_id}/redeliver"): frozenset({A}),
    # The knowledge base: administrators keep every article, handlers their department's
    # (engine.knowledge.access decides which); the desks read published ones.
    ("GET", "/api/v1/knowledge/search"): KB_READERS,
    ("GET", "/api/v1/knowledge/articles"): KB_READERS,
    ("GET", "/api/v1/knowledge/articles/{article_id}"): KB_READERS,
    ("GET", "/api/v1/knowledge/articles/{article_id}/versions"): KB_READERS,
    ("GET", "/api/v1/knowledge/articles/{article_id}/versions/{version}"): KB_READERS,
    ("POST", "/api/v1/knowledge/articles"): frozenset({H, A}),
    ("PUT", "/api/v1/knowledge/articles/{article_id}"): frozenset({H, A}),
    ("GET", "/api/v1/knowledge/review"): frozenset({H, A}),
    **{
        ("POST", f"/api/v1/knowledge/articles/{{article_id}}/{step}"): frozenset({H, A})
        for step in ("submit", "publish", "reject", "expire")
    },
    ("POST", "/api/v1/knowledge/flags"): frozenset({D, H, S, A}),  # from a case they see
    ("POST", "/api/v1/knowledge/answers"): frozenset({OP}),  # 直接答复 (the workflow's role)
    ("POST", "/api/v1/classifier/suggest"): frozenset({OP, D, A}),  # the classifier's top 3
    ("GET", "/api/v1/admin/classifier/accuracy"): frozenset({A}),  # weekly, on confirmed cases
}

# The pages (web/pages): the signed-in person's role, from their page session. What a page
# shows or does beyond that is decided by the same engine rules and scopes as the API.
INTAKE, BOARD = frozenset({OP, D, A}), frozenset({D, S, A})
PAGES: dict[tuple[str, str], frozenset[Role] | None] = {
    ("GET", "/login"): PUBLIC,
    ("POST", "/login"): PUBLIC,
    ("POST", "/logout"): EVERYONE,
    ("GET", "/"): EVERYONE,
    ("GET", "/cases"): EVERYONE,
    ("GET", "/cases/{case_id}"): EVERYONE,
    ("POST", "/cases/{case_id}/act/{action}"): EVERYONE,  # the workflow decides the action
    ("GET", "/files/{ref}"): EVERYONE,  # the photo's cases decide (engine.attachments)
    ("GET", "/intake"): INTAKE,
    ("GET", "/intake/caller-history"): INTAKE,  # the intake page's 来电历史, as typed
    ("POST", "/intake"): INTAKE,
    ("POST", "/intake/suggest"): INTAKE,
    ("GET", "/dispatch"): frozenset({D, A}),
    ("GET", "/approvals"): frozenset({D, S}),
    ("GET", "/favicon.ico"): PUBLIC,
    ("GET", "/inbox"): frozenset({H}),
    ("GET", "/grid"): frozenset({G}),
    ("GET", "/grid/sw.js"): PUBLIC,  # the grid page's service worker: code, no data
    # The knowledge base's pages (web/pages/knowledge.py): the desks read, keepers keep.
    ("GET", "/knowledge"): KB_READERS,
    ("GET", "/knowledge/panel"): KB_READERS,  # the intake panel's matches
    ("GET", "/knowledge/{article_id}"): KB_READERS,
    ("POST", "/knowledge/answer"): frozenset({OP}),  # 直接答复
    ("GET", "/knowledge/review"): frozenset({H, A}),
    ("GET", "/knowledge/new"): frozenset({H, A}),
    ("POST", "/knowledge/new"): frozenset({H, A}),
    ("POST", "/knowledge/{article_id}"): frozenset({H, A}),
    ("POST", "/knowledge/{article_id}/{step}"): frozenset({H, A}),
    ("POST", "/grid/report"): frozenset({G}),
    **{("GET", path): BOARD for path in ("/board", "/board/stream", "/board/chart.svg")},
    **{("GET", path): BOARD for path in ("/board/map.svg", "/board/export.xlsx")},
    **{("GET", path): BOARD for path in ("/board/grids.json", "/board/data.json")},
    ("GET", "/board/kpis.json"): BOARD,
    **{("GET", path): frozenset({S, A}) for path in ("/kpis", "/kpis/export.xlsx")},  # KPIs
    **{
        (method, path): frozenset({A})
        for method, path in [
            ("GET", "/admin"),
            ("GET", "/admin/departments"),
            ("GET", "/admin/users"),
            ("POST", "/admin/users"),
            ("POST", "/admin/users/{user_id}/active"),
            ("POST", "/admin/users/{user_id}/scope"),
            ("POST", "/admin/tokens"),
            ("POST", "/admin/tokens/{token_id}/revoke"),
            ("GET", "/admin/rules"),
            ("POST", "/admin/rules/check"),
            ("POST", "/admin/rules/activate"),
            ("POST", "/admin/rules/backtest"),  # replays closed cases; writes nothing
            ("GET", "/admin/calendar"),
            ("POST", "/admin/calendar"),
            ("POST", "/admin/calendar/{day}/delete"),
            ("GET", "/admin/outbox"),
            ("POST", "/admin/outbox/{message_id}/redeliver"),
            ("GET", "/admin/incidents"),
            ("POST", "/admin/incidents/{timer_id}/{what}"),
        ]
    },
}
# Served outside the routes' dependencies: static files and the API documentation.
UNGUARDED = frozenset({"/static", "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"})
API_PATHS = ("/api/", "/open311/", "/healthz", "/metrics")

# Open311 authenticates a filing by the spec's ``api_key`` (a gridflow token), not a header.
OPEN311_FILERS = frozenset({OP, D, A})


async def authorize(request: Request) -> None:
    """The app-wide dependency: the caller's role must be listed for the matched route (a
    bearer token's on the API, the page session's on pages)."""
    route = request.scope.get("route")
    path = getattr(route, "path_format", None)  # as documented: "{id}", not "{id:int}"
    page = path is not None and not path.startswith(API_PATHS)
    key = (request.method, path or "")
    table = PAGES if page else ROUTES
    if key not in table:
        raise Forbidden(f"{request.method} {path} is not in the authorization table")
    roles = table[key]
    if roles is PUBLIC:
        return
    if page:
        person = await page_session(request)
        if person.principal.role not in roles:
            raise PageForbidden
        return
    principal = await get_principal(request, request.app.state.ctx)
    if principal.role not in roles:
        raise Forbidden(f"role '{principal.role}' may not {request.method} {path}")


async def page_session(request: Request) -> sessions.PageSession:
    """The signed-in person of a page request, read once (the page's own dependency asks
    again); none sends them to the login page."""
    known = getattr(request.state, "page_session", None)
    if known is None:
        known = await run_in_threadpool(sessions.current, request.app.state.ctx, request)
        if known is None:
            raise sessions.LoginRequired
        request.state.page_session = known
    return known
