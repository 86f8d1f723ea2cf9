"""Analysis over a timeline: shifts, gaps and common ground, the compromise outlook.

Pure functions; the rules are numbered in docs/codebook.md and the formulas are in
docs/analysis.md.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date

from positions.codebook import NONCOMMITTAL, Issue, Kind
from positions.steps import sweep
from positions.timeline import Step, Timeline

NEW = "new"
UNCHANGED = "unchanged"
HARDENED = "hardened"
SOFTENED = "softened"
UP = "up"
DOWN = "down"
WITHDRAWN = "withdrawn"


@dataclass(frozen=True)
class Shift:
    """How one statement moved its party's effective position on an issue."""

    shift: str | None
    ranks: int | None
    before: Step | None
    after: Step | None


def own_steps(timeline: Timeline, party: str, issue: str) -> list[Step]:
    """A party's own steps on an issue (claims about it excluded), in order."""
    return [
        s for s in timeline.steps if s.party == party and s.issue == issue and s.claimed_by is None
    ]


def effective_by_day(steps: list[Step]) -> tuple[list[date], list[Step | None]]:
    """For one party, issue and claimant: the step that sets the stance at the end of each day
    on which it may change, in day order (`bisect` the days to answer any as-of date)."""
    days: list[date] = []
    chosen: list[Step | None] = []
    for key, _, _, after in sweep(steps):
        if days and days[-1] == key[0]:
            chosen[-1] = after
        else:
            days.append(key[0])
            chosen.append(after)
    return days, chosen


class Sweep:
    """One pass over a timeline: every step's shift (rule R13), and each party's effective rank
    per issue day by day, for the others' mean that tells hardening from softening."""

    def __init__(self, timeline: Timeline) -> None:
        self.timeline = timeline
        negotiation = timeline.record.negotiation
        groups: dict[tuple[str, str], list[Step]] = {}
        for step in timeline.steps:
            if step.claimed_by is None and step.issue in negotiation.issues:
                groups.setdefault((step.party, step.issue), []).append(step)
        self.series: dict[tuple[str, str], tuple[list[date], list[int | None]]] = {}
        self.effective: dict[tuple[str, str], tuple[list[date], list[Step | None]]] = {}
        """Each party's own effective step per issue at the end of each day it may change
        (what `effective_by_day` gives for the group), from the same pass."""
        self.moves: dict[tuple[str, int], tuple[Step, Step | None, Step | None]] = {}
        for (party, issue_id), steps in groups.items():
            self.moves.update(self._sweep(party, negotiation.issues[issue_id], steps))
        self.shifts = Shifts(self)

    def shift_of(self, ident: tuple[str, int]) -> Shift:
        step, before, after = self.moves[ident]
        issue = self.timeline.record.negotiation.issues[step.issue or ""]
        return self._shift(step, step.party, issue, before, after)

    def _sweep(
        self, party: str, issue: Issue, steps: list[Step]
    ) -> dict[tuple[str, int], tuple[Step, Step | None, Step | None]]:
        moves: dict[tuple[str, int], tuple[Step, Step | None, Step | None]] = {}
        days: list[date] = []
        ranks: list[int | None] = []
        chosen: list[Step | None] = []
        ranks_of: dict[str | None, int | None] = {None: None}  # the issue's ranks, as met
        for key, added, before, after in sweep(steps):
            if added is not None:
                moves[added.ident] = (added, before, after)
            position = after.position if after is not None else None
            if position in ranks_of:
                rank = ranks_of[position]
            else:
                rank = ranks_of[position] = issue.rank(position)
            if days and days[-1] == key[0]:
                ranks[-1] = rank
                chosen[-1] = after
            else:
                days.append(key[0])
                ranks.append(rank)
                chosen.append(after)
        self.series[(party, issue.id)] = (days, ranks)
        self.effective[(party, issue.id)] = (days, chosen)
        return moves

    def rank_at(self, party: str, issue: str, day: date) -> int | None:
        """A party's effective rank on an issue at the end of ``day``."""
        days, ranks = self.series.get((party, issue), ([], []))
        index = bisect.bisect_right(days, day)
        return ranks[index - 1] if index else None

    def others_mean(self, party: str, issue: str, day: date) -> float | None:
        return others_mean(
            party,
            self.timeline.record.negotiation.parties,
            lambda other: self.rank_at(other, issue, day),
        )

    def classify(
        self, party: str, issue: str, day: date, before: int | None, after: int | None
    ) -> str:
        """Name a move from rank ``before`` to rank ``after`` (rule R13)."""
        return classify_move(before, after, lambda: self.others_mean(party, issue, day))

    def _shift(
        self, step: Step, party: str, issue: Issue, before: Step | None, after: Step | None
    ) -> Shift:
        retraction = step.statement is not None and step.statement.kind is Kind.RETRACTION
        name, ranks = shift_of(
            step.position,
            retraction,
            rank_of(issue, before),
            rank_of(issue, after),
            after is not None,
            lambda: self.others_mean(party, issue.id, step.on.day),
        )
        return Shift(name, ranks, before, after)


def others_mean(
    party: str, parties: Iterable[str], rank_of: Callable[[str], int | None]
) -> float | None:
    """The mean rank of the other parties' own positions on a day (R13's yardstick), given
    each party's rank that day; None if none holds one."""
    held = [rank for other in parties if other != party and (rank := rank_of(other)) is not None]
    return sum(held) / len(held) if held else None


def classify_move(before: int | None, after: int | None, mean: Callable[[], float | None]) -> str:
    """Name a move from rank ``before`` to rank ``after`` (rule R13), given the mean rank of
    the other parties' own positions that day (asked for only when the rank moves)."""
    if before == after:
        return UNCHANGED
    assert before is not None
    assert after is not None
    others = mean()
    if others is not None:
        if abs(after - others) > abs(before - others):
            return HARDENED
        if abs(after - others) < abs(before - others):
            return SOFTENED
    return UP if after > before else DOWN


def shift_of(
    position: str | None,
    retraction: bool,
    rank_before: int | None,
    rank_after: int | None,
    has_after: bool,
    mean: Callable[[], float | None],
) -> tuple[str | None, int | None]:
    """A step's shift and signed rank difference (rule R13), from its own (resolved)
    position, whether it is a retraction, the ranks in force just before and after it in its
    group, whether any step is in force after it, and the others' mean that day."""
    if position is None and not retraction:
        return None, None
    name: str | None
    if position == NONCOMMITTAL and rank_after == rank_before:
        name = NONCOMMITTAL
    elif rank_after is None:
        name = WITHDRAWN if rank_before is not None else (NONCOMMITTAL if has_after else None)
    elif rank_before is None:
        name = NEW
    else:
        name = classify_move(rank_before, rank_after, mean)
    ranks = rank_after - rank_before if rank_after is not None and rank_before is not None else None
    return name, ranks


class Shifts(Mapping[tuple[str, int], Shift]):
    """Each step's shift by its `Step.ident` (source id and tabling number), computed when
    first asked for: a stance table needs a few, a history all of them."""

    def __init__(self, sweep: Sweep) -> None:
        self._sweep = sweep
        self._known: dict[tuple[str, int], Shift] = {}

    def __getitem__(self, ident: tuple[str, int]) -> Shift:
        found = self._known.get(ident)
        if found is None:
            found = self._known[ident] = self._sweep.shift_of(ident)
        return found

    def __iter__(self) -> Iterator[tuple[str, int]]:
        return iter(self._sweep.moves)

    def __len__(self) -> int:
        return len(self._sweep.moves)


def rank_of(issue: Issue, step: Step | None) -> int | None:
    return issue.rank(step.position) if step is not None else None


def weighted_median(points: list[tuple[float, float]]) -> float | None:
    """The rank at which the cumulative weight first reaches half the total (Black's median)."""
    total = sum(weight for _, weight in points)
    if total <= 0:
        return None
    running = 0.0
    for rank, weight in sorted(points):
        running += weight
        if running >= total / 2:
            return rank
    return None  # pragma: no cover - unreachable with a positive total


def nearest_label(issue: Issue, rank: float | None) -> str | None:
    """The scale point nearest to a (possibly fractional) rank; halves round up the scale."""
    if rank is None:
        return None
    index = min(max(math.floor(rank + 0.5), 1), len(issue.scale))
    return issue.scale[index - 1].label


def explain_effect(
    final: bool,
    tabling: bool,
    position: str | None,
    kind: str,
    retracts: str | None,
    stated_on: str,
    ended: tuple[str, str, str] | None,
    confirms: str | None = None,
) -> tuple[str, str]:
    """What one of a party's own steps on an issue does to its stance on the day asked for,
    and the rules of docs/codebook.md that decide it (`explain`). ``final``: the step sets the
    stance; ``ended``: (how, by which statement, on which day) when it was ended by then;
    ``confirms``: the proposal known from another party's account whose position the statement
    states by accepting it (`steps.confirmed_proposal`)."""
    if final:
        if tabling:
            return "sets the stance: tabling a proposal states the proposer's position", "R5, R7"
        if confirms is not None:
            return (
                f"sets the stance: accepting '{confirms}', known until then from another "
                "party's account, states its position",
                "R5, R7",
            )
        if position == NONCOMMITTAL:
            return "sets the stance: nothing on the scale was said", "R6"
        if kind == "clarification":
            return "sets the stance: carries the clarified coding", "R4, R5"
        return "sets the stance: the latest position in force", "R5"
    if not tabling and kind == "retraction":
        return f"ends '{retracts}' from {stated_on}", "R3, R10"
    if ended is not None:
        how, by, on = ended
        return f"{how} by '{by}' on {on}", ("R3, R10" if how == "retracted" else "R3")
    if position is None:
        return "gives no position on the scale (a verdict only)", "R8"
    if position == NONCOMMITTAL:
        return "noncommittal: leaves the earlier position standing", "R6"
    return "superseded by a later position", "R5"
