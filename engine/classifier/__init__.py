"""Smart dispatch from complaint text (智能分拨): the standalone text router.

Public API (the dispatch hook and pages call these):

- :class:`TextRouter` ``.load(ModelStore(dir, key))`` then ``.predict(text) -> Prediction``
  (category, department, calibrated confidence, top3 [(label, p)], model_version);
- :func:`route` ``(prediction, threshold) -> RouteDecision`` (auto or manual queue + top 3);
- :class:`LiveRouter`: the process's one shared router over the newest models (the dispatch
  hook and the intake page), reloaded when a new version appears;
- :func:`case_text` (the text of a case the router reads: description and address);
- :func:`train_target`, :class:`ModelStore` (versioned, verified model files);
- :func:`closed_case_labels` (the training-label feed) and :func:`read_labelled` (CSV/XLSX);
- :class:`ComplaintGenerator` (synthetic labelled complaints, for tests and the simulator).
"""

from typing import TYPE_CHECKING, Any

from engine.classifier.classifier import Guess, Prediction, TextRouter
from engine.classifier.decision import DEFAULT_THRESHOLD, RouteDecision, route
from engine.classifier.feed import LabelledText, closed_case_labels
from engine.classifier.importer import LabelledFile, read_labelled
from engine.classifier.live import LiveRouter, Suggestion
from engine.classifier.metrics import Metrics, evaluate
from engine.classifier.model import TARGETS, TargetModel
from engine.classifier.model_files import ModelInfo, ModelIntegrityError, ModelStore
from engine.classifier.synthetic import Complaint, ComplaintGenerator
from engine.classifier.text import case_text

if TYPE_CHECKING:
    from engine.classifier.training import TrainingConfig, TrainingResult, train_target

# Training needs scikit-learn, a second or two to import: loaded on first use, so serving,
# dispatching and the CLI's other commands start without it.
_TRAINING = ("TrainingConfig", "TrainingResult", "train_target")


def __getattr__(name: str) -> Any:
    if name in _TRAINING:
        from engine.classifier import training

        return getattr(training, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "DEFAULT_THRESHOLD",
    "TARGETS",
    "Complaint",
    "ComplaintGenerator",
    "Guess",
    "LabelledFile",
    "LabelledText",
    "LiveRouter",
    "Metrics",
    "ModelInfo",
    "ModelIntegrityError",
    "ModelStore",
    "Prediction",
    "RouteDecision",
    "Suggestion",
    "TargetModel",
    "TextRouter",
    "TrainingConfig",
    "TrainingResult",
    "case_text",
    "closed_case_labels",
    "evaluate",
    "read_labelled",
    "route",
    "train_target",
]
