"""/metrics reports every series from zero: each workflow state, timer and outbox status,
so alerts have a series to watch before the first case, failure or dead letter."""

from __future__ import annotations

import re

from engine.outbox.models import OutboxStatus
from engine.timers.models import TimerStatus

SAMPLE = re.compile(r'^(gridflow_\w+)\{(\w+)="([^"]+)"\} (\S+)$', re.M)


def samples(body: str) -> dict[tuple[str, str], float]:
    return {(name, value): float(n) for name, _, value, n in SAMPLE.findall(body)}


async def test_an_empty_instance_reports_every_series_at_zero(api):
    found = samples((await api.client.get("/metrics")).text)
    for state in api.ctx.workflow.states:
        assert found[("gridflow_cases", state)] == 0.0
    for status in TimerStatus:
        assert found[("gridflow_timers", status.value)] == 0.0
    for status in OutboxStatus:
        assert found[("gridflow_outbox", status.value)] == 0.0


async def test_counts_rise_from_zero_and_the_others_stay(api):
    await api.file()
    found = samples((await api.client.get("/metrics")).text)
    assert found[("gridflow_cases", "registered")] == 1.0
    assert found[("gridflow_cases", "closed")] == 0.0
    assert found[("gridflow_timers", "pending")] >= 1.0
    assert found[("gridflow_timers", "incident")] == 0.0
    assert found[("gridflow_outbox", "dead")] == 0.0
