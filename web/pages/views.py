"""Shared view helpers of the work pages: names, local times, labels, role guards, results.

Templates get a :class:`View` as ``v``: ``v.local(dt)``, ``v.dept(code)``, ``v.unit(code)``,
``v.category(code)``, ``v.state(name)``, ``v.action(name)``, ``v.overdue(seconds)``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse

from engine.city.directory import CityDirectory
from engine.city.models import Tier
from engine.db import new_session
from engine.errors import GridflowError
from engine.users.models import Principal, Role
from web import errors as web_errors
from web.context import AppContext
from web.pages import sessions
from web.pages.approvals_data import WaitingCounts, waiting_counts
from web.pages.duration_words import EXTENSION_CHOICES, duration_words, seconds_words
from web.pages.i18n import language, translator
from web.pages.templating import render

# Where each role starts (the home page links there too).
ROLE_HOME = {
    Role.operator: "/intake",
    Role.dispatcher: "/dispatch",
    Role.handler: "/inbox",
    Role.grid_worker: "/grid",
    Role.supervisor: "/board",
    Role.admin: "/admin",
}
BOARD_ROLES = {Role.supervisor, Role.dispatcher, Role.admin}


class PageForbidden(Exception):
    """The page is not for this role; answered with a 403 page."""


def require_role(page: sessions.PageSession, roles: Iterable[Role]) -> Principal:
    if page.principal.role not in set(roles):
        raise PageForbidden
    return page.principal


def scope_unit(principal: Principal, city: CityDirectory) -> str:
    """The unit a person's pages are about (admins and unscoped users: the whole city)."""
    scope = principal.scope
    return scope if scope in city.units else city.root


class View:
    """Names, labels and local times for templates, in the page's language."""

    def __init__(self, ctx: AppContext, lang: str) -> None:
        self.ctx, self.city, self.lang = ctx, ctx.city, lang
        self.t: Callable[..., str] = translator(lang)
        self.zone = ZoneInfo(self.city.timezone)

    @property
    def zone_label(self) -> str:
        """The city's UTC offset now, e.g. "UTC+8"."""
        offset = self.ctx.clock.now().astimezone(self.zone).utcoffset()
        minutes = int(offset.total_seconds() // 60) if offset else 0
        sign, minutes = ("+" if minutes >= 0 else "-"), abs(minutes)
        return f"UTC{sign}{minutes // 60}" + (f":{minutes % 60:02d}" if minutes % 60 else "")

    def local(self, at: datetime | None, seconds: bool = False) -> str:
        if at is None:
            return "—"
        return at.astimezone(self.zone).strftime("%Y-%m-%d %H:%M" + (":%S" if seconds else ""))

    def dept(self, code: str | None) -> str:
        if not code:
            return "—"
        found = self.city.departments.get(code)
        return found.name if found else code

    def unit(self, code: str | None) -> str:
        if not code:
            return "—"
        found = self.city.units.get(code)
        return found.name if found else code

    def unit_path(self, code: str | None) -> str:
        """District › street › community › grid names (the city left out)."""
        if not code or code not in self.city.units:
            return code or "—"
        chain = [c for c in reversed(self.city.ancestors(code)) if c != self.city.root]
        return " › ".join(self.city.units[c].name for c in chain) or self.unit(code)

    def category(self, code: str | None) -> str:
        """The code and the name (06002 暴露垃圾), for pickers and tables."""
        name = self.category_name(code)
        return name if not code or name == code else f"{code} {name}"

    def category_name(self, code: str | None) -> str:
        """The name alone (暴露垃圾), for short lines such as the big screen's."""
        found = self.city.categories.get(code or "")
        if found is None:
            return code or "—"
        return found.name_en if self.lang == "en" and found.name_en else found.name

    def state(self, name: str | None) -> str:
        spec = self.ctx.workflow.states.get(name or "")
        if spec is None:
            return name or "—"
        return spec.label_en if self.lang == "en" else spec.label

    def action(self, name: str) -> str:
        return self.t(f"act_{name}")

    def overdue(self, seconds: float | None) -> str:
        if not seconds or seconds <= 0:
            return "—"
        minutes = int(seconds // 60)
        return self.t("hours_minutes", h=minutes // 60, m=minutes % 60)

    extension_choices = EXTENSION_CHOICES

    def duration(self, text: str | None) -> str:
        """A time limit in words: ``1wd`` → 1个工作日 (web/pages/duration_words.py)."""
        return duration_words(text, self.lang)

    def span(self, seconds: float | None) -> str:
        """A span of time in words: 2天3小时, 15分钟."""
        return seconds_words(seconds or 0, self.lang)

    def remaining(self, due: datetime | None) -> str:
        """Time left until ``due`` in words (剩余 3小时20分钟), or how long it is past it."""
        if due is None:
            return "—"
        left = (due - self.ctx.clock.now()).total_seconds()
        if left >= 0:
            return self.t("time_left", span=self.span(left))
        return self.t("time_over", span=self.span(-left))

    def scope(self, code: str | None) -> str:
        """A person's scope by name: a unit's path or a department."""
        if not code:
            return "—"
        if code in self.city.departments:
            return self.dept(code)
        return self.unit_path(code) if code != self.city.root else self.unit(code)

    def reason(self, text: str | None) -> str:
        """An engine reason in the page's words (web/pages/reasons.py)."""
        from web.pages.reasons import reason_words  # reasons builds on View

        return reason_words(text, self)

    def waiting(self, principal: Principal) -> WaitingCounts:
        """The requests waiting for ``principal``'s decision (the navigation's counts: index
        reads, web/pages/approvals_data.py)."""
        with new_session(self.ctx.db) as session:
            return waiting_counts(session, principal, self.city)

    def tier(self, code: str) -> Tier | None:
        found = self.city.units.get(code)
        return Tier(found.tier) if found else None


def page(
    request: Request,
    ctx: AppContext,
    template: str,
    session: sessions.PageSession,
    status_code: int = 200,
    **values: Any,
) -> HTMLResponse:
    """Render a work page with its ``v`` helper and the ``done`` / ``error`` notices."""
    view = View(ctx, language(request))
    done = request.query_params.get("done")
    notice = view.t("done_ok", action=view.action(done)) if done else None
    values.setdefault("notice", values.pop("message", None) or notice)
    return render(
        request, template, page=session, status_code=status_code, v=view, ctx=ctx, **values
    )


def done(target: str, action: str) -> RedirectResponse:
    """After a successful post: back to ``target`` with a notice naming the action."""
    sep = "&" if "?" in target else "?"
    return RedirectResponse(f"{target}{sep}done={quote(action)}", status_code=303)


def error_text(exc: GridflowError) -> str:
    """One line for a person: the message and, for invalid input, each field's reason."""
    details = getattr(exc, "details", None)
    if isinstance(details, list):
        reasons = [f"{d.get('field')}: {d.get('reason')}" for d in details if isinstance(d, dict)]
        if reasons:
            return "; ".join(reasons)
    return str(exc)


def safe_next(target: str | None, fallback: str) -> str:
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return fallback


def error_status(exc: GridflowError) -> int:
    return web_errors._status(exc)
