"""Benchmark: dispatch decisions on a 5,000-row rule table (not a pytest test).

Generates a table shaped like a city's 权责清单 (specific rows first: category x street,
keyword overrides, time windows, category x district, categories, community queues, class
prefixes, channel fallbacks; 5 % of rows out of order; channel/urgency/request-type
refinements sprinkled in) and 100,000 random cases with a fixed seed. Times ``decide`` on
every case and the reference linear scan (``decide_linear``, condition by condition) on the
first 10,000, checks that both agree, and prints one JSON object (``ratio`` = linear median
/ indexed median). Run: ``python tests/bench/bench_rules.py``.
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from engine.rules import CHANNELS, REQUEST_TYPES, Decision, DispatchInput, RuleTable  # noqa: E402
from engine.rules.matcher import compile_table, decide, decide_linear  # noqa: E402
from engine.rules.table import parse_table  # noqa: E402

SEED = 20261121
ROWS = 5000
CASES = 100_000
LINEAR_CASES = 10_000
CST = timezone(timedelta(hours=8))
BASE_WORDS = [
    "燃气", "煤气", "泄漏", "噪音", "垃圾", "油烟", "占道", "井盖", "路灯", "积水", "违建",
    "乱停车", "广告", "树木", "施工", "扰民", "渣土", "污水", "漏水", "停电", "停水", "电梯",
    "消防", "宠物", "流浪狗", "摊贩", "共享单车", "化粪池", "窨井", "护栏", "绿化", "违停",
    "拖欠工资", "物业", "装修", "油污", "异味", "烧烤", "夜市", "工地", "塌陷", "倒伏", "破损",
    "堵塞", "冒溢", "乱贴", "乱堆", "私搭",
]  # fmt: skip
SYLLABLES = "东西南北新老大小金银花园河桥山水街巷门楼城村湖林石田"
WORDS = BASE_WORDS + [a + b + "问题" for a in SYLLABLES[:12] for b in SYLLABLES[12:]]
FILLER = [
    "市民反映", "位于", "附近", "多次", "请尽快处理", "小区门口", "十字路口", "已持续", "三天",
    "影响出行", "楼下", "东侧",
]  # fmt: skip
FUNCTIONS = ("CG", "HW", "SZ", "YL", "ZJ", "JT", "SJ", "ZF", "RQ", "GD")


def org() -> tuple[list[str], list[tuple[str, ...]]]:
    """Category codes (20 classes x 15) and grid chains (8 x 8 x 6 x 5 grids)."""
    categories = [f"{c:02d}{s:03d}" for c in range(1, 21) for s in range(1, 16)]
    chains = []
    for d in range(1, 9):
        for s in range(1, 9):
            for c in range(1, 7):
                for g in range(1, 6):
                    dist = f"{d:02d}"
                    street, comm = f"{dist}{s:02d}", f"{dist}{s:02d}{c:02d}"
                    chains.append((f"{comm}{g:02d}", comm, street, dist, "00"))
    return categories, chains


def make_row(rng: random.Random, kind: str, categories: list[str], units: dict) -> dict:
    """One row of a section; sections go from specific (top) to general (bottom)."""
    row: dict[str, object] = {}
    if kind == "street":  # 权责清单 by street
        row.update(category=[rng.choice(categories)], area=[rng.choice(units["street"])])
    elif kind == "keyword":
        row["keywords_any"] = rng.sample(WORDS, rng.randint(1, 3))
        if rng.random() < 0.3:
            row["keywords_none"] = rng.sample(WORDS, 1)
        if rng.random() < 0.6:
            row["category"] = [rng.choice(categories)[:2]]
    elif kind == "hours":
        row["category"] = [rng.choice(categories)]
        start = rng.randint(0, 23)
        row["hours"] = f"{start:02d}:00-{(start + rng.randint(2, 12)) % 24:02d}:30"
        if rng.random() < 0.5:
            row["weekdays"] = [6, 7]
    elif kind == "district":
        row.update(category=[rng.choice(categories)], area=[rng.choice(units["district"])])
    elif kind == "category":
        row["category"] = rng.sample(categories, rng.randint(1, 3))
    elif kind == "community":
        row.update(area=[rng.choice(units["community"])], auto=False, queue="street")
    elif kind == "class":
        row["category"] = [rng.choice(categories)[:2]]
        if rng.random() < 0.5:
            row["area"] = [rng.choice(units["district"])]
    else:  # channel fallbacks
        row["channel"] = rng.sample(CHANNELS, 1)
        row["keywords_all"] = rng.sample(WORDS, 2)
    if rng.random() < 0.2:
        row["channel"] = rng.sample(CHANNELS, rng.randint(1, 3))
    if rng.random() < 0.1:
        row["urgency"] = ["urgent"]
    if rng.random() < 0.1:
        row["request_type"] = rng.sample(REQUEST_TYPES, 2)
    if row.get("auto") is not False:
        row["department"] = f"{rng.choice(FUNCTIONS)}-{rng.choice(units['district'])}"
    return row


SECTIONS = (
    ("street", 0.30), ("keyword", 0.10), ("hours", 0.07), ("district", 0.25),
    ("category", 0.12), ("community", 0.05), ("class", 0.08), ("channel", 0.03),
)  # fmt: skip


def make_table(rng: random.Random, categories: list[str], chains: list[tuple[str, ...]]) -> str:
    units = {
        tier: sorted({c[i] for c in chains})
        for i, tier in ((1, "community"), (2, "street"), (3, "district"))
    }
    rows = []
    for kind, share in SECTIONS:
        rows += [make_row(rng, kind, categories, units) for _ in range(round(share * ROWS))]
    rows = rows[: ROWS - 1]
    for _ in range(ROWS // 20):  # some rows out of section order
        rows.insert(rng.randrange(len(rows)), rows.pop(rng.randrange(len(rows))))
    out = ['version_note = "bench"']
    for i, row in enumerate(rows):
        out.append(f'[[rule]]\nid = "R{i:05d}"')
        out += [f"{k} = {json.dumps(v, ensure_ascii=False)}" for k, v in row.items()]
    out.append('[[rule]]\nid = "DEFAULT"\ndefault = true\nauto = false\nqueue = "city"')
    return "\n".join(out) + "\n"


def make_cases(
    rng: random.Random, categories: list[str], chains: list[tuple[str, ...]]
) -> list[DispatchInput]:
    start = datetime(2026, 11, 2, tzinfo=CST)
    cases = []
    for _ in range(CASES):
        parts = rng.sample(FILLER, 3) + rng.sample(WORDS, rng.randint(1, 3))
        rng.shuffle(parts)
        chain = rng.choice(chains) if rng.random() < 0.95 else ()
        cases.append(
            DispatchInput(
                channel=rng.choice(CHANNELS),
                category=rng.choice(categories) if rng.random() < 0.95 else None,
                unit_codes=chain[rng.choice((0, 0, 0, 1, 2)) :] if chain else (),
                description="，".join(parts) + "。",
                urgency="urgent" if rng.random() < 0.1 else "normal",
                request_type=rng.choice((*REQUEST_TYPES, None)),
                local_time=start + timedelta(minutes=rng.randrange(7 * 1440)),
            )
        )
    return cases


def timings(
    fn: Callable[[RuleTable, DispatchInput], Decision],
    table: RuleTable,
    cases: list[DispatchInput],
) -> tuple[list[float], list[Decision]]:
    """Microseconds per call, and the decisions."""
    out, results = [], []
    clock = time.perf_counter_ns
    for case in cases:
        t0 = clock()
        results.append(fn(table, case))
        out.append((clock() - t0) / 1000)
    return out, results


def summary(us: list[float]) -> dict[str, float]:
    ordered = sorted(us)
    return {
        "median_us": round(statistics.median(ordered), 2),
        "p99_us": round(ordered[int(len(ordered) * 0.99)], 2),
        "mean_us": round(statistics.fmean(ordered), 2),
    }


def main() -> None:
    rng = random.Random(SEED)
    categories, chains = org()
    text = make_table(rng, categories, chains)
    t0 = time.perf_counter()
    table = parse_table(text)
    parse_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    compile_table(table)
    index_s = time.perf_counter() - t0
    cases = make_cases(rng, categories, chains)
    fast_us, fast = timings(decide, table, cases)
    subset = cases[:LINEAR_CASES]
    slow_us, slow = timings(decide_linear, table, subset)
    mismatches = sum(a.rule_index != b.rule_index for a, b in zip(fast, slow, strict=False))
    indexed, linear = summary(fast_us), summary(slow_us)
    report = {
        "rows": len(table.rules),
        "cases": len(cases),
        **indexed,
        "parse_s": round(parse_s, 3),
        "index_s": round(index_s, 3),
        "default_hits": sum(d.default for d in fast),
        "linear": {"cases": len(subset), **linear},
        "ratio": round(linear["median_us"] / indexed["median_us"], 1),
        "ratio_mean": round(linear["mean_us"] / indexed["mean_us"], 1),
        "linear_mismatches": mismatches,
    }
    print(json.dumps(report))


if __name__ == "__main__":
    main()
