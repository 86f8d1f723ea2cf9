"""What the planner takes of a statement as an analyst wrote it: a plain, slotted record.

A scenario file's statements are validated by their pydantic model at the edge
(`positions.scenario.StatementInput`) and handed to the planner as `StatementDraft`s: the same
fields, with no per-instance dictionary or set of given fields, since a large import holds
every statement it read until it is planned. `positions.domain` reads only these.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from positions.codebook import (
    Attribution,
    Confidence,
    Source,
    StatedOn,
    TermValue,
    Verdict,
)


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
    party: str | None

    @classmethod
    def of(cls, validated: Any) -> StatementDraft:
        """The draft of a validated statement input (any object with these attributes)."""
        return cls(*(getattr(validated, name) for name in cls.__dataclass_fields__))
