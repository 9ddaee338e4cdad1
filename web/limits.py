"""Request limits, enforced before any route runs: body size (413) and a per-token rate on
intake endpoints (429 with Retry-After). The rate limiter uses the app's clock, so tests move
time instead of waiting."""

from __future__ import annotations

import hashlib
import json
import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from engine.clock import Clock

BODY_METHODS = {"POST", "PUT", "PATCH"}


async def _send_error(send: Send, status: int, code: str, message: str, headers=()) -> None:
    body = json.dumps({"error": {"code": code, "message": message, "details": None}}).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": raw + list(headers)})
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    """Refuse bodies over the limit with 413; ``uploads`` paths get their own, larger limit."""

    def __init__(
        self, app: ASGIApp, limit: int, upload_limit: int, uploads: Sequence[str] = ()
    ) -> None:
        self.app, self.limit, self.upload_limit, self.uploads = app, limit, upload_limit, uploads

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in BODY_METHODS:
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        limit = self.upload_limit if path.startswith(tuple(self.uploads)) else self.limit
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _send_error(send, 413, "too_large", f"request body over {limit} bytes")
            return
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await _send_error(send, 413, "too_large", f"request body over {limit} bytes")
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


@dataclass
class _Bucket:
    tokens: float
    updated: float


class IntakeRateLimit:
    """A token bucket per bearer token on intake paths; ``rate`` 0 turns it off."""

    def __init__(
        self, app: ASGIApp, clock: Clock, rate: float, burst: int, paths: Sequence[str]
    ) -> None:
        self.app, self.clock, self.rate, self.burst = app, clock, rate, burst
        self.paths = tuple(paths)
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def _take(self, key: str) -> float:
        """Take one token; return 0 when allowed, else the seconds until one is available."""
        now = self.clock.now().timestamp()
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = _Bucket(float(self.burst), now)
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
            bucket.updated = now
            if bucket.tokens >= 1:
                bucket.tokens -= 1
                return 0.0
            return (1 - bucket.tokens) / self.rate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            self.rate > 0
            and scope["type"] == "http"
            and scope["method"] == "POST"
            and scope["path"].startswith(self.paths)
        ):
            auth = dict(scope["headers"]).get(b"authorization", b"")
            key = hashlib.sha256(auth).hexdigest()
            wait = self._take(key)
            if wait > 0:
                retry = str(max(1, math.ceil(wait))).encode()
                message = "too many intake requests for this token; retry later"
                await _send_error(send, 429, "rate_limited", message, [(b"retry-after", retry)])
                return
        await self.app(scope, receive, send)
