"""Answered at intake (直接答复): a consultation answered from an article (or in the operator's
own words) is a hotline case closed at intake in one step of the case service, citing the
article's version; a repeat call on the same topic from the same phone flags the article."""

from __future__ import annotations

from datetime import timedelta

from sla_support import events
from sqlmodel import select
from test_knowledge_api import publish

from engine.db import new_session
from engine.knowledge import answers
from engine.knowledge.models import KnowledgeFlag

URL = "/api/v1/knowledge/answers"
PHONE = "138-0013-8000"


def later(api, delta: timedelta) -> None:
    """Time passes; tokens last a day, so the desks sign in again."""
    api.ctx.clock.advance(delta)
    api._tokens.clear()


async def answer(api, role="operator", **body):
    call = {"description": "来电咨询居住证怎么办理", "reporter_phone": PHONE} | body
    return await api.client.post(URL, json=call, headers=api.auth(role, "00"))


async def test_an_article_answers_the_call_and_the_case_closes_at_intake(api):
    article = await publish(api)
    response = await answer(
        api, article_id=article["id"], call_id="CALL-0001", recording_url="https://pbx/r/1.mp3"
    )
    assert response.status_code == 201, response.text
    body = response.json()
    case = body["case"]
    assert (case["state"], case["channel"], case["request_type"]) == (
        "closed",
        "hotline",
        "consult",
    )
    assert case["external_id"] == "CALL-0001" and case["category"] == "12005"
    assert case["lead_department"] is None and case["closed_at"] is not None
    assert (body["article_id"], body["article_version"]) == (article["id"], article["version"])
    trail = events(api.ctx, case["id"])
    assert [(e.action, e.to_state, e.actor_role) for e in trail] == [
        ("report", "reported", "operator"),
        ("answer_at_intake", "resolved", "operator"),
        ("close", "closed", "system"),  # not sampled for 回访 (tests/test_review.py)
    ]
    assert trail[1].data == {
        "answer": article["answer"],
        "article": str(article["id"]),
        "article_version": str(article["version"]),
        "recording_url": "https://pbx/r/1.mp3",
    }
    again = await answer(api, article_id=article["id"], call_id="CALL-0001")
    assert again.status_code == 200 and again.json()["case"]["id"] == case["id"]


async def test_own_words_and_refusals(api):
    own = await answer(api, answer="办理时间为工作日9点至17点。", category="12005")
    assert own.status_code == 201, own.text
    assert events(api.ctx, own.json()["case"]["id"])[1].data == {
        "answer": "办理时间为工作日9点至17点。"
    }
    missing = await answer(api)
    assert missing.status_code == 422
    assert missing.json()["error"]["details"][0]["field"] == "answer"
    assert (await answer(api, role="dispatcher", answer="x")).status_code == 403
    draft = await api.client.post(
        "/api/v1/knowledge/articles",
        json={"title": "草稿", "question": "草稿？", "answer": "草稿。"},
        headers=api.auth("admin", "00"),
    )
    assert (await answer(api, article_id=draft.json()["id"])).status_code == 404
    bad = await answer(api, answer="x", recording_url="javascript:alert(1)")
    assert bad.status_code == 422


async def test_a_repeat_call_flags_the_article(api):
    article = await publish(api)
    first = await answer(api, article_id=article["id"])
    assert first.status_code == 201
    later(api, timedelta(days=3))
    await answer(
        api, answer="请按上次告知的材料办理", category="12005", reporter_phone="13800138000"
    )
    with new_session(api.ctx.db) as session:
        flags = session.exec(select(KnowledgeFlag)).all()
    assert [(f.article_id, f.kind, f.article_version) for f in flags] == [
        (article["id"], "repeat_call", article["version"])
    ]
    detail = await api.client.get(
        f"/api/v1/knowledge/articles/{article['id']}", headers=api.auth("admin", "00")
    )
    assert detail.json()["needs_review"] is True


async def test_a_repeat_filed_as_a_normal_case_is_found_by_the_sweep(api):
    article = await publish(api)
    await answer(api, article_id=article["id"])
    later(api, timedelta(days=10))
    late = await api.file(category="12005", reporter_phone=PHONE, description="又来问居住证")
    later(api, timedelta(days=1))
    await api.file(category="12001", reporter_phone=PHONE, description="另一个话题")
    later(api, timedelta(days=1))
    repeat = await api.file(category="12005", reporter_phone="+86 13800138000", description="再问")
    now = api.ctx.clock.now()
    with new_session(api.ctx.db) as session, session.begin():
        assert answers.sweep_repeat_calls(session, now - timedelta(days=30), now, days=7) == 0
        found = answers.sweep_repeat_calls(session, now - timedelta(days=30), now, days=11)
    assert found == 1  # 10 days after the answer: within 11; 12 days after: not; 12001: no
    with new_session(api.ctx.db) as session:
        flagged = [(f.case_id, f.kind) for f in session.exec(select(KnowledgeFlag)).all()]
    assert flagged == [(late["id"], "repeat_call")] and repeat["id"] != late["id"]


async def test_a_flag_from_an_answered_case_names_the_version_read_out(api):
    article = await publish(api)
    case = (await answer(api, article_id=article["id"])).json()["case"]
    body = {"case_id": case["id"], "article_id": article["id"], "kind": "wrong", "note": "口径有误"}
    flagged = await api.client.post(
        "/api/v1/knowledge/flags", json=body, headers=api.auth("admin", "00")
    )
    assert flagged.status_code == 201, flagged.text
    assert flagged.json()["article_version"] == article["version"]


async def test_while_a_revision_waits_the_answer_reads_and_cites_the_published_text(api):
    from test_knowledge_api import ARTICLE

    article = await publish(api)
    edit = {**ARTICLE, "answer": "尚未审核的新答复", "version": article["version"]}
    edited = await api.client.put(
        f"/api/v1/knowledge/articles/{article['id']}", json=edit, headers=api.auth("admin", "00")
    )
    assert edited.status_code == 200 and edited.json()["revision"]["answer"] == "尚未审核的新答复"
    response = await answer(api, article_id=article["id"], call_id="CALL-REV")
    assert response.status_code == 201, response.text
    assert response.json()["article_version"] == article["version"]
    cited = events(api.ctx, response.json()["case"]["id"])[1].data
    assert (cited["answer"], cited["article_version"]) == (
        ARTICLE["answer"],
        str(article["version"]),
    )
