"""Page text in Chinese (default) and English. Templates call ``t("key")``."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Request

from web.pages.messages import CASE_MESSAGES
from web.pages.messages_roles import ROLE_MESSAGES

LANGS = ("zh", "en")
LANG_COOKIE = "gf_lang"

MESSAGES: dict[str, dict[str, str]] = {
    "app_name": {"zh": "网格化事件调度", "en": "Grid event dispatch"},
    "login": {"zh": "登录", "en": "Log in"},
    "logout": {"zh": "退出", "en": "Log out"},
    "username": {"zh": "用户名", "en": "Username"},
    "password": {"zh": "密码", "en": "Password"},
    "bad_login": {"zh": "用户名或密码错误", "en": "Wrong username or password"},
    "locked": {
        "zh": "登录失败次数过多，请 {seconds} 秒后再试",
        "en": "Too many failed logins; try again in {seconds} seconds",
    },
    "csrf_failed": {
        "zh": "页面已过期，请刷新后重试",
        "en": "The page expired; reload it and try again",
    },
    "welcome": {"zh": "欢迎，{name}", "en": "Welcome, {name}"},
    "role": {"zh": "角色", "en": "Role"},
    "scope": {"zh": "范围", "en": "Scope"},
    "language": {"zh": "English", "en": "中文"},
    "role_operator": {"zh": "话务员", "en": "Operator"},
    "role_dispatcher": {"zh": "调度员", "en": "Dispatcher"},
    "role_handler": {"zh": "承办人员", "en": "Handler"},
    "role_grid_worker": {"zh": "网格员", "en": "Grid worker"},
    "role_supervisor": {"zh": "督办人员", "en": "Supervisor"},
    "role_admin": {"zh": "管理员", "en": "Administrator"},
    "not_found": {"zh": "页面不存在", "en": "Page not found"},
}
MESSAGES.update(CASE_MESSAGES | ROLE_MESSAGES)  # the work pages' text


def language(request: Request) -> str:
    """``?lang=`` wins, then the cookie, then Accept-Language; Chinese by default."""
    for candidate in (request.query_params.get("lang"), request.cookies.get(LANG_COOKIE)):
        if candidate in LANGS:
            return candidate
    accept = request.headers.get("accept-language", "")
    if accept.lower().startswith("en"):
        return "en"
    return "zh"


def translator(lang: str) -> Callable[..., str]:
    def t(key: str, **values: object) -> str:
        entry = MESSAGES.get(key)
        text = entry.get(lang, entry["zh"]) if entry else key
        return text.format(**values) if values else text

    return t
