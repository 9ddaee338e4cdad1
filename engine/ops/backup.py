"""Back up and restore everything an instance keeps: the database, the photos (attachments),
the text router's models and the instance folder (keys/, the audit checkpoints).

A backup is a directory::

    manifest.json        format, time, database kind and schema revision, every file's sha256
    database.sqlite3     SQLite: a copy made with SQLite's online backup API (consistent while
                         the server keeps writing)
    database.pgdump      PostgreSQL: ``pg_dump --format=custom``
    attachments/ models/ instance/

The manifest is written last: a directory without one is an interrupted backup and restore
refuses it. What is copied when matters for a backup taken while the server runs: the audit
checkpoints before the database (a checkpoint never names events the copy lacks), the photos
and keys after it (every photo and key the copied rows refer to already exists: photos are
stored before a case names them, keys before they sign).

The backup holds the instance's secret keys: keep it as safe as the server itself.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import OperationalError

from engine.audit import checkpoints_file
from engine.db import make_engine
from engine.errors import GridflowError
from engine.schema import alembic_config, current_revision, upgrade_schema

FORMAT = 1
MANIFEST = "manifest.json"
SQLITE_FILE = "database.sqlite3"
PG_FILE = "database.pgdump"
TREES = ("attachments", "models", "instance")
SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")


class BackupError(GridflowError):
    code = "backup_failed"


@dataclass(frozen=True)
class Instance:
    """Where one instance keeps its state (from its settings)."""

    database_url: str
    attachments_dir: Path
    models_dir: Path
    instance_dir: Path

    def tree(self, name: str) -> Path:
        return {
            "attachments": self.attachments_dir,
            "models": self.models_dir,
            "instance": self.instance_dir,
        }[name]

    @property
    def url(self) -> URL:
        return make_url(self.database_url)

    @property
    def is_sqlite(self) -> bool:
        return self.url.get_backend_name() == "sqlite"

    def sqlite_path(self) -> Path:
        database = self.url.database
        if not database or database == ":memory:":
            raise BackupError("an in-memory SQLite database cannot be backed up")
        return Path(database)


@dataclass
class Summary:
    path: Path
    manifest: dict[str, Any]

    def counts(self) -> dict[str, int]:
        found = dict.fromkeys(TREES, 0)
        for name in self.manifest["files"]:
            top = name.split("/", 1)[0]
            if top in found:
                found[top] += 1
        return found


# ---------------------------------------------------------------------------- backup


def backup(instance: Instance, target: Path, now: datetime) -> Summary:
    """Write a complete backup of ``instance`` into ``target`` (new or empty)."""
    target = Path(target)
    if target.exists() and any(target.iterdir()):
        raise BackupError(f"{target} is not empty: back up into a new directory")
    target.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(target, 0o700)  # it holds the instance's keys
    checkpoints = checkpoints_file(instance.instance_dir)
    if checkpoints.is_file():
        where = checkpoints.relative_to(instance.instance_dir)
        _copy_file(checkpoints, target / "instance" / where)
    revision, database = _dump_database(instance, target)
    skip = _not_in_instance_tree(instance, target)
    for name in TREES:
        _copy_tree(instance.tree(name), target / name, skip, keep={checkpoints.resolve()})
    manifest = {
        "format": FORMAT,
        "created_at": now.isoformat(),
        "database": {"kind": "sqlite" if instance.is_sqlite else "postgresql", "file": database},
        "schema_revision": revision,
        "files": {name: _sha256(target / name) for name in sorted(_files_under(target))},
    }
    scratch = target / (MANIFEST + ".tmp")
    scratch.write_text(json.dumps(manifest, indent=1, ensure_ascii=False), encoding="utf-8")
    os.replace(scratch, target / MANIFEST)
    return Summary(target, manifest)


def _dump_database(instance: Instance, target: Path) -> tuple[str | None, str]:
    db = make_engine(instance.database_url)
    try:
        with db.connect() as connection:
            revision = current_revision(connection)
    except OperationalError as exc:
        raise _unreachable(instance, exc) from None
    finally:
        db.dispose()
    if instance.is_sqlite:
        source = instance.sqlite_path()
        if not source.is_file():
            raise BackupError(f"no database at {source}")
        with sqlite3.connect(source) as live, sqlite3.connect(target / SQLITE_FILE) as copy:
            live.backup(copy)  # one step: a consistent snapshot while others write
        live.close()
        copy.close()
        return revision, SQLITE_FILE
    dump = [pg_tool("pg_dump"), "--format=custom", "--no-owner", "--no-acl"]
    _run([*dump, "--file", str(target / PG_FILE), *_pg_target(instance.url)], instance.url)
    return revision, PG_FILE


def _not_in_instance_tree(instance: Instance, target: Path) -> set[Path]:
    """What lives inside a tree but is not the tree's own: the live database files and the
    other trees nested in the instance folder (var/ holds them all by default), the backup."""
    skip = {target.resolve(), instance.attachments_dir.resolve(), instance.models_dir.resolve()}
    if instance.is_sqlite:
        live = instance.sqlite_path().resolve()
        skip |= {live, *(Path(f"{live}{side}") for side in SQLITE_SIDE_FILES)}
    return skip


def _copy_tree(source: Path, target: Path, skip: set[Path], keep: set[Path]) -> None:
    target.mkdir(parents=True, exist_ok=True)
    if not source.is_dir():
        return
    for entry in sorted(source.iterdir()):
        resolved = entry.resolve()
        if resolved in keep or resolved in skip:
            continue
        if entry.is_dir():
            _copy_tree(entry, target / entry.name, skip, keep)
        elif entry.is_file():
            _copy_file(entry, target / entry.name)


def _copy_file(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source, target)  # keeps the mode: key files stay 0600


def _files_under(root: Path) -> Iterator[str]:
    for path in root.rglob("*"):
        if path.is_file():
            yield path.relative_to(root).as_posix()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# ---------------------------------------------------------------------------- restore


def check(source: Path) -> Summary:
    """Read the manifest and check every file against it (nothing is written)."""
    source = Path(source)
    manifest_path = source / MANIFEST
    if not manifest_path.is_file():
        raise BackupError(f"{source} has no {MANIFEST}: not a backup, or an interrupted one")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{source}: backup format {manifest.get('format')!r} is not {FORMAT}")
    listed: dict[str, str] = manifest["files"]
    present = {name for name in _files_under(source) if name != MANIFEST}
    missing = sorted(set(listed) - present)
    if missing:
        raise BackupError(f"{source}: {len(missing)} files missing, first {missing[0]}")
    for name, digest in listed.items():
        if _sha256(source / name) != digest:
            raise BackupError(f"{source}: {name} does not match its checksum")
    revision = manifest.get("schema_revision")
    if revision is not None and not _known_revision(revision):
        raise BackupError(
            f"{source}: schema revision {revision} is newer than this gridflow: "
            "restore with the version that made the backup"
        )
    return Summary(source, manifest)


def restore(instance: Instance, source: Path, now: datetime, *, force: bool = False) -> Summary:
    """Put the backup in ``source`` in place of ``instance``'s state.

    Refuses to replace a database that holds tables, or files, unless ``force``; then the
    files that were there are kept beside, renamed ``*.before-restore-<time>``, and a
    PostgreSQL database is emptied by ``pg_restore --clean``.
    """
    summary = check(source)
    kind = summary.manifest["database"]["kind"]
    if kind != ("sqlite" if instance.is_sqlite else "postgresql"):
        raise BackupError(f"the backup holds a {kind} database; GRIDFLOW_DATABASE_URL is not one")
    conflicts = _conflicts(instance, Path(source))
    if conflicts and not force:
        listed = ", ".join(str(p) for p in conflicts[:3])
        raise BackupError(f"would replace {listed}: wipe them first or pass --force")
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    for path in conflicts:
        if path != _PG_MARK:  # PostgreSQL: pg_restore --clean replaces what is there
            path.rename(path.with_name(f"{path.name}.before-restore-{stamp}"))
    _restore_database(instance, Path(source), summary.manifest["database"]["file"])
    for name in TREES:
        _copy_tree(Path(source) / name, instance.tree(name), set(), set())
    keys = instance.instance_dir / "keys"
    if keys.is_dir():
        os.chmod(keys, 0o700)
    db = make_engine(instance.database_url)
    try:
        upgrade_schema(db)  # a backup from an older gridflow comes up to this one's schema
    finally:
        db.dispose()
    return summary


_PG_MARK = Path("<the PostgreSQL database>")


def _conflicts(instance: Instance, source: Path) -> list[Path]:
    """What the restore would replace: the database if it has tables, then every entry of
    the backup's trees that exists already (top level of attachments and models as a whole,
    each entry of the instance folder, which also holds other things)."""
    found: list[Path] = []
    if instance.is_sqlite:
        path = instance.sqlite_path()
        if path.exists() and _has_tables(instance):
            found += [path, *(Path(f"{path}{side}") for side in SQLITE_SIDE_FILES)]
    elif _has_tables(instance):
        found.append(_PG_MARK)
    for name in ("attachments", "models"):
        tree = instance.tree(name)
        if tree.is_dir() and any(tree.iterdir()):
            found.append(tree)
    for entry in sorted((source / "instance").iterdir()):
        here = instance.instance_dir / entry.name
        if here.exists():
            found.append(here)
    return [p for p in found if p == _PG_MARK or p.exists()]


def _has_tables(instance: Instance) -> bool:
    db = make_engine(instance.database_url)
    try:
        return bool(inspect(db).get_table_names())
    except OperationalError as exc:
        raise _unreachable(instance, exc) from None
    finally:
        db.dispose()


def _unreachable(instance: Instance, exc: OperationalError) -> BackupError:
    where = instance.url.render_as_string(hide_password=True)
    return BackupError(f"cannot open the database {where}: {str(exc.orig).strip()}")


def _restore_database(instance: Instance, source: Path, file: str) -> None:
    if instance.is_sqlite:
        target = instance.sqlite_path()
        target.parent.mkdir(parents=True, exist_ok=True)
        for side in SQLITE_SIDE_FILES:
            Path(f"{target}{side}").unlink(missing_ok=True)
        with sqlite3.connect(source / file) as copy, sqlite3.connect(target) as live:
            copy.backup(live)
        copy.close()
        live.close()
        return
    load = [pg_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--no-acl"]
    load += ["--single-transaction", "--exit-on-error", *_pg_target(instance.url, "--dbname")]
    _run([*load, str(source / file)], instance.url)


# ---------------------------------------------------------------------------- PostgreSQL


def pg_tool(name: str) -> str:
    """``pg_dump`` / ``pg_restore``: GRIDFLOW_PG_BIN's, else the newest Debian install's,
    else the PATH's (a client older than the server refuses to dump it)."""
    configured = os.environ.get("GRIDFLOW_PG_BIN")
    candidates = [Path(configured) / name] if configured else []
    installed = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version, reverse=True)
    candidates += [Path(bindir) / name for bindir in installed]
    for candidate in candidates:
        if candidate.is_file():
            return str(candidate)
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} not found: install postgresql-client (Debian)")
    return found


def _version(bindir: str) -> float:
    try:
        return float(Path(bindir).parent.name)
    except ValueError:
        return 0.0


def _pg_target(url: URL, database_flag: str = "") -> list[str]:
    args = []
    host = url.host or url.query.get("host")
    if host:
        args += ["--host", str(host)]
    if url.port:
        args += ["--port", str(url.port)]
    if url.username:
        args += ["--username", url.username]
    args += [database_flag, url.database or ""] if database_flag else [url.database or ""]
    return args


def _run(command: list[str], url: URL) -> None:
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)  # never on the command line
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tool = Path(command[0]).name
        raise BackupError(f"{tool} failed ({done.returncode}): {done.stderr.strip()[-2000:]}")


def _known_revision(revision: str) -> bool:
    from alembic.script import ScriptDirectory

    try:
        return ScriptDirectory.from_config(alembic_config()).get_revision(revision) is not None
    except Exception:  # alembic raises its own errors for an unknown id
        return False
