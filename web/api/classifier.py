"""The text classifier for integrations: suggestions while the operator types, and how right
the live model has been (docs/CLASSIFIER.md).

``POST /api/v1/classifier/suggest`` takes a bearer token of a role the policy table lists
(operator, dispatcher, admin) and is limited per token (``GRIDFLOW_CLASSIFIER_SUGGEST_PER_
MINUTE``, 429 with Retry-After). It answers the live model's top 3 categories and departments
with calibrated confidence, the model version, and what automatic dispatch would do at the
city's threshold. ``GET /api/v1/admin/classifier/accuracy`` is the weekly accuracy on
human-confirmed cases, with a warning when it drops.
"""

from __future__ import annotations

import hashlib
import math
import threading
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from engine.classifier.decision import route
from engine.classifier.text import case_text
from engine.errors import GridflowError
from web.context import AppContext
from web.deps import Ctx, DbSession
from web.errors import error_response

router = APIRouter(prefix="/api/v1", tags=["classifier"])
MAX_TEXT = 4000


class SuggestRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=MAX_TEXT, description="what the caller said")
    address: str | None = Field(default=None, max_length=500)


class Choice(BaseModel):
    code: str
    name: str | None = None
    name_en: str | None = None
    confidence: float = Field(description="calibrated probability that this is right")


class SuggestAnswer(BaseModel):
    model: bool = Field(description="false: no live model yet (the lists are empty)")
    model_version: str | None = None
    categories: list[Choice] = []
    departments: list[Choice] = []
    threshold: float
    route: Literal["auto", "manual"] | None = Field(
        default=None, description="what automatic dispatch would do with this text"
    )


@dataclass
class _Bucket:
    tokens: float
    updated: float


class _PerToken:
    """A token bucket per bearer token: ``per_minute`` sustained, a quarter of it at once."""

    def __init__(self) -> None:
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def take(self, key: str, now: float, per_minute: int) -> float:
        """0 when allowed, else the seconds until a request is."""
        rate, burst = per_minute / 60.0, max(1.0, per_minute / 4)
        with self._lock:
            bucket = self._buckets.setdefault(key, _Bucket(burst, now))
            bucket.tokens = min(burst, bucket.tokens + (now - bucket.updated) * rate)
            bucket.updated = now
            if bucket.tokens >= 1:
                bucket.tokens -= 1
                return 0.0
            return (1 - bucket.tokens) / rate


def _limit(request: Request, ctx: AppContext) -> JSONResponse | None:
    """A 429 answer when this token asked too often, else None."""
    per_minute = ctx.settings.classifier_suggest_per_minute
    if per_minute <= 0:
        return None
    limiter = getattr(request.app.state, "classifier_limiter", None)
    if limiter is None:
        limiter = request.app.state.classifier_limiter = _PerToken()
    key = hashlib.sha256(request.headers.get("authorization", "").encode()).hexdigest()
    wait = limiter.take(key, ctx.clock.now().timestamp(), per_minute)
    if wait <= 0:
        return None
    seconds = max(1, math.ceil(wait))
    message = f"too many suggestions for this token; retry in {seconds} s"
    return error_response(429, "rate_limited", message, retry_after=seconds)


@router.post(
    "/classifier/suggest",
    response_model=SuggestAnswer,
    responses={429: {"description": "too many requests for this token: see Retry-After"}},
)
async def suggest(body: SuggestRequest, request: Request, ctx: Ctx) -> Any:
    """The live classifier's top 3 categories and departments for a call's text (and
    address), with calibrated confidence; ``model`` false when no model is live."""
    limited = _limit(request, ctx)
    if limited is not None:
        return limited
    threshold = ctx.settings.router_threshold
    classifier = ctx.router.get()
    if classifier is None:
        return SuggestAnswer(model=False, threshold=threshold)
    text = case_text(_Call(body.text.strip(), (body.address or "").strip() or None))
    prediction = await run_in_threadpool(classifier.predict, text)
    city = ctx.city
    categories, departments = [], []
    if (guess := prediction.guess("category")) is not None:
        for code, p in guess.top3:
            known = city.categories.get(code)
            name, name_en = (known.name, known.name_en) if known else (None, None)
            categories.append(Choice(code=code, name=name, name_en=name_en, confidence=_p(p)))
    if (guess := prediction.guess("department")) is not None:
        for code, p in guess.top3:
            department = city.departments.get(code)
            name = department.name if department else None
            departments.append(Choice(code=code, name=name, confidence=_p(p)))
    return SuggestAnswer(
        model=True,
        model_version=prediction.model_version,
        categories=categories,
        departments=departments,
        threshold=threshold,
        route=route(prediction, threshold).queue,
    )


@dataclass
class _Call:
    description: str
    address: str | None


def _p(value: float) -> float:
    return round(float(value), 4)


@router.get("/admin/classifier/accuracy")
def accuracy(
    ctx: Ctx,
    session: DbSession,
    weeks: Annotated[int, Query(ge=1, le=104)] = 8,
    target: Annotated[Literal["category", "department"], Query()] = "department",
) -> dict[str, Any]:
    """Week by week, how often the live classifier's best guess matched the label people
    confirmed (dispatcher choices, verified closures), with a warning when it drops."""
    from engine.classifier.accuracy import weekly_accuracy

    now = ctx.clock.now()
    expected = None
    try:
        store = ctx.router.store
        version = store.live_versions().get(target)
        for info in store.versions(target):
            if info.version == version:
                expected = info.metadata.get("metrics", {}).get("accuracy")
    except GridflowError:  # a refused pin: nothing to compare with
        expected = None
    report = weekly_accuracy(session, now - timedelta(weeks=weeks), now, target, expected)
    return report.to_dict()
