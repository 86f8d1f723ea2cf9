"""The steps of a negotiation: what each statement (or tabling) sets, and what is in force when.

A pure module: no I/O, no store, no file format. `positions.views.tables` keeps its results in the
views as a bitemporal table; the in-memory timeline (`positions.timeline`) decides the same
rules for the Python oracle, and `analysis.sweep` is the one sweep both use.

- `Coding`: a statement or a proposal's tabling as recorded, with the coding in force (every
  correction applied), in the few fields the rules read.
- `resolve`: the step a coding gives (R4: a clarification carries its target's coding; R7: a
  tabling states its proposer's position and accepts itself; R9: a claim is a step of the party
  it is about, claimed by its maker).
- `ender`: the statement that ends a step (R3, R10).
- `sweep_group`: one group's steps swept from a key on (R1-R3, R5, R6, R8): each step's
  effective position just before and after it, and the intervals of days in which one step is in
  force.

Order keys are tuples ``(day ordinal, slot in the day, depth, id)`` (R1) and, in the database, the
same as fixed-width text (`key_text`), so that text order is key order.
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from positions.codebook import NONCOMMITTAL

RULES_VERSION = 4
"""The version of these rules and of the step rows' layout, kept in the views: a store whose
step tables were made under another is folded again (`views.store.ViewStore`). Raise it with
any change to what a rule decides or to how a step row or key is written (2: times of day in
R1's order, and nothing ends a step before it is made; 3: a package's tabling is one step per
issue it covers, ``tabling`` its number; 4: a joint statement is one step per party)."""

OPEN_DAY = 10**7
"""The end of an interval still open (after every day ordinal)."""

OWN = ""
"""The claimant of a party's own steps."""

PROPOSAL = "proposal"
CLARIFICATION = "clarification"
RETRACTION = "retraction"
CLAIM = "claim"
POSITION = "position"

Key = tuple[int, int, int, str]
"""(day ordinal, slot in the day, depth, id): rule R1. The slot (`codebook.slot_of`) is 0 for a
"before" date, 1 for a day without a time, and more for a time of day, in the order of the times."""


def terms_text(terms: Any) -> str:
    """Terms as canonical JSON text (sorted keys): the form steps and queries share."""
    return json.dumps(terms, sort_keys=True, ensure_ascii=False) if terms else "{}"


def conditions_text(conditions: Sequence[str]) -> str:
    return json.dumps(list(conditions), ensure_ascii=False) if conditions else "[]"


def key_text(key: Key) -> str:
    """An order key as text whose order is the key's order (R1)."""
    day, slot, depth, ident = key
    return f"{day:07d}{slot:06d}{depth + 1:04d}{ident}"


def key_of_text(text: str) -> Key:
    """The order key of a `key_text`."""
    return (int(text[:7]), int(text[7:13]), int(text[13:17]) - 1, text[17:])


def day_key(day: int) -> str:
    """The text below every `key_text` of day ``day`` (a date's ordinal) and above every key
    of the days before it: ``sort_key < day_key(d + 1)`` is ``day <= d``, in a key's index."""
    return f"{day:07d}"


@dataclass(frozen=True, slots=True)
class Coding:
    """A statement or a tabling as recorded, with its coding in force: the fields the rules
    read. Terms and conditions are canonical JSON text (sorted keys), so that codings compare
    as values."""

    source_id: str
    tabling: int
    """What tells this coding from the others of its source: 0 for a statement (minus the
    `member` of a joint statement's party); for a proposal's tabling, the number (from 1) of
    the issue it covers that this coding is on (a proposal on one issue has one, a package
    one per issue: R7)."""
    party: str
    """The party that made it (the proposer of a tabling, or the party that reported a
    proposal known only from its account, whose claim about the proposer it then is)."""
    about: str | None
    issue: str | None
    position: str | None
    terms: str
    verdict: str | None
    proposal: str | None
    conditions: str
    day: int
    slot: int
    """Its place within its day (R1, `codebook.slot_of`)."""
    stated_on: str
    clarifies: str | None
    retracts: str | None
    recorded_at: str
    """When the statement was first recorded (a `views.fold.stamp`); empty for a tabling."""
    notification_id: int
    """The event that recorded it (0 for a tabling)."""
    member: int = 0
    """Which of the parties of a joint statement this coding is made for (0: the first
    listed, or the only party); its ``tabling`` is then minus this number (`members`)."""
    parties: tuple[str, ...] = ()
    """Every party of a joint statement, as listed (empty for a statement of one party)."""

    @property
    def target(self) -> str | None:
        return self.retracts or self.clarifies

    @property
    def is_tabling(self) -> bool:
        return self.tabling > 0

    @property
    def kind(self) -> str:
        if self.is_tabling:
            return PROPOSAL
        if self.retracts is not None:
            return RETRACTION
        if self.clarifies is not None:
            return CLARIFICATION
        if self.about is not None:
            return CLAIM
        return POSITION


@dataclass(frozen=True, slots=True)
class Step:
    """What one coding sets, once the rules are applied: its group (``party``, ``issue``,
    ``claimant``), its resolved coding, its order key, what ended it, and the effective
    position just before and after it in its group (for shifts, R13)."""

    coding: Coding
    party: str
    claimant: str
    issue: str | None
    position: str | None
    terms: str
    verdict: str | None
    proposal: str | None
    conditions: str
    depth: int
    ended_by: str | None = None
    ended_how: str | None = None
    ended_key: Key | None = None
    before: str | None = None
    """The position in force in its group just before it (None: none)."""
    after: str | None = None
    """The position in force in its group just after it."""

    @property
    def source_id(self) -> str:
        return self.coding.source_id

    @property
    def key(self) -> Key:
        c = self.coding
        return (c.day, c.slot, self.depth, c.source_id)

    @property
    def group(self) -> tuple[str, str | None, str]:
        return (self.party, self.issue, self.claimant)

    @property
    def verdict_group(self) -> tuple[str, str, str] | None:
        if self.verdict is None or self.proposal is None:
            return None
        return (self.party, self.proposal, self.claimant)


PROPOSER_SPAN = 100
"""The tabling numbers of one proposer of a joint proposal: its m-th proposer's step on the
n-th issue covered is ``m * PROPOSER_SPAN + n`` (a proposal covers at most 50 issues)."""


def tablings(
    proposal: str,
    proposers: Sequence[str],
    reporter: str | None,
    covers: Sequence[tuple[str, str, str]],
    day: int,
    slot: int,
    stated_on: str,
) -> list[Coding]:
    """The codings of a proposal's tabling (R7): one per proposer (several for a joint
    proposal) and issue covered (``covers``: issue, position and terms text, in order), each
    the proposer's own, or, for a proposal known from ``reporter``'s account, its claim about
    the proposer."""
    # a joint proposal's steps are its proposers' own; reported, each is a claim about one
    joint = tuple(proposers) if len(proposers) > 1 and reporter is None else ()
    return [
        Coding(
            source_id=proposal,
            tabling=m * PROPOSER_SPAN + n,
            party=proposer if reporter is None else reporter,
            about=None if reporter is None else proposer,
            issue=issue,
            position=position,
            terms=terms,
            verdict=None,
            proposal=None,
            conditions="[]",
            day=day,
            slot=slot,
            stated_on=stated_on,
            clarifies=None,
            retracts=None,
            recorded_at="",
            notification_id=0,
            member=m if joint else 0,
            parties=joint,
        )
        for m, proposer in enumerate(proposers)
        for n, (issue, position, terms) in enumerate(covers, start=1)
    ]


def members(coding: Coding, parties: Sequence[str]) -> list[Coding]:
    """The codings of a statement made by ``parties`` together (a joint statement), one per
    party, each the party's own statement (R17); a statement of one party is its one coding."""
    if len(parties) < 2:
        return [coding]
    listed = tuple(parties)
    return [
        replace(coding, party=party, tabling=-n, member=n, parties=listed)
        for n, party in enumerate(listed)
    ]


def shown(own: str, parties: Sequence[str], member: int, party: str | None) -> bool:
    """Whether a row of `history` (asked about ``party``, or every party) shows the coding of
    a statement made for ``own``, the ``member``-th of its ``parties`` (none: a statement of
    one party): every coding of a statement of one party; of a joint statement, which is
    shown once, the one made for the party asked about if it is one of them, else the first."""
    if not parties:
        return True
    if party is not None and party in parties:
        return own == party
    return member == 0


def target_of(coding: Coding, parts: Sequence[Step]) -> Step | None:
    """Of the steps of the statement a coding clarifies or retracts (one per party of a joint
    statement), the one it carries (R4): the step made for the coding's own party, else the
    first (a denial of a claim, say)."""
    mine = next((p for p in parts if p.coding.party == coding.party), None)
    return mine if mine is not None else (parts[0] if parts else None)


def resolve(coding: Coding, target: Step | None, reported: Coding | None = None) -> Step:
    """The step of a coding, given the step of the statement it clarifies or retracts (R4, R7,
    R9). ``target`` is None for a statement that names none, or names one not recorded.
    ``reported`` is the tabling of the proposal the statement gives a verdict on, where that
    proposal is known only from another party's account (`confirmed`)."""
    if coding.is_tabling:
        return Step(
            coding,
            party=coding.about or coding.party,
            claimant=OWN if coding.about is None else coding.party,
            issue=coding.issue,
            position=coding.position,
            terms=coding.terms,
            verdict="accept" if coding.tabling % PROPOSER_SPAN == 1 else None,  # once (R7)
            proposal=coding.source_id,
            conditions="[]",
            depth=-1,
        )
    issue, position, terms = coding.issue, coding.position, coding.terms
    verdict, proposal, conditions = coding.verdict, coding.proposal, coding.conditions
    if reported is not None and confirmed(coding, reported):
        issue, position, terms = reported.issue, reported.position, reported.terms
    if target is not None and coding.retracts is not None:
        issue = issue or target.issue
    if target is not None and coding.clarifies is not None:
        issue = issue or target.issue
        if position is None:
            position = target.position
            terms = terms if terms != "{}" else target.terms
        if verdict is None:
            verdict, proposal, conditions = target.verdict, target.proposal, target.conditions
    party, claimant = (
        (coding.about, coding.party) if coding.about is not None else (coding.party, OWN)
    )
    return Step(
        coding,
        party=party,
        claimant=claimant,
        issue=issue,
        position=position,
        terms=terms,
        verdict=verdict,
        proposal=proposal,
        conditions=conditions,
        depth=0 if target is None else target.depth + 1,
    )


def reported_for(coding: Coding, tablings: Sequence[Coding]) -> Coding | None:
    """Of the tabling codings of a proposal known only from another party's account, the one
    a statement answering it could confirm (`confirmed`): the one about the statement's party
    on the statement's issue; a statement naming no issue, the only one of a proposal on one
    issue (a package's positions are confirmed issue by issue, R7)."""
    mine = [t for t in tablings if t.about == coding.party]  # of a joint one, its own
    if coding.issue is None:
        return mine[0] if len(mine) == 1 else None
    return next((t for t in mine if t.issue == coding.issue), None)


def confirmed(coding: Coding, reported: Coding) -> bool:
    """Whether a statement confirms a proposal known only from another party's account (R7):
    the proposer's own statement accepting it, that gives no position of its own and no other
    issue. It then states the proposal's position, from its own day."""
    return (
        reported.tabling > 0
        and reported.about is not None
        and not coding.is_tabling
        and coding.about is None
        and coding.target is None
        and coding.party == reported.about
        and coding.verdict == "accept"
        and coding.proposal == reported.source_id
        and coding.position is None
        and coding.issue in (None, reported.issue)
    )


def confirmed_proposal(
    given: str | None, target: str | None, position: str | None, proposal: str | None
) -> str | None:
    """The proposal a statement's step took its position from (`confirmed`), given the
    position the statement itself gives, its target, and its step's position and proposal:
    a statement that names no target, gives no position, and whose step has one."""
    if given is None and target is None and position is not None:
        return proposal
    return None


def ender(
    step: Step,
    naming: Iterable[Step],
    retracting_ancestors: Iterable[Step],
) -> tuple[str | None, str | None, Key | None]:
    """What ends ``step`` (R3, R10): the first of the statements naming it, and of the
    retractions of a statement it clarifies (directly or through a chain of clarifications),
    made after it and for its party (`speaks_for`); ``(ended_by, how, key)``, or Nones.
    Nothing ends a step before it is made: a clarification made after its target was
    retracted is not ended by that retraction (R3)."""
    first: Step | None = None
    made = step.key
    for other in (*naming, *retracting_ancestors):
        if not speaks_for(other.coding, step.coding):
            continue
        if other.key > made and (first is None or other.key < first.key):
            first = other
    if first is None:
        return None, None, None
    how = "retracted" if first.coding.retracts is not None else "clarified"
    return first.source_id, how, first.key


def speaks_for(naming: Coding, named: Coding) -> bool:
    """Whether a clarification or retraction ends a step it names (R3, R17): one made for the
    party the step is made for (each party of a joint statement ends its own step), or the
    denial of a claim by the party it is about."""
    if naming.party == named.party:
        return True
    return naming.retracts is not None and named.about is not None and naming.party == named.about


@dataclass(frozen=True, slots=True)
class Interval:
    """One step in force in a group from day ``start`` (included) to ``end`` (excluded)."""

    start: int
    end: int
    step: Step


class _Live:
    """The steps in force for one party and issue, with the effective one at hand (rules R5,
    R6): lazy-deletion heaps keyed by the steps' order."""

    def __init__(self) -> None:
        self.committed: list[tuple[Any, str]] = []
        self.noncommittal: list[tuple[Any, str]] = []
        self.steps: dict[str, Any] = {}

    def add(self, step: Any) -> None:
        if step.position is None:
            return  # a verdict or a bare retraction sets no position (R5)
        self.steps[step.source_id] = step
        heap = self.noncommittal if step.position == NONCOMMITTAL else self.committed
        heapq.heappush(heap, (_negated(step.key), step.source_id))

    def remove(self, source_id: str) -> None:
        self.steps.pop(source_id, None)

    def effective(self) -> Any:
        for heap in (self.committed, self.noncommittal):
            while heap and heap[0][1] not in self.steps:
                heapq.heappop(heap)
            if heap:
                return self.steps[heap[0][1]]
        return None


class Sweeper:
    """The sweep of one group (rules R3, R5, R6), fed one step at a time in order: each step
    is made at its key and ends at its ``ended_key``; `feed` and `finish` give, at each key
    where a step is made or ends, that key, the step made there (if any), and the effective
    step just before and just after it."""

    def __init__(self) -> None:
        self.live = _Live()
        self.ends: list[tuple[Any, str]] = []
        """(key, id) of the steps in force that end later (a heap)."""

    def ends_before(self, key: Any) -> Iterator[tuple[Any, Any, Any, Any]]:
        """The ends of steps in force before ``key`` (every one, for None)."""
        while self.ends and (key is None or self.ends[0][0] < key):
            at = self.ends[0][0]
            before = self.live.effective()
            while self.ends and self.ends[0][0] == at:
                self.live.remove(heapq.heappop(self.ends)[1])
            yield at, None, before, self.live.effective()

    def feed(self, step: Any) -> Iterator[tuple[Any, Any, Any, Any]]:
        key = step.key
        yield from self.ends_before(key)
        before = self.live.effective()
        while self.ends and self.ends[0][0] == key:
            self.live.remove(heapq.heappop(self.ends)[1])
        if step.ended_key is None or step.ended_key > key:  # one ended before made never counts
            self.live.add(step)
            if step.ended_key is not None:
                heapq.heappush(self.ends, (step.ended_key, step.source_id))
        yield key, step, before, self.live.effective()

    def finish(self) -> Iterator[tuple[Any, Any, Any, Any]]:
        yield from self.ends_before(None)


def sweep(steps: Sequence[Any]) -> Iterator[tuple[Any, Any, Any, Any]]:
    """`Sweeper` over a whole group's steps."""
    sweeper = Sweeper()
    for step in sorted(steps, key=lambda s: s.key):
        yield from sweeper.feed(step)
    yield from sweeper.finish()


def _negated(key: Any) -> Any:
    day, precision, depth, ident = key
    ordinal = day if isinstance(day, int) else day.toordinal()
    return (-ordinal, -precision, -depth, _Reversed(ident))


class _Reversed(str):
    __slots__ = ()

    def __lt__(self, other: str) -> bool:
        return str.__gt__(self, other)

    def __gt__(self, other: str) -> bool:
        return str.__lt__(self, other)


@dataclass(frozen=True, slots=True)
class _Swept:
    """A step as `analysis.sweep` reads it: its key, position (or verdict), id and end."""

    key: Key
    position: str | None
    source_id: str
    ended_key: Key | None
    step: Step


def sweep_group(
    steps: Iterable[Step],
    since: Key,
    *,
    verdicts: bool = False,
    settled: Callable[[Step], bool] | None = None,
) -> tuple[dict[str, tuple[str | None, str | None]], list[tuple[int, Step | None]], bool]:
    """Sweep one group's steps (R3, R5, R6; with ``verdicts``, R8 over their verdicts), given
    in key order: every step of the group from ``since`` on, and enough of those in force just
    before it (`stepstore` picks them). Returns each step's effective position just before and
    after it, for the steps from ``since`` on; the step in force at the end of each day on
    which it may change, from the day of ``since`` on; and whether the sweep stopped early.
    With ``settled``, the sweep stops at the end of the day of the first step for which it
    says that nothing later can differ from what was swept before (`stepstore`)."""
    moves: dict[str, tuple[str | None, str | None]] = {}
    days: list[tuple[int, Step | None]] = []
    last: Step | None = None
    """The step in force after the latest key swept."""
    started = False
    stop_day: int | None = None
    sweeper = Sweeper()

    def record(events: Iterator[tuple[Any, Any, Any, Any]]) -> None:
        nonlocal last, started
        for key, added, before, after in events:
            chosen = after.step if after is not None else None
            if key < since:
                last = chosen
                continue
            if not started:
                started = True
                if key[0] > since[0]:  # nothing happens on the day of ``since`` itself
                    days.append((since[0], last))
            last = chosen
            if added is not None:
                moves[added.source_id] = (
                    before.position if before is not None else None,
                    after.position if after is not None else None,
                )
            if days and days[-1][0] == key[0]:
                days[-1] = (key[0], chosen)
            else:
                days.append((key[0], chosen))

    stopped = False
    for step in steps:
        if stop_day is not None and step.key[0] > stop_day:
            stopped = True
            break
        swept = _Swept(
            step.key,
            step.verdict if verdicts else step.position,
            step.source_id,
            step.ended_key,
            step,
        )
        record(sweeper.feed(swept))
        if settled is not None and settled(step) and stop_day is None and step.key >= since:
            stop_day = step.key[0]
    if stopped:
        assert stop_day is not None
        record(sweeper.ends_before((stop_day + 1, -1, -2, "")))  # the rest of that day
    else:
        record(sweeper.finish())
    if not started:
        days.append((since[0], last))
    return moves, days, stopped


def intervals(days: Sequence[tuple[int, Step | None]]) -> list[Interval]:
    """The days of `sweep_group` as intervals, one per run of days with the same step in
    force (a day with none in force ends an interval and starts none)."""
    found: list[Interval] = []
    for n, (day, chosen) in enumerate(days):
        end = days[n + 1][0] if n + 1 < len(days) else OPEN_DAY
        if chosen is None:
            continue
        if found and found[-1].end == day and _same(found[-1].step, chosen):
            found[-1] = replace(found[-1], end=end)
        else:
            found.append(Interval(day, end, chosen))
    return found


def _same(a: Step, b: Step) -> bool:
    return a.source_id == b.source_id and a.coding.tabling == b.coding.tabling


def descendants(roots: Iterable[str], clarifications: Mapping[str, Sequence[str]]) -> list[str]:
    """Every statement that clarifies one of ``roots``, directly or through a chain."""
    found: list[str] = []
    seen: set[str] = set()
    pending = list(roots)
    while pending:
        sid = pending.pop()
        for child in clarifications.get(sid, ()):
            if child not in seen:
                seen.add(child)
                found.append(child)
                pending.append(child)
    return found


@dataclass(frozen=True, slots=True)
class Said:
    """What R16 reads of a party's own statement: its day and slot in the day (R1), the
    statement it qualifies, and the point of the scale (or verdict) it gives."""

    source_id: str
    day: int
    slot: int
    target: str | None
    value: str | None


def unordered(one: int, other: int) -> bool:
    """R16: whether two statements of one day are made at no times that order them: both
    "before" the next day, or both precise and at the same time, or one of them without a
    time (R1 puts it first, but nothing says it came first)."""
    if one == 0 or other == 0:
        return one == other
    return one == other or min(one, other) == 1


def rivals(chosen: Said, others: Iterable[Said]) -> list[str]:
    """R16: of ``others`` (the party's own statements in the chosen one's group that count on
    the day asked for), those made on the same day, neither qualifying the other, that put
    the party at another point of the scale (or give another verdict): the cell is contested.
    Noncommittal statements and statements without a value never contest."""
    if chosen.value in (None, NONCOMMITTAL):
        return []
    return sorted(
        other.source_id
        for other in others
        if other.source_id != chosen.source_id
        and other.day == chosen.day
        and unordered(other.slot, chosen.slot)
        and other.value not in (None, NONCOMMITTAL, chosen.value)
        and other.target != chosen.source_id
        and chosen.target != other.source_id
    )
