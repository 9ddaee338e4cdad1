"""`gridflow backup DIR` and `gridflow restore DIR`: the database, photos, models and the
instance folder's keys (engine.ops.backup)."""

from __future__ import annotations

import argparse
from pathlib import Path

from engine.ops.backup import Instance, Summary, backup, check, restore
from engine.settings import Settings, get_settings
from web.cli.calendar import cli_clock


def instance_of(settings: Settings) -> Instance:
    return Instance(
        database_url=settings.database_url,
        attachments_dir=settings.attachments_dir,
        models_dir=settings.models_dir,
        instance_dir=settings.instance_dir,
    )


def _describe(summary: Summary) -> str:
    counts = summary.counts()
    database = summary.manifest["database"]
    return (
        f"{database['kind']} database (schema {summary.manifest['schema_revision']}), "
        f"{counts['attachments']} attachment files, {counts['models']} model files, "
        f"{counts['instance']} instance files (keys, audit checkpoints)"
    )


def cmd_backup(args: argparse.Namespace) -> int:
    settings = get_settings()
    summary = backup(instance_of(settings), Path(args.dir), cli_clock(settings).now())
    print(f"backed up to {summary.path}: {_describe(summary)}")
    print("the backup holds the instance's secret keys: store it as safely as the server")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    settings = get_settings()
    if args.check:
        summary = check(Path(args.dir))
        created = summary.manifest["created_at"]
        print(f"{summary.path} is a complete backup of {created}: {_describe(summary)}")
        return 0
    now = cli_clock(settings).now()
    summary = restore(instance_of(settings), Path(args.dir), now, force=args.force)
    print(f"restored the backup of {summary.manifest['created_at']}: {_describe(summary)}")
    print("next: `gridflow audit verify`, then start the server")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    save = sub.add_parser(
        "backup",
        help="back up the database, photos, models and instance keys into a new directory",
    )
    save.add_argument("dir", help="a new (or empty) directory")
    save.set_defaults(func=cmd_backup)

    load = sub.add_parser(
        "restore", help="restore a backup made by `gridflow backup` into this instance"
    )
    load.add_argument("dir", help="the backup directory")
    load.add_argument(
        "--force",
        action="store_true",
        help="replace an existing database and files (they are kept as *.before-restore-*)",
    )
    load.add_argument("--check", action="store_true", help="only check the backup's checksums")
    load.set_defaults(func=cmd_restore)
