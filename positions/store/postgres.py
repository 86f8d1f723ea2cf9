"""The PostgreSQL events recorder: eventsourcing's, with large saves that never stall.

eventsourcing 9.5.6 inserts all the events of one save as a single array parameter inside a
psycopg pipeline; with tens of thousands of events the client and the server then both wait for
each other (the server in ``ClientRead``, the client in ``Connection.wait``) and the import never
ends. This recorder keeps everything else of the library's (the table lock that keeps
notification ids in commit order, the NOTIFY, one transaction per save, conflicts raised as
`IntegrityError`) and sends each chunk of a save with ``COPY ... FROM STDIN (FORMAT BINARY)``,
outside pipeline mode, instead of eventsourcing's array of composite values (which psycopg
builds in Python, event by event). The notification ids are read back after each chunk: the
table lock keeps every other writer out until the transaction ends, so the chunk's rows are
the ones after the largest id before it, in the order they were copied. Imported only for a
PostgreSQL store (through ``APPLICATION_RECORDER_TOPIC``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from eventsourcing.persistence import ProgrammingError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg.sql import SQL, Identifier


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
        table = SQL("{schema}.{table}").format(
            schema=Identifier(self.datastore.schema), table=Identifier(self.events_table_name)
        )
        copy = SQL(
            "COPY {table} (originator_id, originator_version, topic, state) "
            "FROM STDIN (FORMAT BINARY)"
        ).format(table=table)
        after = SQL(
            "SELECT notification_id FROM {table} WHERE notification_id > %s "
            "ORDER BY notification_id"
        ).format(table=table)
        as_text = self.datastore.originator_id_type.lower() != "uuid"
        types = [self.datastore.originator_id_type, "int8", "text", "bytea"]
        with (
            self.datastore.get_connection() as conn,
            conn.transaction(),
            conn.cursor() as curs,
        ):
            self._insert_events(curs, [], **kwargs)
            self._lock_table(curs)
            self._notify_channel(curs)
            curs.execute(SQL("SELECT max(notification_id) AS last FROM {t}").format(t=table))
            found = curs.fetchone()
            last = int(found["last"] or 0) if found is not None else 0
            for stored_events in chunks:
                if not stored_events:
                    continue
                with curs.copy(copy) as rows:
                    rows.set_types(types)
                    for event in stored_events:
                        stream = str(event.originator_id) if as_text else event.originator_id
                        rows.write_row((stream, event.originator_version, event.topic, event.state))
                curs.execute(after, [last])
                ids = [int(row["notification_id"]) for row in curs.fetchall()]
                if len(ids) != len(stored_events):
                    raise ProgrammingError(
                        f"copied {len(stored_events)} events, found {len(ids)} new rows"
                    )
                notification_ids.extend(ids)
                last = ids[-1]
        return notification_ids
