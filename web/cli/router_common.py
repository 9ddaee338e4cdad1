"""What every `gridflow router` command shares: the signed models directory, the time, and
printing text or JSON (web/cli/router.py)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from engine.classifier.model_files import ModelStore
from engine.settings import get_settings


def open_store(directory: str | None) -> ModelStore:
    settings = get_settings()
    return ModelStore(Path(directory) if directory else settings.models_dir, settings.secret_key)


def emit(args: argparse.Namespace, data: Any, lines: list[str]) -> None:
    if args.json:
        print(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        print("\n".join(lines))


def clock_now():
    from engine.clock import SystemClock

    return SystemClock().now()


def named(active: dict[str, str]) -> str:
    return ", ".join(f"{t}@{v}" for t, v in sorted(active.items())) or "no model"
