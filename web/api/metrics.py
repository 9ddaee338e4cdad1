"""Prometheus metrics at /metrics: what an operations team alerts on, read at scrape time.

Gauges come straight from the database (so every process reports the same truth): cases by
state, timers pending and in incident, outbox messages waiting and dead-lettered. Restrict the
path to the monitoring network at the reverse proxy.
"""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import text
from sqlalchemy.engine import Engine

router = APIRouter(tags=["operations"])

QUERIES = {
    "cases": 'SELECT state, count(*) FROM "case" GROUP BY state',
    "timers": "SELECT status, count(*) FROM timer GROUP BY status",
    "outbox": "SELECT status, count(*) FROM outbox GROUP BY status",
}


class DatabaseCollector(Collector):
    def __init__(self, db: Engine) -> None:
        self.db = db

    def collect(self) -> Iterator[GaugeMetricFamily]:
        with self.db.connect() as conn:
            rows = {name: conn.execute(text(sql)).all() for name, sql in QUERIES.items()}
        for name, label, help_text in (
            ("cases", "state", "Cases by workflow state"),
            ("timers", "status", "SLA timers by status (incident = gave up after retries)"),
            ("outbox", "status", "Outbound webhook messages by status (dead = gave up)"),
        ):
            family = GaugeMetricFamily(f"gridflow_{name}", help_text, labels=[label])
            for key, count in rows[name]:
                family.add_metric([str(key)], count)
            yield family


def registry_for(db: Engine) -> CollectorRegistry:
    registry = CollectorRegistry()
    registry.register(DatabaseCollector(db))
    return registry


@router.get("/metrics", response_class=Response)
def metrics(request: Request) -> Response:
    """Prometheus text format."""
    state = request.app.state
    if getattr(state, "metrics_registry", None) is None:
        state.metrics_registry = registry_for(state.ctx.db)
    return Response(generate_latest(state.metrics_registry), media_type=CONTENT_TYPE_LATEST)
