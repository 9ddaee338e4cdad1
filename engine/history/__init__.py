"""A city's history from its old system: past cases imported in bulk, and a synthetic history.

- ``records``: one past case as the old system hands it over (validated, extra keys refused).
- ``replay``: a record's timeline checked against the workflow, into the case it became.
- ``trail``: the replayed case's audit events, chained and MAC'd as ``engine.audit`` does.
- ``landing``: a batch of replayed cases written in one transaction (cases, audit events,
  tasks, SLA clocks and timers of the few still open), with the batch handed to any
  ``BatchSink`` (the seam where read models are kept from the same batches).
- ``view_rows``: the read models' rows of a chunk, summed where its cases are replayed.
- ``bulk``: rows as the database driver takes them, made once where they are made.
- ``service``: reading a file, batching, skipping what landed before, reporting bad records.
- ``generate``: a realistic synthetic history of the demo city, streamed to JSON Lines.
"""
