"""No raw codes or English on a Chinese page: limits in words (1个工作日), an extension
chosen from a list, dispatch reasons and timeline facts translated, people by name, photo
inputs labelled in Chinese; and a scan of rendered pages for what must not show."""

from __future__ import annotations

import re

import pytest
from dispatch_support import activate, case_row
from page_support import file_hotline, login, post

from engine.users.models import Principal, Role
from web.pages.duration_words import duration_words, seconds_words
from web.pages.reasons import reason_words
from web.pages.views import View

HANDLER = Principal("handler-hw-01", Role.handler, "HW-01")
# Visible ASCII words a zh-CN page may show: names of things, not words of a sentence.
ALLOWED_ASCII = {"gridflow", "English", "UTC", "Open311", "Excel", "KPI", "JPEG", "PNG", "WebP"}


@pytest.fixture
async def pages(make_ctx, make_api, tmp_path):
    ctx = make_ctx(attachments_dir=tmp_path / "att")
    activate(ctx)
    async with make_api(ctx) as api:
        yield api


def visible_text(html: str) -> str:
    """The words a person reads: no tags, attributes, scripts or styles."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


def raw_words(html: str) -> list[str]:
    """What must not show on a zh-CN page: 1wd-style limits, snake_case identifiers and
    ASCII words outside the allow-list."""
    text = visible_text(html)
    found = re.findall(r"\b\d+w[hd]\b", text) + re.findall(r"\b[a-z]+_[a-z_]+\b", text)
    words = re.findall(r"\b[A-Za-z][A-Za-z]{2,}\b", text)
    return found + [w for w in words if w not in ALLOWED_ASCII]


def test_durations_in_words():
    assert duration_words("1wd") == "1个工作日" and duration_words("4wh") == "4个工作小时"
    assert duration_words("30m") == "30分钟" and duration_words("3d") == "3天"
    assert duration_words("1wd", "en") == "1 working day"
    assert duration_words("2wh", "en") == "2 working hours"
    assert duration_words(None) == "—" and duration_words("later") == "later"
    assert seconds_words(93_600) == "1天2小时" and seconds_words(20) == "1分钟"


def test_dispatch_reasons_in_words(ctx):
    v = View(ctx, "zh")
    text = reason_words("rule upper-assigned (上级交办) asks for manual dispatch; "
                        "suggested department HW-01", v)  # fmt: skip
    assert text == "规则“上级交办”要求人工派遣；建议派往东湖区环境卫生管理处"
    assert reason_words("no rule matched", v) == "没有匹配的派遣规则"
    router = "text router: category 06002 at 0.42 < threshold 0.80"
    assert "置信度 42%，低于自动派遣阈值 80%" in reason_words(router, v)
    but = reason_words("rule r1 would dispatch to HW-01 by default; " + router
                       + ", but the location is outside every grid", v)  # fmt: skip
    assert "默认规则 r1 会派往东湖区环境卫生管理处" in but and "，但位置不在任何网格内" in but
    assert reason_words("something new", v) == "something new"  # unknown: kept as it is
    text = reason_words("WARNING: no official holiday schedule for 2031. The package …", v)
    assert text.startswith("2031 年的法定节假日安排尚未录入")


async def test_case_page_in_words(pages):
    case_id = file_hotline(pages.ctx)
    pages.ctx.cases.act(HANDLER, case_id, "accept", {})
    csrf = await login(pages, "handler", "HW-01", name="handler-hw-01")
    html = (await pages.client.get(f"/cases/{case_id}")).text
    assert "1个工作小时" in html and "1wh" not in html  # the accept limit
    form = html.split('/act/request_extension"')[1].split("</form>")[0]
    assert f'<select id="c{case_id}-request_extension-duration"' in form
    assert '<option value="2wd">2个工作日</option>' in form and "2wd" not in visible_text(form)
    answer = await post(pages, f"/cases/{case_id}/act/request_extension", csrf,
                        duration="2wd", reason="需采购配件")  # fmt: skip
    assert answer.status_code == 303
    html = (await pages.client.get(f"/cases/{case_id}")).text
    assert 'id="pending-extension">2个工作日<' in html
    assert "延长时长：2个工作日" in html  # the timeline
    assert "测试handler · 承办人员" in html and "handler-hw-01" not in visible_text(html)
    assert "选择照片" in html and 'class="file-input"' in html  # no browser English


async def test_timeline_facts_translated(pages):
    case_id = file_hotline(pages.ctx)
    dispatcher = Principal("d", Role.dispatcher, "00")
    pages.ctx.cases.act(dispatcher, case_id, "redispatch", {"department": "CG-01"})
    await login(pages, "dispatcher")
    html = (await pages.client.get(f"/cases/{case_id}")).text
    assert "from_department" not in html
    assert "原部门：东湖区环境卫生管理处" in html


async def test_manual_queue_reason_in_chinese(pages):
    case_id = file_hotline(pages.ctx, "上级交办的噪音", channel="upper")
    await login(pages, "dispatcher", "00")
    desk = (await pages.client.get("/dispatch")).text
    assert f'data-case="{case_id}"' in desk
    assert "asks for manual dispatch" not in desk and "要求人工派遣" in desk
    html = (await pages.client.get(f"/cases/{case_id}")).text
    assert "要求人工派遣" in html and "asks for" not in html


async def test_zh_pages_show_no_raw_codes_or_english(pages):
    case_id = file_hotline(pages.ctx)
    pages.ctx.cases.act(HANDLER, case_id, "accept", {})
    pages.ctx.cases.act(
        HANDLER, case_id, "request_extension", {"duration": "1wd", "reason": "配件"}
    )
    shown = {}
    await login(pages, "handler", "HW-01")
    for path in (f"/cases/{case_id}", "/inbox"):
        shown[path] = raw_words((await pages.client.get(path)).text)
    await login(pages, "dispatcher")
    for path in (f"/cases/{case_id}", "/dispatch", "/approvals"):
        shown["d" + path] = raw_words((await pages.client.get(path)).text)
    await login(pages, "operator")
    for path in ("/", "/intake", "/cases"):
        shown["o" + path] = raw_words((await pages.client.get(path)).text)
    await login(pages, "grid_worker", "01010101")
    shown["/grid"] = raw_words((await pages.client.get("/grid")).text)
    assert all(not words for words in shown.values()), shown
    assert case_row(pages.ctx, case_id).pending_extension == "1wd"
