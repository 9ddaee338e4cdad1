"""Many case steps in one database transaction, each under a savepoint of its own.

A driver that takes step after step on one thread (the simulator) pays a commit for every
step, and on SQLite the commit is the largest single cost of a small step. A group runs up to
``size`` steps in one transaction: each step is still all or nothing (a refused step rolls
back to its savepoint and leaves no row behind), but the group commits once.

What a group gives up: steps of one group are lost together by a crash before the group
commits, and while a group is open on SQLite its transaction holds the database's one write
lock. So it is for drivers that can run their steps again (the simulator), never for
accepting reports from outside, and a driver commits the group (:meth:`StepGroup.commit`)
before anything else in the process writes, such as a timer sweep.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.engine import Engine
from sqlalchemy.orm import SessionTransaction
from sqlmodel import Session

from engine import rowbuffer
from engine.db import new_session


class StepGroup:
    def __init__(self, db: Engine, size: int) -> None:
        if size < 1:
            raise ValueError("a step group holds at least one step")
        self.db, self.size = db, size
        self.thread = threading.get_ident()
        self.session: Session = new_session(db)
        self._outer: SessionTransaction | None = None
        self._steps = 0
        self._paused = False

    def takes(self) -> bool:
        """Whether the calling thread's next step joins the group."""
        return not self._paused and threading.get_ident() == self.thread

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Commit, then let this thread's steps take transactions of their own for a while
        (e.g. a timer sweep, whose own writes would wait on the group's write lock)."""
        self.commit()
        self._paused = True
        try:
            yield
        finally:
            self._paused = False

    @contextmanager
    def step(self) -> Iterator[Session]:
        """One step under a savepoint: released (its rows written) when the step succeeds;
        rolled back on an error, with every trace of the step in the session dropped.
        A plain SAVEPOINT on the driver's connection, not the ORM's nested transaction: the
        write path keeps its rows in the row buffer, and the ORM's bookkeeping cost more than
        the commit saved."""
        if self._outer is None:
            self._begin()
        session = self.session
        cursor = session.connection().connection.cursor()  # the driver's: no statement cache
        cursor.execute("SAVEPOINT step")
        try:
            yield session
            rowbuffer.flush(session)  # inside the savepoint, so a conflict rolls it back
            session.flush()
        except BaseException:
            cursor.execute("ROLLBACK TO SAVEPOINT step")
            cursor.execute("RELEASE SAVEPOINT step")
            raise
        else:
            cursor.execute("RELEASE SAVEPOINT step")
        finally:
            cursor.close()
            # Each step starts as in a transaction of its own: no cached clocks, no objects
            # loaded by an earlier step (the write path changes rows behind the ORM's back).
            rowbuffer.forget(session)
            session.expunge_all()
        self._steps += 1
        if self._steps >= self.size:
            self.commit()

    def commit(self) -> None:
        """Commit the steps taken so far; the next step begins a new transaction."""
        if self._outer is not None:
            outer, self._outer, self._steps = self._outer, None, 0
            outer.commit()

    def close(self, commit: bool) -> None:
        try:
            if commit:
                self.commit()
            elif self._outer is not None:
                self._outer.rollback()
        finally:
            self._outer = None
            self.session.close()

    def _begin(self) -> None:
        self._outer = self.session.begin()
        if self.db.dialect.name == "sqlite":
            # pysqlite opens a transaction only before a write; a SAVEPOINT outside one would
            # open a transaction of its own that the savepoint's RELEASE commits. IMMEDIATE
            # takes the write lock now, as every step of the group writes.
            self.session.connection().exec_driver_sql("BEGIN IMMEDIATE")
