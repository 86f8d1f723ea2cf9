"""Which statements count, and in what order: the rules of docs/codebook.md as code.

Everything here is a pure function of the recorded events. Order never depends on the order
in which statements were imported: a statement's place is its date (imprecise "before" dates
first on their day), then the depth of its clarification chain, then its id.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from positions import steps as rules
from positions.codebook import (
    Amendment,
    Correction,
    Proposal,
    StatedOn,
    Statement,
    TermValue,
    Verdict,
)
from positions.domain import Negotiation, amended, corrected, project_negotiation
from positions.events import STATEMENT_EVENTS, CodingCorrected, DomainEvent, StatementAmended
from positions.search import words
from positions.steps import conditions_text, terms_text

SortKey = tuple[date, int, int, str]
Entry = tuple[datetime, Statement | Correction | Amendment]
"""A statement, a correction or an amendment, with the time it was recorded."""


@dataclass(frozen=True)
class CorrectionRecord:
    """A correction as recorded: its number for that statement, and the coding it replaced."""

    correction: Correction
    recorded_at: datetime
    number: int
    before: Statement
    after: Statement


@dataclass(frozen=True)
class AmendmentRecord:
    """An amendment as recorded: its number for that statement, and the statement before and
    after it."""

    amendment: Amendment
    recorded_at: datetime
    number: int
    before: Statement
    after: Statement


@dataclass(frozen=True)
class NegotiationRecord:
    """A negotiation as recorded (as known at ``known_at``, or now): its definition and every
    statement with the corrections and amendments recorded by then applied."""

    negotiation: Negotiation
    statements: tuple[Statement, ...]
    recorded_at: dict[str, datetime]
    corrections: tuple[CorrectionRecord, ...] = ()
    known_at: datetime | None = None
    originals: dict[str, Statement] | None = None
    amendments: tuple[AmendmentRecord, ...] = ()

    def words_of(self, statement: Statement) -> str:
        """The words ``--search`` looks in (`positions.search`): those of the statement's
        texts as first recorded and as each amendment recorded by then gave them."""
        original = (self.originals or {}).get(statement.id, statement)
        texts = [original.quote, original.quote_original, original.notes]
        for a in self._amendments_of.get(statement.id, ()):
            texts.extend([a.quote, a.quote_original, a.notes])
        return words(*texts)

    @functools.cached_property
    def _amendments_of(self) -> dict[str, list[Amendment]]:
        found: dict[str, list[Amendment]] = {}
        for fix in self.amendments:
            found.setdefault(fix.amendment.statement, []).append(fix.amendment)
        return found

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
            elif isinstance(event, StatementAmended):
                entries.append((event.timestamp, event.amendment))
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
        amendments: list[AmendmentRecord] = []
        counts: dict[str, int] = {}
        numbers: dict[str, int] = {}
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
            if isinstance(entry, Amendment):
                after = amended(before, [entry])
                found[entry.statement] = after
                numbers[entry.statement] = numbers.get(entry.statement, 0) + 1
                fix = AmendmentRecord(entry, recorded_at, numbers[entry.statement], before, after)
                amendments.append(fix)
                continue
            after = corrected(before, [entry])
            found[entry.statement] = after
            counts[entry.statement] = counts.get(entry.statement, 0) + 1
            corrections.append(
                CorrectionRecord(entry, recorded_at, counts[entry.statement], before, after)
            )
        ordered = tuple(sorted(found.values(), key=lambda s: s.id))
        corrections.sort(key=lambda c: (c.recorded_at, c.correction.statement, c.number))
        return cls(
            state,
            ordered,
            recorded,
            tuple(corrections),
            known_at,
            originals,
            tuple(amendments),
        )


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
    tabling: int = 0
    """0 for a statement (minus its party's number in a joint statement); for a tabling, the
    number of the issue of the proposal it is on (`positions.steps.Coding.tabling`)."""
    member: int = 0
    """Which party of a joint statement it is made for (0: the first listed, or the only)."""

    @property
    def source_id(self) -> str:
        if self.statement is not None:
            return self.statement.id
        assert self.tabled is not None
        return self.tabled.id

    @property
    def ident(self) -> tuple[str, int]:
        """What tells it from every other step: its source id and tabling number."""
        return (self.source_id, self.tabling)

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
    """Every statement and tabling of a record as a step, in order: each resolved and ended by
    the rules of `positions.steps` (R3, R4, R7, R9, R10), the code the step tables use too."""
    statements = {s.id: s for s in record.statements}
    parts = {sid: codings_of(statement) for sid, statement in statements.items()}
    """Each statement's codings: one, or one per party of a joint statement."""
    proposals = record.negotiation.proposals.values()
    reported = {p.id: tablings_of(p) for p in proposals if p.reported_by}
    resolved: dict[tuple[str, int], rules.Step] = {}

    def resolve(coding: rules.Coding, path: frozenset[str]) -> rules.Step:
        key = (coding.source_id, coding.tabling)
        found = resolved.get(key)
        if found is None:
            sid, target = coding.source_id, coding.target
            base: rules.Step | None = None
            if target is not None and target in statements and target not in path:
                base = rules.target_of(coding, [resolve(c, path | {sid}) for c in parts[target]])
            tablings = reported.get(coding.proposal or "", ())
            tabled = rules.reported_for(coding, tablings) if tablings else None
            found = resolved[key] = rules.resolve(coding, base, tabled)
        return found

    for codings in parts.values():
        for coding in codings:
            resolve(coding, frozenset())
    naming: dict[str, list[rules.Step]] = {}
    retracting: dict[str, list[rules.Step]] = {}
    for step in resolved.values():
        target = step.coding.target
        if target is not None and target in statements:
            naming.setdefault(target, []).append(step)
            if step.coding.retracts is not None:
                retracting.setdefault(target, []).append(step)

    def ancestors(sid: str) -> list[rules.Step]:
        """The retractions of every statement ``sid`` clarifies, directly or by a chain."""
        found: list[rules.Step] = []
        seen = {sid}
        parent = statements[sid].clarifies
        while parent is not None and parent in statements and parent not in seen:
            seen.add(parent)
            found.extend(retracting.get(parent, ()))
            parent = statements[parent].clarifies
        return found

    steps = []
    for (sid, number), rule_step in resolved.items():
        ended_by, how, ended_key = rules.ender(rule_step, naming.get(sid, ()), ancestors(sid))
        statement = statements[sid]
        end = statements[ended_by] if ended_by is not None else None
        steps.append(
            Step(
                key=_key(rule_step),
                on=statement.on,
                party=rule_step.party,
                claimed_by=rule_step.claimant or None,
                issue=rule_step.issue,
                position=rule_step.position,
                terms=json.loads(rule_step.terms),
                verdict=Verdict(rule_step.verdict) if rule_step.verdict is not None else None,
                proposal=rule_step.proposal,
                conditions=tuple(json.loads(rule_step.conditions)),
                statement=statement,
                tabled=None,
                ended_on=end.on if end is not None else None,
                ended_by=ended_by,
                ended_how=how,
                ended_key=_date_key(ended_key) if ended_key is not None else None,
                tabling=number,
                member=rule_step.coding.member,
            )
        )
    for proposal in record.negotiation.proposals.values():
        covers = proposal.covered * len(proposal.proposers)
        for tabling, cover in zip(tablings_of(proposal), covers, strict=True):
            step = rules.resolve(tabling, None)
            steps.append(
                Step(
                    key=_key(step),
                    on=proposal.on,
                    party=step.party,
                    claimed_by=step.claimant or None,
                    issue=cover.issue,
                    position=cover.position,
                    terms=dict(cover.terms),
                    verdict=Verdict(step.verdict) if step.verdict is not None else None,
                    proposal=proposal.id,
                    conditions=(),
                    statement=None,
                    tabled=proposal,
                    tabling=tabling.tabling,
                    member=tabling.member,
                )
            )
    steps.sort(key=lambda s: s.key)
    depth = {sid: step.depth for (sid, _), step in resolved.items()}
    return Timeline(record, tuple(steps), depth)


def _key(step: rules.Step) -> SortKey:
    """The order key of R1 with the day as a date (`rules.Step.key` has its ordinal)."""
    return _date_key(step.key)


def _date_key(key: rules.Key) -> SortKey:
    day, slot, depth, ident = key
    return (date.fromordinal(day), slot, depth, ident)


def coding_of(statement: Statement) -> rules.Coding:
    """The `steps.Coding` of a statement as recorded (its corrections applied)."""
    on = statement.on
    return rules.Coding(
        source_id=statement.id,
        tabling=0,
        party=statement.party,
        about=statement.about,
        issue=statement.issue,
        position=statement.position,
        terms=terms_text(statement.terms),
        verdict=statement.verdict.value if statement.verdict is not None else None,
        proposal=statement.proposal,
        conditions=conditions_text(statement.conditions),
        day=on.day.toordinal(),
        slot=on.slot,
        stated_on=str(on),
        clarifies=statement.clarifies,
        retracts=statement.retracts,
        recorded_at="",
        notification_id=0,
    )


def codings_of(statement: Statement) -> list[rules.Coding]:
    """A statement's codings: one, or one per party of a joint statement (`steps.members`)."""
    return rules.members(coding_of(statement), statement.parties)


def tablings_of(proposal: Proposal) -> list[rules.Coding]:
    """The codings of a proposal's tabling, one per proposer and issue covered (R7)."""
    on = proposal.on
    return rules.tablings(
        proposal.id,
        proposal.proposers,
        proposal.reported_by,
        [(c.issue, c.position, terms_text(c.terms)) for c in proposal.covered],
        on.day.toordinal(),
        on.slot,
        str(on),
    )


def in_force(timeline: Timeline, as_of: date) -> list[Step]:
    """The steps that count on ``as_of``, in order."""
    return [s for s in timeline.steps if s.counts(as_of)]
