"""Declarative base, column types and small helpers shared by every model."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from functools import wraps
from typing import Any

from sqlalchemy import Connection, DateTime, Dialect, Executable, MetaData, TypeDecorator
from sqlalchemy.orm import DeclarativeBase, registry

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


def statement_transactions(view):
    """Run a view with every statement its own transaction on PostgreSQL (autocommit).

    For the door's scan, the busiest request: no BEGIN and COMMIT round trips, so a scan is two
    (its kiosk with the ticket, then the scan row with its count). Only for views whose every write is
    one statement that stands on its own (a scan writes one row, or one row with its count in the same
    statement): nothing can be left half done. Each read sees what is committed as it runs, as READ
    COMMITTED gives anyway. A request whose session is already in a transaction stays in it.
    """
    from server.extensions import db  # here: server.extensions imports this module

    @wraps(view)
    def run(*args, **kwargs):
        if db.engine.dialect.name == "postgresql" and not db.session().in_transaction():
            db.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
        return view(*args, **kwargs)

    return run


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


class DriverStatement:
    """A Core statement compiled once per database and run straight on the driver's cursor.

    For the door's scan, on its busiest path: through `Connection.execute` each statement also built an
    execution context, cursor and result wrappers, and result metadata from the driver's column
    descriptions (psycopg makes an object per column for those). Run here, a scan took 3.1 million
    instructions instead of 3.8 (`bench/instructions.py`). The statement's own types still apply both
    ways: values are bound and rows are read through the bind and result processors of its compiled
    form. It runs in the connection's transaction, or in autocommit where the connection is in it
    (`statement_transactions`, or the door lane's own pool: `checkins.work`).
    """

    def __init__(self, statement: Executable) -> None:
        if not statement.exported_columns:
            raise ValueError("a DriverStatement returns rows (SELECT, or RETURNING)")
        self.statement = statement
        self._compiled: dict[str, _Compiled] = {}

    def rows(self, connection: Connection, params: Mapping[str, Any]) -> list[tuple]:
        dialect = connection.dialect
        compiled = self._compiled.get(dialect.name)
        if compiled is None:
            compiled = self._compiled[dialect.name] = _Compiled(self.statement, dialect)
        return compiled.rows(connection, params)

    def first(self, connection: Connection, params: Mapping[str, Any]) -> tuple | None:
        rows = self.rows(connection, params)
        return rows[0] if rows else None


class _Compiled:
    def __init__(self, statement: Executable, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        self.compiled = compiled
        self.sql = compiled.string
        self.positions = compiled.positiontup  # SQLite's "?" parameters go by position
        self.binds: list[tuple[str, Callable[[Any], Any]]] = []
        for bind, name in compiled.bind_names.items():
            process = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if process is not None:
                self.binds.append((name, process))
        self.results = [
            column.type.dialect_impl(dialect).result_processor(dialect, None)
            for column in statement.exported_columns
        ]
        self.processed = any(self.results)

    def rows(self, connection: Connection, params: Mapping[str, Any]) -> list[tuple]:
        values = self.compiled.construct_params(params)
        for name, process in self.binds:
            values[name] = process(values[name])
        arguments = values if self.positions is None else [values[name] for name in self.positions]
        cursor = connection.connection.cursor()
        try:
            cursor.execute(self.sql, arguments)
            rows = cursor.fetchall()  # never `description`: psycopg builds an object per column for it
        except connection.dialect.loaded_dbapi.Error as error:
            if connection.dialect.is_disconnect(error, connection.connection, cursor):
                connection.invalidate(error)  # the pool drops it, as Connection.execute would
            raise
        finally:
            cursor.close()
        if not self.processed:
            return rows
        return [tuple(_read(self.results, row)) for row in rows]


def _read(processors: list, row: tuple) -> Iterator[Any]:
    for process, value in zip(processors, row, strict=True):
        yield value if process is None else process(value)
