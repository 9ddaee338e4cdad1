"""Text as the router sees it: normalisation, character n-grams, and a case's text.

No word segmenter: Chinese complaints are cut into overlapping character n-grams (1–3 chars
by default), which carry most of the meaning of short texts and survive typos. Training and
prediction share :func:`analyze`, so the features always agree.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Protocol

_DIGITS = re.compile(r"\d+")
_SPACES = re.compile(r"\s+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
NGRAMS = (1, 3)


def normalize(text: str) -> str:
    """NFKC (full-width → half-width), lower case, digit runs → "0", whitespace collapsed.

    House numbers, times and phone numbers say little about the category; folding them keeps
    the vocabulary small.
    """
    text = _CONTROL.sub(" ", unicodedata.normalize("NFKC", text).lower())
    return _SPACES.sub(" ", _DIGITS.sub("0", text)).strip()


def analyze(text: str, ngrams: tuple[int, int] = NGRAMS) -> list[str]:
    """The character n-grams of the normalised text, shortest first."""
    text = normalize(text)
    low, high = ngrams
    grams: list[str] = []
    for n in range(low, min(high, len(text)) + 1):
        grams.extend(text[i : i + n] for i in range(len(text) - n + 1))
    return grams


class HasText(Protocol):
    description: str
    address: str | None


def case_text(case: HasText) -> str:
    """The text the router reads for a case: its description, and its address if given.

    The address matters for the department (a district's sanitation office, a street's
    城管中队). The training-label feed and the dispatch hook both use this, so what the model
    learns from is what it is later asked about.
    """
    address = (case.address or "").strip()
    if address and address not in case.description:
        return f"{case.description} {address}"
    return case.description
