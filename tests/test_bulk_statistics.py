"""After a bulk load on PostgreSQL (a city's history, a sheet of knowledge articles) the
planner's statistics of what was loaded are made at once (ANALYZE): until autovacuum got to
them, a minute or more later, knowledge search took 1.2–1.4 s a query on 10,000 imported
articles instead of 25 ms. SQLite keeps none unless asked: nothing to check there."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from test_history_import import generate, write_lines

from engine.clock import FileClock
from engine.settings import get_settings
from web.cli import main


@pytest.fixture
def postgres_cli(ctx, tmp_path, monkeypatch):
    if ctx.db.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's planner statistics")
    clock_file = tmp_path / "clock"
    FileClock.write(clock_file, ctx.clock.now())
    monkeypatch.setenv("GRIDFLOW_DATABASE_URL", ctx.settings.database_url)
    monkeypatch.setenv("GRIDFLOW_INSTANCE_DIR", str(ctx.settings.instance_dir))
    monkeypatch.setenv("GRIDFLOW_CLOCK_FILE", str(clock_file))
    get_settings.cache_clear()
    yield main
    get_settings.cache_clear()


def analyzed(ctx, table: str) -> bool:
    """Whether ``table`` has had an ANALYZE by hand (autovacuum's is a separate column)."""
    with ctx.db.connect() as conn:
        at = conn.execute(
            text("SELECT last_analyze FROM pg_stat_user_tables WHERE relname = :t"), {"t": table}
        ).scalar_one()
    return at is not None


def test_a_knowledge_import_leaves_the_planner_the_shape_of_the_articles(ctx, postgres_cli):
    from engine.knowledge.importer import DEMO_ARTICLES

    assert not analyzed(ctx, "knowledge_gram")
    dry_run = ["knowledge", "import", str(DEMO_ARTICLES), "--dry-run"]
    assert postgres_cli(dry_run) == 0  # nothing written
    assert not analyzed(ctx, "knowledge_gram")
    assert postgres_cli(["knowledge", "demo"]) == 0
    assert all(analyzed(ctx, t) for t in ("knowledge_article", "knowledge_gram"))


def test_a_history_import_leaves_the_planner_the_shape_of_the_history(ctx, postgres_cli, tmp_path):
    assert not analyzed(ctx, "case")
    source = tmp_path / "history.jsonl"
    write_lines(source, generate(ctx, 30))
    assert postgres_cli(["import", "history", str(source), "--quiet"]) == 0
    assert all(analyzed(ctx, t) for t in ("case", "case_event", "view_kpi_day"))
