"""Login throttling with growing delays, per source address and per account (pages and API).

Nothing here locks an account: an attacker who knows a username cannot keep its owner out.

- **Per source address.** After ``ADDRESS_FREE`` failed logins from one address (whatever
  the usernames), each further failure holds that address for a delay that doubles from
  one second up to ``MAX_DELAY``. Every login from a held address is refused (HTTP 429)
  without checking the password.
- **Per account.** After ``ACCOUNT_FREE`` failed logins for one account (from any
  addresses), each further failure sets a delay for the account that doubles the same way.
  It holds only the addresses that have themselves failed for that account since their
  last success there. So a botnet gets one guess per address before the account's delay
  applies to it, while the owner, from an address that has not failed for the account, logs
  in at once with the right password.

Counts are forgotten ``FORGET_AFTER`` after the last failure; a successful login clears the
count of that account from that address. Rows live in the database, so every server
process sees the same counts.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Field, Session, SQLModel

from engine.db import UTCDateTime
from engine.errors import GridflowError

ADDRESS_FREE = 10
ACCOUNT_FREE = 5
FIRST_DELAY = timedelta(seconds=1)
MAX_DELAY = timedelta(minutes=15)
FORGET_AFTER = timedelta(hours=24)


class LoginThrottle(SQLModel, table=True):
    """One counter: ``addr:<address>``, ``user:<username>`` or ``pair:<address> <username>``."""

    __tablename__ = "login_throttle"

    key: str = Field(primary_key=True, max_length=120)
    failures: int = 0
    last_failure_at: datetime = Field(sa_type=UTCDateTime)
    held_until: datetime | None = Field(default=None, sa_type=UTCDateTime)


class AccountLocked(GridflowError):
    """A login refused for now: its address, or the account from that address, is held."""

    code = "throttled"

    def __init__(self, until: datetime, now: datetime) -> None:
        self.retry_after = max(1, int(-(-(until - now).total_seconds() // 1)))
        super().__init__(f"too many failed logins; try again in {self.retry_after} seconds")


def _keys(address: str, username: str) -> tuple[str, str, str]:
    return f"addr:{address}"[:120], f"user:{username}", f"pair:{address} {username}"[:120]


def _live(session: Session, key: str, now: datetime) -> LoginThrottle | None:
    row = session.get(LoginThrottle, key)
    if row is not None and now - row.last_failure_at > FORGET_AFTER:
        return None
    return row


def _held(row: LoginThrottle | None, now: datetime) -> datetime | None:
    if row is not None and row.held_until is not None and row.held_until > now:
        return row.held_until
    return None


def check_allowed(session: Session, address: str, username: str, now: datetime) -> None:
    """Refuse (``AccountLocked``) a login attempt while its address or account holds it."""
    address_key, account_key, pair_key = _keys(address, username)
    until = _held(_live(session, address_key, now), now)
    if _live(session, pair_key, now) is not None:
        account_until = _held(_live(session, account_key, now), now)
        if account_until is not None and (until is None or account_until > until):
            until = account_until
    if until is not None:
        raise AccountLocked(until, now)


def _delay(failures: int, free: int) -> timedelta | None:
    if failures <= free:
        return None
    return min(FIRST_DELAY * 2 ** min(failures - free - 1, 20), MAX_DELAY)


def record_failure(session: Session, address: str, username: str, now: datetime) -> None:
    address_key, account_key, pair_key = _keys(address, username)
    for key, free in ((address_key, ADDRESS_FREE), (account_key, ACCOUNT_FREE), (pair_key, None)):
        row = session.get(LoginThrottle, key)
        if row is None:
            row = LoginThrottle(key=key, last_failure_at=now)
        elif now - row.last_failure_at > FORGET_AFTER:
            row.failures, row.held_until = 0, None
        row.failures += 1
        row.last_failure_at = now
        delay = _delay(row.failures, free) if free is not None else None
        if delay is not None:
            row.held_until = now + delay
        session.add(row)
    session.commit()


def record_success(session: Session, address: str, username: str) -> None:
    row = session.get(LoginThrottle, _keys(address, username)[2])
    if row is not None:
        session.delete(row)
        session.commit()
