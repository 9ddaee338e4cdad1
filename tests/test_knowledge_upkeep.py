"""The server's daily upkeep of the knowledge base (web/sweeps.py, engine.knowledge.upkeep):
articles past their review date are expired and repeat calls flag their answer, once per city
day by the injected clock, without the CLI; a second run the same day changes nothing."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select
from test_knowledge import ADMIN, OPERATOR, TODAY, published

from engine.cases.models import CaseCreate, Channel
from engine.db import new_session
from engine.knowledge import access, answers, views
from engine.knowledge.models import KnowledgeArticleVersion, KnowledgeFlag, Status
from web.sweeps import UPKEEP_JOB

PHONE = "13900000077"


def article_state(ctx, article_id: int) -> tuple[str, list[tuple[str, str]]]:
    with new_session(ctx.db) as session:
        article = views.get(session, ADMIN, article_id, TODAY)
        rows = session.exec(
            select(KnowledgeArticleVersion)
            .where(KnowledgeArticleVersion.article_id == article_id)
            .order_by(KnowledgeArticleVersion.version)
        ).all()
        return article.status, [(r.change, r.changed_by) for r in rows]


def operator_sees(ctx, today) -> set[int]:
    with new_session(ctx.db) as session:
        return {a.id for a in views.list_articles(session, OPERATOR, today)}


async def test_the_server_runs_the_upkeep_job(api):
    await api.ctx.start()
    try:
        assert api.ctx.sweeps.scheduler.get_job(UPKEEP_JOB) is not None
    finally:
        await api.ctx.stop()


def test_a_day_later_the_past_review_article_is_expired_without_the_cli(ctx):
    with new_session(ctx.db) as session, session.begin():
        article = published(session, ctx, review_by=TODAY + timedelta(days=1))
    driver = ctx.sweeps
    first = driver.upkeep()
    assert first is not None and first.expired == []
    assert driver.upkeep() is None  # once a day
    assert article.id in operator_sees(ctx, TODAY)
    ctx.clock.advance(timedelta(days=2))  # past its review date
    today = access.local_today(ctx.clock.now(), ctx.city.timezone)
    done = driver.upkeep()
    assert done is not None and done.expired == [article.id]
    status, changes = article_state(ctx, article.id)
    assert status == Status.expired and changes[-1] == ("expire", "system")
    assert article.id not in operator_sees(ctx, today)
    with new_session(ctx.db) as session:
        assert article.id in {a.id for a in views.review_list(session, ADMIN, today)}
    ctx.clock.advance(timedelta(days=1))
    again = driver.upkeep()  # the next day: nothing more to do, no new version row
    assert again is not None and again.expired == []
    assert article_state(ctx, article.id)[1] == changes


def test_a_repeat_call_filed_as_a_normal_case_flags_the_answer_next_day(ctx):
    with new_session(ctx.db) as session, session.begin():
        article = published(session, ctx)
    driver = ctx.sweeps
    driver.upkeep()  # today's run, before the calls
    call = answers.DirectAnswer("社保卡丢了怎么补办", article_id=article.id, reporter_phone=PHONE)
    answers.answer_at_intake(ctx.cases, OPERATOR, call, TODAY)
    ctx.clock.advance(timedelta(hours=5))
    again = CaseCreate(
        channel=Channel.web,
        category="12005",
        description="上次说的网点去了办不了社保卡",
        reporter_phone=PHONE,
        grid_code="01010101",
    )
    ctx.cases.intake(OPERATOR, again)
    assert flags(ctx, article.id) == []  # a normal case flags nothing when it is filed
    ctx.clock.advance(timedelta(days=1))
    done = driver.upkeep()
    assert done is not None and done.repeat_flags == 1
    assert flags(ctx, article.id) == ["repeat_call"]
    ctx.clock.advance(timedelta(days=1))
    driver.upkeep()  # checks only calls since the last run: the flag is not raised twice
    assert flags(ctx, article.id) == ["repeat_call"]


def flags(ctx, article_id: int) -> list[str]:
    with new_session(ctx.db) as session:
        rows = session.exec(select(KnowledgeFlag).where(KnowledgeFlag.article_id == article_id))
        return [r.kind for r in rows]
