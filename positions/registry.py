"""A negotiation's registry: which statement ids, corrections and amendments it holds, kept in
the events table itself (ADR 0017).

Each statement id of a negotiation has a stream of its own (`ids.statement_key`) whose one
event names the party record and version that hold the statement; each correction has one
named by its content (`ids.correction_key`). The events table allows one event per (stream,
version), so two writers can never both record a statement id: the second save fails its
version check and plans again, and finds the id taken. Whether a statement or a correction is
recorded is therefore decided by the events, never by the views.

A store made before the registry has none: `backfill` registers what its party records hold,
once, before the first write that needs it (`RegistryOpened` says a negotiation's registry is
complete). Everything here is pure: the application reads and writes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from positions.codebook import Amendment, Correction
from positions.events import (
    AmendmentRegistered,
    CorrectionRegistered,
    DomainEvent,
    RegistryOpened,
    StatementRegistered,
)
from positions.ids import fix_key, registry_id, statement_key

Fix = Correction | Amendment
"""What an analyst records about a statement after it: a correction of its coding, or an
amendment of its descriptive fields."""


@dataclass(frozen=True, slots=True)
class Registration:
    """One entry a write adds to a negotiation's registry: the statement (or, with
    ``correction``, the correction or amendment of it) held at ``version`` of ``party``'s
    record."""

    negotiation: str
    party: str
    version: int
    statement: str
    correction: Fix | None = None

    @property
    def key(self) -> UUID:
        if self.correction is not None:
            return fix_key(self.negotiation, self.correction)
        return statement_key(self.negotiation, self.statement)


def registry_events(
    opened: Iterable[str], registrations: Iterable[Registration], now: datetime
) -> Iterator[DomainEvent]:
    """The events of the registries ``opened`` (negotiation slugs) and of ``registrations``:
    each the first and only event of its stream."""
    for negotiation in opened:
        yield RegistryOpened(
            originator_id=registry_id(negotiation),
            originator_version=1,
            timestamp=now,
            negotiation=negotiation,
        )
    for entry in registrations:
        cls: type[StatementRegistered | CorrectionRegistered | AmendmentRegistered]
        cls = StatementRegistered
        if isinstance(entry.correction, Correction):
            cls = CorrectionRegistered
        elif isinstance(entry.correction, Amendment):
            cls = AmendmentRegistered
        yield cls(
            originator_id=entry.key,
            originator_version=1,
            timestamp=now,
            negotiation=entry.negotiation,
            statement_id=entry.statement,
            party=entry.party,
            version=entry.version,
        )


@dataclass(frozen=True, slots=True)
class HeldEvent:
    """A statement, correction or amendment event of a party record, as the registry sees it."""

    party: str
    version: int
    statement: str
    correction: Fix | None = None


def backfill(negotiation: str, held: Iterable[HeldEvent]) -> tuple[list[Registration], list[str]]:
    """The registrations of what a negotiation's party records hold (``held``, in the order
    it was stored), and a line for each statement id held more than once (the first holds
    it; `positions verify` reports the others)."""
    found: dict[UUID, Registration] = {}
    twice: list[str] = []
    for event in held:
        entry = Registration(
            negotiation, event.party, event.version, event.statement, event.correction
        )
        key = entry.key
        if key in found:
            if event.correction is None:
                first = found[key]
                twice.append(
                    f"statement '{event.statement}' of negotiation '{negotiation}' is recorded "
                    f"twice: party '{first.party}' version {first.version} and party "
                    f"'{event.party}' version {event.version}"
                )
            continue
        found[key] = entry
    return list(found.values()), twice


@dataclass(frozen=True, slots=True)
class Problem:
    stream: str
    problem: str


def check(
    held: dict[str, list[HeldEvent]],
    registered: Iterable[StatementRegistered | CorrectionRegistered | AmendmentRegistered],
    opened: set[str],
) -> list[Problem]:
    """What is wrong with the registries of the negotiations in ``held`` (each negotiation's
    statement and correction events, in the order stored): in a negotiation whose registry is
    ``opened``, a statement or correction with no registration; and anywhere, a
    registration that names no event holding what it registers."""
    problems: list[Problem] = []
    by_key: dict[UUID, StatementRegistered | CorrectionRegistered | AmendmentRegistered] = {}
    for event in registered:
        by_key[event.originator_id] = event
    claimed: set[UUID] = set()
    for negotiation, events in held.items():
        entries, _ = backfill(negotiation, events)  # an id held twice: the views' check
        for entry in entries:
            found = by_key.get(entry.key)
            what = f"statement '{entry.statement}'"
            if isinstance(entry.correction, Correction):
                what = f"a correction of statement '{entry.statement}'"
            elif isinstance(entry.correction, Amendment):
                what = f"an amendment of statement '{entry.statement}'"
            if found is None:
                if negotiation in opened:
                    problems.append(
                        Problem(
                            f"negotiation '{negotiation}' / registry",
                            f"{what} is not registered (its registry stream is missing)",
                        )
                    )
                continue
            claimed.add(entry.key)
            if (found.party, found.version, found.statement_id) != (
                entry.party,
                entry.version,
                entry.statement,
            ):
                problems.append(
                    Problem(
                        f"negotiation '{negotiation}' / registry",
                        f"{what} is registered at party '{found.party}' version "
                        f"{found.version}, but is held at party '{entry.party}' version "
                        f"{entry.version}",
                    )
                )
    for key, event in by_key.items():
        if key not in claimed:
            problems.append(
                Problem(
                    f"negotiation '{event.negotiation}' / registry",
                    f"statement '{event.statement_id}' is registered at party '{event.party}' "
                    f"version {event.version}, which holds no such "
                    f"{_registered_what(event)}",
                )
            )
    return problems


def _registered_what(event: DomainEvent) -> str:
    if isinstance(event, StatementRegistered):
        return "statement"
    if isinstance(event, AmendmentRegistered):
        return "amendment"
    return "correction"
