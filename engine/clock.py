"""The one clock of gridflow (docs/ARCHITECTURE.md#time).

Nothing else reads the wall clock: services take a ``Clock``. Production uses ``SystemClock``;
tests and the simulator use ``VirtualClock`` and jump ahead instead of waiting.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant as an aware UTC datetime."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class VirtualClock:
    """A clock that only moves when told to. Thread-safe; never goes backwards."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("VirtualClock needs an aware datetime")
        self._now = start.astimezone(UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, delta: timedelta | None = None, **kwargs: float) -> datetime:
        step = delta if delta is not None else timedelta(**kwargs)
        if step < timedelta(0):
            raise ValueError("a clock does not go backwards")
        with self._lock:
            self._now += step
            return self._now

    def set(self, when: datetime) -> datetime:
        when = when.astimezone(UTC)
        with self._lock:
            if when < self._now:
                raise ValueError("a clock does not go backwards")
            self._now = when
            return self._now


class FileClock:
    """A virtual clock shared by several processes: the instant is read from a file.

    For multi-process tests and demos only (GRIDFLOW_CLOCK_FILE): every server process reads
    the same file, so a test moves time for all of them by rewriting it (``FileClock.write``).
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.now()  # fail fast on a missing or malformed file

    def now(self) -> datetime:
        text = self.path.read_text(encoding="utf-8").strip()
        try:
            when = datetime.fromisoformat(text)
        except ValueError as exc:
            raise ValueError(f"{self.path}: not an ISO 8601 instant: {text!r}") from exc
        if when.tzinfo is None:
            raise ValueError(f"{self.path}: the instant needs a UTC offset: {text!r}")
        return when.astimezone(UTC)

    @staticmethod
    def write(path: str | Path, when: datetime) -> None:
        """Set the shared instant atomically (write a temporary file, then rename)."""
        target = Path(path)
        scratch = target.with_suffix(".tmp")
        scratch.write_text(when.astimezone(UTC).isoformat(), encoding="utf-8")
        scratch.replace(target)
