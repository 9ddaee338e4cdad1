"""The knowledge-base API: keepers write and review, the desks read and search what is
published, departments flag an article from a case; bad input names its field."""

from __future__ import annotations

URL = "/api/v1/knowledge"
ARTICLE = {
    "title": "居住证办理",
    "question": "外地户籍怎么办理居住证？",
    "answer": "在本市居住满半年并有合法稳定住所的，可到居住地派出所申领居住证。",
    "source": "示范市居住证实施办法",
    "source_date": "2025-01-01",
    "categories": ["12005"],
    "review_by": "2026-12-31",
}


async def publish(api, body=None, author=("admin", "00"), reviewer=("admin", "01")) -> dict:
    created = await api.client.post(
        f"{URL}/articles", json=body or ARTICLE, headers=api.auth(*author)
    )
    assert created.status_code == 201, created.text
    article_id = created.json()["id"]
    submitted = await api.client.post(
        f"{URL}/articles/{article_id}/submit", json={}, headers=api.auth(*author)
    )
    assert submitted.status_code == 200, submitted.text
    done = await api.client.post(
        f"{URL}/articles/{article_id}/publish",
        json={"note": "核对无误"},
        headers=api.auth(*reviewer),
    )
    assert done.status_code == 200, done.text
    return done.json()


async def test_write_review_publish_and_read(api):
    handler, colleague = api.auth("handler", "SJ-00"), api.auth("handler", "SJ-00")
    created = await api.client.post(f"{URL}/articles", json=ARTICLE, headers=handler)
    assert created.status_code == 201, created.text
    article = created.json()
    assert (article["status"], article["owner_department"], article["version"]) == (
        "draft",
        "SJ-00",
        1,
    )
    article_id = article["id"]
    operator = api.auth("operator", "00")
    assert (
        await api.client.get(f"{URL}/articles/{article_id}", headers=operator)
    ).status_code == 404
    await api.client.post(f"{URL}/articles/{article_id}/submit", json={}, headers=handler)
    same = await api.client.post(f"{URL}/articles/{article_id}/publish", json={}, headers=colleague)
    assert same.status_code == 403  # the same token is the same person: a second one reviews
    admin = api.auth("admin", "00")
    published = await api.client.post(
        f"{URL}/articles/{article_id}/publish", json={}, headers=admin
    )
    assert published.json()["status"] == "published"
    seen = await api.client.get(f"{URL}/articles/{article_id}", headers=operator)
    assert seen.status_code == 200 and seen.json()["answer"].startswith("在本市居住满半年")
    found = await api.client.get(f"{URL}/search", params={"q": "外地人办居住证"}, headers=operator)
    assert [h["id"] for h in found.json()["items"]] == [article_id]
    assert found.json()["items"][0]["version"] == 3
    stale = {**ARTICLE, "answer": "新规定", "version": 1}
    conflict = await api.client.put(f"{URL}/articles/{article_id}", json=stale, headers=handler)
    assert conflict.status_code == 409
    edited = await api.client.put(
        f"{URL}/articles/{article_id}", json={**stale, "version": 3}, headers=handler
    )
    # The edit is a revision: the published answer keeps serving until it is reviewed.
    body = edited.json()
    assert (body["status"], body["version"], body["served_version"]) == ("published", 4, 3)
    assert (body["revision"]["status"], body["revision"]["answer"]) == ("draft", "新规定")
    seen = (await api.client.get(f"{URL}/articles/{article_id}", headers=operator)).json()
    assert seen["answer"].startswith("在本市居住满半年") and seen["revision"] is None
    found = await api.client.get(f"{URL}/search", params={"q": "外地人办居住证"}, headers=operator)
    assert found.json()["items"][0]["version"] == 3  # the version read out, not the draft
    versions = (
        await api.client.get(f"{URL}/articles/{article_id}/versions", headers=handler)
    ).json()
    assert [v["change"] for v in versions] == ["create", "submit", "publish", "edit"]
    cited = await api.client.get(f"{URL}/articles/{article_id}/versions/3", headers=handler)
    assert cited.json()["answer"].startswith("在本市居住满半年")


async def test_roles_and_bad_input(api):
    operator, other = api.auth("operator", "00"), api.auth("handler", "HW-01")
    assert (
        await api.client.post(f"{URL}/articles", json=ARTICLE, headers=operator)
    ).status_code == 403
    article = await publish(api)
    edit = await api.client.put(f"{URL}/articles/{article['id']}", json=ARTICLE, headers=other)
    assert edit.status_code == 403  # published, another's: visible but not theirs to keep
    admin = api.auth("admin", "00")
    for bad, field in [
        ({**ARTICLE, "categories": ["99999"]}, "categories"),
        ({**ARTICLE, "title": ""}, "title"),
        ({**ARTICLE, "colour": "red"}, "colour"),
        ({**ARTICLE, "review_by": "2026-02-30"}, "review_by"),
    ]:
        response = await api.client.post(f"{URL}/articles", json=bad, headers=admin)
        assert response.status_code == 422, response.text
        assert field in str(response.json()["error"]["details"]), response.text
    path = f"{URL}/articles/{article['id']}/reject"
    assert (await api.client.post(path, json={}, headers=admin)).status_code == 422  # no reason
    reject = await api.client.post(path, json={"note": "有误"}, headers=admin)
    assert reject.status_code == 409  # published: nothing to reject


async def test_a_department_flags_an_article_from_its_case(api):
    article = await publish(api)
    case = await api.file(category="12005", description="咨询居住证", grid_code="01010101")
    dispatched = await api.act(case["id"], "dispatch", "dispatcher", department="HW-01")
    assert dispatched.status_code == 200, dispatched.text
    body = {
        "case_id": case["id"],
        "article_id": article["id"],
        "kind": "outdated",
        "note": "已调整",
    }
    raised = await api.client.post(f"{URL}/flags", json=body, headers=api.auth("handler", "HW-01"))
    assert raised.status_code == 201, raised.text
    again = await api.client.post(f"{URL}/flags", json=body, headers=api.auth("handler", "HW-01"))
    assert again.status_code == 200 and again.json()["id"] == raised.json()["id"]
    hidden = await api.client.post(f"{URL}/flags", json=body, headers=api.auth("handler", "HW-02"))
    assert hidden.status_code == 404  # not their case
    admin = api.auth("admin", "00")
    review = (await api.client.get(f"{URL}/review", headers=admin)).json()["items"]
    assert [a["id"] for a in review] == [article["id"]] and review[0]["needs_review"]
    detail = (await api.client.get(f"{URL}/articles/{article['id']}", headers=admin)).json()
    assert [f["kind"] for f in detail["flags"]] == ["outdated"]
