"""`gridflow router train|evaluate|predict|list|generate` and the labelled-file reader."""
# (the gate, activate and rollback: tests/test_classifier_gate.py)

from __future__ import annotations

import csv
import json

import pytest
from openpyxl import Workbook

from engine.classifier import read_labelled
from engine.errors import InvalidInput
from engine.settings import get_settings
from tests.router_support import KEY, close_case
from web.cli import main

QUICK = ["--folds", "3", "--search-sample", "600"]  # a smaller settings search


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("GRIDFLOW_MODELS_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("GRIDFLOW_SECRET_KEY", KEY)
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def test_generate_train_evaluate_predict_list(env, capsys):
    train, test = env / "train.csv", env / "test.csv"
    assert main(["router", "generate", "--count", "1500", "--seed", "1", "--out", str(train)]) == 0
    assert main(["router", "generate", "--count", "300", "--seed", "2", "--out", str(test)]) == 0
    with train.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 1500 and set(rows[0]) == {"text", "category", "department", "grid"}
    capsys.readouterr()

    assert (
        main(["router", "train", "--file", str(train), "--label-column", "category", *QUICK]) == 0
    )
    out = capsys.readouterr().out
    assert "category model 2" in out and "trained on 1500 texts, 73 labels" in out
    assert "k-fold (out of fold) accuracy" in out and "time-ordered" in out
    assert "routed share" in out and "confidence band" in out
    assert "gate: no live model -> LIVE" in out

    assert main(["router", "evaluate", str(test), "--label-column", "category"]) == 0
    out = capsys.readouterr().out
    for heading in ("accuracy", "macro-F1", "top-3", "precision", "recall", "support", "0.9-1.0"):
        assert heading in out
    assert "01003" in out  # the per-label table
    assert main(["router", "evaluate", str(test), "--label-column", "category", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["size"] == 300 and report["accuracy"] > 0.7
    assert report["top3_accuracy"] >= report["accuracy"]
    assert {b["low"] for b in report["reliability"]} >= {0.9}
    assert [p["threshold"] for p in report["operating_points"]][4] == 0.85

    assert main(["router", "predict", "东湖区湖滨路路灯不亮了，晚上很黑"]) == 0
    out = capsys.readouterr().out
    assert "category   01003" in out and "route" in out
    assert main(["router", "predict", "路灯不亮", "--json", "--threshold", "1"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["category"] == "01003" and answer["department"] is None
    assert answer["route"] == "manual" and len(answer["top3"]) == 3

    assert main(["router", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [m["target"] for m in listed] == ["category"] and listed[0]["training_size"] == 1500
    assert listed[0]["live"] is True


def test_tampered_model_is_refused_by_the_cli(env, capsys):
    data = env / "d.csv"
    main(["router", "generate", "--count", "300", "--seed", "3", "--out", str(data)])
    main(["router", "train", "--file", str(data), "--label-column", "category", *QUICK])
    capsys.readouterr()
    model = next((env / "models").glob("category-*.npz"))
    model.write_bytes(model.read_bytes()[:-10] + b"0123456789")
    assert main(["router", "predict", "路灯不亮"]) == 2
    assert "does not match its sha256" in capsys.readouterr().err


def test_train_department_from_xlsx_with_named_columns(env, capsys):
    data = env / "d.csv"
    main(["router", "generate", "--count", "600", "--seed", "4", "--out", str(data)])
    book = Workbook()
    sheet = book.active
    sheet.append(["工单编号", "诉求内容", "承办单位"])
    with data.open(encoding="utf-8") as handle:
        for i, row in enumerate(csv.DictReader(handle)):
            sheet.append([i, row["text"], row["department"]])
    sheet.append([999, None, "HW-01"])  # an empty text: skipped
    xlsx = env / "orders.xlsx"
    book.save(xlsx)
    capsys.readouterr()
    args = ["router", "train", "--file", str(xlsx), "--target", "department"]
    args += ["--text-column", "诉求内容", "--label-column", "承办单位", "--json", *QUICK]
    assert main(args) == 0
    [meta] = json.loads(capsys.readouterr().out)
    assert meta["target"] == "department" and meta["training_size"] == 600
    assert meta["source"] == {"kind": "file", "file": "orders.xlsx", "skipped_rows": 1}
    assert "HW-01" in meta["labels"] and meta["metrics"]["accuracy"] > 0.4


async def test_train_from_the_citys_closed_cases(env, api, ctx, monkeypatch, capsys):
    monkeypatch.setenv("GRIDFLOW_DATABASE_URL", str(ctx.db.url))
    get_settings.cache_clear()
    for i in range(5):
        await close_case(api, f"小区门口垃圾堆积{i}天无人清理，气味很大", ["HW-01"])
        await close_case(api, f"路灯不亮了{i}天，晚上很黑", ["SZ-00"], category="01003")
    await close_case(api, "垃圾桶满了溢出来", ["CG-0101", "HW-01"], category="06008")
    capsys.readouterr()
    assert main(["router", "train", "--from-db", "--json", *QUICK]) == 0
    category, department = json.loads(capsys.readouterr().out)
    assert (category["target"], department["target"]) == ("category", "department")
    assert department["source"] == {"kind": "db", "confirmed_cases": 11, "corrected": 1}
    assert set(department["labels"]) == {"HW-01", "SZ-00"}
    assert main(["router", "predict", "路灯不亮", "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert (answer["category"], answer["department"]) == ("01003", "SZ-00")


def test_cli_errors_are_reported_not_raised(env, capsys):
    assert main(["router", "train"]) == 2
    assert "--from-db or --file" in capsys.readouterr().err
    data = env / "d.csv"
    data.write_text("text,label\n路灯不亮,01003\n", encoding="utf-8")
    assert main(["router", "train", "--file", str(data), "--label-column", "类别"]) == 2
    assert "no column '类别'" in capsys.readouterr().err
    assert main(["router", "train", "--file", str(data), "--target", "both"]) == 2
    assert main(["router", "predict", "路灯不亮"]) == 2
    assert "gridflow router train" in capsys.readouterr().err
    assert main(["router", "evaluate", str(env / "missing.csv")]) == 2


def test_labelled_files_in_gb18030_and_with_blank_rows(tmp_path):
    path = tmp_path / "export.csv"
    path.write_bytes(
        "内容,分类\n井盖破损了,01001\n,01003\n路灯不亮,\n垃圾满了,06008\n".encode("gb18030")
    )
    data = read_labelled(path, "内容", "分类")
    assert data.texts == ["井盖破损了", "垃圾满了"] and data.labels == ["01001", "06008"]
    assert data.skipped == 2
    other = tmp_path / "x.json"
    other.write_text("{}", encoding="utf-8")
    with pytest.raises(InvalidInput, match=r"\.csv or \.xlsx"):
        read_labelled(other, "a", "b")
