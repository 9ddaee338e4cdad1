"""`gridflow config check DIR`: refuse a broken city directory before anything is loaded.

Every file of the city is read by the same code that loads it (engine/city/loader.py and the
video channel's loader), so what this accepts is what ``gridflow init`` and the server accept.
``gridflow init`` runs the same check first. Exit codes: 0 fine (warnings may be printed),
1 problems found.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from adapters.video import VideoConfigError, check_config, load_video_config
from engine.city.loader import CityConfigError, CityFiles, read_city

VIDEO_FILE = "video.toml"


def check_directory(directory: Path) -> CityFiles:
    """Every file of the city, checked; raises :class:`CityConfigError` listing the problems."""
    files = read_city(directory)
    try:
        video = load_video_config(directory / VIDEO_FILE)
        check_config(video, {u.code: u for u in files.units}, {c.code: c for c in files.categories})
    except VideoConfigError as exc:
        raise CityConfigError(str(exc)) from exc
    return files


def cmd_check(args: argparse.Namespace) -> int:
    directory = Path(args.directory)
    try:
        files = check_directory(directory)
    except CityConfigError as exc:
        for problem in exc.problems:
            print(f"error: {problem}")
        print(f"{directory}: {len(exc.problems)} problem(s); nothing was loaded", file=sys.stderr)
        return 1
    for warning in files.warnings:
        print(f"warning: {warning}")
    print(
        f"{directory}: {files.name}: {len(files.units)} units, {len(files.departments)} "
        f"departments, {len(files.categories)} categories: OK"
    )
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    config = sub.add_parser("config", help="check a city configuration directory")
    commands = config.add_subparsers(dest="config_command", required=True)
    check = commands.add_parser("check", help="validate every file of a city directory")
    check.add_argument("directory", help="the city directory, e.g. examples/demo_city")
    check.set_defaults(func=cmd_check)
