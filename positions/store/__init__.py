"""The event store: store URLs and the pydantic mapper (`persistence`), the hash chain that
seals each event (`integrity`), and the SQLite and PostgreSQL recorders (`sqlite`, `postgres`).
The only modules that touch eventsourcing's persistence API."""
