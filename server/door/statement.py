"""A Core statement compiled once per database and run straight on the driver's cursor."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import Connection, Dialect, Executable

from tenants.scoping import TenantNotSet


class DriverStatement:
    """A statement run on the DBAPI cursor, its rows read by name.

    For the door's scan: through `Connection.execute` a statement also builds an execution context,
    cursor and result wrappers, and result metadata from the driver's column descriptions, which
    cost more than the rest of the scan's Python. The statement's own types still apply both ways:
    values are bound and rows are read through the bind and result processors of its compiled form.
    It runs in whatever transaction the connection is in.
    """

    def __init__(self, statement: Executable) -> None:
        if not statement.exported_columns:
            raise ValueError("a DriverStatement returns rows (SELECT, or RETURNING)")
        self.statement = statement
        self._compiled: dict[str, _Compiled] = {}

    def compiled(self, dialect: Dialect) -> _Compiled:
        compiled = self._compiled.get(dialect.name)
        if compiled is None:
            compiled = self._compiled[dialect.name] = _Compiled(self.statement, dialect)
        return compiled

    def first(self, connection: Connection, params: Mapping[str, Any]) -> dict[str, Any] | None:
        """The first row, as a dict by column name, or None. Below the engine's events, so the
        tenancy guard's rule is checked here: a regional statement, given its region."""
        region = self.statement._execution_options.get("regional")
        if not region or params.get(region) is None:
            raise TenantNotSet("a DriverStatement is regional and runs with a region")
        return self.compiled(connection.dialect).first(connection, params)


class _Compiled:
    def __init__(self, statement: Executable, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        self.compiled = compiled
        self.sql = compiled.string
        self.positions = compiled.positiontup  # SQLite's "?" parameters go by position
        processors: dict[str, Callable[[Any], Any]] = {}  # one per name: a value is bound once
        for bind, name in compiled.bind_names.items():
            process = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if process is not None:
                processors.setdefault(name, process)
        self.binds = list(processors.items())
        self.names = [column.key for column in statement.exported_columns]
        self.results = [
            (column.key, column.type.dialect_impl(dialect).result_processor(dialect, None))
            for column in statement.exported_columns
        ]
        self.results = [(name, process) for name, process in self.results if process is not None]

    def first(self, connection: Connection, params: Mapping[str, Any]) -> dict[str, Any] | None:
        values = self.compiled.construct_params(params)
        for name, process in self.binds:
            values[name] = process(values[name])
        arguments = values if self.positions is None else [values[name] for name in self.positions]
        cursor = connection.connection.cursor()
        try:
            cursor.execute(self.sql, arguments)
            row = cursor.fetchone()  # never `description`: psycopg builds an object per column for it
        except connection.dialect.loaded_dbapi.Error as error:
            if connection.dialect.is_disconnect(error, connection.connection, cursor):
                connection.invalidate(error)  # the pool drops it, as Connection.execute would
            raise
        finally:
            cursor.close()
        if row is None:
            return None
        named = dict(zip(self.names, row, strict=True))
        for name, process in self.results:
            named[name] = process(named[name])
        return named
