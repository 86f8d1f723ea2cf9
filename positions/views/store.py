"""The materialized views, kept in the store's own database with eventsourcing's tracking.

Queries read a negotiation from four tables instead of replaying its streams:
``positions_view_streams``, ``positions_view_definitions``, ``positions_view_statements`` (one
row per statement, with its coding in force), ``positions_view_corrections`` and
``positions_view_amendments``. They are fed
from the store's notification log by `ViewStore.catch_up`: each page of new events is folded
(`positions.views.fold`) and its rows are written in the same transaction as the tracking row
(eventsourcing's tracking table, application name ``positions-views``), so the views never
hold half a page, and after a crash, or after events written by another process, the next
catch-up resumes from the last notification processed. Catch-ups are serialised by a lock (a
write to ``positions_view_lock`` on SQLite, an advisory lock on PostgreSQL).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Iterator, MutableMapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import datetime
from operator import attrgetter, itemgetter
from typing import Any, TypeVar
from uuid import UUID

import orjson
from eventsourcing.persistence import IntegrityError, PersistenceError, Tracking
from eventsourcing.sqlite import SQLiteTrackingRecorder
from eventsourcing.utils import get_topic

from positions.codebook import Amendment, Correction, Statement
from positions.errors import StoreError, first_line
from positions.events import CodingCorrected, DomainEvent, StatementAmended
from positions.ids import record_id, statement_key
from positions.registry import HeldEvent
from positions.search import words
from positions.steps import RULES_VERSION
from positions.store.integrity import StoredRow, unseal
from positions.store.persistence import tracked_position
from positions.timeline import Entry, NegotiationRecord
from positions.views.fold import (
    STATEMENT_COLUMNS,
    STATEMENT_TOPICS,
    AmendmentRow,
    CorrectionRow,
    DefinitionRow,
    LogRow,
    StatementKey,
    StatementRow,
    StreamRow,
    ViewChanges,
    read_statement,
    stamp_json,
    statement_document,
    statement_fields,
    unstamp,
)
from positions.views.tables import DDL as STEP_DDL
from positions.views.tables import STEP_COLUMNS, STEPS_NAME, StepStore
from positions.views.tables import TABLES as STEP_TABLES

Found = TypeVar("Found")

_AMENDED = get_topic(StatementAmended)

VIEWS_NAME = "positions-views"
"""The views' application name in eventsourcing's tracking table."""

PAGE = 10_000
"""Events folded and written per transaction by a catch-up."""

LOOKUP = 500
"""Statements looked up by id per query."""

_TABLES = {
    "streams": (StreamRow, ("stream",)),
    "definitions": (DefinitionRow, ("notification_id",)),
    "statements": (StatementRow, ("negotiation", "statement_id")),
    "corrections": (CorrectionRow, ("notification_id",)),
    "amendments": (AmendmentRow, ("notification_id",)),
}

_DDL = (
    "CREATE TABLE IF NOT EXISTS {p}positions_view_streams ("
    "stream TEXT PRIMARY KEY, negotiation TEXT NOT NULL, party TEXT)",
    "CREATE TABLE IF NOT EXISTS {p}positions_view_definitions ("
    "notification_id BIGINT PRIMARY KEY, negotiation TEXT NOT NULL, recorded_at TEXT NOT NULL, "
    "topic TEXT NOT NULL, payload TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS positions_view_definitions_by_negotiation "
    "ON {p}positions_view_definitions (negotiation, notification_id)",
    "CREATE TABLE IF NOT EXISTS {p}positions_view_statements ("
    "negotiation TEXT NOT NULL, statement_id TEXT NOT NULL, party TEXT NOT NULL, "
    "kind TEXT NOT NULL, issue TEXT, position TEXT, verdict TEXT, proposal TEXT, "
    "stated_on TEXT NOT NULL, day TEXT NOT NULL, hypothetical BOOLEAN NOT NULL, "
    "recorded_at TEXT NOT NULL, notification_id BIGINT NOT NULL, corrections INTEGER NOT NULL, "
    "coding TEXT, speaker TEXT, quote TEXT, words TEXT NOT NULL, salience DOUBLE PRECISION, "
    "PRIMARY KEY (negotiation, statement_id))",
    "CREATE INDEX IF NOT EXISTS positions_view_statements_salience "
    "ON {p}positions_view_statements (negotiation) WHERE salience IS NOT NULL",
    "CREATE TABLE IF NOT EXISTS {p}positions_view_corrections ("
    "notification_id BIGINT PRIMARY KEY, negotiation TEXT NOT NULL, statement_id TEXT NOT NULL, "
    "number INTEGER NOT NULL, recorded_at TEXT NOT NULL, payload TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS {p}positions_view_amendments ("
    "notification_id BIGINT PRIMARY KEY, negotiation TEXT NOT NULL, statement_id TEXT NOT NULL, "
    "recorded_at TEXT NOT NULL, payload TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS positions_view_amendments_of "
    "ON {p}positions_view_amendments (negotiation, statement_id, notification_id)",
    "CREATE TABLE IF NOT EXISTS {p}positions_view_lock (id INTEGER PRIMARY KEY)",
    "CREATE TABLE IF NOT EXISTS {p}positions_view_versions ("
    "name TEXT PRIMARY KEY, version INTEGER NOT NULL)",
)

SEARCH_TABLE = "positions_view_search"
"""SQLite's full-text index of the statements' words (`positions.search`): an FTS5 table over
the statement rows' ``words`` (external content, keyed by the statement's notification id),
kept by triggers on the statement table, so that every write of a row (the Python fold's and
the SQL fold's) keeps it."""

_SQLITE_SEARCH_DDL = (
    "CREATE INDEX IF NOT EXISTS positions_view_statements_notification "
    "ON positions_view_statements (notification_id)",
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {SEARCH_TABLE} USING fts5(words, "
    "content='positions_view_statements', content_rowid='notification_id', tokenize='ascii')",
    "CREATE TRIGGER IF NOT EXISTS positions_view_statements_searched "
    "AFTER INSERT ON positions_view_statements BEGIN "
    f"INSERT INTO {SEARCH_TABLE} (rowid, words) VALUES (new.notification_id, new.words); END",
    "CREATE TRIGGER IF NOT EXISTS positions_view_statements_unsearched "
    "AFTER DELETE ON positions_view_statements BEGIN "
    f"INSERT INTO {SEARCH_TABLE} ({SEARCH_TABLE}, rowid, words) "
    "VALUES ('delete', old.notification_id, old.words); END",
    "CREATE TRIGGER IF NOT EXISTS positions_view_statements_researched "
    "AFTER UPDATE OF notification_id, words ON positions_view_statements BEGIN "
    f"INSERT INTO {SEARCH_TABLE} ({SEARCH_TABLE}, rowid, words) "
    "VALUES ('delete', old.notification_id, old.words); "
    f"INSERT INTO {SEARCH_TABLE} (rowid, words) VALUES (new.notification_id, new.words); END",
)
"""The FTS5 table and the triggers that keep it (SQLite only), and the index that leads from
a found row id to its statement row."""

_POSTGRES_SEARCH_DDL = (
    "CREATE INDEX IF NOT EXISTS positions_view_statements_words ON "
    "{p}positions_view_statements USING GIN (array_to_tsvector(string_to_array(words, ' ')))",
)
"""PostgreSQL's index of the statements' words: the words as lexemes, no parser (only
PostgreSQL; `Search.tsquery` reads it)."""

SEARCH_EXPRESSION = "array_to_tsvector(string_to_array({alias}words, ' '))"
"""The indexed expression of `_POSTGRES_SEARCH_DDL`, for the queries."""


class SQLiteViewRecorder(SQLiteTrackingRecorder):
    """eventsourcing's SQLite tracking recorder, with the views' tables beside its own."""

    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            *(s.format(p="") for s in (*_DDL, *STEP_DDL, *_SQLITE_SEARCH_DDL)),
        ]


def postgres_view_recorder(datastore: Any, tracking_table_name: str) -> Any:
    """eventsourcing's PostgreSQL tracking recorder, with the views' tables beside its own
    (imported only for a PostgreSQL store: psycopg is slow to import)."""
    from eventsourcing.postgres import PostgresTrackingRecorder
    from psycopg.sql import SQL

    class PostgresViewRecorder(PostgresTrackingRecorder):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            prefix = f'"{self.datastore.schema}".'
            statements: list[Any] = [
                SQL(s.format(p=prefix)) for s in (*_DDL, *STEP_DDL, *_POSTGRES_SEARCH_DDL)
            ]
            self.sql_create_statements.extend(statements)

    return PostgresViewRecorder(datastore=datastore, tracking_table_name=tracking_table_name)


@dataclass(frozen=True)
class Difference:
    """A view row that does not equal the fresh fold of the events."""

    table: str
    key: tuple[Any, ...]
    problem: str

    def __str__(self) -> str:
        shown = ", ".join(str(k) for k in self.key)
        if self.table == "log":  # not a view row: the events themselves
            return f"negotiation '{self.key[0]}', statement '{self.key[1]}': {self.problem}"
        return f"view {self.table}, row ({shown}): {self.problem}"


class ViewStore:
    """The views of one `PositionsApplication`'s store (SQLite or PostgreSQL)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        datastore = app.factory.datastore
        self.postgres = app.location.is_postgres
        self._locate(app, datastore)
        self.recorder = self._recorder(datastore)
        self.steps = StepStore(self)
        self.read_only = False
        """Whether the views' tables could not be created or changed here (a read-only role
        or file): queries then answer from the views as they are."""
        try:
            if app.location.read_only:  # opened read-only: nothing may be created here
                raise PersistenceError("the store is opened read-only")
            self.recorder.create_table()
        except IntegrityError:
            # another process created the tracking table at the same moment (on SQLite, where
            # no lock serialises first opens): it exists now, so a second attempt only checks
            self.recorder = self._recorder(datastore)
            self.recorder.create_table()
        except PersistenceError:
            if not self._tables_exist():
                raise
            self.read_only = True  # the tables exist; this role may only read them
        if not self.read_only:
            self._upgrade()
        elif self._rules_version() != RULES_VERSION:
            raise StoreError(
                "the views of this store were made by an earlier version of positions's rules; "
                "open it once where it may be written (any command remakes them), or run "
                "positions rebuild there"
            )
        mapper = app.mapper
        plain = mapper.cipher is None and mapper.compressor is None
        self.bulk_run = BULK_RUN if plain else 0
        """The fewest consecutive statement events folded in SQL (`_fold_statements`), 0 for
        none: where the stored states are plain JSON (neither encrypted nor compressed)."""
        self.folded_in_sql = 0
        """How many statement events this store's catch-ups folded in SQL."""

    def _recorder(self, datastore: Any) -> Any:
        if self.postgres:
            return postgres_view_recorder(datastore, "positions_tracking")
        return SQLiteViewRecorder(datastore=datastore)

    def _locate(self, app: Any, datastore: Any) -> None:
        if self.postgres:
            self.prefix = f'"{datastore.schema}".'
            self.events_table = f"{self.prefix}{app.recorder.events_table_name}"
            self.event_key = "notification_id"
        else:
            self.prefix = ""
            self.events_table = app.recorder.events_table_name
            self.event_key = "rowid"

    def _upgrade(self) -> None:
        """Views made by an earlier version, whose statement rows copied each statement's
        document (an ``original`` column) or had no ``speaker`` column, are emptied and their
        statement table made anew: the next catch-up folds every event again (the views are
        derived data; the events are untouched). An index an earlier version made and no
        query uses any more is dropped (every write kept it)."""
        with self.recorder.datastore.transaction(commit=False) as cursor:
            retired = self._indexes(cursor) & set(RETIRED_INDEXES)
            outdated = _outdated(self._statement_columns(cursor))
        if retired:
            with self._transaction() as cursor:
                for name in sorted(retired):
                    cursor.execute(self._sql(f"DROP INDEX IF EXISTS {{p}}{name}"))
        if self._rules_version() != RULES_VERSION:
            self._remake_steps()
        if not outdated:
            return
        with self._transaction() as cursor:
            if not _outdated(self._statement_columns(cursor)):
                return  # another process upgraded them first
            cursor.execute(self._sql("DROP TABLE {p}positions_view_statements"))
            table = next(s for s in _DDL if "TABLE IF NOT EXISTS {p}positions_view_statements" in s)
            cursor.execute(self._sql(table))
            self._empty(cursor)

    def _rules_version(self) -> int | None:
        """The `steps.RULES_VERSION` the step tables were made under (None: not known, as in
        views made before the version was kept)."""
        try:
            with self.recorder.datastore.transaction(commit=False) as cursor:
                return self._version(cursor)
        except PersistenceError:  # views made before versions were kept have no such table
            return None

    def _version(self, cursor: Any) -> int | None:
        cursor.execute(
            self._sql("SELECT version FROM {p}positions_view_versions WHERE name = %s"), ["steps"]
        )
        row = cursor.fetchone()
        return None if row is None else int(row["version"])

    def _remake_steps(self) -> None:
        """Step tables made under other rules are made anew and every view emptied, so that
        the next catch-up folds every event under these rules; the events are untouched.
        Views that have folded nothing yet (a new store's) are only marked with the version."""
        with self._transaction() as cursor:
            version = self._version(cursor)
            if version == RULES_VERSION:
                return  # another process remade them first
            made_now = (
                version is None
                and self._position(cursor) == 0
                and self._step_columns(cursor) == set(STEP_COLUMNS)
            )
            if not made_now:
                for table in STEP_TABLES:
                    cursor.execute(self._sql(f"DROP TABLE IF EXISTS {{p}}positions_view_{table}"))
                for statement in STEP_DDL:
                    cursor.execute(self._sql(statement))
                self._empty(cursor)
            cursor.execute(
                self._sql("DELETE FROM {p}positions_view_versions WHERE name = %s"), ["steps"]
            )
            cursor.execute(
                self._sql("INSERT INTO {p}positions_view_versions (name, version) VALUES (%s, %s)"),
                ["steps", RULES_VERSION],
            )

    def _indexes(self, cursor: Any) -> set[str]:
        """The names of the indexes of the views' step table."""
        return self._catalog(
            cursor,
            "SELECT indexname AS name FROM pg_indexes "
            "WHERE schemaname = %s AND tablename = 'positions_view_steps'",
            "PRAGMA index_list(positions_view_steps)",
        )

    def _step_columns(self, cursor: Any) -> set[str]:
        return self._columns(cursor, "positions_view_steps")

    def _statement_columns(self, cursor: Any) -> set[str]:
        return self._columns(cursor, "positions_view_statements")

    def _columns(self, cursor: Any, table: str) -> set[str]:
        """The names of the columns of one of the views' tables."""
        return self._catalog(
            cursor,
            "SELECT column_name AS name FROM information_schema.columns "
            f"WHERE table_schema = %s AND table_name = '{table}'",
            f"PRAGMA table_info({table})",
        )

    def _catalog(self, cursor: Any, postgres: str, sqlite: str) -> set[str]:
        """The ``name`` column of a catalog query: ``postgres`` (given the store's schema)
        on PostgreSQL, the ``sqlite`` pragma on SQLite."""
        if self.postgres:
            cursor.execute(self._sql(postgres), [self.app.factory.datastore.schema])
        else:
            cursor.execute(sqlite)
        return {row["name"] for row in cursor.fetchall()}

    # -- SQL

    def _sql(self, text: str) -> Any:
        text = text.replace("{p}", self.prefix)
        if self.postgres:
            from psycopg.sql import SQL

            return SQL(text)
        return text.replace("%s", "?")

    @contextmanager
    def _transaction(self) -> Iterator[Any]:
        """A write transaction holding the views' lock."""
        with self.recorder.datastore.transaction(commit=True) as cursor:
            if self.postgres:
                cursor.execute("SET LOCAL lock_timeout = '60s'")
                cursor.execute(
                    self._sql("SELECT pg_advisory_xact_lock(hashtext(%s))"),
                    [f"{VIEWS_NAME}:{self.prefix}"],
                )
            else:
                cursor.execute("INSERT OR REPLACE INTO positions_view_lock (id) VALUES (1)")
            yield cursor

    def _rows(
        self, cursor: Any, table: str, where: str = "", params: Sequence[Any] = ()
    ) -> list[Any]:
        cls, key = _TABLES[table]
        names = _columns(cls)
        order = ", ".join(key)
        cursor.execute(
            self._sql(
                f"SELECT {', '.join(names)} FROM {{p}}positions_view_{table} {where} "
                f"ORDER BY {order}"
            ),
            list(params),
        )
        found = cursor.fetchall()
        return [cls(*_values(cls, row, names)) for row in found]

    # -- catching up

    def is_current(self) -> bool:
        """Whether the views have processed every committed event (read without a lock)."""
        with self.recorder.datastore.transaction(commit=False) as cursor:
            cursor.execute(
                self._sql(f"SELECT max({self.event_key}) AS last FROM {self.events_table}")
            )
            row = cursor.fetchone()
            last = int(row["last"] or 0) if row is not None else 0
            return self._position(cursor) >= last and self.steps.position(cursor) >= last

    def behind(self) -> int:
        """How many events the views (or the step tables) have not processed yet."""
        with self.recorder.datastore.transaction(commit=False) as cursor:
            position = min(self._position(cursor), self.steps.position(cursor))
            cursor.execute(
                self._sql(
                    f"SELECT count(*) AS n FROM {self.events_table} WHERE {self.event_key} > %s"
                ),
                [position],
            )
            row = cursor.fetchone()
            return int(row["n"]) if row is not None else 0

    def _tables_exist(self) -> bool:
        try:
            with self.recorder.datastore.transaction(commit=False) as cursor:
                for table in ("statements", "steps", "stances", "verdicts"):
                    cursor.execute(self._sql(f"SELECT 1 FROM {{p}}positions_view_{table} LIMIT 1"))
                    cursor.fetchall()
        except PersistenceError:
            return False
        return True

    def _position(self, cursor: Any) -> int:
        """The last notification the views processed (0 before the first)."""
        return tracked_position(self.recorder, VIEWS_NAME, cursor)

    def catch_up(self, page: int = PAGE) -> int:
        """Fold and write the events after the views' position, a page per transaction; the
        number of events read. On PostgreSQL, a catch-up that read many events for the
        record it had (`analyzed_after`) has the tables analyzed at once (`analyze`)."""
        if self.is_current():
            return 0  # nothing new: no write lock, so readers never wait for a writer
        with self.recorder.datastore.transaction(commit=False) as cursor:
            before = self._position(cursor)
        processed = self._catch_up_tables(page)
        with self._transaction() as cursor:
            self.steps.catch_up(cursor, self._position(cursor))
        if self.postgres and analyzed_after(before, processed):
            self.analyze()
        return processed

    def analyze(self) -> bool:
        """PostgreSQL's statistics of the events table and of every view table gathered anew
        (``ANALYZE``), in a transaction of its own, so that the planner knows what a large
        import wrote before anything reads it (the server's autovacuum may be off, and runs
        a minute later at best; without statistics it reads a whole table for one group).
        False, and nothing changed, where the role may not analyze them (they are another
        role's): the statistics are an aid, never a condition of a write."""
        tables = [self.events_table, *(f"{self.prefix}positions_view_{t}" for t in _TABLES)]
        tables += [f"{self.prefix}positions_view_{t}" for t in STEP_TABLES]
        try:
            with self.recorder.datastore.transaction(commit=True) as cursor:
                for table in tables:
                    cursor.execute(f"ANALYZE {table}")
        except PersistenceError:
            return False
        return True

    def _catch_up_tables(self, page: int) -> int:
        """`catch_up` of every table but the step tables (which follow in their own
        transaction, from the rows these give)."""
        processed = 0
        while True:
            with self._transaction() as cursor:
                last = self._position(cursor)
                topics = self._topics(cursor, last, page)
                if not topics:
                    return processed
                streams = {row.stream: row for row in self._rows(cursor, "streams")}
                changes = ViewChanges.start(streams, lambda key: self._statement(cursor, key))
                for bulk, after, upto, count in _runs(topics, last, self.bulk_run):
                    if bulk:
                        self._write(cursor, changes)  # the rows the statements' SQL reads
                        changes = ViewChanges.start(changes.streams, changes.lookup)
                        if self._fold_statements(cursor, after, upto) == count:
                            self.folded_in_sql += count
                            continue
                        # an event not of a party's stream, or a run the database refused: the
                        # Python fold decides (it writes the same rows for the others)
                    for row in self._log(cursor, after, upto):
                        self._apply(changes, row)
                self._write(cursor, changes)
                self.recorder._insert_tracking(cursor, Tracking(VIEWS_NAME, topics[-1][0]))
            processed += len(topics)
            if len(topics) < page:
                return processed

    def _topics(self, cursor: Any, after: int, limit: int) -> list[tuple[int, bool]]:
        """The notification id of each of the next events of the log, and whether it is a
        statement event."""
        query = self._sql(
            f"SELECT {self.event_key}, topic IN (%s, %s, %s) FROM {self.events_table} "
            f"WHERE {self.event_key} > %s ORDER BY {self.event_key} LIMIT %s"
        )
        found = self._tuples(cursor, query, [*sorted(STATEMENT_TOPICS), after, limit])
        return [(int(key), bool(statement)) for key, statement in found]

    def _fold_statements(self, cursor: Any, after: int, upto: int) -> int:
        """Fold a run of statement events (notification ids ``after`` < id <= ``upto``) in the
        database itself: `StatementRow.of_document` written as SQL over the stored JSON
        (`_FOLD_STATEMENTS` on SQLite, `_FOLD_STATEMENTS_PG` on PostgreSQL); the number of
        events folded (those of the parties' streams), or -1 if the database refused the run
        (its statement is undone, and the Python fold names the event that is not what the tool
        writes; PostgreSQL also refuses a run that records one statement twice)."""
        topics = sorted(STATEMENT_TOPICS)
        if self.postgres:
            cursor.execute("SAVEPOINT positions_fold")
            try:
                cursor.execute(
                    self._sql(_TEXTS_PG.format(events=self.events_table)),
                    [after, upto, *topics],
                )
                texts = cursor.fetchall()
                cursor.execute(
                    self._sql(_FOLD_STATEMENTS_PG.format(events=self.events_table)),
                    [
                        after,
                        upto,
                        *topics,
                        [row["notification_id"] for row in texts],
                        [words(r["quote"], r["quote_original"], r["notes"]) for r in texts],
                    ],
                )
            except Exception:  # psycopg's error for a refused statement: the run goes to Python
                cursor.execute("ROLLBACK TO SAVEPOINT positions_fold")
                return -1
            folded = int(cursor.rowcount)
            cursor.execute("RELEASE SAVEPOINT positions_fold")
            return folded
        raw = cursor.sqlite_cursor
        try:
            raw.execute(_RUN_DDL)
            raw.execute(f"DELETE FROM temp.{_RUN}")
            raw.execute(_READ_RUN, [after, upto, *topics])
            read = raw.execute(
                f"SELECT notification_id, ts, quote, quote_original, notes FROM temp.{_RUN}"
            ).fetchall()
            try:
                made = [
                    (stamp_json(ts), words(quote, original, notes), key)
                    for key, ts, quote, original, notes in read
                ]
            except (TypeError, ValueError):  # not a recording time: the Python fold says so
                return -1
            raw.executemany(
                f"UPDATE temp.{_RUN} SET ts = ?, words = ? WHERE notification_id = ?", made
            )
            raw.execute(_FOLD_STATEMENTS)
        except sqlite3.Error:
            return -1
        return int(raw.rowcount)

    def rebuild(self) -> int:
        """Empty the views and fold every event again; the number of events read."""
        self.clear()
        return self.catch_up()

    def clear(self) -> None:
        """Empty the views and put their tracking back at the start of the log."""
        with self._transaction() as cursor:
            self._empty(cursor)

    def _empty(self, cursor: Any) -> None:
        if not self.postgres:  # the search index is made anew, not emptied row by row
            for name in ("searched", "unsearched", "researched"):
                cursor.execute(f"DROP TRIGGER IF EXISTS positions_view_statements_{name}")
            cursor.execute(f"DROP TABLE IF EXISTS {SEARCH_TABLE}")
        for table in _TABLES:
            cursor.execute(self._sql(f"DELETE FROM {{p}}positions_view_{table}"))
        if not self.postgres:
            for statement in _SQLITE_SEARCH_DDL:
                cursor.execute(statement)
        self.steps.clear(cursor)
        tracking = f"{self.prefix}{self._tracking_table()}"
        cursor.execute(
            self._sql(f"DELETE FROM {tracking} WHERE application_name IN (%s, %s)"),
            [VIEWS_NAME, STEPS_NAME],
        )

    def _tracking_table(self) -> str:
        return str(getattr(self.recorder, "tracking_table_name", "tracking"))

    def _log(self, cursor: Any, after: int, upto: int) -> list[LogRow]:
        """The rows of the notification log with ``after`` < notification id <= ``upto``,
        unsealed."""
        query = self._sql(
            f"SELECT {self.event_key}, originator_id, originator_version, topic, state "
            f"FROM {self.events_table} WHERE {self.event_key} > %s AND {self.event_key} <= %s "
            f"ORDER BY {self.event_key}"
        )
        mapper = self.app.mapper
        opened = mapper.cipher is not None or mapper.compressor is not None
        found: list[LogRow] = []
        append = found.append
        for notification_id, originator_id, version, topic, state in self._tuples(
            cursor, query, [after, upto]
        ):
            if isinstance(originator_id, UUID):
                originator_id = originator_id.hex
            if not isinstance(state, bytes | bytearray | memoryview):  # not as the tool stores it
                row = LogRow(notification_id, str(originator_id), version, str(topic), b"")
                problem = TypeError(f"its state is {type(state).__name__}, not bytes")
                raise self._unreadable(row, problem)
            state = bytes(state)
            if opened:
                state = mapper.open_state(state)
            append(LogRow(notification_id, originator_id, version, topic, unseal(state)[1]))
        return found

    def _tuples(self, cursor: Any, query: Any, params: list[Any]) -> list[tuple[Any, ...]]:
        """A query's rows as plain tuples (cheaper to make than the datastore's mapping rows)."""
        return [row for page in self._pages(cursor, query, params) for row in page]

    def decode(self, row: LogRow) -> DomainEvent:
        """The pydantic event of a log row; `StoreError` if it cannot be read."""
        try:
            event: DomainEvent = self.app.mapper.decode(
                row.topic, UUID(row.stream), row.version, row.payload
            )
        except Exception as exc:  # a row changed behind the tool's back
            raise self._unreadable(row, exc) from None
        return event

    def _apply(self, changes: ViewChanges, row: LogRow) -> None:
        """Fold one row; `StoreError` if its JSON is not what the tool writes."""
        try:
            changes.apply_row(row, self.decode)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise self._unreadable(row, exc) from None

    def _unreadable(self, row: LogRow, exc: BaseException) -> StoreError:
        return StoreError(
            f"cannot read event {row.notification_id} of store {self.app.location.display} "
            f"({_first_line(exc)}); run 'positions verify'"
        )

    def _statement(self, cursor: Any, key: StatementKey) -> StatementRow | None:
        """A stored statement row with its original document (read from its event)."""
        found = self._rows(
            cursor, "statements", "WHERE negotiation = %s AND statement_id = %s", key
        )
        if not found:
            return None
        row: StatementRow = found[0]
        cursor.execute(
            self._sql(f"SELECT state FROM {self.events_table} WHERE {self.event_key} = %s"),
            [row.notification_id],
        )
        event = cursor.fetchone()
        state = None if event is None else event["state"]
        row.original = self._document(row.statement_id, row.notification_id, state)
        return row

    def _document(self, statement_id: str, notification_id: int, state: Any) -> bytes:
        """The statement document inside the stored state of the event a view row names;
        `StoreError` if that event is missing or is not a statement event."""
        return self._statement_in(statement_id, notification_id, state, statement_document)

    def _fields(self, statement_id: str, notification_id: int, state: Any) -> dict[str, Any]:
        """`_document`, parsed: the statement's fields."""
        return self._statement_in(statement_id, notification_id, state, statement_fields)

    def _statement_in(
        self,
        statement_id: str,
        notification_id: int,
        state: Any,
        read: Callable[[bytes], Found],
    ) -> Found:
        try:
            if state is None:
                raise ValueError(f"its event {notification_id} is not in the store")
            return read(self._payload(state))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise StoreError(
                f"cannot read statement '{statement_id}' from the views of store "
                f"{self.app.location.display} ({_first_line(exc)}); run 'positions verify'"
            ) from None

    def _payload(self, state: Any) -> bytes:
        """An event's JSON payload from its stored state (decrypted, decompressed, unsealed)."""
        state = bytes(state)
        mapper = self.app.mapper
        if mapper.cipher is not None or mapper.compressor is not None:
            state = mapper.open_state(state)
        return unseal(state)[1]

    def _write(self, cursor: Any, changes: ViewChanges) -> None:
        self._insert(cursor, "streams", changes.new_streams)
        self._insert(cursor, "definitions", changes.definitions)
        self._insert(cursor, "statements", list(changes.statements.values()), upsert=True)
        self._insert(cursor, "corrections", changes.corrections)
        self._insert(cursor, "amendments", changes.amendments)

    def _insert(
        self, cursor: Any, table: str, rows: Sequence[Any], *, upsert: bool = False
    ) -> None:
        if not rows:
            return
        cls, key = _TABLES[table]
        names = _columns(cls)
        marks = ", ".join("%s" for _ in names)
        if upsert:
            sets = ", ".join(f"{n} = excluded.{n}" for n in names if n not in key)
            conflict = f"DO UPDATE SET {sets}"
        else:
            conflict = "DO NOTHING"
        values = attrgetter(*names)
        cursor.executemany(
            self._sql(
                f"INSERT INTO {{p}}positions_view_{table} ({', '.join(names)}) VALUES ({marks}) "
                f"ON CONFLICT ({', '.join(key)}) {conflict}"
            ),
            [values(row) for row in rows],
        )

    # -- reading

    def read_record(self, negotiation: str, known_at: datetime | None) -> NegotiationRecord | None:
        """A negotiation from the views, as known at ``known_at``; None if it is not recorded
        (or was not yet at ``known_at``)."""
        with self.recorder.datastore.transaction(commit=False) as cursor:
            definitions = self._rows(cursor, "definitions", "WHERE negotiation = %s", [negotiation])
            codebook = [row.event() for row in definitions]
            if not codebook or (known_at is not None and codebook[0].timestamp > known_at):
                return None
            ordered = self._statement_entries(cursor, negotiation)
            corrections = self._rows(cursor, "corrections", "WHERE negotiation = %s", [negotiation])
            amendments = self._rows(cursor, "amendments", "WHERE negotiation = %s", [negotiation])
        ordered.extend(
            (c.notification_id, (unstamp(c.recorded_at), c.correction())) for c in corrections
        )
        ordered.extend(
            (a.notification_id, (unstamp(a.recorded_at), a.amendment())) for a in amendments
        )
        ordered.sort(key=itemgetter(0))
        return NegotiationRecord.from_entries(codebook, (e for _, e in ordered), known_at)

    def _statement_entries(self, cursor: Any, negotiation: str) -> list[tuple[int, Entry]]:
        """Every statement of a negotiation as first recorded, with its
        recording time and notification id: each view row with the stored state of the event
        it names, read a page at a time (`views.fold.read_statement`: the documents are the tool's
        own, checked by `positions verify`); `StoreError` for a row that names no statement
        event or a document the tool did not write."""
        params: list[Any] = [negotiation]
        query = self._sql(
            "SELECT v.notification_id, v.recorded_at, e.state, v.statement_id "
            f"FROM {{p}}positions_view_statements v LEFT JOIN {self.events_table} e "
            f"ON e.{self.event_key} = v.notification_id WHERE v.negotiation = %s"
        )
        found: list[tuple[int, Entry]] = []
        append = found.append
        for page in self._pages(cursor, query, params):
            for notification_id, recorded_at, state, statement_id in page:
                document = self._document(statement_id, notification_id, state)
                try:
                    statement = read_statement(document)
                except (ValueError, KeyError, TypeError, AttributeError) as exc:
                    raise StoreError(
                        f"cannot read statement '{statement_id}' from the views of store "
                        f"{self.app.location.display} ({_first_line(exc)}); "
                        "run 'positions verify'"
                    ) from None
                append((int(notification_id), (unstamp(recorded_at), statement)))
        return found

    def recorded_statements(self, negotiation: str) -> dict[str, Statement]:
        """Every statement of a negotiation as first recorded, by id (read through the
        views; `registered_statements` finds given ids through the registry)."""
        with self.recorder.datastore.transaction(commit=False) as cursor:
            entries = self._statement_entries(cursor, negotiation)
        return {s.id: s for _, (_, s) in entries if isinstance(s, Statement)}

    def registered_statements(self, negotiation: str, ids: Sequence[str]) -> dict[str, Statement]:
        """The statements of ``ids`` that a negotiation holds, by id, as first recorded: found
        through the registry (`positions.registry`) and read from the events table, never
        from the views, so that views which are missing, stale or edited cannot make an
        import record a statement again."""
        found: dict[str, Statement] = {}
        with self.recorder.datastore.transaction(commit=False) as cursor:
            for start in range(0, len(ids), LOOKUP):
                chunk = ids[start : start + LOOKUP]
                held: dict[str, list[tuple[int, str]]] = {}
                keys = [self._key(statement_key(negotiation, sid)) for sid in chunk]
                query = self._sql(
                    f"SELECT state FROM {self.events_table} WHERE originator_version = 1 "
                    f"AND originator_id IN ({', '.join('%s' for _ in keys)})"
                )
                for (state,) in self._tuples(cursor, query, keys):
                    entry = self._registration(state)
                    held.setdefault(entry["party"], []).append(
                        (entry["version"], entry["statement_id"])
                    )
                for party, versions in held.items():
                    wanted = dict(versions)
                    query = self._sql(
                        f"SELECT originator_version, state FROM {self.events_table} "
                        f"WHERE originator_id = %s AND originator_version IN "
                        f"({', '.join('%s' for _ in wanted)})"
                    )
                    params = [self._key(record_id(negotiation, party)), *wanted]
                    for version, state in self._tuples(cursor, query, params):
                        sid = wanted[int(version)]
                        try:
                            statement = read_statement(self._document(sid, int(version), state))
                        except ValueError:
                            continue  # not the statement it should be: said below
                        if statement.id == sid:
                            found[sid] = statement
                    for version, sid in versions:
                        if sid not in found:
                            raise StoreError(
                                f"statement '{sid}' of negotiation '{negotiation}' is registered "
                                f"at party '{party}' version {version}, which does not hold it "
                                f"(store {self.app.location.display} was changed behind the "
                                "tool's back); run 'positions verify'"
                            )
        return found

    def held_events(self, negotiation: str, parties: Sequence[str]) -> list[HeldEvent]:
        """What a negotiation's party records hold, read from the events table in the order
        it was stored: each statement event's statement id and each correction (to register
        a store an earlier version made, `positions.registry.backfill`)."""
        topics = sorted(STATEMENT_TOPICS | {get_topic(CodingCorrected), _AMENDED})
        streams = {self._key(record_id(negotiation, party)): party for party in parties}
        if not streams:
            return []
        query = self._sql(
            f"SELECT originator_id, originator_version, topic, state FROM {self.events_table} "
            f"WHERE originator_id IN ({', '.join('%s' for _ in streams)}) "
            f"AND topic IN ({', '.join('%s' for _ in topics)}) ORDER BY {self.event_key}"
        )
        held: list[HeldEvent] = []
        with self.recorder.datastore.transaction(commit=False) as cursor:
            for page in self._pages(cursor, query, [*streams, *topics]):
                for stream, version, topic, state in page:
                    party = streams[stream]
                    payload = self._payload(state)
                    try:
                        if topic in STATEMENT_TOPICS:
                            sid = orjson.loads(statement_document(payload))["id"]
                            held.append(HeldEvent(party, int(version), sid))
                        elif topic == _AMENDED:
                            amendment = Amendment.model_validate(orjson.loads(payload)["amendment"])
                            held.append(
                                HeldEvent(party, int(version), amendment.statement, amendment)
                            )
                        else:
                            correction = Correction.model_validate(
                                orjson.loads(payload)["correction"]
                            )
                            held.append(
                                HeldEvent(party, int(version), correction.statement, correction)
                            )
                    except (ValueError, KeyError, TypeError) as exc:
                        raise StoreError(
                            f"cannot read version {version} of party '{party}' of negotiation "
                            f"'{negotiation}' in store {self.app.location.display} "
                            f"({_first_line(exc)}); run 'positions verify'"
                        ) from None
        return held

    def _key(self, stream: UUID) -> Any:
        """A stream id as the events table holds it."""
        return stream if self.postgres else stream.hex

    def _registration(self, state: Any) -> dict[str, Any]:
        try:
            entry = orjson.loads(self._payload(state))
            if (
                not isinstance(entry, dict)
                or not {"party", "version", "statement_id"} <= entry.keys()
            ):
                raise ValueError("not a registration")
            return entry
        except ValueError as exc:
            raise StoreError(
                f"cannot read the registry of store {self.app.location.display} "
                f"({_first_line(exc)}); run 'positions verify'"
            ) from None

    def corrections_of(self, negotiation: str) -> list[Correction]:
        """Every correction of a negotiation, in the order they were recorded."""
        with self.recorder.datastore.transaction(commit=False) as cursor:
            rows = self._rows(cursor, "corrections", "WHERE negotiation = %s", [negotiation])
        return [row.correction() for row in rows]

    def amendments_of(self, negotiation: str) -> list[Amendment]:
        """Every amendment of a negotiation, in the order they were recorded."""
        with self.recorder.datastore.transaction(commit=False) as cursor:
            rows = self._rows(cursor, "amendments", "WHERE negotiation = %s", [negotiation])
        return [row.amendment() for row in rows]

    def stream_versions(self, streams: Sequence[UUID]) -> dict[UUID, int]:
        """The version of each of ``streams`` that holds events (read from the events table,
        not the views: what a save's version check compares with)."""
        if not streams:
            return {}
        keys: list[Any] = list(streams) if self.postgres else [s.hex for s in streams]
        # each stream's latest version found by one seek of the events' primary key (a
        # GROUP BY over the streams would read every event of each, a party's being most)
        query = self._sql(
            f"WITH wanted(stream) AS (VALUES {', '.join('(%s)' for _ in keys)}) "
            "SELECT stream, (SELECT max(originator_version) FROM "
            f"{self.events_table} WHERE originator_id = stream) AS version FROM wanted"
        )
        with self.recorder.datastore.transaction(commit=False) as cursor:
            found = self._tuples(cursor, query, keys)
        return {
            stream if isinstance(stream, UUID) else UUID(stream): int(version)
            for stream, version in found
            if version is not None
        }

    def _pages(
        self, cursor: Any, query: Any, params: list[Any], size: int = PAGE
    ) -> Iterator[list[tuple[Any, ...]]]:
        """A query's rows as plain tuples, a page at a time (a page's rows are dropped once
        read, so a large negotiation never has all its stored documents in memory at once)."""
        raw = getattr(cursor, "sqlite_cursor", None)
        if raw is None:  # PostgreSQL: psycopg's dict rows
            cursor.execute(query, params)
            while page := cursor.fetchmany(size):
                yield [tuple(row.values()) for row in page]
            return
        factory = raw.row_factory
        raw.row_factory = None
        try:
            raw.execute(query, params)
            while page := raw.fetchmany(size):
                yield page
        finally:
            raw.row_factory = factory

    def folded(self, negotiation: str) -> int:
        """How many events of a negotiation's party records the views hold a row for: its
        statement, correction and amendment rows (every other event of a party record is the
        record's opening)."""
        with self.recorder.datastore.transaction(commit=False) as cursor:
            total = 0
            for table in ("statements", "corrections", "amendments"):
                found = self._tuples(
                    cursor,
                    self._sql(
                        f"SELECT count(*) FROM {{p}}positions_view_{table} WHERE negotiation = %s"
                    ),
                    [negotiation],
                )
                total += int(found[0][0])
            return total

    def statements(self) -> list[StatementRow]:
        """Every row of the flat statement table."""
        with self.recorder.datastore.transaction(commit=False) as cursor:
            return self._rows(cursor, "statements")

    # -- checking

    def differences(self, rows: Sequence[LogRow]) -> list[Difference]:
        """How the stored views differ from a fresh fold of the log's ``rows`` (every row, in
        order)."""
        expected = ViewChanges.start()
        first: dict[StatementKey, int] = {}
        twice: list[Difference] = []
        for row in rows:
            self._apply(expected, row)
            home = expected.streams.get(row.stream)
            if row.topic in STATEMENT_TOPICS and home is not None and home.party is not None:
                key = (home.negotiation, str(statement_fields(row.payload)["id"]))
                if key in first:  # the immutable log holds one statement twice
                    twice.append(
                        Difference(
                            "log",
                            key,
                            f"recorded twice, by events {first[key]} and {row.notification_id}",
                        )
                    )
                first.setdefault(key, row.notification_id)
        wanted: dict[str, list[Any]] = {
            "streams": list(expected.streams.values()),
            "definitions": expected.definitions,
            "statements": list(expected.statements.values()),
            "corrections": expected.corrections,
            "amendments": expected.amendments,
        }
        found: list[Difference] = twice
        with self.recorder.datastore.transaction(commit=False) as cursor:
            position = self._position(cursor)
            last = rows[-1].notification_id if rows else 0
            if position != last:
                found.append(
                    Difference(
                        "tracking",
                        (VIEWS_NAME,),
                        f"processed up to notification {position}, the log ends at {last}",
                    )
                )
            for table, rows in wanted.items():
                found.extend(_compare(table, rows, self._rows(cursor, table)))
        return found

    def step_differences(self) -> list[Difference]:
        """How the stored step tables differ from folding every event again (the fresh fold
        is made in a transaction that is rolled back: nothing is written)."""
        with self.recorder.datastore.transaction(commit=False) as cursor:
            found = self.steps.differences(cursor)
        return [
            Difference(table, row[:2] if table == "steps" else row[:4], problem)
            for table, row, problem in found
        ]


class StatementSource:
    """A negotiation's recorded statements as first recorded, found by id through the registry
    when asked for and kept once read (`prefetch` reads many in a few queries); `every` reads
    them all from the views."""

    def __init__(self, views: ViewStore, negotiation: str) -> None:
        self.views = views
        self.negotiation = negotiation
        self.known: dict[str, Statement | None] = {}
        self.complete = False

    def prefetch(self, ids: Iterable[str]) -> None:
        wanted = [sid for sid in dict.fromkeys(ids) if sid not in self.known]
        if not wanted or self.complete:
            return
        found = self.views.registered_statements(self.negotiation, wanted)
        for sid in wanted:
            self.known[sid] = found.get(sid)

    def get(self, sid: str) -> Statement | None:
        if sid not in self.known and not self.complete:
            self.prefetch([sid])
        return self.known.get(sid)

    def every(self) -> Iterator[Statement]:
        if not self.complete:
            self.known = dict(self.views.recorded_statements(self.negotiation))
            self.complete = True
        return (s for s in self.known.values() if s is not None)


class RecordedStatements(MutableMapping[str, Statement]):
    """A party record's statements (`domain.PartyRecord`) read from the views as they are
    asked for: a statement belongs to the party that first recorded it, whose stream holds
    it. What a planner adds is kept here, over what is recorded."""

    def __init__(self, source: StatementSource, party: str) -> None:
        self.source = source
        self.party = party
        self.added: dict[str, Statement] = {}

    def __getitem__(self, sid: str) -> Statement:
        if sid in self.added:
            return self.added[sid]
        found = self.source.get(sid)
        if found is None or found.party != self.party:
            raise KeyError(sid)
        return found

    def __setitem__(self, sid: str, statement: Statement) -> None:
        self.added[sid] = statement

    def __delitem__(self, sid: str) -> None:
        del self.added[sid]

    def __iter__(self) -> Iterator[str]:
        recorded = (s.id for s in self.source.every() if s.party == self.party)
        yield from dict.fromkeys([*recorded, *self.added])

    def __len__(self) -> int:
        return sum(1 for _ in self)


def log_rows(rows: Iterable[StoredRow]) -> list[LogRow]:
    """The fold's rows of the log's stored rows (as `positions.store.integrity` reads them)."""
    return [
        LogRow(row.position, row.originator_id.hex, row.version, row.topic, unseal(row.state)[1])
        for row in rows
    ]


def _compare(table: str, wanted: list[Any], stored: list[Any]) -> list[Difference]:
    _, key_names = _TABLES[table]

    def key(row: Any) -> tuple[Any, ...]:
        return tuple(getattr(row, name) for name in key_names)

    want = {key(row): row for row in wanted}
    have = {key(row): row for row in stored}
    found: list[Difference] = []
    for k in sorted(want.keys() - have.keys(), key=str):
        found.append(Difference(table, k, "missing (the events have it)"))
    for k in sorted(have.keys() - want.keys(), key=str):
        found.append(Difference(table, k, "not in the events"))
    for k in sorted(want.keys() & have.keys(), key=str):
        if want[k] != have[k]:
            columns = [
                f.name
                for f in fields(want[k])
                if f.compare and getattr(want[k], f.name) != getattr(have[k], f.name)
            ]
            found.append(Difference(table, k, f"differs from the events in {', '.join(columns)}"))
    return found


RETIRED_INDEXES = (
    "positions_view_steps_day",
    "positions_view_steps_ended",
    "positions_view_steps_verdict_ended",
)
"""Indexes of the step table that earlier versions made and no query uses any more (the order
key's index, ``positions_view_steps_order``, answers by day; the indexes of ended steps now
hold the order key too, ``..._ended_from``, so that the steps of a group made before a day and
ended after it are found in the index alone)."""


def analyzed_after(before: int, read: int) -> bool:
    """Whether a catch-up that read ``read`` events after the ``before`` first ones changed
    the tables enough for their statistics to be gathered anew: PostgreSQL's own rule for
    autovacuum's analyze, with its default settings (50 rows and a tenth of the table), on
    the events as the measure of every view table."""
    return read > ANALYZE_THRESHOLD + ANALYZE_SCALE * before


ANALYZE_THRESHOLD = 50
ANALYZE_SCALE = 0.1
"""PostgreSQL's defaults for ``autovacuum_analyze_threshold`` and ``..._scale_factor``."""

BULK_RUN = 8
"""The fewest consecutive statement events folded in SQL rather than in Python (one SQL
statement costs about what the Python fold of two or three events does)."""

_STATEMENT_FIELDS = ("id", "party", "retracts", "clarifies", "about")
_CODING_FIELDS = ("issue", "position", "verdict", "proposal")
_FIELDS = {
    "ts": "timestamp",
    **{name: f"statement.{name}" for name in (*_STATEMENT_FIELDS, *_CODING_FIELDS)},
    "day": "statement.on.day",
    "before": "statement.on.before",
    "at": "statement.on.time",
    "hypothetical": "statement.hypothetical",
    "speaker": "statement.speaker",
    "quote": "statement.quote",
    "salience": "statement.salience",
}
"""The fields the SQL fold reads from a statement event's stored JSON, by column alias."""

_EXTRACTS = ",\n        ".join(
    f"json_extract(e.state, '$.event.{path}') AS {alias}" for alias, path in _FIELDS.items()
)

_RUN = "positions_fold_run"
_RUN_DDL = (
    f"CREATE TEMP TABLE IF NOT EXISTS {_RUN} (notification_id INTEGER PRIMARY KEY, stream, "
    f"{', '.join(_FIELDS)}, quote_original, notes, words)"
)
"""The run `_FOLD_STATEMENTS` folds, as read from the stored JSON (`_READ_RUN`: one parse per
event), with the words ``--search`` looks in (`positions.search.words`) and the recording
time as the views write it (`views.fold.stamp_json`) made in Python and written back; a table
of the connection alone, emptied before each run. Neither is made by a Python function
called from SQL: an interrupt (Ctrl-C) raised in such a function is swallowed by the database
driver, and the fold would go on."""

_READ_RUN = f"""
INSERT INTO temp.{_RUN} (notification_id, stream, {", ".join(_FIELDS)}, quote_original, notes)
SELECT e.rowid, e.originator_id, {_EXTRACTS},
    json_extract(e.state, '$.event.statement.quote_original'),
    json_extract(e.state, '$.event.statement.notes')
FROM stored_events e
WHERE e.rowid > ? AND e.rowid <= ? AND e.topic IN (?, ?, ?)
"""

_FOLD_STATEMENTS = f"""
INSERT INTO positions_view_statements ({", ".join(STATEMENT_COLUMNS)})
SELECT s.negotiation, j.id, j.party,
    CASE WHEN j.retracts IS NOT NULL THEN 'retraction'
        WHEN j.clarifies IS NOT NULL THEN 'clarification'
        WHEN j.about IS NOT NULL THEN 'claim' ELSE 'position' END,
    j.issue, j.position, j.verdict, j.proposal,
    CASE WHEN j.before IS NOT NULL THEN 'before ' || j.before
        WHEN j.at IS NULL THEN j.day ELSE j.day || 'T' || j.at END,
    j.day, j.hypothetical,
    j.ts, j.notification_id, 0, NULL, j.speaker, j.quote, j.words, j.salience
FROM (SELECT * FROM temp.{_RUN} ORDER BY notification_id) j
JOIN positions_view_streams s ON s.stream = j.stream AND s.party IS NOT NULL
WHERE true
ON CONFLICT (negotiation, statement_id) DO UPDATE SET
    {", ".join(f"{n} = excluded.{n}" for n in STATEMENT_COLUMNS[2:])}
"""
"""`StatementRow.of_document` as SQL: the statement rows of a run of statement events of
the parties' streams, read from the stored JSON by SQLite's JSON functions (`_READ_RUN`),
a later event of the same statement replacing the earlier one as the fold's dictionary
does. A statement event of a stream that is not a party's gives no row here (the run is then
folded again in Python, which decides what it counts for). `positions verify` compares the
rows with the Python fold."""


_FOLD_STATEMENTS_PG = f"""
INSERT INTO {{{{p}}}}positions_view_statements ({", ".join(STATEMENT_COLUMNS)})
SELECT s.negotiation, j.d ->> 'id', j.d ->> 'party',
    CASE WHEN j.d ->> 'retracts' IS NOT NULL THEN 'retraction'
        WHEN j.d ->> 'clarifies' IS NOT NULL THEN 'clarification'
        WHEN j.d ->> 'about' IS NOT NULL THEN 'claim' ELSE 'position' END,
    j.d ->> 'issue', j.d ->> 'position', j.d ->> 'verdict', j.d ->> 'proposal',
    CASE WHEN j.d -> 'on' ->> 'before' IS NOT NULL THEN 'before ' || (j.d -> 'on' ->> 'before')
        WHEN j.d -> 'on' ->> 'time' IS NULL THEN j.d -> 'on' ->> 'day'
        ELSE (j.d -> 'on' ->> 'day') || 'T' || (j.d -> 'on' ->> 'time') END,
    j.d -> 'on' ->> 'day', (j.d ->> 'hypothetical')::boolean,
    CASE WHEN length(j.ts) = 27 AND substr(j.ts, 20, 1) = '.' AND substr(j.ts, 27) = 'Z'
        THEN j.ts
        ELSE to_char(j.ts::timestamptz AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') END,
    j.notification_id, 0, NULL, j.d ->> 'speaker', j.d ->> 'quote', w.words,
    (j.d ->> 'salience')::double precision
FROM (
    SELECT e.notification_id, replace(e.originator_id::text, '-', '') AS stream,
        x.event -> 'statement' AS d, x.event ->> 'timestamp' AS ts
    FROM {{events}} e
    CROSS JOIN LATERAL (SELECT convert_from(e.state, 'UTF8')::jsonb -> 'event' AS event) x
    WHERE e.notification_id > %s AND e.notification_id <= %s AND e.topic IN (%s, %s, %s)
    ORDER BY e.notification_id
) j
JOIN {{{{p}}}}positions_view_streams s ON s.stream = j.stream AND s.party IS NOT NULL
JOIN unnest(%s::bigint[], %s::text[]) AS w (notification_id, words)
    ON w.notification_id = j.notification_id
ON CONFLICT (negotiation, statement_id) DO UPDATE SET
    {", ".join(f"{n} = excluded.{n}" for n in STATEMENT_COLUMNS[2:])}
"""
"""`_FOLD_STATEMENTS` for PostgreSQL, over ``jsonb`` (``{events}``: the events table). The
words ``--search`` looks in come from Python (`positions.search.words`, which PostgreSQL cannot
call), as two arrays joined by notification id (`_TEXTS_PG` reads the texts they are made of)."""

_TEXTS_PG = """
SELECT e.notification_id, x.d ->> 'quote' AS quote, x.d ->> 'quote_original' AS quote_original,
    x.d ->> 'notes' AS notes
FROM {events} e
CROSS JOIN LATERAL (
    SELECT convert_from(e.state, 'UTF8')::jsonb -> 'event' -> 'statement' AS d
) x
WHERE e.notification_id > %s AND e.notification_id <= %s AND e.topic IN (%s, %s, %s)
"""
"""The texts of a run of statement events, for the words of `_FOLD_STATEMENTS_PG`."""


def _outdated(columns: set[str]) -> bool:
    """Whether a statement table with these columns was made by an earlier version (one
    with a column this one does not write, or without one it does)."""
    return columns != set(STATEMENT_COLUMNS)


def _runs(
    topics: Sequence[tuple[int, bool]], after: int, bulk_run: int
) -> Iterator[tuple[bool, int, int, int]]:
    """A page of the log, given as ``(notification id, is a statement event)`` after
    ``after``, cut into runs ``(in SQL, after, upto, events)`` that cover it in log order
    (the ids with after < id <= upto): each run of at least ``bulk_run`` (> 0) consecutive
    statement events for SQL, and everything between them for the Python fold."""
    plain = previous = after
    waiting = 0
    index, size = 0, len(topics)
    while index < size:
        if not (bulk_run and topics[index][1]):
            previous = topics[index][0]
            index += 1
            waiting += 1
            continue
        end = index
        while end < size and topics[end][1]:
            end += 1
        last = topics[end - 1][0]
        if end - index >= bulk_run:
            if waiting:
                yield False, plain, previous, waiting
            yield True, previous, last, end - index
            plain, waiting = last, 0
        else:
            waiting += end - index
        previous, index = last, end
    if waiting:
        yield False, plain, previous, waiting


def _columns(cls: type) -> list[str]:
    """The columns of a view's table, in the order of its row's fields."""
    if cls is StatementRow:
        return list(STATEMENT_COLUMNS)
    return [f.name for f in fields(cls)]


def _values(cls: type, row: Any, names: list[str]) -> list[Any]:
    values = [row[name] for name in names]
    if cls is StatementRow:
        index = names.index("hypothetical")
        values[index] = bool(values[index])
    return values


def _first_line(exc: BaseException) -> str:
    """What a row that cannot be read says: the missing key, or the first line of the error."""
    if isinstance(exc, KeyError):
        return f"its JSON has no {exc.args[0]!r}"
    return first_line(exc)
