"""Declarative base, column types, and the one unit of work every write goes through."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, DateTime, Engine, MetaData, TypeDecorator
from sqlalchemy.orm import DeclarativeBase, Session, registry

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC, returns aware UTC: SQLite keeps no offset, PostgreSQL gets the same values."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    # Given as a registry: Flask-SQLAlchemy subclasses the base, and SQLAlchemy 2.1 refuses a
    # per-class type_annotation_map beside an inherited registry.
    registry = registry(
        metadata=MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={datetime: UTCDateTime()},
    )


def bound(*names: str) -> dict:
    """`.values()` of bind parameters named like their columns: built once, run with a dict per row."""
    from sqlalchemy import bindparam

    return {name: bindparam(name) for name in names}


def insert_on_conflict(table, dialect_name: str):
    """An INSERT that can say ON CONFLICT, for the named database (PostgreSQL, or SQLite ≥ 3.35).

    Hot paths build such statements once per dialect (`functools.cache`) and execute them with
    parameters on the session's connection: building a statement costs more than running it.
    """
    from sqlalchemy.dialects import postgresql, sqlite

    return (postgresql if dialect_name == "postgresql" else sqlite).insert(table)


AFTER_COMMIT = "after_commit"  # key in a unit's `info`: callables to run once it has committed


def end_reads() -> None:
    """End the request's transaction before slow work that needs no database (parsing an upload).

    On SQLite every transaction takes the write lock at BEGIN (IMMEDIATE): a request that parses a
    file inside one keeps every kiosk's scan waiting. Only for a request that has written nothing
    yet: what it reads afterwards comes in a new transaction, committed at the request's edge.
    """
    from server.extensions import db

    session = db.session()
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("end_reads() after a write: the write would be committed early")
    session.commit()


class Work:
    """Where one unit of work runs: a connection, the session if it has one, and its `info`.

    The request edge, the door, socket handlers, jobs and the CLI all get one from `unit_of_work`.
    A service that must send something only once its writes are committed (a live message) adds a
    callable to `info[AFTER_COMMIT]`; a rollback drops it.
    """

    __slots__ = ("_connection", "info", "session")

    def __init__(self, session: Session | None, connection: Connection | None, info: dict) -> None:
        self.session = session
        self._connection = connection
        self.info = info

    @property
    def connection(self) -> Connection:
        """The unit's connection; with a session, asked for only when used (SQLite begins then)."""
        if self._connection is None:
            assert self.session is not None
            self._connection = self.session.connection()
        return self._connection

    @classmethod
    def of(cls, session: Session | None = None) -> Work:
        """The current unit of work of a session (the request's by default)."""
        if session is None:
            from server.extensions import db  # here: server.extensions imports this module

            session = db.session()
        return cls(session, None, session.info)


@contextmanager
def unit_of_work(engine: Engine | None = None) -> Iterator[Work]:
    """Commit what the block wrote, or roll all of it back if the block raised; then run what waited
    for the commit (`AFTER_COMMIT`).

    Without an engine it works in the request's (or the thread's) session. Given an engine it takes a
    connection of that engine's pool and runs one transaction on it without a session: the door does
    that for a kiosk's scan, which needs no identity map.
    """
    if engine is None:
        work = Work.of()
        session = work.session
        assert session is not None
        try:
            yield work
            session.commit()
        except BaseException:
            session.rollback()
            session.info.pop(AFTER_COMMIT, None)
            raise
        for callback in session.info.pop(AFTER_COMMIT, ()):
            callback()
        return
    info: dict[str, Any] = {}
    with engine.connect() as connection, connection.begin():
        yield Work(None, connection, info)
    for callback in info.pop(AFTER_COMMIT, ()):
        callback()


def after_commit(work: Work, callback: Callable[[], None]) -> None:
    """Run `callback` once the unit of work has committed; never if it rolls back."""
    work.info.setdefault(AFTER_COMMIT, []).append(callback)


def transaction_ended(session: Session) -> bool:
    """Whether a session's `after_commit`/`after_rollback` is the end of its transaction.

    SQLAlchemy fires both for a savepoint too (`refusal_undone`): a hook that hands committed rows to
    the job queue must wait for the outer commit; on SQLite an immediate-mode task run at a savepoint
    waits for the very write lock its caller holds, and a worker would look for rows not yet committed.
    """
    return not session.in_nested_transaction()


@contextmanager
def refusal_undone() -> Iterator[None]:
    """A service call whose refusal (a `DomainError`) a page shows instead of failing: what the call
    wrote before refusing is undone (a savepoint), and the request's unit of work goes on."""
    from server.errors import DomainError
    from server.extensions import db

    savepoint = db.session().begin_nested()
    try:
        yield
    except DomainError:
        savepoint.rollback()
        raise
    savepoint.commit()
