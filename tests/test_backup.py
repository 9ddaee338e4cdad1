"""`gridflow backup DIR` / `gridflow restore DIR`: the restore drill. A running instance with
cases and photos is backed up, wiped (database, photos, models, keys), restored, and
`gridflow audit verify` passes with every case and photo present. On SQLite, and on
PostgreSQL with pg_dump / pg_restore in the PostgreSQL pass."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from audit_support import make_cases
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from engine.cases.models import Case
from engine.db import make_engine, new_session
from engine.settings import get_settings
from tests.intake_support import png
from web.cli import main

GRID = "01010101"


@pytest.fixture
def instance(make_ctx, tmp_path, monkeypatch):
    """An instance laid out as the default var/: photos and models inside the instance
    folder, and the CLI pointed at it."""
    folder = tmp_path / "instance"
    ctx = make_ctx(
        instance_dir=folder, attachments_dir=folder / "attachments", models_dir=folder / "models"
    )
    settings = ctx.settings
    monkeypatch.setenv("GRIDFLOW_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("GRIDFLOW_INSTANCE_DIR", str(folder))
    monkeypatch.setenv("GRIDFLOW_ATTACHMENTS_DIR", str(settings.attachments_dir))
    monkeypatch.setenv("GRIDFLOW_MODELS_DIR", str(settings.models_dir))
    get_settings.cache_clear()
    yield ctx
    get_settings.cache_clear()


async def photo(api, seed: int) -> str:
    files = {"file": ("p.png", png(seed), "image/png")}
    response = await api.client.post(
        "/api/v1/attachments", files=files, headers=api.auth("grid_worker", GRID)
    )
    assert response.status_code == 201, response.text
    return response.json()["ref"]


async def grid_report(api, n: int, photos: list[str]) -> int:
    body = {
        "report_id": f"drill-{n}",
        "category": "09007",
        "description": "东坡社区3幢楼道口堆放大量装修垃圾和旧家具，堵塞消防通道",
        "lat": 30.30333,
        "lng": 120.1096,
        "grid_code": GRID,
        "address": "东坡社区3幢",
        "photos": photos,
    }
    response = await api.client.post(
        "/api/v1/intake/grid", json=body, headers=api.auth("grid_worker", GRID)
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


def case_ids(url: str) -> list[int]:
    db = make_engine(url)
    try:
        with new_session(db) as session:
            return list(session.execute(select(Case.id).order_by(Case.id)).scalars())
    finally:
        db.dispose()


def digests(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def wipe(ctx) -> None:
    """Lose the machine: the database's content and the whole instance folder."""
    url = ctx.settings.database_url
    ctx.db.dispose()
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        for side in ("", "-wal", "-shm"):
            Path(f"{parsed.database}{side}").unlink(missing_ok=True)
    else:
        db = make_engine(url)
        with db.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        db.dispose()
    shutil.rmtree(ctx.settings.instance_dir)


async def test_the_restore_drill(instance, make_api, tmp_path, capsys):
    ctx = instance
    async with make_api(ctx) as api:
        refs = [await photo(api, seed) for seed in (1, 2, 3)]
        await grid_report(api, 1, refs[:2])
        await grid_report(api, 2, refs[2:])
    make_cases(ctx, 3)
    models = ctx.settings.models_dir / "router-v1.bin"
    models.parent.mkdir(parents=True, exist_ok=True)
    models.write_bytes(b"model bytes")
    assert main(["audit", "checkpoint"]) == 0
    url, folder = ctx.settings.database_url, ctx.settings.instance_dir
    before_cases, before_files = case_ids(url), digests(folder)
    assert len(before_cases) == 5 and any(name.startswith("keys/") for name in before_files)
    capsys.readouterr()

    backup = tmp_path / "backups" / "monday"
    assert main(["backup", str(backup)]) == 0  # the server's engine still open: online
    assert "3 attachment files, 1 model files" in capsys.readouterr().out
    manifest = json.loads((backup / "manifest.json").read_text())
    photos = {f"attachments/{name}" for name in digests(folder / "attachments")}
    assert len(photos) == 3 and set(manifest["files"]) >= photos
    assert backup.stat().st_mode & 0o777 == 0o700
    assert (backup / "instance" / "keys").is_dir()

    wipe(ctx)
    assert main(["restore", "--check", str(backup)]) == 0
    assert main(["restore", str(backup)]) == 0
    capsys.readouterr()
    assert main(["audit", "verify"]) == 0
    assert "audit trail verified: 5 cases" in capsys.readouterr().out
    assert case_ids(url) == before_cases
    assert digests(folder) == before_files  # every photo, model, key and checkpoint
    for key in (folder / "keys").iterdir():
        assert key.stat().st_mode & 0o777 == 0o600


async def test_photos_are_served_after_a_restore(instance, make_ctx, make_api, tmp_path):
    ctx = instance
    async with make_api(ctx) as api:
        ref = await photo(api, 7)
        case_id = await grid_report(api, 1, [ref])
    assert main(["backup", str(tmp_path / "b")]) == 0
    wipe(ctx)
    assert main(["restore", str(tmp_path / "b")]) == 0
    again = make_ctx(
        instance_dir=ctx.settings.instance_dir,
        attachments_dir=ctx.settings.attachments_dir,
        models_dir=ctx.settings.models_dir,
    )
    async with make_api(again) as api:
        case = await api.client.get(f"/api/v1/cases/{case_id}", headers=api.auth("admin"))
        assert case.status_code == 200
        served = await api.client.get(f"/api/v1/attachments/{ref}", headers=api.auth("admin"))
        assert served.status_code == 200 and served.content == png(7)


def test_restore_refuses_to_overwrite_without_force(instance, tmp_path, capsys):
    make_cases(instance, 1)
    backup = tmp_path / "b"
    assert main(["backup", str(backup)]) == 0
    assert main(["backup", str(backup)]) == 2  # never into a used directory
    assert "not empty" in capsys.readouterr().err
    assert main(["restore", str(backup)]) == 2
    assert "pass --force" in capsys.readouterr().err
    make_cases(instance, 1)  # a case the backup does not have
    instance.db.dispose()
    assert main(["restore", "--force", str(backup)]) == 0
    assert len(case_ids(instance.settings.database_url)) == 1
    folder = instance.settings.instance_dir
    assert list(folder.glob("keys.before-restore-*"))  # what was there is kept beside


def test_a_damaged_or_interrupted_backup_is_refused(instance, tmp_path, capsys):
    make_cases(instance, 1)
    backup = tmp_path / "b"
    assert main(["backup", str(backup)]) == 0
    key = next((backup / "instance" / "keys").iterdir())
    key.write_text("changed\n")
    assert main(["restore", "--check", str(backup)]) == 2
    assert "does not match its checksum" in capsys.readouterr().err
    (backup / "manifest.json").unlink()
    assert main(["restore", str(backup)]) == 2
    assert "interrupted" in capsys.readouterr().err


def test_an_unreachable_database_is_a_clear_error(tmp_path, monkeypatch, capsys):
    url = "postgresql+psycopg://gridflow:s3cret@127.0.0.1:1/gridflow"
    monkeypatch.setenv("GRIDFLOW_DATABASE_URL", url)
    monkeypatch.setenv("GRIDFLOW_INSTANCE_DIR", str(tmp_path / "instance"))
    get_settings.cache_clear()
    try:
        assert main(["backup", str(tmp_path / "b")]) == 2
    finally:
        get_settings.cache_clear()
    err = capsys.readouterr().err
    assert "cannot open the database postgresql+psycopg://gridflow:***@127.0.0.1:1" in err
    assert "s3cret" not in err
