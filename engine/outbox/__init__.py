"""The transactional outbox: messages for the outside world, written in the
case's own transaction by :class:`~engine.outbox.hooks.OutboxHook`, delivered later by a
worker (adapters/webhook.py) that claims them with a lease, retries with backoff and
dead-letters what never gets through.

* :mod:`engine.outbox.models` — the ``outbox`` table.
* :mod:`engine.outbox.hooks` — which change sends what to whom.
* :mod:`engine.outbox.leases` — claim, finish, list, redeliver.

See docs/ARCHITECTURE.md#the-write-path.
"""
