"""What an import changed: the cells in force whose position or verdict moved, read from the
store's bitemporal tables as recorded just before the import and as recorded now, for the
groups the import's statements belong to; and the statements that set no cell in force.

Only the groups of the statements, tablings and corrections an import records are read (an
index seek each, `StepQueries.cell`), so that a small import into a large record reads little.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from positions.errors import NotFoundError

if TYPE_CHECKING:
    from positions.application import PositionsApplication
    from positions.queries.stance import Cell, StepQueries

Group = tuple[str, str, str, str]
"""(table, party, issue or proposal, claimant): ``stances`` or ``verdicts``."""

SHOWN = 20
"""Moved cells, and statements that set none, listed by name; the rest are counted."""


@dataclass(frozen=True)
class Move:
    group: Group
    before: str | None
    after: str | None
    statement: str | None
    """The statement (or proposal) that sets the cell now."""

    def __str__(self) -> str:
        _, party, subject, claimant = self.group
        claimed = f", claimed by {claimant}" if claimant else ""
        by = f" ({self.statement})" if self.statement else ""
        return f"{party} on {subject}{claimed}: {self.before or '—'} → {self.after or '—'}{by}"


def _shown(cell: Cell | None) -> str | None:
    if cell is None:
        return None
    extra = cell.extra if cell.extra not in ("{}", "[]") else ""
    return f"{cell.value} {extra}".strip()


@dataclass(frozen=True)
class Changes:
    moved: list[Move]
    idle: list[str]
    """The statements recorded that set no cell in force."""
    contested: list[str]
    """The cells the import made contested (R16), as `Move` names them."""


def changes_of(
    app: PositionsApplication,
    negotiation: str,
    ids: list[str],
    tablings: list[str],
    started: datetime,
) -> Changes:
    """What an import that began at ``started`` changed in ``negotiation``: the cells moved in
    the groups of the statements ``ids`` (those recorded and those corrected) and of the
    proposals ``tablings``, as recorded then and now, those of the statements recorded since
    that set no cell in force, and the own cells it made contested."""
    with app.get_tables(negotiation) as now:
        groups = now.groups_of(ids, tablings)
        try:
            then = app.get_tables(negotiation, started)
        except NotFoundError:  # not recorded before the import: no cell was in force
            moved = moves(_Nothing(), now, groups)
            before: set[Group] = set()
        else:
            with then:
                groups |= then.groups_of(ids, tablings)  # where corrections moved them from
                moved = moves(then, now, groups)
                before = contested(then, groups)
        made = sorted(contested(now, groups) - before)
        named = [_named(group) for group in made]
        return Changes(moved, unmoved(now, now.recorded_after(ids, started), groups), named)


def contested(tables: StepQueries, groups: Iterable[Group]) -> set[Group]:
    """Those of the own ``groups`` whose cell in force now is contested (R16)."""
    found = set()
    for group in set(groups):
        table, party, subject, claimant = group
        if claimant:
            continue
        cell = tables.cell(table, party, subject, claimant, date.max)
        if cell is not None and tables.rivals_of(table, party, subject, cell, date.max):
            found.add(group)
    return found


def _named(group: Group) -> str:
    _, party, subject, _ = group
    return f"{party} on {subject}"


class _Nothing:
    """The tables of a negotiation not yet recorded: no cell in force."""

    def cell(self, *args: Any) -> None:
        return None


def moves(before: Any, after: StepQueries, groups: Iterable[Group]) -> list[Move]:
    """The cells of ``groups`` in force now (``date.max``) that differ between the two."""
    found = []
    for group in sorted(set(groups)):
        table, party, subject, claimant = group
        old = _shown(before.cell(table, party, subject, claimant, date.max))
        now = after.cell(table, party, subject, claimant, date.max)
        new = _shown(now)
        if old != new:
            found.append(Move(group, old, new, now.source_id if now is not None else None))
    return found


def unmoved(after: StepQueries, ids: Iterable[str], groups: Iterable[Group]) -> list[str]:
    """Those of the statements ``ids`` that set no cell of ``groups`` in force now."""
    setting = set()
    for table, party, subject, claimant in set(groups):
        cell = after.cell(table, party, subject, claimant, date.max)
        if cell is not None and not cell.tabling:
            setting.add(cell.source_id)
    return sorted(set(ids) - setting)


def listed(names: list[str]) -> str:
    """At most `SHOWN` names, and how many more."""
    shown = ", ".join(names[:SHOWN])
    return shown + (f" and {len(names) - SHOWN} more" if len(names) > SHOWN else "")
