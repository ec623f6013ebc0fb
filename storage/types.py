"""Column types shared by the tables: timezone-aware datetimes on every engine."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


def as_utc(value: datetime | None) -> datetime | None:
    """A timestamp read back raw (``min()``/``max()`` skip the column type: naive on SQLite)."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores an aware datetime as UTC and always hands back an aware UTC datetime.

    SQLite has no time zone type, so a naive value read back would silently mean "local time";
    refusing naive values on the way in keeps every timestamp in the database unambiguous.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: pass an aware datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
