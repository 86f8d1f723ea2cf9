"""The read models' rows, and the pure fold that derives them from events.

Queries read a negotiation from these rows instead of replaying its streams (see
`positions.views.store`, which keeps them in the store's own database). The same fold serves both
sides: a catch-up feeds it one page of new events at a time, with the rows already stored at
hand (``lookup``); `positions verify` feeds it every event from the first and compares what it
gives with the stored rows.

Rows:
- `StreamRow`: which negotiation (and party) a stream belongs to;
- `DefinitionRow`: one event of a negotiation's codebook stream, as recorded;
- `StatementRow`: one statement, its coding in force (every correction applied) with the fields
  a flat table needs as columns, and the notification id of the event that recorded it (its
  coding as first recorded is that event's document, read from the events table, not copied);
- `CorrectionRow`: one correction, numbered per statement;
- `AmendmentRow`: one amendment of a statement's descriptive fields (queries apply those
  recorded by the time asked for to the statement's document; its words join the statement
  row's, so that a search finds a statement by every text it has had).

The fold reads the log's rows (`LogRow`: the stored JSON of each event). A statement event,
nearly every event of a large store, is folded straight from its JSON: its columns are read
from the parsed JSON without building pydantic models. Every other event (codebook definitions,
corrections, stream openings) is decoded into its pydantic event first (``decode``). Where a
whole statement is needed (planning, the scenario export), its event's stored document is
validated by pydantic (`read_statement`). Rows stay checked: `positions verify`
validates every event and compares the views with a fresh fold.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from typing import Any, TypeVar

import orjson
from eventsourcing.utils import get_topic

from positions.codebook import (
    Amendment,
    Correction,
    Statement,
    on_text,
)
from positions.domain import corrected
from positions.errors import TamperedError, first_line
from positions.events import (
    REGISTRY_EVENTS,
    STATEMENT_EVENTS,
    CodingCorrected,
    DomainEvent,
    NegotiationListed,
    NegotiationOpened,
    PartyRecordOpened,
    StatementAmended,
    event_class,
)
from positions.search import words

StatementKey = tuple[str, str]
"""(negotiation, statement id)"""

STAMP = "%Y-%m-%dT%H:%M:%S.%fZ"


@functools.lru_cache(maxsize=256)
def stamp(moment: datetime) -> str:
    """A recording time as fixed-width UTC text, so that text order is time order (the events
    of one save share their time, hence the cache)."""
    return moment.astimezone(UTC).strftime(STAMP)


@functools.lru_cache(maxsize=4096)
def unstamp(text: str) -> datetime:
    """The recording time of a `stamp` (rows of one save share it, hence the cache)."""
    return datetime.fromisoformat(text)


@functools.lru_cache(maxsize=256)
def stamp_text(text: str) -> str:
    """`stamp` of a recording time as the stored JSON gives it."""
    return stamp(datetime.fromisoformat(text))


def stamp_json(text: str) -> str:
    """`stamp_text`, with a recording time already written as a stamp (what this tool
    stores: ``YYYY-MM-DDTHH:MM:SS.ffffffZ``) taken as it is."""
    if len(text) == 27 and text[19] == "." and text[26] == "Z":
        return text
    return stamp_text(text)


@dataclass(slots=True)
class LogRow:
    """One event of the notification log as the fold reads it: the stream is the originator id
    in hex, the payload the event's JSON (unsealed, without the stream metadata)."""

    notification_id: int
    stream: str
    version: int
    topic: str
    payload: bytes


Decode = Callable[[LogRow], DomainEvent]
"""Turns a log row into its pydantic event (for the events the fold does not read raw)."""

STATEMENT_TOPICS = frozenset(get_topic(cls) for cls in STATEMENT_EVENTS)
REGISTRY_TOPICS = frozenset(get_topic(cls) for cls in REGISTRY_EVENTS)
"""The registry's events (`positions.registry`): nothing in the views comes from them."""


_STATEMENT_KEY = b',"statement":'


def statement_document(payload: bytes) -> bytes:
    """The statement's JSON inside a statement event's payload, exactly as stored: the tool's
    mapper writes a statement event as ``{"timestamp":…,"statement":{…}}`` (the statement is
    the events' last field), so the document is the bytes between that key and the closing
    brace; anything else is an error for the caller to report. (A slice of what the mapper
    wrote, read back whole: parsing and writing it again would turn integers beyond 64 bits
    into floats.)"""
    start = payload.find(_STATEMENT_KEY)
    if start < 0 or not payload.endswith(b"}}"):
        raise ValueError("not a statement event's JSON")
    return payload[start + len(_STATEMENT_KEY) : -1]


def statement_fields(payload: bytes) -> dict[str, Any]:
    """The statement inside a statement event's payload, parsed (orjson: the fields the
    queries show)."""
    statement = orjson.loads(statement_document(payload))
    if not isinstance(statement, dict):
        raise ValueError("not a statement event's JSON")
    return statement


def read_statement(document: str | bytes) -> Statement:
    """The `Statement` of a statement document the tool stored (a statement event's
    ``statement``, or a view row's ``coding``), validated by pydantic. Anything that is not a
    statement document raises ValueError (pydantic's ValidationError is one)."""
    return Statement.model_validate_json(document)


def _kind(statement: dict[str, Any]) -> str:
    if statement["retracts"] is not None:
        return "retraction"
    if statement["clarifies"] is not None:
        return "clarification"
    if statement["about"] is not None:
        return "claim"
    return "position"


@dataclass(frozen=True)
class StreamRow:
    stream: str
    negotiation: str
    party: str | None


@dataclass(frozen=True)
class DefinitionRow:
    notification_id: int
    negotiation: str
    recorded_at: str
    topic: str
    payload: str

    def event(self) -> DomainEvent:
        cls = event_class(self.topic)
        try:
            return cls.model_validate_json(self.payload)
        except ValueError as exc:  # pydantic's ValidationError: a row the tool did not write
            raise _unreadable_row("definition", self.notification_id, exc) from None


@dataclass(slots=True)
class StatementRow:
    """One statement of the views: the columns a flat table needs (its coding in force), its
    coding in force as JSON once corrected, and the notification id of the event that recorded
    it. The statement as first recorded (``original``) is not a column: it is that event's
    document, which the store already holds (`ViewStore` reads it from the events table)."""

    negotiation: str
    statement_id: str
    party: str
    kind: str
    issue: str | None
    position: str | None
    verdict: str | None
    proposal: str | None
    stated_on: str
    day: str
    hypothetical: bool
    recorded_at: str
    notification_id: int
    corrections: int
    coding: str | None
    """The coding in force as JSON; None while it is the original (no correction)."""
    speaker: str | None
    """The speaker's id, when a person spoke (``--speaker``)."""
    quote: str | None
    """The quote as recorded (what the tables show beside a cell or a history row)."""
    words: str
    """The words of the quote, the original quote and the notes (`positions.search.words`),
    as first recorded and as each amendment gave them: what ``--search`` looks in, indexed by
    the database."""
    salience: float | None
    """The salience the statement gives its issue (R14), which no correction changes."""
    original: str | bytes | None = field(default=None, compare=False, repr=False)
    """The statement's document as first recorded, where it is at hand (the fold has it; a
    row read back from the views has it only where the reader asked for it)."""

    @classmethod
    def of(
        cls,
        negotiation: str,
        original: Statement,
        coding: Statement,
        recorded_at: str,
        notification_id: int,
        corrections: int,
        original_json: str | bytes | None = None,
    ) -> StatementRow:
        return cls(
            negotiation=negotiation,
            statement_id=original.id,
            party=coding.party,
            kind=coding.kind.value,
            issue=coding.issue,
            position=coding.position,
            verdict=coding.verdict.value if coding.verdict is not None else None,
            proposal=coding.proposal,
            stated_on=str(coding.on),
            day=coding.on.day.isoformat(),
            hypothetical=coding.hypothetical,
            recorded_at=recorded_at,
            notification_id=notification_id,
            corrections=corrections,
            coding=None if coding is original else coding.model_dump_json(),
            speaker=coding.speaker,
            quote=original.quote,
            words=words(original.quote, original.quote_original, original.notes),
            salience=None if original.salience is None else float(original.salience),
            original=original_json or original.model_dump_json(),
        )

    @classmethod
    def of_document(cls, negotiation: str, payload: bytes, notification_id: int) -> StatementRow:
        """The row of a statement event read straight from its stored JSON (never corrected:
        corrections come later in the log)."""
        data = orjson.loads(payload)
        statement = data["statement"]
        on = statement["on"]
        return cls(  # positional: this runs once per statement event
            negotiation,
            statement["id"],
            statement["party"],
            _kind(statement),
            statement["issue"],
            statement["position"],
            statement["verdict"],
            statement["proposal"],
            on_text(on["day"], on["before"], on.get("time")),
            on["day"],
            statement["hypothetical"],
            stamp_text(data["timestamp"]),
            notification_id,
            0,
            None,
            statement.get("speaker"),
            statement["quote"],
            words(statement["quote"], statement.get("quote_original"), statement.get("notes")),
            None if statement.get("salience") is None else float(statement["salience"]),
            statement_document(payload),
        )

    def original_statement(self) -> Statement:
        return Statement.model_validate_json(self.original_document())

    def coding_statement(self) -> Statement:
        return Statement.model_validate_json(self.coding or self.original_document())

    def original_document(self) -> str | bytes:
        """The statement's document as first recorded (ValueError for a row read without it)."""
        if self.original is None:
            raise ValueError(f"statement {self.statement_id!r} has no document at hand")
        return self.original


STATEMENT_COLUMNS = tuple(f.name for f in fields(StatementRow) if f.name != "original")
"""The columns of ``positions_view_statements``, in table order."""


@dataclass(frozen=True)
class CorrectionRow:
    notification_id: int
    negotiation: str
    statement_id: str
    number: int
    recorded_at: str
    payload: str

    def correction(self) -> Correction:
        return _read_fix(Correction, "correction", self.notification_id, self.payload)


@dataclass(frozen=True)
class AmendmentRow:
    notification_id: int
    negotiation: str
    statement_id: str
    recorded_at: str
    payload: str

    def amendment(self) -> Amendment:
        return _read_fix(Amendment, "amendment", self.notification_id, self.payload)


Fix = TypeVar("Fix", Correction, Amendment)


def _read_fix(cls: type[Fix], kind: str, notification_id: int, payload: str) -> Fix:
    """A correction or amendment row's payload, read back (`TamperedError` if the tool did
    not write it)."""
    try:
        return cls.model_validate_json(payload)
    except ValueError as exc:  # pydantic's ValidationError: a row the tool did not write
        raise _unreadable_row(kind, notification_id, exc) from None


def _unreadable_row(kind: str, notification_id: int, exc: ValueError) -> TamperedError:
    first = first_line(exc)
    return TamperedError(
        f"the views' {kind} row of event {notification_id} does not read back ({first}): "
        "they were changed behind the tool's back; 'positions rebuild' makes them again "
        "from the events"
    )


@dataclass
class ViewChanges:
    """What a run of events adds to the views. ``streams`` and ``lookup`` give what is already
    stored: the known streams, and a stored statement row by key."""

    streams: dict[str, StreamRow]
    lookup: Callable[[StatementKey], StatementRow | None]
    new_streams: list[StreamRow]
    definitions: list[DefinitionRow]
    statements: dict[StatementKey, StatementRow]
    corrections: list[CorrectionRow]
    negotiations: set[str]
    amendments: list[AmendmentRow] = field(default_factory=list)

    @classmethod
    def start(
        cls,
        streams: Mapping[str, StreamRow] | None = None,
        lookup: Callable[[StatementKey], StatementRow | None] | None = None,
    ) -> ViewChanges:
        return cls(dict(streams or {}), lookup or (lambda key: None), [], [], {}, [], set())

    def apply_row(self, row: LogRow, decode: Decode) -> None:
        """Fold one row of the log: a statement event of a party's record straight from its
        JSON, any other event through its pydantic event; the registry's events (streams of
        their own) count for nothing."""
        if row.topic in REGISTRY_TOPICS:
            return
        if row.topic in STATEMENT_TOPICS:
            home = self.streams.get(row.stream)
            if home is None:
                return  # an event of a stream that was never opened counts for nothing
            if home.party is not None:
                self.negotiations.add(home.negotiation)
                fresh = StatementRow.of_document(home.negotiation, row.payload, row.notification_id)
                self.statements[(home.negotiation, fresh.statement_id)] = fresh
                return
        self.apply(row.notification_id, decode(row))

    def apply(self, notification_id: int, event: DomainEvent) -> None:
        stream = event.originator_id.hex
        if isinstance(event, NegotiationListed):
            return
        if isinstance(event, NegotiationOpened):
            self._open(StreamRow(stream, event.negotiation, None))
        elif isinstance(event, PartyRecordOpened):
            self._open(StreamRow(stream, event.negotiation, event.party))
            return
        home = self.streams.get(stream)
        if home is None:
            return  # an event of a stream that was never opened counts for nothing
        self.negotiations.add(home.negotiation)
        recorded_at = stamp(event.timestamp)
        if home.party is None:
            self.definitions.append(
                DefinitionRow(
                    notification_id,
                    home.negotiation,
                    recorded_at,
                    get_topic(type(event)),
                    event.model_dump_json(),
                )
            )
        elif isinstance(event, STATEMENT_EVENTS):
            statement = event.statement
            self.statements[(home.negotiation, statement.id)] = StatementRow.of(
                home.negotiation, statement, statement, recorded_at, notification_id, 0
            )
        elif isinstance(event, CodingCorrected):
            self._correct(notification_id, home.negotiation, recorded_at, event.correction)
        elif isinstance(event, StatementAmended):
            self._amend(notification_id, home.negotiation, recorded_at, event.amendment)

    def _open(self, row: StreamRow) -> None:
        if row.stream not in self.streams:
            self.streams[row.stream] = row
            self.new_streams.append(row)

    def _correct(
        self, notification_id: int, negotiation: str, recorded_at: str, correction: Correction
    ) -> None:
        key = (negotiation, correction.statement)
        current = self.statements.get(key) or self.lookup(key)
        if current is None:
            return  # a correction of a statement not recorded counts for nothing
        coding = corrected(current.coding_statement(), [correction])
        number = current.corrections + 1
        fresh = StatementRow.of(
            negotiation,
            current.original_statement(),
            coding,
            current.recorded_at,
            current.notification_id,
            number,
            original_json=current.original_document(),
        )
        fresh.words = current.words  # an amendment's words stay
        self.statements[key] = fresh
        self.corrections.append(
            CorrectionRow(
                notification_id,
                negotiation,
                correction.statement,
                number,
                recorded_at,
                correction.model_dump_json(),
            )
        )

    def _amend(
        self, notification_id: int, negotiation: str, recorded_at: str, amendment: Amendment
    ) -> None:
        key = (negotiation, amendment.statement)
        current = self.statements.get(key) or self.lookup(key)
        if current is None:
            return  # an amendment of a statement not recorded counts for nothing
        fresh = replace(
            current,
            words=words(current.words, amendment.quote, amendment.quote_original, amendment.notes),
        )
        self.statements[key] = fresh
        self.amendments.append(
            AmendmentRow(
                notification_id,
                negotiation,
                amendment.statement,
                recorded_at,
                amendment.model_dump_json(),
            )
        )

    def is_empty(self) -> bool:
        return not (
            self.new_streams
            or self.definitions
            or self.statements
            or self.corrections
            or self.amendments
        )
