"""The one clock of gridflow (DESIGN §5).

Nothing else reads the wall clock: services take a ``Clock``. Production uses ``SystemClock``;
tests and the simulator use ``VirtualClock`` and jump ahead instead of waiting.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
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
