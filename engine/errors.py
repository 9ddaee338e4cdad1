"""Domain errors. The web layer maps each kind to its HTTP status and error shape
(docs/ARCHITECTURE.md#contracts)."""

from __future__ import annotations

from typing import Any


class GridflowError(Exception):
    code = "error"

    def __init__(self, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class InvalidInput(GridflowError):
    """Bad input: ``details`` is a list of ``{"field": ..., "reason": ...}``."""

    code = "invalid_input"

    def __init__(self, field: str, reason: str, more: list[dict[str, str]] | None = None) -> None:
        details = [{"field": field, "reason": reason}, *(more or [])]
        super().__init__(f"{field}: {reason}", details)


class NotFound(GridflowError):
    code = "not_found"


class Forbidden(GridflowError):
    code = "forbidden"


class Unauthorized(GridflowError):
    code = "unauthorized"


class Conflict(GridflowError):
    code = "conflict"


class ActionNotAllowed(Conflict):
    """The action is not possible in the case's current state."""

    code = "action_not_allowed"

    def __init__(self, action: str, state: str, allowed: list[str]) -> None:
        super().__init__(
            f"'{action}' is not allowed in state '{state}'",
            {"state": state, "allowed_actions": allowed},
        )


class TooLarge(GridflowError):
    code = "too_large"
