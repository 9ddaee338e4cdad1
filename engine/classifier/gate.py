"""The quality gate: a new model goes live only if it is at least as good as the live one on
the same held-out cases (or an admin forces it).

The held-out cases are the newest share of the new model's training data (the time-ordered
split, :mod:`engine.classifier.training`): the new pipeline's model trained without them is
scored on them, and so is the live model. The live model may have been trained on some of
them, which only favours it: the gate errs on the side of keeping what runs.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from engine.classifier.metrics import evaluate
from engine.classifier.model import TargetModel

if TYPE_CHECKING:
    from engine.classifier.training import TrainingResult


@dataclass(frozen=True)
class GateResult:
    passed: bool
    cases: int
    new_accuracy: float | None
    new_macro_f1: float | None
    live_version: str | None
    live_accuracy: float | None
    live_macro_f1: float | None
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {k: round(v, 4) if isinstance(v, float) else v for k, v in asdict(self).items()}


def judge(result: TrainingResult, live: TargetModel | None, live_version: str | None) -> GateResult:
    held = result.time_split
    if held is None:
        passed = live is None
        why = "no live model" if passed else "too few texts for a held-out set: not comparable"
        return GateResult(passed, 0, None, None, live_version, None, None, why)
    new = held.metrics
    if live is None:
        return GateResult(
            True, len(held.labels), new.accuracy, new.macro_f1, None, None, None, "no live model"
        )
    old = evaluate(held.labels, live.proba_many(held.texts), live.labels)
    passed = new.accuracy >= old.accuracy
    verdict = "at least as good as" if passed else "worse than"
    reason = (
        f"new {new.accuracy:.4f} {verdict} live {live_version} {old.accuracy:.4f} "
        f"on the newest {len(held.labels)} cases"
    )
    return GateResult(
        passed,
        len(held.labels),
        new.accuracy,
        new.macro_f1,
        live_version,
        old.accuracy,
        old.macro_f1,
        reason,
    )
