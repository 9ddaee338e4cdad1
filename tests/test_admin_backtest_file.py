"""The rule page's file input (check and backtest a candidate table): the browser's own
"Choose File" / "No file chosen" is hidden; a labelled button and status in the page's
language show instead, and an uploaded file is still what is backtested."""

from __future__ import annotations

import re

import pytest
from dispatch_support import DEMO_RULES, activate
from page_support import login


@pytest.fixture
async def admin(make_ctx, make_api):
    ctx = make_ctx()
    activate(ctx)
    async with make_api(ctx) as api:
        api.csrf = await login(api, "admin")
        yield api


def file_box(html: str) -> str:
    return html.split('id="r-file-label"')[1].split("</label>")[0]


async def test_the_rule_file_input_speaks_the_pages_language(admin):
    zh = (await admin.client.get("/admin/rules")).text
    box = file_box(zh)
    assert "或上传文件" in box and "选择规则文件" in box and "未选择文件" in box
    field = re.search(r'<input id="r-file"[^>]*>', zh, re.S)[0]
    assert 'class="file-input"' in field and 'aria-labelledby="r-file-label"' in field
    assert 'type="file"' in field and 'accept=".toml,text/plain"' in field
    assert "multiple" not in field and 'data-chosen="已选择 {n} 个文件"' in field
    assert '<label class="file-pick" for="r-file">' in zh  # the button opens the picker
    en = (await admin.client.get("/admin/rules", params={"lang": "en"})).text
    box = file_box(en)
    assert "or upload a file" in box and "Choose a rule file" in box and "No file chosen" in box
    assert "选择" not in box


async def test_an_uploaded_rule_file_is_backtested(admin):
    files = {"file": ("rules.toml", DEMO_RULES.encode("utf-8"), "text/plain")}
    data = {"csrf_token": admin.csrf}
    answer = await admin.client.post("/admin/rules/backtest", data=data, files=files)
    assert answer.status_code == 200, answer.text
    assert 'id="backtest-result"' in answer.text
