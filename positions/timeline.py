"""Which statements count, and in what order: the rules of docs/codebook.md as code.

Everything here is a pure function of the recorded events. Order never depends on the order
in which statements were imported: a statement's place is its date (imprecise "before" dates
first on their day), then the depth of its clarification chain, then its id.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from positions.codebook import (
    NONCOMMITTAL,
    Correction,
    Kind,
    Proposal,
    StatedOn,
    Statement,
    TermValue,
    Verdict,
)
from positions.domain import Negotiation, corrected, project_negotiation
from positions.events import STATEMENT_EVENTS, CodingCorrected, DomainEvent

SortKey = tuple[date, int, int, str]
Entry = tuple[datetime, Statement | Correction]
"""A statement or a correction, with the time it was recorded."""


@dataclass(frozen=True)
class CorrectionRecord:
    """A correction as recorded: its number for that statement, and the coding it replaced."""

    correction: Correction
    recorded_at: datetime
    number: int
    before: Statement
    after: Statement


@dataclass(frozen=True)
class NegotiationRecord:
    """A negotiation as recorded (as known at ``known_at``, or now): its definition and every
    statement with the corrections recorded by then applied."""

    negotiation: Negotiation
    statements: tuple[Statement, ...]
    recorded_at: dict[str, datetime]
    corrections: tuple[CorrectionRecord, ...] = ()
    known_at: datetime | None = None
    originals: dict[str, Statement] | None = None

    @classmethod
    def from_events(
        cls,
        codebook: Iterable[DomainEvent],
        statements: Iterable[DomainEvent],
        known_at: datetime | None = None,
    ) -> NegotiationRecord:
        """From a negotiation's codebook events and its party records' events."""
        entries: list[Entry] = []
        for event in statements:
            if isinstance(event, STATEMENT_EVENTS):
                entries.append((event.timestamp, event.statement))
            elif isinstance(event, CodingCorrected):
                entries.append((event.timestamp, event.correction))
        return cls.from_entries(codebook, entries, known_at)

    @classmethod
    def from_entries(
        cls,
        codebook: Iterable[DomainEvent],
        entries: Iterable[Entry],
        known_at: datetime | None = None,
    ) -> NegotiationRecord:
        """From a negotiation's codebook events and its statements and corrections with their
        recording times (each statement before its corrections, corrections in the order they
        were recorded); what was recorded after ``known_at`` is left out."""
        state = project_negotiation(
            e for e in codebook if known_at is None or e.timestamp <= known_at
        )
        if state is None:
            raise ValueError("the codebook stream does not open a negotiation")
        found: dict[str, Statement] = {}
        originals: dict[str, Statement] = {}
        recorded: dict[str, datetime] = {}
        corrections: list[CorrectionRecord] = []
        counts: dict[str, int] = {}
        for recorded_at, entry in entries:
            if known_at is not None and recorded_at > known_at:
                continue
            if isinstance(entry, Statement):
                found[entry.id] = entry
                originals[entry.id] = entry
                recorded[entry.id] = recorded_at
                continue
            before = found.get(entry.statement)
            if before is None:
                continue
            after = corrected(before, [entry])
            found[entry.statement] = after
            counts[entry.statement] = counts.get(entry.statement, 0) + 1
            corrections.append(
                CorrectionRecord(entry, recorded_at, counts[entry.statement], before, after)
            )
        ordered = tuple(sorted(found.values(), key=lambda s: s.id))
        corrections.sort(key=lambda c: (c.recorded_at, c.correction.statement, c.number))
        return cls(state, ordered, recorded, tuple(corrections), known_at, originals)


@dataclass(frozen=True, slots=True)
class Step:
    """One statement (or a proposal's tabling) as it bears on a party's stance."""

    key: SortKey
    on: StatedOn
    party: str
    claimed_by: str | None
    issue: str | None
    position: str | None
    terms: dict[str, TermValue]
    verdict: Verdict | None
    proposal: str | None
    conditions: tuple[str, ...]
    statement: Statement | None
    tabled: Proposal | None
    ended_on: StatedOn | None = None
    ended_by: str | None = None
    ended_how: str | None = None
    ended_key: SortKey | None = None

    @property
    def source_id(self) -> str:
        if self.statement is not None:
            return self.statement.id
        assert self.tabled is not None
        return self.tabled.id

    def counts(self, as_of: date) -> bool:
        """Whether this step is in force on ``as_of``: made by then, and not ended by then."""
        if self.on.day > as_of:
            return False
        return self.ended_on is None or self.ended_on.day > as_of


@dataclass(frozen=True)
class Timeline:
    """Every step of a negotiation, in order, with the record it came from."""

    record: NegotiationRecord
    steps: tuple[Step, ...]
    depth: dict[str, int]

    def statement_key(self, statement: Statement) -> SortKey:
        return (*statement.on.sort_key(), self.depth[statement.id], statement.id)


def build_timeline(record: NegotiationRecord) -> Timeline:
    statements = {s.id: s for s in record.statements}
    depth: dict[str, int] = {}

    def depth_of(sid: str) -> int:
        if sid not in depth:
            target = statements[sid].target
            depth[sid] = 0 if target is None or target not in statements else depth_of(target) + 1
        return depth[sid]

    for sid in statements:
        depth_of(sid)
    keys = {sid: _key(statement, depth) for sid, statement in statements.items()}

    ends: dict[str, Statement] = {}
    for statement in statements.values():
        target = statement.target
        if target is None or target not in statements:
            continue
        current = ends.get(target)
        if current is None or keys[statement.id] < keys[current.id]:
            ends[target] = statement

    # A retraction also ends what clarified its target: the clarification restated it.
    clarified_by: dict[str, list[str]] = {}
    for statement in statements.values():
        if statement.kind is Kind.CLARIFICATION and statement.clarifies in statements:
            clarified_by.setdefault(statement.clarifies, []).append(statement.id)
    retractions = [
        s for s in statements.values() if s.kind is Kind.RETRACTION and s.retracts in statements
    ]
    for statement in sorted(retractions, key=lambda s: keys[s.id]):
        assert statement.retracts is not None
        pending = list(clarified_by.get(statement.retracts, []))
        while pending:
            sid = pending.pop()
            current = ends.get(sid)
            if current is None or keys[statement.id] < keys[current.id]:
                ends[sid] = statement
            pending.extend(clarified_by.get(sid, []))

    coding: dict[str, Step] = {}

    def step_of(sid: str) -> Step:
        if sid in coding:
            return coding[sid]
        statement = statements[sid]
        position, terms = statement.position, statement.terms
        verdict, proposal, conditions = statement.verdict, statement.proposal, statement.conditions
        issue, about = statement.issue, statement.about
        if statement.kind is Kind.RETRACTION and statement.retracts in statements:
            issue = issue or step_of(statement.retracts).issue
        if statement.kind is Kind.CLARIFICATION and statement.clarifies in statements:
            base = step_of(statement.clarifies)
            issue = issue or base.issue
            if position is None:
                position, terms = base.position, (terms or base.terms)
            if verdict is None:
                verdict, proposal, conditions = base.verdict, base.proposal, base.conditions
        party, claimed_by = (
            (about, statement.party) if about is not None else (statement.party, None)
        )
        end = ends.get(sid)
        step = Step(
            key=keys[sid],
            on=statement.on,
            party=party,
            claimed_by=claimed_by,
            issue=issue,
            position=position,
            terms=terms,
            verdict=verdict,
            proposal=proposal,
            conditions=conditions,
            statement=statement,
            tabled=None,
            ended_on=end.on if end is not None else None,
            ended_by=end.id if end is not None else None,
            ended_how=(
                None
                if end is None
                else ("retracted" if end.kind is Kind.RETRACTION else "clarified")
            ),
            ended_key=keys[end.id] if end is not None else None,
        )
        coding[sid] = step
        return step

    steps = [step_of(sid) for sid in statements]
    for proposal in record.negotiation.proposals.values():
        steps.append(
            Step(
                key=(*proposal.on.sort_key(), -1, proposal.id),
                on=proposal.on,
                party=proposal.by,
                claimed_by=None,
                issue=proposal.issue,
                position=proposal.position,
                terms=dict(proposal.terms),
                verdict=Verdict.ACCEPT,
                proposal=proposal.id,
                conditions=(),
                statement=None,
                tabled=proposal,
            )
        )
    steps.sort(key=lambda s: s.key)
    return Timeline(record, tuple(steps), depth)


def _key(statement: Statement, depth: dict[str, int]) -> SortKey:
    on = statement.on  # StatedOn.sort_key, inlined: this runs once per statement of a record
    return (on.day, 1 if on.before is None else 0, depth[statement.id], statement.id)


def in_force(timeline: Timeline, as_of: date) -> list[Step]:
    """The steps that count on ``as_of``, in order."""
    return [s for s in timeline.steps if s.counts(as_of)]


def effective_position(steps: Iterable[Step]) -> Step | None:
    """The step that sets a stance, from steps in force for one party and issue, in order.

    The latest step with a position on the scale wins; a noncommittal step sets the stance only
    when no step has a position on the scale (saying nothing does not withdraw a position).
    """
    committed: Step | None = None
    noncommittal: Step | None = None
    for step in steps:
        if step.position is None:
            continue
        if step.position == NONCOMMITTAL:
            noncommittal = step
        else:
            committed = step
    return committed or noncommittal
