"""Smart dispatch from complaint text (智能分拨): the standalone text classifier.

Public API (the dispatch hook, pages, the suggestion API and the CLI call these):

- :class:`TextRouter` ``.load(ModelStore(dir, key))`` then ``.predict(text) -> Prediction``
  (category, department, calibrated confidence, top3 [(label, p)], model_version);
- :func:`route` ``(prediction, threshold) -> RouteDecision`` (auto or manual queue + top 3);
- :class:`LiveRouter`: the process's one shared classifier over the pinned models (the
  dispatch hook, the intake page, the suggestion API), reloaded when the pin changes;
- :func:`case_text` (the text of a case the classifier reads: description and address);
- :func:`train_target`, :class:`ModelStore` (versioned, verified model files and the pin);
- :func:`confirmed_labels` (the training-label feed) and :func:`read_labelled` (CSV/XLSX);
- :func:`weekly_accuracy` (the live model on human-confirmed cases, week by week);
- :class:`ComplaintGenerator` (synthetic labelled complaints, for tests and the simulator).

Every name is imported on first use: `gridflow router predict` starts without SQLAlchemy or
scikit-learn, and serving never imports scikit-learn.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.classifier.accuracy import WeekAccuracy, weekly_accuracy
    from engine.classifier.classifier import Guess, Prediction, TextRouter
    from engine.classifier.decision import DEFAULT_THRESHOLD, RouteDecision, route
    from engine.classifier.feed import LabelledText, closed_case_labels, confirmed_labels
    from engine.classifier.importer import LabelledFile, read_labelled
    from engine.classifier.live import LiveRouter, Suggestion
    from engine.classifier.metrics import Metrics, evaluate
    from engine.classifier.model import TARGETS, TargetModel
    from engine.classifier.model_files import ModelInfo, ModelIntegrityError, ModelStore
    from engine.classifier.synthetic import Complaint, ComplaintGenerator
    from engine.classifier.text import case_text
    from engine.classifier.training import TrainingConfig, TrainingResult, train_target

_WHERE = {
    "accuracy": ("WeekAccuracy", "weekly_accuracy"),
    "classifier": ("Guess", "Prediction", "TextRouter"),
    "decision": ("DEFAULT_THRESHOLD", "RouteDecision", "route"),
    "feed": ("LabelledText", "closed_case_labels", "confirmed_labels"),
    "importer": ("LabelledFile", "read_labelled"),
    "live": ("LiveRouter", "Suggestion"),
    "metrics": ("Metrics", "evaluate"),
    "model": ("TARGETS", "TargetModel"),
    "model_files": ("ModelInfo", "ModelIntegrityError", "ModelStore"),
    "synthetic": ("Complaint", "ComplaintGenerator"),
    "text": ("case_text",),
    "training": ("TrainingConfig", "TrainingResult", "train_target"),
}
_MODULE_OF = {name: module for module, names in _WHERE.items() for name in names}


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"engine.classifier.{module}"), name)
    globals()[name] = value
    return value


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
    "WeekAccuracy",
    "case_text",
    "closed_case_labels",
    "confirmed_labels",
    "evaluate",
    "read_labelled",
    "route",
    "train_target",
    "weekly_accuracy",
]
