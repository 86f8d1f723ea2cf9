"""The dates and recording times a query is asked for, as a user writes them: one rule for
the command line and the web app."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from positions.errors import QueryError


def parse_date(value: str | None, option: str = "--as-of") -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise QueryError(f"{option}: {value!r} is not a date (expected YYYY-MM-DD)") from None


def parse_known_at(value: str | None, option: str = "--known-at") -> datetime | None:
    """A recording time: an ISO 8601 timestamp (UTC unless it says otherwise), or a date,
    meaning the end of that day in UTC."""
    if value is None:
        return None
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            return datetime.combine(day, time.max, tzinfo=UTC)
        stamp = datetime.fromisoformat(value)
    except ValueError:
        raise QueryError(
            f"{option}: {value!r} is not a timestamp (expected YYYY-MM-DD or "
            "YYYY-MM-DDTHH:MM[:SS][+HH:MM])"
        ) from None
    return stamp if stamp.tzinfo is not None else stamp.replace(tzinfo=UTC)
