"""Every domain event of `positions`.

Event classes are stored in the database by their topic (``positions.events:ClassName``): this
module never moves and a class is never renamed. A new field gets a default, so that events
stored before it existed still load.

Two kinds of stream:
- the negotiations index (one stream per store) lists the negotiations it holds;
- a negotiation's codebook stream holds its definition: title, parties, speakers, issues,
  proposals and developments;
- one record stream per party holds that party's statements, clarifications and retractions,
  the corrections of their coding and the amendments of their descriptive fields;
- a negotiation's registry: one stream per recorded statement id, correction and amendment,
  each holding one event that names the party record and version holding it, and one stream
  that says the registry is complete from then on (ADR 0017). The events table's uniqueness of
  (stream, version) is what makes recording one statement id twice impossible.
"""

from __future__ import annotations

from typing import ClassVar
from uuid import UUID

from eventsourcing.utils import get_topic
from pydantic import AwareDatetime, BaseModel, ConfigDict

from positions.codebook import (
    Amendment,
    Correction,
    Development,
    Issue,
    Party,
    Proposal,
    Salience,
    Speaker,
    Statement,
)
from positions.errors import TamperedError


class DomainEvent(BaseModel):
    """Base of every event: the stream it belongs to, its place in it, and when it was recorded.

    ``timestamp`` is the recording clock (when the store learnt it), never the date a statement
    was made, which is part of the payload.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    class_version: ClassVar[int] = 1

    originator_id: UUID
    originator_version: int
    timestamp: AwareDatetime


class NegotiationListed(DomainEvent):
    """A negotiation was added to the store's index."""

    negotiation: str


class NegotiationOpened(DomainEvent):
    """A negotiation's codebook stream was started."""

    negotiation: str
    title: str


class NegotiationRetitled(DomainEvent):
    title: str


class PartyDefined(DomainEvent):
    """A party was defined, or its definition revised (the latest definition wins)."""

    party: Party


class SpeakerDefined(DomainEvent):
    speaker: Speaker


class IssueDefined(DomainEvent):
    issue: Issue


class ProposalTabled(DomainEvent):
    """A proposal was tabled (or its definition revised): it states the proposer's position."""

    proposal: Proposal


class DevelopmentNoted(DomainEvent):
    """Something that happened, not a position: talks held, an envoy arrived, a town taken."""

    development: Development


class PartyRecordOpened(DomainEvent):
    """A party's record stream was started."""

    negotiation: str
    party: str


class StatementRecorded(DomainEvent):
    """A position statement or a claim about another party was recorded."""

    statement: Statement


class StatementClarified(DomainEvent):
    """A statement clarifying an earlier one was recorded; it supersedes the earlier one."""

    statement: Statement


class StatementRetracted(DomainEvent):
    """A retraction or denial of an earlier statement was recorded."""

    statement: Statement


class SalienceDeclared(DomainEvent):
    """A party's salience on an issue was declared (the latest declaration wins)."""

    salience: Salience


class CodingCorrected(DomainEvent):
    """An analyst corrected a recorded statement's coding; the statement's event stays as it was.

    Stored in the stream of the party record that holds the statement. Queries use the corrected
    coding from this event's recording time on.
    """

    correction: Correction


class StatementAmended(DomainEvent):
    """An analyst fixed a recorded statement's descriptive fields (its quote, sources, notes
    and the like); the statement's event stays as it was and nothing it counts for changes.

    Stored in the stream of the party record that holds the statement. Queries show the
    amended fields from this event's recording time on.
    """

    amendment: Amendment


class RegistryOpened(DomainEvent):
    """A negotiation's registry was started: every statement and correction recorded before
    this event was registered in the same transaction, and every later one is registered with
    it."""

    negotiation: str


class StatementRegistered(DomainEvent):
    """A statement id of a negotiation was taken: the statement is held at ``version`` of
    ``party``'s record stream (the only event of a stream named by the statement id)."""

    negotiation: str
    statement_id: str
    party: str
    version: int


class CorrectionRegistered(DomainEvent):
    """A correction was recorded: held at ``version`` of ``party``'s record stream (the only
    event of a stream named by the correction's content)."""

    negotiation: str
    statement_id: str
    party: str
    version: int


class AmendmentRegistered(DomainEvent):
    """An amendment was recorded: held at ``version`` of ``party``'s record stream (the only
    event of a stream named by the amendment's content)."""

    negotiation: str
    statement_id: str
    party: str
    version: int


REGISTRY_EVENTS = (RegistryOpened, StatementRegistered, CorrectionRegistered, AmendmentRegistered)

STATEMENT_EVENTS = (StatementRecorded, StatementClarified, StatementRetracted)

EVENTS: dict[str, type[DomainEvent]] = {
    get_topic(cls): cls
    for cls in (
        NegotiationListed,
        NegotiationOpened,
        NegotiationRetitled,
        PartyDefined,
        SpeakerDefined,
        IssueDefined,
        ProposalTabled,
        DevelopmentNoted,
        PartyRecordOpened,
        *STATEMENT_EVENTS,
        SalienceDeclared,
        CodingCorrected,
        StatementAmended,
        *REGISTRY_EVENTS,
    )
}
"""Every event class by its stored topic."""


def event_class(topic: str) -> type[DomainEvent]:
    """The event class a stored topic names. Only the classes of this module: a topic is read
    from the store, and a store received from someone else must never choose what Python
    imports (eventsourcing's ``resolve_topic`` would import any module a topic names)."""
    found = EVENTS.get(topic)
    if found is None:
        shown = topic if len(topic) <= 80 else topic[:77] + "..."
        raise TamperedError(
            f"unknown event topic {shown!r} (the store was changed behind the tool's back); "
            "run 'positions verify'"
        )
    return found


__all__ = [
    "EVENTS",
    "REGISTRY_EVENTS",
    "STATEMENT_EVENTS",
    "AmendmentRegistered",
    "CodingCorrected",
    "CorrectionRegistered",
    "DevelopmentNoted",
    "DomainEvent",
    "IssueDefined",
    "NegotiationListed",
    "NegotiationOpened",
    "NegotiationRetitled",
    "PartyDefined",
    "PartyRecordOpened",
    "ProposalTabled",
    "RegistryOpened",
    "SalienceDeclared",
    "SpeakerDefined",
    "StatementAmended",
    "StatementClarified",
    "StatementRecorded",
    "StatementRegistered",
    "StatementRetracted",
    "event_class",
]
