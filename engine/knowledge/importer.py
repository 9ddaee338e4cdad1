"""Articles from a spreadsheet, the way hotline centers keep them today (``gridflow knowledge
import FILE.xlsx|csv``): one article per row, every bad row reported by its row number and
field, the good ones written in one transaction. A row whose title and question are already
in the knowledge base is skipped, so a re-run adds only what is new."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlmodel import Session, col, select

from engine.city.directory import CityDirectory
from engine.errors import GridflowError, InvalidInput
from engine.knowledge import lifecycle
from engine.knowledge.models import (
    ArticleFields,
    KnowledgeArticle,
    KnowledgeArticleVersion,
    KnowledgeGram,
    join_codes,
)
from engine.users.models import Principal

# Each field's accepted column titles (the first is the one the guide shows).
HEADERS: dict[str, tuple[str, ...]] = {
    "title": ("标题", "title", "知识标题"),
    "question": ("问题", "question", "常见问题", "咨询问题"),
    "answer": ("答复", "answer", "答案", "答复口径", "标准答复"),
    "source": ("政策依据", "source", "依据", "政策来源"),
    "source_date": ("政策日期", "source_date", "发文日期"),
    "categories": ("事项分类", "categories", "分类"),
    "departments": ("部门", "departments", "责任部门"),
    "owner_department": ("维护部门", "owner_department", "归属部门"),
    "valid_from": ("生效日期", "valid_from"),
    "review_by": ("复审日期", "review_by", "有效期至"),
}
REQUIRED = ("title", "question", "answer")
# A few dozen realistic articles for the demo city (``gridflow knowledge demo``).
DEMO_ARTICLES = Path(__file__).resolve().parent / "demo_articles.csv"
# What an import writes: the articles, their versions and the search index's pieces.
FILLED_TABLES = tuple(
    model.__tablename__ for model in (KnowledgeArticle, KnowledgeArticleVersion, KnowledgeGram)
)
_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")
_SEPARATORS = re.compile(r"[\s,，、;；]+")


@dataclass(frozen=True)
class RowError:
    row: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"row {self.row}, {self.field}: {self.message}"


@dataclass
class ImportReport:
    rows: int = 0
    created: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)  # row numbers already in the base
    errors: list[RowError] = field(default_factory=list)


def parse_date(text: str) -> date | None:
    """``2025-06-01``, ``2025/6/1``, ``2025年6月1日`` or a spreadsheet's date-time."""
    text = text.strip()
    if not text:
        return None
    found = _DATE.match(text)
    if not found:
        raise ValueError("a date such as 2025-06-01")
    try:
        return date(*(int(part) for part in found.groups()))
    except ValueError as exc:
        raise ValueError(f"not a calendar date: {exc}") from exc


def parse_row(
    number: int, raw: dict[str, Any]
) -> tuple[ArticleFields, str | None] | list[RowError]:
    values: dict[str, Any] = {k: str(v).strip() for k, v in raw.items() if v is not None}
    errors: list[RowError] = []
    for name in REQUIRED:
        if not values.get(name):
            errors.append(RowError(number, name, "must not be empty"))
    for name in ("source_date", "valid_from", "review_by"):
        try:
            values[name] = parse_date(values.get(name, ""))
        except ValueError as exc:
            errors.append(RowError(number, name, str(exc)))
    for name in ("categories", "departments"):
        values[name] = join_codes(_SEPARATORS.split(values.get(name, "")))
    owner = values.pop("owner_department", "") or None
    if errors:
        return errors
    try:
        return ArticleFields.model_validate(values), owner
    except ValidationError as exc:
        return [
            RowError(number, ".".join(str(p) for p in e["loc"]) or "row", e["msg"])
            for e in exc.errors()
        ]


def import_rows(
    session: Session,
    principal: Principal,
    rows: Iterable[tuple[int, dict[str, Any]]],
    city: CityDirectory,
    now: datetime,
    reviewer: Principal | None = None,
) -> ImportReport:
    """Create a draft per good row (published at once when ``reviewer`` is given: the
    person who approved the spreadsheet). The caller commits, or not when errors matter."""
    if reviewer is not None and reviewer.name == principal.name:
        raise InvalidInput("published_by", "the reviewer must be another person than the author")
    report = ImportReport()
    known = {
        (title, question)
        for title, question in session.exec(
            select(col(KnowledgeArticle.title), col(KnowledgeArticle.question))
        )
    }
    for number, raw in rows:
        report.rows += 1
        parsed = parse_row(number, raw)
        if isinstance(parsed, list):
            report.errors.extend(parsed)
            continue
        fields, owner = parsed
        if (fields.title, fields.question) in known:
            report.skipped.append(number)
            continue
        try:  # every check comes before the first write (no savepoints: SQLite's driver
            # would commit the outermost one)
            article = lifecycle.create(session, principal, fields, city, now, owner)
        except InvalidInput as exc:
            detail = exc.details[0]
            report.errors.append(RowError(number, detail["field"], detail["reason"]))
            continue
        except GridflowError as exc:
            report.errors.append(RowError(number, "row", exc.message))
            continue
        if reviewer is not None:
            lifecycle.submit(session, principal, article.id or 0, now, "imported")
            lifecycle.publish(session, reviewer, article.id or 0, now, "imported")
        known.add((fields.title, fields.question))
        report.created.append(article.id or 0)
    return report
