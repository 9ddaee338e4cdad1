"""Knowledge-base articles: lifecycle draft → in review → published → expired, a version row
for every change, who keeps which article, and search over a few hundred articles."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from engine.db import new_session
from engine.errors import Conflict, Forbidden, InvalidInput, NotFound
from engine.knowledge import access, lifecycle, search, versions, views
from engine.knowledge.models import ArticleFields, Status
from engine.users.models import Principal, Role

ADMIN = Principal("admin1", Role.admin, "00")
REVIEWER = Principal("admin2", Role.admin, "00")
HANDLER = Principal("sj-handler", Role.handler, "SJ-00")
OTHER_HANDLER = Principal("hw-handler", Role.handler, "HW-01")
OPERATOR = Principal("op1", Role.operator, "00")
TODAY = date(2026, 3, 2)


def fields(**over) -> ArticleFields:
    base = {
        "title": "社保卡丢失如何补办",
        "question": "社保卡丢了怎么办？在哪里补办？",
        "answer": "携带身份证到任一社保经办网点或通过市社保APP挂失补办，"
        "补卡费用免收，10个工作日内可领取。",
        "source": "示范市人社局〔2025〕12号",
        "source_date": date(2025, 6, 1),
        "categories": "12005",
    }
    return ArticleFields(**(base | over))


def published(session, ctx, by=ADMIN, **over):
    now = ctx.clock.now()
    article = lifecycle.create(session, by, fields(**over), ctx.city, now)
    lifecycle.submit(session, by, article.id, now)
    reviewer = REVIEWER if by.role is Role.admin else Principal("sj-2", Role.handler, by.scope)
    return lifecycle.publish(session, reviewer, article.id, now)


def test_lifecycle_writes_a_version_for_every_change(ctx):
    now = ctx.clock.now()
    with new_session(ctx.db) as session, session.begin():
        article = lifecycle.create(session, ADMIN, fields(), ctx.city, now)
        assert (article.status, article.version) == (Status.draft, 1)
        with pytest.raises(Conflict):
            lifecycle.publish(session, REVIEWER, article.id, now)  # not submitted yet
        lifecycle.submit(session, ADMIN, article.id, now)
        with pytest.raises(Forbidden):
            lifecycle.publish(session, ADMIN, article.id, now)  # its submitter does not publish
        lifecycle.reject(session, REVIEWER, article.id, now, "写明办理地址")
        assert article.status == Status.draft
        lifecycle.edit(
            session, ADMIN, article.id, fields(answer="到政务服务中心3号窗口补办。"), ctx.city, now
        )
        lifecycle.submit(session, ADMIN, article.id, now)
        lifecycle.publish(session, REVIEWER, article.id, now)
        assert (article.status, article.version) == (Status.published, 6)
        lifecycle.expire(session, ADMIN, article.id, now, "政策调整")
        history = views.versions(session, ADMIN, article.id, TODAY)
    assert [(v.version, v.change, v.status, v.changed_by) for v in history] == [
        (1, "create", "draft", "admin1"),
        (2, "submit", "in_review", "admin1"),
        (3, "reject", "draft", "admin2"),
        (4, "edit", "draft", "admin1"),
        (5, "submit", "in_review", "admin1"),
        (6, "publish", "published", "admin2"),
        (7, "expire", "expired", "admin1"),
    ]
    assert history[2].note == "写明办理地址"
    assert (
        "社保经办网点" in history[0].answer and history[5].answer == "到政务服务中心3号窗口补办。"
    )


def test_operators_see_only_published_valid_articles(ctx):
    now = ctx.clock.now()
    with new_session(ctx.db) as session, session.begin():
        draft = lifecycle.create(session, ADMIN, fields(title="草稿"), ctx.city, now)
        live = published(session, ctx, review_by=TODAY + timedelta(days=30))
        later = published(session, ctx, valid_from=TODAY + timedelta(days=1))
        with pytest.raises(NotFound):
            views.get(session, OPERATOR, draft.id, TODAY)
        with pytest.raises(NotFound):
            views.get(session, OPERATOR, later.id, TODAY)
        assert views.get(session, OPERATOR, live.id, TODAY).id == live.id
        past_review = TODAY + timedelta(days=31)
        with pytest.raises(NotFound):  # past its review date: hidden, listed for review
            views.get(session, OPERATOR, live.id, past_review)
        assert access.effective_status(live, past_review) == Status.expired
        assert live.id in {a.id for a in views.review_list(session, ADMIN, past_review)}
        assert lifecycle.expire_due(session, past_review, now) == [live.id]
        assert live.status == Status.expired
        listed = {a.id for a in views.list_articles(session, OPERATOR, TODAY)}
        assert listed == set()  # the live one expired; the later one not valid yet


def test_departments_keep_their_own_articles(ctx):
    now = ctx.clock.now()
    with new_session(ctx.db) as session, session.begin():
        mine = lifecycle.create(session, HANDLER, fields(), ctx.city, now)
        assert mine.owner_department == "SJ-00" and "SJ-00" in mine.departments.split()
        with pytest.raises(NotFound):  # another department's draft does not exist for them
            lifecycle.submit(session, OTHER_HANDLER, mine.id, now)
        with pytest.raises(Forbidden):
            lifecycle.create(session, OPERATOR, fields(), ctx.city, now)
        lifecycle.submit(session, HANDLER, mine.id, now)
        colleague = Principal("sj-2", Role.handler, "SJ-00")
        lifecycle.publish(session, colleague, mine.id, now)  # a colleague reviews
        assert {a.id for a in views.list_articles(session, HANDLER, TODAY)} == {mine.id}
        assert views.list_articles(session, OTHER_HANDLER, TODAY) == []
        admin_article = lifecycle.create(session, ADMIN, fields(), ctx.city, now)
        with pytest.raises(NotFound):
            lifecycle.edit(session, HANDLER, admin_article.id, fields(), ctx.city, now)


def test_bad_fields_name_the_field(ctx):
    now = ctx.clock.now()
    with new_session(ctx.db) as session:
        for bad, field in [
            ({"categories": "99999"}, "categories"),
            ({"departments": "NOPE"}, "departments"),
            ({"title": "  "}, "title"),
            ({"valid_from": TODAY, "review_by": TODAY - timedelta(days=1)}, "review_by"),
        ]:
            with pytest.raises(InvalidInput) as error:
                lifecycle.create(session, ADMIN, fields(**bad), ctx.city, now)
            assert error.value.details[0]["field"] == field


TOPICS = [
    (
        "公积金提取",
        "住房公积金怎么提取？",
        "购房、租房可提取住房公积金，携带身份证到公积金中心办理。",
        "12005",
    ),
    ("居住证办理", "外地人怎么办理居住证？", "在本市居住满半年，到社区派出所申领居住证。", "12005"),
    (
        "停水通知查询",
        "我家停水了什么时候来水？",
        "计划停水会提前在供水集团网站公告，抢修一般4小时内恢复。",
        "12004",
    ),
    (
        "噪声投诉时间",
        "晚上装修噪声可以投诉吗？",
        "22时至次日6时禁止产生噪声的装修作业，可向城管投诉。",
        "12001",
    ),
    (
        "新生儿医保参保",
        "新生儿怎么办理医保？",
        "出生后三个月内在社区办理城乡居民医保参保，当年免缴。",
        "12005",
    ),
]


def test_a_question_finds_its_article_first_among_hundreds(ctx):
    with new_session(ctx.db) as session, session.begin():
        for i in range(60):
            for title, question, answer, category in TOPICS:
                published(
                    session,
                    ctx,
                    title=f"{title}（{i}号文）" if i else title,
                    question=question if i == 0 else f"其他问题{i}：{answer[:6]}",
                    answer=answer if i == 0 else f"第{i}条说明，与{title[:2]}无关的其他规定。",
                    categories=category,
                )
        target = published(
            session,
            ctx,
            title="社保卡丢失补办",
            question="社保卡丢了怎么补办？",
            answer="携带身份证到社保网点挂失补办，免收工本费。",
        )
        hits = search.search(session, "您好，我的社保卡丢了，要去哪里补办", TODAY, category="12005")
        assert hits[0].article.id == target.id
        hits = search.search(session, "住房公积金提取需要什么", TODAY)
        assert hits[0].article.title == "公积金提取"
        hits = search.search(session, "晚上楼上装修噪声太大", TODAY, category="12001")
        assert hits[0].article.title == "噪声投诉时间"
        assert search.search(session, "了吗", TODAY) == []  # function words alone find nothing


def test_search_hides_drafts_and_boosts_the_suggested_category(ctx):
    now = ctx.clock.now()
    with new_session(ctx.db) as session, session.begin():
        lifecycle.create(session, ADMIN, fields(title="停电补偿草稿"), ctx.city, now)
        outage = published(
            session, ctx, title="停电咨询", question="停电了怎么办", categories="12004"
        )
        policy = published(
            session, ctx, title="停电补偿政策", question="停电怎么办", categories="12005"
        )
        titles = [h.article.title for h in search.search(session, "停电", TODAY)]
        assert "停电补偿草稿" not in titles
        boosted = search.search(session, "停电", TODAY, category="12004")
        assert boosted[0].article.id == outage.id
        boosted = search.search(session, "停电", TODAY, category="12005")
        assert boosted[0].article.id == policy.id
        assert search.grams("SSN卡 补办") == ["补办", "ssn"]


def test_the_index_follows_edits_and_rebuilds_the_same(ctx):
    from sqlmodel import select

    from engine.knowledge import grams
    from engine.knowledge.models import KnowledgeGram

    now = ctx.clock.now()
    with new_session(ctx.db) as session, session.begin():
        article = published(
            session, ctx, title="燃气开户", question="燃气怎么开户", answer="带房产证。"
        )
        assert [h.article.id for h in search.search(session, "燃气开户", TODAY)] == [article.id]
        lifecycle.edit(session, ADMIN, article.id, fields(), ctx.city, now)
        lifecycle.submit(session, ADMIN, article.id, now)
        lifecycle.publish(session, REVIEWER, article.id, now)
        assert search.search(session, "燃气开户", TODAY) == []  # the old words are gone
        assert search.search(session, "社保卡补办", TODAY)[0].article.id == article.id
        before = sorted(session.exec(select(KnowledgeGram.gram, KnowledgeGram.weight)).all())
        assert grams.rebuild(session) == 1
        after = sorted(session.exec(select(KnowledgeGram.gram, KnowledgeGram.weight)).all())
    assert before == after and ("社保", 3 + 2 + 1) in before


def test_an_edit_of_a_published_article_waits_for_review_while_the_old_text_serves(ctx):
    """A 12345 center keeps reading the approved answer until the new one is approved."""
    now = ctx.clock.now()
    new_answer = "自2026年4月起，社保卡补办改到各街道便民服务中心，当场制卡。"
    with new_session(ctx.db) as session, session.begin():
        article = published(session, ctx)
        live = article.version
        lifecycle.edit(session, ADMIN, article.id, fields(answer=new_answer), ctx.city, now)
        assert (article.status, article.answer) == (Status.published, fields().answer)
        pending = versions.revision(session, article)
        assert (pending.status, pending.answer, pending.version) == ("draft", new_answer, live + 1)
        assert versions.served_version(session, article) == live
        seen = views.get(session, OPERATOR, article.id, TODAY)
        assert seen.answer == fields().answer  # operators read the approved text
        assert [h.article.id for h in search.search(session, "当场制卡", TODAY)] == []
        lifecycle.submit(session, ADMIN, article.id, now)
        assert versions.revision(session, article).status == "in_review"
        assert article.id in {a.id for a in views.review_list(session, ADMIN, TODAY)}
        with pytest.raises(Forbidden):
            lifecycle.publish(session, ADMIN, article.id, now)  # not by its submitter
        with pytest.raises(Conflict):
            lifecycle.submit(session, ADMIN, article.id, now)  # already in review
        lifecycle.reject(session, REVIEWER, article.id, now, "写明办理时间")
        assert versions.revision(session, article).status == "draft"
        assert article.status == Status.published  # still serving
        lifecycle.edit(
            session, ADMIN, article.id, fields(answer=new_answer + "工作日9:00-17:00。"),
            ctx.city, now,
        )  # fmt: skip
        lifecycle.submit(session, ADMIN, article.id, now)
        lifecycle.publish(session, REVIEWER, article.id, now, "已核对")
        assert versions.revision(session, article) is None
        assert article.answer.endswith("工作日9:00-17:00。")
        assert versions.served_version(session, article) == article.version
        hits = search.search(session, "当场制卡", TODAY)
        assert [h.article.id for h in hits] == [article.id]
        rows = views.versions(session, ADMIN, article.id, TODAY)
        assert [(r.change, r.status, r.changed_by) for r in rows][live:] == [
            ("edit", "draft", "admin1"),
            ("submit", "in_review", "admin1"),
            ("reject", "draft", "admin2"),
            ("edit", "draft", "admin1"),
            ("submit", "in_review", "admin1"),
            ("publish", "published", "admin2"),
        ]
        assert rows[live - 1].answer == fields().answer  # the old text stays readable


def test_withdrawing_an_article_with_a_pending_revision_keeps_the_revision_to_review(ctx):
    now = ctx.clock.now()
    with new_session(ctx.db) as session, session.begin():
        article = published(session, ctx)
        lifecycle.edit(session, ADMIN, article.id, fields(answer="新的答复"), ctx.city, now)
        lifecycle.expire(session, ADMIN, article.id, now, "政策调整")
        assert (article.status, article.answer) == (Status.expired, "新的答复")
        assert versions.revision(session, article) is None
        lifecycle.submit(session, ADMIN, article.id, now)
        lifecycle.publish(session, REVIEWER, article.id, now)
        assert views.get(session, OPERATOR, article.id, TODAY).answer == "新的答复"
