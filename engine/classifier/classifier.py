"""The text router: category and department suggestions for one complaint text.

This is the seam the dispatch hook and the intake pages call::

    router = TextRouter.load(ModelStore(settings.models_dir, settings.secret_key))
    prediction = router.predict(case_text(case))
    decision = route(prediction, threshold=0.85)  # engine.classifier.decision

A router holds the newest (or chosen) model of each target it finds; a target without a
model is simply not predicted (its fields are ``None``). The n-grams of a text are computed
once and scored by both models.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from engine.classifier.model import TARGETS, TargetModel, top_k
from engine.classifier.model_files import ModelStore
from engine.classifier.text import analyze
from engine.errors import NotFound

Ranked = tuple[tuple[str, float], ...]


@dataclass(frozen=True)
class Guess:
    """One target's answer: the best label, its calibrated probability, the top 3."""

    label: str
    confidence: float
    top3: Ranked


@dataclass(frozen=True)
class Prediction:
    """What the router says about a text.

    ``confidence`` and ``top3`` are the department's when a department model is loaded (the
    dispatch decision), else the category's; ``guesses`` has both. ``model_version`` names
    every model used, e.g. ``category@20260302T010000Z-3fa2b1c0,department@…``.
    """

    category: str | None
    department: str | None
    confidence: float
    top3: Ranked
    model_version: str
    guesses: dict[str, Guess]

    def guess(self, target: str) -> Guess | None:
        return self.guesses.get(target)


class TextRouter:
    def __init__(self, models: dict[str, TargetModel], versions: dict[str, str]) -> None:
        if not models:
            raise NotFound("the text router has no model: train one with `gridflow router train`")
        self.models = {t: models[t] for t in TARGETS if t in models}
        self.versions = versions
        self.model_version = ",".join(f"{t}@{versions[t]}" for t in self.models)
        # Models trained with the same n-gram range share one analysis of the text.
        self._ngrams = {model.ngrams for model in self.models.values()}

    @classmethod
    def load(
        cls, store: ModelStore, versions: dict[str, str] | None = None, targets: Sequence[str] = ()
    ) -> TextRouter:
        """The live model of each target in ``store`` (its pin, else the newest), or the
        given versions.

        ``targets``: only these; a target named here (or in ``versions``) must have a model.
        """
        wanted = dict(versions or {})
        live = store.live_versions()
        models, found = {}, {}
        for target in TARGETS:
            if targets and target not in targets:
                continue
            required = target in wanted or target in targets
            if not required and target not in live:
                continue
            if target not in wanted and target in live:
                wanted[target] = live[target]
            model, info = store.load(target, wanted.get(target))
            models[target], found[target] = model, info.version
        return cls(models, found)

    def predict(self, text: str) -> Prediction:
        grams = {ngrams: analyze(text, ngrams) for ngrams in self._ngrams}
        guesses = {}
        for target, model in self.models.items():
            proba = model.proba_grams(grams[model.ngrams])
            top3 = tuple(top_k(proba, model.labels, 3))
            guesses[target] = Guess(top3[0][0], top3[0][1], top3)
        return self._prediction(guesses)

    def predict_many(self, texts: Sequence[str]) -> list[Prediction]:
        """Batch prediction (sparse matrices; faster per text for large batches)."""
        tables = {t: m.proba_many(texts) for t, m in self.models.items()}
        out = []
        for row in range(len(texts)):
            guesses = {}
            for target, model in self.models.items():
                top3 = tuple(top_k(tables[target][row], model.labels, 3))
                guesses[target] = Guess(top3[0][0], top3[0][1], top3)
            out.append(self._prediction(guesses))
        return out

    def _prediction(self, guesses: dict[str, Guess]) -> Prediction:
        primary = guesses.get("department") or guesses["category"]
        return Prediction(
            category=guesses["category"].label if "category" in guesses else None,
            department=guesses["department"].label if "department" in guesses else None,
            confidence=primary.confidence,
            top3=primary.top3,
            model_version=self.model_version,
            guesses=guesses,
        )
