"""SLA clocks: one clock per case and stage generation, on the working calendar.

* :mod:`engine.sla.models` — the ``sla_clock`` and ``calendar_override`` tables.
* :mod:`engine.sla.calendars` — the city's :class:`~engine.calendar.WorkCalendar`, cached.
* :mod:`engine.sla.limits` — which limit a stage gets (rule override, category, default).
* :mod:`engine.sla.clocks` — start, stop, pause, resume and extend a clock.
* :mod:`engine.sla.hooks` — :class:`~engine.sla.hooks.SlaHook` keeps clocks in step with cases.
* :mod:`engine.sla.views` — a case's stages as the API shows them; the supervision queue.
* :mod:`engine.sla.ladder` — which command center supervises a case next.

See docs/ARCHITECTURE.md#time.
"""
