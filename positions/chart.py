"""Timeline charts: the projections' frames → Vega-Lite specifications (plain JSON).

Per issue, each party's effective rank on the scale is a step line over time (the stance as of
each day a statement on the issue was made), every statement on the issue is a point (its shape
says what kind of statement it is, ended statements are faded), and developments are vertical
rules labelled with their id. Nothing here reads or writes a file: `picture` turns a chart into
the bytes or text of an SVG, PNG or HTML document, and the caller writes them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

import polars as pl

from positions.codebook import NONCOMMITTAL
from positions.drawing import DrawingError, Workers, svg
from positions.errors import QueryError
from positions.projections import NO_SERIES, Series
from positions.render import visible

if TYPE_CHECKING:
    from concurrent.futures import Future

    from positions.projections import Tables

PICTURE_FORMATS = ("svg", "png", "html")

# The label of the row under the scale: a party whose only word on the issue is noncommittal,
# or a statement that carries no position of its own and meets no position in force.
NO_POSITION = "noncommittal / none"

SHAPES: dict[str, str] = {
    "statement": "circle",
    "proposal": "square",
    "clarification": "diamond",
    "retraction": "cross",
    "claim": "triangle-up",
    "noncommittal": "triangle-down",
    "correction": "triangle-right",
}

STEPS_SCHEMA: dict[str, Any] = {
    "party": pl.String,
    "at": pl.Datetime("us"),
    "position": pl.String,
    "y": pl.Float64,
}

POINTS_SCHEMA: dict[str, Any] = {
    "party": pl.String,
    "party_name": pl.String,
    "colour": pl.String,
    "at": pl.Datetime("us"),
    "y": pl.Float64,
    "mark": pl.String,
    "ended": pl.Boolean,
    "stated_on": pl.String,
    "statement_id": pl.String,
    "speaker": pl.String,
    "position": pl.String,
    "verdict": pl.String,
    "status": pl.String,
    "quote": pl.String,
    "sources": pl.String,
}

DEVELOPMENTS_SCHEMA: dict[str, Any] = {
    "at": pl.Datetime("us"),
    "development": pl.String,
    "row": pl.Int64,
    "stated_on": pl.String,
    "what": pl.String,
    "sources": pl.String,
}

WIDTH = 640

LINE_VERTICES = 120
"""The most changes of position a party's line shows one by one in a thinned chart (about one
every five pixels of its width); a line with more is drawn as the position held at the end of
each of ``LINE_VERTICES`` equal spans of days, so that a long record stays a line, not a
block of colour."""
ROW_HEIGHT = 36
LABEL_ROW = 13
LABEL_ROWS = 4


@dataclass(frozen=True)
class TimelineData:
    """Everything one issue's chart shows, as frames with fixed schemas."""

    issue: str
    title: str
    question: str
    labels: tuple[str, ...]
    parties: tuple[str, ...]
    steps: pl.DataFrame
    points: pl.DataFrame
    developments: pl.DataFrame
    start: datetime
    end: datetime
    note: str | None = None
    """What the chart leaves out, when it draws only the latest statements as points (or
    that there is no statement on the issue yet)."""
    names: tuple[str, ...] = ()
    """Each party's name, in the order of ``parties`` (the legend shows names, not ids)."""
    as_of: date | None = None
    known_at: datetime | None = None
    """The recording time the chart was asked for (``--known-at``), shown in its title."""


def check_picture_path(name: str) -> str:
    """The picture format named by a file's extension (svg, png or html)."""
    suffix = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if suffix not in PICTURE_FORMATS:
        raise QueryError(f"--out: '{name}' must end in .svg, .png or .html")
    return suffix


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time())


def timeline_data(
    query: Tables,
    issue: str,
    as_of: date | None = None,
    most: int | None = None,
    vertices: int = LINE_VERTICES,
) -> TimelineData:
    """One issue's chart data: its statements (`history` of the issue), the developments,
    and each party's positions over time (`Tables.series`).

    With ``most``, only the latest ``most`` statements are read and drawn as points, and
    each party's line has a vertex only where its position changes (the same line, drawn
    from its intervals): a chart of thousands of statements stays legible and quick to
    draw, and says in its ``note`` what it leaves out. A line that changes more than
    ``vertices`` times is drawn as the position held at the end of each of ``vertices`` equal
    spans of days (`_sampled`)."""
    query.check_issue(issue)
    definition = query.negotiation.issues[issue]
    labels = definition.labels
    parties = tuple(query.negotiation.parties)
    history = query.history(issue=issue, as_of=as_of, developments=False, latest=most)
    on_issue = history.filter((pl.col("issue") == issue) & (pl.col("kind") != "development"))
    developments = query.development_rows(as_of)
    series = query.series(issue)

    days = sorted(set(on_issue["date"].to_list()))
    note = None
    changes: dict[str, set[date]] = {}
    if most is not None and on_issue.height >= most:
        limit = (as_of or date.max).toordinal()
        for party in parties:
            changes[party] = {
                date.fromordinal(d) for d in _changes(series.get(party, NO_SERIES)) if d <= limit
            }
        lines = "every change of position"
        if max((len(c) for c in changes.values()), default=0) > vertices:
            step = _sampled(changes, series, parties, vertices, limit)
            lines = f"the position held every {step} days"
        days = sorted(set(days).union(*changes.values()))
        note = f"Points: the latest {most} statements; the lines: {lines}."
    if on_issue.is_empty():
        note = "No statement on this issue yet."
    all_days = days + [row["date"] for row in developments]
    first = min(all_days) if all_days else (as_of or date.today())
    last = max(all_days) if all_days else first
    end_day = last + timedelta(days=1)

    offsets = {p: (k - (len(parties) - 1) / 2) * 0.12 for k, p in enumerate(parties)}
    none_row = len(labels) + 1

    def row_of(position: str | None) -> float | None:
        rank = definition.rank(position)
        if rank is not None:
            return float(rank)
        if position == NONCOMMITTAL:
            return float(none_row)
        return None

    # the effective position of each party at the end of each day something was said
    held: dict[tuple[str, date], tuple[str | None, float | None]] = {}
    steps: list[dict[str, Any]] = []
    stated = set(on_issue["date"].to_list())
    for day in days:
        for party in parties:
            vertex = not changes or day in changes[party]
            if not vertex and day not in stated and day != days[-1]:
                continue  # thinned: a vertex only where the party's position changes
            position = series.get(party, NO_SERIES).at(day.toordinal())
            y = row_of(position)
            held[(party, day)] = (position, y)
            if not vertex:
                continue
            steps.append(
                {
                    "party": party,
                    "at": _midnight(day),
                    "position": position,
                    "y": None if y is None else y + offsets[party],
                }
            )
    if days:
        for party in parties:
            position, y = held[(party, days[-1])]
            steps.append(
                {
                    "party": party,
                    "at": _midnight(end_day),
                    "position": position,
                    "y": None if y is None else y + offsets[party],
                }
            )

    # statements spread across their day in the order of the timeline
    per_day: dict[date, int] = {}
    for day in on_issue["date"].to_list():
        per_day[day] = per_day.get(day, 0) + 1
    seen: dict[date, int] = {}
    points: list[dict[str, Any]] = []
    for row in on_issue.iter_rows(named=True):
        day = row["date"]
        k = seen.get(day, 0)
        seen[day] = k + 1
        at = _midnight(day) + timedelta(hours=24 * (k + 1) / (per_day[day] + 1))
        kind = row["kind"]
        party = row["about"] if kind == "claim" and row["about"] else row["party"]
        mark = "statement" if kind == "position" else kind
        if mark == "statement" and row["position"] == NONCOMMITTAL:
            mark = "noncommittal"
        y = float(row["rank"]) if row["rank"] is not None else None
        if y is None or kind == "claim":
            own = held.get((party, day), (None, None))[1]
            y = y if y is not None else own
        if y is None:
            y = float(none_row)
        found = query.negotiation.parties.get(party)
        party_name = found.name if found is not None else party
        status = None
        if row["ended_how"]:
            status = f"{row['ended_how']} by {row['ended_by']}"
        elif kind == "claim":
            claimant = query.negotiation.parties.get(row["party"])
            status = f"claimed by {claimant.name if claimant else row['party']} about {party_name}"
        points.append(
            {
                "party": party,
                "party_name": party_name,
                # a claim at the row of the party it is about, in its claimant's colour
                "colour": row["party"] if kind == "claim" else party,
                "at": at,
                "y": y + offsets.get(party, 0.0),
                "mark": mark,
                "ended": row["ended_how"] is not None,
                "stated_on": row["stated_on"],
                "statement_id": row["statement_id"],
                "speaker": row["speaker"],
                "position": row["position"],
                "verdict": row["verdict"],
                "status": status,
                "quote": row["quote"],
                "sources": row["sources"],
            }
        )

    devs = [
        {
            "at": _midnight(row["date"]),
            "development": row["statement_id"],
            "row": n % LABEL_ROWS,
            "stated_on": row["stated_on"],
            "what": row["quote"],
            "sources": row["sources"],
        }
        for n, row in enumerate(developments)
    ]
    return TimelineData(
        issue=issue,
        title=definition.title or issue,
        question=definition.question,
        labels=labels,
        parties=parties,
        steps=pl.DataFrame(steps, schema=STEPS_SCHEMA),
        points=pl.DataFrame(points, schema=POINTS_SCHEMA),
        developments=pl.DataFrame(devs, schema=DEVELOPMENTS_SCHEMA),
        start=_midnight(first),
        end=_midnight(end_day),
        note=note,
        names=tuple(query.negotiation.parties[p].name for p in parties),
        as_of=as_of,
        known_at=query.known_at(),
    )


def _sampled(
    changes: dict[str, set[date]],
    series: Mapping[str, Series],
    parties: Sequence[str],
    vertices: int,
    limit: int,
) -> int:
    """Each party's vertices (``changes``, replaced) as the days ending ``vertices`` equal
    spans of the days its lines cover, where the position held then differs from the one
    before; the span's length in days."""
    first = min(min(c) for c in changes.values() if c).toordinal()
    last = max(max(c) for c in changes.values() if c).toordinal()
    step = max(1, -(-(last - first + 1) // vertices))
    ends = range(first, last + step, step)
    for party in parties:
        line = series.get(party, NO_SERIES)
        kept: set[date] = set()
        held: object = object()
        for end in ends:
            day = min(end, limit)
            position = line.at(day)
            if position != held:
                kept.add(date.fromordinal(day))
                held = position
        changes[party] = kept
    return step


def _changes(line: Series) -> list[int]:
    """The days on which a party's position changes: an interval that starts with another
    position than the one before it, or after a gap, and the start of each gap."""
    days = []
    held, until = None, None
    for start, end, position in zip(line.starts, line.ends, line.positions, strict=True):
        if until is not None and until < start:
            days.append(until)  # a gap: no position from the end of the one before
            held = None
        if position != held:
            days.append(start)
        held, until = position, end
    if until is not None and until < date.max.toordinal():
        days.append(until)
    return days


def _records(frame: pl.DataFrame) -> list[dict[str, Any]]:
    """Rows as JSON-ready dicts (times as ISO strings), a dataset of the chart's spec."""
    return [
        {k: v.isoformat() if isinstance(v, datetime) else v for k, v in row.items()}
        for row in frame.iter_rows(named=True)
    ]


SCHEMA_URL = "https://vega.github.io/schema/vega-lite/v6.4.1.json"
"""The Vega-Lite version the specifications are written for (vl-convert renders it; a test
checks every specification against its schema)."""


def _field(name: str, kind: str, title: str | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {"field": name}
    if title is not None:
        found["title"] = title
    found["type"] = kind
    return found


def timeline_chart(data: TimelineData) -> dict[str, Any]:
    """One issue's timeline as a Vega-Lite specification: a strip of development labels above
    the chart of positions, with the rows as named datasets at its top (``datasets``). It is
    written as the JSON it is (no chart library builds it: one would copy and check the
    specification at every step, a tenth of a second an issue)."""
    names = {kind: f"{data.issue}/{kind}" for kind in ("steps", "points", "developments")}
    axis_labels = ["", *data.labels, NO_POSITION]
    rows = len(data.labels) + 1
    span = max((data.end - data.start).days, 1)
    x_scale = {"domain": [data.start.isoformat(), data.end.isoformat()]}
    x = {
        "axis": {
            "format": "%-d %b %Y",
            "labelAngle": 0,
            "tickCount": {"interval": "day", "step": max(1, -(-span // 8))},
        },
        "field": "at",
        "scale": x_scale,
        "title": None,
        "type": "temporal",
    }
    y = {
        "axis": {
            "grid": True,
            "labelExpr": f"{_js(axis_labels)}[datum.value]",
            "labelLimit": 220,
            "values": list(range(1, rows + 1)),
        },
        "field": "y",
        "scale": {"domain": [0.5, rows + 0.5], "nice": False, "reverse": True, "zero": False},
        "title": None,
        "type": "quantitative",
    }
    party_names = dict(zip(data.parties, data.names, strict=False))
    drawn = set(data.points["mark"].to_list())  # the legend lists the shapes drawn alone
    shapes = {mark: shape for mark, shape in SHAPES.items() if mark in drawn} or SHAPES
    color = {
        "field": "party",
        "legend": {"labelExpr": f"{_js(party_names)}[datum.label] || datum.label"},
        "scale": {"domain": list(data.parties)},
        "title": "party",
        "type": "nominal",
    }
    rule_mark = {"type": "rule", "color": "#888", "strokeDash": [4, 3]}
    rules = {
        "data": {"name": names["developments"]},
        "mark": rule_mark,
        "encoding": {
            "tooltip": [
                _field("development", "nominal"),
                _field("stated_on", "nominal", "date"),
                _field("what", "nominal"),
                _field("sources", "nominal"),
            ],
            "x": {"field": "at", "scale": x_scale, "type": "temporal"},
        },
    }
    steps = {
        "data": {"name": names["steps"]},
        "mark": {"type": "line", "interpolate": "step-after", "strokeWidth": 2},
        "encoding": {"color": color, "detail": _field("party", "nominal"), "x": x, "y": y},
    }
    points = {
        "data": {"name": names["points"]},
        "mark": {"type": "point", "filled": True, "size": 90, "strokeWidth": 1.5},
        "encoding": {
            "color": {**color, "field": "colour"},
            "opacity": {"condition": {"test": "datum.ended", "value": 0.4}, "value": 1.0},
            "shape": {
                "field": "mark",
                "scale": {"domain": list(shapes), "range": list(shapes.values())},
                "title": "statement",
                "type": "nominal",
            },
            "tooltip": [
                _field("quote", "nominal"),
                _field("speaker", "nominal"),
                _field("sources", "nominal", "source"),
                _field("stated_on", "nominal", "date"),
                _field("party_name", "nominal", "party"),
                _field("mark", "nominal", "kind"),
                _field("position", "nominal"),
                _field("verdict", "nominal"),
                _field("status", "nominal"),
                _field("statement_id", "nominal", "statement"),
            ],
            "x": x,
            "y": y,
        },
    }
    label_rows = max(1, min(LABEL_ROWS, len(data.developments)))
    strip_x = {"axis": None, "field": "at", "scale": x_scale, "type": "temporal"}
    strip = {
        "layer": [
            {"mark": rule_mark, "encoding": {"x": strip_x}},
            {
                "mark": {
                    "type": "text",
                    "align": "left",
                    "baseline": "middle",
                    "color": "#444",
                    "dx": 3,
                    "fontSize": 10,
                },
                "encoding": {
                    "text": _field("development", "nominal"),
                    "tooltip": [_field("what", "nominal"), _field("stated_on", "nominal", "date")],
                    "x": strip_x,
                    "y": {"field": "label_y", "scale": None, "type": "quantitative"},
                },
            },
        ],
        "data": {"name": names["developments"]},
        "height": LABEL_ROW * label_rows + 4,
        "transform": [
            {"calculate": f"{LABEL_ROW} * datum.row + {LABEL_ROW // 2 + 2}", "as": "label_y"}
        ],
        "width": WIDTH,
    }
    main = {"layer": [rules, steps, points], "height": ROW_HEIGHT * rows, "width": WIDTH}
    return {
        "config": {"view": {"continuousWidth": 300, "continuousHeight": 300, "stroke": None}},
        "vconcat": [strip, main],
        "resolve": {"scale": {"x": "shared"}},
        "spacing": 2,
        "title": {
            "text": f"{data.title}: each party's position over time"
            + (f", as of {written_date(data.as_of)}" if data.as_of is not None else "")
            + (
                f", as recorded at {written_time(data.known_at)}"
                if data.known_at is not None
                else ""
            ),
            "anchor": "start",
            "subtitle": [data.question, data.note] if data.note else data.question,
        },
        "$schema": SCHEMA_URL,
        "datasets": {
            names["steps"]: _records(data.steps),
            names["points"]: _records(data.points),
            names["developments"]: _records(data.developments),
        },
    }


def shared_axis(
    charts: Sequence[TimelineData], span: tuple[datetime, datetime] | None = None
) -> list[TimelineData]:
    """The charts of several issues over one time axis, so that a day sits at the same place
    in every chart: from the earliest start of the charts that draw something (or of all,
    when none does) to the latest end, widened to ``span`` (`axis_span`) when given."""
    if not charts:
        return []
    drawn = [data for data in charts if data.steps.height or data.points.height] or charts
    start = min(data.start for data in drawn)
    end = max(data.end for data in drawn)
    if span is not None:
        start, end = min(start, span[0]), max(end, span[1])
    return [dataclasses.replace(data, start=start, end=end) for data in charts]


def axis_span(
    query: Tables, issues: Sequence[str], as_of: date | None = None
) -> tuple[datetime, datetime] | None:
    """The time axis of several issues' charts as the store gives it before any chart is
    read: from the first day of a statement, tabling or development on them by ``as_of`` to
    the day after the last (`Tables.span`). Every chart's own start and end lie within it,
    but for a correction that moved a statement off an issue (`shared_axis` then widens it)."""
    days = [row["date"] for row in query.development_rows(as_of)]
    found = query.span(issues, as_of)
    if found is not None:
        days.extend(found)
    if not days:
        return None
    return _midnight(min(days)), _midnight(max(days) + timedelta(days=1))


POOL_ROWS = 2000
"""The rows (steps and points) of a report's timelines, reckoned from its first (its rows
times the number of issues), from which they are drawn by worker processes while the rest is
read (fewer: one after the other, here). Each picture takes vl-convert a tenth of a second or
more however few its rows, so many issues of a few hundred rows each are worth the workers."""


class TimelineDrawing:
    """The SVG pictures of several issues' timelines over one axis. A report of many rows has
    them drawn by two worker processes while this one goes on reading (vl-convert holds
    Python's lock for part of each drawing, so a thread would slow the reading down): each
    chart is sent as soon as it is read, over the axis the store gives (`axis_span`); if a
    chart turns out to reach past that axis, every chart is drawn again over the wider one.
    A small report is drawn here, chart by chart. `pictures` gives them, the same either way
    (a worker that fails: a `QueryError`)."""

    def __init__(
        self,
        query: Tables,
        issues: Sequence[str],
        as_of: date | None,
        most: int | None,
        pool_rows: int = POOL_ROWS,
        axis: tuple[datetime, datetime] | None = None,
        workers: int = 2,
    ) -> None:
        """``axis``: the axis to draw over first, for several issues (`axis_span` when
        None); ``workers``: how many processes draw."""
        span = None
        if len(issues) > 1:
            span = axis if axis is not None else axis_span(query, issues, as_of)
        self._pool: Workers | None = None
        charts: list[TimelineData] = []
        drawing: list[Future[bytes]] = []
        try:
            for issue in issues:  # read here: the store's cursor stays in this process
                data = timeline_data(query, issue, as_of, most)
                charts.append(data)
                if span is None:
                    continue
                rows = data.steps.height + data.points.height
                if not charts[1:] and rows * len(issues) >= pool_rows:
                    self._pool = _pool(workers)
                if self._pool is not None:
                    shown = dataclasses.replace(data, start=span[0], end=span[1])
                    drawing.append(self._pool.submit(_visible(timeline_chart(shown))))
        except BaseException:  # a chart that cannot be read: stop the workers started
            if self._pool is not None:
                self._pool.close()
            raise
        self.charts = shared_axis(charts, span)
        first = self.charts[0] if self.charts else None
        if self._pool is not None and first is not None and (first.start, first.end) != span:
            for future in drawing:
                future.cancel()
            drawing = [self._pool.submit(_visible(timeline_chart(data))) for data in self.charts]
        self._drawing = drawing

    def pictures(self) -> list[tuple[TimelineData, str]]:
        """Each chart with its SVG, in the order of the issues."""
        if self._pool is None:
            drawn = [picture(timeline_chart(data), "svg") for data in self.charts]
        else:
            try:
                drawn = [future.result() for future in self._drawing]
            except DrawingError as exc:
                raise QueryError(f"cannot draw the timelines: {exc}") from None
            finally:
                self._pool.close()
        return [(data, svg.decode("utf-8")) for data, svg in zip(self.charts, drawn, strict=True)]


def _pool(workers: int) -> Workers | None:
    """Worker processes that draw, or None where this machine has one processor."""
    import os

    if (os.cpu_count() or 1) < 2:
        return None
    return Workers(workers)


def timeline_charts(
    query: Tables, issues: Sequence[str], as_of: date | None = None, most: int | None = None
) -> dict[str, Any]:
    """The timelines of several issues, one under the other over one time axis (one issue:
    its chart alone); with ``most``, each draws only its latest ``most`` statements as
    points (`timeline_data`)."""
    span = axis_span(query, issues, as_of) if len(issues) > 1 else None
    charts = shared_axis([timeline_data(query, issue, as_of, most) for issue in issues], span)
    specs = [timeline_chart(data) for data in charts]
    if len(specs) == 1:
        return specs[0]
    datasets: dict[str, Any] = {}
    for spec in specs:
        spec.pop("config", None)
        spec.pop("$schema", None)
        datasets.update(spec.pop("datasets"))
    return {
        "$schema": SCHEMA_URL,
        "vconcat": specs,
        "spacing": 36,
        "config": {"view": {"stroke": None}},
        "datasets": datasets,
    }


PAGE = (
    '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
    '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
    "style-src 'unsafe-inline'; img-src data:\">\n"
    "<title>Positions over time</title>\n</head>\n<body>\n{svg}\n</body>\n</html>\n"
)
"""The page of an ``.html`` picture: the SVG inline, and a policy that forbids any script."""


def svg_element(svg: str) -> str:
    """An SVG document as an element to put in a page (its XML declaration removed); Vega
    escapes every text it puts in the SVG."""
    svg = svg.lstrip()
    if svg.startswith("<?xml"):
        svg = svg[svg.index("?>") + 2 :].lstrip()
    return svg


_SPEC = "const spec = "


def safe_page(page: str) -> str | None:
    """vl-convert's interactive page with its embedded specification written again so that no
    text of the data can end the script that holds it: vl-convert writes the data's strings as
    they are, so a quote holding ``</script><script>…`` closed the script and ran the next.
    The specification is read back with a JSON parser and every ``<``, ``>`` and ``&`` written
    as a ``\\u`` escape (the same strings to the script). None if the page does not hold the
    specification where vl-convert puts it (then the picture is the SVG page, ``PAGE``)."""
    import json

    start = page.find(_SPEC)
    if start < 0:
        return None
    start += len(_SPEC)
    try:
        spec, end = json.JSONDecoder().raw_decode(page, start)
    except ValueError:
        return None
    text = json.dumps(spec, ensure_ascii=True, separators=(",", ":"))
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return page[:start] + text + page[end:]


def _visible(value: Any) -> Any:
    """A chart's specification with the control characters of its texts escaped
    (`render.visible`): XML forbids most of them, so an SVG holding one is not well formed."""
    if isinstance(value, str):
        return visible(value)
    if isinstance(value, dict):
        return {key: _visible(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_visible(item) for item in value]
    return value


def picture(chart: dict[str, Any], fmt: str) -> bytes:
    """The chart as an SVG, a PNG or a self-contained HTML page (its scripts inlined; hovering
    a point shows its quote)."""
    import vl_convert as vlc

    spec = _visible(chart)
    if fmt == "svg":
        return svg(spec)
    if fmt == "png":
        return bytes(vlc.vegalite_to_png(spec, scale=2))
    if fmt == "html":
        page = safe_page(str(vlc.vegalite_to_html(spec, bundle=True)))
        if page is None:
            page = PAGE.format(svg=svg_element(str(vlc.vegalite_to_svg(spec))))
        return page.encode("utf-8")
    raise QueryError(f"unknown picture format '{fmt}' (choose from: svg, png, html)")


def written_date(day: date) -> str:
    """A date as a reader writes it, in a chart's title and in the report: ``13 March 2025``."""
    return f"{day.day} {day:%B %Y}"


def written_time(moment: datetime) -> str:
    """A recording time as a reader writes it, in UTC: ``25 November 2026, 05:43 UTC`` (with
    seconds when it has them)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    clock = f"{moment:%H:%M:%S}" if moment.second or moment.microsecond else f"{moment:%H:%M}"
    return f"{written_date(moment.date())}, {clock} UTC"


def _js(value: dict[str, str] | list[str]) -> str:
    """A JSON literal for a Vega expression (ASCII only), its texts' control characters
    escaped (`render.visible`): the expression's result is drawn as text, which no escaping
    of the specification reaches."""
    import json

    if isinstance(value, dict):
        return json.dumps({key: visible(text) for key, text in value.items()}, ensure_ascii=True)
    return json.dumps([visible(text) for text in value], ensure_ascii=True)
