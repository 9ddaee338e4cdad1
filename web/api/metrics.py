"""Prometheus metrics at /metrics: what an operations team alerts on, read at scrape time.

Gauges come straight from the database (so every process reports the same truth): cases by
state, timers pending and in incident, outbox messages waiting and dead-lettered. Every series
is present from zero (each state of the workflow, each timer and outbox status), so an alert
on ``gridflow_outbox{status="dead"} > 0`` has a series to watch before the first failure.
Restrict the path to the monitoring network at the reverse proxy.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import text
from sqlalchemy.engine import Engine

from engine.outbox.models import OutboxStatus
from engine.timers.models import TimerStatus

router = APIRouter(tags=["operations"])

QUERIES = {
    "cases": 'SELECT state, count(*) FROM "case" GROUP BY state',
    "timers": "SELECT status, count(*) FROM timer GROUP BY status",
    "outbox": "SELECT status, count(*) FROM outbox GROUP BY status",
}


class DatabaseCollector(Collector):
    def __init__(self, db: Engine, states: Iterable[str]) -> None:
        self.db = db
        # The label values every family reports, at 0 when no row has them.
        self.known: dict[str, list[str]] = {
            "cases": list(states),
            "timers": [status.value for status in TimerStatus],
            "outbox": [status.value for status in OutboxStatus],
        }

    def collect(self) -> Iterator[GaugeMetricFamily]:
        with self.db.connect() as conn:
            rows = {name: conn.execute(text(sql)).all() for name, sql in QUERIES.items()}
        for name, label, help_text in (
            ("cases", "state", "Cases by workflow state"),
            ("timers", "status", "SLA timers by status (incident = gave up after retries)"),
            ("outbox", "status", "Outbound webhook messages by status (dead = gave up)"),
        ):
            family = GaugeMetricFamily(f"gridflow_{name}", help_text, labels=[label])
            counts = dict.fromkeys(self.known[name], 0)
            counts.update({str(key): count for key, count in rows[name]})
            for key, count in counts.items():
                family.add_metric([key], count)
            yield family


def registry_for(db: Engine, states: Iterable[str]) -> CollectorRegistry:
    registry = CollectorRegistry()
    registry.register(DatabaseCollector(db, states))
    return registry


@router.get("/metrics", response_class=Response)
def metrics(request: Request) -> Response:
    """Prometheus text format."""
    state = request.app.state
    if getattr(state, "metrics_registry", None) is None:
        state.metrics_registry = registry_for(state.ctx.db, state.ctx.workflow.states)
    return Response(generate_latest(state.metrics_registry), media_type=CONTENT_TYPE_LATEST)
