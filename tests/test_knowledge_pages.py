"""Knowledge-base pages: an administrator writes an article, a second one publishes it, the
operator's intake panel finds it and answers the call at intake; pages in Chinese and
English; each desk sees what is theirs."""

from __future__ import annotations

import re

import pytest
from page_support import login, post
from sqlmodel import select

from engine.cases.models import Case
from engine.db import new_session
from engine.knowledge.models import KnowledgeArticle

ARTICLE = {
    "title": "新生儿医保参保",
    "question": "新生儿怎么办理医保？",
    "answer": "出生后三个月内到社区办理城乡居民医保参保，当年免缴个人部分。",
    "source": "示范市医保局通知",
    "source_date": "2025-03-01",
    "categories": "12005",
    "departments": "",
    "valid_from": "",
    "review_by": "2027-03-01",
}


@pytest.fixture
async def web(make_ctx, make_api):
    ctx = make_ctx()
    async with make_api(ctx) as api:
        yield api


async def published_article(web) -> int:
    csrf = await login(web, "admin", "00", name="kb-author")
    created = await post(web, "/knowledge/new", csrf, **ARTICLE)
    assert created.status_code == 303, created.text
    article_id = int(re.search(r"/knowledge/(\d+)", created.headers["location"])[1])
    assert (await post(web, f"/knowledge/{article_id}/submit", csrf)).status_code == 303
    own = await post(web, f"/knowledge/{article_id}/publish", csrf)
    assert own.status_code == 403 and "审核" in own.text  # not by its submitter
    csrf = await login(web, "admin", "00", name="kb-reviewer")
    published = await post(web, f"/knowledge/{article_id}/publish", csrf, note="已核对")
    assert published.status_code == 303, published.text
    return article_id


async def test_write_review_publish_and_the_versions_shown(web):
    article_id = await published_article(web)
    shown = await web.client.get(f"/knowledge/{article_id}")
    assert shown.status_code == 200
    assert "已发布" in shown.text and "审核发布" in shown.text and "kb-reviewer" in shown.text
    assert "Published" in (await web.client.get(f"/knowledge/{article_id}?lang=en")).text
    listing = await web.client.get("/knowledge?lang=zh")
    assert "新生儿医保参保" in listing.text and "知识库" in listing.text
    csrf = await login(web, "admin", "00", name="kb-author")
    bad = await post(web, f"/knowledge/{article_id}", csrf, **(ARTICLE | {"title": ""}))
    assert bad.status_code == 422
    edited = await post(web, f"/knowledge/{article_id}", csrf, **(ARTICLE | {"version": "3"}))
    assert edited.status_code == 303
    review = await web.client.get("/knowledge/review")
    assert review.status_code == 200


async def test_the_panel_finds_and_the_operator_answers_at_intake(web):
    article_id = await published_article(web)
    csrf = await login(web, "operator", "00")
    panel = await web.client.get("/knowledge/panel", params={"q": "宝宝刚出生怎么办医保"})
    assert panel.status_code == 200
    assert f'data-article="{article_id}"' in panel.text and "三个月内" in panel.text
    none = await web.client.get("/knowledge/panel", params={"q": "火星移民政策"})
    assert "没有匹配的知识" in none.text
    answered = await post(
        web, "/knowledge/answer", csrf, description="来电咨询新生儿医保怎么办",
        reporter_phone="13900001111", category="12005 政策咨询", article_id=str(article_id),
        answer="", call_id="PBX-778", recording_url="https://pbx.example/r/778.wav",
    )  # fmt: skip
    assert answered.status_code == 303, answered.text
    case_id = int(re.search(r"/cases/(\d+)", answered.headers["location"])[1])
    with new_session(web.ctx.db) as session:
        case = session.get(Case, case_id)
        assert (case.state, case.external_id, case.category) == ("closed", "PBX-778", "12005")
    refused = await post(web, "/knowledge/answer", csrf, description="只有问题")
    assert refused.status_code == 422 and "answer" in refused.text


async def test_each_desk_sees_what_is_theirs(web):
    await login(web, "handler", "HW-01")
    csrf = (await web.client.get("/knowledge/new")).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', csrf)[1]
    created = await post(web, "/knowledge/new", token, **ARTICLE)
    assert created.status_code == 303
    with new_session(web.ctx.db) as session:
        article = session.exec(select(KnowledgeArticle)).one()
    assert article.owner_department == "HW-01"
    await login(web, "handler", "HW-02")
    assert (await web.client.get(f"/knowledge/{article.id}")).status_code == 404  # a draft
    await login(web, "operator", "00")
    assert (await web.client.get("/knowledge/new")).status_code == 403
    assert "新生儿医保参保" not in (await web.client.get("/knowledge")).text
    await login(web, "grid_worker", "01010101")
    assert (await web.client.get("/knowledge")).status_code == 403


async def test_the_call_pop_up_fills_the_form_and_keeps_the_call(web):
    article_id = await published_article(web)
    csrf = await login(web, "operator", "00")
    params = {"phone": "139-0000-2222", "call_id": "PBX-9001", "recording": "https://pbx/r/9001"}
    form = await web.client.get("/intake", params=params)
    assert form.status_code == 200
    assert 'value="139-0000-2222"' in form.text and 'value="PBX-9001"' in form.text
    assert 'id="kb-panel"' in form.text and 'value="https://pbx/r/9001"' in form.text
    assert "/static/knowledge.js" in form.text
    odd = await web.client.get("/intake", params={"phone": "<script>", "call_id": "a b"})
    assert odd.status_code == 200 and "&lt;script&gt;" not in odd.text
    answered = await post(
        web, "/knowledge/answer", csrf, description="咨询新生儿医保",
        reporter_phone="139-0000-2222", call_id="PBX-9001", recording_url="https://pbx/r/9001",
        article_id=str(article_id),
    )  # fmt: skip
    case_id = int(re.search(r"/cases/(\d+)", answered.headers["location"])[1])
    with new_session(web.ctx.db) as session:
        case = session.get(Case, case_id)
    assert (case.external_id, case.reporter_phone, case.state) == (
        "PBX-9001",
        "139-0000-2222",
        "closed",
    )
    for role in ("dispatcher", "admin"):  # the panel searches for them, answering is the operator's
        await login(web, role, "00")
        page = await web.client.get("/intake")
        assert 'id="kb-panel"' in page.text and 'id="kb-answer-form"' not in page.text


async def test_a_district_operator_answers_with_the_grid_picked_on_the_form(web):
    article_id = await published_article(web)
    csrf = await login(web, "operator", "0101")
    call = {"description": "咨询新生儿医保", "article_id": str(article_id), "category": "12005"}
    nowhere = await post(web, "/knowledge/answer", csrf, **call)
    assert nowhere.status_code == 403  # the city's case, outside a district operator's area
    here = await post(web, "/knowledge/answer", csrf, **call, grid_code="01010101 东坡网格")
    assert here.status_code == 303, here.text


async def test_an_edit_shows_as_a_revision_while_operators_read_the_published_text(web):
    article_id = await published_article(web)
    csrf = await login(web, "admin", "00", name="kb-author")
    new = "出生后六个月内均可在线办理参保，当年免缴个人部分。"
    saved = await post(
        web, f"/knowledge/{article_id}", csrf, **(ARTICLE | {"answer": new}), version="3"
    )
    assert saved.status_code == 303, saved.text
    keeper = await web.client.get(f"/knowledge/{article_id}?lang=zh")
    assert (
        'id="kb-revision"' in keeper.text and new in keeper.text and "待审核修订稿" in keeper.text
    )
    assert ARTICLE["answer"] in keeper.text  # the published text, still shown first
    assert "/submit" in keeper.text  # the revision is submitted next
    english = await web.client.get(f"/knowledge/{article_id}?lang=en")
    assert "Revision waiting for review" in english.text
    await login(web, "operator", "00")
    seen = await web.client.get(f"/knowledge/{article_id}?lang=zh")
    assert (
        ARTICLE["answer"] in seen.text
        and new not in seen.text
        and 'id="kb-revision"' not in seen.text
    )


async def test_a_second_call_from_the_same_phone_shows_the_first(web):
    article_id = await published_article(web)
    csrf = await login(web, "operator", "00")
    answered = await post(
        web, "/knowledge/answer", csrf, description="咨询新生儿医保", reporter_phone="13900004444",
        call_id="PBX-1", article_id=str(article_id),
    )  # fmt: skip
    first = int(re.search(r"/cases/(\d+)", answered.headers["location"])[1])
    again = await web.client.get("/intake?lang=zh", params={"phone": "139-0000-4444"})
    history = again.text.split('id="caller-history"')[1].split("</section>")[0]
    assert f'href="/cases/{first}"' in history and "来电人历史工单 (1)" in again.text
    other = await web.client.get("/intake", params={"phone": "13900005555"})
    assert "该号码暂无历史工单" in other.text
    await login(web, "grid_worker", "01010101")  # masked contact: no look-up by phone
    assert (await web.client.get("/intake", params={"phone": "13900004444"})).status_code == 403


async def test_a_sampled_answer_is_in_the_operators_callback_list(web):
    from test_review import set_review_settings

    set_review_settings(web.ctx, answered_callback_share=1)
    article_id = await published_article(web)
    csrf = await login(web, "operator", "00")
    answered = await post(
        web, "/knowledge/answer", csrf, description="咨询新生儿医保", reporter_phone="13900007777",
        article_id=str(article_id),
    )  # fmt: skip
    case_id = int(re.search(r"/cases/(\d+)", answered.headers["location"])[1])
    callbacks = (await web.client.get("/intake")).text.split('id="h-callbacks"')[1]
    assert f'data-case="{case_id}"' in callbacks.split("</section>")[0]
