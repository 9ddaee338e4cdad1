"""People as pages name them: their display name, not their username."""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import Session, col, select

from engine.users.models import User


def display_names(session: Session, usernames: Iterable[str]) -> dict[str, str]:
    """Usernames → the people's names (a user that is gone keeps their username)."""
    names = {n for n in usernames if n}
    if not names:
        return {}
    query = select(User.username, User.display_name).where(col(User.username).in_(names))
    return {username: display or username for username, display in session.exec(query)}
