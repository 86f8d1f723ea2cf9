"""How events are stored: the pydantic mapper, and store URLs turned into eventsourcing settings.

eventsourcing 9.5 has no pydantic support of its own; like its ``examples/aggregate7`` we carry a
small mapper. The stored state is the event's JSON without the stream metadata (originator id
and version), which the recorder keeps in its own columns, sealed in an envelope that chains it
to the previous event of its stream (see `positions.store.integrity`).

Store URLs:
- ``sqlite:///path/to/file.db`` — a file, created by the first import;
- ``memory://`` — in memory, gone when the process ends;
- ``postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?schema=NAME]`` — eventsourcing's
  PostgreSQL persistence (psycopg 3); the tables are ``positions_events`` in schema ``NAME``
  (default ``public``), which the first import creates. A password is better given through
  ``PGPASSWORD`` or ``~/.pgpass`` than in the URL; either way it is never shown.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import parse_qs, parse_qsl, unquote, urlsplit, urlunsplit
from uuid import UUID, uuid4

from eventsourcing.persistence import Mapper, StoredEvent
from eventsourcing.utils import get_topic
from pydantic import BaseModel

from positions.errors import StoreError, TamperedError, first_line
from positions.events import event_class
from positions.store.integrity import GENESIS, chain_digest, seal, unseal

if TYPE_CHECKING:
    import psycopg

DEFAULT_STORE = "sqlite:///positions.db"
STORE_ENV = "POSITIONS_STORE"
_METADATA = {"originator_id", "originator_version"}


class PydanticMapper(Mapper):  # type: ignore[type-arg]
    """Maps pydantic events to stored events and back, validating on the way in and out.

    Each stored event is sealed with its chain digest. The digest of the event before it comes
    from an earlier event of the same save (``heads``, cleared around every save) or, for the
    first event of a stream in a save, from the store through ``lookup``.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.heads: dict[UUID, tuple[int, str]] = {}
        self.lookup: Callable[[UUID, int], str | None] = lambda originator_id, version: None

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        model = cast(BaseModel, domain_event)
        originator_id: UUID = domain_event.originator_id
        version: int = domain_event.originator_version
        topic = get_topic(type(domain_event))
        payload = model.__pydantic_serializer__.to_json(model, exclude=_METADATA)
        digest = chain_digest(
            self._previous(originator_id, version), originator_id, version, topic, payload
        )
        self.heads[originator_id] = (version, digest)
        state = seal(digest, payload)
        if self.compressor:
            state = self.compressor.compress(state)
        if self.cipher:
            state = self.cipher.encrypt(state)
        return StoredEvent(
            originator_id=originator_id, originator_version=version, topic=topic, state=state
        )

    def _previous(self, originator_id: UUID, version: int) -> str:
        if version <= 1:
            return GENESIS
        head = self.heads.get(originator_id)
        if head is not None and head[0] == version - 1:
            return head[1]
        return self.lookup(originator_id, version - 1) or GENESIS

    def open_state(self, state: bytes) -> bytes:
        """A stored state decrypted and decompressed, still sealed."""
        if self.cipher:
            state = self.cipher.decrypt(state)
        if self.compressor:
            state = self.compressor.decompress(state)
        return state

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        """The pydantic event of a stored event; `TamperedError` (one line) for a row that
        does not read back: a state that is not the tool's JSON, a NULL, a version or id
        that is not one."""
        try:
            _, payload = unseal(self.open_state(stored_event.state))
            return self.decode(
                stored_event.topic,
                stored_event.originator_id,
                stored_event.originator_version,
                payload,
            )
        except TamperedError:
            raise
        except Exception as exc:  # any failure to read a row back: it was changed
            first = first_line(exc)
            raise TamperedError(
                f"version {stored_event.originator_version} of stream "
                f"{stored_event.originator_id} does not read back ({first}); "
                "run 'positions verify'"
            ) from None

    @staticmethod
    def decode(topic: str, originator_id: UUID | str, version: int, payload: bytes) -> Any:
        """The pydantic event of an unsealed payload, validated: its fields parsed (the
        standard library's parser, which keeps integers of any size), and the stream metadata,
        which the recorder keeps in its own columns, added to them."""
        cls = event_class(topic)
        fields = json.loads(payload)
        if not isinstance(fields, dict):
            raise ValueError("an event's payload is not a JSON object")
        fields["originator_id"] = originator_id
        fields["originator_version"] = version
        return cls.model_validate(fields)


def sqlite_name(path: Path) -> str:
    """The name SQLite opens a store file by: its path, or, where this process may not write
    the file or its folder (a store on read-only media, or another user's), a read-only URI
    that takes no lock (``immutable``: SQLite would otherwise need to write its shared-memory
    file beside it). A file with a write-ahead log still holding changes is opened read-only
    without ``immutable``, so that none is missed."""
    import os
    from urllib.parse import quote

    if not path.is_file() or (os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)):
        return str(path)
    log = path.with_name(path.name + "-wal")
    pending = log.exists() and log.stat().st_size > 0
    return f"file:{quote(str(path.resolve()))}?mode=ro" + ("" if pending else "&immutable=1")


@dataclass(frozen=True)
class StoreLocation:
    """A parsed store URL: what to tell eventsourcing, and how to name it to a user."""

    url: str
    env: dict[str, str]
    sqlite_path: Path | None = None

    @property
    def display(self) -> str:
        return redact(self.url)

    @property
    def is_memory(self) -> bool:
        return "mode=memory" in self.env.get("SQLITE_DBNAME", "")

    @property
    def read_only(self) -> bool:
        """Whether the store is a file opened read-only (`sqlite_name`)."""
        return "mode=ro" in self.env.get("SQLITE_DBNAME", "")

    @property
    def is_postgres(self) -> bool:
        return self.env.get("PERSISTENCE_MODULE") == "eventsourcing.postgres"

    def scrub(self, text: str) -> str:
        """``text`` (a library's message) with the URL's password, if any, replaced."""
        password = self.env.get("POSTGRES_PASSWORD", "")
        text = text.replace(self.url, self.display)
        return text.replace(password, "***") if password else text

    def exists(self) -> bool:
        """Whether the store exists (a file store that was never written does not, nor an
        empty file: SQLite would make one a database on opening it)."""
        path = self.sqlite_path
        return path is None or (path.exists() and (not path.is_file() or path.stat().st_size > 0))


def foreign_tables(path: Path | None) -> list[str]:
    """The tables of an SQLite file that holds tables but no events table: a database of
    something else, which the tool must not add its tables to (empty for a store, a new
    file, a PostgreSQL store, or a file SQLite cannot read, which opening then reports)."""
    if path is None or not path.is_file():
        return []
    try:
        with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as db:
            names = [
                str(name)
                for (name,) in db.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
                )
            ]
    except sqlite3.Error:
        return []
    return [] if not names or "stored_events" in names else names


_USER_INFO = re.compile(r"([^\s:/@?#]*):([^\s/@?#]+)@")
"""Anything shaped like ``user:password@``, wherever it stands in a URL, however malformed."""


def redact(url: str) -> str:
    """The URL as it may be shown: a password in its user info, the value of every query
    parameter but ``schema``, and any fragment replaced by ``***``; in an authority without
    ``@`` that is not ``host:port`` (a mistyped ``user:password@host``), everything after the
    first ``:``; and anything else shaped like ``user:password@`` (a URL missing a slash or
    its scheme, a user info in an SQLite or memory URL)."""
    shown = _redact(url)
    return _USER_INFO.sub(
        lambda m: f"{m.group(1)}:***@" if m.group(2) != "***" else m.group(), shown
    )


def _redact(url: str) -> str:
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<malformed store URL>"
    if parts.scheme in ("sqlite", "memory"):
        return url  # a path, which holds no secret (and may hold '?' or '#')
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        if ":" in userinfo:
            netloc = f"{userinfo.split(':', 1)[0]}:***@{host}"
    elif ":" in netloc and not (netloc.count(":") == 1 and netloc.rsplit(":", 1)[1].isdigit()):
        netloc = netloc.split(":", 1)[0] + ":***"
    query = "&".join(
        f"{name}={value if name == 'schema' else '***'}"
        for name, value in parse_qsl(parts.query, keep_blank_values=True)
    )
    if parts.query and not query:
        query = "***"
    fragment = "***" if parts.fragment else ""
    if (netloc, query, fragment) == (parts.netloc, parts.query, parts.fragment):
        return url  # nothing to hide (and urlunsplit would rewrite sqlite:/// as sqlite:/)
    return urlunsplit(parts._replace(netloc=netloc, query=query, fragment=fragment))


POSTGRES_TABLE = "positions_events"
_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def store_from_environment(url: str | None) -> str:
    return url or os.environ.get(STORE_ENV) or DEFAULT_STORE


SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
"""The start of a URL; a store given without one is a path to an SQLite file."""


def parse_store_url(url: str) -> StoreLocation:
    """Turn ``sqlite:///path`` (or a plain path), ``memory://`` or ``postgresql://…`` into
    eventsourcing settings."""
    if not SCHEME.match(url):
        # a plain path names an SQLite file, as sqlite:///PATH does (relative or absolute)
        return replace(parse_store_url(f"sqlite:///{url}"), url=url)
    shown = redact(url)
    if url == "memory://" or url == "memory:":
        # a database of its own in this process, shared by the pool's connections, gone when
        # the store is closed: the same tables, views and queries as a file
        return StoreLocation(
            url,
            {
                "PERSISTENCE_MODULE": "eventsourcing.sqlite",
                "SQLITE_DBNAME": f"file:positions-{uuid4().hex}?mode=memory&cache=shared",
                "APPLICATION_RECORDER_TOPIC": (
                    "positions.store.sqlite:BulkSQLiteApplicationRecorder"
                ),
            },
        )
    if url.startswith("sqlite://"):
        rest = url[len("sqlite://") :]
        if not rest.startswith("/") or rest == "/":
            raise StoreError(f"malformed store URL {shown!r}: expected sqlite:///path/to/file.db")
        if rest[1:] == ":memory:" or "mode=memory" in rest or rest[1:].startswith("file:"):
            raise StoreError(
                f"store URL {shown!r} names an in-memory or URI database, which would keep "
                "nothing: give a file path (sqlite:///path/to/file.db), or memory:// for a store "
                "that lasts one command"
            )
        path = Path(rest[1:])
        return StoreLocation(
            url,
            {
                "PERSISTENCE_MODULE": "eventsourcing.sqlite",
                "SQLITE_DBNAME": sqlite_name(path),
                "SQLITE_LOCK_TIMEOUT": "30",
                "APPLICATION_RECORDER_TOPIC": (
                    "positions.store.sqlite:BulkSQLiteApplicationRecorder"
                ),
            },
            sqlite_path=path,
        )
    if url.startswith(("postgresql://", "postgres://")):
        return _postgres(url, shown)
    raise StoreError(
        f"unknown store URL {shown!r}: use sqlite:///path/to/file.db, memory:// "
        "or postgresql://user@host:port/database"
    )


def _postgres(url: str, shown: str) -> StoreLocation:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise StoreError(f"malformed store URL {shown!r}") from None
    dbname = parts.path.lstrip("/")
    if not parts.hostname or not dbname:
        raise StoreError(
            f"malformed store URL {shown!r}: expected postgresql://user@host:port/database"
        )
    query = parse_qs(parts.query, keep_blank_values=True)
    unknown = sorted(set(query) - {"schema"})
    if unknown:
        raise StoreError(
            f"malformed store URL {shown!r}: unknown parameter {unknown[0]!r} (only 'schema')"
        )
    schema = query.get("schema", ["public"])[-1]
    if not _SCHEMA_NAME.match(schema):
        raise StoreError(
            f"malformed store URL {shown!r}: a schema name takes lower-case letters, digits "
            "and '_', starting with a letter or '_'"
        )
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": unquote(dbname),
        "POSTGRES_HOST": parts.hostname,
        "POSTGRES_PORT": str(port or 5432),
        "POSTGRES_USER": unquote(parts.username or "postgres"),
        "POSTGRES_PASSWORD": unquote(parts.password or ""),
        "POSTGRES_SCHEMA": schema,
        "POSTGRES_CONNECT_TIMEOUT": "10",
        "POSTGRES_LOCK_TIMEOUT": "60",
        "POSTGRES_POOL_SIZE": "1",
        "POSTGRES_MAX_OVERFLOW": "2",
        "APPLICATION_RECORDER_TOPIC": "positions.store.postgres:ChunkedPostgresApplicationRecorder",
    }
    return StoreLocation(url, env)


# ---------------------------------------------------------------------------------------------
# PostgreSQL: reach the server before eventsourcing does


def postgres_connect(location: StoreLocation) -> psycopg.Connection[Any]:
    """A direct connection to a PostgreSQL store's database; `StoreError` if it cannot be had."""
    import psycopg

    env = location.env
    try:
        return psycopg.connect(
            dbname=env["POSTGRES_DBNAME"],
            host=env["POSTGRES_HOST"],
            port=env["POSTGRES_PORT"],
            user=env["POSTGRES_USER"],
            password=env["POSTGRES_PASSWORD"] or None,
            connect_timeout=int(env["POSTGRES_CONNECT_TIMEOUT"]),
            autocommit=True,
        )
    except psycopg.Error as exc:
        raise StoreError(
            f"cannot open store {location.display}: {location.scrub(first_line(exc))}"
        ) from None


@contextmanager
def postgres_prepared(location: StoreLocation, *, create: bool) -> Iterator[None]:
    """Check a PostgreSQL store before eventsourcing opens it.

    An advisory lock is held while the tables (and the views' tables) are created, so that
    several first writers do not race to create them. To create: make the schema. Otherwise:
    the events table must exist.
    """
    import psycopg

    schema = location.env["POSTGRES_SCHEMA"]
    conn = postgres_connect(location)
    try:
        conn.execute("SELECT pg_advisory_lock(hashtext(%s))", [f"positions:{schema}"])
        if create:
            known = conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", [schema])
            if known.fetchone() is None:
                conn.execute(f'CREATE SCHEMA "{schema}"')
        else:
            found = conn.execute(
                "SELECT to_regclass(%s)", [f'"{schema}"."{POSTGRES_TABLE}"']
            ).fetchone()
            if found is None or found[0] is None:
                raise StoreError(
                    f"store {location.display} does not exist (import a scenario first)"
                )
        yield
    except psycopg.Error as exc:
        raise StoreError(
            f"cannot open store {location.display}: {location.scrub(first_line(exc))}"
        ) from None
    finally:
        conn.close()


def tracked_position(recorder: Any, name: str, cursor: Any) -> int:
    """The last notification id a tracking recorder holds for ``name`` (0 before the first),
    through the library's private reader; a tracking row changed to what is not a number
    is one line naming rebuild."""
    found = recorder._max_tracking_id(name, cursor)
    try:
        return int(found or 0)
    except (TypeError, ValueError):
        raise TamperedError(
            f"the views' tracking row of {name} does not read back ({found!r} is not a "
            "notification id): they were changed behind the tool's back; 'positions rebuild' "
            "makes them again from the events"
        ) from None
