"""Durable timers: rows written in the case's transaction, fired by a sweeper.

* :mod:`engine.timers.models` — the ``timer`` table.
* :mod:`engine.timers.plan` — which timers a clock needs (yellow, red, the escalation step).
* :mod:`engine.timers.leases` — claiming due rows in batches under a lease (SQLite, PostgreSQL).
* :mod:`engine.timers.actions` — what a due timer does: a system action through the case service.
* :mod:`engine.timers.sweeper` — :class:`~engine.timers.sweeper.Sweeper`, the plain callable
  that the server's scheduler (and tests, with a virtual clock) call with ``now``.
* :mod:`engine.timers.hooks` — :class:`~engine.timers.hooks.TimerHook`: marks a timer fired in
  the transaction of its effect and schedules the next escalation step.

See docs/ARCHITECTURE.md#timers-and-escalation.
"""
