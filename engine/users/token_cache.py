"""Bearer token → principal, kept briefly in each process; a revocation ends it at once.

Every API request names its token, and looking it up (digest, a join of token and user, the
principal) was a database round trip per request. A process keeps what it found for ``TTL``
seconds, keyed by the token's digest. What makes a kept answer wrong is a revocation: a
token revoked, its user disabled, their password, role or scope changed (which revoke the
user's tokens: ``engine.users.service.end_user_access``). So a kept answer is used only while
no revocation happened since it was read, checked on every use, two ways:

- in this process, a counter that ``revoked()`` advances;
- across processes (several uvicorn workers, the CLI beside a server), the size of a file
  in the instance folder, ``token-revocations``, to which every revocation appends one byte
  after its transaction commits. Every process of an instance shares that folder already
  (its audit keys are there), and reading a file's size is one ``stat``, no database.

The generation is read before the database is asked, so a revocation that commits while an
answer is being read makes that answer stale at its first use. A process that dies between
its revocation's commit and the append leaves other processes' answers standing for at most
``TTL``; so does a token revoked by hand in the database. An expiry is checked on each use.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from engine.users.models import Principal

TTL = 5.0  # seconds a process keeps an answer at most
SIZE = 4096  # answers kept per process; beyond that the cache starts again
FILE_NAME = "token-revocations"

_lock = threading.Lock()
_local = 0  # revocations seen by this process


def revocations_file(instance_dir: Path) -> Path:
    return instance_dir / FILE_NAME


def revoked(instance_dir: Path | None) -> None:
    """A revocation committed: answers kept before it are stale, here and (with the
    instance folder) in every process of the instance."""
    global _local
    with _lock:
        _local += 1
    if instance_dir is not None:
        instance_dir.mkdir(parents=True, exist_ok=True)
        with revocations_file(instance_dir).open("ab") as handle:
            handle.write(b"r")


def _shared(path: Path | None) -> int:
    if path is None:
        return 0
    try:
        return os.stat(path).st_size
    except FileNotFoundError:
        return 0


@dataclass(frozen=True, slots=True)
class _Kept:
    principal: Principal
    expires_at: datetime | None
    generation: tuple[int, int]
    until: float  # monotonic


Read = Callable[[str], tuple[Principal, datetime | None]]  # digest → principal, expiry


class TokenCache:
    def __init__(self, instance_dir: Path | None, ttl: float = TTL, size: int = SIZE) -> None:
        self.path = None if instance_dir is None else revocations_file(instance_dir)
        self.ttl, self.size = ttl, size
        self._kept: dict[str, _Kept] = {}
        self.hits = self.misses = 0

    def generation(self) -> tuple[int, int]:
        return _local, _shared(self.path)

    def kept(self, digest: str, now: datetime) -> Principal | None:
        """The principal kept for ``digest`` while still good, else None; no database (a
        caller on the event loop asks this first and goes to a thread only on None)."""
        kept = self._kept.get(digest)
        if (
            kept is not None
            and kept.generation == self.generation()
            and kept.until > time.monotonic()
            and (kept.expires_at is None or kept.expires_at > now)
        ):
            self.hits += 1
            return kept.principal
        return None

    def principal(self, digest: str, now: datetime, read: Read) -> Principal:
        """The principal of the token with ``digest``: kept, or ``read`` (which raises when
        the token is no good; a refusal is never kept)."""
        generation = self.generation()  # before the read: a revocation meanwhile makes it stale
        found = self.kept(digest, now)
        if found is not None:
            return found
        self.misses += 1
        principal, expires_at = read(digest)
        if len(self._kept) >= self.size:
            self._kept = {}
        self._kept[digest] = _Kept(principal, expires_at, generation, time.monotonic() + self.ttl)
        return principal
