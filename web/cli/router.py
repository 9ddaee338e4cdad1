"""`gridflow router train|evaluate|predict|list|activate|rollback|accuracy|generate`: the text
classifier (智能分拨).

Models go to ``GRIDFLOW_MODELS_DIR`` (default var/models), versioned and signed with
``GRIDFLOW_SECRET_KEY``; the server and these commands must share both.

The commands live in router_train.py, router_predict.py, router_versions.py,
router_accuracy.py and router_synthetic.py; this module builds their parser.
"""

from __future__ import annotations

import argparse

# Imports are light (no SQLAlchemy, no scikit-learn) so that `predict` starts in well under
# a second; each command imports what else it needs.
from engine.classifier.decision import DEFAULT_THRESHOLD
from web.cli.router_accuracy import cmd_accuracy
from web.cli.router_predict import cmd_evaluate, cmd_predict
from web.cli.router_synthetic import cmd_generate
from web.cli.router_train import cmd_train, train_defaults
from web.cli.router_versions import cmd_activate, cmd_list, cmd_rollback

__all__ = [  # the commands, importable from here as before
    "cmd_accuracy", "cmd_activate", "cmd_evaluate", "cmd_generate", "cmd_list", "cmd_predict",
    "cmd_rollback", "cmd_train", "register",
]  # fmt: skip


def register(sub: argparse._SubParsersAction) -> None:
    router = sub.add_parser("router", help="the text router (smart dispatch from complaint text)")
    commands = router.add_subparsers(dest="sub", required=True)

    train = commands.add_parser("train", help="train a versioned model from cases or a file")
    train.add_argument("--from-db", action="store_true", help="the city's closed cases")
    train.add_argument("--file", help="a .csv or .xlsx file with a text and a label column")
    train.add_argument("--text-column", default="text")
    train.add_argument("--label-column", default="label")
    train.add_argument("--target", choices=["category", "department", "both"], default=None)
    train.add_argument("--out", help="models directory (default GRIDFLOW_MODELS_DIR)")
    train.add_argument("--folds", type=int, default=5, help="k of the k-fold metrics")
    train.add_argument(
        "--search-sample", type=int, default=8000, help="texts the grid is scored on"
    )
    train.add_argument(
        "--time-split", type=float, default=0.2, help="newest share held out (texts oldest first)"
    )
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--force", action="store_true", help="make it live even if worse")
    train.add_argument("--by", default="cli", help="who trains (recorded in the pin)")
    train.add_argument("--json", action="store_true", help="print the metadata as JSON")
    train.set_defaults(func=train_defaults)

    ev = commands.add_parser("evaluate", help="score a model on a labelled file")
    ev.add_argument("file")
    ev.add_argument("--text-column", default="text")
    ev.add_argument("--label-column", default="label")
    ev.add_argument("--target", choices=["category", "department"], default="category")
    ev.add_argument("--version", help="a model version (default: the live one)")
    ev.add_argument("--models-dir")
    ev.add_argument("--json", action="store_true")
    ev.set_defaults(func=cmd_evaluate)

    predict = commands.add_parser("predict", help="category and department for a text")
    predict.add_argument("text")
    predict.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD)
    predict.add_argument("--version", action="append", help="TARGET@VERSION (repeatable)")
    predict.add_argument("--models-dir")
    predict.add_argument("--json", action="store_true")
    predict.set_defaults(func=cmd_predict)

    listing = commands.add_parser("list", help="the stored model versions")
    listing.add_argument("--models-dir")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=cmd_list)

    activate = commands.add_parser("activate", help="make a stored model version live")
    activate.add_argument("version", help="VERSION or TARGET@VERSION (see `router list`)")
    activate.add_argument("--force", action="store_true", help="even one that failed the gate")
    activate.add_argument("--by", default="admin", help="who decides (recorded)")
    activate.add_argument("--reason")
    activate.add_argument("--models-dir")
    activate.add_argument("--json", action="store_true")
    activate.set_defaults(func=cmd_activate)

    rollback = commands.add_parser("rollback", help="back to the previously live versions")
    rollback.add_argument("--by", default="admin", help="who decides (recorded)")
    rollback.add_argument("--models-dir")
    rollback.add_argument("--json", action="store_true")
    rollback.set_defaults(func=cmd_rollback)

    acc = commands.add_parser("accuracy", help="weekly accuracy on human-confirmed cases")
    acc.add_argument("--weeks", type=int, default=8)
    acc.add_argument("--target", choices=["category", "department"], default="department")
    acc.add_argument("--fail-on-drop", action="store_true", help="exit 1 on a drop warning")
    acc.add_argument("--json", action="store_true")
    acc.set_defaults(func=cmd_accuracy)

    gen = commands.add_parser("generate", help="write synthetic labelled complaints (CSV)")
    gen.add_argument("--count", type=int, default=1000)
    gen.add_argument("--seed", type=int, default=0)
    gen.add_argument("--city", help="city directory (default GRIDFLOW_CITY_DIR)")
    gen.add_argument("--out", required=True)
    gen.set_defaults(func=cmd_generate)
