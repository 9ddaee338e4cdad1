"""The CLI: init loads a city and its users; tokens create prints the token on its last line."""

from __future__ import annotations

import httpx

from engine.settings import get_settings
from web.app import create_app
from web.cli import main


async def test_init_then_token_then_login(tmp_path, monkeypatch, capsys):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("GRIDFLOW_DATABASE_URL", url)
    get_settings.cache_clear()
    try:
        assert main(["init", "--example", "demo_city"]) == 0
        out = capsys.readouterr().out
        assert "示范市" in out and "operator" in out
        assert main(["init", "--example", "demo_city"]) == 0  # re-running is safe
        assert main(["tokens", "create", "--role", "handler", "--scope", "HW-01"]) == 0
        token = capsys.readouterr().out.strip().splitlines()[-1]
        assert token.startswith("gf_")
        assert main(["tokens", "create", "--role", "handler", "--scope", "00"]) == 2
        assert "department code" in capsys.readouterr().err

        app = create_app()
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            me = await client.get("/api/v1/cases", headers={"Authorization": f"Bearer {token}"})
            assert me.status_code == 200
            login = await client.post(
                "/api/v1/auth/token", json={"username": "operator", "password": "gridflow-demo"}
            )
            assert login.status_code == 200 and login.json()["role"] == "operator"
            wrong = await client.post(
                "/api/v1/auth/token", json={"username": "operator", "password": "nope"}
            )
            assert wrong.status_code == 401
        app.state.ctx.db.dispose()
    finally:
        get_settings.cache_clear()


def test_init_reports_a_broken_city(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("GRIDFLOW_DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    get_settings.cache_clear()
    (tmp_path / "city").mkdir()
    (tmp_path / "city" / "city.toml").write_text('name = "X"\n', encoding="utf-8")
    (tmp_path / "city" / "units.csv").write_text(
        "code,name,tier,parent\n00,X,city,\n01,D,district,99\n"
    )
    try:
        assert main(["init", "--city", str(tmp_path / "city")]) == 2
        assert "parent '99' is unknown" in capsys.readouterr().err
    finally:
        get_settings.cache_clear()
