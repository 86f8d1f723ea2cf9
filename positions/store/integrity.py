"""Tamper evidence: every stored event chains to the previous event of its stream.

An event's stored state is an envelope around the event's JSON payload::

    {"chain":"<64 hex digits>","event":<payload>}

``chain`` is the SHA-256 of the previous event's chain (64 zeros for version 1), the stream id,
the version, the topic and the payload bytes. Changing, deleting or reordering a stored row
breaks the chain at that row, and `verify_store` names the stream and version. Stream metadata
(id, version) stays in the recorder's own columns; it is never mixed into the payload.

What the chain cannot show by itself: that the newest events of a stream were deleted (the
shorter chain is still intact). The ``head`` digest of a verification summarises every stream's
last link; a team that records it elsewhere can compare it later (``positions verify
--expect-head``).
"""

from __future__ import annotations

import functools
import hashlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from positions.errors import first_line

GENESIS = "0" * 64
_PREFIX = b'{"chain":"'
_MIDDLE = b'","event":'
_SUFFIX = b"}"
_HEAD = len(_PREFIX) + 64 + len(_MIDDLE)


def chain_digest(
    previous: str, originator_id: UUID | str, version: int, topic: str, payload: bytes
) -> str:
    """The chain digest of one event, given the digest of the event before it in its stream."""
    parts = (previous.encode(), _text(originator_id), str(version).encode(), _text(topic))
    return hashlib.sha256(b"\x00".join((*parts, payload))).hexdigest()


@functools.lru_cache(maxsize=4096)
def _text(value: UUID | str) -> bytes:
    """A stream id or topic as the digest takes it (a store has few of each)."""
    return str(value).encode()


def seal(digest: str, payload: bytes) -> bytes:
    """The stored state: the payload wrapped with its chain digest."""
    return _PREFIX + digest.encode() + _MIDDLE + payload + _SUFFIX


def unseal(state: bytes) -> tuple[str | None, bytes]:
    """The chain digest and payload of a stored state (no digest: a state stored without one)."""
    if (
        len(state) > _HEAD
        and state.startswith(_PREFIX)
        and state[_HEAD - len(_MIDDLE) : _HEAD] == _MIDDLE
        and state.endswith(_SUFFIX)
    ):
        digest = state[len(_PREFIX) : len(_PREFIX) + 64].decode("ascii", "replace")
        return digest, state[_HEAD:-1]
    return None, state


# ---------------------------------------------------------------------------------------------
# Verification


@dataclass(frozen=True)
class StoredRow:
    """One row of the events table, as read back (state already decrypted/decompressed)."""

    position: int
    originator_id: UUID
    version: int
    topic: str
    state: bytes


@dataclass(frozen=True)
class Finding:
    """The first place a stream's chain breaks."""

    stream: str
    version: int
    problem: str

    def __str__(self) -> str:
        return f"{self.stream}, version {self.version}: {self.problem}"


@dataclass
class Verification:
    events: int = 0
    streams: int = 0
    findings: list[Finding] = field(default_factory=list)
    head: str = GENESIS
    rows: list[StoredRow] = field(default_factory=list)
    """Every row of the log, in log order (filled when the record is intact)."""
    registry: list[str] = field(default_factory=list)
    """What is wrong with the negotiations' registries (`positions.registry.check`; checked
    when every chain is intact)."""

    @property
    def intact(self) -> bool:
        return not self.findings


def verify_rows(
    rows: Iterable[StoredRow],
    names: dict[UUID, str],
    decode: Callable[[StoredRow], Any] | None = None,
) -> Verification:
    """Check every stream's chain: versions 1..n with none missing, in the order they were
    stored, each digest chaining to the one before, each payload readable by ``decode``."""
    streams: dict[UUID, list[StoredRow]] = defaultdict(list)
    result = Verification()
    for row in rows:
        streams[row.originator_id].append(row)
        result.events += 1
    result.streams = len(streams)
    heads = hashlib.sha256()
    for originator_id in sorted(streams, key=str):
        stream = sorted(streams[originator_id], key=lambda r: r.version)
        name = names.get(originator_id, f"stream {originator_id}")
        finding = _check_stream(name, stream, decode)
        if finding is not None:
            result.findings.append(finding)
        last = stream[-1]
        digest, _ = unseal(last.state)
        heads.update(f"{originator_id} {last.version} {digest}\n".encode())
    result.head = heads.hexdigest()
    result.findings.sort(key=lambda f: (f.stream, f.version))
    return result


def _check_stream(
    name: str, stream: Sequence[StoredRow], decode: Callable[[StoredRow], Any] | None
) -> Finding | None:
    previous = GENESIS
    position = 0
    for expected, row in enumerate(stream, start=1):
        if row.version != expected:
            missing = expected if row.version > expected else row.version
            return Finding(name, missing, "is missing (an event was deleted or renumbered)")
        if row.position < position:
            return Finding(name, row.version, "was stored after a later version (reordered)")
        position = row.position
        digest, payload = unseal(row.state)
        if digest is None:
            return Finding(name, row.version, "carries no chain digest (changed or not sealed)")
        if digest != chain_digest(previous, row.originator_id, row.version, row.topic, payload):
            return Finding(
                name,
                row.version,
                "was changed or moved (its hash does not chain to the version before it)",
            )
        if decode is not None:
            try:
                decode(row)
            except Exception as exc:  # any failure to read it back is a finding
                first = first_line(exc)
                return Finding(name, row.version, f"cannot be read back: {first}")
        previous = digest
    return None


def verify_store(app: Any) -> Verification:
    """Verify every stream of a `PositionsApplication`'s store (read in notification order)."""
    from eventsourcing.persistence import StoredEvent

    rows: list[StoredRow] = []
    raw: dict[tuple[UUID, int], StoredEvent] = {}
    unreadable: list[Finding] = []
    start = 1
    while True:
        batch = _notifications(app, start, unreadable)
        if batch is None:
            start += 1  # a row the library cannot read: reported, and passed over
            continue
        if not batch:
            break
        for n in batch:
            originator_id = (
                n.originator_id if isinstance(n.originator_id, UUID) else UUID(str(n.originator_id))
            )
            # a NULL state or a version that is not a number (changed behind the tool's back)
            # is a row that cannot chain: read as an empty state and version 0
            state = bytes(n.state) if isinstance(n.state, bytes | bytearray | memoryview) else b""
            version = n.originator_version if isinstance(n.originator_version, int) else 0
            rows.append(
                StoredRow(n.id, originator_id, version, str(n.topic), app.mapper.open_state(state))
            )
            raw[(originator_id, n.originator_version)] = n
        start = batch[-1].id + 1

    decoded: dict[int, Any] = {}

    def decode(row: StoredRow) -> Any:
        event = decoded.get(row.position)
        if event is None:
            event = app.mapper.to_domain_event(raw[(row.originator_id, row.version)])
            decoded[row.position] = event
        return event

    result = verify_rows(rows, stream_names(rows, decode), decode)
    if unreadable:
        result.findings = sorted(
            [*unreadable, *result.findings], key=lambda f: (f.stream, f.version)
        )
    if result.intact:  # every event was read back; keep the rows for the views' check
        result.rows = rows
        result.registry = registry_problems(decode(row) for row in rows)
    return result


def registry_problems(events: Iterable[Any]) -> list[str]:
    """`positions.registry.check` of a log's events, in log order, as lines."""
    from positions.events import (
        STATEMENT_EVENTS,
        AmendmentRegistered,
        CodingCorrected,
        CorrectionRegistered,
        PartyRecordOpened,
        RegistryOpened,
        StatementAmended,
        StatementRegistered,
    )
    from positions.registry import HeldEvent, check

    homes: dict[UUID, tuple[str, str]] = {}
    held: dict[str, list[HeldEvent]] = defaultdict(list)
    registered: list[StatementRegistered | CorrectionRegistered | AmendmentRegistered] = []
    opened: set[str] = set()
    for event in events:
        if isinstance(event, PartyRecordOpened):
            homes[event.originator_id] = (event.negotiation, event.party)
        elif isinstance(event, StatementRegistered | CorrectionRegistered | AmendmentRegistered):
            registered.append(event)
        elif isinstance(event, RegistryOpened):
            opened.add(event.negotiation)
        elif isinstance(event, (*STATEMENT_EVENTS, CodingCorrected, StatementAmended)):
            home = homes.get(event.originator_id)
            if home is None:
                continue  # an event of a stream that was never opened counts for nothing
            negotiation, party = home
            version = event.originator_version
            if isinstance(event, CodingCorrected):
                item = HeldEvent(party, version, event.correction.statement, event.correction)
            elif isinstance(event, StatementAmended):
                item = HeldEvent(party, version, event.amendment.statement, event.amendment)
            else:
                item = HeldEvent(party, version, event.statement.id)
            held[negotiation].append(item)
    return [f"{p.stream}: {p.problem}" for p in check(held, registered, opened)]


def stream_names(rows: Iterable[StoredRow], decode: Callable[[StoredRow], Any]) -> dict[UUID, str]:
    """Readable names for the streams: the index, ``negotiation 'x'``, ``negotiation 'x' / party
    'y'`` (from whatever events can still be read)."""
    from positions.ids import index_id, negotiation_id, record_id

    slugs: set[str] = set()
    parties: set[str] = set()
    for row in rows:
        try:
            event = decode(row)
        except Exception:  # an unreadable event names nothing; it is reported elsewhere
            continue
        for attribute in ("negotiation",):
            value = getattr(event, attribute, None)
            if isinstance(value, str):
                slugs.add(value)
        party = getattr(event, "party", None)
        if isinstance(party, str):
            parties.add(party)
        elif party is not None and isinstance(getattr(party, "id", None), str):
            parties.add(party.id)
    names: dict[UUID, str] = {index_id(): "the negotiations index"}
    for slug in slugs:
        names[negotiation_id(slug)] = f"negotiation '{slug}'"
        for party_id in parties:
            names[record_id(slug, party_id)] = f"negotiation '{slug}' / party '{party_id}'"
    return names


def _notifications(app: Any, start: int, unreadable: list[Finding]) -> list[Any] | None:
    """The next page of the log from ``start``; when the library cannot read a row of it (a
    stream id changed to what is not a UUID, say), the rows before it, or None when it is the
    row at ``start`` (a finding is added for it)."""
    try:
        return list(app.recorder.select_notifications(start, 1000))
    except (ValueError, TypeError):  # a stream id that is not a UUID, or none at all
        pass
    found: list[Any] = []
    position = start
    while True:
        try:
            one = app.recorder.select_notifications(position, 1)
        except (ValueError, TypeError) as exc:
            if found:
                return found
            first = first_line(exc)
            unreadable.append(
                Finding(
                    f"the row after notification {position - 1}", 0, f"cannot be read ({first})"
                )
            )
            return None
        if not one:
            return found
        found.extend(one)
        position = one[-1].id + 1
