"""Finding cases: exact look-ups by caller phone, hotline ticket number and case number, and
full text over description, address and result (docs/SEARCH.md#lookups-search-and-pagination).

Each function returns WHERE conditions on the case table; ``engine.cases.queries.list_cases``
adds the caller's scope and the list's own filters and order, so a search never shows a case
the list would not. One search box (``?q=``) is read by ``understand``: a case number jumps to
that case, a caller's phone or a ticket number finds those cases, anything else is text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, column, func, literal_column, or_, select, table
from sqlmodel import Session, col

from engine import access
from engine.cases import queries
from engine.cases.models import Case, Channel
from engine.city.directory import CityDirectory
from engine.errors import Forbidden, InvalidInput, NotFound
from engine.search.models import FTS_TABLE, MIN_TRIGRAM, SEARCH_TEXT_SQL, phone_key
from engine.users.models import Principal

# "#123", "＃123", "案件 #123", "案件123号", "case 123", or digits alone (tried as a case
# number first, then as a phone or ticket number).
_CASE_NUMBER = re.compile(r"^(?:案件|case)?\s*(?:编号|no\.?)?\s*[#＃]?\s*(\d{1,9})\s*号?$", re.I)
_TICKET = re.compile(r"^[A-Za-z0-9_.:\-]{1,64}$")
MIN_PHONE_DIGITS = 7  # shorter digit strings are case numbers or text, not phones
# Terms of one or two characters have no trigram to look up: they are matched by LIKE on
# the newest SHORT_TERM_WINDOW cases only (a bounded scan), and say so in the answer.
SHORT_TERM_WINDOW = 50_000
_FTS = table(FTS_TABLE, column("rowid"))
_SEARCH_TEXT = literal_column(SEARCH_TEXT_SQL)


@dataclass
class Understood:
    """What a search box's text was taken for, and the conditions that find it."""

    kind: str  # case_number | phone | ticket | text
    where: list[Any] = field(default_factory=list)
    case: Case | None = None  # kind case_number: the one case to jump to
    window: int | None = None  # text with short terms only: how many newest cases were searched


def by_phone(principal: Principal, phone: str, name: str = "phone") -> Any:
    """Cases whose caller's phone is ``phone`` in any of its spellings. Only roles that see
    callers' phones may look them up (a masked role could otherwise test a guess)."""
    if not access.sees_contact(principal):
        raise Forbidden(f"role '{principal.role}' may not look cases up by the caller's phone")
    key = phone_key(phone)
    if not key:
        raise InvalidInput(name, "must be a phone number: digits, spaces, dashes, a leading +")
    return col(Case.phone_key) == key


def by_ticket(ticket: str, name: str = "ticket") -> Any:
    """The hotline case filed for 12345 ticket ``ticket`` (its ``external_id``)."""
    text = ticket.strip()
    if not _TICKET.match(text):
        raise InvalidInput(name, "must be a ticket number: letters, digits, _ . : -")
    return (col(Case.channel) == Channel.hotline) & (col(Case.external_id) == text)


def by_text(session: Session, text: str) -> tuple[list[Any], int | None]:
    """Conditions for cases whose description, address or result holds every term of
    ``text`` (split at spaces; case-insensitive for Latin letters), and the window of newest
    cases searched when every term is shorter than a trigram (None: all cases)."""
    terms = [t for t in text.split() if t]
    if not terms:
        raise InvalidInput("q", "must not be empty")
    long_terms = [t for t in terms if len(t) >= MIN_TRIGRAM]
    where: list[Any] = []
    sqlite = session.get_bind().dialect.name == "sqlite"
    for term in long_terms:
        where.append(_fts_match(term) if sqlite else _SEARCH_TEXT.ilike(_contains(term), "\\"))
    for term in (t for t in terms if len(t) < MIN_TRIGRAM):
        pattern = _contains(term)
        columns = (col(Case.description), col(Case.address), col(Case.resolution))
        # SQLite's LIKE already ignores Latin case (its ILIKE would add lower() per row).
        where.append(
            or_(*(c.like(pattern, "\\") if sqlite else c.ilike(pattern, "\\") for c in columns))
        )
    if long_terms:
        return where, None
    newest = session.execute(select(func.max(col(Case.id)))).scalar() or 0
    where.append(col(Case.id) > newest - SHORT_TERM_WINDOW)
    return where, SHORT_TERM_WINDOW


def understand(session: Session, principal: Principal, city: CityDirectory, q: str) -> Understood:
    """What the operator typed: a case number (visible to them) jumps to that case; a phone
    (for roles that see phones) or a ticket number with visible cases finds those; anything
    else is text."""
    text = q.strip()
    if not text:
        raise InvalidInput("q", "must not be empty")
    number = _CASE_NUMBER.match(text)
    if number:
        try:
            case = queries.get_visible(session, principal, int(number.group(1)), city)
            return Understood("case_number", [col(Case.id) == case.id], case=case)
        except NotFound:
            pass
    key = phone_key(text)
    if key and sum(c.isdigit() for c in key) >= MIN_PHONE_DIGITS and access.sees_contact(principal):
        where = [col(Case.phone_key) == key]
        if _any_visible(session, principal, city, where):
            return Understood("phone", where)
    if _TICKET.match(text):
        where = [by_ticket(text)]
        if _any_visible(session, principal, city, where):
            return Understood("ticket", where)
    where, window = by_text(session, text)
    return Understood("text", where, window=window)


def _any_visible(
    session: Session, principal: Principal, city: CityDirectory, where: list[Any]
) -> bool:
    query = select(col(Case.id)).where(access.case_scope(principal, city), *where).limit(1)
    return session.exec(query).first() is not None


def _fts_match(term: str) -> Any:
    """SQLite: the case ids whose FTS5 trigram row holds ``term`` as a substring."""
    phrase = '"' + term.replace('"', '""') + '"'
    match = literal_column(FTS_TABLE).op("MATCH")(bindparam(None, phrase))
    return col(Case.id).in_(select(_FTS.c.rowid).where(match))


def _contains(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
