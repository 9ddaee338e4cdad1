"""The knowledge API's request and response shapes (docs/KNOWLEDGE.md); the routes are
web/api/knowledge.py."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from engine.cases.models import CasePublic, CategoryCode, Phone, RecordingUrl
from engine.isotime import IsoDate
from engine.knowledge.answers import MAX_ANSWER
from engine.knowledge.models import TEXT_MAX, TITLE_MAX, ArticleFields, join_codes

Code = Annotated[str, Field(min_length=1, max_length=32)]


class ArticleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=TITLE_MAX)
    question: str = Field(min_length=1, max_length=TEXT_MAX)
    answer: str = Field(min_length=1, max_length=MAX_ANSWER)
    source: str = Field(default="", max_length=300, description="政策依据: the policy document")
    source_date: IsoDate | None = None
    categories: list[CategoryCode] = Field(default=[], max_length=20)
    departments: list[Code] = Field(default=[], max_length=20)
    valid_from: IsoDate | None = None
    review_by: IsoDate | None = None

    def fields(self) -> ArticleFields:
        values = self.model_dump()
        values["categories"] = join_codes(self.categories)
        values["departments"] = join_codes(self.departments)
        return ArticleFields.model_validate(values)


class ArticleCreate(ArticleIn):
    owner_department: Code | None = Field(
        default=None, description="administrators: the department that keeps it (handlers: theirs)"
    )


class ArticleEdit(ArticleIn):
    version: int | None = Field(default=None, ge=1, description="the version edited (409 if not)")


class Note(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str = Field(default="", max_length=500)


class FlagOut(BaseModel):
    id: int
    article_id: int
    article_version: int
    case_id: int
    kind: str
    note: str
    raised_by: str
    raised_at: datetime
    resolved_at: datetime | None


class ArticleOut(BaseModel):
    id: int
    title: str
    question: str
    answer: str
    source: str
    source_date: date | None
    categories: list[str]
    departments: list[str]
    valid_from: date | None
    review_by: date | None
    owner_department: str | None
    status: str  # draft | in_review | published | expired (past review_by counts as expired)
    version: int
    needs_review: bool
    created_by: str
    created_at: datetime
    updated_by: str
    updated_at: datetime
    flags: list[FlagOut] = []  # open flags, on one article's own view
    # The version whose text operators read and answers cite (older than ``version`` while a
    # revision waits), and the revision itself (its keepers only).
    served_version: int | None = None
    revision: VersionOut | None = None


class ArticleList(BaseModel):
    items: list[ArticleOut]


class VersionOut(BaseModel):
    version: int
    status: str
    change: str
    note: str
    changed_by: str
    changed_at: datetime
    title: str
    question: str
    answer: str
    source: str
    source_date: date | None
    categories: list[str]
    departments: list[str]
    valid_from: date | None
    review_by: date | None


class SearchHit(BaseModel):
    id: int
    version: int
    title: str
    question: str
    answer: str
    source: str
    categories: list[str]
    score: int


class SearchResult(BaseModel):
    items: list[SearchHit]


class FlagIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    case_id: int = Field(ge=1, le=2**31 - 1)
    article_id: int = Field(ge=1, le=2**31 - 1)
    kind: Literal["wrong", "outdated"]
    note: str = Field(min_length=2, max_length=500, description="what is wrong")


class AnswerIn(BaseModel):
    """A consultation answered on the phone (直接答复): recorded as a case closed at intake."""

    model_config = ConfigDict(extra="forbid")

    description: str = Field(min_length=1, max_length=4000, description="the caller's words")
    answer: str | None = Field(
        default=None, max_length=MAX_ANSWER, description="omitted: the article's answer"
    )
    article_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    category: CategoryCode | None = None
    reporter_phone: Phone | None = None
    reporter_name: str | None = Field(default=None, max_length=50)
    call_id: str | None = Field(
        default=None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:\-]+$"
    )
    recording_url: RecordingUrl | None = None
    grid_code: str | None = Field(default=None, min_length=1, max_length=32)


class AnswerOut(BaseModel):
    case: CasePublic
    article_id: int | None
    article_version: int | None
