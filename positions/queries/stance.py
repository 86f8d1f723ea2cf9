"""`stance`, `compare` and `proposals` read from the step tables.

Each answer reads only what it shows: for each (party, issue, claimant) cell, the one interval
of ``positions_view_stances`` in force on the as-of day at the recording time asked for (an
index seek each), and for its shift the step row of the statement that set it and the other
parties' intervals on that day; for verdicts, ``positions_view_verdicts`` the same way. The
rows are the dicts the in-memory `projections.Query` gives, so that the two render alike and a
property test holds them equal.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import orjson

from positions.analysis import shift_of
from positions.codebook import NONCOMMITTAL
from positions.domain import Negotiation, project_negotiation
from positions.errors import NotFoundError
from positions.stepstore import OPEN, OWN
from positions.views import stamp, unstamp

if TYPE_CHECKING:
    from positions.viewstore import ViewStore

FOREVER = date.max


@dataclass(frozen=True, slots=True)
class Cell:
    """One interval in force: the step that sets a cell on the day asked for."""

    source_id: str
    tabling: bool
    value: str
    extra: str
    stated_on: str
    day: int


class StepQueries:
    """The step tables of one negotiation, as recorded at ``known_at`` (or now)."""

    def __init__(self, views: ViewStore, negotiation: str, known_at: datetime | None) -> None:
        self.views = views
        self.slug = negotiation
        self.known = stamp(known_at) if known_at is not None else None
        self._cursor_context = views.recorder.datastore.transaction(commit=False)
        self.cursor = self._cursor_context.__enter__()
        self.negotiation = self._codebook(known_at)

    def close(self) -> None:
        self._cursor_context.__exit__(None, None, None)

    def __enter__(self) -> StepQueries:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reading

    def _rows(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        return self.views._tuples(self.cursor, self.views._sql(sql), list(params))

    def _recorded(self) -> tuple[str, list[Any]]:
        if self.known is None:
            return f"recorded_to = '{OPEN}'", []
        return "recorded_from <= %s AND recorded_to > %s", [self.known, self.known]

    def _codebook(self, known_at: datetime | None) -> Negotiation:
        definitions = self.views._rows(
            self.cursor, "definitions", "WHERE negotiation = %s", [self.slug]
        )
        events = [row.event() for row in definitions]
        if known_at is not None:
            events = [e for e in events if e.timestamp <= known_at]
        state = project_negotiation(events)
        if state is None:
            if known_at is None:
                raise NotFoundError(f"unknown negotiation '{self.slug}'")
            raise NotFoundError(
                f"negotiation '{self.slug}' was not yet recorded at {known_at.isoformat()}"
            )
        return state

    def cell(self, table: str, party: str, subject: str, claimant: str, day: date) -> Cell | None:
        """The interval of a group in force on ``day``: the latest that starts by then."""
        column = "proposal" if table == "verdicts" else "issue"
        value = "verdict, conditions" if table == "verdicts" else "position, terms"
        recorded, params = self._recorded()
        ordinal = day.toordinal()
        found = self._rows(
            f"SELECT valid_to, source_id, tabling, {value}, stated_on, day "
            f"FROM {{p}}positions_view_{table} WHERE negotiation = %s AND party = %s "
            f"AND {column} = %s AND claimant = %s AND valid_from <= %s AND {recorded} "
            "ORDER BY valid_from DESC LIMIT 1",
            [self.slug, party, subject, claimant, ordinal, *params],
        )
        if not found or int(found[0][0]) <= ordinal:
            return None
        _, source_id, tabling, v, extra, stated_on, stated_day = found[0]
        return Cell(source_id, bool(tabling), v, extra, stated_on, int(stated_day))

    def claimants(self, party: str, issue: str) -> list[str]:
        found = self._rows(
            "SELECT claimant FROM {p}positions_view_step_groups WHERE negotiation = %s "
            "AND kind = 'stances' AND party = %s AND subject = %s AND claimant <> %s "
            "ORDER BY claimant",
            [self.slug, party, issue, OWN],
        )
        return [row[0] for row in found]

    def step(self, source_id: str, tabling: bool) -> dict[str, Any]:
        """The step row of a statement or tabling as recorded at the time asked for."""
        recorded, params = self._recorded()
        found = self._rows(
            "SELECT kind, position, before_position, after_position, own_party, "
            "notification_id, recorded_at, day FROM {p}positions_view_steps "
            f"WHERE negotiation = %s AND source_id = %s AND tabling = %s AND {recorded}",
            [self.slug, source_id, tabling, *params],
        )
        kind, position, before, after, own_party, notification_id, recorded_at, day = found[0]
        return {
            "kind": kind,
            "position": position,
            "before": before,
            "after": after,
            "party": own_party,
            "notification_id": int(notification_id),
            "recorded_at": recorded_at,
            "day": int(day),
        }

    def document(self, statement_id: str, notification_id: int) -> Any:
        """The statement document of the event that recorded a statement."""
        found = self._rows(
            f"SELECT state FROM {self.views.events_table} WHERE {self.views.event_key} = %s",
            [notification_id],
        )
        state = found[0][0] if found else None
        return orjson.loads(self.views._document(statement_id, notification_id, state))

    # -- argument checks (the same words as `projections.Query`)

    def check_party(self, party: str | None) -> None:
        if party is not None and party not in self.negotiation.parties:
            known = ", ".join(sorted(self.negotiation.parties))
            raise NotFoundError(f"unknown party '{party}' (known: {known})")

    def check_issue(self, issue: str | None) -> None:
        if issue is not None and issue not in self.negotiation.issues:
            known = ", ".join(sorted(self.negotiation.issues))
            raise NotFoundError(f"unknown issue '{issue}' (known: {known})")

    # -- the rows

    def _rank(self, issue: str, position: str | None) -> int | None:
        return self.negotiation.issues[issue].rank(position)

    def _speaker_quote(self, cell: Cell, step: dict[str, Any]) -> tuple[str | None, str | None]:
        n = self.negotiation
        if cell.tabling:
            party = n.parties.get(step["party"])
            proposal = n.proposals.get(cell.source_id)
            quote = (proposal.quote or proposal.title) if proposal is not None else None
            return (party.name if party else step["party"]), quote
        document = self.document(cell.source_id, step["notification_id"])
        speaker = document["speaker"]
        if speaker is not None:
            found = n.speakers.get(speaker)
            return (found.name if found else speaker), document["quote"]
        party = n.parties.get(step["party"])
        return (party.name if party else step["party"]), document["quote"]

    def others_mean(self, party: str, issue: str, day: int) -> float | None:
        held = []
        for other in self.negotiation.parties:
            if other == party:
                continue
            cell = self.cell("stances", other, issue, OWN, date.fromordinal(day))
            if cell is not None:
                rank = self._rank(issue, cell.value)
                if rank is not None:
                    held.append(rank)
        return sum(held) / len(held) if held else None

    def _stance_row(
        self, party: str, issue: str, cell: Cell | None, claimed_by: str | None
    ) -> dict[str, Any]:
        if cell is None:
            return {"party": party, "issue": issue, "claimed_by": claimed_by}
        step = self.step(cell.source_id, cell.tabling)
        speaker, quote = self._speaker_quote(cell, step)
        shift: tuple[str | None, int | None] = (None, None)
        if claimed_by is None:
            shift = shift_of(
                step["position"],
                step["kind"] == "retraction",
                self._rank(issue, step["before"]),
                self._rank(issue, step["after"]),
                step["after"] is not None,
                lambda: self.others_mean(party, issue, step["day"]),
            )
        return {
            "party": party,
            "issue": issue,
            "position": cell.value,
            "rank": self._rank(issue, cell.value),
            "terms": cell.extra if cell.extra != "{}" else None,
            "stated_on": cell.stated_on,
            "date": date.fromordinal(cell.day),
            "statement_id": cell.source_id,
            "speaker": speaker,
            "quote": quote,
            "claimed_by": claimed_by,
            "shift": shift[0],
            "shift_ranks": shift[1],
            "recorded_at": (
                None if cell.tabling else unstamp(step["recorded_at"]).isoformat()
            ),
        }

    def stance_rows(
        self,
        as_of: date | None = None,
        party: str | None = None,
        issue: str | None = None,
        claims: bool = False,
    ) -> list[dict[str, Any]]:
        """The rows of `stance`, as `projections.Query.stance_rows` gives them."""
        self.check_party(party)
        self.check_issue(issue)
        day = as_of or FOREVER
        rows = []
        for p in self.negotiation.parties:
            if party is not None and p != party:
                continue
            for i in self.negotiation.issues:
                if issue is not None and i != issue:
                    continue
                rows.append(self._stance_row(p, i, self.cell("stances", p, i, OWN, day), None))
                if claims:
                    for claimant in self.claimants(p, i):
                        chosen = self.cell("stances", p, i, claimant, day)
                        if chosen is not None:
                            rows.append(self._stance_row(p, i, chosen, claimant))
        return rows

    def compare_rows(self, as_of: date | None = None) -> list[dict[str, Any]]:
        from positions.projections import compare_rows

        return compare_rows(
            self.stance_rows(as_of, claims=True),
            list(self.negotiation.parties),
            list(self.negotiation.issues),
        )

    def proposal_rows(self, as_of: date | None = None) -> list[dict[str, Any]]:
        """The rows of `proposals`: each proposal tabled by the day, a row per party."""
        day = as_of or FOREVER
        rows = []
        for proposal in sorted(
            self.negotiation.proposals.values(), key=lambda p: (p.on.sort_key(), p.id)
        ):
            if proposal.on.day > day:
                continue
            for p in self.negotiation.parties:
                row: dict[str, Any] = {
                    "proposal": proposal.id,
                    "issue": proposal.issue,
                    "tabled_by": proposal.by,
                    "party": p,
                }
                cell = self.cell("verdicts", p, proposal.id, OWN, day)
                if cell is not None:
                    step = self.step(cell.source_id, cell.tabling)
                    speaker, quote = self._speaker_quote(cell, step)
                    row.update(
                        verdict=cell.value,
                        conditions="; ".join(orjson.loads(cell.extra)) or None,
                        stated_on=cell.stated_on,
                        date=date.fromordinal(cell.day),
                        statement_id=cell.source_id,
                        speaker=speaker,
                        quote=quote,
                    )
                rows.append(row)
        return rows

    # -- frames, for the formats that need them

    def stance(
        self,
        as_of: date | None = None,
        party: str | None = None,
        issue: str | None = None,
        claims: bool = False,
    ) -> Any:
        from positions.projections import STANCE_SCHEMA, _frame

        return _frame(self.stance_rows(as_of, party, issue, claims), STANCE_SCHEMA)

    def compare(self, as_of: date | None = None) -> Any:
        from positions.projections import COMPARE_SCHEMA, _frame

        return _frame(self.compare_rows(as_of), COMPARE_SCHEMA)

    def proposals(self, as_of: date | None = None) -> Any:
        from positions.projections import PROPOSALS_SCHEMA, _frame

        return _frame(self.proposal_rows(as_of), PROPOSALS_SCHEMA)


__all__ = ["NONCOMMITTAL", "StepQueries"]
