"""`gridflow router generate`: synthetic labelled complaints of a city, as CSV."""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

from engine.settings import get_settings


def cmd_generate(args: argparse.Namespace) -> int:
    from engine.city.loader import read_city
    from engine.classifier.synthetic import ComplaintGenerator

    city = read_city(Path(args.city) if args.city else get_settings().city_dir)
    generator = ComplaintGenerator(
        city.units, city.departments, [c.code for c in city.categories], seed=args.seed
    )
    with open(args.out, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "category", "department", "grid"])
        for item in generator.generate(args.count):
            writer.writerow([item.text, item.category, item.department, item.unit])
    print(f"wrote {args.count} synthetic complaints to {args.out}")
    return 0
