"""The PostgreSQL events recorder: eventsourcing's, with large saves that never stall.

eventsourcing 9.5.6 inserts all the events of one save as a single array parameter inside a
psycopg pipeline; with tens of thousands of events the client and the server then both wait for
each other (the server in ``ClientRead``, the client in ``Connection.wait``) and the import never
ends. This recorder keeps everything else of the library's (the table lock that keeps
notification ids in commit order, the NOTIFY, one transaction per save, conflicts raised as
`IntegrityError`) and sends the events in statements of `CHUNK` events each, outside pipeline
mode; `insert_chunks` does the same for a save made chunk by chunk. Imported only for a
PostgreSQL store (through ``APPLICATION_RECORDER_TOPIC``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresAggregateRecorder, PostgresApplicationRecorder

CHUNK = 1000
"""Events per INSERT statement."""


class ChunkedPostgresApplicationRecorder(PostgresApplicationRecorder):
    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int]:
        if not stored_events:
            return []
        return self.insert_chunks([stored_events], **kwargs)

    def insert_chunks(self, chunks: Iterable[Sequence[StoredEvent]], **kwargs: Any) -> list[int]:
        """Insert chunks of stored events in one transaction (each chunk is made as the one
        before it is inserted: a large save never holds every stored event at once); the
        notification ids, in order."""
        notification_ids: list[int] = []
        with (
            self.datastore.get_connection() as conn,
            conn.transaction(),
            conn.cursor() as curs,
        ):
            self._insert_events(curs, [], **kwargs)
            self._lock_table(curs)
            self._notify_channel(curs)
            for stored_events in chunks:
                for start in range(0, len(stored_events), CHUNK):
                    chunk = stored_events[start : start + CHUNK]
                    PostgresAggregateRecorder._insert_stored_events(self, curs, chunk)
                    notification_ids.extend(row["notification_id"] for row in curs.fetchall())
        return notification_ids
