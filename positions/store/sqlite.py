"""The SQLite events recorder: eventsourcing's, inserting a save's events in one ``executemany``.

eventsourcing 9.5.6's SQLite application recorder runs one ``INSERT`` per event to read each
event's rowid (its notification id) back. This recorder inserts them all with one
``executemany`` and then reads the largest rowid: inside the save's write transaction nobody
else inserts, and SQLite gives each new row the largest rowid plus one, so the save's events
hold the ids up to it, in order. `insert_chunks` inserts a large save chunk by chunk in its
one transaction. Everything else (the table, the transaction, conflicts raised
as `IntegrityError`) is the library's. Set through ``APPLICATION_RECORDER_TOPIC``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from eventsourcing.persistence import StoredEvent
from eventsourcing.sqlite import (
    SQLiteAggregateRecorder,
    SQLiteApplicationRecorder,
    SQLiteCursor,
)


class BulkSQLiteApplicationRecorder(SQLiteApplicationRecorder):
    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        if not stored_events:
            return []
        SQLiteAggregateRecorder._insert_events(self, c, stored_events, **kwargs)
        c.execute(self.select_max_notification_id_statement)
        last = int(c.fetchone()[0])
        return list(range(last - len(stored_events) + 1, last + 1))

    def insert_chunks(self, chunks: Iterable[Sequence[StoredEvent]]) -> None:
        """Insert chunks of stored events in one transaction (each chunk is made as the one
        before it is inserted: a large save never holds every stored event at once)."""
        with self.datastore.transaction(commit=True) as c:
            for chunk in chunks:
                self._insert_events(c, chunk)
