"""One self-contained HTML report of a negotiation: the tables, the timelines, the record.

The page needs no network and runs no script: the timelines are inline SVG drawn by
`positions.chart`, the styles are inline, and a Content-Security-Policy forbids everything else.
Every user-supplied string goes through Jinja2's autoescaping. Nothing here writes a file.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import polars as pl

    from positions.codebook import Source
    from positions.projections import Query

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


def known_at(query: Query) -> datetime:
    """The time the record was known at: the one it was asked for, else the latest recording
    time of its statements and corrections, else now."""
    asked = getattr(query.record, "known_at", None)
    if asked is not None:
        return asked  # type: ignore[no-any-return]
    stamps = list(query.record.recorded_at.values())
    stamps += [fix.recorded_at for fix in query.record.corrections]
    return max(stamps) if stamps else datetime.now(UTC)


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


def _sources_by_id(query: Query) -> dict[str, list[Link]]:
    found: dict[str, list[Link]] = {}
    for statement in query.record.statements:
        found[statement.id] = _links(statement.sources)
    for proposal in query.negotiation.proposals.values():
        found.setdefault(proposal.id, _links(proposal.sources))
    for development in query.negotiation.developments.values():
        found.setdefault(development.id, _links(development.sources))
    return found


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


def report_context(query: Query, as_of: date | None = None) -> dict[str, Any]:
    """Everything the template shows, from the `Query` projections."""
    from positions.chart import picture, timeline_chart, timeline_data
    from positions.render import pivot_compare

    negotiation = query.negotiation
    sources = _sources_by_id(query)
    compare = pivot_compare(query.compare(as_of))
    proposals = query.proposals(as_of)
    history = query.history(as_of=as_of)
    timelines = []
    for issue, definition in negotiation.issues.items():
        chart = timeline_chart(timeline_data(query, issue, as_of))
        timelines.append(
            {
                "issue": issue,
                "title": definition.title or issue,
                "svg": picture(chart, "svg").decode("utf-8"),
            }
        )
    parties = []
    for party, record in negotiation.parties.items():
        rows = []
        for row in query.history(party=party, as_of=as_of).iter_rows(named=True):
            rows.append(
                {
                    **row,
                    "status": _status(row),
                    "links": sources.get(row["statement_id"] or "", []),
                }
            )
        parties.append({"id": party, "name": record.name, "rows": rows})
    developments = [
        {**row, "links": sources.get(row["statement_id"], [])}
        for row in history.filter(history["kind"] == "development").iter_rows(named=True)
    ]
    claims = [
        {
            **row,
            "links": sources.get(row["statement_id"] or "", []),
        }
        for row in query.claims(as_of).iter_rows(named=True)
    ]
    return {
        "title": negotiation.title or negotiation.slug,
        "negotiation": negotiation.slug,
        "as_of": as_of.isoformat() if as_of else None,
        "known_at": known_at(query).isoformat(timespec="seconds"),
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
        "claims": claims,
        "developments": developments,
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


def build_report(query: Query, as_of: date | None = None) -> str:
    """The report as one HTML document."""
    from markupsafe import Markup

    context = report_context(query, as_of)
    for timeline in context["timelines"]:
        # drawn by Vega, which escapes every text it puts in the SVG
        timeline["svg"] = Markup(_strip_xml_declaration(timeline["svg"]))
    return str(environment().get_template(TEMPLATE).render(**context))


def _strip_xml_declaration(svg: str) -> str:
    svg = svg.lstrip()
    if svg.startswith("<?xml"):
        svg = svg[svg.index("?>") + 2 :].lstrip()
    return svg
