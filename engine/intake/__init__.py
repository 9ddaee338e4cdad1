"""Intake helpers the channels share, as case hooks in the intake transaction.

* :mod:`engine.intake.duplicates` — a new report near an open case of the same category is
  flagged as its likely duplicate (cross-channel, 并单 candidates).
* :mod:`engine.intake.alerts` — the ``alert_window`` table that folds AI video alert storms
  (same camera, same event type) into one case.
"""
