"""Realistic synthetic 12345 complaints per category, deterministic by seed.

Tests, the router benchmark and the city simulator need labelled complaint texts without
outside data. :class:`ComplaintGenerator` assembles each text from the phrase bank
(``complaints.toml`` beside this file): an object and a problem of the category, maybe an
impact, an address inside the city's org tree (district, street, community, road), a time,
greetings and filler words (您好/那个/麻烦), and noise: homophone typos, mixed-in English words,
dropped punctuation, a second lesser issue from another category now and then, a few vague
texts and a few English-only ones. The label is the category
and the department that handles it there (resolved from the bank's ``function@tier`` against
the city's departments), so both targets of the router can be trained.
"""

from __future__ import annotations

import random
import tomllib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from engine.city.models import Department, Tier, Unit

BANK = Path(__file__).with_name("complaints.toml")


@dataclass(frozen=True)
class Complaint:
    text: str
    category: str
    department: str
    unit: str  # the grid where it happened
    kind: str = "chinese"  # "chinese", "english" (English-only) or "vague" (names no object)


@dataclass(frozen=True)
class _Sense:
    dept: str  # "<function>@<tier>"
    objects: tuple[str, ...]
    problems: tuple[str, ...]
    impacts: tuple[str, ...]
    en: tuple[str, ...]


@dataclass(frozen=True)
class _Place:
    grid: str
    district: str
    street: str
    community: str
    roads: tuple[str, ...]


@cache
def phrase_bank() -> dict[str, Any]:
    """The parsed phrase bank (read once)."""
    with BANK.open("rb") as handle:
        return tomllib.load(handle)


def _senses(entry: dict[str, Any]) -> list[_Sense]:
    base = _Sense(
        entry["dept"],
        tuple(entry["objects"]),
        tuple(entry["problems"]),
        tuple(entry.get("impacts", ())),
        tuple(entry.get("en", ())),
    )
    others = [
        _Sense(
            extra["dept"],
            tuple(extra["objects"]),
            tuple(extra["problems"]),
            base.impacts,
            tuple(extra.get("en", base.en)),
        )
        for extra in entry.get("also", ())
    ]
    return [base, base, *others]  # the first sense is the usual one


class ComplaintGenerator:
    """Labelled complaints for the categories of a city that the phrase bank knows.

    ``noise`` scales every kind of noise (0 = clean texts); ``english`` is the share of
    English-only complaints and ``vague`` the share that names no object (a router should be
    unsure about those).
    """

    def __init__(
        self,
        units: Iterable[Unit],
        departments: Iterable[Department],
        categories: Iterable[str] | None = None,
        seed: int = 0,
        noise: float = 1.0,
        english: float = 0.03,
        vague: float = 0.02,
    ) -> None:
        self.rng = random.Random(seed)
        self.noise, self.english, self.vague = noise, english, vague
        bank = phrase_bank()
        self.words: dict[str, list[str]] = bank["phrases"]
        self.typos: dict[str, str] = bank["typos"]
        self.units = {unit.code: unit for unit in units}
        self._departments = {(dep.code.split("-")[0], dep.unit): dep.code for dep in departments}
        self.places = self._places(bank["roads"])
        if not self.places:
            raise ValueError("the city has no grid units to place complaints in")
        wanted = set(categories) if categories is not None else None
        self.senses: dict[str, list[_Sense]] = {}
        weights = []
        for code, entry in bank["category"].items():
            if wanted is not None and code not in wanted:
                continue
            senses = [s for s in _senses(entry) if self._resolvable(s.dept)]
            if senses:
                self.senses[code] = senses
                weights.append(float(entry.get("weight", 1)))
        if not self.senses:
            raise ValueError("none of the city's categories is in the phrase bank")
        self.categories = list(self.senses)
        self._weights = weights

    # ------------------------------------------------------------------ public

    def complaint(self, category: str | None = None) -> Complaint:
        rng = self.rng
        code = category or rng.choices(self.categories, self._weights)[0]
        sense = rng.choice(self.senses[code])
        place = rng.choice(self.places)
        department = self.department(sense.dept, place.grid)
        assert department is not None  # checked in __init__
        roll, kind = rng.random(), "chinese"
        if roll < self.english:
            text, kind = self._english(sense, place), "english"
        elif roll < self.english + self.vague:
            text, kind = self._fill(rng.choice(self.words["vague"]), sense, place), "vague"
        else:
            text = self._fill(rng.choice(self.words["templates"]), sense, place)
            if rng.random() < 0.1 * self.noise:  # callers often add a second, lesser issue
                other = rng.choice(self.senses[rng.choice(self.categories)])
                text += f"另外{rng.choice(other.objects)}也{rng.choice(other.problems)}。"
            text = self._noisy(text)
        return Complaint(text, code, department, place.grid, kind)

    def generate(self, count: int) -> list[Complaint]:
        return [self.complaint() for _ in range(count)]

    def stream(self) -> Iterator[Complaint]:
        while True:
            yield self.complaint()

    def department(self, spec: str, grid: str) -> str | None:
        """Resolve ``function@tier`` for a place: that tier's department, else one above."""
        function, _, tier = spec.partition("@")
        chain = self._ancestors(grid)
        start = next(
            (i for i, code in enumerate(chain) if self.units[code].tier == Tier(tier)), None
        )
        if start is None:
            return None
        for code in chain[start:]:
            found = self._departments.get((function, code))
            if found:
                return found
        return None

    # ------------------------------------------------------------------ parts

    def _ancestors(self, code: str) -> list[str]:
        chain: list[str] = []
        current: str | None = code
        while current is not None:
            chain.append(current)
            current = self.units[current].parent
        return chain

    def _places(self, roads: dict[str, list[str]]) -> list[_Place]:
        generic = tuple(self.words["generic_roads"])
        places = []
        for code, unit in self.units.items():
            if unit.tier is not Tier.grid:
                continue
            names = {self.units[c].tier: (c, self.units[c].name) for c in self._ancestors(code)}
            if not {Tier.community, Tier.street, Tier.district} <= names.keys():
                continue
            street = names[Tier.street]
            places.append(
                _Place(
                    code,
                    names[Tier.district][1],
                    street[1],
                    names[Tier.community][1],
                    tuple(roads.get(street[0], generic)),
                )
            )
        return places

    def _resolvable(self, spec: str) -> bool:
        return all(self.department(spec, place.grid) for place in self.places)

    def _address(self, place: _Place) -> str:
        rng = self.rng
        if rng.random() < 0.08 * self.noise:
            return ""  # the caller did not say where
        road, other = rng.sample(place.roads, 2) if len(place.roads) > 1 else place.roads * 2
        estate = place.community.removesuffix("社区")
        number = rng.randint(1, 300)
        forms = [
            f"{place.district}{place.street}{road}{number}号附近",
            f"{place.community}{rng.randint(1, 30)}幢楼下",
            f"{road}和{other}交叉口",
            f"{road}{rng.choice(self.words['landmarks'])}门口",
            f"{estate}小区{rng.randint(1, 30)}幢{rng.randint(1, 4)}单元",
            f"{place.street}{road}上",
            f"{place.district}{road}",
            f"{place.community}{road}{number}号",
        ]
        return rng.choice(forms)

    def _when(self) -> str:
        rng = self.rng
        return rng.choice(self.words["when"]).format(
            h=rng.randint(1, 12), m=rng.randint(1, 12), d=rng.randint(1, 28)
        )

    def _fill(self, template: str, sense: _Sense, place: _Place) -> str:
        rng, words = self.rng, self.words
        impacts = list(sense.impacts) * 2 + words["impacts"]
        obj = rng.choice(sense.objects)
        if sense.en and rng.random() < 0.05 * self.noise:
            obj = rng.choice(sense.en)  # "小区门口garbage堆了好几天"
        return template.format(
            hi=rng.choice(words["hi"]),
            place=self._address(place),
            when=self._when(),
            dur=rng.choice(words["dur"]),
            obj=obj,
            prob=rng.choice(sense.problems),
            impact=rng.choice(impacts),
            ask=rng.choice(words["asks"]),
        )

    def _english(self, sense: _Sense, place: _Place) -> str:
        rng, words = self.rng, self.words
        road = rng.choice(place.roads)
        return (
            rng.choice(words["english"])
            .format(
                en=rng.choice(sense.en) if sense.en else rng.choice(sense.objects),
                place=rng.choice([road, f"{road}, {place.community}", place.street]),
                en_prob=rng.choice(words["en_prob"]),
                en_ask=rng.choice(words["en_ask"]),
                en_dur=rng.choice(words["en_dur"]),
            )
            .strip()
        )

    def _noisy(self, text: str) -> str:
        rng, level = self.rng, self.noise
        if level <= 0:
            return text
        chars = list(text)
        if rng.random() < 0.3 * level:  # a filler word somewhere after a comma
            commas = [i for i, c in enumerate(chars) if c == "，"]
            at = rng.choice(commas) + 1 if commas else 0
            chars.insert(at, rng.choice(self.words["fillers"]) + "，")
        if rng.random() < 0.25 * level:  # a typo or two
            for _ in range(rng.randint(1, 2)):
                spots = [i for i, c in enumerate(chars) if c in self.typos]
                if spots:
                    i = rng.choice(spots)
                    chars[i] = self.typos[chars[i]]
        if rng.random() < 0.05 * level:
            chars.append(" " + rng.choice(self.words["english_words"]))
        out = "".join(chars)
        if rng.random() < 0.15 * level:  # typed without punctuation, spaces instead
            out = out.replace("，", " ").replace("。", "")
        if rng.random() < 0.05 * level:  # a stutter: a word said twice
            cut = rng.randint(0, max(0, len(out) - 3))
            out = out[:cut] + out[cut : cut + 2] + out[cut:]
        return out


def labelled(complaints: Sequence[Complaint], target: str) -> tuple[list[str], list[str]]:
    """Texts and labels of ``target`` ("category" or "department")."""
    return [c.text for c in complaints], [getattr(c, target) for c in complaints]
