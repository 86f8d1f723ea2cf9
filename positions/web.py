"""``positions serve``: a local, read-only web app over a store's step tables.

Every page is a GET whose query string says what it shows (``/compare?as_of=2025-03-12``),
so a link to it always shows the same answer; every page reads through the same queries as
the command line (`Tables`), one read transaction a request. Nothing here writes to the
record. Pages are rendered by Jinja with every value escaped, run no script and load nothing
from elsewhere (a Content-Security-Policy says so to the browser)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from positions.errors import NotFoundError, PositionsError, QueryError
from positions.moments import parse_date, parse_known_at
from positions.report import (
    POINTS,
    Names,
    environment,
    long_date,
    long_time,
    names_of,
    source_links,
)
from positions.search import Search

if TYPE_CHECKING:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response

    from positions.application import PositionsApplication
    from positions.projections import Tables

HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
"""Sent with every page: no script, no frame, nothing loaded from elsewhere."""

PARAMETERS = (
    *("as_of", "known_at", "party", "issue", "speaker", "since", "until", "search", "sort"),
)
"""The query-string parameters the pages read (any other is refused, so a mistyped one is
not silently ignored)."""
FILTERS = ("party", "issue", "speaker", "since", "until", "search", "sort")
"""The parameters that narrow or order what a page lists (the others set the moment it is
read at)."""


@dataclass(frozen=True)
class Asked:
    """What a request asks for, from its query string."""

    as_of: date | None
    known_at: datetime | None
    party: str | None
    issue: str | None
    speaker: str | None
    since: date | None
    until: date | None
    search: Search | None
    sort: str | None
    raw: dict[str, str]

    def link(self, path: str, **changes: str | None) -> str:
        """The address of ``path`` asking the same, with ``changes`` (None: left out)."""
        kept = {k: v for k, v in {**self.raw, **changes}.items() if v}
        return path + ("?" + urlencode(kept) if kept else "")

    def moment(self, path: str, **changes: str | None) -> str:
        """The address of ``path`` at the same as-of date and recording time, with none of
        the filters but ``changes``."""
        filters = dict.fromkeys(FILTERS)
        return self.link(path, **{**filters, **changes})


def asked(params: dict[str, str]) -> Asked:
    """A request's parameters, checked (a `QueryError` names the first wrong one)."""
    unknown = sorted(set(params) - set(PARAMETERS))
    if unknown:
        raise QueryError(f"unknown parameter '{unknown[0]}' (known: {', '.join(PARAMETERS)})")
    raw = {k: v for k, v in params.items() if v != ""}
    return Asked(
        as_of=parse_date(raw.get("as_of"), "as_of"),
        known_at=parse_known_at(raw.get("known_at"), "known_at"),
        party=raw.get("party"),
        issue=raw.get("issue"),
        speaker=raw.get("speaker"),
        since=parse_date(raw.get("since"), "since"),
        until=parse_date(raw.get("until"), "until"),
        search=Search.parse(raw["search"], "search") if "search" in raw else None,
        sort=raw.get("sort"),
        raw=raw,
    )


Page = Callable[["Tables", Asked, Names], dict[str, Any]]


def compare_page(tables: Tables, ask: Asked, names: Names) -> dict[str, Any]:
    """The comparison matrix: issues × parties, each cell its position coloured by where it
    lies on the issue's scale, and a link to the statements behind it."""
    rows = tables.compare_rows(ask.as_of, ask.party, ask.issue, lambda p: names.party(p) or p)
    negotiation = tables.negotiation
    parties = list(dict.fromkeys(row["party"] for row in rows)) or [
        p for p in negotiation.parties if ask.party in (None, p)
    ]
    cells: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:
        issue = negotiation.issues[row["issue"]]
        rank, size = row["rank"], len(issue.labels)
        text, claims = row["cell"], row["claims"]
        if claims:  # the claims apart, under the party's own position
            text = text[: -len(f"; {claims}")]
        cells[(row["issue"], row["party"])] = {
            "text": text,
            "claims": row["claims"],
            "colour": scale_colour(rank, size),
            "rank": rank,
            "href": ask.link("/explain", party=row["party"], issue=row["issue"]),
        }
    issues = [i for i in negotiation.issues if ask.issue in (None, i)]
    return {
        "heading": "Positions",
        "parties": [(p, names.party(p)) for p in parties],
        "issues": [(i, names.issue(i)) for i in issues],
        "cells": cells,
    }


def scale_colour(rank: int | None, size: int) -> str | None:
    """A cell's background: lighter for the first label of its scale, darker for the last
    (None: no position on the scale)."""
    if rank is None or size < 1:
        return None
    share = (rank - 1) / (size - 1) if size > 1 else 0.0
    return f"hsl(210, 55%, {round(92 - share * 32)}%)"


EXPLAIN_ROWS = 300
"""The steps an explanation shows: the latest, and the one in force wherever it is (a cell of a
long record has thousands; `positions explain` lists them all)."""


def explain_page(tables: Tables, ask: Asked, names: Names) -> dict[str, Any]:
    """The statements behind one cell, in order, with their effect, quote and sources (the
    latest `EXPLAIN_ROWS`, and the one in force)."""
    if ask.party is None or ask.issue is None:
        raise QueryError("explain needs a party and an issue (?party=…&issue=…)")
    frame = tables.explain(ask.party, ask.issue, ask.as_of)
    rows = list(frame.iter_rows(named=True))
    total, kept = len(rows), False
    if total > EXPLAIN_ROWS:
        held = {r["statement_id"] for r in tables.stance_rows(ask.as_of, ask.party, ask.issue)}
        earlier = [r for r in rows[:-EXPLAIN_ROWS] if r["statement_id"] in held]
        rows, kept = earlier + rows[-EXPLAIN_ROWS:], bool(earlier)
    links = tables.sources_of(r["statement_id"] for r in rows if r["statement_id"])
    for row in rows:
        row["links"] = source_links(links.get(row["statement_id"] or "", ()))
        row["stated_on"] = long_date(row["stated_on"])
    return {
        "heading": f"{names.party(ask.party)} on {names.issue(ask.issue)}",
        "question": tables.negotiation.issues[ask.issue].question,
        "rows": rows,
        "total": total,
        "latest": min(total, EXPLAIN_ROWS),
        "kept": kept,
        "history": ask.link("/history", speaker=None, since=None, until=None, search=None),
    }


@dataclass(frozen=True)
class Column:
    """A column of a listing page: its heading, and the row field it sorts by (None: it
    does not sort)."""

    heading: str
    key: str | None = None


def sorted_rows(
    rows: list[dict[str, Any]], columns: Sequence[Column], ask: Asked, path: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The rows in the order ``sort`` asks for (a column's key, ``-key`` for the reverse;
    rows with no value last either way, ties in the page's own order), and the headings:
    each sortable one with the address that sorts by it (the other way round when it is the
    column sorted by) and, for that column, its ``aria-sort``."""
    keys = [c.key for c in columns if c.key]
    descending = ask.sort is not None and ask.sort.startswith("-")
    wanted = None if ask.sort is None else ask.sort.removeprefix("-")
    if wanted is not None and wanted not in keys:
        raise QueryError(f"unknown sort column '{ask.sort}' (known: {', '.join(keys)})")
    if wanted is not None:
        present = [r for r in rows if r.get(wanted) is not None]
        absent = [r for r in rows if r.get(wanted) is None]
        present.sort(key=lambda r: str(r[wanted]).casefold(), reverse=descending)
        rows = present + absent
    headings = []
    for column in columns:
        current = column.key is not None and column.key == wanted
        flip = "-" if current and not descending else ""
        headings.append(
            {
                "text": column.heading,
                "href": None if column.key is None else ask.link(path, sort=flip + column.key),
                "aria_sort": ("descending" if descending else "ascending") if current else None,
            }
        )
    return rows, headings


HISTORY_COLUMNS = (
    Column("date", "date"),
    Column("party", "party"),
    Column("kind", "kind"),
    Column("speaker", "speaker"),
    Column("issue", "issue"),
    Column("position", "position"),
    Column("verdict", "verdict"),
    Column("about", "about"),
    Column("quote", "quote"),
    Column("sources"),
)
"""The history page's columns; a sort orders the rows shown (the latest `HISTORY_ROWS`)."""

PROPOSAL_COLUMNS = (
    Column("proposal", "proposal_name"),
    Column("issue", "issue_name"),
    Column("tabled by", "tabled_by"),
    Column("party", "party_name"),
    Column("verdict", "verdict"),
    Column("conditions", "conditions"),
    Column("date", "date"),
    Column("speaker", "speaker"),
    Column("quote", "quote"),
)
"""The proposals page's columns."""

HISTORY_ROWS = 200
"""The rows a history page shows: the latest, in order (a page of a long record stays short;
the filters and dates reach the earlier ones)."""


def history_page(tables: Tables, ask: Asked, names: Names) -> dict[str, Any]:
    """What was said, in order: by or about a party, on an issue, by a speaker, holding some
    words, in a window (the latest `HISTORY_ROWS` rows)."""
    frame = tables.history(
        ask.party,
        ask.issue,
        ask.as_of,
        since=ask.since,
        until=ask.until,
        speaker=ask.speaker,
        search=ask.search,
        latest=HISTORY_ROWS + 1,
    )
    rows = list(frame.iter_rows(named=True))
    earlier = len(rows) > HISTORY_ROWS
    rows = rows[1:] if earlier else rows
    links = tables.sources_of(r["statement_id"] for r in rows if r["statement_id"])
    shown = []
    for row in rows:
        shown.append(
            {
                **row,
                "stated_on": long_date(row["stated_on"]),
                "party": names.party(row["party"]),
                "issue": names.issue(row["issue"]),
                "about": names.party(row["about"]),
                "proposal": names.proposal(row["proposal"]),
                "links": source_links(links.get(row["statement_id"] or "", ())),
            }
        )
    shown, headings = sorted_rows(shown, HISTORY_COLUMNS, ask, "/history")
    negotiation = tables.negotiation
    return {
        "heading": "History",
        "rows": shown,
        "headings": headings,
        "earlier": earlier,
        "choices": {
            "party": [(p, names.party(p)) for p in negotiation.parties],
            "issue": [(i, names.issue(i)) for i in negotiation.issues],
            "speaker": [(s, record.name) for s, record in negotiation.speakers.items()],
        },
    }


PROPOSAL_ROWS = 500
"""The rows a proposals page shows: the first, in the order asked for (a party or an issue
narrows the table to the others)."""


def proposals_page(tables: Tables, ask: Asked, names: Names) -> dict[str, Any]:
    """Each proposal with each party's verdict on it, and the verdicts others claim for it
    (the first `PROPOSAL_ROWS` rows)."""
    found = tables.proposals(ask.as_of, ask.party, ask.issue, claims=True)
    rows = list(found.iter_rows(named=True))
    for row in rows:
        row["proposal_name"] = names.proposal(row["proposal"])
        row["issue_name"] = names.issue(row["issue"])
        row["tabled_by"] = names.party(row["tabled_by"])
        if row["reported_by"] is not None:  # known only from another party's account (R7)
            row["tabled_by"] = f"{row['tabled_by']} (reported by {names.party(row['reported_by'])})"
        row["party_name"] = names.party(row["party"])
        if row["claimed_by"] is not None:  # a claim about the party's verdict, marked
            row["party_name"] = f"{row['party_name']} (claimed by {names.party(row['claimed_by'])})"
        row["stated_on"] = long_date(row["stated_on"])
    rows, headings = sorted_rows(rows, PROPOSAL_COLUMNS, ask, "/proposals")
    negotiation = tables.negotiation
    return {
        "heading": "Proposals",
        "rows": rows[:PROPOSAL_ROWS],
        "total": len(rows),
        "headings": headings,
        "choices": {
            "party": [(p, names.party(p)) for p in negotiation.parties],
            "issue": [(i, names.issue(i)) for i in negotiation.issues],
        },
    }


def timeline_page(tables: Tables, ask: Asked, names: Names) -> dict[str, Any]:
    """One issue's positions over time, as the `timeline` command draws them."""
    from markupsafe import Markup

    from positions.chart import picture, svg_element, timeline_chart, timeline_data

    issue = ask.issue or next(iter(tables.negotiation.issues), None)
    if issue is None:
        raise NotFoundError("this negotiation has no issue to draw")
    data = timeline_data(tables, issue, ask.as_of, POINTS)
    drawn = picture(timeline_chart(data), "svg").decode("utf-8")
    return {
        "heading": f"{names.issue(issue)} over time",
        "issue": issue,
        # drawn by Vega, which escapes every text it puts in the SVG
        "svg": Markup(svg_element(drawn)),
    }


PAGES: dict[str, tuple[str, Page]] = {
    "/compare": ("compare.html.j2", compare_page),
    "/explain": ("explain.html.j2", explain_page),
    "/history": ("history.html.j2", history_page),
    "/proposals": ("proposals.html.j2", proposals_page),
    "/timeline": ("timeline.html.j2", timeline_page),
}


class Site:
    """The pages of one store's negotiation, rendered from its step tables."""

    def __init__(self, app: PositionsApplication, negotiation: str | None = None) -> None:
        self.app = app
        self.slug = app.resolve_negotiation(negotiation)
        self.templates = environment()

    def render(self, path: str, params: dict[str, str]) -> tuple[int, str]:
        """The status and HTML of a page (an error page for a bad request)."""
        template, build = PAGES[path]
        try:
            ask = asked(params)
            with self.app.get_tables(self.slug, ask.known_at) as tables:
                names = names_of(tables)
                context = build(tables, ask, names)
                context.update(self._frame(tables, ask, names, path))
        except NotFoundError as exc:
            return 404, self._error(str(exc))
        except PositionsError as exc:
            return 400, self._error(str(exc))
        return 200, str(self.templates.get_template(f"web/{template}").render(**context))

    def _frame(self, tables: Tables, ask: Asked, names: Names, path: str) -> dict[str, Any]:
        """What every page shows around its content: the title, the moment, the links."""
        negotiation = tables.negotiation
        known = tables.recorded_until()
        return {
            "title": negotiation.title or negotiation.slug,
            "path": path,
            "ask": ask,
            "filters": FILTERS,
            "as_of_text": long_date(ask.as_of.isoformat()) if ask.as_of else None,
            "known_at_text": long_time(known),
            "known_at_value": ask.raw.get("known_at", ""),
            "nav": [
                ("Positions", ask.moment("/compare")),
                ("Proposals", ask.moment("/proposals")),
                ("History", ask.moment("/history")),
                *(
                    (
                        f"Timeline: {names.issue(i)}",
                        ask.moment("/timeline", issue=i),
                    )
                    for i in negotiation.issues
                ),
            ],
        }

    def _error(self, message: str) -> str:
        return str(self.templates.get_template("web/error.html.j2").render(message=message))


def create_app(app: PositionsApplication, negotiation: str | None = None) -> Starlette:
    """The ASGI app of ``positions serve`` (read-only: every route answers GET and HEAD)."""
    from starlette.applications import Starlette
    from starlette.responses import HTMLResponse, RedirectResponse
    from starlette.routing import Route

    site = Site(app, negotiation)

    def page(path: str) -> Callable[[Request], Any]:
        # async, so that every request runs on the one thread that holds the store's
        # connection, one at a time (a local app for one reader)
        async def endpoint(request: Request) -> Response:
            status, html = site.render(path, dict(request.query_params))
            return HTMLResponse(html, status_code=status, headers=HEADERS)

        return endpoint

    async def home(request: Request) -> Response:
        query = request.url.query
        return RedirectResponse("/compare" + (f"?{query}" if query else ""), status_code=302)

    routes = [Route("/", home, methods=["GET"])]
    routes += [Route(path, page(path), methods=["GET"]) for path in PAGES]
    return Starlette(routes=routes)
