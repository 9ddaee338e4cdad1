"""`gridflow knowledge import FILE.xlsx|csv`: articles from a spreadsheet; bad rows reported by
row and field, nothing written unless every row is good (or --skip-bad); a re-run skips what
is there; --published-by publishes them with the approving reviewer recorded."""

from __future__ import annotations

import pytest
from openpyxl import Workbook
from sqlmodel import select

from engine.clock import FileClock
from engine.db import new_session
from engine.knowledge.models import KnowledgeArticle, KnowledgeArticleVersion
from engine.settings import get_settings
from web.cli import main

HEADER = ["标题", "问题", "答复", "政策依据", "政策日期", "事项分类", "复审日期"]
GOOD = [
    [
        "公积金提取",
        "公积金怎么提取？",
        "购房租房可提取。",
        "公积金管理办法",
        "2025/6/1",
        "12005",
        "2027年1月1日",
    ],
    ["居住证办理", "怎么办居住证？", "到派出所申领。", "", "", "12005、12004", ""],
]
BAD = [
    ["", "没有标题的问题", "答复", "", "", "", ""],
    ["停水", "停水了？", "等通知。", "", "2025-13-01", "", ""],
    ["分类错", "分类错？", "答复。", "", "", "99999", ""],
]


@pytest.fixture
def cli_env(ctx, tmp_path, monkeypatch):
    clock_file = tmp_path / "clock"
    FileClock.write(clock_file, ctx.clock.now())
    monkeypatch.setenv("GRIDFLOW_DATABASE_URL", ctx.settings.database_url)
    monkeypatch.setenv("GRIDFLOW_CLOCK_FILE", str(clock_file))
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def write_csv(path, rows):
    lines = [",".join(HEADER)] + [",".join(row) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_xlsx(path, rows):
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def articles(ctx) -> list[KnowledgeArticle]:
    with new_session(ctx.db) as session:
        return list(session.exec(select(KnowledgeArticle).order_by(KnowledgeArticle.id)))


def test_bad_rows_are_named_and_nothing_is_written(ctx, cli_env, capsys):
    path = write_csv(cli_env / "kb.csv", GOOD + BAD)
    assert main(["knowledge", "import", str(path)]) == 1
    err = capsys.readouterr().err
    assert "row 4, title: must not be empty" in err
    assert "row 5, source_date: not a calendar date" in err
    assert "row 6, categories: unknown categories ['99999']" in err
    assert articles(ctx) == []
    assert main(["knowledge", "import", str(path), "--skip-bad"]) == 0
    assert [a.title for a in articles(ctx)] == ["公积金提取", "居住证办理"]
    assert articles(ctx)[1].categories == "12005 12004"
    assert main(["knowledge", "import", str(path), "--skip-bad"]) == 0  # a re-run
    assert "0 of 5 rows as drafts; 2 already in the knowledge base" in capsys.readouterr().out
    assert len(articles(ctx)) == 2


def test_an_xlsx_sheet_is_published_with_its_reviewer(ctx, cli_env, capsys):
    path = write_xlsx(cli_env / "kb.xlsx", GOOD)
    assert main(["knowledge", "import", str(path), "--as", "张三", "--published-by", "李四"]) == 0
    imported = articles(ctx)
    assert [(a.status, str(a.source_date), str(a.review_by)) for a in imported] == [
        ("published", "2025-06-01", "2027-01-01"),
        ("published", "None", "None"),
    ]
    with new_session(ctx.db) as session:
        trail = session.exec(
            select(KnowledgeArticleVersion).where(
                KnowledgeArticleVersion.article_id == imported[0].id
            )
        ).all()
    assert [(v.change, v.changed_by) for v in trail] == [
        ("create", "张三"),
        ("submit", "张三"),
        ("publish", "李四"),
    ]


def test_a_dry_run_and_a_wrong_file(ctx, cli_env, capsys):
    path = write_csv(cli_env / "kb.csv", GOOD)
    assert main(["knowledge", "import", str(path), "--dry-run"]) == 0
    assert "would import 2 of 2 rows" in capsys.readouterr().out
    assert articles(ctx) == []
    (cli_env / "kb.txt").write_text("x")
    assert main(["knowledge", "import", str(cli_env / "kb.txt")]) == 2
    no_header = cli_env / "other.csv"
    no_header.write_text("a,b\n1,2\n", encoding="utf-8")
    assert main(["knowledge", "import", str(no_header)]) == 2
    assert "标题 (title)" in capsys.readouterr().err


def test_the_demo_articles_load_published_and_are_found(ctx, cli_env, capsys):
    assert main(["knowledge", "demo"]) == 0
    assert "imported 32 of 32 rows as published" in capsys.readouterr().out
    loaded = articles(ctx)
    assert all(a.status == "published" for a in loaded)
    assert main(["knowledge", "demo"]) == 0  # again: nothing new
    assert len(articles(ctx)) == 32
    from engine.knowledge import search

    with new_session(ctx.db) as session:
        found = search.search(session, "社保卡丢了去哪补", ctx.clock.now().date(), "12005")
        assert found[0].article.title == "社保卡补办"
        found = search.search(session, "楼上装修太吵", ctx.clock.now().date())
        assert found[0].article.title == "装修噪声时间规定"
