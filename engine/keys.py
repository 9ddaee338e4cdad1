"""Secrets kept outside the database, in the instance folder's ``keys/`` directory.

One file per secret, readable by its owner only (mode 0600), written once and never
overwritten: the page-session signing key (``session``) and the audit trail's MAC keys.
A database administrator who can edit every table still cannot forge what these sign.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

KEYS_DIR = "keys"
KEY_BYTES = 48  # token_urlsafe(48): 64 characters, 384 random bits


class KeyFileError(RuntimeError):
    """A key file that exists but cannot be used (readable by others, empty)."""


def key_path(instance_dir: Path, name: str) -> Path:
    if not name.replace("-", "").replace("_", "").isalnum():
        raise ValueError(f"bad key name {name!r}")
    return Path(instance_dir) / KEYS_DIR / f"{name}.key"


def read_key(instance_dir: Path, name: str) -> str | None:
    """The key's text, or None when there is no such file. Refuses a key file that group or
    others may read, as ssh does: a leaked signing key is no key."""
    path = key_path(instance_dir, name)
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return None
    if mode & 0o077:
        raise KeyFileError(f"{path} is readable by others (mode {mode & 0o777:o}); chmod 600 it")
    text = path.read_text(encoding="ascii").strip()
    if not text:
        raise KeyFileError(f"{path} is empty")
    return text


def write_key(instance_dir: Path, name: str, text: str) -> Path:
    """Create the key file with mode 0600; an existing file is never replaced."""
    path = key_path(instance_dir, name)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(text + "\n")
        out.flush()
        os.fsync(out.fileno())
    return path


def ensure_key(instance_dir: Path, name: str) -> tuple[str, bool]:
    """The key, generated on first use; also whether it was generated now."""
    existing = read_key(instance_dir, name)
    if existing is not None:
        return existing, False
    text = secrets.token_urlsafe(KEY_BYTES)
    try:
        write_key(instance_dir, name, text)
    except FileExistsError:  # another process made it first: use theirs
        return read_key(instance_dir, name) or text, False
    return text, True
