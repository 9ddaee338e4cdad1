"""Process settings from ``GRIDFLOW_*`` environment variables (pydantic-settings)."""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from engine.keys import key_path, read_key

SESSION_KEY_NAME = "session"  # the instance key file that signs page sessions


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GRIDFLOW_", extra="ignore")

    database_url: str = "sqlite:///var/gridflow.db"
    city_dir: Path = Path("examples/demo_city")
    # Where this instance keeps what is not in the database: keys/ (secrets, mode 0600).
    instance_dir: Path = Path("var")
    # Signs page-session cookies and the text router's model files. Unset: the instance's
    # keys/session.key, which `gridflow init` generates; with neither the server refuses to start.
    secret_key: str | None = None
    # A page session unused this long ends (a live board's stream reconnects, so it stays).
    session_idle_minutes: int = Field(default=120, ge=1, le=7 * 24 * 60)
    session_max_hours: int = Field(default=12, ge=1, le=30 * 24)  # absolute lifetime
    # Reverse proxies (addresses or CIDRs, comma-separated) whose X-Forwarded-For/-Proto are
    # believed; from anyone else those headers are ignored.
    trusted_proxies: Annotated[list[str], NoDecode] = []
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
    classifier_suggest_per_minute: int = Field(default=120, ge=0)  # per token; 0 = no limit
    outbox_poll_seconds: float = 2.0  # how often the server's delivery worker looks for work
    audit_witness_url: str | None = Field(default=None, pattern="^https?://")  # gets checkpoints
    # Hot statements on the driver's cursor (engine.prepared); 0: through Connection.execute.
    fast_path: bool = True
    log_format: str = Field(default="text", pattern="^(text|json)$")  # json: one object a line

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split_proxies(cls, value: object) -> object:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _check_proxies(cls, value: list[str]) -> list[str]:
        for item in value:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError as exc:
                raise ValueError(f"{item!r} is not an IP address or CIDR network") from exc
        return value

    @model_validator(mode="after")
    def _instance_session_key(self) -> Settings:
        """No key configured: the instance's key file, if `gridflow init` has made one."""
        if not self.secret_key:
            self.secret_key = read_key(self.instance_dir, SESSION_KEY_NAME)
        return self


class MissingSecretKey(RuntimeError):
    """Neither GRIDFLOW_SECRET_KEY nor the instance's session key file."""


def require_secret_key(settings: Settings) -> str:
    """The key that signs page sessions; the server does not start without one."""
    if not settings.secret_key:
        path = key_path(settings.instance_dir, SESSION_KEY_NAME)
        raise MissingSecretKey(
            f"no secret key: run `gridflow init` to generate {path}, "
            "or set GRIDFLOW_SECRET_KEY to a long random value"
        )
    return settings.secret_key


@lru_cache
def get_settings() -> Settings:
    return Settings()
