"""The grid worker's phone page (360 px): report on site with a photo and the location,
and the on-site checks to do (核实 / 核查) with pass or fail and a photo."""

from __future__ import annotations

import uuid
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from markupsafe import Markup
from pydantic import ValidationError
from sqlmodel import Session, col, select
from starlette.concurrency import run_in_threadpool

from adapters import grid
from engine.cases import queries
from engine.cases.models import Case, CaseEvent, Channel
from engine.city.grids import CityGrid
from engine.db import new_session
from engine.errors import GridflowError
from engine.users.models import Principal, Role
from web.deps import Ctx
from web.pages import sessions
from web.pages.form_errors import refusal_words, validation_words
from web.pages.forms import save_photos
from web.pages.grid_map import worker_map
from web.pages.i18n import MESSAGES, language, translator
from web.pages.templating import PageUser
from web.pages.views import View, error_status, page, require_role

router = APIRouter(include_in_schema=False)

SERVICE_WORKER = Path(__file__).resolve().parent.parent / "static" / "grid_sw.js"
FIELDS = ("category", "description", "lat", "lng", "address", "result")

GRID_OFFLINE_MESSAGES: dict[str, dict[str, str]] = {
    "outbox_title": {"zh": "待发送", "en": "To send"},
    "outbox_hint": {
        "zh": "没有信号时提交的报告保存在本机，联网后自动发送。",
        "en": "Reports submitted with no signal are kept on this phone and sent when the "
        "network returns.",
    },
    "outbox_send": {"zh": "立即发送", "en": "Send now"},
    "outbox_remove": {"zh": "删除", "en": "Delete"},
    "outbox_waiting": {"zh": "待发送", "en": "Waiting to send"},
    "outbox_sending": {"zh": "发送中", "en": "Sending"},
    "outbox_sent": {"zh": "已发送，案件 #{id}", "en": "Sent: case #{id}"},
    "outbox_failed": {"zh": "发送失败：{reason}", "en": "Not sent: {reason}"},
    "outbox_kept": {
        "zh": "无网络：报告已保存在本机，联网后自动发送",
        "en": "No network: the report is kept on this phone and sent when the network returns",
    },
    "outbox_no_network": {"zh": "网络中断，联网后重试", "en": "no network, retried when back"},
    "outbox_expired": {
        "zh": "登录已过期，请重新登录后再打开本页，报告仍保存在本机",
        "en": "your login has expired: log in again and reopen this page; the report is "
        "still kept on this phone",
    },
    "outbox_server": {
        "zh": "服务器暂时无法处理（{status}），稍后自动重试",
        "en": "the server could not take it ({status}); retried later",
    },
    "outbox_no_storage": {
        "zh": "本机无法保存报告（浏览器不支持离线存储）",
        "en": "this phone cannot keep the report (no offline storage in the browser)",
    },
}
MESSAGES.update(GRID_OFFLINE_MESSAGES)  # the offline outbox's text, next to the others


def _grid_page(
    request: Request, ctx: Ctx, user: sessions.PageSession, status_code: int = 200, **values: object
) -> Response:
    with new_session(ctx.db) as session:
        tasks = grid.verification_tasks(session, user.principal, ctx.city, 50)
        tasks = [(a, c) for a, c in tasks if not _checked(session, a, c)]
        row = session.get(CityGrid, 1)
    title = translator(language(request))("map_here")
    drawn = worker_map(row.geojson if row else {}, ctx.city, user.principal.scope, title)
    values.setdefault("form", {})
    values.setdefault("report_id", uuid.uuid4().hex)  # a resend of this report is the same case
    return page(
        request, ctx, "grid/grid.html", user, status_code, tasks=tasks,
        category_groups=category_groups(ctx), area_map=Markup(drawn), **values,
    )  # fmt: skip


def category_groups(ctx: Ctx) -> list[tuple[str, list]]:
    """The categories by class (大类), in code order: the picker's option groups."""
    groups: dict[str, list] = {}
    for category in sorted(ctx.city.categories.values(), key=lambda c: c.code):
        groups.setdefault(category.class_name, []).append(category)
    return list(groups.items())


def _checked(session: Session, action: str, case: Case) -> bool:
    """A resolved case whose 核查 passed this round (it waits for its 回访 now)."""
    if action != "verify":
        return False
    query = (
        select(CaseEvent.action, CaseEvent.data)
        .where(CaseEvent.case_id == case.id, col(CaseEvent.action).in_(("resolve", "verify")))
        .order_by(col(CaseEvent.seq).desc())
        .limit(1)
    )
    latest = session.exec(query).first()
    return latest is not None and latest[0] == "verify" and bool(latest[1].get("passed"))


def _filed_before(ctx: Ctx, principal: Principal, report_id: str) -> int | None:
    """The case an earlier POST of ``report_id`` made (a resend from the phone's outbox whose
    first answer was lost): answered at once, its photos not stored a second time."""
    wanted = queries.CaseFilter(channel=Channel.grid, external_id=report_id)
    with new_session(ctx.db) as session:
        found, _ = queries.list_cases(session, principal, ctx.city, wanted, 1)
    return found[0].id if found else None


@router.get("/grid", response_class=HTMLResponse)
def grid_home(request: Request, ctx: Ctx, user: PageUser) -> Response:
    require_role(user, {Role.grid_worker})
    return _grid_page(request, ctx, user)


@router.get("/grid/sw.js")
def service_worker() -> FileResponse:
    """The script that opens /grid with no signal (web/static/grid_sw.js, docs/PAGES.md).
    Served here, not from /static, with the scopes it is registered for allowed: /grid (the
    page and its files) and /login (where a login ends and the kept page is forgotten). Code
    only, no one's data: public, so the /login copy can update while nobody is signed in."""
    headers = {"Service-Worker-Allowed": "/", "Cache-Control": "no-cache"}
    return FileResponse(SERVICE_WORKER, media_type="text/javascript", headers=headers)


@router.post("/grid/report", response_class=HTMLResponse)
async def report(request: Request, ctx: Ctx, user: PageUser) -> Response:
    principal = require_role(user, {Role.grid_worker})
    posted = await request.form(max_files=20, max_fields=30)
    sessions.check_csrf(user.csrf, str(posted.get("csrf_token") or ""))
    form = {name: str(posted.get(name) or "").strip() for name in FIELDS}
    report_id = str(posted.get("report_id") or "").strip()
    kept = {"report_id": report_id} if report_id else {}  # the form posts the same id again
    first = await run_in_threadpool(_filed_before, ctx, principal, report_id) if kept else None
    if first is not None:
        return RedirectResponse(f"/grid?reported={first}", status_code=303)
    store = ctx.channels.attachments
    try:
        photos = await save_photos(posted, "photos", store)
        after = await save_photos(posted, "after_photos", store)
        data = grid.GridReport(
            report_id=report_id or None,
            category=form["category"][:5],
            description=form["description"],
            lat=form["lat"] or None,
            lng=form["lng"] or None,
            address=form["address"] or None,
            photos=photos,
            self_handled=posted.get("self_handled") == "1",
            result=form["result"] or None,
            after_photos=after,
        )
        result = await run_in_threadpool(grid.file_report, ctx.cases, store, principal, data)
    except ValidationError as exc:
        text = validation_words(exc, View(ctx, language(request)))
        return _grid_page(request, ctx, user, 422, form=form, error=text, **kept)
    except GridflowError as exc:  # nothing was written: outside the area is a 403
        text = refusal_words(exc, View(ctx, language(request)))
        status = error_status(exc)
        return _grid_page(request, ctx, user, status, form=form, error=text, **kept)
    return RedirectResponse(f"/grid?reported={result.case.id}", status_code=303)
