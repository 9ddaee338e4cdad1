"""Issue 21's admin (管理员) walk at 360, 1366 and 1920 px: the login lands on the admin
page; the rule page backtests an uploaded candidate table (the demo city's with one
department changed) and shows where the recently closed cases would go; on the users page a
dispatcher's scope is picked from the org tree, a grid worker is disabled, and a token is
issued and revoked. Every page visited passes check_desk (labels, zh-CN words, axe-core;
the usernames the users page lists are data, let through)."""

from __future__ import annotations

import re
import tomllib

import pytest
from browser_support import (
    DEMO_CITY,
    RULE_ID_WORDS,
    WALK_SCREENS,
    at_desk,
    check_desk,
    city_context,
    screen_name,
    walk_server,
)
from playwright.sync_api import expect

from engine.cases.models import CaseCreate
from engine.users.models import Principal, Role

USERNAMES = tuple(u["username"] for u in tomllib.loads(
    (DEMO_CITY / "users.toml").read_text(encoding="utf-8"))["user"])  # fmt: skip
# Per walk: a dispatcher whose scope moves to another street, a grid worker disabled.
MOVED = {360: ("dispatcher_0101", "0102"), 1366: ("dispatcher_0102", "0101"),
         1920: ("dispatcher_0201", "0202")}  # fmt: skip
# The rule page names the table's file (规则表（rules.toml）) and the rows by their ids.
RULE_PAGE = ("rules", "toml", *RULE_ID_WORDS)
DISABLED = {360: "grid_01010102", 1366: "grid_01020101", 1920: "grid_02020203"}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    return walk_server(tmp_path_factory)


def closed_in_district_02(server, width: int) -> int:
    """A case closed by HWGS-02 (garbage in grid 02010101): the candidate table moves it."""
    with city_context(server, f"admin-{width}") as ctx:
        data = CaseCreate(description=f"{width}号西岭路垃圾堆积", channel="hotline",
                          category="06002", grid_code="02010101")  # fmt: skip
        case = ctx.cases.intake(Principal("operator", Role.operator, "00"), data).case
        assert case.lead_department == "HWGS-02"
        handler = Principal("handler_hwgs02", Role.handler, "HWGS-02")
        ctx.cases.act(handler, case.id, "accept", {})
        ctx.cases.act(handler, case.id, "resolve", {"result": "已清理"})
        ctx.cases.act(Principal("dispatcher", Role.dispatcher, "00"), case.id, "close",
                      {"reason": "已核实"})  # fmt: skip
        return case.id


@pytest.mark.parametrize("screen", WALK_SCREENS, ids=screen_name)
def test_admin_backtests_rules_scopes_disables_and_revokes(server, screen):
    width = screen["width"]
    moved = closed_in_district_02(server, width)
    candidate = server.workdir / f"rules-{width}.toml"
    rules = (DEMO_CITY / "rules.toml").read_text(encoding="utf-8")
    candidate.write_text(rules.replace('department = "HWGS-02"', 'department = "HW-02"'))
    with at_desk(server, "admin", screen, "admin", "/admin") as desk:
        page = desk.page
        check_desk(page)

        # The rule page: backtest an uploaded candidate table.
        page.get_by_role("link", name="派遣规则").first.click()
        page.wait_for_url(re.compile(r"/admin/rules$"))
        expect(page.locator("#active-version").locator("..")).to_contain_text("赵管理")
        check_desk(page, allow=RULE_PAGE)
        page.get_by_label("或上传文件").set_input_files(str(candidate))
        page.get_by_role("button", name="回测").click()
        result = page.locator("#backtest-result")
        expect(result).to_contain_text("会派往别处")
        expect(result.locator('tr[data-move="HWGS-02 HW-02"]')).to_have_count(1)
        expect(result.locator(f'a[href="/cases/{moved}"]')).to_be_visible()
        check_desk(page, allow=RULE_PAGE)

        # Users: a scope from the org tree, a user disabled, a token revoked.
        desk.visit("/admin/users", allow=USERNAMES)
        user, street = MOVED[width]
        row = page.locator(f'tr[data-user="{user}"]')
        row.locator("summary").click()
        row.get_by_label(re.compile("^范围")).select_option(value=street)
        row.get_by_role("button", name="保存").click()
        page.wait_for_load_state()
        street_name = {"0101": "湖滨街道", "0102": "清波街道", "0202": "枫桥街道"}[street]
        expect(row.locator(".scope-name")).to_contain_text(street_name)
        worker = DISABLED[width]
        page.get_by_role("button", name=f"停用 {worker}").click()
        page.wait_for_load_state()
        expect(page.locator(f'tr[data-user="{worker}"]')).to_have_class(re.compile("inactive"))
        expect(page.get_by_role("button", name=f"启用 {worker}")).to_be_visible()
        page.get_by_label("标签").fill(f"对接系统{width}")
        page.get_by_role("button", name="签发令牌").click()
        expect(page.locator("#issued-token")).to_be_visible()
        token = page.locator("tr[data-token]", has_text=f"对接系统{width}")
        token.get_by_role("button", name=re.compile("^吊销 #")).click()
        page.wait_for_load_state()
        expect(token).to_contain_text("已吊销")
        check_desk(page, allow=USERNAMES)
        assert desk.foreign_requests() == []
