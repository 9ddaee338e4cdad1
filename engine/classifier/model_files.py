"""Versioned model files under one directory, checked before they are loaded.

Each trained model is two files in the models directory (``Settings.models_dir``):

- ``<target>-<version>.npz``: the arrays (labels, n-grams, idf, weights, bias), written with
  ``numpy.savez`` and read with ``allow_pickle=False``, so loading never runs code;
- ``<target>-<version>.json``: the metadata (labels, training size, date, held-out metrics,
  parameters), the ``sha256`` of the ``.npz`` and an HMAC-SHA256 ``signature`` of the
  metadata under the instance's secret key.

The version is the training time from the injected clock plus the start of the content hash,
e.g. ``20260302T010000Z-3fa2b1c0``; versions sort by time. Loading takes a target and a
version, never a path, checks that the file is a regular file inside the directory, verifies
the signature and the hash of the bytes it then parses, and refuses anything else: a file
changed by hand, a swapped file, or a metadata file written without the key.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from engine.classifier.model import TARGETS, TargetModel
from engine.errors import GridflowError, InvalidInput, NotFound

FORMAT = "gridflow-router/1"
PIN_FORMAT = "gridflow-router-pin/1"
PIN_FILE = "active.json"  # the live version of each target, signed; every process reads it
PIN_HISTORY = 50
VERSION = re.compile(r"^\d{8}T\d{6}Z-[0-9a-f]{8}$")


class ModelIntegrityError(GridflowError):
    """A model file that fails its checks: it is never loaded."""

    code = "model_integrity"


@dataclass(frozen=True)
class ModelInfo:
    target: str
    version: str
    metadata: dict[str, Any]


class ModelStore:
    def __init__(self, directory: Path, key: str | bytes) -> None:
        self.directory = Path(directory)
        self._key = key.encode() if isinstance(key, str) else key

    # ------------------------------------------------------------------ writing

    def save(self, model: TargetModel, metadata: dict[str, Any], now: datetime) -> ModelInfo:
        """Write a new version of ``model``; ``metadata`` is extra facts to record."""
        buffer = io.BytesIO()
        np.savez_compressed(buffer, **model.arrays())
        data = buffer.getvalue()
        digest = hashlib.sha256(data).hexdigest()
        version = f"{now.astimezone(UTC):%Y%m%dT%H%M%SZ}-{digest[:8]}"
        meta = dict(metadata) | model.scalars()
        meta |= {
            "format": FORMAT,
            "version": version,
            "created_at": now.astimezone(UTC).isoformat(),
            "labels": model.labels,
            "features": len(model.features),
            "model_file": self._name(model.target, version, ".npz"),
            "size_bytes": len(data),
            "sha256": digest,
        }
        meta["signature"] = self._sign(meta)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._write(self._path(model.target, version, ".npz"), data)
        text = json.dumps(meta, ensure_ascii=False, indent=2)
        self._write(self._path(model.target, version, ".json"), text.encode())
        return ModelInfo(model.target, version, meta)

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        partial = path.with_name(path.name + ".partial")
        partial.write_bytes(data)
        os.replace(partial, path)

    # ------------------------------------------------------------------ reading

    def versions(self, target: str | None = None) -> list[ModelInfo]:
        """Every stored model (metadata as written, not yet verified), oldest first."""
        found = []
        if not self.directory.is_dir():
            return found
        for path in sorted(self.directory.glob("*.json")):
            name, _, version = path.stem.partition("-")
            if name not in TARGETS or not VERSION.match(version):
                continue
            if target is not None and name != target:
                continue
            try:
                meta = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                meta = {}
            found.append(ModelInfo(name, version, meta))
        return sorted(found, key=lambda info: (info.target, info.version))

    # ------------------------------------------------------------------ the pin

    def pin(self) -> dict[str, Any] | None:
        """The verified pin (``active``: target -> version, who, when, why, ``history``);
        None when there is no pin file (then the newest version of each target is live)."""
        path = self.directory / PIN_FILE
        if not path.exists():
            return None
        self._file(path)
        try:
            pin = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise ModelIntegrityError(f"{PIN_FILE}: not valid JSON") from exc
        signature = pin.get("signature") if isinstance(pin, dict) else None
        if not isinstance(signature, str) or not hmac.compare_digest(signature, self._sign(pin)):
            raise ModelIntegrityError(
                f"{PIN_FILE}: the signature does not match (changed by hand, or written with "
                "another GRIDFLOW_SECRET_KEY); no model is live until an admin activates one"
            )
        if pin.get("format") != PIN_FORMAT or not isinstance(pin.get("active"), dict):
            raise ModelIntegrityError(f"{PIN_FILE}: not a gridflow pin")
        return pin

    def live_versions(self) -> dict[str, str]:
        """The live version of each target: the pin's, else (no pin yet) the newest."""
        pin = self.pin()
        if pin is not None:
            return {t: v for t, v in pin["active"].items() if t in TARGETS and v}
        newest = {t: self.latest(t) for t in TARGETS}
        return {t: v for t, v in newest.items() if v}

    def set_pin(
        self,
        active: dict[str, str],
        by: str,
        reason: str,
        now: datetime,
        history: list | None = None,
    ) -> dict[str, Any]:
        """Make ``active`` (target -> version) live for every process sharing this directory;
        the pin it replaces goes on the history (what ``rollback`` returns to)."""
        for target, version in active.items():
            if target not in TARGETS or not VERSION.match(str(version)):
                raise InvalidInput("version", f"{target}@{version} is not a model version")
            self._metadata(target, version)  # exists and is signed
        previous = self.pin()
        if history is None:
            history = list(previous.get("history", [])) if previous else []
            if previous is not None:
                history.append({k: previous[k] for k in ("active", "changed_at", "by", "reason")})
        pin: dict[str, Any] = {
            "format": PIN_FORMAT,
            "active": dict(sorted(active.items())),
            "changed_at": now.astimezone(UTC).isoformat(),
            "by": by,
            "reason": reason,
            "history": history[-PIN_HISTORY:],
        }
        pin["signature"] = self._sign(pin)
        self.directory.mkdir(parents=True, exist_ok=True)
        text = json.dumps(pin, ensure_ascii=False, indent=2)
        self._write(self.directory / PIN_FILE, text.encode())
        return pin

    def rollback(self, by: str, now: datetime) -> dict[str, Any]:
        """Back to the pin before the current one."""
        pin = self.pin()
        if pin is None or not pin.get("history"):
            raise NotFound("no earlier pinned version to roll back to")
        *earlier, last = pin["history"]
        return self.set_pin(
            last["active"], by, f"rollback from {_named(pin['active'])}", now, earlier
        )

    def latest(self, target: str) -> str | None:
        versions = self.versions(target)
        return versions[-1].version if versions else None

    def load(self, target: str, version: str | None = None) -> tuple[TargetModel, ModelInfo]:
        """The verified model of ``target`` at ``version`` (default: the newest)."""
        if target not in TARGETS:
            raise InvalidInput("target", f"must be one of {', '.join(TARGETS)}")
        version = version or self.latest(target)
        if version is None:
            raise NotFound(
                f"no {target} model in {self.directory}: train one with `gridflow router train`"
            )
        if not VERSION.match(version):
            raise InvalidInput("version", f"{version!r} is not a model version")
        meta = self._metadata(target, version)
        data = self._file(self._path(target, version, ".npz")).read_bytes()
        if not hmac.compare_digest(hashlib.sha256(data).hexdigest(), str(meta.get("sha256"))):
            raise ModelIntegrityError(
                f"{target} model {version}: the file does not match its sha256; not loading it"
            )
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
                model = TargetModel.from_arrays(arrays, meta)
        except (ValueError, KeyError, OSError) as exc:
            raise ModelIntegrityError(f"{target} model {version}: unreadable: {exc}") from exc
        return model, ModelInfo(target, version, meta)

    def _metadata(self, target: str, version: str) -> dict[str, Any]:
        path = self._file(self._path(target, version, ".json"))
        try:
            meta = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise ModelIntegrityError(f"{path.name}: not valid JSON") from exc
        signature = meta.get("signature") if isinstance(meta, dict) else None
        if not isinstance(signature, str) or not hmac.compare_digest(signature, self._sign(meta)):
            raise ModelIntegrityError(
                f"{path.name}: the signature does not match (changed, or written with another "
                "GRIDFLOW_SECRET_KEY); not loading it"
            )
        if meta.get("format") != FORMAT or (meta.get("target"), meta.get("version")) != (
            target,
            version,
        ):
            raise ModelIntegrityError(f"{path.name}: metadata is for another model")
        return meta

    def _file(self, path: Path) -> Path:
        """``path`` if it is a regular file directly inside the models directory."""
        if not path.exists():
            raise NotFound(f"model file {path.name} not found in {self.directory}")
        if path.is_symlink() or not path.is_file():
            raise ModelIntegrityError(f"{path.name}: not a regular file")
        if path.resolve().parent != self.directory.resolve():
            raise ModelIntegrityError(f"{path.name}: outside the models directory")
        return path

    def _sign(self, meta: dict[str, Any]) -> str:
        body = {k: v for k, v in meta.items() if k != "signature"}
        text = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hmac.new(self._key, text.encode(), hashlib.sha256).hexdigest()

    @staticmethod
    def _name(target: str, version: str, suffix: str) -> str:
        return f"{target}-{version}{suffix}"

    def _path(self, target: str, version: str, suffix: str) -> Path:
        return self.directory / self._name(target, version, suffix)


def _named(active: dict[str, str]) -> str:
    return ",".join(f"{t}@{v}" for t, v in sorted(active.items()))
