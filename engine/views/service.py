"""The read models' upkeep outside the write path: rebuild, check, and a history import's
batch sink. The code is in ``engine.views.rebuild`` (replaying the audit trail),
``engine.views.check`` (kept against rebuilt), ``engine.views.imported`` (the import's sink)
and ``engine.views.tally`` (what a case's facts put in each read model); this module keeps
the names callers use. See docs/READ_SIDE.md#rebuild-and-check.
"""

from __future__ import annotations

from engine.views.check import check
from engine.views.imported import ImportedCases
from engine.views.rebuild import Rebuilder, add_cases, rebuild

__all__ = ["ImportedCases", "Rebuilder", "add_cases", "check", "rebuild"]
