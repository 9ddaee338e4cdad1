"""Past cases from a CSV or XLSX export of the old system: one row a case.

The columns are the hotline import's (工单编号, 来电人, 来电号码, 诉求内容, 地址, 诉求类型,
紧急程度, 事项分类, 网格, 经度/纬度; read and checked by ``adapters.hotline_import``) and the
history's own: 承办单位, 来源渠道, 办理结果, and the time of each step (受理时间 when reported,
派遣时间, 签收时间, 办结时间, 核查时间 with 核查结果, 回访时间 with 满意度, 结案时间). Each row
becomes a history record (``engine.history.records``) whose timeline is its times in order:
a row with 派遣时间 and 签收时间 but no 办结时间 is a case still being handled. An error names
the row and the column.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from adapters.hotline_import import HEADERS, parse_row, read_rows
from engine.history.service import Item

HISTORY_HEADERS = HEADERS | {
    "department": ("承办单位", "主办单位", "处置单位", "责任单位"),
    "source": ("来源渠道", "来源", "渠道"),
    "result": ("办理结果", "处理结果", "办结反馈", "答复内容"),
    "reported_at": ("受理时间", "来电时间", "登记时间", "上报时间"),
    "dispatched_at": ("派遣时间", "派单时间"),
    "accepted_at": ("签收时间", "接单时间"),
    "resolved_at": ("办结时间", "反馈时间"),
    "verified_at": ("核查时间",),
    "verify_passed": ("核查结果", "核查通过"),
    "called_back_at": ("回访时间",),
    "satisfaction": ("满意度", "回访满意度", "回访结果"),
    "closed_at": ("结案时间", "归档时间"),
}
REQUIRED = ("ticket_no", "content", "reported_at")
SOURCES = {"12345": "hotline", "热线": "hotline", "网格": "grid", "网格员": "grid", "视频": "video"}
SATISFACTION = {"满意": "satisfied", "基本满意": "basic", "不满意": "unsatisfied"}
PASSED = {"通过": True, "合格": True, "是": True, "不通过": False, "不合格": False, "否": False}
# The steps a row's times make, in order: (time column, action).
STEPS = (
    ("dispatched_at", "dispatch"),
    ("accepted_at", "accept"),
    ("resolved_at", "resolve"),
    ("verified_at", "verify"),
    ("called_back_at", "callback"),
    ("closed_at", "close"),
)
# Record fields as the export's columns call them (for the error report).
_COLUMNS = {
    "old_id": "ticket_no",
    "description": "content",
    "grid": "grid_code",
    "caller.name": "caller_name",
    "caller.phone": "caller_phone",
}


def read_history(path: Path) -> Iterator[Item]:
    """Each row of the export as a history record (errors of the hotline columns included,
    as a record the history's validation refuses with the row's own message)."""
    for number, raw in read_rows(path, HISTORY_HEADERS, REQUIRED):
        yield to_item(number, raw)


def to_item(number: int, raw: dict[str, Any]) -> Item:
    """The record a row describes, with its fields' column names."""
    values = {k: v.strip() if isinstance(v, str) else v for k, v in raw.items()}
    values = {k: v for k, v in values.items() if v not in (None, "")}
    ticket = parse_row(number, {k: v for k, v in values.items() if k in HEADERS})
    if isinstance(ticket, list):  # the hotline columns are bad: as the hotline import says
        found = ticket[0]
        return Item(number, {"old_id": found.ticket_no}, problem=(found.field, found.reason))
    columns = dict(_COLUMNS)
    record: dict[str, Any] = {
        "old_id": ticket.ticket_no,
        "description": ticket.content,
        "category": values.get("category"),
        "reported_at": _time(values["reported_at"]),
    }
    caller = {"name": ticket.caller_name, "phone": ticket.caller_phone}
    if any(caller.values()):
        record["caller"] = {k: v for k, v in caller.items() if v}
    optional = {
        "grid": ticket.grid_code,
        "address": ticket.address,
        "lat": ticket.lat,
        "lng": ticket.lng,
        "urgency": ticket.urgency,
        "request_type": ticket.request_type,
        "department": values.get("department"),
        "result": values.get("result"),
    }
    record |= {k: v for k, v in optional.items() if v is not None}
    if "source" in values:
        record["source"] = SOURCES.get(values["source"], values["source"])
        columns["source"] = "source"
    timeline: list[dict[str, Any]] = []
    if "dispatched_at" in values:
        timeline.append({"action": "register", "at": record["reported_at"]})
        columns["timeline[0].at"] = "reported_at"
    for column, action in STEPS:
        if column not in values:
            continue
        step: dict[str, Any] = {"action": action, "at": _time(values[column])}
        if action == "verify":
            found = values.get("verify_passed", "通过")
            step["passed"] = PASSED.get(found, found)
            columns[f"timeline[{len(timeline)}].passed"] = "verify_passed"
        elif action == "callback":
            found = values.get("satisfaction")
            step["satisfaction"] = SATISFACTION.get(found, found) if found else None
            columns[f"timeline[{len(timeline)}].satisfaction"] = "satisfaction"
        columns[f"timeline[{len(timeline)}].at"] = column
        columns[f"timeline[{len(timeline)}].action"] = column
        timeline.append(step)
    record["timeline"] = timeline
    return Item(number, record, columns=columns)


def _time(text: str) -> str:
    """2025/3/2 9:15 and 2025-03-02 09:15:00 alike, as ISO 8601 (local time)."""
    day, _, clock = text.replace("/", "-").replace("T", " ").partition(" ")
    parts = day.split("-")
    if len(parts) == 3 and all(p.isdigit() for p in parts):
        day = f"{int(parts[0]):04d}-{int(parts[1]):02d}-{int(parts[2]):02d}"
    if clock:
        pieces = clock.split(":")
        if all(p.isdigit() for p in pieces) and 2 <= len(pieces) <= 3:
            clock = ":".join(f"{int(p):02d}" for p in pieces)
        return f"{day}T{clock}"
    return day
