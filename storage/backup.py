"""Backups: every table as one JSON document, and back into an empty database on any engine.

The document is ``{"format": "yomikai-backup", "version": 1, "schema": "0002", "exported_at": …,
"tables": {…}}`` with one list of row objects per table of ``SQLModel.metadata``, ordered by
primary key; ``schema`` is the migration the source database was at.
Datetimes are ISO 8601 in UTC with their offset, dates and times ISO, JSON columns plain JSON, so
a SQLite backup restores into PostgreSQL and back. The schema itself is not in the backup: the
target database is migrated first (``storage.migrate.upgrade``) and must hold no rows.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, time
from typing import Any, TextIO

from sqlalchemy import Column, Table, inspect, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import StatementError
from sqlalchemy.types import JSON, Date, DateTime, Time, TypeDecorator, TypeEngine
from sqlmodel import SQLModel

import storage.models  # noqa: F401  (registers the tables on SQLModel.metadata)
from storage.db import Database
from storage.migrate import current, head

FORMAT = "yomikai-backup"
VERSION = 1


# --- export -------------------------------------------------------------------------------------


def export_state(db: Database, *, now: datetime | None = None) -> dict[str, Any]:
    """Every row of every table, read in one transaction (a consistent snapshot)."""
    exported_at = (now or datetime.now(UTC)).astimezone(UTC)
    tables: dict[str, list[dict[str, Any]]] = {}
    with db.engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            # READ COMMITTED takes a new snapshot per statement; one snapshot for all tables.
            connection = connection.execution_options(
                isolation_level="REPEATABLE READ", postgresql_readonly=True
            )
        # On SQLite the engine's BEGIN IMMEDIATE holds the write lock while we read.
        with connection.begin():
            for table in SQLModel.metadata.sorted_tables:
                query = select(table).order_by(*table.primary_key.columns)
                tables[table.name] = [
                    {key: _to_json(table, key, value) for key, value in row.items()}
                    for row in connection.execute(query).mappings()
                ]
    return {
        "format": FORMAT,
        "version": VERSION,
        "schema": current(db.engine),
        "exported_at": exported_at.isoformat(),
        "tables": tables,
    }


def _to_json(table: Table, column: str, value: Any) -> Any:
    if value is None or isinstance(table.c[column].type, JSON):
        return value
    if isinstance(value, datetime):
        if value.tzinfo is None:  # every datetime column is UTCDateTime; never guess a zone
            raise ValueError(f"{table.name}.{column}: naive datetime {value!r} in the database")
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, bool | int | float | str):
        return value
    raise TypeError(f"{table.name}.{column}: cannot back up a {type(value).__name__}")


def dump(state: Mapping[str, Any], out: TextIO) -> None:
    """Write ``state`` as readable JSON (UTF-8 text as is, sorted keys: diffs stay small)."""
    json.dump(state, out, ensure_ascii=False, indent=1, sort_keys=True)
    out.write("\n")


# --- load ---------------------------------------------------------------------------------------


def load(src: TextIO) -> dict[str, Any]:
    """Read a backup and check that it is one this Yomikai understands."""
    try:
        state = json.load(src)
    except json.JSONDecodeError as error:
        raise ValueError(f"not a Yomikai backup: not JSON ({error})") from error
    except UnicodeDecodeError as error:
        raise ValueError(f"not a Yomikai backup: not UTF-8 text ({error})") from error
    check(state)
    return state


def check(state: Any) -> None:
    """Raise ValueError unless ``state`` looks like a backup of this version (rows unchecked)."""
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise ValueError(f'not a Yomikai backup (no "format": "{FORMAT}")')
    version = state.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ValueError(f"not a Yomikai backup: bad version {version!r}")
    if version > VERSION:
        raise ValueError(f"backup version {version} is newer than this Yomikai ({VERSION})")
    schema, newest = state.get("schema"), head()
    if isinstance(schema, str) and schema.isdigit() and newest and int(schema) > int(newest):
        raise ValueError(
            f"this backup was made by a newer Yomikai (database schema {schema}; this one"
            f" knows up to {newest}): import it with that version or a later one"
        )
    tables = state.get("tables")
    if not isinstance(tables, dict):
        raise ValueError('not a Yomikai backup: "tables" is missing or not an object')
    for name, rows in tables.items():
        if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
            raise ValueError(f"backup table {name!r} is not a list of rows")


# --- import -------------------------------------------------------------------------------------


def import_state(db: Database, state: Mapping[str, Any]) -> dict[str, int]:
    """Insert a backup into ``db``, which holds the schema and no rows; returns rows per table.

    One transaction: any problem (ValueError with what and where) leaves the database unchanged.
    """
    check(state)
    known = SQLModel.metadata.tables
    unknown = sorted(set(state["tables"]) - set(known))
    if unknown:
        raise ValueError(f"backup has unknown tables: {', '.join(unknown)}")
    plan = [
        (table, [_row_from_json(table, index, row) for index, row in enumerate(rows)])
        for table in SQLModel.metadata.sorted_tables  # parents before children
        for rows in [state["tables"].get(table.name, [])]
    ]
    with db.engine.begin() as connection:
        _check_target(connection)
        for table, rows in plan:
            if not rows:
                continue
            try:
                connection.execute(table.insert(), rows)
            except StatementError as error:
                cause = error.orig if error.orig is not None else error
                raise ValueError(f"backup table {table.name} does not fit: {cause}") from error
        if connection.dialect.name == "postgresql":
            _reset_sequences(connection)
    return {table.name: len(rows) for table, rows in plan}


def _check_target(connection: Connection) -> None:
    present = set(inspect(connection).get_table_names())
    missing = [t.name for t in SQLModel.metadata.sorted_tables if t.name not in present]
    if missing:
        raise ValueError(
            f"the database has no table {', '.join(missing)}: migrate it before importing"
        )
    filled = [
        table.name
        for table in SQLModel.metadata.sorted_tables
        if connection.execute(select(1).select_from(table).limit(1)).first() is not None
    ]
    if filled:
        raise ValueError(
            f"the database is not empty (rows in {', '.join(filled)}): "
            "a backup is only imported into an empty database"
        )


def _row_from_json(table: Table, index: int, row: Mapping[str, Any]) -> dict[str, Any]:
    where = f"backup table {table.name}, row {index + 1}"
    unknown = sorted(set(row) - set(table.c.keys()))
    if unknown:
        raise ValueError(f"{where}: unknown columns {', '.join(unknown)}")
    values: dict[str, Any] = {}
    for column in table.columns:
        if column.key in row:
            values[column.key] = _from_json(column, row[column.key], where)
        elif column.nullable:  # a backup from before the column existed
            values[column.key] = None
        else:
            raise ValueError(f"{where}: column {column.key} is missing")
    return values


def _parse_datetime(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError("no UTC offset")
    return parsed.astimezone(UTC)


_PARSERS: tuple[tuple[type[TypeEngine[Any]], Callable[[str], Any]], ...] = (
    (DateTime, _parse_datetime),
    (Date, date.fromisoformat),
    (Time, time.fromisoformat),
)


def _from_json(column: Column[Any], value: Any, where: str) -> Any:
    """The Python value for ``column``: ISO strings become datetimes, dates and times."""
    type_ = column.type
    if isinstance(type_, TypeDecorator):  # UTCDateTime: what it stores decides
        type_ = type_.impl_instance
    if value is None or isinstance(type_, JSON):
        return value
    parse = next((parse for kind, parse in _PARSERS if isinstance(type_, kind)), None)
    if parse is None:
        return value
    if not isinstance(value, str):
        raise ValueError(f"{where}: {column.key} should be an ISO 8601 string, not {value!r}")
    try:
        return parse(value)
    except ValueError as error:
        raise ValueError(f"{where}: {column.key} {value!r} is not readable ({error})") from error


def _reset_sequences(connection: Connection) -> None:
    """Point each serial id's sequence past the imported ids, so new rows do not collide."""
    preparer = connection.dialect.identifier_preparer
    for table in SQLModel.metadata.sorted_tables:
        if table.autoincrement_column is None:
            continue
        column = table.autoincrement_column.name
        connection.execute(
            text(
                "SELECT setval(pg_get_serial_sequence(:table, :column),"
                f" coalesce(max({preparer.quote(column)}), 1),"
                f" max({preparer.quote(column)}) IS NOT NULL)"
                f" FROM {preparer.format_table(table)}"
            ),
            {"table": preparer.format_table(table), "column": column},
        )
