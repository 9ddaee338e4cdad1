"""Process settings from ``GRIDFLOW_*`` environment variables (pydantic-settings)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GRIDFLOW_", extra="ignore")

    database_url: str = "sqlite:///var/gridflow.db"
    city_dir: Path = Path("examples/demo_city")
    # Where this instance keeps what is not in the database: keys/ (secrets, mode 0600).
    instance_dir: Path = Path("var")
    secret_key: str = "insecure-development-key-set-GRIDFLOW_SECRET_KEY"
    max_batch_size: int = 1000
    max_page_size: int = 200
    token_ttl_days: int = 365
    clock_file: Path | None = None  # tests and demos only: a FileClock shared by processes
    max_body_bytes: int = 1_000_000  # JSON requests
    max_upload_bytes: int = 10_000_000  # attachment uploads
    intake_rate_per_second: float = 100.0  # per token, on intake endpoints; 0 = off
    intake_burst: int = 200
    attachments_dir: Path = Path("var/attachments")  # photos, content-addressed (sha256)
    max_attachment_bytes: int = 10 * 1024 * 1024
    models_dir: Path = Path("var/models")  # text router models (versioned, verified)
    # A case the rules cannot place is dispatched by the text router when its calibrated
    # confidence is at least this; below it, the case is queued with the router's top 3.
    router_threshold: float = Field(default=0.85, ge=0.0, le=1.0)
    outbox_poll_seconds: float = 2.0  # how often the server's delivery worker looks for work


@lru_cache
def get_settings() -> Settings:
    return Settings()
