"""Analysis over a timeline: shifts, gaps and common ground, the compromise outlook.

Pure functions; the rules are numbered in docs/codebook.md and the formulas are in
docs/analysis.md.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from positions.codebook import NONCOMMITTAL, Issue, Kind
from positions.timeline import SortKey, Step, Timeline, effective_position, in_force

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


def effective_at(steps: Iterable[Step], key: SortKey, inclusive: bool) -> Step | None:
    """The effective step just before (or just after) the step at ``key``."""
    live = []
    for step in steps:
        made = step.key <= key if inclusive else step.key < key
        if not made:
            continue
        if step.ended_key is not None and (
            step.ended_key <= key if inclusive else step.ended_key < key
        ):
            continue
        live.append(step)
    return effective_position(live)


def rank_of(issue: Issue, step: Step | None) -> int | None:
    return issue.rank(step.position) if step is not None else None


def others_mean(timeline: Timeline, party: str, issue: str, day: date) -> float | None:
    """The mean rank of the other parties' own positions on ``day``; None if none holds one."""
    definition = timeline.record.negotiation.issues[issue]
    steps = in_force(timeline, day)
    ranks = []
    for other in timeline.record.negotiation.parties:
        if other == party:
            continue
        held = [s for s in steps if s.party == other and s.issue == issue and s.claimed_by is None]
        rank = rank_of(definition, effective_position(held))
        if rank is not None:
            ranks.append(rank)
    return sum(ranks) / len(ranks) if ranks else None


def classify(
    timeline: Timeline, party: str, issue: str, day: date, before: int | None, after: int | None
) -> str:
    """Name a move from rank ``before`` to rank ``after`` (rule R13)."""
    if before == after:
        return UNCHANGED
    assert before is not None
    assert after is not None
    mean = others_mean(timeline, party, issue, day)
    if mean is not None:
        if abs(after - mean) > abs(before - mean):
            return HARDENED
        if abs(after - mean) < abs(before - mean):
            return SOFTENED
    return UP if after > before else DOWN


def shifts(timeline: Timeline) -> dict[str, Shift]:
    """The shift of every own step (keyed by statement or proposal id)."""
    out: dict[str, Shift] = {}
    negotiation = timeline.record.negotiation
    for party in negotiation.parties:
        for issue_id, issue in negotiation.issues.items():
            steps = own_steps(timeline, party, issue_id)
            for step in steps:
                out[step.source_id] = _shift(timeline, steps, step, party, issue_id, issue)
    return out


def _shift(
    timeline: Timeline, steps: list[Step], step: Step, party: str, issue_id: str, issue: Issue
) -> Shift:
    before = effective_at(steps, step.key, inclusive=False)
    after = effective_at(steps, step.key, inclusive=True)
    retraction = step.statement is not None and step.statement.kind is Kind.RETRACTION
    if step.position is None and not retraction:
        return Shift(None, None, before, after)
    rank_before, rank_after = rank_of(issue, before), rank_of(issue, after)
    name: str | None
    if step.position == NONCOMMITTAL and rank_after == rank_before:
        name = NONCOMMITTAL
    elif rank_after is None:
        name = WITHDRAWN if rank_before is not None else (NONCOMMITTAL if after else None)
    elif rank_before is None:
        name = NEW
    else:
        name = classify(timeline, party, issue_id, step.on.day, rank_before, rank_after)
    ranks = rank_after - rank_before if rank_after is not None and rank_before is not None else None
    return Shift(name, ranks, before, after)


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
