"""The report and timeline commands through the real entry point, and the report's content."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest

from positions.application import PositionsApplication
from positions.projections import Analysis, Query
from positions.report import build_report, report_context
from tests.conftest import SEED, run_cli
from tests.helpers import import_all, memory_app


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> str:
    store = f"sqlite:///{tmp_path_factory.mktemp('report') / 'store.db'}"
    assert run_cli("--store", store, "import", str(SEED)).code == 0
    return store


@pytest.fixture(scope="module")
def query() -> Query:
    app = memory_app()
    import_all(app, [SEED])
    return Analysis(app.get_record(app.resolve_negotiation(None)))


@pytest.mark.parametrize(
    ("name", "start"),
    [("t.svg", b"<svg"), ("t.png", b"\x89PNG"), ("t.html", b"<!DOCTYPE html>")],
)
def test_timeline_writes_the_picture_its_extension_names(
    seeded: str, tmp_path: Path, name: str, start: bytes
) -> None:
    out = tmp_path / name
    result = run_cli("--store", seeded, "timeline", "--issue", "ceasefire", "--out", str(out))
    assert (result.code, result.out, result.err) == (0, f"Wrote {out}.\n", "")
    assert out.read_bytes().lstrip()[: len(start)].lower() == start.lower()


def test_timeline_without_an_issue_draws_every_issue(seeded: str, tmp_path: Path) -> None:
    out = tmp_path / "all.svg"
    assert run_cli("--store", seeded, "timeline", "--out", str(out)).code == 0
    svg = out.read_text(encoding="utf-8")
    for title in ("Ceasefire: each party", "Foreign troops: each party", "NATO membership: each"):
        assert title in svg


def test_timeline_draws_only_the_latest_points_asked_for_and_says_so(
    seeded: str, tmp_path: Path
) -> None:
    def drawn(*points: str) -> tuple[list[str], str]:
        out = tmp_path / "t.html"
        result = run_cli(
            "--store", seeded, "timeline", "--issue", "ceasefire", *points, "--out", str(out)
        )
        assert result.code == 0, result.err
        page = out.read_text(encoding="utf-8")
        start = page.index("const spec = ") + len("const spec = ")
        spec, _ = json.JSONDecoder().raw_decode(page, start)
        shown = next(rows for name, rows in spec["datasets"].items() if name.endswith("/points"))
        return [row["statement_id"] for row in shown], json.dumps(spec["title"])

    every, title = drawn("--points", "all")
    assert len(every) > 2 and "Points: the latest" not in title
    assert drawn() == (every, title)  # the default, 300, draws the seed's few whole
    latest, title = drawn("--points", "2")
    assert latest == every[-2:] and "Points: the latest 2 statements" in title
    refused = run_cli("--store", seeded, "timeline", "--points", "0", "--out", "x.svg")
    assert (refused.code, refused.err) == (
        2,
        "Error: --points: '0' is not a positive whole number or 'all'\n",
    )


def test_report_heading_names_the_as_of_date_and_the_recording_time(
    seeded: str, tmp_path: Path
) -> None:
    out = tmp_path / "report.html"
    result = run_cli("--store", seeded, "report", "--as-of", "2025-03-12", "--out", str(out))
    assert (result.code, result.out, result.err) == (0, f"Wrote {out}.\n", "")
    html = out.read_text(encoding="utf-8")
    assert '<strong id="as-of"><time datetime="2025-03-12">12 March 2025</time></strong>' in html
    stamp = re.search(r'<strong id="known-at"><time datetime="([^"]+)">([^<]+)</time>', html)
    assert stamp and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", stamp.group(1))
    assert re.fullmatch(r"\d{1,2} [A-Z][a-z]+ \d{4}, \d\d:\d\d UTC", stamp.group(2))
    assert "<title>Russia–Ukraine–US ceasefire talks, March 2025: positions as of 12 March 2025"
    # as of Wednesday: the earlier foreign-troops position and the rejection
    assert "<td>no_nato_country_troops</td>" in html
    assert "<td>reject</td>" in html and "<td>undecided</td>" not in html
    assert html.count("<svg") == 3


def test_the_report_holds_every_section_with_sources(query: Query) -> None:
    html = build_report(query)
    for section in ("compare", "proposals", "timelines", "histories", "claims", "developments"):
        assert f'<section id="{section}">' in html
    assert '<strong id="as-of">the latest statement</strong>' in html
    assert "<td>witkoff-arrives-in-moscow</td>" in html
    assert "<li>CNN, citing a source familiar with the situation (13 March 2025)</li>" in html
    # names for ids: parties, issues, proposals; dates as a reader writes them
    assert "<th>Russia</th><th>Ukraine</th><th>United States</th>" in html
    assert "<td>NATO membership</td>" in html and "<td>nato</td>" not in html
    assert "<td>30-day ceasefire covering the entire front line</td>" in html
    assert "<td>before 11 March 2025</td>" in html
    assert "<td>clarified by peskov-not-a-rejection</td>" in html
    assert "http" not in html.replace("http-equiv", "").replace("http://www.w3.org", "")


def test_known_at_is_the_latest_recording_time(seeded: str) -> None:
    app = PositionsApplication.open(seeded)
    try:
        negotiation = app.resolve_negotiation(None)
        record = app.get_record(negotiation)
        latest = max(record.recorded_at.values())
        assert Query(record).recorded_until() == latest
        with app.get_tables(negotiation, None) as tables:
            assert tables.recorded_until() == latest
    finally:
        app.close()


@pytest.mark.parametrize("as_of", [None, date(2025, 3, 12)])
def test_the_report_from_the_step_tables_is_the_report_from_the_record(
    seeded: str, as_of: date | None
) -> None:
    app = PositionsApplication.open(seeded)
    try:
        negotiation = app.resolve_negotiation(None)
        with app.get_tables(negotiation, None) as tables:
            from_steps = report_context(tables, as_of)
        from_record = report_context(Analysis(app.get_record(negotiation)), as_of)
    finally:
        app.close()
    assert from_steps["parties"] and from_steps["developments"]
    assert bool(from_steps["claims"]) is (as_of is None)  # the claim is made on 13 March
    assert any(row["links"] for party in from_steps["parties"] for row in party["rows"])
    assert from_steps == from_record


def test_every_user_string_is_escaped(tmp_path: Path) -> None:
    text = SEED.read_text(encoding="utf-8")
    hostile = text.replace(
        "title: Russia–Ukraine–US ceasefire talks, March 2025",
        'title: "<b>Talks</b> & <i>more</i>"',
    ).replace(
        "- {outlet: CNN, published: 2025-03-13}",
        '- {outlet: "<img src=x>", url: "https://example.org/a?b=1&c=<2>", published: 2025-03-13}',
        1,
    )
    path = tmp_path / "hostile.yaml"
    path.write_text(hostile, encoding="utf-8")
    app = memory_app()
    import_all(app, [path])
    html = build_report(Analysis(app.get_record(app.resolve_negotiation(None))))
    assert (
        "<b>Talks</b>" not in html
        and "&lt;b&gt;Talks&lt;/b&gt; &amp; &lt;i&gt;more&lt;/i&gt;" in html
    )
    assert "<img" not in html
    assert 'href="https://example.org/a?b=1&amp;c=&lt;2&gt;"' in html


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["timeline", "--out", "{tmp}/chart.jpg"],
            "Error: --out: 'chart.jpg' must end in .svg, .png or .html\n",
        ),
        (
            ["timeline", "--issue", "grain", "--out", "{tmp}/chart.svg"],
            "Error: unknown issue 'grain' (known: ceasefire, foreign_troops, nato)\n",
        ),
        (
            ["timeline", "--as-of", "13/03/2025", "--out", "{tmp}/chart.svg"],
            "Error: --as-of: '13/03/2025' is not a date (expected YYYY-MM-DD)\n",
        ),
        (
            ["timeline", "--out", "{tmp}/no/such/chart.svg"],
            "Error: --out: cannot write {tmp}/no/such/chart.svg: no directory {tmp}/no/such\n",
        ),
        (
            ["report", "--out", "{tmp}/report.pdf"],
            "Error: --out: 'report.pdf' must end in .html (or be -, the standard output)\n",
        ),
        (
            ["report", "--out", "{tmp}/missing/report.html"],
            "Error: --out: cannot write {tmp}/missing/report.html: no directory {tmp}/missing\n",
        ),
        (
            ["report", "--out", "{tmp}"],
            "Error: Invalid value for '--out': File '{tmp}' is a directory. "
            "(see 'positions report --help')\n",
        ),
        (
            ["report"],
            "Error: Missing option '--out'. (see 'positions report --help')\n",
        ),
    ],
)
def test_errors_are_one_line_exit_2_and_write_nothing(
    seeded: str, tmp_path: Path, args: list[str], message: str
) -> None:
    result = run_cli("--store", seeded, *(a.format(tmp=tmp_path) for a in args))
    assert (result.code, result.out, result.err) == (2, "", message.format(tmp=tmp_path))
    assert list(tmp_path.iterdir()) == []


def test_shell_completion_prints_a_script_and_completes_commands() -> None:
    script = run_cli(env={"_POSITIONS_COMPLETE": "bash_source"})
    assert script.code == 0
    assert "complete -o nosort -F _positions_completion positions" in script.out
    completed = run_cli(
        env={
            "_POSITIONS_COMPLETE": "bash_complete",
            "COMP_WORDS": "positions tim",
            "COMP_CWORD": "1",
        }
    )
    assert completed.out.splitlines() == ["plain,timeline"]


def test_report_known_at_shows_the_record_as_it_stood_then(seeded: str, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    result = run_cli(
        "--store", seeded, "report", "--known-at", "2030-01-01T00:00:00Z", "--out", str(out)
    )
    assert (result.code, result.err) == (0, "")
    html = out.read_text(encoding="utf-8")
    assert (
        '<strong id="known-at"><time datetime="2030-01-01T00:00:00+00:00">'
        "1 January 2030, 00:00 UTC</time></strong>"
    ) in html
    early = run_cli("--store", seeded, "report", "--known-at", "2000-01-01", "--out", str(out))
    assert (early.code, early.err) == (
        2,
        "Error: negotiation 'ukraine-2025' was not yet recorded at 2000-01-01T23:59:59.999999+00:00\n",
    )


@pytest.fixture(scope="module")
def long_record(tmp_path_factory: pytest.TempPathFactory) -> PositionsApplication:
    """A generated record of 1,500 statements: more than a report lists or draws."""
    from benchmarks.generate import generate

    folder = tmp_path_factory.mktemp("long")
    made = generate(1_500, folder)
    app = PositionsApplication.open(f"sqlite:///{folder / 'store.db'}", create=True)
    app.import_files(made.files)
    return app


def test_a_long_record_lists_the_latest_statements_of_each_party_and_says_so(
    long_record: PositionsApplication, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("positions.report.POINTS", 20)
    with long_record.get_tables("synthetic", None) as tables:
        context = report_context(tables, None, recent=7)
        every = report_context(tables, None, recent=None)
        history = tables.history(party="party-00").to_dicts()
    first = context["parties"][0]
    assert first["earlier"] and len(first["rows"]) == 7
    assert [r["statement_id"] for r in first["rows"]] == [r["statement_id"] for r in history[-7:]]
    whole = every["parties"][0]
    assert not whole["earlier"] and len(whole["rows"]) == len(history)
    for timeline in context["timelines"]:
        assert "the latest 20 statements" in timeline["svg"]
    assert "the latest" not in every["timelines"][0]["svg"]


def test_recent_takes_a_positive_number_or_all(seeded: str, tmp_path: Path) -> None:
    for bad in ("0", "-3", "some"):
        refused = run_cli(
            "--store", seeded, "report", "--recent", bad, "--out", str(tmp_path / "r.html")
        )
        assert refused.code == 2 and refused.err.startswith("Error: --recent: ")
        assert not (tmp_path / "r.html").exists()
    assert (
        run_cli(
            "--store", seeded, "report", "--recent", "all", "--out", str(tmp_path / "r.html")
        ).code
        == 0
    )


def test_the_report_opens_with_what_changed_since_the_day_before(
    seeded: str, tmp_path: Path
) -> None:
    out = tmp_path / "report.html"
    result = run_cli("--store", seeded, "report", "--as-of", "2025-03-13", "--out", str(out))
    assert (result.code, result.err) == (0, "")
    html = out.read_text(encoding="utf-8")
    lede = html[html.index('<section id="changes">') : html.index('<section id="compare">')]
    assert "<p>From 12 March 2025 to 13 March 2025:</p>" in lede
    assert re.findall(r"<li>(.*?)</li>", lede) == [
        "<strong>Russia</strong> on Foreign troops: no_nato_country_troops → no_foreign_troops"
        " (up)",
        "<strong>Russia</strong> on NATO membership: no position → off_the_table (new)",
    ]
    longer = run_cli(
        "--store", seeded, "report", "--as-of", "2025-03-13", "--since", "2025-03-01",
        "--out", str(out),
    )  # fmt: skip
    assert longer.code == 0
    html = out.read_text(encoding="utf-8")
    lede = html[html.index('<section id="changes">') : html.index('<section id="compare">')]
    assert "<p>From 1 March 2025 to 13 March 2025:</p>" in lede
    assert len(re.findall(r"<li>", lede)) > 2
    wrong = run_cli(
        "--store", seeded, "report", "--as-of", "2025-03-12", "--since", "2025-03-13",
        "--out", str(out),
    )  # fmt: skip
    assert (wrong.code, wrong.out) == (2, "")
    assert wrong.err == "Error: --since 2025-03-13 is after the report's day 2025-03-12\n"


def test_a_printed_report_keeps_headings_with_what_follows(query: Query) -> None:
    """The print rules: no heading alone at the foot of a page, no table row or chart cut
    across two, the table headings repeated on each page, no navigation links on paper.
    (Checked as rules in the page; a printed PDF is not laid out and measured here.)"""
    html = build_report(query)
    rules = html[html.index("@media print") : html.index("</style>")]
    assert "h2, h3 { break-after: avoid-page; page-break-after: avoid; }" in rules
    assert "tr, figure.chart, ul.changes li { break-inside: avoid-page;" in rules
    assert "thead { display: table-header-group; }" in rules
    assert "nav { display: none; }" in rules


@pytest.mark.parametrize(
    "control", ["\x1b", "\x0b", "\x7f", "\x85"], ids=["esc", "vt", "del", "nel"]
)
def test_a_control_character_in_a_party_name_is_drawn_escaped(tmp_path: Path, control: str) -> None:
    """A party's name goes into the legend through a Vega expression, which the escaping of
    the specification never reached: ESC or VT there made the renderer panic (exit 134), DEL
    or NEL reached the SVG raw."""
    import xml.dom.minidom

    text = SEED.read_text(encoding="utf-8").replace(
        "{id: russia, name: Russia}", f'{{id: russia, name: "Rus\\u{ord(control):04x}sia"}}'
    )
    assert text != SEED.read_text(encoding="utf-8")
    scenario = tmp_path / "named.yaml"
    scenario.write_text(text, encoding="utf-8")
    store = f"sqlite:///{tmp_path / 'store.db'}"
    assert run_cli("--store", store, "import", str(scenario)).code == 0
    for name in ("t.svg", "t.png", "r.html"):
        command = "report" if name.endswith(".html") else "timeline"
        result = run_cli("--store", store, command, "--out", str(tmp_path / name))
        assert (result.code, result.err) == (0, ""), result.err
    drawn = (tmp_path / "t.svg").read_text(encoding="utf-8")
    xml.dom.minidom.parseString(drawn)  # well formed
    assert control not in drawn
    assert f"Rus\\u{ord(control):04x}sia" in drawn
