"""A refused form in the reader's words: each field by its label and the reason by its
kind (必填, 格式不对 …). Pydantic and the engine say why in English (for the API); the
pages translate the reasons they know and keep any other as it is."""

from __future__ import annotations

import re

from pydantic import ValidationError

from engine.errors import GridflowError
from web.pages.i18n import MESSAGES
from web.pages.views import View, error_text

# Engine reasons the forms meet, by pattern -> message key.
_REASONS = [
    (re.compile(r"required( for '.*')?"), "err_missing"),
    (re.compile(r"required when self_handled is true"), "err_self_handled"),
    (re.compile(r"the point is in no known grid.*"), "err_no_grid"),
    (re.compile(r".*outside your area.*"), "err_outside_area"),
    (re.compile(r".*digits, spaces, \+ and - only"), "err_phone"),
    (re.compile(r"unknown grid .*"), "err_unknown_grid"),
    (
        re.compile(r"case \d+ (is at version \d+, not \d+|was changed by someone else.*)"),
        "err_stale",
    ),
    (re.compile(r"'\w+' is not allowed in state '\w+'"), "err_not_allowed"),
    (re.compile(r"role '\w+' may not '\w+' a case"), "err_role"),
    (re.compile(r"'\w+' is for the lead department of case \d+"), "err_lead_only"),
    (re.compile(r"an extension of .* is already pending"), "err_extension_pending"),
    (re.compile(r"no extension request is pending"), "err_no_extension"),
    (re.compile(r"an? \w+ request is already pending"), "err_request_pending"),
    (re.compile(r"no void request is pending"), "err_no_void"),
]


def label(name: str, v: View) -> str:
    """The field's label on the page (``f_x`` or ``x`` in the messages), else its name."""
    for key in (f"f_{name}", name):
        if key in MESSAGES:
            return v.t(key)
    return name


def _reason(text: str, v: View) -> str:
    for pattern, key in _REASONS:
        if pattern.fullmatch(text):
            return v.t(key)
    return text


def validation_words(exc: ValidationError, v: View) -> str:
    parts = []
    for error in exc.errors():
        name = str(error["loc"][-1]) if error["loc"] else ""
        key = f"err_{error['type']}"
        why = v.t(key) if key in MESSAGES else error["msg"]
        parts.append(f"{label(name, v)}：{why}")
    return v.t("why_sep").join(parts)


def refusal_words(exc: GridflowError, v: View) -> str:
    details = getattr(exc, "details", None)
    if isinstance(details, list) and details:
        parts = [
            f"{label(str(d.get('field')), v)}：{_reason(str(d.get('reason')), v)}"
            for d in details
            if isinstance(d, dict)
        ]
        if parts:
            return v.t("why_sep").join(parts)
    text = _reason(str(exc), v)
    return text if text != str(exc) else error_text(exc)
