"""Auto or manual: what to do with a prediction (the dispatch hook calls :func:`route`).

A confident prediction (calibrated confidence ≥ threshold) may be applied automatically;
anything less goes to the command center's manual queue, with the top 3 suggestions for the
dispatcher to pick from. Choose the threshold from the model's ``operating_points`` (its
metadata, printed by ``gridflow router train``): the share routed automatically and their
held-out accuracy at each threshold.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.classifier.classifier import Prediction, Ranked
from engine.errors import InvalidInput

DEFAULT_THRESHOLD = 0.85


@dataclass(frozen=True)
class RouteDecision:
    auto: bool  # True: apply ``label``; False: manual queue, show ``candidates``
    target: str  # "department" or "category"
    label: str  # the best guess (a suggestion when not auto)
    confidence: float
    threshold: float
    candidates: Ranked  # the top 3, best first
    model_version: str
    reason: str

    @property
    def queue(self) -> str:
        return "auto" if self.auto else "manual"


def route(
    prediction: Prediction, threshold: float = DEFAULT_THRESHOLD, target: str | None = None
) -> RouteDecision:
    """Decide auto vs manual for ``target`` (default: the prediction's primary target)."""
    if not 0.0 <= threshold <= 1.0:
        raise InvalidInput("threshold", "must be between 0 and 1")
    if target is None:
        target = "department" if prediction.department is not None else "category"
    guess = prediction.guess(target)
    if guess is None:
        raise InvalidInput("target", f"the router has no {target} model")
    auto = guess.confidence >= threshold
    verdict = "≥" if auto else "<"
    return RouteDecision(
        auto=auto,
        target=target,
        label=guess.label,
        confidence=guess.confidence,
        threshold=threshold,
        candidates=guess.top3,
        model_version=prediction.model_version,
        reason=f"text router: {target} {guess.label} at {guess.confidence:.2f} "
        f"{verdict} threshold {threshold:.2f}",
    )
