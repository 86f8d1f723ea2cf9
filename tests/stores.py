"""The stores a test can run on: an SQLite file, and a fresh schema on the PostgreSQL server.

The PostgreSQL server comes from ``POSITIONS_TEST_POSTGRES`` (``.ci/run`` sets it to
``postgresql://postgres@127.0.0.1:5432/test``). Without it, or when the server cannot be reached,
PostgreSQL tests skip with the reason, except in CI (``CI=true``), where they fail.
Each PostgreSQL test gets its own schema (``?schema=t_<random>``), dropped afterwards.
"""

from __future__ import annotations

import functools
import os
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

POSTGRES_ENV = "POSITIONS_TEST_POSTGRES"
BACKENDS = ["sqlite", "postgresql"]


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("true", "1", "yes")


@functools.cache
def postgres_problem() -> str | None:
    """Why the PostgreSQL tests cannot run, or None when they can."""
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        return (
            f"PostgreSQL tests need {POSTGRES_ENV} (e.g. postgresql://postgres@127.0.0.1:5432/test)"
        )
    import psycopg

    try:
        psycopg.connect(base, connect_timeout=5).close()
    except psycopg.Error as exc:
        return f"PostgreSQL server at {POSTGRES_ENV} is unreachable: {str(exc).strip().splitlines()[0]}"
    return None


def require_postgres() -> str:
    """The server's base URL; skip (or, in CI, fail) when there is none."""
    problem = postgres_problem()
    if problem is not None:
        if in_ci():
            pytest.fail(f"{problem} (CI=true: the PostgreSQL tests must run)")
        pytest.skip(problem)
    return os.environ[POSTGRES_ENV]


def connect(base: str) -> Any:
    import psycopg

    return psycopg.connect(base, autocommit=True)


CATALOGS = ("pg_attribute", "pg_depend", "pg_class", "pg_type", "pg_index", "pg_constraint")
"""The system catalogs that each schema made and dropped leaves dead rows in."""
VACUUM_EVERY = 20
"""Schemas dropped by one process between two vacuums of the catalogs."""
_dropped = 0


def vacuum_catalogs(base: str) -> None:
    """Clear the dead rows that made and dropped schemas leave in the system catalogs: with
    ``autovacuum`` off (as on the development machine) they pile up (about 100,000 a run of
    the suite) and slow every later ``CREATE TABLE``. A role that may not vacuum a catalog
    gets a warning from the server, not an error."""
    with connect(base) as conn:
        conn.execute("VACUUM " + ", ".join(f"pg_catalog.{name}" for name in CATALOGS))


@contextmanager
def postgres_store() -> Iterator[str]:
    """A store URL naming a fresh schema, dropped (with everything in it) afterwards; every
    `VACUUM_EVERY` drops, the catalogs are vacuumed."""
    global _dropped
    base = require_postgres()
    schema = f"t_{uuid.uuid4().hex[:16]}"
    try:
        yield f"{base}?schema={schema}"
    finally:
        with connect(base) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        _dropped += 1
        if _dropped % VACUUM_EVERY == 0:
            vacuum_catalogs(base)


@contextmanager
def any_store(backend: str, folder: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{folder / 'store.db'}"
    else:
        with postgres_store() as url:
            yield url


def schema_of(url: str) -> str:
    return url.rsplit("?schema=", 1)[1]


def base_of(url: str) -> str:
    return url.rsplit("?schema=", 1)[0]


def execute(url: str, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Run SQL directly on a store's events table (named ``EVENTS`` in ``sql``), behind the tool's
    back; returns the rows a query gives."""
    if url.startswith("sqlite:///"):
        conn = sqlite3.connect(url.removeprefix("sqlite:///"))
        try:
            cur = conn.execute(sql.replace("EVENTS", "stored_events").replace("%s", "?"), params)
            rows = cur.fetchall()
            conn.commit()
            return rows
        finally:
            conn.close()
    table = f'"{schema_of(url)}".positions_events'
    with connect(base_of(url)) as conn:
        cur = conn.execute(sql.replace("EVENTS", table), params)
        return cur.fetchall() if cur.description else []


def views_sql(url: str, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """SQL on the views' tables (``V_name`` in ``sql``, ``TRACKING`` for the tracking table),
    behind the tool's back."""
    if url.startswith("sqlite:"):
        sql = sql.replace("V_", "positions_view_").replace("TRACKING", "tracking")
    else:
        schema = schema_of(url)
        sql = sql.replace("V_", f'"{schema}".positions_view_')
        sql = sql.replace("TRACKING", f'"{schema}".positions_tracking')
    return execute(url, sql, params)


def count_events(url: str) -> int:
    return int(execute(url, "SELECT count(*) FROM EVENTS")[0][0])


def rows(url: str) -> list[tuple[Any, str, int, bytes]]:
    """Every row of a store's events table in the order it was stored:
    (row key, stream id as 32 hex digits, version, state)."""
    key = "rowid" if url.startswith("sqlite:") else "notification_id"
    found = execute(
        url, f"SELECT {key}, originator_id, originator_version, state FROM EVENTS ORDER BY {key}"
    )
    return [(k, str(o).replace("-", ""), int(v), bytes(s)) for k, o, v, s in found]


def update_row(
    url: str, key: Any, *, state: bytes | None = None, version: int | None = None
) -> None:
    """Change one row behind the tool's back."""
    column = "rowid" if url.startswith("sqlite:") else "notification_id"
    if state is not None:
        execute(url, f"UPDATE EVENTS SET state = %s WHERE {column} = %s", (state, key))
    if version is not None:
        execute(
            url, f"UPDATE EVENTS SET originator_version = %s WHERE {column} = %s", (version, key)
        )


def delete_row(url: str, key: Any) -> None:
    column = "rowid" if url.startswith("sqlite:") else "notification_id"
    execute(url, f"DELETE FROM EVENTS WHERE {column} = %s", (key,))
