"""The session-signing key: no usable default. `gridflow init` generates one into the
instance folder (mode 0600), the server reads it, and refuses to start without a key, or,
on an address others can reach, with a published or short one."""

from __future__ import annotations

import stat

import pytest
import uvicorn

from engine.keys import key_path, write_key
from engine.settings import MissingSecretKey, Settings, get_settings
from web.app import create_app
from web.cli import main

OLD_DEFAULT = "insecure-development-key-set-GRIDFLOW_SECRET_KEY"
STRONG = "x7Qm" * 12


@pytest.fixture
def env(monkeypatch, tmp_path, db_url):
    monkeypatch.setenv("GRIDFLOW_DATABASE_URL", db_url)
    monkeypatch.delenv("GRIDFLOW_SECRET_KEY", raising=False)
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


@pytest.fixture
def served(monkeypatch) -> list[str]:
    """Replaces uvicorn's server: records the host it would have served on."""
    hosts: list[str] = []

    class FakeServer:
        def __init__(self, config: uvicorn.Config) -> None:
            hosts.append(config.host)

        def run(self) -> None:
            pass

    monkeypatch.setattr(uvicorn, "Server", FakeServer)
    return hosts


def test_there_is_no_default_key(env, instance_dir):
    settings = Settings()
    assert settings.secret_key is None
    with pytest.raises(MissingSecretKey, match="gridflow init"):
        create_app(settings)


def test_init_generates_the_key_once_and_the_server_uses_it(env, instance_dir, capsys):
    assert main(["init", "--example", "demo_city"]) == 0
    path = key_path(instance_dir, "session")
    assert f"session key: generated {path}" in capsys.readouterr().out
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    key = path.read_text().strip()
    assert len(key) >= 64
    assert main(["init", "--example", "demo_city"]) == 0
    assert f"session key: kept {path}" in capsys.readouterr().out
    assert path.read_text().strip() == key  # never overwritten
    assert Settings().secret_key == key
    app = create_app(Settings())
    app.state.ctx.db.dispose()


def test_the_variable_wins_over_the_file(env, instance_dir, capsys):
    env.setenv("GRIDFLOW_SECRET_KEY", STRONG)
    assert main(["init", "--example", "demo_city"]) == 0
    assert "GRIDFLOW_SECRET_KEY is set" in capsys.readouterr().out
    assert not key_path(instance_dir, "session").exists()
    assert Settings().secret_key == STRONG


def test_serve_refuses_to_start_without_a_key(env, served, capsys):
    assert main(["serve", "--port", "0"]) == 2
    assert "run `gridflow init`" in capsys.readouterr().err and served == []


@pytest.mark.parametrize("key", [OLD_DEFAULT, "test-secret", "short-but-random-7fQ"])
def test_serve_refuses_a_known_or_short_key_on_a_reachable_address(env, served, capsys, key):
    env.setenv("GRIDFLOW_SECRET_KEY", key)
    get_settings.cache_clear()
    assert main(["serve", "--host", "0.0.0.0", "--port", "0"]) == 2
    assert "refusing to serve on 0.0.0.0" in capsys.readouterr().err and served == []
    assert main(["serve", "--host", "127.0.0.1", "--port", "0"]) == 0  # loopback: a test key
    assert served == ["127.0.0.1"]


def test_serve_on_a_reachable_address_with_the_generated_key(env, served, instance_dir):
    write_key(instance_dir, "session", STRONG)
    assert main(["serve", "--host", "0.0.0.0", "--port", "0"]) == 0
    assert served == ["0.0.0.0"]


def test_make_run_works_on_a_fresh_machine(env, served, instance_dir):
    """`make run`: `gridflow init --example demo_city`, then `gridflow serve` on loopback."""
    assert main(["init", "--example", "demo_city"]) == 0
    get_settings.cache_clear()
    assert main(["serve", "--host", "127.0.0.1", "--port", "0"]) == 0
    assert served == ["127.0.0.1"]


def test_a_key_file_others_can_read_is_refused(env, instance_dir):
    path = write_key(instance_dir, "session", STRONG)
    path.chmod(0o644)
    with pytest.raises(RuntimeError, match="chmod 600"):
        Settings()
