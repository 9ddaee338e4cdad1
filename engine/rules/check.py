"""Static checks of a parsed rule table (``gridflow rules check``).

Findings, each with a severity and the row ids involved:

* ``missing-default`` (error): the table has no default row.
* ``unknown-department`` / ``unknown-category`` (error): codes not in the known sets.
* ``shadowed``: an earlier row matches every case a later row matches, so the later row
  never decides (error when their outputs differ, warning when the later row is merely
  redundant). "Covers" is judged per condition: absent or a superset list, prefixes that
  are prefixes of the later row's, keywords implied by the later row's keywords.
* ``overlap`` (warning): an auto row takes cases that later auto rows with other
  departments would also match, where neither row contains the other; one finding per
  earlier row, listing the later ones. (An earlier row that is narrower than a later one is
  the usual "exception before the general rule" and is not reported.)

Conservative: a pair is reported only when the rows alone make it certain (a keyword
witness text is built for overlaps); interactions of more than two rows are not analysed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from itertools import islice, product

from engine.rules import OUTPUTS, Rule, RuleTable, known_prefixes
from engine.rules.matcher import MASK_DIMENSIONS, forbidden_mask


@dataclass(frozen=True, slots=True)
class Finding:
    """One finding; ``rule_ids`` starts with the row it is about."""

    severity: str  # "error" | "warning"
    code: str
    rule_ids: tuple[str, ...]
    message: str

    def __str__(self) -> str:
        return f"{self.severity}: [{self.code}] {self.message}"


def _name(rule: Rule) -> str:
    return f"rule {rule.id!r} (#{rule.index + 1})"


def _prefixes_cover(a: tuple[str, ...] | None, b: tuple[str, ...] | None) -> bool:
    if a is None:
        return True
    return b is not None and all(any(p.startswith(q) for q in a) for p in b)


def _prefixes_meet(a: tuple[str, ...] | None, b: tuple[str, ...] | None) -> bool:
    if a is None or b is None:
        return True
    return any(p.startswith(q) or q.startswith(p) for p in a for q in b)


def _keywords_cover(a: Rule, b: Rule) -> bool:
    """Every description matching b's keyword conditions matches a's."""
    present = (b.keywords_all or ()) + (b.keywords_any if len(b.keywords_any or ()) == 1 else ())
    if a.keywords_all and not all(any(k in s for s in present) for k in a.keywords_all):
        return False
    if a.keywords_any and not (
        any(k in s for s in present for k in a.keywords_any)
        or (b.keywords_any and all(any(k in s for k in a.keywords_any) for s in b.keywords_any))
    ):
        return False
    absent = b.keywords_none or ()
    return all(any(m in n for m in absent) for n in a.keywords_none or ())


def _keywords_meet(a: Rule, b: Rule) -> bool:
    """A description exists that satisfies both rows' keyword conditions (by witness)."""
    forbidden = (a.keywords_none or ()) + (b.keywords_none or ())
    if not forbidden:
        return True  # required keywords can always be written side by side
    required = [*(a.keywords_all or ()), *(b.keywords_all or ())]
    for x, y in islice(product(a.keywords_any or ("",), b.keywords_any or ("",)), 256):
        text = "\n".join([*required, x, y])
        if not any(n in text for n in forbidden):
            return True
    return False


class _Pair:
    """Pairwise relations between rows, with their masks computed once."""

    def __init__(self, rules: tuple[Rule, ...]) -> None:
        self.masks = [forbidden_mask(r) for r in rules]
        # Which mask dimensions each row constrains, as bits 0..5.
        self.dims = [
            sum(1 << k for k, dim in enumerate(MASK_DIMENSIONS) if mask & dim)
            for mask in self.masks
        ]
        # Kinds of the other conditions (category, area, required and excluded keywords):
        # a row can only cover rows that have every kind it has.
        self.kinds = [
            (r.category is not None)
            | (r.area is not None) << 1
            | bool(r.keywords_any or r.keywords_all) << 2
            | (r.keywords_none is not None) << 3
            for r in rules
        ]

    def covers(self, a: Rule, b: Rule) -> bool:
        i, j = a.index, b.index
        return (
            not self.masks[i] & ~self.masks[j]
            and not self.kinds[i] & ~self.kinds[j]
            and _prefixes_cover(a.category, b.category)
            and _prefixes_cover(a.area, b.area)
            and _keywords_cover(a, b)
        )

    def meet(self, a: Rule, b: Rule) -> bool:
        both = self.dims[a.index] & self.dims[b.index]  # one row alone never empties a dim
        if both:
            union = self.masks[a.index] | self.masks[b.index]
            for k, dim in enumerate(MASK_DIMENSIONS):
                if both >> k & 1 and union & dim == dim:
                    return False
        return (
            _prefixes_meet(a.category, b.category)
            and _prefixes_meet(a.area, b.area)
            and _keywords_meet(a, b)
        )


class _Compat:
    """Rows whose prefix condition (category or area) can relate to a given row's."""

    def __init__(self, rules: tuple[Rule, ...], attr: str) -> None:
        self.attr = attr
        self.free: set[int] = set()
        self.exact: dict[str, set[int]] = {}
        self.under: dict[str, set[int]] = {}
        for rule in rules:
            prefixes = getattr(rule, attr)
            if prefixes is None:
                self.free.add(rule.index)
                continue
            for p in prefixes:
                self.exact.setdefault(p, set()).add(rule.index)
                for n in range(1, len(p) + 1):
                    self.under.setdefault(p[:n], set()).add(rule.index)

    def rows(self, rule: Rule) -> set[int] | None:
        prefixes = getattr(rule, self.attr)
        if prefixes is None:
            return None  # any row
        out = set(self.free)
        for p in prefixes:
            for n in range(1, len(p) + 1):
                out |= self.exact.get(p[:n], set())
            out |= self.under.get(p, set())
        return out


def _candidates(rule: Rule, compat: Iterable[_Compat]) -> list[int]:
    sets = [s for s in (c.rows(rule) for c in compat) if s is not None]
    if not sets:
        return list(range(rule.index))
    return sorted(i for i in set.intersection(*sets) if i < rule.index)


def _relations(
    rule: Rule, candidates: list[int], rules: tuple[Rule, ...], pairs: _Pair
) -> tuple[Rule | None, list[Rule]]:
    """The first earlier row covering ``rule`` (then no overlaps are listed), else the
    earlier auto rows with another department that partly overlap it."""
    overlaps = []
    for i in candidates:
        earlier = rules[i]
        if pairs.covers(earlier, rule):
            return earlier, []
        if (
            earlier.auto
            and rule.auto
            and earlier.department != rule.department
            and not pairs.covers(rule, earlier)
            and pairs.meet(earlier, rule)
        ):
            overlaps.append(earlier)
    return None, overlaps


def _same_outputs(a: Rule, b: Rule) -> bool:
    return all(getattr(a, name) == getattr(b, name) for name in OUTPUTS)


def check_table(
    table: RuleTable,
    known_departments: set[str] | frozenset[str] | None = None,
    known_categories: set[str] | frozenset[str] | None = None,
) -> list[Finding]:
    """All findings for ``table``, ordered by row."""
    rules = table.rules
    findings: list[Finding] = []
    if table.default is None:
        message = "no default row (the last row must have default = true)"
        findings.append(Finding("error", "missing-default", (), message))
    per_row: list[list[Finding]] = [[] for _ in rules]
    categories = known_prefixes(known_categories) if known_categories is not None else None
    pairs = _Pair(rules)
    compat = (_Compat(rules, "category"), _Compat(rules, "area"))
    intercepts: dict[int, list[Rule]] = {}  # earlier row -> later rows it takes cases from
    for rule in rules:
        found = per_row[rule.index]
        if known_departments is not None:
            for code in (rule.department, *rule.co_handlers):
                if code is not None and code not in known_departments:
                    message = f"{_name(rule)}: unknown department {code!r}"
                    found.append(Finding("error", "unknown-department", (rule.id,), message))
        if categories is not None:
            for prefix in rule.category or ():
                if prefix not in categories:
                    message = f"{_name(rule)}: category {prefix!r} matches no known category"
                    found.append(Finding("error", "unknown-category", (rule.id,), message))
        shadow, overlaps = _relations(rule, _candidates(rule, compat), rules, pairs)
        if shadow is not None:
            redundant = _same_outputs(shadow, rule)
            message = f"{_name(rule)} never decides: {_name(shadow)} matches every case it " + (
                "matches, with the same outputs (redundant)" if redundant else "matches"
            )
            severity = "warning" if redundant else "error"
            found.append(Finding(severity, "shadowed", (rule.id, shadow.id), message))
        for earlier in overlaps:
            intercepts.setdefault(earlier.index, []).append(rule)
    for index, later in intercepts.items():
        earlier = rules[index]
        names = ", ".join(_name(r) for r in later[:5])
        more = f" and {len(later) - 5} more" if len(later) > 5 else ""
        message = (
            f"{_name(earlier)} (department {earlier.department}) takes the cases it shares "
            f"with {len(later)} later auto row(s) of other departments: {names}{more}"
        )
        ids = (earlier.id, *(r.id for r in later))
        per_row[index].append(Finding("warning", "overlap", ids, message))
    return findings + [finding for found in per_row for finding in found]
