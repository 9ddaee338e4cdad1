"""The quality gate: a new model goes live only if it is at least as good as the live one on
the same held-out cases (or an admin forces it).

The held-out cases are the newest share of the new model's training data (the time-ordered
split, :mod:`engine.classifier.training`) that the live model was NOT trained on (its file
keeps a hash of every training text): the new pipeline's model trained without them and the
live model are both scored on exactly those cases, which neither has seen. With fewer than
``MIN_CASES`` such cases (retrained on the same data) the two cannot be compared fairly and
the live model stays unless an admin forces the new one.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from engine.classifier.metrics import evaluate
from engine.classifier.model import TargetModel

if TYPE_CHECKING:
    from engine.classifier.training import TrainingResult

MIN_CASES = 30


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


def judge(
    result: TrainingResult,
    live: TargetModel | None,
    live_version: str | None,
    min_cases: int = MIN_CASES,
) -> GateResult:
    held = result.time_split
    if live is None:
        new = held.metrics if held is not None else result.metrics
        size = len(held.labels) if held is not None else 0
        return GateResult(True, size, new.accuracy, new.macro_f1, None, None, None, "no live model")
    unseen = [] if held is None else [i for i, s in enumerate(live.saw(held.texts)) if not s]
    if len(unseen) < min_cases:
        reason = (
            f"only {len(unseen)} held-out cases the live model {live_version} never saw "
            f"(need {min_cases}): add newer cases, or an admin forces it"
        )
        return GateResult(False, len(unseen), None, None, live_version, None, None, reason)
    assert held is not None
    texts = [held.texts[i] for i in unseen]
    labels = [held.labels[i] for i in unseen]
    new = evaluate(labels, held.proba[unseen], result.model.labels)
    old = evaluate(labels, live.proba_many(texts), live.labels)
    passed = new.accuracy >= old.accuracy
    verdict = "at least as good as" if passed else "worse than"
    reason = (
        f"new {new.accuracy:.4f} {verdict} live {live_version} {old.accuracy:.4f} on the "
        f"newest {len(unseen)} cases neither has seen"
    )
    return GateResult(
        passed,
        len(unseen),
        new.accuracy,
        new.macro_f1,
        live_version,
        old.accuracy,
        old.macro_f1,
        reason,
    )
