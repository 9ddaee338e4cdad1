"""`gridflow users list | disable | enable` and `gridflow tokens list | revoke`: a disabled
user's page sessions end and API tokens stop working at once; a revoked token is refused."""

from __future__ import annotations

import pytest
from page_support import PASSWORD, login

from engine.clock import FileClock
from engine.settings import get_settings
from web.cli import main


@pytest.fixture
def cli(ctx, tmp_path, monkeypatch):
    clock_file = tmp_path / "clock"
    FileClock.write(clock_file, ctx.clock.now())
    monkeypatch.setenv("GRIDFLOW_DATABASE_URL", ctx.settings.database_url)
    monkeypatch.setenv("GRIDFLOW_CLOCK_FILE", str(clock_file))
    get_settings.cache_clear()
    yield main
    get_settings.cache_clear()


async def bearer(api, username: str) -> dict[str, str]:
    answer = await api.client.post(
        "/api/v1/auth/token", json={"username": username, "password": PASSWORD}
    )
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['token']}"}


async def test_disable_ends_sessions_and_tokens_enable_lets_them_back(api, cli, capsys):
    await login(api, "dispatcher", name="zhang")
    token = await bearer(api, "zhang")
    assert (await api.client.get("/api/v1/cases", headers=token)).status_code == 200
    capsys.readouterr()

    assert cli(["users", "list", "--role", "dispatcher"]) == 0
    out = capsys.readouterr().out
    line = next(row for row in out.splitlines() if " zhang " in f" {row} ")
    assert line.split()[2:6] == ["dispatcher", "00", "active", "1"]

    assert cli(["users", "disable", "zhang"]) == 0
    assert "disabled zhang: page sessions ended, 1 API tokens revoked" in capsys.readouterr().out
    assert (await api.client.get("/api/v1/cases", headers=token)).status_code == 401
    page = await api.client.get("/board")
    assert page.status_code == 303 and page.headers["location"].startswith("/login")
    refused = await api.client.post(
        "/api/v1/auth/token", json={"username": "zhang", "password": PASSWORD}
    )
    assert refused.status_code == 401
    assert cli(["users", "list"]) == 0
    assert " zhang " not in capsys.readouterr().out  # active users only by default
    assert cli(["users", "list", "--all"]) == 0
    assert "disabled" in capsys.readouterr().out

    assert cli(["users", "enable", "zhang"]) == 0
    assert "enabled zhang" in capsys.readouterr().out
    assert (await api.client.get("/api/v1/cases", headers=token)).status_code == 401  # stays
    assert (await api.client.get("/api/v1/cases", headers=await bearer(api, "zhang"))).is_success


async def test_tokens_list_and_revoke(api, cli, capsys):
    assert cli(["tokens", "create", "--role", "operator", "--scope", "00", "--label", "12345"]) == 0
    secret = capsys.readouterr().out.strip().splitlines()[-1]
    headers = {"Authorization": f"Bearer {secret}"}
    assert (await api.client.get("/api/v1/cases", headers=headers)).status_code == 200

    assert cli(["tokens", "list"]) == 0
    out = capsys.readouterr().out
    assert secret not in out
    row = next(line for line in out.splitlines() if "12345" in line)
    token_id = row.split()[0]
    assert row.split()[1:4] == ["active", "operator", "00"]

    assert cli(["tokens", "revoke", token_id]) == 0
    assert f"revoked 1 tokens: {token_id}" in capsys.readouterr().out
    assert (await api.client.get("/api/v1/cases", headers=headers)).status_code == 401
    assert cli(["tokens", "list"]) == 0
    assert "12345" not in capsys.readouterr().out
    assert cli(["tokens", "list", "--all"]) == 0
    assert "revoked" in capsys.readouterr().out


def test_unknown_names_and_ids_are_clear_errors(cli, capsys):
    assert cli(["users", "disable", "nobody"]) == 2
    assert "no user named 'nobody'" in capsys.readouterr().err
    assert cli(["tokens", "revoke", "999999"]) == 2
    assert "token 999999 not found" in capsys.readouterr().err
