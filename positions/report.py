"""One self-contained HTML report of a negotiation: the tables, the timelines, the record.

The page needs no network and runs no script: the timelines are inline SVG drawn by
`positions.chart`, the styles are inline, and a Content-Security-Policy forbids everything else.
Every user-supplied string goes through Jinja2's autoescaping. Nothing here writes a file.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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
    """A table as the template draws it: a caption, column names and rows of cells."""

    columns: list[str]
    rows: list[list[Any]]


def _links(sources: tuple[Source, ...]) -> list[Link]:
    links = []
    for source in sources:
        text = source.outlet
        if source.title:
            text += f": {source.title}"
        if source.published:
            text += f" ({source.published.isoformat()})"
        links.append(Link(text, source.url))
    return links


def _table(frame: pl.DataFrame, columns: list[str]) -> Table:
    chosen = [c for c in columns if c in frame.columns]
    return Table(chosen, [list(row) for row in frame.select(chosen).iter_rows()])


def _status(row: dict[str, Any]) -> str | None:
    if row.get("ended_how"):
        return f"{row['ended_how']} by {row['ended_by']}"
    if row.get("about"):
        return f"claim about {row['about']}"
    if row.get("target"):
        return f"on {row['target']}"
    return None


RECENT = 25
"""Statements listed per party in the report, the latest (``--recent``)."""

POINTS = 300
"""Statements drawn as points in an issue's timeline in the report, the latest; the lines
still show every change of position (`chart.timeline_data`)."""


def report_context(
    query: Tables, as_of: date | None = None, recent: int | None = RECENT
) -> dict[str, Any]:
    """Everything the template shows, from the tables (the step tables of a store with views,
    the in-memory projections of a ``memory://`` store or a replay). ``recent``: the
    statements listed per party, the latest (None: every one); the timelines draw the latest
    `POINTS` statements of an issue as points, or every one when ``recent`` is None."""
    from positions.chart import picture, timeline_chart, timeline_data
    from positions.render import pivot_compare

    negotiation = query.negotiation
    compare = pivot_compare(query.compare(as_of))
    proposals = query.proposals(as_of)
    timelines = []
    for issue, definition in negotiation.issues.items():
        most = None if recent is None else POINTS
        chart = timeline_chart(timeline_data(query, issue, as_of, most))
        timelines.append(
            {
                "issue": issue,
                "title": definition.title or issue,
                "svg": picture(chart, "svg").decode("utf-8"),
            }
        )
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
        sid: _links(found)
        for sid, found in query.sources_of(
            row["statement_id"] for row in shown if row["statement_id"]
        ).items()
    }

    def linked(row: dict[str, Any]) -> dict[str, Any]:
        return {**row, "links": links.get(row["statement_id"] or "", [])}

    parties = [
        {
            "id": party,
            "name": record.name,
            "rows": [{**linked(row), "status": _status(row)} for row in histories[party]],
            "earlier": earlier[party],
        }
        for party, record in negotiation.parties.items()
    ]
    return {
        "title": negotiation.title or negotiation.slug,
        "negotiation": negotiation.slug,
        "as_of": as_of.isoformat() if as_of else None,
        "known_at": query.recorded_until().isoformat(timespec="seconds"),
        "compare": _table(compare, compare.columns),
        "proposals": _table(
            proposals,
            [
                "proposal",
                "issue",
                "tabled_by",
                "party",
                "verdict",
                "conditions",
                "stated_on",
                "speaker",
                "quote",
            ],
        ),
        "timelines": timelines,
        "parties": parties,
        "claims": [linked(row) for row in claimed],
        "developments": [linked(row) for row in developments],
    }


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


def build_report(query: Tables, as_of: date | None = None, recent: int | None = RECENT) -> str:
    """The report as one HTML document."""
    from markupsafe import Markup

    from positions.chart import svg_element

    context = report_context(query, as_of, recent)
    for timeline in context["timelines"]:
        # drawn by Vega, which escapes every text it puts in the SVG
        timeline["svg"] = Markup(svg_element(timeline["svg"]))
    return str(environment().get_template(TEMPLATE).render(**context))
