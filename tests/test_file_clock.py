"""The file clock lets several processes share one virtual time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from engine.clock import FileClock
from engine.settings import Settings
from web.context import build_context


def test_file_clock_follows_its_file(tmp_path, db_url):
    path = tmp_path / "clock"
    start = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
    FileClock.write(path, start)
    ctx = build_context(Settings(database_url=db_url, clock_file=path))
    try:
        assert ctx.clock.now() == start
        FileClock.write(path, start + timedelta(hours=5))
        assert ctx.clock.now() == start + timedelta(hours=5)
    finally:
        ctx.db.dispose()


def test_file_clock_refuses_bad_files(tmp_path):
    path = tmp_path / "clock"
    path.write_text("yesterday", encoding="utf-8")
    with pytest.raises(ValueError, match="not an ISO 8601 instant"):
        FileClock(path)
    path.write_text("2026-03-02T09:00:00", encoding="utf-8")
    with pytest.raises(ValueError, match="needs a UTC offset"):
        FileClock(path)
