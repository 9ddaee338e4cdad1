"""Declarative workflow definitions (TOML data files) loaded by ``engine.cases.workflow``."""

from pathlib import Path

WORKFLOWS_DIR = Path(__file__).resolve().parent
STANDARD = WORKFLOWS_DIR / "standard.toml"
