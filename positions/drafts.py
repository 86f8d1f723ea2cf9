"""What the planner takes: the records of a scenario file, each with its origin, and each
statement as a plain, slotted record.

A scenario file's statements are validated by their pydantic model at the edge
(`positions.scenario.StatementInput`) and handed to the planner as `StatementDraft`s: the same
fields, with no per-instance dictionary or set of given fields, since a large import holds
every statement it read until it is planned. `positions.domain` reads only these.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from positions.codebook import (
    Attribution,
    Confidence,
    Source,
    StatedOn,
    TermValue,
    Verdict,
)
from positions.errors import Origin


@dataclass(frozen=True, slots=True)
class StatementDraft:
    """One statement as written: ``by`` a speaker or a party, and the coding fields of
    `codebook.StatementCoding`, validated already."""

    id: str
    on: StatedOn
    issue: str | None
    position: str | None
    terms: dict[str, TermValue]
    verdict: Verdict | None
    proposal: str | None
    conditions: tuple[str, ...]
    clarifies: str | None
    retracts: str | None
    about: str | None
    attribution: Attribution
    quote: str | None
    quote_original: str | None
    language: str | None
    sources: tuple[Source, ...]
    confidence: Confidence
    channel: str | None
    notes: str | None
    salience: float | int | None
    hypothetical: bool
    by: str | None
    party: str | tuple[str, ...] | None
    """The party it is made for, or the parties of a joint statement as listed."""

    @classmethod
    def of(cls, validated: Any) -> StatementDraft:
        """The draft of a validated statement input (any object with these attributes)."""
        return cls(*(getattr(validated, name) for name in cls.__dataclass_fields__))


class Located(NamedTuple):
    """A record of a scenario file with where it came from (a tuple: a large file makes one
    per record)."""

    value: Any
    origin: Origin


@dataclass(frozen=True)
class Scenario:
    """A loaded, self-consistent scenario file; cross-checks against the store come later."""

    path: str
    negotiation: str
    title: str | None
    origin: Origin
    parties: tuple[Located, ...]
    speakers: tuple[Located, ...]
    issues: tuple[Located, ...]
    proposals: tuple[Located, ...]
    statements: tuple[Located, ...]
    developments: tuple[Located, ...]
    salience: tuple[Located, ...] = ()
    corrections: tuple[Located, ...] = ()
    amendments: tuple[Located, ...] = ()
