"""Pure folds from a negotiation's record to polars DataFrames with fixed schemas.

Each projection has the name of the CLI command it backs. Terms are kept as a JSON object in a
string column so that every schema is fixed whatever terms an issue uses.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import polars as pl

from positions.codebook import Source, StatedOn
from positions.errors import NotFoundError
from positions.analysis import Shift, shifts
from positions.timeline import (
    CorrectionRecord,
    NegotiationRecord,
    Step,
    Timeline,
    build_timeline,
    effective_position,
    effective_verdict,
    in_force,
)

FOREVER = date.max

STANCE_SCHEMA: dict[str, Any] = {
    "party": pl.String,
    "issue": pl.String,
    "position": pl.String,
    "rank": pl.Int64,
    "terms": pl.String,
    "stated_on": pl.String,
    "date": pl.Date,
    "statement_id": pl.String,
    "speaker": pl.String,
    "quote": pl.String,
    "claimed_by": pl.String,
    "shift": pl.String,
    "shift_ranks": pl.Int64,
    "recorded_at": pl.String,
}

HISTORY_SCHEMA: dict[str, Any] = {
    "stated_on": pl.String,
    "date": pl.Date,
    "party": pl.String,
    "kind": pl.String,
    "statement_id": pl.String,
    "speaker": pl.String,
    "issue": pl.String,
    "position": pl.String,
    "rank": pl.Int64,
    "terms": pl.String,
    "verdict": pl.String,
    "proposal": pl.String,
    "conditions": pl.String,
    "about": pl.String,
    "target": pl.String,
    "ended_by": pl.String,
    "ended_how": pl.String,
    "attribution": pl.String,
    "confidence": pl.String,
    "quote": pl.String,
    "sources": pl.String,
    "shift": pl.String,
    "shift_ranks": pl.Int64,
    "recorded_at": pl.String,
    "hypothetical": pl.Boolean,
}

COMPARE_SCHEMA: dict[str, Any] = {
    "issue": pl.String,
    "party": pl.String,
    "position": pl.String,
    "rank": pl.Int64,
    "terms": pl.String,
    "statement_id": pl.String,
    "claims": pl.String,
    "spread": pl.Int64,
    "cell": pl.String,
}

PROPOSALS_SCHEMA: dict[str, Any] = {
    "proposal": pl.String,
    "issue": pl.String,
    "tabled_by": pl.String,
    "party": pl.String,
    "verdict": pl.String,
    "conditions": pl.String,
    "stated_on": pl.String,
    "date": pl.Date,
    "statement_id": pl.String,
    "speaker": pl.String,
    "quote": pl.String,
}


def _terms(terms: dict[str, Any]) -> str | None:
    return json.dumps(terms, sort_keys=True, ensure_ascii=False) if terms else None


def _sources(sources: tuple[Source, ...]) -> str | None:
    if not sources:
        return None
    return "; ".join(" ".join(part for part in (s.outlet, s.url or "") if part) for s in sources)


def _speaker(timeline: Timeline, step: Step) -> str | None:
    negotiation = timeline.record.negotiation
    if step.statement is None:
        party = negotiation.parties.get(step.party)
        return party.name if party else step.party
    statement = step.statement
    if statement.speaker is not None:
        speaker = negotiation.speakers.get(statement.speaker)
        return speaker.name if speaker else statement.speaker
    party = negotiation.parties.get(statement.party)
    return party.name if party else statement.party


def _quote(step: Step) -> str | None:
    if step.statement is not None:
        return step.statement.quote
    assert step.tabled is not None
    return step.tabled.quote or step.tabled.title


def _stated(on: StatedOn) -> str:
    return str(on)


class Query:
    """The projections of one negotiation's record (built once, queried many times)."""

    def __init__(self, record: NegotiationRecord) -> None:
        self.record = record
        self.timeline = build_timeline(record)
        self.negotiation = record.negotiation
        self._shifts: dict[str, Shift] | None = None

    @property
    def shifts(self) -> dict[str, Shift]:
        if self._shifts is None:
            self._shifts = shifts(self.timeline)
        return self._shifts

    def _recorded(self, step: Step) -> str | None:
        if step.statement is None:
            return None
        stamp = self.record.recorded_at.get(step.statement.id)
        return stamp.isoformat() if stamp else None

    # -- argument checks

    def check_party(self, party: str | None) -> None:
        if party is not None and party not in self.negotiation.parties:
            known = ", ".join(sorted(self.negotiation.parties))
            raise NotFoundError(f"unknown party '{party}' (known: {known})")

    def check_issue(self, issue: str | None) -> None:
        if issue is not None and issue not in self.negotiation.issues:
            known = ", ".join(sorted(self.negotiation.issues))
            raise NotFoundError(f"unknown issue '{issue}' (known: {known})")

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
            "shift": None if claimed_by else self.shifts[step.source_id].shift,
            "shift_ranks": None if claimed_by else self.shifts[step.source_id].ranks,
            "recorded_at": self._recorded(step),
        }

    def stance(
        self,
        as_of: date | None = None,
        party: str | None = None,
        issue: str | None = None,
        claims: bool = False,
    ) -> pl.DataFrame:
        """Each party's effective position on each issue as of a date (and, with ``claims``,
        the positions other parties claim for it)."""
        self.check_party(party)
        self.check_issue(issue)
        steps = in_force(self.timeline, as_of or FOREVER)
        rows = []
        for p in self.negotiation.parties:
            if party is not None and p != party:
                continue
            for i in self.negotiation.issues:
                if issue is not None and i != issue:
                    continue
                own = [s for s in steps if s.party == p and s.issue == i and s.claimed_by is None]
                rows.append(self._stance_row(p, i, effective_position(own), None))
                if claims:
                    claimants = sorted(
                        {
                            s.claimed_by
                            for s in steps
                            if s.party == p and s.issue == i and s.claimed_by
                        }
                    )
                    for claimant in claimants:
                        theirs = [
                            s
                            for s in steps
                            if s.party == p and s.issue == i and s.claimed_by == claimant
                        ]
                        chosen = effective_position(theirs)
                        if chosen is not None:
                            rows.append(self._stance_row(p, i, chosen, claimant))
        return pl.DataFrame(rows, schema=STANCE_SCHEMA)

    def claims(self, as_of: date | None = None) -> pl.DataFrame:
        frame = self.stance(as_of, claims=True)
        return frame.filter(pl.col("claimed_by").is_not_null())

    def compare(self, as_of: date | None = None) -> pl.DataFrame:
        """Issues × parties: each cell the effective position, with claimed positions marked."""
        frame = self.stance(as_of, claims=True)
        rows = []
        for i in self.negotiation.issues:
            ranks = frame.filter(
                (pl.col("issue") == i)
                & pl.col("claimed_by").is_null()
                & pl.col("rank").is_not_null()
            )["rank"]
            spread = int(ranks.max() - ranks.min()) if len(ranks) else None  # type: ignore[operator]
            for p in self.negotiation.parties:
                cell = frame.filter((pl.col("party") == p) & (pl.col("issue") == i))
                own = cell.filter(pl.col("claimed_by").is_null()).row(0, named=True)
                claimed = cell.filter(pl.col("claimed_by").is_not_null())
                claims = "; ".join(
                    f"{r['position']} (claimed by {r['claimed_by']})"
                    for r in claimed.iter_rows(named=True)
                )
                text = own["position"] or "—"
                if own["terms"]:
                    text += " " + _terms_text(own["terms"])
                if claims:
                    text += "; " + claims
                rows.append(
                    {
                        "issue": i,
                        "party": p,
                        "position": own["position"],
                        "rank": own["rank"],
                        "terms": own["terms"],
                        "statement_id": own["statement_id"],
                        "claims": claims or None,
                        "spread": spread,
                        "cell": text,
                    }
                )
        return pl.DataFrame(rows, schema=COMPARE_SCHEMA)

    def proposals(self, as_of: date | None = None) -> pl.DataFrame:
        """Proposals × parties with each party's verdict as of a date."""
        steps = in_force(self.timeline, as_of or FOREVER)
        rows = []
        for proposal in sorted(
            self.negotiation.proposals.values(), key=lambda p: (p.on.sort_key(), p.id)
        ):
            if proposal.on.day > (as_of or FOREVER):
                continue
            for p in self.negotiation.parties:
                own = [s for s in steps if s.party == p and s.claimed_by is None]
                chosen = effective_verdict(own, proposal.id)
                row: dict[str, Any] = {
                    "proposal": proposal.id,
                    "issue": proposal.issue,
                    "tabled_by": proposal.by,
                    "party": p,
                }
                if chosen is not None:
                    row.update(
                        verdict=str(chosen.verdict),
                        conditions="; ".join(chosen.conditions) or None,
                        stated_on=_stated(chosen.on),
                        date=chosen.on.day,
                        statement_id=chosen.source_id,
                        speaker=_speaker(self.timeline, chosen),
                        quote=_quote(chosen),
                    )
                rows.append(row)
        return pl.DataFrame(rows, schema=PROPOSALS_SCHEMA)

    def history(
        self,
        party: str | None = None,
        issue: str | None = None,
        as_of: date | None = None,
        developments: bool = True,
    ) -> pl.DataFrame:
        """Every statement in order, clarifications and retractions where they happened."""
        self.check_party(party)
        self.check_issue(issue)
        limit = as_of or FOREVER
        rows: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
        for step in self.timeline.steps:
            if step.on.day > limit:
                continue
            statement = step.statement
            own_party = statement.party if statement is not None else step.party
            if party is not None and party not in (own_party, step.party):
                continue
            if issue is not None and step.issue != issue:
                continue
            rows.append((step.key, self._history_row(step, own_party, limit)))
        keys = {step.source_id: step.key for step in self.timeline.steps}
        for fix in self.record.corrections:
            after = fix.after
            if after.id not in keys or after.on.day > limit:
                continue
            if party is not None and party not in (after.party, fix.before.party):
                continue
            if issue is not None and issue not in (after.issue, fix.before.issue):
                continue
            rows.append(
                (self._correction_key(keys[after.id], fix.number), self._correction_row(fix))
            )
        if developments and party is None and issue is None:
            for dev in self.negotiation.developments.values():
                if dev.on.day <= limit:
                    row = {
                        "stated_on": _stated(dev.on),
                        "date": dev.on.day,
                        "kind": "development",
                        "statement_id": dev.id,
                        "quote": dev.what,
                        "sources": _sources(dev.sources),
                    }
                    rows.append(((*dev.on.sort_key(), -1, dev.id), row))
        rows.sort(key=lambda item: item[0])
        return pl.DataFrame([row for _, row in rows], schema=HISTORY_SCHEMA)

    @staticmethod
    def _correction_key(key: tuple[Any, ...], number: int) -> tuple[Any, ...]:
        return (*key[:3], f"{key[3]}~{number:04d}")

    def _correction_row(self, fix: CorrectionRecord) -> dict[str, Any]:
        changes = fix.correction.changes()
        described = ", ".join(
            f"{name}: {getattr(fix.before, name)} → {value}" for name, value in changes.items()
        )
        definition = self.negotiation.issues.get(fix.after.issue or "")
        return {
            "stated_on": _stated(fix.after.on),
            "date": fix.after.on.day,
            "party": fix.after.party,
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
        shift = self.shifts.get(step.source_id) if step.claimed_by is None else None
        definition = self.negotiation.issues.get(step.issue or "")
        ended = step.ended_on is not None and step.ended_on.day <= limit
        if statement is not None:
            sources = statement.sources
        else:
            sources = step.tabled.sources if step.tabled is not None else ()
        is_claim = statement is not None and statement.about is not None
        return {
            "stated_on": _stated(step.on),
            "date": step.on.day,
            "party": own_party,
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


def _terms_text(terms: str) -> str:
    values = json.loads(terms)
    return "(" + ", ".join(f"{k}: {v}" for k, v in values.items()) + ")"
