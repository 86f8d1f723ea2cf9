"""`stance`, `compare` and `proposals` read from the step tables.

Each answer reads only what it shows: for each (party, issue, claimant) cell, the one interval
of ``positions_view_stances`` in force on the as-of day at the recording time asked for (an
index seek each), and for its shift the step row of the statement that set it and the other
parties' intervals on that day; for verdicts, ``positions_view_verdicts`` the same way. The
rows are the dicts the in-memory `projections.Query` gives, so that the two render alike and a
property test holds them equal.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

import orjson

from positions.analysis import explain_effect, others_mean, shift_of
from positions.codebook import NONCOMMITTAL, Source, precision_of
from positions.codebook import sources_text as _sources
from positions.domain import Negotiation, project_negotiation
from positions.errors import NotFoundError
from positions.projections import (
    EXPLAIN_SCHEMA,
    HISTORY_SCHEMA,
    Series,
    Tables,
    _contested,
    _frame,
    in_window,
    listed_text,
    party_names,
)
from positions.search import Search, words
from positions.steps import Coding, Said, Step, confirmed_proposal, day_key, rivals, shown
from positions.views.fold import stamp, unstamp
from positions.views.store import SEARCH_EXPRESSION, SEARCH_TABLE
from positions.views.tables import (
    OPEN,
    OWN,
    STEP_SELECT,
    codings_of_statement,
    corrected_coding,
    step_of_row,
)

if TYPE_CHECKING:
    from positions.views.store import ViewStore

FOREVER = date.max
SERIES_ROWS = 64
"""Rows of `history` on one issue past which R13's mean reads the parties' whole intervals on
the issue once rather than their cells of each row's day."""


@dataclass(frozen=True, slots=True)
class Cell:
    """One interval in force: the step that sets a cell on the day asked for."""

    source_id: str
    tabling: int
    value: str
    extra: str
    stated_on: str
    day: int
    party: str | None = None
    """The own party of the statement (of its step row), where it was read with the cell."""
    notification_id: int | None = None
    parties: tuple[str, ...] = ()
    """The parties of a joint statement (of its step row), where it was read with the cell."""
    """The event of the statement, where it was read with the cell."""


class StepQueries(Tables):
    """The step tables of one negotiation, as recorded at ``known_at`` (or now)."""

    def __init__(self, views: ViewStore, negotiation: str, known_at: datetime | None) -> None:
        self.views = views
        self.slug = negotiation
        self.asked_known_at = known_at
        self.known = stamp(known_at) if known_at is not None else None
        self._cursor_context = views.recorder.datastore.transaction(commit=False)
        self.cursor = self._cursor_context.__enter__()
        try:
            self.negotiation = self._codebook(known_at)
        except BaseException:  # not recorded (then): the read transaction ends here
            self.close()
            raise
        self._cache: dict[str, dict[str, Series]] = {}
        self._steps: dict[tuple[str, int], dict[str, Any]] = {}
        """Step rows read already (by `cells`), by (source id, tabling)."""
        self._documents: dict[str, Any] = {}
        """Statement documents read already (for a whole table of rows), by statement id."""
        self._spoken: dict[str, dict[str, Any]] = {}
        """Speakers and quotes read already (`spoken`), by statement id."""
        self._ranks: dict[tuple[str, int], dict[str, int | None]] = {}
        """Each party's own rank on an issue on a day, as read for R13's mean."""
        self._amended: bool | None = None
        """Whether the negotiation holds an amendment recorded by the time asked for."""
        self._changes: dict[str, list[tuple[Any, Any, int]]] = {}
        """The amendments applied to a statement's document (`_amend`): (its view row, the
        document before it, its number), by statement id."""
        self.behind = 0
        """Events the views had not folded when this was opened (answered without them)."""

    def close(self) -> None:
        self._cursor_context.__exit__(None, None, None)

    def __enter__(self) -> StepQueries:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reading

    def _rows(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        return self.views._tuples(self.cursor, self.views._sql(sql), list(params))

    def _recorded(self, alias: str = "") -> tuple[str, list[Any]]:
        """The condition that picks the rows as recorded at the time asked for."""
        if self.known is None:
            return f"{alias}recorded_to = '{OPEN}'", []
        return (
            f"{alias}recorded_from <= %s AND {alias}recorded_to > %s",
            [self.known, self.known],
        )

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
        return Cell(source_id, int(tabling), v, extra, stated_on, int(stated_day))

    def step(self, source_id: str, tabling: int) -> dict[str, Any]:
        """The step row of a statement or tabling as recorded at the time asked for."""
        found = self._steps.get((source_id, tabling))
        if found is None:
            found = self._step_rows({(source_id, tabling)})[(source_id, tabling)]
        return found

    def _step_rows(self, keys: set[tuple[str, int]]) -> dict[tuple[str, int], dict[str, Any]]:
        """The step rows of (source id, tabling) keys as recorded at the time asked for, read
        500 at a time and kept for `step`."""
        recorded, params = self._recorded()
        ids = sorted({source_id for source_id, _ in keys})
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            for (
                source_id,
                tabling,
                kind,
                position,
                before,
                after,
                own_party,
                notification_id,
                recorded_at,
                day,
                parties,
            ) in self._rows(
                "SELECT source_id, tabling, kind, position, before_position, after_position, "
                "own_party, notification_id, recorded_at, day, parties "
                "FROM {p}positions_view_steps "
                "WHERE negotiation = %s "
                f"AND source_id IN ({', '.join('%s' for _ in chunk)}) AND {recorded}",
                [self.slug, *chunk, *params],
            ):
                self._steps[(source_id, int(tabling))] = {
                    "kind": kind,
                    "position": position,
                    "before": before,
                    "after": after,
                    "party": own_party,
                    "notification_id": int(notification_id),
                    "recorded_at": recorded_at,
                    "day": int(day),
                    "parties": tuple(json.loads(parties)) if parties else (),
                }
        return {key: self._steps[key] for key in keys}

    def groups_of(
        self, ids: Sequence[str], tablings: Sequence[str] = ()
    ) -> set[tuple[str, str, str, str]]:
        """The groups (``stances`` or ``verdicts``, party, issue or proposal, claimant) the
        statements ``ids`` and the tablings of the proposals ``tablings`` belong to, as recorded
        at the time asked for (`positions.changes`), 500 a query."""
        recorded, params = self._recorded()
        found: set[tuple[str, str, str, str]] = set()
        for which, wanted in (("<= 0", sorted(set(ids))), ("> 0", sorted(set(tablings)))):
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                rows = self._rows(
                    "SELECT party, issue, claimant, proposal, verdict "
                    f"FROM {{p}}positions_view_steps WHERE negotiation = %s AND tabling {which} "
                    f"AND source_id IN ({', '.join('%s' for _ in chunk)}) AND {recorded}",
                    [self.slug, *chunk, *params],
                )
                for party, issue, claimant, proposal, verdict in rows:
                    if issue is not None:
                        found.add(("stances", party, issue, claimant))
                    if proposal is not None and verdict is not None:
                        found.add(("verdicts", party, proposal, claimant))
        return found

    def recorded_after(self, ids: Sequence[str], moment: datetime) -> list[str]:
        """Those of the statements ``ids`` first recorded after ``moment``, in order."""
        found: list[str] = []
        wanted = sorted(set(ids))
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            rows = self._rows(
                "SELECT statement_id FROM {p}positions_view_statements WHERE negotiation = %s "
                f"AND recorded_at > %s AND statement_id IN ({', '.join('%s' for _ in chunk)})",
                [self.slug, stamp(moment), *chunk],
            )
            found.extend(row[0] for row in rows)
        return sorted(found)

    def document(self, statement_id: str, notification_id: int) -> Any:
        """The statement document of the event that recorded a statement."""
        if statement_id in self._documents:
            return self._documents[statement_id]
        found = self._rows(
            f"SELECT state FROM {self.views.events_table} WHERE {self.views.event_key} = %s",
            [notification_id],
        )
        state = found[0][0] if found else None
        return self._amend(
            {statement_id: self.views._fields(statement_id, notification_id, state)}
        )[statement_id]

    # -- amendments (R15)

    def _amend(self, documents: dict[str, Any]) -> dict[str, Any]:
        """Statement documents (as first recorded) with the amendments recorded by the time
        asked for applied, in the order recorded (`Amendment.apply`); each one applied is
        kept in ``_changes`` for `history` and `explain`. One query for the existence of any
        amendment, then one per 500 statements that may have some."""
        if not documents or not self._any_amendment():
            return documents
        found: dict[str, list[Any]] = {}
        ids = sorted(documents)
        known = "" if self.known is None else " AND recorded_at <= %s"
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ", ".join("%s" for _ in chunk)
            rows = self.views._rows(
                self.cursor,
                "amendments",
                f"WHERE negotiation = %s AND statement_id IN ({marks}){known}",
                [self.slug, *chunk, *([] if self.known is None else [self.known])],
            )
            for row in rows:
                found.setdefault(row.statement_id, []).append(row)
        out = dict(documents)
        for statement_id, rows in found.items():
            document = documents[statement_id]
            changes = []
            for number, row in enumerate(rows, start=1):
                before = document
                document = row.amendment().apply(before)
                changes.append((row, before, number))
            out[statement_id] = document
            self._changes[statement_id] = changes
        return out

    def _any_amendment(self, later: bool = False) -> bool:
        """Whether the negotiation holds an amendment recorded by the time asked for (with
        ``later``, one recorded after it)."""
        if later:
            return self.known is not None and bool(
                self._rows(
                    "SELECT 1 FROM {p}positions_view_amendments WHERE negotiation = %s "
                    "AND recorded_at > %s LIMIT 1",
                    [self.slug, self.known],
                )
            )
        if self._amended is None:
            known = "" if self.known is None else " AND recorded_at <= %s"
            self._amended = bool(
                self._rows(
                    "SELECT 1 FROM {p}positions_view_amendments WHERE negotiation = %s"
                    f"{known} LIMIT 1",
                    [self.slug, *([] if self.known is None else [self.known])],
                )
            )
        return self._amended

    def _known_words(self, statement_id: str, document: Any) -> str:
        """The words of a statement's texts as first recorded and as each amendment recorded
        by the time asked for gave them (`NegotiationRecord.words_of`)."""
        texts = [document["quote"], document["quote_original"], document["notes"]]
        for _, before, _ in self._changes.get(statement_id, []):
            texts.extend([before["quote"], before["quote_original"], before["notes"]])
        return words(*texts)

    def _amendment_rows(self, statement_id: str) -> list[tuple[Any, str, int, str]]:
        """Each amendment applied to a statement's document read by this query: (its view
        row, what it changes, its number, its reason)."""
        out = []
        for row, before, number in self._changes.get(statement_id, []):
            amendment = row.amendment()
            out.append((row, amendment.describe(before), number, amendment.reason))
        return out

    # -- the rows

    def _rank(self, issue: str, position: str | None) -> int | None:
        return self.negotiation.issues[issue].rank(position)

    def _speaker_quote(self, cell: Cell, step: dict[str, Any]) -> tuple[str | None, str | None]:
        n = self.negotiation
        if cell.tabling > 0:
            proposal = n.proposals.get(cell.source_id)
            quote = (proposal.quote or proposal.title) if proposal is not None else None
            return self._named(
                step["party"], {"speaker": None, "quote": quote}, step.get("parties", ())
            )
        said = self.spoken([cell.source_id])[cell.source_id]
        return self._named(step["party"], said, step.get("parties", ()))

    def others_mean(self, party: str, issue: str, day: int, whole: bool = False) -> float | None:
        """R13's mean of the others' ranks on ``day``: from each party's intervals on the
        issue (read once, with ``whole`` or where they are read already: a history, a diff,
        a timeline), else from the one interval of each party in force that day."""
        if whole or issue in self._cache:
            series = self.series(issue)

            def rank_of(other: str) -> int | None:
                return self._rank(issue, series[other].at(day))
        else:
            ranks = self._ranks.get((issue, day))
            if ranks is None:
                cells = self.cells("stances", date.fromordinal(day), subject=issue, owners=False)
                ranks = {key[0]: self._rank(issue, cell.value) for key, cell in cells.items()}
                self._ranks[(issue, day)] = ranks

            def rank_of(other: str) -> int | None:
                return ranks.get(other)

        return others_mean(party, self.negotiation.parties, rank_of)

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
            **self._brief_row(party, issue, cell, claimed_by),
            "stated_on": cell.stated_on,
            "date": date.fromordinal(cell.day),
            "speaker": speaker,
            "quote": quote,
            "shift": shift[0],
            "shift_ranks": shift[1],
            "recorded_at": (None if cell.tabling > 0 else unstamp(step["recorded_at"]).isoformat()),
        }

    def _brief_row(
        self, party: str, issue: str, cell: Cell | None, claimed_by: str | None
    ) -> dict[str, Any]:
        """What a cell of `compare` shows, from the interval alone (no step row, speaker,
        quote or shift)."""
        if cell is None:
            return {"party": party, "issue": issue, "claimed_by": claimed_by}
        return {
            "party": party,
            "issue": issue,
            "position": cell.value,
            "rank": self._rank(issue, cell.value),
            "terms": cell.extra if cell.extra != "{}" else None,
            "statement_id": cell.source_id,
            "claimed_by": claimed_by,
        }

    def in_force(self, party: str, issue: str, claimant: str | None, day: date) -> Cell | None:
        return self.cell("stances", party, issue, claimant or OWN, day)

    def verdicts_on(self, day: date, party: str | None = None) -> Any:
        """Each party's (or ``party``'s) own verdict on each proposal on ``day``, read for the
        whole table at once: the intervals in force (`cells`), their step rows and their
        statements' events (a few queries, not three per cell)."""
        cells = self.cells("verdicts", day, party=party)
        said = self.spoken([c.source_id for c in cells.values() if c.tabling <= 0])
        rows: dict[tuple[str, str], tuple[dict[str, Any], Cell]] = {}
        for (party, proposal, _), cell in cells.items():
            if cell.tabling > 0:
                speaker, quote = self._speaker_quote(
                    cell, {"party": cell.party, "parties": cell.parties}
                )
            else:
                speaker, quote = self._named(cell.party or "", said[cell.source_id], cell.parties)
            rows[(party, proposal)] = (_verdict_columns(cell, speaker, quote), cell)

        def verdict(party: str, proposal: str) -> tuple[dict[str, Any], Cell] | None:
            return rows.get((party, proposal))

        return verdict

    def rivals_of(self, table: str, party: str, subject: str, cell: Any, day: date) -> list[str]:
        """`Tables.rivals_of` read from the step table: the party's own steps in the group made
        on the cell's day that count on ``day`` (one indexed range), decided by
        `steps.rivals`."""
        if cell.tabling > 0:  # a tabling is ordered before its day's statements (R7)
            return []
        verdicts = table == "verdicts"
        recorded, params = self._recorded()
        column, value = ("proposal", "verdict") if verdicts else ("issue", "position")
        found = self._rows(
            f"SELECT source_id, slot, clarifies, retracts, {value} "
            "FROM {p}positions_view_steps WHERE negotiation = %s AND party = %s "
            f"AND {column} = %s AND claimant = %s AND tabling <= 0 AND {recorded} "
            "AND sort_key >= %s AND sort_key < %s "
            "AND (ended_key IS NULL OR ended_key >= %s)"
            + (" AND verdict IS NOT NULL" if verdicts else ""),
            [
                self.slug,
                party,
                subject,
                OWN,
                *params,
                day_key(cell.day),
                day_key(cell.day + 1),
                day_key(day.toordinal() + 1),
            ],
        )
        said = [
            Said(str(sid), cell.day, int(slot), retracts or clarifies, v)
            for sid, slot, clarifies, retracts, v in found
        ]
        chosen = next((s for s in said if s.source_id == cell.source_id), None)
        return [] if chosen is None else rivals(chosen, said)

    def crowded_verdicts(
        self, day: date, party: str | None = None
    ) -> set[tuple[str, str, int]] | None:
        """`Tables.crowded_verdicts` read in one query from the verdict index alone: the days
        of the parties' own verdicts (ended or not, tablings too: more than `rivals_of` reads,
        never fewer) that number more than one in their group; of ``party`` alone, where
        given (its range of the index)."""
        recorded, params = self._recorded()
        mine, chosen = ("AND party = %s ", [party]) if party is not None else ("", [])
        found = self._rows(
            "SELECT party, proposal, substr(sort_key, 1, 7) "
            "FROM {p}positions_view_steps WHERE negotiation = %s AND claimant = %s "
            f"{mine}AND verdict IS NOT NULL AND {recorded} "
            "GROUP BY party, proposal, substr(sort_key, 1, 7) "
            "HAVING count(*) > 1 AND substr(sort_key, 1, 7) < %s",
            [self.slug, OWN, *chosen, *params, day_key(day.toordinal() + 1)],
        )
        return {(str(party), str(subject), int(made)) for party, subject, made in found}

    def claimed_verdicts(
        self, day: date, party: str | None = None
    ) -> dict[tuple[str, str], list[dict[str, Any]]]:
        """`Tables.claimed_verdicts` read as `verdicts_on` reads the own ones: every claimant's
        interval in force (`cells`), and the statements' speakers and quotes."""
        cells = self.cells("verdicts", day, claimant=None, party=party)
        cells = {k: c for k, c in cells.items() if k[2]}
        said = self.spoken([c.source_id for c in cells.values() if c.tabling <= 0])
        found: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for (party, proposal, claimant), cell in sorted(cells.items()):
            if cell.tabling > 0:  # a proposal known only from the claimant's account (R7)
                speaker, quote = self._speaker_quote(
                    cell, {"party": cell.party, "parties": cell.parties}
                )
            else:
                speaker, quote = self._named(cell.party or "", said[cell.source_id], cell.parties)
            row = {**_verdict_columns(cell, speaker, quote), "claimed_by": claimant}
            found.setdefault((party, proposal), []).append(row)
        return found

    def cells(
        self,
        table: str,
        day: date,
        claimant: str | None = OWN,
        party: str | None = None,
        subject: str | None = None,
        owners: bool = True,
    ) -> dict[tuple[str, str, str], Cell]:
        """`cell` for every group of ``table`` at once (with ``claimant``, or every claimant
        when None; of ``party``, on ``subject`` where given), by the same rule: the latest
        interval that starts by ``day``, unless it ended by then. One query: each group's
        latest start is an index seek, as in `cell` (``CROSS JOIN`` keeps the groups the
        outer loop on SQLite, whose planner otherwise scans the intervals first). Keyed by
        (party, subject, claimant); with ``owners``, each cell has its statement's own party
        and event (``Cell.party``, ``Cell.notification_id``) from its step row (kept for
        `step`)."""
        column = "proposal" if table == "verdicts" else "issue"
        value = "v.verdict, v.conditions" if table == "verdicts" else "v.position, v.terms"
        recorded_v, params = self._recorded("v.")
        recorded_w, _ = self._recorded("w.")
        ordinal = day.toordinal()
        chosen, values = ["g.negotiation = %s", "g.kind = %s"], [self.slug, table]
        for name, wanted in (("claimant", claimant), ("party", party), ("subject", subject)):
            if wanted is not None:
                chosen.append(f"g.{name} = %s")
                values.append(wanted)
        found = self._rows(
            f"SELECT v.party, v.{column}, v.claimant, v.source_id, v.tabling, {value}, "
            f"v.stated_on, v.day FROM {{p}}positions_view_step_groups AS g "
            f"CROSS JOIN {{p}}positions_view_{table} AS v WHERE v.negotiation = g.negotiation "
            f"AND v.party = g.party AND v.{column} = g.subject AND v.claimant = g.claimant "
            f"AND v.valid_from = (SELECT w.valid_from FROM {{p}}positions_view_{table} AS w "
            f"WHERE w.negotiation = g.negotiation AND w.party = g.party "
            f"AND w.{column} = g.subject AND w.claimant = g.claimant AND w.valid_from <= %s "
            f"AND {recorded_w} ORDER BY w.valid_from DESC LIMIT 1) "
            f"AND {' AND '.join(chosen)} AND {recorded_v} AND v.valid_to > %s",
            [ordinal, *params, *values, *params, ordinal],
        )
        steps = self._step_rows({(row[3], int(row[4])) for row in found}) if owners else {}
        cells = {}
        for p, s, c, source_id, tabling, v, extra, stated_on, stated_day in found:
            step = steps.get((source_id, int(tabling)))
            cells[(p, s, c)] = Cell(
                source_id,
                int(tabling),
                v,
                extra,
                stated_on,
                int(stated_day),
                step["party"] if step else None,
                step["notification_id"] if step else None,
                step["parties"] if step else (),
            )
        return cells

    def cells_in_force(
        self, day: date, party: str | None, issue: str | None, claims: bool
    ) -> list[tuple[str, str, str | None, Any]]:
        """As `Tables.cells_in_force`, read in one query (`cells`)."""
        found = self.cells("stances", day, None if claims else OWN, party, issue)
        claimed: dict[tuple[str, str], list[str]] = {}
        for p, i, c in found:
            if c != OWN:
                claimed.setdefault((p, i), []).append(c)
        rows: list[tuple[str, str, str | None, Any]] = []
        for p, i in self.pairs(party, issue):
            rows.append((p, i, None, found.get((p, i, OWN))))
            for c in sorted(claimed.get((p, i), ())):
                rows.append((p, i, c, found[(p, i, c)]))
        return rows

    def _read_ahead(self, cells: Sequence[Any]) -> None:
        """The speakers and quotes of a whole table of full rows, read together."""
        self.spoken([c.source_id for c in cells if c is not None and c.tabling <= 0])

    def spoken(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Who made each statement (a speaker id or None) and its quote, from the statement
        rows of the views (which hold the quote as first recorded: its amendments by the time
        asked for are applied, `_amend`), 500 rows a query; kept once read."""
        wanted = [i for i in dict.fromkeys(ids) if i not in self._spoken]
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            read = {
                statement_id: {"speaker": speaker, "quote": quote}
                for statement_id, speaker, quote in self._rows(
                    "SELECT statement_id, speaker, quote FROM {p}positions_view_statements "
                    "WHERE negotiation = %s "
                    f"AND statement_id IN ({', '.join('%s' for _ in chunk)})",
                    [self.slug, *chunk],
                )
            }
            self._spoken.update(self._amend(read))
        return {i: self._spoken[i] for i in ids}

    def _named(
        self, own_party: str, document: Any, parties: Sequence[str] = ()
    ) -> tuple[str | None, str | None]:
        """The speaker's name (or the party's, or the names of the parties of a joint
        statement) and the quote of a statement (its document, or its `spoken` row)."""
        n = self.negotiation
        speaker = document["speaker"]
        if speaker is not None:
            found = n.speakers.get(speaker)
            return (found.name if found else speaker), document["quote"]
        return party_names(n, parties or [own_party]), document["quote"]

    # -- history

    def series(self, issue: str) -> dict[str, Series]:
        """Each party's own intervals on an issue, read from ``positions_view_stances`` (one
        indexed range per party), kept for the other rows that need them."""
        self.check_issue(issue)
        found = self._cache.get(issue)
        if found is None:
            recorded, params = self._recorded()
            found = {}
            for party in self.negotiation.parties:
                rows = self._rows(
                    "SELECT valid_from, valid_to, position FROM {p}positions_view_stances "
                    "WHERE negotiation = %s AND party = %s AND issue = %s AND claimant = %s "
                    f"AND {recorded} ORDER BY valid_from",
                    [self.slug, party, issue, OWN, *params],
                )
                found[party] = Series(
                    [int(r[0]) for r in rows], [int(r[1]) for r in rows], [r[2] for r in rows]
                )
            self._cache[issue] = found
        return found

    def span(self, issues: Sequence[str], as_of: date | None = None) -> tuple[date, date] | None:
        """`Tables.span` read from the ends of the step rows' day index (two seeks)."""
        if not issues:
            return None
        recorded, params = self._recorded()
        limit = (as_of or FOREVER).toordinal()
        marks = ", ".join("%s" for _ in issues)
        ends = []
        for order in ("", " DESC"):
            found = self._rows(
                "SELECT day FROM {p}positions_view_steps WHERE negotiation = %s AND "
                f"{recorded} AND day <= %s AND sort_key < %s AND issue IN ({marks}) "
                f"ORDER BY sort_key{order} LIMIT 1",
                [self.slug, *params, limit, day_key(limit + 1), *issues],
            )
            if not found:
                return None
            ends.append(date.fromordinal(int(found[0][0])))
        return ends[0], ends[1]

    def _steps_with_documents(
        self, conditions: Sequence[str], values: Sequence[Any], latest: int | None = None
    ) -> list[tuple[Step, Any]]:
        """The step rows of the negotiation as recorded at the time asked for that meet
        ``conditions`` (on ``s.``, the step table), each with its statement's document read
        from its event in the same query (None for a tabling); with ``latest``, only the
        last that many in the timeline's order."""
        recorded, params = self._recorded()
        views = self.views
        chosen = (
            "SELECT * FROM {p}positions_view_steps s WHERE s.negotiation = %s "
            f"AND s.{recorded.replace(' AND ', ' AND s.')}"
            + "".join(f" AND {condition}" for condition in conditions)
            + (
                ""
                if latest is None
                else f" ORDER BY s.sort_key DESC, s.tabling DESC LIMIT {int(latest)}"
            )
        )
        # the steps are chosen first, so that only their events are read
        found = self._rows(
            f"SELECT s.source_id, s.tabling, {_STEP_SELECT_S}, e.state FROM ({chosen}) s "
            f"LEFT JOIN {views.events_table} e ON e.{views.event_key} = s.notification_id "
            "AND s.tabling <= 0",
            [self.slug, *params, *values],
        )
        steps = []
        documents: dict[str, Any] = {}
        for row in found:
            step = step_of_row(row[:-1])
            c = step.coding
            if c.tabling <= 0 and c.source_id not in documents:
                documents[c.source_id] = views._fields(c.source_id, c.notification_id, row[-1])
            steps.append(step)
        documents = self._amend(documents)
        return [
            (step, None if step.coding.is_tabling else documents[step.coding.source_id])
            for step in steps
        ]

    def history_rows(
        self,
        party: str | None = None,
        issue: str | None = None,
        as_of: date | None = None,
        developments: bool = True,
        latest: int | None = None,
        since: date | None = None,
        until: date | None = None,
        speaker: str | None = None,
        search: Search | None = None,
    ) -> list[dict[str, Any]]:
        """The rows of `history`, as `projections.Query.history` gives them: each statement
        and tabling made by the day (by or about ``party``, on ``issue``, said by
        ``speaker``, holding the words of ``search``), each correction of them, and the
        developments when nothing is filtered, dated from ``since`` to ``until``
        (`in_window`); with ``latest``, the last that many rows (only the last that many
        steps of each query are read: no other step can come among them)."""
        self.check_party(party)
        self.check_issue(issue)
        self.check_speaker(speaker)
        limit = (as_of or FOREVER).toordinal()
        # the day twice: as the day, and as a bound on the order key, so that the latest rows
        # of a party are read backwards from the bound by its key's index
        where = ["s.day <= %s", "s.sort_key < %s"]
        values: list[Any] = [limit, day_key(limit + 1)]
        if speaker is not None:  # a statement row's speaker, by its key (one seek a step)
            where.append(
                "s.tabling <= 0 AND EXISTS (SELECT 1 FROM {p}positions_view_statements v "
                "WHERE v.negotiation = s.negotiation AND v.statement_id = s.source_id "
                "AND v.speaker = %s)"
            )
            values.append(speaker)
        if search is not None:  # the statements the words' index finds
            where.append(self._searched())
            values.extend(self._search_values(search))
        if until is not None:  # the window, read in the query (`in_window` decides below)
            where.append("s.day <= %s AND s.sort_key < %s")
            values.extend([until.toordinal(), day_key(until.toordinal() + 1)])
        if since is not None:
            where.append("s.day >= %s AND s.sort_key >= %s")
            values.extend([since.toordinal(), day_key(since.toordinal())])
        if issue is not None:
            where.append("s.issue = %s")
            values.append(issue)
        # the index holds every text a statement has had; an earlier recording time knows
        # fewer of them (R15): those rows are read whole and checked below
        recheck = search is not None and self.known is not None and self._any_amendment(True)
        read = None if recheck else latest
        if party is None:  # a joint statement once, by its first party's step
            found = self._steps_with_documents([*where, "s.member = 0"], values, read)
        else:  # by or about the party: its own steps, then its claims about others (indexed)
            found = self._steps_with_documents(  # a joint claim about the party: its first step
                [*where, "s.party = %s", "(s.own_party = %s OR s.member = 0)"],
                [*values, party, party],
                read,
            )
            found += self._steps_with_documents(
                [*where, "s.own_party = %s", "s.about IS NOT NULL", "s.party <> %s"],
                [*values, party, party],
                read,
            )
        found = [  # a joint statement once
            (step, document)
            for step, document in found
            if shown(step.coding.party, step.coding.parties, step.coding.member, party)
        ]
        unknown: set[str] = set()
        if recheck:
            assert search is not None
            for step, document in found:
                if document is not None and not search.matches(
                    self._known_words(step.source_id, document)
                ):
                    unknown.add(step.source_id)
            found = [item for item in found if item[0].source_id not in unknown]
        rows: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
        keys: dict[str, tuple[Any, ...]] = {}
        amended: set[str] = set()
        # R13's mean: each party's intervals on an issue read once where the issue has many
        # rows, the others' cells of the day where it has few (the same ranks either way)
        many = Counter(step.issue for step, _ in found)
        for step, document in found:
            key = step.key
            keys[step.source_id] = key
            whole = many[step.issue] > SERIES_ROWS
            row = self._history_row(step, document, limit, whole)
            rows.append(((*key, step.coding.tabling), row))  # a package's issues in order
        filtered = (
            party is not None or issue is not None or speaker is not None or search is not None
        )
        # the corrections of the statements listed (and of those a correction moved) alone:
        # a correction's row sits next to its statement's, so the latest rows hold no other
        shown_only = filtered or since is not None or until is not None or latest is not None
        said = None if speaker is None else self._said_by(speaker)
        if search is not None:
            found_ids = self._found_by(search) - unknown
            said = found_ids if said is None else said & found_ids
        rows.extend(self._correction_rows(keys, party, issue, limit, shown_only, said))
        for step, _ in found:  # each amendment beside its statement (R15)
            if step.coding.is_tabling or step.source_id in amended:
                continue
            amended.add(step.source_id)
            for row, described, number, reason in self._amendment_rows(step.source_id):
                key = step.key
                rows.append(
                    (
                        (*key[:3], f"{key[3]}~~{number:04d}"),
                        {
                            "stated_on": step.coding.stated_on,
                            "date": date.fromordinal(step.coding.day),
                            "party": listed_text(step.coding.parties or [step.coding.party]),
                            "kind": "amendment",
                            "statement_id": step.source_id,
                            "issue": step.issue,
                            "target": step.source_id,
                            "quote": f"amendment {number}: {described}; reason: {reason}",
                            "recorded_at": unstamp(row.recorded_at).isoformat(),
                            "hypothetical": False,
                        },
                    )
                )
        if developments and not filtered:
            for dev in self.development_rows(as_of):
                on = self.negotiation.developments[dev["statement_id"]].on
                key = (on.day.toordinal(), on.slot, -1, dev["statement_id"])
                rows.append((key, dev))
        rows.sort(key=lambda item: item[0])
        rows = [item for item in rows if in_window(item[1]["date"], since, until)]
        return [row for _, row in (rows if latest is None else rows[len(rows) - latest :])]

    def _searched(self) -> str:
        """The condition on a step (``s.``) that its statement holds a search's words."""
        return f"s.tabling <= 0 AND s.source_id IN ({self._found_sql()})"

    def _found_sql(self) -> str:
        """The ids of the statements that hold a search's words (values: `_search_values`)."""
        if self.views.postgres:
            return (
                "SELECT v.statement_id FROM {p}positions_view_statements v "
                "WHERE v.negotiation = %s "
                f"AND {SEARCH_EXPRESSION.format(alias='v.')} @@ %s::tsquery"
            )
        return (  # the index first, then each row found (CROSS JOIN keeps that order)
            f"SELECT v.statement_id FROM {SEARCH_TABLE} f CROSS JOIN positions_view_statements v "
            f"ON v.notification_id = f.rowid WHERE f.{SEARCH_TABLE} MATCH %s AND v.negotiation = %s"
        )

    def _search_values(self, search: Search) -> list[Any]:
        if self.views.postgres:
            return [self.slug, search.tsquery()]
        return [search.fts5(), self.slug]

    def _found_by(self, search: Search) -> set[str]:
        """The ids of the statements that hold a search's words."""
        return {row[0] for row in self._rows(self._found_sql(), self._search_values(search))}

    def _said_by(self, speaker: str) -> set[str]:
        """The ids of the statements ``speaker`` made."""
        found = self._rows(
            "SELECT statement_id FROM {p}positions_view_statements "
            "WHERE negotiation = %s AND speaker = %s",
            [self.slug, speaker],
        )
        return {row[0] for row in found}

    def _history_row(
        self, step: Step, document: Any, limit: int, whole: bool = True
    ) -> dict[str, Any]:
        """A row of `history`; ``whole``: R13's mean reads each party's intervals on the
        issue once (for a long list of rows), else the others' cells of the day."""
        c = step.coding
        n = self.negotiation
        definition = n.issues.get(step.issue or "")
        ended = step.ended_key is not None and step.ended_key[0] <= limit
        shift: tuple[str | None, int | None] = (None, None)
        if step.claimant == OWN and definition is not None:
            issue = definition.id
            shift = shift_of(
                step.position,
                c.retracts is not None,
                definition.rank(step.before),
                definition.rank(step.after),
                step.after is not None,
                lambda: self.others_mean(step.party, issue, c.day, whole=whole),
            )
        speaker: str | None
        if document is None:  # a tabling: its proposer (or proposers), or its reporter
            proposal = n.proposals.get(c.source_id)
            speaker = party_names(n, c.parties or [c.party])
            quote = (proposal.quote or proposal.title) if proposal is not None else None
            sources = _sources(
                [{"outlet": s.outlet, "url": s.url} for s in (proposal.sources if proposal else ())]
            )
        else:
            speaker, quote = self._named(c.party, document, c.parties)
            sources = _sources(document["sources"])
        conditions = orjson.loads(step.conditions)
        return {
            "stated_on": c.stated_on,
            "date": date.fromordinal(c.day),
            "party": listed_text(c.parties) if c.parties else c.party,
            "kind": c.kind,
            "statement_id": c.source_id,
            "speaker": speaker,
            "issue": step.issue,
            "position": step.position,
            "rank": definition.rank(step.position) if definition else None,
            "terms": step.terms if step.terms != "{}" else None,
            "verdict": step.verdict,
            "proposal": step.proposal,
            "conditions": "; ".join(conditions) or None,
            "about": step.party if c.about is not None else None,
            "target": c.target,
            "ended_by": step.ended_by if ended else None,
            "ended_how": step.ended_how if ended else None,
            "attribution": document["attribution"] if document else None,
            "confidence": document["confidence"] if document else None,
            "quote": quote,
            "sources": sources,
            "shift": shift[0],
            "shift_ranks": shift[1],
            "recorded_at": unstamp(c.recorded_at).isoformat() if c.recorded_at else None,
            "hypothetical": bool(document["hypothetical"]) if document else False,
        }

    def _corrections(
        self, shown: Collection[str] | None = None
    ) -> list[tuple[Any, Coding, Coding, int, str, str]]:
        """Every correction recorded by the time asked for, in the order recorded: (its view
        row, the coding before and after it, its number for its statement, the changes as
        ``name: before → after``, its reason) (R12).

        With ``shown``, only the corrections of those statements and of statements a
        correction moved (to another party, issue or day: they may have been shown before
        the move); the others' first codings are not read."""
        found = self.views._rows(self.cursor, "corrections", "WHERE negotiation = %s", [self.slug])
        if self.known is not None:
            found = [c for c in found if c.recorded_at <= self.known]
        if shown is not None:
            moved = {c.statement_id for c in found if _moves(orjson.loads(c.payload))}
            found = [c for c in found if c.statement_id in shown or c.statement_id in moved]
        if not found:
            return []
        codings = dict(self._originals(sorted({c.statement_id for c in found})))
        counts: dict[str, int] = {}
        fixes = []
        for correction in sorted(found, key=lambda c: c.notification_id):
            before = codings.get(correction.statement_id)
            if before is None:
                continue
            payload = orjson.loads(correction.payload)
            after = corrected_coding(before, payload)
            codings[correction.statement_id] = after
            counts[correction.statement_id] = counts.get(correction.statement_id, 0) + 1
            described = ", ".join(
                f"{name}: {_coding_value(before, name)} → {_change_text(name, payload[name])}"
                for name in ("position", "verdict", "issue", "on", "party")
                if payload.get(name) is not None
            )
            number = counts[correction.statement_id]
            fixes.append((correction, before, after, number, described, payload["reason"]))
        return fixes

    def _correction_rows(
        self,
        keys: dict[str, tuple[Any, ...]],
        party: str | None,
        issue: str | None,
        limit: int,
        shown_only: bool,
        said: set[str] | None = None,
    ) -> list[tuple[tuple[Any, ...], dict[str, Any]]]:
        """A row per correction recorded by the time asked for, of a statement shown (with
        ``shown_only``, of the statements in ``keys`` or moved by a correction; with
        ``said``, of those statements alone), with the coding it replaced (R12)."""
        fixes = self._corrections(set(keys) if shown_only else None)
        if said is not None:
            fixes = [fix for fix in fixes if fix[2].source_id in said]
        if not fixes:
            return []
        ids = sorted({after.source_id for _, _, after, _, _, _ in fixes})
        self._keys_of([sid for sid in ids if sid not in keys], keys)
        rows = []
        for correction, before, after, number, described, reason in fixes:
            if after.source_id not in keys or after.day > limit:
                continue
            if party is not None and party not in (after.party, before.party, *after.parties):
                continue
            if issue is not None and issue not in (after.issue, before.issue):
                continue
            definition = self.negotiation.issues.get(after.issue or "")
            key = keys[after.source_id]
            rows.append(
                (
                    (*key[:3], f"{key[3]}~{number:04d}"),
                    {
                        "stated_on": after.stated_on,
                        "date": date.fromordinal(after.day),
                        "party": listed_text(after.parties) if after.parties else after.party,
                        "kind": "correction",
                        "statement_id": after.source_id,
                        "issue": after.issue,
                        "position": after.position,
                        "rank": definition.rank(after.position) if definition else None,
                        "verdict": after.verdict,
                        "proposal": after.proposal,
                        "target": after.source_id,
                        "quote": f"correction {number}: {described}; reason: {reason}",
                        "recorded_at": unstamp(correction.recorded_at).isoformat(),
                        "hypothetical": False,
                    },
                )
            )
        return rows

    def _keys_of(self, ids: Sequence[str], keys: dict[str, tuple[Any, ...]]) -> None:
        """Add the order keys of statements not shown (a correction of one may be)."""
        recorded, params = self._recorded()
        for start in range(0, len(ids), 500):
            chunk = list(ids[start : start + 500])
            marks = ", ".join("%s" for _ in chunk)
            rows = self._rows(
                f"SELECT source_id, tabling, {STEP_SELECT} FROM {{p}}positions_view_steps "
                f"WHERE negotiation = %s AND {recorded} AND tabling = 0 "
                f"AND source_id IN ({marks})",
                [self.slug, *params, *chunk],
            )
            for row in rows:
                step = step_of_row(row)
                keys[step.source_id] = step.key

    def _originals(self, ids: Sequence[str]) -> dict[str, Coding]:
        """Each statement's coding as first recorded, from its event."""
        found: dict[str, Coding] = {}
        for start in range(0, len(ids), 500):
            chunk = list(ids[start : start + 500])
            marks = ", ".join("%s" for _ in chunk)
            rows = self._rows(
                "SELECT statement_id, notification_id, recorded_at "
                "FROM {p}positions_view_statements "
                f"WHERE negotiation = %s AND statement_id IN ({marks})",
                [self.slug, *chunk],
            )
            for statement_id, notification_id, recorded_at in rows:
                document = self.document(statement_id, int(notification_id))
                found[statement_id] = codings_of_statement(  # the first party's, if joint
                    {"statement": document}, recorded_at, int(notification_id)
                )[0]
        return found

    # -- diff

    def mean_of_others(self, party: str, issue: str, day: date) -> float | None:
        return self.others_mean(party, issue, day.toordinal(), whole=True)

    def steps_between(self, party: str, issue: str, start: date, end: date) -> list[str]:
        recorded, params = self._recorded()
        found = self._rows(
            "SELECT day, slot, depth, source_id FROM {p}positions_view_steps "
            f"WHERE negotiation = %s AND {recorded} AND party = %s AND issue = %s "
            "AND claimant = %s AND day > %s AND day <= %s",
            [self.slug, *params, party, issue, OWN, start.toordinal(), end.toordinal()],
        )
        return [row[3] for row in sorted((int(d), int(p), int(k), i) for d, p, k, i in found)]

    # -- what-if

    def hypothetical_statements(self) -> set[str]:
        known = "" if self.known is None else " AND recorded_at <= %s"
        found = self._rows(
            "SELECT statement_id FROM {p}positions_view_statements WHERE negotiation = %s "
            f"AND hypothetical{known}",
            [self.slug, *([] if self.known is None else [self.known])],
        )
        return {row[0] for row in found}

    # -- outlook

    def salience(self, party: str, issue: str, as_of: date | None) -> float | None:
        """R14 read from the step table: the latest of the party's own statements on the
        issue that count on the day (made by then, not ended by then) and give a salience
        (the statement rows keep it), in one query; else the declared one. The query starts
        from the few statements that give a salience (their own index; ``CROSS JOIN`` keeps
        them the outer loop on SQLite), each one step row looked up by its key: from the
        group's steps, it read the whole group when none of them gives one."""
        recorded, params = self._recorded()
        limit = (as_of or FOREVER).toordinal()
        found = self._rows(
            "SELECT v.salience FROM {p}positions_view_statements v "
            "CROSS JOIN {p}positions_view_steps s "
            "WHERE v.negotiation = %s AND v.salience IS NOT NULL "
            "AND s.negotiation = v.negotiation AND s.source_id = v.statement_id "
            f"AND s.{recorded.replace(' AND ', ' AND s.')} "
            "AND s.party = %s AND s.issue = %s AND s.claimant = %s AND s.tabling <= 0 "
            "AND s.day <= %s AND (s.ended_key IS NULL OR s.ended_key >= %s) "
            "ORDER BY s.sort_key DESC LIMIT 1",
            [self.slug, *params, party, issue, OWN, limit, day_key(limit + 1)],
        )
        if found:
            return float(found[0][0])
        declared = self.negotiation.salience.get((party, issue))
        return declared.value if declared is not None else None

    # -- explain

    def explain(self, party: str, issue: str, as_of: date | None = None) -> Any:
        """`explain` read from the step tables: the party's own steps on the issue made by the
        day (one indexed query joined to their events), the one in force that day, what ended
        the others, and the corrections of each."""
        self.check_party(party)
        self.check_issue(issue)
        limit = (as_of or FOREVER).toordinal()
        steps = sorted(
            self._steps_with_documents(
                ["s.party = %s", "s.issue = %s", "s.claimant = %s", "s.day <= %s"],
                [party, issue, OWN, limit],
            ),
            key=lambda found: found[0].key,
        )
        final = self.in_force(party, issue, None, as_of or FOREVER)
        fixes: dict[str, list[tuple[Any, Coding, Coding, int, str, str]]] = {}
        for fix in self._corrections({step.source_id for step, _ in steps}):
            fixes.setdefault(fix[2].source_id, []).append(fix)
        rows: list[dict[str, Any]] = []
        for step, document in steps:
            c = step.coding
            shown = self._history_row(step, document, limit)
            kind = "proposal" if c.is_tabling else c.kind
            ended = None
            if shown["ended_by"] is not None:
                ended = (shown["ended_how"], shown["ended_by"], self._stated_on(shown["ended_by"]))
            effect, rule = explain_effect(
                final is not None and (final.source_id, final.tabling) == (c.source_id, c.tabling),
                c.tabling > 0,
                step.position,
                kind,
                c.retracts,
                c.stated_on,
                ended,
                None
                if c.is_tabling
                else confirmed_proposal(c.position, c.target, step.position, step.proposal),
            )
            rows.append(
                {
                    "stated_on": c.stated_on,
                    "kind": kind,
                    "statement_id": c.source_id,
                    "speaker": shown["speaker"],
                    "position": step.position,
                    "verdict": step.verdict,
                    "effect": effect,
                    "rule": rule,
                    "quote": shown["quote"],
                    "sources": shown["sources"],
                    "recorded_at": shown["recorded_at"],
                }
            )
            for correction, _, after, number, described, reason in fixes.get(c.source_id, []):
                rows.append(
                    {
                        "stated_on": after.stated_on,
                        "kind": "correction",
                        "statement_id": c.source_id,
                        "effect": f"correction {number} ({described}): {reason}",
                        "rule": "R12",
                        "recorded_at": unstamp(correction.recorded_at).isoformat(),
                    }
                )
            if c.is_tabling:
                continue
            for change, described, number, reason in self._amendment_rows(c.source_id):
                rows.append(
                    {
                        "stated_on": c.stated_on,
                        "kind": "amendment",
                        "statement_id": c.source_id,
                        "effect": f"amendment {number} ({described}): {reason}",
                        "rule": "R15",
                        "recorded_at": unstamp(change.recorded_at).isoformat(),
                    }
                )
        day = as_of or FOREVER
        _contested(
            rows, final, self.rivals_of("stances", party, issue, final, day) if final else []
        )
        for n, row in enumerate(rows, start=1):
            row["step"] = n
        return _frame(rows, EXPLAIN_SCHEMA)

    def _stated_on(self, statement_id: str) -> str:
        """A statement's date as its step row gives it (as corrected by the time asked for)."""
        recorded, params = self._recorded()
        found = self._rows(
            "SELECT stated_on FROM {p}positions_view_steps WHERE negotiation = %s "
            f"AND source_id = %s AND tabling = 0 AND {recorded}",
            [self.slug, statement_id, *params],
        )
        return str(found[0][0])

    # -- every statement, for export

    def statement_rows(self, as_of: date | None = None) -> list[dict[str, Any]]:
        limit = (as_of or FOREVER).toordinal()
        found = self._steps_with_documents(["s.day <= %s", "s.tabling = 0"], [limit])
        corrected: dict[str, list[str]] = {}
        for fix in self.views._rows(
            self.cursor, "corrections", "WHERE negotiation = %s", [self.slug]
        ):
            if self.known is None or fix.recorded_at <= self.known:
                corrected.setdefault(fix.statement_id, []).append(
                    unstamp(fix.recorded_at).isoformat()
                )
        n = self.negotiation
        rows: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
        for step, document in found:
            c = step.coding
            shown = c if c.parties else step  # a joint statement as coded (`statement_rows`)
            definition = n.issues.get(shown.issue or "")
            speaker = n.speakers.get(document["speaker"] or "")
            ended = step.ended_key is not None and step.ended_key[0] <= limit
            conditions = orjson.loads(shown.conditions)
            fixes = corrected.get(c.source_id, [])
            changes = [
                unstamp(row.recorded_at).isoformat()
                for row, _, _ in self._changes.get(c.source_id, [])
            ]
            rows.append(
                (
                    step.key,
                    {
                        "negotiation": self.slug,
                        "statement_id": c.source_id,
                        "kind": c.kind,
                        "stated_on": c.stated_on,
                        "date": date.fromordinal(c.day),
                        "date_precision": precision_of(c.slot),
                        "party": listed_text(c.parties) if c.parties else c.party,
                        "speaker": document["speaker"],
                        "speaker_name": speaker.name if speaker else None,
                        "issue": shown.issue,
                        "position": shown.position,
                        "rank": definition.rank(shown.position) if definition else None,
                        "terms": json.dumps(orjson.loads(shown.terms), sort_keys=True)
                        if shown.terms != "{}"
                        else None,
                        "verdict": shown.verdict,
                        "proposal": shown.proposal,
                        "conditions": json.dumps(conditions) if conditions else None,
                        "clarifies": c.clarifies,
                        "retracts": c.retracts,
                        "about": c.about,
                        "attribution": document["attribution"],
                        "confidence": document["confidence"],
                        "channel": document["channel"],
                        "quote": document["quote"],
                        "quote_original": document["quote_original"],
                        "language": document["language"],
                        "sources": json.dumps(
                            [
                                {k: v for k, v in source.items() if v is not None}
                                for source in document["sources"]
                            ]
                        ),
                        "notes": document["notes"],
                        "salience": document["salience"],
                        "hypothetical": bool(document["hypothetical"]),
                        "recorded_at": unstamp(c.recorded_at).isoformat(),
                        "corrections": len(fixes),
                        "last_corrected_at": max(fixes, default=None),
                        "amendments": len(changes),
                        "last_amended_at": max(changes, default=None),
                        "ended_by": step.ended_by if ended else None,
                        "ended_how": step.ended_how if ended else None,
                    },
                )
            )
        rows.sort(key=lambda item: item[0])
        return [row for _, row in rows]

    # -- what a report links to and is dated by

    def sources_of(self, ids: Iterable[str]) -> dict[str, tuple[Source, ...]]:
        wanted = sorted(set(ids))
        found = self._codebook_sources(wanted)
        statements = [sid for sid in wanted if sid not in found]
        views = self.views
        for start in range(0, len(statements), 500):
            chunk = statements[start : start + 500]
            marks = ", ".join("%s" for _ in chunk)
            rows = self._rows(
                "SELECT v.statement_id, v.notification_id, e.state "
                f"FROM {{p}}positions_view_statements v LEFT JOIN {views.events_table} e "
                f"ON e.{views.event_key} = v.notification_id "
                f"WHERE v.negotiation = %s AND v.statement_id IN ({marks})",
                [self.slug, *chunk],
            )
            documents = {
                statement_id: views._fields(statement_id, int(notification_id), state)
                for statement_id, notification_id, state in rows
            }
            for statement_id, document in self._amend(documents).items():
                found[statement_id] = tuple(
                    Source.model_validate(source) for source in document["sources"]
                )
        return found

    def known_at(self) -> datetime | None:
        return self.asked_known_at

    def recorded_until(self) -> datetime:
        if self.known is not None:
            return unstamp(self.known)
        latest = [
            row[0]
            for table in ("statements", "corrections", "amendments")
            for row in self._rows(
                f"SELECT max(recorded_at) FROM {{p}}positions_view_{table} WHERE negotiation = %s",
                [self.slug],
            )
            if row[0] is not None
        ]
        return unstamp(max(latest)) if latest else datetime.now(UTC)

    # -- frames, for the formats that need them

    def history(
        self,
        party: str | None = None,
        issue: str | None = None,
        as_of: date | None = None,
        developments: bool = True,
        latest: int | None = None,
        since: date | None = None,
        until: date | None = None,
        speaker: str | None = None,
        search: Search | None = None,
    ) -> Any:
        rows = self.history_rows(
            party, issue, as_of, developments, latest, since, until, speaker, search
        )
        return _frame(rows, HISTORY_SCHEMA)


_STEP_SELECT_S = ", ".join(f"s.{name}" for name in STEP_SELECT.split(", "))


def _verdict_columns(cell: Cell, speaker: str | None, quote: str | None) -> dict[str, Any]:
    """The columns of a row of `proposals` that a verdict in force gives."""
    return {
        "verdict": cell.value,
        "conditions": "; ".join(orjson.loads(cell.extra)) or None,
        "stated_on": cell.stated_on,
        "date": date.fromordinal(cell.day),
        "statement_id": cell.source_id,
        "speaker": speaker,
        "quote": quote,
    }


def _moves(payload: dict[str, Any]) -> bool:
    """Whether a correction's changes move its statement to another party, issue or day."""
    return any(payload.get(name) is not None for name in ("party", "issue", "on"))


def _coding_value(coding: Coding, name: str) -> Any:
    return coding.stated_on if name == "on" else getattr(coding, name)


def _change_text(name: str, value: Any) -> Any:
    if name == "on":
        return value["day"] if value["before"] is None else f"before {value['before']}"
    return value


__all__ = ["NONCOMMITTAL", "StepQueries"]
