"""First-hit matching of a case against a :class:`RuleTable`: fast, indexed, explainable.

Speed: each row is filed under the keys of one of its conditions (a specific category
prefix, else a street-or-finer area prefix, else its keywords, else a class prefix, a
district area, its channels, else "always"). A decision looks up the buckets whose keys the
case has (keywords through the description's characters), scans each bucket in file order
up to the best row found so far, and so returns exactly the first matching row. Channel,
urgency, request type, weekday, known tier and minute of day are tested together as one
bit mask per row.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

from engine.rules import (
    CHANNELS,
    QUEUES,
    REQUEST_TYPES,
    TIERS,
    URGENCIES,
    Decision,
    DispatchInput,
    Explanation,
    Miss,
    Rule,
    RuleTable,
    normalize_text,
)
from engine.rules.table import parse_table

_DEPTH_TIER = (None, *TIERS)  # len(unit_codes), capped at 5 -> tier known


class _Dim:
    """One mask dimension: a bit per value, plus an ``other`` bit unless ``closed``."""

    def __init__(self, offset: int, values: tuple[Any, ...], closed: bool = False) -> None:
        self.offset, self.end = offset, offset + len(values) + (0 if closed else 1)
        self.bits = {v: 1 << (offset + i) for i, v in enumerate(values)}
        self.other = 0 if closed else 1 << (offset + len(values))  # closed: no other value
        self.universe = (1 << self.end) - (1 << offset)

    def forbid(self, allowed: tuple[Any, ...] | None) -> int:
        return 0 if allowed is None else self.universe & ~sum({self.bits[v] for v in allowed})

    def forbid_span(self, start: int, end: int) -> int:
        """Forbid all but the values ``start <= v < end`` (wrapping when start > end)."""
        if start < end:
            return self.universe & ~(((1 << end) - (1 << start)) << self.offset)
        return (((1 << start) - (1 << end)) << self.offset) | self.other


_CHANNEL = _Dim(0, CHANNELS)
_URGENCY = _Dim(_CHANNEL.end, URGENCIES)
_REQUEST = _Dim(_URGENCY.end, (*REQUEST_TYPES, None))
_WEEKDAY = _Dim(_REQUEST.end, tuple(range(1, 8)), closed=True)
_DEPTH = _Dim(_WEEKDAY.end, tuple(range(6)), closed=True)
# Minutes of the day come last, so that rows without hours keep small masks.
_MINUTE = _Dim(_DEPTH.end, tuple(range(1440)), closed=True)
_DIMS = (_CHANNEL, _URGENCY, _REQUEST, _WEEKDAY, _DEPTH, _MINUTE)
MASK_DIMENSIONS = tuple(d.universe for d in _DIMS)  # one bit range per dimension


def forbidden_mask(rule: Rule) -> int:
    """Bits of the (channel, urgency, request type, weekday, depth, minute) values the row
    rejects; a case passes these conditions iff its query mask shares no bit with it."""
    tier = None if rule.tier is None else tuple(range(TIERS.index(rule.tier) + 1, 6))
    mask = _CHANNEL.forbid(rule.channel) | _URGENCY.forbid(rule.urgency) | _DEPTH.forbid(tier)
    mask |= _REQUEST.forbid(rule.request_type) | _WEEKDAY.forbid(rule.weekdays)
    if rule.hours is not None:
        mask |= _MINUTE.forbid_span(rule.hours.start, rule.hours.end)
    return mask


def _specific(prefixes: tuple[str, ...] | None, length: int) -> bool:
    return prefixes is not None and min(map(len, prefixes)) >= length


class _Index:
    __slots__ = (
        "always", "area_cache", "area_lengths", "by_area", "by_category", "by_channel",
        "by_keyword", "category_lengths", "default", "keyword_chars", "rows", "rules",
        "uses_text",
    )  # fmt: skip

    def __init__(self, table: RuleTable) -> None:
        self.rules = table.rules
        self.default = len(self.rules) - 1 if table.default is not None else len(self.rules)
        self.rows: list[tuple[Any, ...]] = []
        self.by_category: dict[str, list[int]] = {}
        self.by_area: dict[str, list[int]] = {}
        self.by_channel: dict[str, list[int]] = {}
        self.always: list[int] = []
        self.area_cache: dict[tuple[str, ...], frozenset[str]] = {}
        words: dict[str, list[int]] = {}
        for rule in self.rules:
            area = frozenset(rule.area) if rule.area is not None else None
            kws = (rule.keywords_all, rule.keywords_any, rule.keywords_none)
            self.rows.append((forbidden_mask(rule), rule.category, area, *kws))
            if rule.index == self.default:
                continue
            if _specific(rule.category, 3):
                keys, index = rule.category, self.by_category
            elif _specific(rule.area, 4):
                keys, index = rule.area, self.by_area
            elif rule.keywords_all:  # all must occur: file under the longest one only
                keys, index = (max(rule.keywords_all, key=len),), words
            elif rule.keywords_any:
                keys, index = rule.keywords_any, words
            elif rule.category:
                keys, index = rule.category, self.by_category
            elif rule.area:
                keys, index = rule.area, self.by_area
            elif rule.channel:
                keys, index = rule.channel, self.by_channel
            else:
                self.always.append(rule.index)
                continue
            for key in keys:
                index.setdefault(key, []).append(rule.index)
        self.category_lengths = sorted({len(k) for k in self.by_category})
        self.area_lengths = sorted({len(a) for r in self.rules for a in r.area or ()})
        self.by_keyword: dict[str, list[tuple[str, list[int]]]] = {}
        for word, rows in words.items():
            self.by_keyword.setdefault(word[0], []).append((word, rows))
        self.keyword_chars = frozenset(self.by_keyword)
        self.uses_text = any(r[3] or r[4] or r[5] for r in self.rows)

    def areas(self, codes: tuple[str, ...]) -> frozenset[str]:
        """The prefixes of the location's codes at the lengths area conditions use."""
        keys = self.area_cache.get(codes)
        if keys is None:
            keys = frozenset(c[:n] for c in codes for n in self.area_lengths if n <= len(c))
            if len(self.area_cache) > 65536:
                self.area_cache.clear()
            self.area_cache[codes] = keys
        return keys


def compile_table(table: RuleTable) -> _Index:
    """Build (once) and return the table's match index; cached on the table."""
    return table.cache.get("index") or table.cache.setdefault("index", _Index(table))


def _first_hit(ix: _Index, inp: DispatchInput, text: str) -> int:
    codes, t, cat = inp.unit_codes, inp.local_time, inp.category
    q = (
        _CHANNEL.bits.get(inp.channel, _CHANNEL.other)
        | _URGENCY.bits.get(inp.urgency, _URGENCY.other)
        | _REQUEST.bits.get(inp.request_type, _REQUEST.other)
        | _WEEKDAY.bits[t.isoweekday()]
        | _DEPTH.bits[min(len(codes), 5)]
        | _MINUTE.bits[t.hour * 60 + t.minute]
    )
    buckets = []
    if cat:
        for n in ix.category_lengths:
            if (bucket := ix.by_category.get(cat[:n])) is not None:
                buckets.append(bucket)
    areas = ix.areas(codes) if ix.area_lengths and codes else frozenset()
    if ix.by_area:
        for key in areas:
            if (bucket := ix.by_area.get(key)) is not None:
                buckets.append(bucket)
    if ix.by_keyword:
        for char in ix.keyword_chars.intersection(text):
            for word, bucket in ix.by_keyword[char]:
                if word in text:
                    buckets.append(bucket)
    if (bucket := ix.by_channel.get(inp.channel)) is not None:
        buckets.append(bucket)
    buckets.append(ix.always)
    best, rows, has = ix.default, ix.rows, text.__contains__
    for bucket in buckets:
        for i in bucket:
            if i >= best:
                break
            forbid, cats, area, k_all, k_any, k_none = rows[i]
            if (
                forbid & q
                or (cats is not None and (cat is None or not cat.startswith(cats)))
                or (area is not None and area.isdisjoint(areas))
                or (k_all is not None and not all(map(has, k_all)))
                or (k_any is not None and not any(map(has, k_any)))
                or (k_none is not None and any(map(has, k_none)))
            ):
                continue
            best = i
            break
    return best


def _checks(rule: Rule, inp: DispatchInput, text: str) -> Iterator[tuple[str, bool, object]]:
    """Reference semantics: (condition, held, value) for each condition of ``rule``, in
    order. The value is what matched when held, else the input value; for keywords, always
    the rule's keywords FOUND in the description (never the missing ones, which would read
    as if the description contained them)."""
    t, codes = inp.local_time, inp.unit_codes
    if rule.channel is not None:
        yield "channel", inp.channel in rule.channel, inp.channel
    for name, values in (("category", (inp.category or "",)), ("area", codes)):
        if (prefixes := getattr(rule, name)) is not None:
            hit = next((p for p in prefixes for v in values if v.startswith(p)), None)
            yield name, hit is not None, hit or (inp.category if name == "category" else codes)
    if rule.tier is not None:
        known = _DEPTH_TIER[min(len(codes), 5)]
        yield "tier", known is not None and TIERS.index(known) >= TIERS.index(rule.tier), known
    if rule.urgency is not None:
        yield "urgency", inp.urgency in rule.urgency, inp.urgency
    if rule.request_type is not None:
        yield "request_type", inp.request_type in rule.request_type, inp.request_type
    if rule.weekdays is not None:
        yield "weekdays", t.isoweekday() in rule.weekdays, t.isoweekday()
    if rule.hours is not None:
        yield "hours", t.hour * 60 + t.minute in rule.hours, f"{t:%H:%M}"
    if rule.keywords_all is not None:
        found = tuple(k for k in rule.keywords_all if k in text)
        yield "keywords_all", len(found) == len(rule.keywords_all), found
    if rule.keywords_any is not None:
        found = tuple(k for k in rule.keywords_any if k in text)
        yield "keywords_any", bool(found), found
    if rule.keywords_none is not None:
        found = tuple(k for k in rule.keywords_none if k in text)
        yield "keywords_none", not found, found


def _decision(table: RuleTable, index: int, inp: DispatchInput, text: str) -> Decision:
    if index >= len(table.rules):
        raise LookupError("no rule matched and the table has no default row")
    rule = table.rules[index]
    queue = None if rule.auto else rule.queue or "city"
    codes = inp.unit_codes
    unit = codes[max(len(codes) - 1 - QUEUES.index(queue), 0)] if queue and codes else None
    return Decision(
        rule.id, index, rule.department, rule.co_handlers, rule.set_urgency or inp.urgency,
        rule.limits, rule.auto, queue, unit, table.version,
        {name: value for name, _, value in _checks(rule, inp, text)}, rule.default,
    )  # fmt: skip


def decide(table: RuleTable, inp: DispatchInput) -> Decision:
    """The decision of the FIRST row (in file order) whose conditions all hold."""
    ix = table.cache.get("index") or compile_table(table)
    text = normalize_text(inp.description) if ix.uses_text else ""
    return _decision(table, _first_hit(ix, inp, text), inp, text)


def decide_linear(table: RuleTable, inp: DispatchInput) -> Decision:
    """Reference implementation of :func:`decide`: a plain scan in file order."""
    text = normalize_text(inp.description)
    hits = (r.index for r in table.rules if all(held for _, held, _ in _checks(r, inp, text)))
    return _decision(table, next(hits, len(table.rules)), inp, text)


def explain(table: RuleTable, inp: DispatchInput) -> Explanation:
    """The decision plus every row tried before it with its first failing condition."""
    decision = decide(table, inp)
    text = normalize_text(inp.description)
    tried = []
    for rule in table.rules[: decision.rule_index]:
        name, _, actual = next(c for c in _checks(rule, inp, text) if not c[1])
        tried.append(Miss(rule.id, rule.index, name, rule.conditions()[name], actual))
    return Explanation(decision, tuple(tried))


class RuleBook:
    """The live table of a city. :meth:`replace` parses (and runs ``check``) first and
    swaps only on success: when the new text is invalid the old table stays live and the
    error propagates."""

    def __init__(self, table: RuleTable) -> None:
        compile_table(table)
        self._table = table
        self._lock = threading.Lock()

    @property
    def current(self) -> RuleTable:
        return self._table

    def replace(
        self,
        text: str,
        known_departments: set[str] | frozenset[str] | None = None,
        known_categories: set[str] | frozenset[str] | None = None,
        check: Callable[[RuleTable], object] | None = None,
    ) -> RuleTable:
        with self._lock:
            table = parse_table(text, known_departments, known_categories)
            if check is not None:
                check(table)
            compile_table(table)  # build the index before it goes live
            self._table = table
            return table

    def decide(self, inp: DispatchInput) -> Decision:
        return decide(self._table, inp)
