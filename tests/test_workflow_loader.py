"""A broken workflow file fails at load with a message naming what is wrong."""

from __future__ import annotations

import re
import tomllib

import pytest

from engine.cases.workflow import WorkflowError, build_workflow, load_workflow
from workflows import STANDARD


def standard() -> dict:
    return tomllib.loads(STANDARD.read_text(encoding="utf-8"))


def test_standard_workflow_loads_every_design_state():
    workflow = load_workflow(STANDARD)
    assert set(workflow.states) == {
        "reported", "verifying", "registered", "dispatching", "assigned", "in_progress",
        "resolved", "closed", "returned", "suspended", "voided", "merged",
    }  # fmt: skip
    assert workflow.initial == "reported"


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda w: w["transitions"][0].update({"to": "nowhere"}), "unknown target state 'nowhere'"),
        (lambda w: w["transitions"][0].update({"from": ["limbo"]}), "unknown source state 'limbo'"),
        (lambda w: w["transitions"][0].update({"roles": ["mayor"]}), "'mayor' is not a valid Role"),
        (lambda w: w["transitions"][0].update({"requires": ["colour"]}), "unknown field 'colour'"),
        (
            lambda w: w["transitions"][0].update({"from": ["closed"]}),
            "source state 'closed' is final",
        ),
        (lambda w: w.update({"initial": "limbo"}), "initial state 'limbo'"),
        (lambda w: w["states"]["assigned"].update({"stage": "lunch"}), "state 'assigned'"),
        (lambda w: w["fields"]["reason"].update({"type": "blob"}), "field 'reason'"),
        (lambda w: w["transitions"].append(dict(w["transitions"][0])), "defined twice"),
    ],
)
def test_broken_definitions_name_the_problem(mutate, message):
    raw = standard()
    mutate(raw)
    with pytest.raises(WorkflowError, match=re.escape(message)):
        build_workflow(raw, "broken.toml")


def test_invalid_toml_names_the_file(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("[states\n", encoding="utf-8")
    with pytest.raises(WorkflowError, match=r"bad\.toml: not valid TOML"):
        load_workflow(path)


def test_one_machine_serves_every_case():
    workflow = load_workflow(STANDARD)
    assert workflow.machine.models == []  # no case is ever registered on the machine
