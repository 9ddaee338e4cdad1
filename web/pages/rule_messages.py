"""The rule checker's findings and problems in the reader's words. ``engine/rules`` reports
them in English (also for the command line); the rules page shows each one translated by
its code or its message's pattern, naming the row; an unknown message is kept as it is."""

from __future__ import annotations

import re
from typing import Any

from engine.rules.check import Finding
from web.pages.views import View

_ROW_FIELD = re.compile(r"^rule\[(\d+)\](?:\.(\w+))?$")
_WHERE = re.compile(r"^rule #\d+ \([^)]*\)(?:, line \d+)?(?:, field '[^']*')?: ")
_QUOTED = re.compile(r"'([^']*)'")
_PROBLEMS = [
    (re.compile(r"required"), "rp_required"),
    (re.compile(r"unknown department code '(.*)'"), "rp_unknown_department"),
    (re.compile(r"prefix '(.*)' matches no known category"), "rp_unknown_category"),
    (re.compile(r"the default row must be the last row"), "rp_default_last"),
    (re.compile(r"the default row must not have conditions"), "rp_default_conditions"),
    (re.compile(r"required when auto = true.*"), "rp_department_required"),
    (re.compile(r"only applies with auto = false"), "rp_queue_manual"),
    (re.compile(r"'(.*)' is already the lead department"), "rp_co_is_lead"),
    (re.compile(r"unknown key; allowed: (.*)"), "rp_unknown_key"),
    (re.compile(r"duplicate id \(also rule #(\d+)\)"), "rp_duplicate_id"),
    (re.compile(r"TOML syntax error: (.*)", re.S), "rp_toml"),
    (re.compile(r"no default row.*"), "rp_no_default"),
]


def problem_words(
    detail: dict[str, str], v: View, findings: list[Finding] | None = None
) -> tuple[str, str]:
    """(where, what) of a parse problem: ("第 3 行规则 · department", "部门编码 ZZ 本市没有").
    A checker error made a problem (its reason is the finding's text) is said as that
    finding (``findings``: the check's)."""
    field = detail.get("field") or ""
    match = _ROW_FIELD.match(field)
    where = field
    if match:
        where = v.t("rule_at_row", row=match[1])
        if match[2]:
            where += f" · {match[2]}"
    elif field == "text":
        where = v.t("rule_whole_table")
    reason = detail.get("reason") or ""
    finding = next((f for f in findings or [] if str(f) == reason), None)
    if finding is not None:
        return where, finding_words(finding, v)
    message = _WHERE.sub("", reason)
    for pattern, key in _PROBLEMS:
        found = pattern.fullmatch(message)
        if found:
            return where, v.t(key, x=found[1] if found.groups() else "")
    return where, message


def finding_words(finding: Finding, v: View, rows: dict[str, int] | None = None) -> str:
    """One finding of the checker, translated by its code."""
    ids = finding.rule_ids
    first = ids[0] if ids else ""
    codes = _QUOTED.findall(finding.message)
    values: dict[str, Any] = {"rule": first, "code": codes[-1] if codes else ""}
    if finding.code == "shadowed":
        values["other"] = ids[1] if len(ids) > 1 else ""
        key = "rf_redundant" if finding.severity == "warning" else "rf_shadowed"
    elif finding.code == "overlap":
        values |= {"n": len(ids) - 1, "others": "、".join(ids[1:6])}
        key = "rf_overlap"
    else:
        key = {
            "missing-default": "rf_missing_default",
            "unknown-department": "rf_unknown_department",
            "unknown-category": "rf_unknown_category",
        }.get(finding.code, "")
    if not key:
        return finding.message
    return f"{v.t('severity_' + finding.severity)}：{v.t(key, **values)}"


def target_words(target: str, v: View) -> str:
    """Where a rule sends a case, in words: a department's name, or ``queue:<tier>`` as that
    tier's manual dispatch queue (市级指挥中心人工派遣队列)."""
    if target.startswith("queue:"):
        tier = target.removeprefix("queue:")
        return v.t("bt_queue", tier=v.t(f"tier_{tier}") if tier else "")
    return v.dept(target) if target else "—"
