"""No secret in any log line: Open311 clients may put their ``api_key`` (a gridflow token) in
the query string, and uvicorn's access log prints every request's path with its query.

:func:`install` puts :class:`RedactSecrets` on the loggers that print request lines; any
other log output that may carry a URL should pass its text through :func:`redact`.
"""

from __future__ import annotations

import logging
import re

# `api_key=…` in a query string, its name possibly percent-encoded.
SECRET_PARAM = re.compile(r"(?i)\b(api(?:_|%5f)key)=[^&\s\"']*")
REDACTED = "[redacted]"
LOGGERS = ("uvicorn.access", "uvicorn.error")  # gridflow's own logs name paths, not queries


def redact(text: str) -> str:
    return SECRET_PARAM.sub(lambda m: f"{m.group(1)}={REDACTED}", text)


class RedactSecrets(logging.Filter):
    """Rewrites a record's message and arguments with the secrets replaced."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {
                k: redact(v) if isinstance(v, str) else v for k, v in record.args.items()
            }
        return True


def install() -> None:
    """Idempotent: each logger gets one filter however many apps a process creates."""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactSecrets) for f in logger.filters):
            logger.addFilter(RedactSecrets())
