"""The command line imports only the module of the command it runs, and its table of
commands names every command the modules register."""

from __future__ import annotations

import subprocess
import sys

from web.cli import COMMANDS, build_parser


def _commands(parser) -> set[str]:
    sub = next(a for a in parser._actions if a.dest == "command")
    return set(sub.choices)


def test_the_table_names_every_registered_command() -> None:
    assert _commands(build_parser([])) == set(COMMANDS)
    assert _commands(build_parser(["--help"])) == set(COMMANDS)


def test_a_command_registers_only_its_own_module() -> None:
    assert _commands(build_parser(["router", "predict", "x"])) == {"router"}
    assert _commands(build_parser(["restore", "dir"])) == {"backup", "restore"}
    assert _commands(build_parser(["nonsense"])) == set(COMMANDS)


def test_router_predict_starts_without_the_database_or_server_stack() -> None:
    """`gridflow router predict` is called per ticket by scripts: it must not import
    SQLAlchemy, FastAPI or the other commands (docs/CLASSIFIER.md)."""
    probe = (
        "import sys; from web.cli import build_parser; build_parser(['router', 'predict', 'x']);"
        "print(sorted(m for m in ('sqlalchemy', 'sqlmodel', 'fastapi', 'web.cli.serve',"
        " 'web.cli.history') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_an_unknown_command_is_refused_with_the_list() -> None:
    out = subprocess.run(
        [sys.executable, "-c", "from web.cli import main; main(['nonsense'])"],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 2
    assert "invalid choice" in out.stderr and "router" in out.stderr
