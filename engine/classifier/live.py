"""The live text router of a process: the pinned models in the models directory, shared.

ONE :class:`LiveRouter` per process (built in the composition root) serves the dispatch hook,
the operator's intake page and the suggestion API. The live version of each target is the
one the signed pin file (``active.json``, see ``model_files``) names, the same for every
process sharing the directory; before any pin exists, the newest. A model is loaded once per
version and kept; a new pin (``gridflow router train`` that passed the gate, ``activate``,
``rollback`` in another process) is picked up on the next call after it is written.
Looking costs one ``stat`` of the directory: the pin and file names are read again only
when the directory changed (or after ``RESCAN_SECONDS``, for file systems with coarse
modification times). A model that fails its checks or cannot be
read is logged once and treated as "no model" until a newer version appears; with no model
at all :meth:`LiveRouter.get` answers ``None`` and callers behave as without a router.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from engine.classifier.classifier import TextRouter
from engine.classifier.model import TARGETS
from engine.classifier.model_files import VERSION, ModelStore
from engine.errors import GridflowError

log = logging.getLogger("gridflow.router")

RESCAN_SECONDS = 30.0
Versions = tuple[str | None, ...]  # the newest version of each of TARGETS (None: no model)


@dataclass(frozen=True)
class Suggestion:
    category: str
    confidence: float


class LiveRouter:
    def __init__(
        self,
        directory: Path,
        key: str | bytes,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = ModelStore(directory, key)
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._stamp: tuple[int, float] | None = None  # (directory mtime_ns, when listed)
        self._newest: Versions = (None,) * len(TARGETS)
        self._loaded: Versions | None = None
        self._router: TextRouter | None = None

    def get(self) -> TextRouter | None:
        """The router over the newest verified models; None when there is none usable."""
        with self._lock:
            versions = self._versions()
            if versions != self._loaded:
                self._loaded, self._router = versions, self._load(versions)
            return self._router

    def present(self) -> bool:
        """A model file is there (cheap: nothing is loaded or verified)."""
        with self._lock:
            return any(self._versions())

    def suggest(self, text: str) -> list[Suggestion] | None:
        """The top-3 categories for ``text``; None when no model is present."""
        router = self.get()
        if router is None:
            return None
        guess = router.predict(text).guess("category")
        if guess is None:
            return []
        return [Suggestion(label, round(p, 3)) for label, p in guess.top3]

    def _versions(self) -> Versions:
        directory = self.store.directory
        try:
            mtime = directory.stat().st_mtime_ns
        except OSError:
            self._stamp, self._newest = None, (None,) * len(TARGETS)
            return self._newest
        now = self._monotonic()
        if self._stamp is None or self._stamp[0] != mtime or now - self._stamp[1] > RESCAN_SECONDS:
            self._newest = self._live(directory)
            self._stamp = (mtime, now)
        return self._newest

    def _live(self, directory: Path) -> Versions:
        """The pinned version of each target (the newest when nothing is pinned yet); a pin
        that fails its check leaves the process without a model, never on a guess."""
        try:
            pin = self.store.pin()
        except (GridflowError, OSError) as exc:
            log.warning("text router pin refused: %s", exc)
            return (None,) * len(TARGETS)
        if pin is None:
            return _newest(directory)
        return tuple(pin["active"].get(target) for target in TARGETS)

    def _load(self, versions: Versions) -> TextRouter | None:
        wanted = {t: v for t, v in zip(TARGETS, versions, strict=True) if v is not None}
        if not wanted:
            return None
        try:
            router = TextRouter.load(self.store, wanted)
        except (GridflowError, OSError, ValueError) as exc:
            log.warning("text router unavailable (models %s): %s", wanted, exc)
            return None
        log.info("text router loaded: %s", router.model_version)
        return router


def _newest(directory: Path) -> Versions:
    """The newest version of each target, from the metadata files' names alone."""
    newest: dict[str, str] = {}
    try:
        names = [p.name for p in directory.iterdir()]
    except OSError:
        names = []
    for name in names:
        if not name.endswith(".json"):
            continue
        target, _, version = name.removesuffix(".json").partition("-")
        if target in TARGETS and VERSION.match(version) and version > newest.get(target, ""):
            newest[target] = version
    return tuple(newest.get(target) for target in TARGETS)
