"""Rule-based dispatch wired into the case service (docs/ARCHITECTURE.md#dispatch).

* :mod:`engine.dispatch.models` — the stored rule tables and each case's decision record.
* :mod:`engine.dispatch.rule_versions` — ``LiveRules``: the active table shared through the
  database (activation with checks, per-decision version check, old versions kept).
* :mod:`engine.dispatch.hooks` — ``DispatchHook``: a case entering ``registered`` is
  dispatched by the first matching rule or sent to a command center's manual queue.
* :mod:`engine.dispatch.effects` — what dispatch, queue, co_report and resolve record on
  the case (rule, table version, source, queue; co-handler reports).
* :mod:`engine.dispatch.queue`, :mod:`engine.dispatch.explain` — the manual queue and the
  "why was this sent here?" answer.
* :mod:`engine.dispatch.cases_file`, :mod:`engine.dispatch.backtest` — rule test files and
  backtests for maintainers (``gridflow rules test|backtest``).

Nothing is imported here, so the case service can import the effects without a cycle.
"""
