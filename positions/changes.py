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
from typing import TYPE_CHECKING

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
    that set no cell in force, and the own cells it made contested. Each cell is read once
    on each side."""
    with app.get_tables(negotiation) as now:
        groups = now.groups_of(ids, tablings)
        before: Cells = {}
        was_contested: set[Group] = set()
        try:
            then = app.get_tables(negotiation, started)
        except NotFoundError:  # not recorded before the import: no cell was in force
            pass
        else:
            with then:
                groups |= then.groups_of(ids, tablings)  # where corrections moved them from
                before = in_force(then, groups)
                was_contested = contested(then, before)
        after = in_force(now, groups)
        made = sorted(contested(now, after) - was_contested)
        return Changes(
            moves(before, after),
            unmoved(after, now.recorded_after(ids, started)),
            [_named(group) for group in made],
        )


Cells = dict[Group, "Cell | None"]
"""The cell in force now (``date.max``) of each group, as one side records it."""


def in_force(tables: StepQueries, groups: Iterable[Group]) -> Cells:
    """The cell in force now of each of ``groups`` (an index seek each)."""
    return {
        group: tables.cell(group[0], group[1], group[2], group[3], date.max)
        for group in sorted(set(groups))
    }


def contested(tables: StepQueries, cells: Cells) -> set[Group]:
    """Those of the own groups of ``cells`` whose cell is contested (R16)."""
    return {
        group
        for group, cell in cells.items()
        if not group[3]
        and cell is not None
        and tables.rivals_of(group[0], group[1], group[2], cell, date.max)
    }


def _named(group: Group) -> str:
    _, party, subject, _ = group
    return f"{party} on {subject}"


def moves(before: Cells, after: Cells) -> list[Move]:
    """The groups whose cell differs between the two sides (a group missing from ``before``:
    none was in force)."""
    found = []
    for group, now in after.items():
        old, new = _shown(before.get(group)), _shown(now)
        if old != new:
            found.append(Move(group, old, new, now.source_id if now is not None else None))
    return found


def unmoved(after: Cells, ids: Iterable[str]) -> list[str]:
    """Those of the statements ``ids`` that set none of the cells ``after``."""
    setting = {cell.source_id for cell in after.values() if cell is not None and cell.tabling <= 0}
    return sorted(set(ids) - setting)


def listed(names: list[str]) -> str:
    """At most `SHOWN` names, and how many more."""
    shown = ", ".join(names[:SHOWN])
    return shown + (f" and {len(names) - SHOWN} more" if len(names) > SHOWN else "")
