"""The search package's objects in the database and the keys it looks cases up by.

Nothing here is a SQLModel table: the phone key is a generated column of ``case``
(``engine.cases.models.PHONE_KEY_SQL``) and the full-text index is the database's own:
an FTS5 table with the trigram tokenizer kept by triggers on SQLite, a ``pg_trgm`` GIN
expression index on PostgreSQL. Both are created by migration 2b8e6f0a1c06 and change in
the same statement as the case row, whoever writes it (intake, actions, history import).
"""

from __future__ import annotations

import re
from typing import Any

FTS_TABLE = "case_search"  # SQLite FTS5 (external content: the case table)
FTS_TRIGGERS = ("case_search_ai", "case_search_au", "case_search_ad")
TRGM_INDEX = "ix_case_search_trgm"  # PostgreSQL GIN (gin_trgm_ops) over SEARCH_TEXT_SQL
# The text searched, one string; the PostgreSQL index is over exactly this expression.
SEARCH_TEXT_SQL = (
    "(coalesce(description, '') || ' ' || coalesce(address, '') || ' ' || coalesce(resolution, ''))"
)
MIN_TRIGRAM = 3  # shorter queries have no trigram: see views.text_condition
# The phone's country prefixes, as PHONE_KEY_SQL removes them.
_PREFIXES = ("+86", "0086")
_PHONE = re.compile(r"^[0-9+\- ]{3,30}$")


def phone_key(raw: str) -> str | None:
    """The key a phone is stored under (the rule of ``PHONE_KEY_SQL``), or None when ``raw``
    is no phone: ``+86 138-1234-5678``, ``0086 13812345678`` and ``13812345678`` are one."""
    text = raw.strip()
    if not _PHONE.match(text):
        return None
    digits = text.replace(" ", "").replace("-", "")
    for prefix in _PREFIXES:
        if digits.startswith(prefix):
            return digits[len(prefix) :]
    if len(digits) == 13 and digits.startswith("861"):
        return digits[2:]
    return digits


def is_search_object(name: str | None) -> bool:
    """Whether ``name`` is one of this package's database objects, which no model declares
    (the FTS5 table and its shadow tables, the trigram index)."""
    return bool(name) and (name == TRGM_INDEX or str(name).startswith(FTS_TABLE))


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare: Any) -> bool:
    """Alembic's ``include_object``: leave the search objects out of model comparisons."""
    return not (reflected and compare is None and is_search_object(name))
