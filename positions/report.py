"""One self-contained HTML report of a negotiation: the tables, the timelines, the record.

The page needs no network and runs no script: the timelines are inline SVG drawn by
`positions.chart`, the styles are inline, and a Content-Security-Policy forbids everything else.
Every user-supplied string goes through Jinja2's autoescaping. Nothing here writes a file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from positions.errors import QueryError

if TYPE_CHECKING:
    from collections.abc import Callable

    import polars as pl

    from positions.codebook import Source
    from positions.projections import Tables

TEMPLATE = "report.html.j2"


@dataclass(frozen=True)
class Link:
    """A source as shown in the report: its outlet and, when it has one, its address."""

    text: str
    url: str | None


@dataclass(frozen=True)
class Table:
    """A table as the template draws it: column names, rows of cells, and the headings
    shown (the column names where none are given)."""

    columns: list[str]
    rows: list[list[Any]]
    headings: list[str] = field(default_factory=list)


_ISO_DAY = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")


def long_date(text: str | None) -> str | None:
    """Dates in a text as a reader writes them: ``2025-03-13`` is ``13 March 2025`` (and
    ``before 2025-03-13`` is ``before 13 March 2025``)."""
    if text is None:
        return None

    from positions.chart import written_date

    def written(found: re.Match[str]) -> str:
        return written_date(date(int(found[1]), int(found[2]), int(found[3])))

    return _ISO_DAY.sub(written, text)


def long_time(moment: datetime) -> str:
    """A recording time as a reader writes it: ``2 December 2026, 13:36 UTC``."""
    from positions.chart import written_date

    moment = moment.astimezone(UTC)
    return f"{written_date(moment.date())}, {moment:%H:%M} UTC"


@dataclass(frozen=True)
class Names:
    """What the report shows for an id: a party's name, an issue's or a proposal's title
    (the id itself where it has none)."""

    parties: dict[str, str]
    issues: dict[str, str]
    proposals: dict[str, str]

    def party(self, value: str | None) -> str | None:
        """A party's name; of a cell listing several (`listed_text`), each one's."""
        if not value:
            return value
        return ", ".join(self.parties.get(p, p) for p in value.split(", "))

    def issue(self, value: str | None) -> str | None:
        """An issue's title; of a package's ``issue`` cell (`listed_text`), each issue's."""
        if not value:
            return value
        return ", ".join(self.issues.get(i, i) for i in value.split(", "))

    def proposal(self, value: str | None) -> str | None:
        return self.proposals.get(value, value) if value else value


def names_of(query: Tables) -> Names:
    n = query.negotiation
    return Names(
        {p: record.name for p, record in n.parties.items()},
        {i: record.title or i for i, record in n.issues.items()},
        {p: record.title or p for p, record in n.proposals.items()},
    )


def source_links(sources: tuple[Source, ...]) -> list[Link]:
    links = []
    for source in sources:
        text = source.outlet
        if source.title:
            text += f": {source.title}"
        if source.published:
            text += f" ({long_date(source.published.isoformat())})"
        links.append(Link(text, source.url))
    return links


def _table(frame: pl.DataFrame, columns: list[str]) -> Table:
    chosen = [c for c in columns if c in frame.columns]
    return Table(chosen, [list(row) for row in frame.select(chosen).iter_rows()])


def _status(row: dict[str, Any], names: Names) -> str | None:
    if row.get("ended_how"):
        return f"{row['ended_how']} by {row['ended_by']}"
    if row.get("about"):
        return f"claim about {names.party(row['about'])}"
    if row.get("target"):
        return f"on {row['target']}"
    return None


RECENT = 25
"""Statements listed per party in the report, the latest (``--recent``)."""

POINTS = 300
"""Statements drawn as points in an issue's timeline in the report, the latest; the lines
still show every change of position (`chart.timeline_data`)."""


def report_context(
    query: Tables,
    as_of: date | None = None,
    recent: int | None = RECENT,
    since: date | None = None,
) -> dict[str, Any]:
    """Everything the template shows, from the tables (the step tables of a store with views,
    the in-memory projections of a ``memory://`` store or a replay). ``recent``: the
    statements listed per party, the latest (None: every one); the timelines draw the latest
    `POINTS` statements of an issue as points, or every one when ``recent`` is None.
    ``since``: the day the lede's changes are counted from (the day before the report's
    day, unless given)."""
    from positions.chart import TimelineDrawing
    from positions.render import pivot_compare

    negotiation = query.negotiation
    most = None if recent is None else POINTS
    # the timelines are drawn in a thread while the rest is read
    drawing = TimelineDrawing(query, list(negotiation.issues), as_of, most)
    names = names_of(query)
    compare = pivot_compare(
        query.compare(as_of, claimant=lambda party: names.party(party) or party)
    )
    proposals = query.proposals(as_of, claims=True)
    # one more than is listed: whether there are earlier statements to point to
    wanted = None if recent is None else recent + 1
    histories = {
        party: list(query.history(party=party, as_of=as_of, latest=wanted).iter_rows(named=True))
        for party in negotiation.parties
    }
    earlier = {
        party: recent is not None and len(rows) > recent for party, rows in histories.items()
    }
    histories = {party: rows[1:] if earlier[party] else rows for party, rows in histories.items()}
    developments = query.development_rows(as_of)
    claimed = list(query.claims(as_of).iter_rows(named=True))
    shown = [row for rows in histories.values() for row in rows] + developments + claimed
    links = {
        sid: source_links(found)
        for sid, found in query.sources_of(
            row["statement_id"] for row in shown if row["statement_id"]
        ).items()
    }

    def linked(row: dict[str, Any]) -> dict[str, Any]:
        return {**row, "links": links.get(row["statement_id"] or "", [])}

    def shown_row(row: dict[str, Any]) -> dict[str, Any]:
        """A row of a history, the claims or the developments, as the report shows it."""
        return {
            **linked(row),
            "stated_on": long_date(row.get("stated_on")),
            "issue": names.issue(row.get("issue")),
            "party": names.party(row.get("party")),
            "claimed_by": names.party(row.get("claimed_by")),
            "proposal": names.proposal(row.get("proposal")),
        }

    parties = [
        {
            "id": party,
            "name": record.name,
            "rows": [{**shown_row(row), "status": _status(row, names)} for row in histories[party]],
            "earlier": earlier[party],
        }
        for party, record in negotiation.parties.items()
    ]
    compared = _table(compare, compare.columns)
    proposal_columns = [
        "proposal",
        "issue",
        "tabled_by",
        "party",
        "verdict",
        "conditions",
        "stated_on",
        "speaker",
        "quote",
    ]
    if proposals["claimed_by"].null_count() < proposals.height:  # claimed verdicts, marked
        proposal_columns.insert(proposal_columns.index("party") + 1, "claimed_by")
    if proposals["reported_by"].null_count() < proposals.height:  # known from another's account
        proposal_columns.insert(proposal_columns.index("tabled_by") + 1, "reported_by")
    shown_proposals = _table(proposals, proposal_columns)
    naming: dict[str, Callable[[Any], Any]] = {
        "proposal": names.proposal,
        "issue": names.issue,
        "tabled_by": names.party,
        "reported_by": names.party,
        "party": names.party,
        "claimed_by": names.party,
        "stated_on": long_date,
    }
    known_at = query.recorded_until()
    timelines = [
        {"issue": data.issue, "title": data.title, "svg": svg} for data, svg in drawing.pictures()
    ]
    return {
        **_lede(query, as_of, since, names),
        "title": negotiation.title or negotiation.slug,
        "negotiation": negotiation.slug,
        "as_of": as_of.isoformat() if as_of else None,
        "as_of_text": long_date(as_of.isoformat()) if as_of else None,
        "known_at": known_at.isoformat(timespec="seconds"),
        "known_at_text": long_time(known_at),
        "compare": Table(
            compared.columns,
            [[names.issue(row[0]), *row[1:]] for row in compared.rows],
            [compared.columns[0], *(names.party(c) or c for c in compared.columns[1:])],
        ),
        "proposals": Table(
            shown_proposals.columns,
            [
                [
                    naming.get(c, _same)(cell)
                    for c, cell in zip(shown_proposals.columns, row, strict=True)
                ]
                for row in shown_proposals.rows
            ],
        ),
        "timelines": timelines,
        "parties": parties,
        "claims": [shown_row(row) for row in claimed],
        "developments": [shown_row(row) for row in developments],
    }


def _lede(query: Tables, as_of: date | None, since: date | None, names: Names) -> dict[str, Any]:
    """What changed: each party's position that moved from ``since`` (the day before the
    report's day unless given) to the report's day (``as_of``, else the day of the latest
    statement), as `diff` finds it."""
    end = as_of
    if end is None:
        latest = query.history(latest=1)
        end = latest["date"][0] if latest.height else None
    if end is None:
        return {"changes": [], "changes_from": None, "changes_to": None}
    start = since or end - timedelta(days=1)
    if start > end:
        raise QueryError(f"--since {start} is after the report's day {end}")
    from positions.projections import sides_of

    changes = []
    for row in query.diff(start, end).iter_rows(named=True):
        before, after = sides_of(row, "no position")
        changes.append(
            {
                "party": names.party(row["party"]),
                "issue": names.issue(row["issue"]),
                "before": before,
                "after": after,
                "shift": row["shift"],
            }
        )
    return {
        "changes": changes,
        "changes_from": long_date(start.isoformat()),
        "changes_to": long_date(end.isoformat()),
    }


def _same(value: Any) -> Any:
    return value


def environment() -> Any:
    """The Jinja2 environment: templates from the package, every value autoescaped."""
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader("positions", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def build_report(
    query: Tables,
    as_of: date | None = None,
    recent: int | None = RECENT,
    since: date | None = None,
) -> str:
    """The report as one HTML document."""
    from markupsafe import Markup

    from positions.chart import svg_element

    context = report_context(query, as_of, recent, since)
    for timeline in context["timelines"]:
        # drawn by Vega, which escapes every text it puts in the SVG
        timeline["svg"] = Markup(svg_element(timeline["svg"]))
    return str(environment().get_template(TEMPLATE).render(**context))
