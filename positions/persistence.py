"""How events are stored: the pydantic mapper, and store URLs turned into eventsourcing settings.

eventsourcing 9.5 has no pydantic support of its own; like its ``examples/aggregate7`` we carry a
small mapper. The stored state is the event's JSON without the stream metadata (originator id
and version), which the recorder keeps in its own columns.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast
from urllib.parse import unquote, urlsplit, urlunsplit

from eventsourcing.persistence import Mapper, StoredEvent
from eventsourcing.utils import get_topic, resolve_topic
from pydantic import BaseModel

from positions.errors import StoreError

DEFAULT_STORE = "sqlite:///positions.db"
STORE_ENV = "POSITIONS_STORE"
_METADATA = frozenset({"originator_id", "originator_version"})


class PydanticMapper(Mapper):  # type: ignore[type-arg]
    """Maps pydantic events to stored events and back, validating on the way in and out."""

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        model = cast(BaseModel, domain_event)
        state = model.model_dump_json(exclude=set(_METADATA)).encode()
        if self.compressor:
            state = self.compressor.compress(state)
        if self.cipher:
            state = self.cipher.encrypt(state)
        return StoredEvent(
            originator_id=domain_event.originator_id,
            originator_version=domain_event.originator_version,
            topic=get_topic(type(domain_event)),
            state=state,
        )

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        state = stored_event.state
        if self.cipher:
            state = self.cipher.decrypt(state)
        if self.compressor:
            state = self.compressor.decompress(state)
        cls = resolve_topic(stored_event.topic)
        data = json.loads(state)
        data["originator_id"] = stored_event.originator_id
        data["originator_version"] = stored_event.originator_version
        return cls.model_validate(data)


@dataclass(frozen=True)
class StoreLocation:
    """A parsed store URL: what to tell eventsourcing, and how to name it to a user."""

    url: str
    env: dict[str, str]
    sqlite_path: Path | None = None

    @property
    def display(self) -> str:
        return redact(self.url)

    def exists(self) -> bool:
        """Whether the store exists (a file store that was never written does not)."""
        return self.sqlite_path is None or self.sqlite_path.exists()


def redact(url: str) -> str:
    """The URL with any password replaced by ``***``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<malformed store URL>"
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)
    userinfo = netloc[0].split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{userinfo}:***@{netloc[1]}"))


def store_from_environment(url: str | None) -> str:
    return url or os.environ.get(STORE_ENV) or DEFAULT_STORE


def parse_store_url(url: str) -> StoreLocation:
    """Turn ``sqlite:///path``, ``memory://`` or ``postgresql://…`` into eventsourcing settings."""
    shown = redact(url)
    if url == "memory://" or url == "memory:":
        return StoreLocation(url, {"PERSISTENCE_MODULE": "eventsourcing.popo"})
    if url.startswith("sqlite://"):
        rest = url[len("sqlite://") :]
        if not rest.startswith("/") or rest == "/":
            raise StoreError(f"malformed store URL {shown!r}: expected sqlite:///path/to/file.db")
        path = Path(rest[1:])
        return StoreLocation(
            url,
            {
                "PERSISTENCE_MODULE": "eventsourcing.sqlite",
                "SQLITE_DBNAME": str(path),
                "SQLITE_LOCK_TIMEOUT": "30",
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
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": unquote(dbname),
        "POSTGRES_HOST": parts.hostname,
        "POSTGRES_PORT": str(port or 5432),
        "POSTGRES_USER": unquote(parts.username or "postgres"),
        "POSTGRES_PASSWORD": unquote(parts.password or ""),
        "POSTGRES_CONNECT_TIMEOUT": "10",
    }
    return StoreLocation(url, env)
