"""State and action names in code come from the workflow: every one that code names must be
defined in ``workflows/standard.toml``, so renaming a state there fails here instead of
silently matching nothing. And the case core knows none of its plugins.

Names are found by reading the source (``ast``): a string compared with something called
``state``/``action`` (``case.state == "closed"``, ``event.action in ("return", …)``, SQL
``Case.state == "closed"`` too), the action of a ``FollowUp``, ``.act(…)`` or
``.register(…)``, and the keys of the core's effect table.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from engine.cases.workflow import REPORT, standard_workflow

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ["engine", "web", "adapters"]
NAMED = ("state", "action")  # an expression so named (or ending _state, _action) holds one


def _name(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def _names_one(node: ast.AST) -> bool:
    name = _name(node)
    return name in NAMED or name.endswith(tuple(f"_{n}" for n in NAMED))


def _strings(node: ast.AST) -> list[ast.Constant]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node]
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return [e for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
    return []


def names_in(source: str) -> list[tuple[int, str]]:
    """(line, name) of every state or action name the source spells out."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            if any(_names_one(side) for side in sides):
                for side in sides:
                    found += [(c.lineno, c.value) for c in _strings(side)]
        elif isinstance(node, ast.Call):
            called = _name(node.func)
            position = {"FollowUp": 0, "register": 0, "act": 2}.get(called)
            if position is not None and len(node.args) > position:
                found += [(c.lineno, c.value) for c in _strings(node.args[position])]
            for keyword in node.keywords if called != "add_argument" else ():
                if keyword.arg in ("action", "state", "to_state", "from_state"):
                    found += [(c.lineno, c.value) for c in _strings(keyword.value)]
        elif isinstance(node, ast.AnnAssign | ast.Assign) and isinstance(node.value, ast.Dict):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(_name(t) == "CORE" for t in targets):
                found += [
                    (k.lineno, k.value) for k in node.value.keys if isinstance(k, ast.Constant)
                ]
    return found


def known_names() -> set[str]:
    workflow = standard_workflow()
    return set(workflow.states) | {spec.action for spec in workflow.transitions} | {REPORT}


def test_the_scanner_finds_names_in_each_form():
    source = (
        'if case.state == "closedd" or event.action in ("retrun", "verify"):\n'
        '    FollowUp("dispacth", {})\n'
        'world.act(who, sim, "acept", {})\n'
        'effects.register("escalte", effect)\n'
        'CORE = {"merje": merge}\n'
        'if satisfaction == "satisfied": pass\n'
    )
    names = {name for _, name in names_in(source)}
    assert names == {"closedd", "retrun", "verify", "dispacth", "acept", "escalte", "merje"}
    assert names - known_names() == {"closedd", "retrun", "dispacth", "acept", "escalte", "merje"}


def test_code_names_only_states_and_actions_the_workflow_defines():
    known, unknown, seen = known_names(), [], set()
    for package in SOURCES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            for line, name in names_in(path.read_text(encoding="utf-8")):
                seen.add(name)
                if name not in known:
                    unknown.append(f"{path.relative_to(ROOT)}:{line}: {name!r}")
    assert not unknown, "names the workflow does not define:\n" + "\n".join(unknown)
    assert {"closed", "resolved", "dispatch", "escalate"} <= seen  # the scan reaches the code


@pytest.mark.parametrize("core", ["engine.cases", "engine.cases.service", "engine.cases.effects"])
def test_the_case_core_imports_none_of_its_plugins(core):
    script = (
        f"import sys, {core}\nprint('\\n'.join(m for m in sys.modules if m.startswith('engine.')))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout.split()
    assert f"{core}" in loaded or core == "engine.cases"
    plugins = ("engine.dispatch", "engine.review", "engine.sla", "engine.timers", "engine.outbox")
    assert [m for m in loaded if m.startswith(plugins)] == []
