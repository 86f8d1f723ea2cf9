"""Pure folds from a negotiation's record to polars DataFrames with fixed schemas.

Each projection has the name of the CLI command it backs. Terms are kept as a JSON object in a
string column so that every schema is fixed whatever terms an issue uses.
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

from positions.analysis import (
    Shift,
    Sweep,
    classify_move,
    effective_by_day,
    explain_effect,
    nearest_label,
    own_steps,
    weighted_median,
)
from positions.codebook import NONCOMMITTAL, Source, StatedOn, Statement, precision_of
from positions.codebook import sources_text as _sources
from positions.domain import Negotiation
from positions.errors import NotFoundError, QueryError
from positions.hints import unknown
from positions.search import Search
from positions.steps import OPEN_DAY, Said, confirmed_proposal, rivals
from positions.steps import shown as shown_once
from positions.timeline import (
    AmendmentRecord,
    CorrectionRecord,
    NegotiationRecord,
    Step,
    Timeline,
    build_timeline,
    in_force,
)

if TYPE_CHECKING:
    import polars as pl

FOREVER = date.max

StepGroup = tuple[str, str | None, str | None]
"""(party, issue, claimant): the steps that decide one stance, or one claimed stance."""

STANCE_SCHEMA: dict[str, Any] = {
    "party": "String",
    "issue": "String",
    "position": "String",
    "rank": "Int64",
    "terms": "String",
    "stated_on": "String",
    "date": "Date",
    "statement_id": "String",
    "speaker": "String",
    "quote": "String",
    "claimed_by": "String",
    "shift": "String",
    "shift_ranks": "Int64",
    "recorded_at": "String",
    "contested": "Boolean",
}

HISTORY_SCHEMA: dict[str, Any] = {
    "stated_on": "String",
    "date": "Date",
    "party": "String",
    "kind": "String",
    "statement_id": "String",
    "speaker": "String",
    "issue": "String",
    "position": "String",
    "rank": "Int64",
    "terms": "String",
    "verdict": "String",
    "proposal": "String",
    "conditions": "String",
    "about": "String",
    "target": "String",
    "ended_by": "String",
    "ended_how": "String",
    "attribution": "String",
    "confidence": "String",
    "quote": "String",
    "sources": "String",
    "shift": "String",
    "shift_ranks": "Int64",
    "recorded_at": "String",
    "hypothetical": "Boolean",
}

COMPARE_SCHEMA: dict[str, Any] = {
    "issue": "String",
    "party": "String",
    "position": "String",
    "rank": "Int64",
    "terms": "String",
    "statement_id": "String",
    "claims": "String",
    "spread": "Int64",
    "cell": "String",
}

PROPOSALS_SCHEMA: dict[str, Any] = {
    "proposal": "String",
    "issue": "String",
    "tabled_by": "String",
    "reported_by": "String",
    "party": "String",
    "claimed_by": "String",
    "verdict": "String",
    "conditions": "String",
    "stated_on": "String",
    "date": "Date",
    "statement_id": "String",
    "speaker": "String",
    "quote": "String",
    "contested": "Boolean",
}


VERDICT_COLUMNS = ("verdict", "conditions", "stated_on", "date", "statement_id", "speaker", "quote")
"""The columns of a row of `proposals` that its verdict gives."""

DIGEST_SCHEMA: dict[str, Any] = {**HISTORY_SCHEMA, "moved": "String"}
"""A row of `digest`: a row of `history`, and the cells its statement moved in the window."""

SCHEMAS: dict[str, dict[str, Any]] = {
    "stance": STANCE_SCHEMA,
    "history": HISTORY_SCHEMA,
    "digest": DIGEST_SCHEMA,
    "compare": COMPARE_SCHEMA,
    "proposals": PROPOSALS_SCHEMA,
}
"""The schema of each projection a query command shows, by its view name."""


def _frame(rows: list[dict[str, Any]], schema: dict[str, str]) -> pl.DataFrame:
    """A projection's rows as a frame of its fixed schema (the dtypes named in ``schema``).

    polars is imported here, on first use, not with the module: the comparison table on a
    terminal is rendered from rows (`Query.compare_rows`), and a command that needs no frame
    starts without polars' import time."""
    import polars as pl

    return pl.DataFrame(rows, schema={name: getattr(pl, dtype) for name, dtype in schema.items()})


def _terms(terms: dict[str, Any]) -> str | None:
    return json.dumps(terms, sort_keys=True, ensure_ascii=False) if terms else None


def _joint(step: Step) -> tuple[str, ...]:
    """The parties of a joint statement or of a joint proposal's own tabling (none else)."""
    if step.statement is not None:
        return step.statement.parties if step.statement.joint else ()
    tabled = step.tabled
    if tabled is None or tabled.reported_by is not None or len(tabled.proposers) < 2:
        return ()
    return tabled.proposers


def party_names(negotiation: Negotiation, parties: Sequence[str]) -> str:
    """The speaker cell of a statement no person made: its party's name, or the names of the
    parties of a joint statement (or proposal), as `listed_text` lists them."""
    return listed_text(
        [negotiation.parties[p].name if p in negotiation.parties else p for p in parties]
    )


def _speaker(timeline: Timeline, step: Step) -> str | None:
    negotiation = timeline.record.negotiation
    if step.statement is None:  # a tabling: by its proposers, or the party that reported it
        return party_names(negotiation, _joint(step) or [step.claimed_by or step.party])
    statement = step.statement
    if statement.speaker is not None:
        speaker = negotiation.speakers.get(statement.speaker)
        return speaker.name if speaker else statement.speaker
    return party_names(negotiation, statement.parties)


def _quote(step: Step) -> str | None:
    if step.statement is not None:
        return step.statement.quote
    assert step.tabled is not None
    return step.tabled.quote or step.tabled.title


def _stated(on: StatedOn) -> str:
    return str(on)


def listed_text(ids: Sequence[str]) -> str:
    """A cell that names several ids: a package's issues (``issue`` of `proposals`), the
    parties of a joint statement (``party`` of `history`), in their order, separated by
    ", " (ids never hold one, so the text splits back)."""
    return ", ".join(ids)


def in_window(day: date, since: date | None, until: date | None) -> bool:
    """Whether a row dated ``day`` is listed by ``--since`` and ``--until`` (both inclusive):
    the one rule of the date window of `history`."""
    return (since is None or day >= since) and (until is None or day <= until)


@dataclass(frozen=True, slots=True)
class Series:
    """One party's own positions on one issue over valid time: the intervals
    ``[starts[k], ends[k])`` (day ordinals, in order, not overlapping) in which
    ``positions[k]`` is in force (None for a retraction's gap)."""

    starts: list[int]
    ends: list[int]
    positions: list[str | None]

    def at(self, day: int) -> str | None:
        """The position in force at the end of day ordinal ``day``, or None."""
        index = bisect.bisect_right(self.starts, day) - 1
        if index >= 0 and self.ends[index] > day:
            return self.positions[index]
        return None


NO_SERIES = Series([], [], [])


class Tables:
    """What the in-memory projections (`Query`) and the step tables (`queries.stance`) share:
    the argument checks and the layout of every table both answer (stance, compare, proposals,
    claims, diff, gaps, the developments). A subclass gives what is read: the step in force in
    a group on a day (`in_force`), the claimants of a cell, the row of a step, a party's
    positions over time (`series`), `history`, `explain`'s steps, the statements' rows, their
    sources and the time the record is known at."""

    negotiation: Negotiation

    def check_party(self, party: str | None) -> None:
        if party is not None and party not in self.negotiation.parties:
            raise NotFoundError(unknown("party", party, self.negotiation.parties))

    def check_speaker(self, speaker: str | None) -> None:
        if speaker is not None and speaker not in self.negotiation.speakers:
            raise NotFoundError(unknown("speaker", speaker, self.negotiation.speakers))

    def check_issue(self, issue: str | None) -> None:
        if issue is not None and issue not in self.negotiation.issues:
            raise NotFoundError(unknown("issue", issue, self.negotiation.issues))

    def in_force(self, party: str, issue: str, claimant: str | None, day: date) -> Any:
        raise NotImplementedError

    def series(self, issue: str) -> dict[str, Series]:
        """Each party's own positions on ``issue`` over valid time (what a timeline draws):
        at every day, ``series[party].at(day)`` is the position of ``stance`` on that day."""
        raise NotImplementedError

    def span(self, issues: Sequence[str], as_of: date | None = None) -> tuple[date, date] | None:
        """The first and the last day of the statements and tablings on ``issues`` made by
        ``as_of`` (None if there are none): the days several issues' timelines share."""
        raise NotImplementedError

    def explain(self, party: str, issue: str, as_of: date | None = None) -> pl.DataFrame:
        """The steps behind one cell of the stance table, each with its effect and rule."""
        raise NotImplementedError

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
        """The `history` frame: the statements by the day (by or about ``party``, on
        ``issue``, said by ``speaker``, holding the words of ``search``), their corrections,
        and the developments when nothing is filtered; only the rows dated from ``since`` to
        ``until`` (`in_window`); with ``latest``, only the last that many rows."""
        raise NotImplementedError

    def stance(
        self,
        as_of: date | None = None,
        party: str | None = None,
        issue: str | None = None,
        claims: bool = False,
    ) -> pl.DataFrame:
        """Each party's effective position on each issue as of a date (and, with ``claims``,
        the positions other parties claim for it)."""
        return _frame(self.stance_rows(as_of, party, issue, claims), STANCE_SCHEMA)

    def compare(
        self,
        as_of: date | None = None,
        party: str | None = None,
        issue: str | None = None,
        claimant: Callable[[str], str] | None = None,
    ) -> pl.DataFrame:
        """Issues × parties: each cell the effective position, with claimed positions marked
        (of one party, on one issue, where given; each claimant as ``claimant`` writes it)."""
        return _frame(self.compare_rows(as_of, party, issue, claimant), COMPARE_SCHEMA)

    def proposals(
        self,
        as_of: date | None = None,
        party: str | None = None,
        issue: str | None = None,
        claims: bool = False,
    ) -> pl.DataFrame:
        """Proposals × parties with each party's verdict as of a date (one party's verdicts,
        proposals on one issue, where given; with ``claims``, the verdicts others claim)."""
        return _frame(self.proposal_rows(as_of, party, issue, claims), PROPOSALS_SCHEMA)

    def digest_rows(
        self, since: date, until: date, search: Search | None = None
    ) -> list[dict[str, Any]]:
        """What was said from ``since`` to ``until`` (both included): the rows of `history`
        in that window (of the statements holding the words of ``search``), issue by issue
        (in the codebook's order, developments first), each in the timeline's order, with
        the cells its statement moved over the window
        (``moved``: the cells `diff` from the day before ``since`` to ``until`` finds
        changed, on the statements it lists)."""
        window = self.history(as_of=until, since=since, until=until, search=search)
        rows = list(window.iter_rows(named=True))
        moved: dict[str, list[str]] = {}
        for change in self.diff(since - timedelta(days=1), until).iter_rows(named=True):
            cell = f"{change['party']} on {change['issue']}: {change_text(change)}"
            for sid in (change["statements"] or "").split(", "):
                if sid:
                    moved.setdefault(sid, []).append(cell)
        order = {issue: n for n, issue in enumerate(self.negotiation.issues, start=1)}
        rows.sort(key=lambda row: order.get(row["issue"], 0))  # stable: the timeline's order
        return [
            {**row, "moved": "; ".join(moved.get(row["statement_id"] or "", [])) or None}
            for row in rows
        ]

    def digest(self, since: date, until: date, search: Search | None = None) -> pl.DataFrame:
        """`digest_rows` as a frame."""
        return _frame(self.digest_rows(since, until, search), DIGEST_SCHEMA)

    def mean_of_others(self, party: str, issue: str, day: date) -> float | None:
        """The mean rank of the other parties' own positions on ``issue`` on ``day`` (R13)."""
        raise NotImplementedError

    def steps_between(self, party: str, issue: str, start: date, end: date) -> list[str]:
        """The ids of a party's own steps on an issue made after ``start``, by ``end``, in
        order."""
        raise NotImplementedError

    def diff(self, start: date, end: date) -> pl.DataFrame:
        """Each party and issue whose effective position changed between two dates."""
        if start > end:
            raise QueryError(f"FROM ({start}) is after TO ({end})")
        rows = []
        before, after = self.stance_rows(start, brief=True), self.stance_rows(end, brief=True)
        for old, new in zip(before, after, strict=True):
            if (old.get("position"), old.get("terms")) == (new.get("position"), new.get("terms")):
                continue
            party, issue = new["party"], new["issue"]
            between = self.steps_between(party, issue, start, end)
            old_rank, new_rank = old.get("rank"), new.get("rank")
            ranks: int | None = None
            if old_rank is not None and new_rank is not None:
                shift = classify_move(
                    old_rank, new_rank, partial(self.mean_of_others, party, issue, end)
                )
                ranks = new_rank - old_rank
            elif new.get("position") == NONCOMMITTAL:
                shift = NONCOMMITTAL
            elif new.get("position") is None:
                shift = "withdrawn"
            else:
                shift = "new"
            rows.append(
                {
                    "party": party,
                    "issue": issue,
                    "from_position": old.get("position"),
                    "from_rank": old_rank,
                    "to_position": new.get("position"),
                    "to_rank": new_rank,
                    "from_terms": old.get("terms"),
                    "to_terms": new.get("terms"),
                    "shift": shift,
                    "shift_ranks": ranks,
                    "statements": ", ".join(between) or None,
                }
            )
        return _frame(rows, DIFF_SCHEMA)

    def _own_ranks(self, as_of: date | None, issue: str) -> dict[str, tuple[str, int]]:
        frame = self.stance(as_of, issue=issue)
        return {
            r["party"]: (r["position"], r["rank"])
            for r in frame.iter_rows(named=True)
            if r["rank"] is not None
        }

    def gaps(self, as_of: date | None = None, issue: str | None = None) -> pl.DataFrame:
        """Per issue: who holds a position, the spread, shared positions, proposals' standing."""
        import polars as pl

        self.check_issue(issue)
        verdicts = self.proposals(as_of)
        rows = []
        for i in self.negotiation.issues:
            if issue is not None and i != issue:
                continue
            held = self._own_ranks(as_of, i)
            ranks = [rank for _, rank in held.values()]
            groups: dict[str, list[str]] = {}
            for party, (position, _) in held.items():
                groups.setdefault(position, []).append(party)
            shared = "; ".join(
                f"{position}: {', '.join(parties)}"
                for position, parties in groups.items()
                if len(parties) > 1
            )
            standing = []
            for proposal in dict.fromkeys(verdicts.filter(pl.col("issue") == i)["proposal"]):
                answers = verdicts.filter(pl.col("proposal") == proposal)
                refusing = [
                    f"{r['party']} ({r['verdict'] or 'no verdict'})"
                    for r in answers.iter_rows(named=True)
                    if r["verdict"] != "accept"
                ]
                standing.append(
                    f"{proposal}: accepted by all"
                    if not refusing
                    else f"{proposal}: not accepted by {', '.join(refusing)}"
                )
            rows.append(
                {
                    "issue": i,
                    "holders": len(held),
                    "min_rank": min(ranks) if ranks else None,
                    "max_rank": max(ranks) if ranks else None,
                    "spread": max(ranks) - min(ranks) if ranks else None,
                    "shared": shared or None,
                    "proposals": "; ".join(standing) or None,
                }
            )
        return _frame(rows, GAPS_SCHEMA)

    def hypothetical_statements(self) -> set[str]:
        """The ids of the hypothetical statements (of a what-if replay)."""
        raise NotImplementedError

    def salience(self, party: str, issue: str, as_of: date | None) -> float | None:
        """The latest salience given by a counting statement of the party's own on the
        issue, else the declared one (rule R14)."""
        raise NotImplementedError

    def outlook(self, as_of: date | None = None, issue: str | None = None) -> pl.DataFrame:
        """The compromise model's weighted mean and the weighted median, per issue."""
        self.check_issue(issue)
        rows = []
        for i, definition in self.negotiation.issues.items():
            if issue is not None and i != issue:
                continue
            held = self._own_ranks(as_of, i)
            points: list[tuple[float, float]] = []
            included, excluded = [], []
            for party, record in self.negotiation.parties.items():
                salience = self.salience(party, i, as_of)
                missing = [
                    what
                    for what, value in (
                        ("position", held.get(party)),
                        ("capability", record.capability),
                        ("salience", salience),
                    )
                    if value is None
                ]
                if missing:
                    excluded.append(f"{party} (no {', no '.join(missing)})")
                    continue
                assert record.capability is not None
                assert salience is not None
                weight = float(record.capability) * float(salience)
                points.append((float(held[party][1]), weight))
                included.append(f"{party} (weight {weight:g})")
            total = sum(w for _, w in points)
            mean = sum(r * w for r, w in points) / total if total > 0 else None
            median = weighted_median(points)
            rows.append(
                {
                    "issue": i,
                    "weighted_mean": round(mean, 4) if mean is not None else None,
                    "mean_position": nearest_label(definition, mean),
                    "weighted_median": median,
                    "median_position": nearest_label(definition, median),
                    "included": "; ".join(included) or None,
                    "excluded": "; ".join(excluded) or None,
                }
            )
        return _frame(rows, OUTLOOK_SCHEMA)

    def gap_pairs(self, as_of: date | None = None, issue: str | None = None) -> pl.DataFrame:
        """Per issue, the rank distance between every two parties that hold a position."""
        self.check_issue(issue)
        rows = []
        for i in self.negotiation.issues:
            if issue is not None and i != issue:
                continue
            held = self._own_ranks(as_of, i)
            for party, (position, rank) in held.items():
                for other, (other_position, other_rank) in held.items():
                    if other != party:
                        rows.append(
                            {
                                "issue": i,
                                "party": party,
                                "other": other,
                                "position": position,
                                "other_position": other_position,
                                "distance": abs(rank - other_rank),
                            }
                        )
        return _frame(rows, PAIRS_SCHEMA)

    def claims(self, as_of: date | None = None) -> pl.DataFrame:
        """The `stance` rows of claims in force about a party's position (``claimed_by``)."""
        rows = self.stance_rows(as_of, claims=True)
        return _frame([r for r in rows if r["claimed_by"] is not None], STANCE_SCHEMA)

    def sources_of(self, ids: Iterable[str]) -> dict[str, tuple[Source, ...]]:
        """The sources of the statements, proposals and developments of ``ids`` (what a
        report links to), by id."""
        raise NotImplementedError

    def statement_rows(self, as_of: date | None = None) -> list[dict[str, Any]]:
        """The rows of ``export --what statements``: one per statement made by ``as_of``, in
        the order of the record, with every field, both clocks and the coding in force."""
        raise NotImplementedError

    def recorded_until(self) -> datetime:
        """The time the record is known at: the one asked for, else the latest recording time
        of its statements and corrections, else now."""
        raise NotImplementedError

    def known_at(self) -> datetime | None:
        """The recording time asked for (``--known-at``), or None for the record as it is."""
        raise NotImplementedError

    def _codebook_sources(self, ids: Iterable[str]) -> dict[str, tuple[Source, ...]]:
        n = self.negotiation
        found: dict[str, tuple[Source, ...]] = {}
        for sid in ids:
            if sid in n.proposals:
                found[sid] = n.proposals[sid].sources
            elif sid in n.developments:
                found[sid] = n.developments[sid].sources
        return found

    def development_rows(self, as_of: date | None = None) -> list[dict[str, Any]]:
        """The developments made by ``as_of``, as rows of `history`, in its order."""
        limit = as_of or FOREVER
        chosen = sorted(
            (d for d in self.negotiation.developments.values() if d.on.day <= limit),
            key=lambda d: (*d.on.sort_key(), d.id),
        )
        return [
            {
                **dict.fromkeys(HISTORY_SCHEMA),
                "stated_on": _stated(dev.on),
                "date": dev.on.day,
                "kind": "development",
                "statement_id": dev.id,
                "quote": dev.what,
                "sources": _sources(dev.sources),
            }
            for dev in chosen
        ]

    def claimants(self, party: str, issue: str) -> list[str]:
        raise NotImplementedError

    def _stance_row(
        self, party: str, issue: str, step: Any, claimed_by: str | None
    ) -> dict[str, Any]:
        raise NotImplementedError

    def _brief_row(
        self, party: str, issue: str, step: Any, claimed_by: str | None
    ) -> dict[str, Any]:
        """A row of `stance` with at least what `compare_rows` reads (party, issue, position,
        rank, terms, statement_id, claimed_by); a backend may skip the rest."""
        return self._stance_row(party, issue, step, claimed_by)

    def stance_rows(
        self,
        as_of: date | None = None,
        party: str | None = None,
        issue: str | None = None,
        claims: bool = False,
        brief: bool = False,
    ) -> list[dict[str, Any]]:
        """The rows of `stance`, as dicts: party by party and issue by issue, each party's own
        row, then (with ``claims``) one per claimant with a claim in force. ``brief`` rows
        need only what a cell of `compare` shows (`_brief_row`)."""
        row_of = self._brief_row if brief else self._stance_row
        self.check_party(party)
        self.check_issue(issue)
        day = as_of or FOREVER
        cells = self.cells_in_force(day, party, issue, claims)
        if not brief:
            self._read_ahead([cell for *_, cell in cells])
        rows = []
        for p, i, claimant, cell in cells:
            row = row_of(p, i, cell, claimant)
            if cell is not None and claimant is None:  # R16: a party's own cell only
                row["contested"] = bool(self.rivals_of("stances", p, i, cell, day))
            rows.append(row)
        return rows

    def rivals_of(self, table: str, party: str, subject: str, cell: Any, day: date) -> list[str]:
        """R16 (`steps.rivals`): the party's own statements that contest the one in force in
        a cell of ``table`` (``stances`` or ``verdicts``) on ``day``."""
        raise NotImplementedError

    def crowded_verdicts(
        self, day: date, party: str | None = None
    ) -> set[tuple[str, str, int]] | None:
        """Some (party, proposal, day's ordinal) among which are all those on which the party
        (``party``, where given) stated more than one verdict of its own on the proposal by
        ``day``: only a verdict made on such a day can be contested (R16), so `proposals`, a
        table of many cells, asks `rivals_of` about those alone. None (the default): every
        cell is asked."""
        return None

    def _read_ahead(self, cells: list[Any]) -> None:
        """Before full rows are made of ``cells``: a backend may read what they need at once."""

    def cells_in_force(
        self, day: date, party: str | None, issue: str | None, claims: bool
    ) -> list[tuple[str, str, str | None, Any]]:
        """What `stance_rows` lists, as (party, issue, claimant or None, what is in force or
        None): party by party and issue by issue, each party's own cell, then (with
        ``claims``) each claimant's in force, in the claimants' order."""
        found: list[tuple[str, str, str | None, Any]] = []
        for p, i in self.pairs(party, issue):
            found.append((p, i, None, self.in_force(p, i, None, day)))
            if claims:
                for claimant in self.claimants(p, i):
                    chosen = self.in_force(p, i, claimant, day)
                    if chosen is not None:
                        found.append((p, i, claimant, chosen))
        return found

    def pairs(self, party: str | None, issue: str | None) -> list[tuple[str, str]]:
        """Each (party, issue) a table lists, party by party and issue by issue (of
        ``party``, on ``issue``, where given)."""
        return [
            (p, i)
            for p in self.negotiation.parties
            if party is None or p == party
            for i in self.negotiation.issues
            if issue is None or i == issue
        ]

    def compare_rows(
        self,
        as_of: date | None = None,
        party: str | None = None,
        issue: str | None = None,
        claimant: Callable[[str], str] | None = None,
    ) -> list[dict[str, Any]]:
        """The rows of `compare`, as dicts, issue by issue and party by party (of ``party``,
        on ``issue``, where given: an issue's spread is still that of every party)."""
        self.check_party(party)
        rows = compare_rows(
            self.stance_rows(as_of, None, issue, claims=True, brief=True),
            list(self.negotiation.parties),
            [issue] if issue is not None else list(self.negotiation.issues),
            claimant,
        )
        return rows if party is None else [row for row in rows if row["party"] == party]

    def verdicts_on(self, day: date, party: str | None = None) -> Any:
        """A function of (party, proposal) giving the verdict columns of `proposals` for the
        verdict in force at the end of ``day`` (R8) and what is in force (for `rivals_of`), or
        None; with ``party``, it answers for that party (a backend may read no other)."""
        raise NotImplementedError

    def claimed_verdicts(
        self, day: date, party: str | None = None
    ) -> dict[tuple[str, str], list[dict[str, Any]]]:
        """For each (party, proposal), the verdict columns of `proposals` of each claim about
        the party's verdict in force at the end of ``day`` (R8 among one claimant's claims,
        R9), with ``claimed_by``, by claimant; with ``party``, those about that party (a
        backend may read no other)."""
        raise NotImplementedError

    def proposal_rows(
        self,
        as_of: date | None = None,
        party: str | None = None,
        issue: str | None = None,
        claims: bool = False,
    ) -> list[dict[str, Any]]:
        """The rows of `proposals`: each proposal tabled by the day (on ``issue``, where
        given: a package that covers it), in order, a row per party (or for ``party`` alone)
        with its verdict in force; with ``claims``, after it one row per claimant with the
        verdict it claims for the party (``claimed_by``)."""
        self.check_party(party)
        self.check_issue(issue)
        day = as_of or FOREVER
        verdict = self.verdicts_on(day, party)
        claimed = self.claimed_verdicts(day, party) if claims else {}
        crowded = self.crowded_verdicts(day, party)
        rows = []
        for proposal in sorted(
            self.negotiation.proposals.values(), key=lambda p: (p.on.sort_key(), p.id)
        ):
            covered = proposal.issues
            if proposal.on.day > day or (issue is not None and issue not in covered):
                continue
            issues, tabled_by = listed_text(covered), listed_text(proposal.proposers)
            for p in self.negotiation.parties:
                if party is not None and p != party:
                    continue
                row: dict[str, Any] = {
                    "proposal": proposal.id,
                    "issue": issues,
                    "tabled_by": tabled_by,
                    "reported_by": proposal.reported_by,
                    "party": p,
                }
                found = verdict(p, proposal.id)
                if found is not None:
                    columns, cell = found
                    row.update(columns)
                    maybe = crowded is None or (p, proposal.id, cell.day) in crowded
                    row["contested"] = maybe and bool(
                        self.rivals_of("verdicts", p, proposal.id, cell, day)
                    )
                rows.append(row)
                for claim in claimed.get((p, proposal.id), ()):
                    rows.append({**row, **dict.fromkeys(VERDICT_COLUMNS), **claim})
        return rows


class Query(Tables):
    """The projections of one negotiation's record (built once, queried many times)."""

    def __init__(self, record: NegotiationRecord) -> None:
        self.record = record
        self.timeline = build_timeline(record)
        self.negotiation = record.negotiation
        self._sweep: Sweep | None = None
        self._effective: dict[StepGroup, tuple[list[date], list[Step | None]]] | None = None
        self._claimants: dict[tuple[str, str | None], list[str]] = {}
        self._by_id: dict[str, Statement] | None = None

    @property
    def sweep(self) -> Sweep:
        if self._sweep is None:
            self._sweep = Sweep(self.timeline)
        return self._sweep

    @property
    def shifts(self) -> Mapping[tuple[str, int], Shift]:
        return self.sweep.shifts

    def _index(self) -> dict[StepGroup, tuple[list[date], list[Step | None]]]:
        """Each (party, issue, claimant) group swept once: its effective step day by day. A
        party's own groups come from the pass that also gives the shifts (`Sweep`); the
        groups of claims about it are swept here."""
        if self._effective is None:
            claims: dict[StepGroup, list[Step]] = {}
            for step in self.timeline.steps:
                if step.claimed_by is not None:
                    claims.setdefault((step.party, step.issue, step.claimed_by), []).append(step)
            effective: dict[StepGroup, tuple[list[date], list[Step | None]]] = {
                (party, issue, None): days for (party, issue), days in self.sweep.effective.items()
            }
            effective.update({key: effective_by_day(steps) for key, steps in claims.items()})
            self._effective = effective
            for party, issue, claimant in claims:
                assert claimant is not None
                self._claimants.setdefault((party, issue), []).append(claimant)
            for claimants in self._claimants.values():
                claimants.sort()
        return self._effective

    def effective(self, group: StepGroup, as_of: date) -> Step | None:
        """The step that sets the stance of a (party, issue, claimant) group on ``as_of``,
        found by bisection in the group's sweep."""
        days, chosen = self._index().get(group, ([], []))
        index = bisect.bisect_right(days, as_of)
        return chosen[index - 1] if index else None

    def series(self, issue: str) -> dict[str, Series]:
        self.check_issue(issue)
        index = self._index()
        found: dict[str, Series] = {}
        for party in self.negotiation.parties:
            days, chosen = index.get((party, issue, None), ([], []))
            starts, ends, positions = [], [], []
            for k, step in enumerate(chosen):
                if step is None:
                    continue
                starts.append(days[k].toordinal())
                ends.append(days[k + 1].toordinal() if k + 1 < len(days) else OPEN_DAY)
                positions.append(step.position)
            found[party] = Series(starts, ends, positions)
        return found

    def span(self, issues: Sequence[str], as_of: date | None = None) -> tuple[date, date] | None:
        wanted, limit = set(issues), as_of or FOREVER
        days = [
            step.on.day
            for step in self.timeline.steps
            if step.issue in wanted and step.on.day <= limit
        ]
        return (min(days), max(days)) if days else None

    def sources_of(self, ids: Iterable[str]) -> dict[str, tuple[Source, ...]]:
        wanted = set(ids)
        found = self._codebook_sources(wanted)
        for statement in self.record.statements:
            if statement.id in wanted:
                found[statement.id] = statement.sources
        return found

    def statement_rows(self, as_of: date | None = None) -> list[dict[str, Any]]:
        record = self.record
        negotiation = record.negotiation
        # a statement's row holds its step (of a joint statement, its first party's)
        steps = {s.source_id: s for s in self.timeline.steps if s.member == 0}
        corrected_at: dict[str, list[str]] = {}
        for fix in record.corrections:
            corrected_at.setdefault(fix.after.id, []).append(fix.recorded_at.isoformat())
        amended_at: dict[str, list[str]] = {}
        for change in record.amendments:
            amended_at.setdefault(change.after.id, []).append(change.recorded_at.isoformat())
        rows = []
        for statement in sorted(record.statements, key=self.timeline.statement_key):
            if as_of is not None and statement.on.day > as_of:
                continue
            step = steps[statement.id]
            # a joint statement's row gives its coding as stated: each of its parties' steps
            # may resolve it otherwise (a bare acceptance confirming one party's proposal)
            shown: Any = statement if statement.joint else step
            issue = negotiation.issues.get(shown.issue or "")
            speaker = negotiation.speakers.get(statement.speaker or "")
            ended = step.ended_on is not None and (as_of is None or step.ended_on.day <= as_of)
            rows.append(
                {
                    "negotiation": negotiation.slug,
                    "statement_id": statement.id,
                    "kind": str(statement.kind),
                    "stated_on": str(statement.on),
                    "date": statement.on.day,
                    "date_precision": precision_of(statement.on.slot),
                    "party": listed_text(statement.parties),
                    "speaker": statement.speaker,
                    "speaker_name": speaker.name if speaker else None,
                    "issue": shown.issue,
                    "position": shown.position,
                    "rank": issue.rank(shown.position) if issue else None,
                    "terms": json.dumps(shown.terms, sort_keys=True) if shown.terms else None,
                    "verdict": str(shown.verdict) if shown.verdict else None,
                    "proposal": shown.proposal,
                    "conditions": json.dumps(list(shown.conditions)) if shown.conditions else None,
                    "clarifies": statement.clarifies,
                    "retracts": statement.retracts,
                    "about": statement.about,
                    "attribution": str(statement.attribution),
                    "confidence": str(statement.confidence),
                    "channel": statement.channel,
                    "quote": statement.quote,
                    "quote_original": statement.quote_original,
                    "language": statement.language,
                    "sources": json.dumps(
                        [s.model_dump(mode="json", exclude_none=True) for s in statement.sources]
                    ),
                    "notes": statement.notes,
                    "salience": statement.salience,
                    "hypothetical": statement.hypothetical,
                    "recorded_at": record.recorded_at[statement.id].isoformat(),
                    "corrections": len(corrected_at.get(statement.id, [])),
                    "last_corrected_at": max(corrected_at.get(statement.id, []), default=None),
                    "amendments": len(amended_at.get(statement.id, [])),
                    "last_amended_at": max(amended_at.get(statement.id, []), default=None),
                    "ended_by": step.ended_by if ended else None,
                    "ended_how": step.ended_how if ended else None,
                }
            )
        return rows

    def known_at(self) -> datetime | None:
        asked: datetime | None = getattr(self.record, "known_at", None)
        return asked

    def recorded_until(self) -> datetime:
        asked: datetime | None = getattr(self.record, "known_at", None)
        if asked is not None:
            return asked
        stamps = list(self.record.recorded_at.values())
        stamps += [fix.recorded_at for fix in self.record.corrections]
        stamps += [change.recorded_at for change in self.record.amendments]
        return max(stamps) if stamps else datetime.now(UTC)

    def claimants(self, party: str, issue: str) -> list[str]:
        """The parties that ever claimed a position for ``party`` on ``issue``, sorted."""
        self._index()
        return self._claimants.get((party, issue), [])

    def _recorded(self, step: Step) -> str | None:
        if step.statement is None:
            return None
        stamp = self.record.recorded_at.get(step.statement.id)
        return stamp.isoformat() if stamp else None

    # -- projections

    def _stance_row(
        self, party: str, issue: str, step: Step | None, claimed_by: str | None
    ) -> dict[str, Any]:
        definition = self.negotiation.issues[issue]
        if step is None:
            return {"party": party, "issue": issue, "claimed_by": claimed_by}
        return {
            "party": party,
            "issue": issue,
            "position": step.position,
            "rank": definition.rank(step.position),
            "terms": _terms(step.terms),
            "stated_on": _stated(step.on),
            "date": step.on.day,
            "statement_id": step.source_id,
            "speaker": _speaker(self.timeline, step),
            "quote": _quote(step),
            "claimed_by": claimed_by,
            "shift": None if claimed_by else self.shifts[step.ident].shift,
            "shift_ranks": None if claimed_by else self.shifts[step.ident].ranks,
            "recorded_at": self._recorded(step),
        }

    def in_force(self, party: str, issue: str, claimant: str | None, day: date) -> Step | None:
        return self.effective((party, issue, claimant), day)

    def verdicts_on(self, day: date, party: str | None = None) -> Any:
        verdicts: dict[tuple[str, str], Step] = {}
        for step in in_force(self.timeline, day):  # in order: the latest wins
            if step.claimed_by is None and step.verdict is not None and step.proposal is not None:
                verdicts[(step.party, step.proposal)] = step

        def verdict(party: str, proposal: str) -> tuple[dict[str, Any], Step] | None:
            chosen = verdicts.get((party, proposal))
            return None if chosen is None else (self._verdict_columns(chosen), chosen)

        return verdict

    def rivals_of(self, table: str, party: str, subject: str, cell: Any, day: date) -> list[str]:
        if cell.statement is None:  # a tabling is ordered before its day's statements (R7)
            return []
        verdicts = table == "verdicts"

        def said(step: Step) -> Said:
            assert step.statement is not None
            value = step.verdict if verdicts else step.position
            return Said(
                step.source_id,
                step.on.day.toordinal(),
                step.on.slot,
                step.statement.target,
                str(value) if value is not None else None,
            )

        others = [
            said(s)
            for s in self.timeline.steps
            if s.statement is not None
            and s.claimed_by is None
            and s.party == party
            and (s.proposal == subject if verdicts else s.issue == subject)
            and (not verdicts or s.verdict is not None)
            and s.counts(day)
        ]
        return rivals(said(cell), others)

    def claimed_verdicts(
        self, day: date, party: str | None = None
    ) -> dict[tuple[str, str], list[dict[str, Any]]]:
        claims: dict[tuple[str, str, str], Step] = {}
        for step in in_force(self.timeline, day):  # in order: the latest of each claimant wins
            if step.claimed_by is not None and step.verdict is not None and step.proposal:
                claims[(step.party, step.proposal, step.claimed_by)] = step
        found: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for (party, proposal, claimant), step in sorted(claims.items()):
            row = {**self._verdict_columns(step), "claimed_by": claimant}
            found.setdefault((party, proposal), []).append(row)
        return found

    def _verdict_columns(self, chosen: Step) -> dict[str, Any]:
        return {
            "verdict": str(chosen.verdict),
            "conditions": "; ".join(chosen.conditions) or None,
            "stated_on": _stated(chosen.on),
            "date": chosen.on.day,
            "statement_id": chosen.source_id,
            "speaker": _speaker(self.timeline, chosen),
            "quote": _quote(chosen),
        }

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
    ) -> pl.DataFrame:
        """Every statement in order, clarifications and retractions where they happened."""
        self.check_party(party)
        self.check_issue(issue)
        self.check_speaker(speaker)
        limit = as_of or FOREVER
        rows: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
        found = None if search is None else self._found_by(search)
        for step in self.timeline.steps:
            if step.on.day > limit:
                continue
            statement = step.statement
            own_party = (
                statement.parties[step.member]
                if statement is not None
                else (step.claimed_by or step.party)
            )
            if party is not None and party not in (own_party, step.party):
                continue
            if not shown_once(own_party, _joint(step), step.member, party):
                continue  # a joint statement (or proposal) once
            if issue is not None and step.issue != issue:
                continue
            if speaker is not None and (statement is None or statement.speaker != speaker):
                continue
            if found is not None and (statement is None or statement.id not in found):
                continue
            rows.append((step.key, self._history_row(step, own_party, limit)))
        keys = {step.source_id: step.key for step in self.timeline.steps}
        shown = {row["statement_id"] for _, row in rows}
        for fix in self.record.corrections:
            after = fix.after
            if after.id not in keys or after.on.day > limit:
                continue
            if speaker is not None and after.speaker != speaker:
                continue
            if found is not None and after.id not in found:
                continue
            if party is not None and party not in (*after.parties, fix.before.party):
                continue
            if issue is not None and issue not in (after.issue, fix.before.issue):
                continue
            rows.append(
                (self._correction_key(keys[after.id], fix.number), self._correction_row(fix))
            )
        for change in self.record.amendments:  # beside each statement listed
            after = change.after
            if after.id not in shown:
                continue
            rows.append(
                (
                    self._amendment_key(keys[after.id], change.number),
                    self._amendment_row(change),
                )
            )
        filtered = (party, issue, speaker, search) != (None, None, None, None)
        if developments and not filtered:
            for dev in self.development_rows(as_of):
                on = self.negotiation.developments[dev["statement_id"]].on
                rows.append(((*on.sort_key(), -1, dev["statement_id"]), dev))
        rows.sort(key=lambda item: item[0])
        rows = [item for item in rows if in_window(item[1]["date"], since, until)]
        if latest is not None:
            rows = rows[len(rows) - latest :]
        return _frame([row for _, row in rows], HISTORY_SCHEMA)

    def _found_by(self, search: Search) -> set[str]:
        """The ids of the statements whose texts (as the record now holds them) hold the
        words of ``search``."""
        return {
            statement.id
            for step in self.timeline.steps
            if (statement := step.statement) is not None
            and search.matches(self.record.words_of(statement))
        }

    @staticmethod
    def _correction_key(key: tuple[Any, ...], number: int) -> tuple[Any, ...]:
        return (*key[:3], f"{key[3]}~{number:04d}")

    def _in_force(self, statement_id: str) -> Statement:
        """A statement as the record holds it (every correction and amendment applied)."""
        if self._by_id is None:
            self._by_id = {s.id: s for s in self.record.statements}
        return self._by_id[statement_id]

    @staticmethod
    def _amendment_key(key: tuple[Any, ...], number: int) -> tuple[Any, ...]:
        """After the statement and its corrections (``~`` sorts after them as ``~~``)."""
        return (*key[:3], f"{key[3]}~~{number:04d}")

    def _amendment_row(self, change: AmendmentRecord) -> dict[str, Any]:
        """Beside its statement: dated and filed as the statement is now coded."""
        after = self._in_force(change.after.id)
        described = change.amendment.describe(change.before.model_dump(mode="json"))
        return {
            "stated_on": _stated(after.on),
            "date": after.on.day,
            "party": listed_text(after.parties),
            "kind": "amendment",
            "statement_id": after.id,
            "issue": after.issue,
            "target": after.id,
            "quote": f"amendment {change.number}: {described}; reason: {change.amendment.reason}",
            "recorded_at": change.recorded_at.isoformat(),
            "hypothetical": False,
        }

    def _correction_row(self, fix: CorrectionRecord) -> dict[str, Any]:
        changes = fix.correction.changes()
        described = ", ".join(
            f"{name}: {getattr(fix.before, name)} → {value}" for name, value in changes.items()
        )
        definition = self.negotiation.issues.get(fix.after.issue or "")
        return {
            "stated_on": _stated(fix.after.on),
            "date": fix.after.on.day,
            "party": listed_text(fix.after.parties),
            "kind": "correction",
            "statement_id": fix.after.id,
            "issue": fix.after.issue,
            "position": fix.after.position,
            "rank": definition.rank(fix.after.position) if definition else None,
            "verdict": str(fix.after.verdict) if fix.after.verdict else None,
            "proposal": fix.after.proposal,
            "target": fix.after.id,
            "quote": f"correction {fix.number}: {described}; reason: {fix.correction.reason}",
            "recorded_at": fix.recorded_at.isoformat(),
            "hypothetical": False,
        }

    def _history_row(self, step: Step, own_party: str, limit: date) -> dict[str, Any]:
        statement = step.statement
        shift = self.shifts.get(step.ident) if step.claimed_by is None else None
        definition = self.negotiation.issues.get(step.issue or "")
        ended = step.ended_on is not None and step.ended_on.day <= limit
        if statement is not None:
            sources = statement.sources
        else:
            sources = step.tabled.sources if step.tabled is not None else ()
        is_claim = step.claimed_by is not None
        return {
            "stated_on": _stated(step.on),
            "date": step.on.day,
            "party": listed_text(_joint(step) or [own_party]),
            "kind": str(statement.kind) if statement is not None else "proposal",
            "statement_id": step.source_id,
            "speaker": _speaker(self.timeline, step),
            "issue": step.issue,
            "position": step.position,
            "rank": definition.rank(step.position) if definition else None,
            "terms": _terms(step.terms),
            "verdict": str(step.verdict) if step.verdict else None,
            "proposal": step.proposal,
            "conditions": "; ".join(step.conditions) or None,
            "about": step.party if is_claim else None,
            "target": statement.target if statement is not None else None,
            "ended_by": step.ended_by if ended else None,
            "ended_how": step.ended_how if ended else None,
            "attribution": str(statement.attribution) if statement is not None else None,
            "confidence": str(statement.confidence) if statement is not None else None,
            "quote": _quote(step),
            "sources": _sources(sources),
            "shift": shift.shift if shift else None,
            "shift_ranks": shift.ranks if shift else None,
            "recorded_at": self._recorded(step),
            "hypothetical": statement.hypothetical if statement is not None else False,
        }


def _contested(rows: list[dict[str, Any]], final: Any, others: list[str]) -> None:
    """`explain`: the row of the statement in force names those that contest it (R16)."""
    if final is None or not others:
        return
    for row in rows:
        if row["statement_id"] == final.source_id and row["kind"] != "correction":
            row["effect"] += f"; contested on its day by {', '.join(others)} (R16)"
            return


def compare_rows(
    stance: list[dict[str, Any]],
    parties: list[str],
    issues: list[str],
    claimant: Callable[[str], str] | None = None,
) -> list[dict[str, Any]]:
    """The rows of `compare` from the rows of `stance` with claims: issue by issue, party by
    party, each cell the position (and terms) with the claimed positions marked, each
    claimant by its id (or as ``claimant`` writes it: the report writes its name)."""
    own: dict[tuple[str, str], dict[str, Any]] = {}

    claimed: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in stance:
        key = (row["party"], row["issue"])
        if row["claimed_by"] is None:
            own[key] = row
        else:
            claimed.setdefault(key, []).append(row)
    rows = []
    for i in issues:
        held = [own[(p, i)]["rank"] for p in parties if own[(p, i)].get("rank") is not None]
        spread = max(held) - min(held) if held else None
        for p in parties:
            cell = own[(p, i)]
            claims = "; ".join(
                f"{r['position']} (claimed by "
                f"{claimant(r['claimed_by']) if claimant else r['claimed_by']})"
                for r in claimed.get((p, i), [])
            )
            text = cell.get("position") or "—"
            if cell.get("terms"):
                text += " " + _terms_text(cell["terms"])
            if cell.get("contested"):
                text += " (contested)"
            if claims:
                text += "; " + claims
            rows.append(
                {
                    "issue": i,
                    "party": p,
                    "position": cell.get("position"),
                    "rank": cell.get("rank"),
                    "terms": cell.get("terms"),
                    "statement_id": cell.get("statement_id"),
                    "claims": claims or None,
                    "spread": spread,
                    "cell": text,
                }
            )
    return rows


def _terms_text(terms: str) -> str:
    values = json.loads(terms)
    return "(" + ", ".join(f"{k}: {v}" for k, v in values.items()) + ")"


GAPS_SCHEMA: dict[str, Any] = {
    "issue": "String",
    "holders": "Int64",
    "min_rank": "Int64",
    "max_rank": "Int64",
    "spread": "Int64",
    "shared": "String",
    "proposals": "String",
}

PAIRS_SCHEMA: dict[str, Any] = {
    "issue": "String",
    "party": "String",
    "other": "String",
    "position": "String",
    "other_position": "String",
    "distance": "Int64",
}

OUTLOOK_SCHEMA: dict[str, Any] = {
    "issue": "String",
    "weighted_mean": "Float64",
    "mean_position": "String",
    "weighted_median": "Float64",
    "median_position": "String",
    "included": "String",
    "excluded": "String",
}


def change_text(change: Mapping[str, Any], none: str = "—") -> str:
    """A row of `diff` as ``before → after``: the positions, with their terms when only the
    terms changed (``deadline_days 30 → 60`` would otherwise read ``X → X``)."""
    before, after = sides_of(change, none)
    return f"{before} → {after}"


def sides_of(change: Mapping[str, Any], none: str = "—") -> tuple[str, str]:
    """The two sides of a row of `diff` (`change_text`)."""
    before = change["from_position"] or none
    after = change["to_position"] or none
    if before == after:
        before = f"{before} {change['from_terms'] or '{}'}"
        after = f"{after} {change['to_terms'] or '{}'}"
    return before, after


DIFF_SCHEMA: dict[str, Any] = {
    "party": "String",
    "issue": "String",
    "from_position": "String",
    "from_rank": "Int64",
    "to_position": "String",
    "to_rank": "Int64",
    "from_terms": "String",
    "to_terms": "String",
    "shift": "String",
    "shift_ranks": "Int64",
    "statements": "String",
}

EXPLAIN_SCHEMA: dict[str, Any] = {
    "step": "Int64",
    "stated_on": "String",
    "kind": "String",
    "statement_id": "String",
    "speaker": "String",
    "position": "String",
    "verdict": "String",
    "effect": "String",
    "rule": "String",
    "quote": "String",
    "sources": "String",
    "recorded_at": "String",
}


class Analysis(Query):
    """The analyst's questions beyond the current stance: gaps, outlook, diff, explain."""

    def hypothetical_statements(self) -> set[str]:
        return {s.id for s in self.record.statements if s.hypothetical}

    def salience(self, party: str, issue: str, as_of: date | None) -> float | None:
        """The latest salience given by a statement in force, else the declared one (rule R14)."""
        value: float | None = None
        for step in in_force(self.timeline, as_of or FOREVER):
            statement = step.statement
            if (
                statement is not None
                and step.party == party
                and step.issue == issue
                and step.claimed_by is None
                and statement.salience is not None
            ):
                value = statement.salience
        if value is None:
            declared = self.negotiation.salience.get((party, issue))
            value = declared.value if declared is not None else None
        return value

    def mean_of_others(self, party: str, issue: str, day: date) -> float | None:
        return self.sweep.others_mean(party, issue, day)

    def steps_between(self, party: str, issue: str, start: date, end: date) -> list[str]:
        return [
            s.source_id for s in own_steps(self.timeline, party, issue) if start < s.on.day <= end
        ]

    def explain(self, party: str, issue: str, as_of: date | None = None) -> pl.DataFrame:
        """The chain of statements, clarifications, retractions and corrections behind a stance,
        each with the rule of docs/codebook.md that decided its effect."""
        self.check_party(party)
        self.check_issue(issue)
        if party is None or issue is None:
            raise QueryError("explain needs a party and an issue")
        limit = as_of or FOREVER
        steps = [s for s in own_steps(self.timeline, party, issue) if s.on.day <= limit]
        final = self.in_force(party, issue, None, limit)
        fixes: dict[str, list[CorrectionRecord]] = {}
        for fix in self.record.corrections:
            fixes.setdefault(fix.after.id, []).append(fix)
        amended: dict[str, list[AmendmentRecord]] = {}
        for change in self.record.amendments:
            amended.setdefault(change.after.id, []).append(change)
        rows: list[dict[str, Any]] = []
        for step in steps:
            statement = step.statement
            kind = str(statement.kind) if statement is not None else "proposal"
            effect, rule = self._effect(step, final, limit)
            rows.append(
                {
                    "stated_on": _stated(step.on),
                    "kind": kind,
                    "statement_id": step.source_id,
                    "speaker": _speaker(self.timeline, step),
                    "position": step.position,
                    "verdict": str(step.verdict) if step.verdict else None,
                    "effect": effect,
                    "rule": rule,
                    "quote": _quote(step),
                    "sources": _sources(
                        statement.sources
                        if statement is not None
                        else (step.tabled.sources if step.tabled else ())
                    ),
                    "recorded_at": self._recorded(step),
                }
            )
            for fix in fixes.get(step.source_id, []):
                changes = ", ".join(
                    f"{k}: {getattr(fix.before, k)} → {v}"
                    for k, v in fix.correction.changes().items()
                )
                rows.append(
                    {
                        "stated_on": _stated(fix.after.on),
                        "kind": "correction",
                        "statement_id": step.source_id,
                        "effect": f"correction {fix.number} ({changes}): {fix.correction.reason}",
                        "rule": "R12",
                        "recorded_at": fix.recorded_at.isoformat(),
                    }
                )
            for change in amended.get(step.source_id, []):
                described = change.amendment.describe(change.before.model_dump(mode="json"))
                rows.append(
                    {
                        "stated_on": _stated(self._in_force(change.after.id).on),
                        "kind": "amendment",
                        "statement_id": step.source_id,
                        "effect": f"amendment {change.number} ({described}): "
                        f"{change.amendment.reason}",
                        "rule": "R15",
                        "recorded_at": change.recorded_at.isoformat(),
                    }
                )
        _contested(
            rows, final, self.rivals_of("stances", party, issue, final, limit) if final else []
        )
        for n, row in enumerate(rows, start=1):
            row["step"] = n
        return _frame(rows, EXPLAIN_SCHEMA)

    def _effect(self, step: Step, final: Step | None, limit: date) -> tuple[str, str]:
        statement = step.statement
        ended = step.ended_on is not None and step.ended_on.day <= limit
        return explain_effect(
            step is final,
            step.tabled is not None,
            step.position,
            statement.kind.value if statement is not None else "proposal",
            statement.retracts if statement is not None else None,
            str(step.on),
            (str(step.ended_how), str(step.ended_by), str(step.ended_on)) if ended else None,
            confirmed_proposal(statement.position, statement.target, step.position, step.proposal)
            if statement is not None
            else None,
        )


def what_if(base: Tables, layered: Tables, as_of: date | None = None) -> pl.DataFrame:
    """The comparison table with hypothetical statements layered on, marked, beside the base."""
    hypothetical = layered.hypothetical_statements()
    base_cells = {(r["issue"], r["party"]): r for r in base.compare(as_of).iter_rows(named=True)}
    rows = []
    for row in layered.compare(as_of).iter_rows(named=True):
        old = base_cells.get((row["issue"], row["party"]), {})
        marked = row["statement_id"] in hypothetical
        rows.append(
            {
                **row,
                "cell": row["cell"] + (" [what-if]" if marked else ""),
                "hypothetical": marked,
                "base_position": old.get("position"),
                "base_cell": old.get("cell"),
                "changed": old.get("cell") != row["cell"],
            }
        )
    schema = {
        **COMPARE_SCHEMA,
        "hypothetical": "Boolean",
        "base_position": "String",
        "base_cell": "String",
        "changed": "Boolean",
    }
    return _frame(rows, schema)
