"""Timeline charts: the chart data from the projections, the Vega-Lite spec, the pictures."""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from positions.application import PositionsApplication
from positions.chart import (
    NO_POSITION,
    SCHEMA_URL,
    TimelineData,
    check_picture_path,
    picture,
    timeline_chart,
    timeline_charts,
    timeline_data,
)
from positions.errors import NotFoundError, QueryError
from positions.projections import Query
from positions.scenario import parse_scenario
from tests.conftest import SEED, run_cli
from tests.helpers import import_all, memory_app


@pytest.fixture(scope="module")
def query() -> Query:
    app = memory_app()
    import_all(app, [SEED])
    return Query(app.get_record(app.resolve_negotiation(None)))


def _steps(
    query: Query, issue: str, party: str, as_of: date | None = None
) -> list[tuple[date, str | None]]:
    data = timeline_data(query, issue, as_of)
    rows = data.steps.filter(data.steps["party"] == party).iter_rows(named=True)
    return [(row["at"].date(), row["position"]) for row in rows]


def test_each_party_steps_through_its_stance_day_by_day(query: Query) -> None:
    assert _steps(query, "foreign_troops", "russia") == [
        (date(2025, 3, 12), "no_nato_country_troops"),
        (date(2025, 3, 13), "no_foreign_troops"),
        (date(2025, 3, 14), "no_foreign_troops"),
    ]
    assert _steps(query, "ceasefire", "ukraine") == [
        (date(2025, 3, 10), None),
        (date(2025, 3, 11), "temporary_ceasefire"),
        (date(2025, 3, 12), "temporary_ceasefire"),
        (date(2025, 3, 13), "temporary_ceasefire"),
        (date(2025, 3, 14), "temporary_ceasefire"),
    ]


def test_as_of_cuts_the_timeline(query: Query) -> None:
    assert _steps(query, "foreign_troops", "russia", date(2025, 3, 12)) == [
        (date(2025, 3, 12), "no_nato_country_troops"),
        (date(2025, 3, 13), "no_nato_country_troops"),
    ]


def test_a_noncommittal_party_sits_on_the_row_under_the_scale(query: Query) -> None:
    data = timeline_data(query, "foreign_troops")
    us = data.steps.filter(data.steps["party"] == "us")
    assert set(us["position"].drop_nulls()) == {"noncommittal"}
    none_row = len(data.labels) + 1
    assert all(abs(y - none_row) < 0.5 for y in us["y"].drop_nulls())


def test_statements_are_points_marked_by_kind_and_ended_ones_flagged(query: Query) -> None:
    data = timeline_data(query, "ceasefire")
    marks = [
        (row["statement_id"], row["party"], row["mark"], row["ended"], row["status"])
        for row in data.points.iter_rows(named=True)
    ]
    assert marks == [
        ("kremlin-ruled-out-temporary-ceasefire", "russia", "statement", False, None),
        ("us-30-day-ceasefire", "us", "proposal", False, None),
        ("ukraine-accepts-30-day-ceasefire", "ukraine", "statement", False, None),
        ("trump-up-to-russia", "us", "noncommittal", False, None),
        ("ushakov-waltz-call-temporary-respite", "russia", "statement", False, None),
        (
            "ushakov-long-term-settlement",
            "russia",
            "statement",
            True,
            "clarified by peskov-not-a-rejection",
        ),
        ("peskov-not-a-rejection", "russia", "clarification", False, None),
    ]
    # statements of one day are spread across it in the timeline's order
    on_13 = [at for at in data.points["at"] if at.date() == date(2025, 3, 13)]
    assert on_13 == sorted(on_13) and len(set(on_13)) == 2


def test_a_claim_is_plotted_for_the_party_it_is_about_in_its_claimant_s_colour(
    query: Query,
) -> None:
    data = timeline_data(query, "nato")
    claim = data.points.filter(data.points["mark"] == "claim").row(0, named=True)
    assert (claim["party"], claim["colour"], claim["position"], claim["status"]) == (
        "us",
        "russia",
        "off_the_table",
        "claimed by Russia about United States",
    )
    assert round(claim["y"]) == 3
    own = data.points.filter(data.points["mark"] != "claim")
    assert own["colour"].to_list() == own["party"].to_list()
    layers = timeline_chart(data)["vconcat"][1]["layer"]
    drawn = next(layer for layer in layers if layer["mark"]["type"] == "point")
    line = next(layer for layer in layers if layer["mark"]["type"] == "line")
    assert drawn["encoding"]["color"]["field"] == "colour"
    # one colour scale: a party's points and line share its colour
    assert drawn["encoding"]["color"]["scale"] == line["encoding"]["color"]["scale"]


def test_developments_are_rules_at_their_day(query: Query) -> None:
    data = timeline_data(query, "nato")
    assert [(row["at"], row["development"]) for row in data.developments.iter_rows(named=True)] == [
        (datetime(2025, 3, 11), "us-ukraine-talks-saudi-arabia"),
        (datetime(2025, 3, 12), "ushakov-waltz-phone-call"),
        (datetime(2025, 3, 13), "russia-says-sudzha-recaptured"),
        (datetime(2025, 3, 13), "witkoff-arrives-in-moscow"),
    ]


def test_the_spec_labels_the_axis_with_the_scale_and_carries_hover_text(query: Query) -> None:
    spec = timeline_chart(timeline_data(query, "ceasefire"))
    main = spec["vconcat"][1]
    layers = main["layer"]
    y_axis = layers[1]["encoding"]["y"]["axis"]
    assert y_axis["labelExpr"].startswith(
        '["", "immediate_unconditional", "temporary_ceasefire", "conditional_ceasefire", '
        f'"settlement_first", "no_ceasefire", "{NO_POSITION}"]'
    )
    assert layers[1]["mark"]["interpolate"] == "step-after"
    tooltip = [t["field"] for t in layers[2]["encoding"]["tooltip"]]
    assert tooltip[:4] == ["quote", "speaker", "sources", "stated_on"]
    assert layers[0]["mark"]["type"] == "rule"


def _schema_problems(spec: dict[str, Any]) -> list[str]:
    """What Vega-Lite's JSON Schema (the one Altair ships, of the version `SCHEMA_URL` names)
    finds wrong in a specification."""
    import jsonschema  # type: ignore[import-untyped]
    from altair.vegalite.v6.schema import SCHEMA_VERSION, load_schema

    assert SCHEMA_URL.endswith(f"/vega-lite/{SCHEMA_VERSION}.json")
    validator = jsonschema.Draft7Validator(load_schema())
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(spec)]


def test_every_specification_is_valid_vega_lite(query: Query) -> None:
    """The specifications are written as plain JSON: Vega-Lite's schema checks them, one issue's
    and several issues' (`timeline_charts`), and a thinned one."""
    one = timeline_chart(timeline_data(query, "ceasefire"))
    assert _schema_problems(one) == []
    assert _schema_problems(timeline_charts(query, list(query.negotiation.issues))) == []
    thinned = timeline_chart(timeline_data(query, "ceasefire", None, most=2))
    assert thinned["title"]["subtitle"][1].startswith("Points: the latest 2 statements")
    assert _schema_problems(thinned) == []
    broken = {**one, "spacing": "wide"}
    assert _schema_problems(broken) != []


def test_pictures_come_out_in_each_format(query: Query) -> None:
    chart = timeline_chart(timeline_data(query, "nato"))
    svg = picture(chart, "svg").decode()
    assert svg.startswith("<svg") and "off_the_table" in svg and "witkoff-arrives-in-moscow" in svg
    assert picture(chart, "png").startswith(b"\x89PNG\r\n\x1a\n")
    html = picture(chart, "html").decode()
    # the scripts are inlined: the page loads nothing from a network
    assert "<script" in html and 'src="http' not in html and "cdn.jsdelivr" not in html


def test_an_unknown_issue_is_not_found(query: Query) -> None:
    with pytest.raises(
        NotFoundError, match=r"^unknown issue 'grain' \(known: ceasefire, foreign_troops, nato\)$"
    ):
        timeline_data(query, "grain")


@pytest.mark.parametrize(
    ("name", "fmt"), [("a.svg", "svg"), ("b.PNG", "png"), ("c.d.html", "html")]
)
def test_the_picture_format_comes_from_the_extension(name: str, fmt: str) -> None:
    assert check_picture_path(name) == fmt


@pytest.mark.parametrize("name", ["chart.jpg", "chart", "svg"])
def test_other_extensions_are_refused(name: str) -> None:
    with pytest.raises(QueryError, match=rf"^--out: '{name}' must end in \.svg, \.png or \.html$"):
        check_picture_path(name)


def test_no_quote_can_end_the_script_that_holds_an_html_timeline(tmp_path: Path) -> None:
    """A quote holding ``</script><script>…`` once closed the page's embedded chart
    specification and ran the script after it: the specification is written with ``<``, ``>``
    and ``&`` escaped, so the page has exactly the scripts it was made with, and the quote is
    still the quote to the chart."""
    hostile = "It's up to Russia now. </script><script>document.title='pwned'</script>"
    scenario = tmp_path / "seed.yaml"
    scenario.write_text(
        SEED.read_text(encoding="utf-8").replace("It's up to Russia now.", hostile),
        encoding="utf-8",
    )
    url = f"sqlite:///{tmp_path / 'store.db'}"
    assert run_cli("--store", url, "import", str(scenario)).code == 0
    out = tmp_path / "timeline.html"
    result = run_cli("--store", url, "timeline", "--issue", "ceasefire", "--out", str(out))
    assert result.code == 0, result.err
    page = out.read_text(encoding="utf-8")
    assert page.lower().count("<script") == page.lower().count("</script") > 0
    assert "</script><script>document.title" not in page
    start = page.index("const spec = ") + len("const spec = ")
    spec, _ = json.JSONDecoder().raw_decode(page, start)
    assert hostile in json.dumps(spec, ensure_ascii=False)


def test_a_page_without_the_specification_where_it_is_expected_is_left_to_the_svg() -> None:
    from positions.chart import safe_page

    assert safe_page("<html><script>var other = 1;</script></html>") is None
    assert safe_page('<script>const spec = {"a": "</script>"};</script>') == (
        '<script>const spec = {"a":"\\u003c/script\\u003e"};</script>'
    )


def test_a_thinned_timeline_draws_the_same_lines_and_only_the_latest_points(
    tmp_path: Path,
) -> None:
    """With ``most``, the points are the latest statements and each party's line keeps a
    vertex only where its position changes: read as a step function, it is the same line."""
    from benchmarks.generate import generate

    made = generate(800, tmp_path / "gen")
    app = PositionsApplication.open(f"sqlite:///{tmp_path / 'store.db'}", create=True)
    app.import_files(made.files)
    with app.get_tables("synthetic", None) as tables:
        full = timeline_data(tables, "issue-00")
        thin = timeline_data(tables, "issue-00", most=40)
    assert thin.points.height == 40 and thin.note is not None and full.note is None
    assert thin.points["statement_id"].to_list() == full.points["statement_id"].to_list()[-40:]
    assert thin.steps.height < full.steps.height
    for party in full.parties:

        def line(data: TimelineData, who: str = party) -> list[tuple[Any, Any]]:
            rows = data.steps.filter(pl.col("party") == who).sort("at")
            return list(zip(rows["at"].to_list(), rows["position"].to_list(), strict=True))

        thinned = line(thin)
        for at, position in line(full):
            before = [p for when, p in thinned if when <= at]
            assert (before[-1] if before else None) == position, (party, at)


def test_a_picture_names_the_parties_says_its_date_and_lists_only_the_shapes_drawn(
    query: Query,
) -> None:
    """The legend shows the parties' names (their ids stay in the data), the title the as-of
    date as a reader writes it, and the shape legend only the kinds of statement drawn."""
    spec = timeline_chart(timeline_data(query, "ceasefire", date(2025, 3, 12)))
    assert spec["title"]["text"] == (
        "Ceasefire: each party's position over time, as of 12 March 2025"
    )
    svg = picture(spec, "svg").decode("utf-8")
    for name in ("Russia", "Ukraine", "United States"):
        assert f">{name}</text>" in svg
    assert ">russia</text>" not in svg
    points = spec["vconcat"][1]["layer"][2]["encoding"]
    assert points["shape"]["scale"]["domain"] == ["statement", "proposal", "noncommittal"]
    assert {"field": "party_name", "title": "party", "type": "nominal"} in points["tooltip"]
    undated = timeline_chart(timeline_data(query, "ceasefire"))
    assert undated["title"]["text"] == "Ceasefire: each party's position over time"


def test_an_issue_nobody_has_spoken_on_says_so() -> None:
    from tests.strategies import codebook

    app = memory_app()
    book = {**codebook(), "proposals": []}
    app.import_scenarios([parse_scenario(json.dumps(book, default=str), "book.json")])
    empty = Query(app.get_record("generated"))
    spec = timeline_chart(timeline_data(empty, "border"))
    assert spec["title"]["subtitle"][1] == "No statement on this issue yet."


def test_several_issues_share_one_time_axis() -> None:
    """Issues whose statements lie on different days are drawn over the same days, in one
    picture (`timeline_charts`) as in the report, so that a day sits at the same place."""
    from positions.chart import shared_axis
    from tests.strategies import START, codebook

    said = {"by": "alpha", "quote": "q", "sources": [{"outlet": "Wire"}]}
    statements = [
        {**said, "id": "w", "on": START, "issue": "water", "position": "share_all"},
        {**said, "id": "b", "on": START + timedelta(days=9), "issue": "border", "position": "open"},
    ]
    app = memory_app()
    document = {**codebook(), "proposals": [], "statements": statements}
    app.import_scenarios([parse_scenario(json.dumps(document, default=str), "g.json")])
    record = Query(app.get_record("generated"))
    alone = [timeline_data(record, issue) for issue in ("water", "border")]
    assert alone[0].start != alone[1].start
    shared = shared_axis(alone)
    assert {(data.start, data.end) for data in shared} == {
        (min(d.start for d in alone), max(d.end for d in alone))
    }
    both = timeline_charts(record, ["water", "border"])
    domains = {
        json.dumps(chart["vconcat"][1]["layer"][1]["encoding"]["x"]["scale"]["domain"])
        for chart in both["vconcat"]
    }
    assert len(domains) == 1


def test_a_report_s_timelines_drawn_by_worker_processes_are_those_drawn_here(
    tmp_path: Path,
) -> None:
    """Drawn by two worker processes while the store is read (`TimelineDrawing`), over the
    store's axis or over one too narrow (then drawn again over the charts' own), the
    pictures are byte for byte those drawn here one after the other."""
    from positions.chart import TimelineDrawing
    from tests.strategies import START, codebook

    said = {"by": "alpha", "quote": "q", "sources": [{"outlet": "Wire"}]}
    statements = [
        {**said, "id": "w", "on": START, "issue": "water", "position": "share_all"},
        {**said, "id": "b", "on": START + timedelta(days=9), "issue": "border", "position": "open"},
        {
            **said,
            "id": "c",
            "on": START + timedelta(days=4),
            "issue": "water",
            "position": "share_none",
        },
    ]
    app = PositionsApplication.open(f"sqlite:///{tmp_path / 'store.db'}", create=True)
    document = {**codebook(), "proposals": [], "statements": statements}
    app.import_scenarios([parse_scenario(json.dumps(document, default=str), "g.json")])
    issues = ["water", "border"]
    with app.get_tables("generated") as tables:
        here = [svg for _, svg in TimelineDrawing(tables, issues, None, None).pictures()]
        assert "<svg" in here[0] and here[0] != here[1]
        in_workers = TimelineDrawing(tables, issues, None, None, pool_rows=0, workers=1)
        assert in_workers._pool is not None
        assert [svg for _, svg in in_workers.pictures()] == here
        day = datetime.combine(START + timedelta(days=5), datetime.min.time())
        narrow = TimelineDrawing(
            tables, issues, None, None, pool_rows=0, axis=(day, day), workers=1
        )
        assert [svg for _, svg in narrow.pictures()] == here


def test_a_drawing_process_that_cannot_draw_says_why() -> None:
    from positions.drawing import DrawingError, Workers, svg

    good = {
        "mark": "point",
        "data": {"values": [{"a": 1}]},
        "encoding": {"x": {"field": "a", "type": "quantitative"}},
    }
    workers = Workers(1)
    try:
        assert workers.submit(good).result() == svg(good)
        with pytest.raises(DrawingError, match=r"^Vega-Lite to SVG conversion failed: \S[^\n]*$"):
            workers.submit({"mark": {"type": 5}, "data": {"values": []}}).result()
        assert workers.submit(good).result() == svg(good)  # the worker goes on
    finally:
        workers.close()


def test_an_issue_with_no_statement_does_not_stretch_the_shared_axis() -> None:
    """An issue nobody spoke on yet draws nothing: the axis of several issues' charts still
    ends the day after the last statement, not on the day the picture is drawn."""
    from tests.strategies import START, codebook

    said = {"by": "alpha", "quote": "q", "sources": [{"outlet": "Wire"}]}
    statements = [{**said, "id": "w", "on": START, "issue": "water", "position": "share_all"}]
    app = memory_app()
    document = {**codebook(), "proposals": [], "statements": statements}
    app.import_scenarios([parse_scenario(json.dumps(document, default=str), "g.json")])
    both = timeline_charts(Query(app.get_record("generated")), ["water", "border"])
    domains = {
        tuple(chart["vconcat"][1]["layer"][1]["encoding"]["x"]["scale"]["domain"])
        for chart in both["vconcat"]
    }
    end = datetime.combine(START + timedelta(days=1), datetime.min.time()).isoformat()
    assert {domain[1] for domain in domains} == {end}


def test_a_picture_of_the_record_as_it_stood_says_when_in_its_title(seeded: str) -> None:
    """Asked with a recording time (``--known-at``), the title says it, in UTC as a reader
    writes it; asked of the record as it is, it says nothing of it."""
    app = PositionsApplication.open(seeded)
    try:
        imported = max(e.timestamp for e in app.get_all_events())
        later = (imported + timedelta(minutes=1)).replace(second=0, microsecond=0)
        tables = app.get_tables("ukraine-2025", later)
        try:
            spec = timeline_chart(timeline_data(tables, "ceasefire", date(2025, 3, 12)))
        finally:
            tables.close()
        now = app.get_tables("ukraine-2025")
        try:
            current = timeline_chart(timeline_data(now, "ceasefire"))
        finally:
            now.close()
    finally:
        app.close()
    assert spec["title"]["text"] == (
        "Ceasefire: each party's position over time, as of 12 March 2025, as recorded at "
        f"{later.day} {later:%B %Y}, {later:%H:%M} UTC"
    )
    assert current["title"]["text"] == "Ceasefire: each party's position over time"


def test_a_recording_time_is_written_in_utc_with_seconds_only_when_it_has_them() -> None:
    from datetime import UTC, timezone

    from positions.chart import written_time

    kyiv = timezone(timedelta(hours=2))
    assert written_time(datetime(2025, 3, 13, 7, 43, tzinfo=kyiv)) == "13 March 2025, 05:43 UTC"
    assert written_time(datetime(2025, 3, 13, 0, 5, 9, tzinfo=UTC)) == "13 March 2025, 00:05:09 UTC"
    assert written_time(datetime(2025, 3, 13, 1, 0, tzinfo=kyiv)) == "12 March 2025, 23:00 UTC"


def test_a_line_that_changes_more_often_than_a_chart_can_show_is_drawn_at_equal_spans(
    tmp_path: Path,
) -> None:
    """A thinned chart of a long record draws each party's line as the position it held at
    the end of equal spans of days (at most ``vertices`` of them), so that the line stays a
    line: each vertex is the position in force on its day, and the note says how it is
    drawn."""
    from benchmarks.generate import generate

    made = generate(800, tmp_path / "gen")
    app = PositionsApplication.open(f"sqlite:///{tmp_path / 'store.db'}", create=True)
    app.import_files(made.files)
    with app.get_tables("synthetic", None) as tables:
        every = timeline_data(tables, "issue-00", most=40)
        sampled = timeline_data(tables, "issue-00", most=40, vertices=6)
        series = tables.series("issue-00")
    assert every.note is not None and "every change of position" in every.note
    assert sampled.note is not None and re.search(r"the position held every \d+ days", sampled.note)
    assert sampled.points["statement_id"].to_list() == every.points["statement_id"].to_list()
    changing = 0
    for party in sampled.parties:
        line = sampled.steps.filter(pl.col("party") == party).sort("at")
        drawn = line.head(line.height - 1)  # the last vertex closes the line at the end
        assert drawn.height <= 6 + 1
        changing += every.steps.filter(pl.col("party") == party).height > 8
        for at, position in zip(drawn["at"].to_list(), drawn["position"].to_list(), strict=True):
            assert position == series[party].at(at.date().toordinal()), (party, at)
    assert changing  # some line had more changes than the six spans show
