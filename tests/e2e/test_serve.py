"""End to end: `positions serve`, the local read-only web app, through its ASGI app (Starlette's
test client, a real store) and as a real process listening on the loopback address."""

from __future__ import annotations

import html as html_text
import os
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from positions.application import PositionsApplication
from positions.codebook import Correction
from positions.web import HEADERS, create_app
from tests.conftest import ROOT, SEED, run_cli
from tests.helpers import one_statement

NOW = datetime(2030, 1, 1, tzinfo=UTC)


class Links(HTMLParser):
    """Every link of a page and the text of every table cell, by its data attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.cells: dict[tuple[str, str], str] = {}
        self._cell: tuple[str, str] | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "a" and found.get("href"):
            self.links.append(str(found["href"]))
        if tag == "td" and found.get("data-party"):
            self._cell, self._text = (str(found["data-party"]), str(found["data-issue"])), []

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._cell is not None:
            self.cells[self._cell] = " ".join("".join(self._text).split())
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._text.append(data)


def parsed(html: str) -> Links:
    links = Links()
    links.feed(html)
    return links


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The seed in a SQLite store, and one correction recorded in 2030."""
    url = f"sqlite:///{tmp_path_factory.mktemp('serve') / 'store.db'}"
    assert run_cli("--store", url, "import", str(SEED)).code == 0
    app = PositionsApplication.open(url)
    fix = Correction(
        statement="zakharova-under-any-flag", reason="r", position="no_nato_country_troops"
    )
    app.correct(app.resolve_negotiation(None), fix, now=NOW)
    return url


@pytest.fixture(scope="module")
def client(store: str) -> Iterator[TestClient]:
    with TestClient(create_app(PositionsApplication.open(store))) as found:
        yield found


def test_the_matrix_answers_for_the_date_and_recording_time_in_its_address(
    client: TestClient,
) -> None:
    def cell(query: str) -> str:
        page = client.get(f"/compare?{query}")
        assert page.status_code == 200
        return parsed(page.text).cells[("russia", "foreign_troops")]

    assert cell("as_of=2025-03-12&known_at=2029-12-31") == "no_nato_country_troops"
    assert cell("as_of=2025-03-13&known_at=2029-12-31") == "no_foreign_troops"
    assert cell("as_of=2025-03-13") == "no_nato_country_troops"  # the correction of 2030
    claimed = parsed(client.get("/compare?as_of=2025-03-13").text).cells[("us", "nato")]
    assert "claimed by Russia" in claimed


def test_every_cell_links_to_the_statements_behind_it(client: TestClient) -> None:
    page = parsed(client.get("/compare?as_of=2025-03-13&known_at=2029-12-31").text)
    explained = [link for link in page.links if link.startswith("/explain?")]
    assert len(explained) == len(page.cells) == 9
    for link in explained:
        assert "as_of=2025-03-13" in link and "known_at=2029-12-31" in link
    russia = next(link for link in explained if "party=russia" in link and "foreign_troops" in link)
    shown = client.get(russia)
    assert shown.status_code == 200
    assert 'id="zakharova-under-any-flag"' in shown.text
    assert "absolutely unacceptable to deploy units" in shown.text
    assert "<li>CNN (13 March 2025)</li>" in shown.text  # the quote's source


def test_the_history_is_filtered_by_its_address(client: TestClient) -> None:
    everything = client.get("/history").text
    russia = client.get("/history?party=russia").text
    by_zakharova = client.get("/history?speaker=zakharova").text
    day = client.get("/history?since=2025-03-13&until=2025-03-13").text
    rows = {
        name: int(re.search(r"(\d+) rows?\.", page).group(1))  # type: ignore[union-attr]
        for name, page in (
            ("all", everything),
            ("russia", russia),
            ("zakharova", by_zakharova),
            ("day", day),
        )
    }
    assert rows["all"] > rows["russia"] > rows["zakharova"] >= 1
    assert 0 < rows["day"] < rows["all"]
    assert "13 March 2025" in day and "12 March 2025" not in day


def column(html: str, table: str, index: int) -> list[str]:
    """The text of one column of a page's table (cells in order)."""
    body = html.split(f'<table class="{table}">', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", body.split("<tbody>", 1)[1], re.S)
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)[index] for row in rows]
    return [html_text.unescape(re.sub(r"<[^>]+>", "", cell)) for cell in cells]


def test_the_history_and_proposals_sort_by_a_column_and_search_the_quotes(
    client: TestClient,
) -> None:
    page = client.get("/history?party=russia&sort=speaker")
    assert page.status_code == 200
    speakers = column(page.text, "history", 3)
    named = [s for s in speakers if s]
    assert named == sorted(named, key=str.casefold) and len(set(named)) > 1
    assert speakers[len(named) :] == [""] * (len(speakers) - len(named))  # no speaker: last
    assert 'aria-sort="ascending"' in page.text
    assert "/history?party=russia&amp;sort=-speaker" in page.text  # its heading sorts back
    assert '<input type="hidden" name="sort" value="speaker">' in page.text  # kept by filters
    back = column(client.get("/history?party=russia&sort=-speaker").text, "history", 3)
    assert [s for s in back if s] == named[::-1]
    verdicts = column(client.get("/proposals?sort=-verdict").text, "proposals", 4)
    assert [v for v in verdicts if v] == sorted((v for v in verdicts if v), reverse=True)
    found = client.get("/history?search=NATO+americans")
    assert (
        column(found.text, "history", 8)
        == [
            "the Americans and we think that there can be no talk about NATO in the context of "
            "the Ukrainian settlement and in the context of Ukraine's future."
        ]
        * 2
    )


def test_a_bad_address_gets_its_one_line_reason_and_nothing_else(client: TestClient) -> None:
    for query, status, reason in (
        ("/compare?as_of=2025-13-01", 400, "as_of: &#39;2025-13-01&#39; is not a date"),
        ("/compare?known_at=soon", 400, "known_at: &#39;soon&#39; is not a timestamp"),
        ("/explain?party=nobody&issue=nato", 404, "unknown party &#39;nobody&#39;"),
        ("/history?asof=2025-03-12", 400, "unknown parameter &#39;asof&#39;"),
        ("/explain?party=russia", 400, "explain needs a party and an issue"),
        ("/history?sort=mood", 400, "unknown sort column &#39;mood&#39; (known: date, party,"),
        ("/history?search=%2A%2A", 400, "search &#39;**&#39; holds no word to look for"),
    ):
        page = client.get(query)
        assert page.status_code == status, query
        assert re.search(r'<p id="error">([^<\n]*)</p>', page.text).group(1).startswith(reason)  # type: ignore[union-attr]
    assert client.post("/compare").status_code == 405


def test_every_page_forbids_scripts_frames_and_other_origins(client: TestClient) -> None:
    for path in (
        "/compare",
        "/explain?party=us&issue=nato",
        "/history",
        "/proposals",
        "/timeline?issue=ceasefire",
        "/compare?as_of=x",
    ):
        page = client.get(path)
        for name, value in HEADERS.items():
            assert page.headers[name] == value, (path, name)
        assert "<script" not in page.text, path
    assert client.get("/", follow_redirects=False).headers["location"] == "/compare"


def test_a_quote_that_holds_markup_is_shown_as_text(tmp_path: Path) -> None:
    quote = 'We said </td><script>alert(1)</script> "no".'
    url = f"sqlite:///{tmp_path / 'store.db'}"
    assert (
        run_cli("--store", url, "import", str(one_statement(tmp_path / "s.yaml", quote=quote))).code
        == 0
    )
    with TestClient(create_app(PositionsApplication.open(url))) as client:
        page = client.get("/history").text
    assert "<script>" not in page
    assert "We said &lt;/td&gt;&lt;script&gt;alert(1)&lt;/script&gt; &#34;no&#34;." in page


@contextmanager
def serving(store: str, *args: str) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """`positions serve` in a real process on a free port: the process and its address."""
    env = {**os.environ, "NO_COLOR": "1"}
    env.pop("POSITIONS_STORE", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "positions", "--store", store, "serve", "--port", "0", *args],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )
    try:
        assert process.stderr is not None
        line = process.stderr.readline()
        found = re.match(r"Serving on (http://[^ ]+/) \(Ctrl-C to stop\)$", line.strip())
        assert found, line
        yield process, found.group(1)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            process.wait(timeout=30)
        if process.stderr is not None:
            process.stderr.close()


def test_serve_listens_on_the_loopback_address_and_stops_quietly_on_ctrl_c(store: str) -> None:
    with serving(store) as (process, address):
        assert address.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(address + "compare?as_of=2025-03-12") as answer:
            html = answer.read().decode("utf-8")
        assert parsed(html).cells[("russia", "foreign_troops")] == "no_nato_country_troops"
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(address + "compare?as_of=never")
        assert refused.value.code == 400
        refused.value.close()
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
        assert process.stderr is not None
        assert process.stderr.read() == "Stopped.\n"


def test_serve_on_a_busy_port_says_so_in_one_line(store: str) -> None:
    import socket

    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        result = run_cli("--store", store, "serve", "--port", str(port))
    assert result.code == 2
    assert re.fullmatch(rf"Error: cannot listen on 127\.0\.0\.1:{port} \([^\n]+\)\n", result.err)


def test_a_long_history_shows_its_latest_rows_and_says_so(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from positions import web

    whole = client.get("/history").text
    total = int(re.search(r"(\d+) rows\.", whole).group(1))  # type: ignore[union-attr]
    monkeypatch.setattr(web, "HISTORY_ROWS", 3)
    short = client.get("/history").text
    assert "The latest 3 rows; narrow the filters or the dates to see earlier ones." in short
    assert short.count("<tr") == 4 < total  # a heading and the three latest rows
    last = re.findall(r"<tr[^>]*><td>([^<]*)</td>", whole)[-3:]
    assert re.findall(r"<tr[^>]*><td>([^<]*)</td>", short) == last


def test_a_long_proposals_table_shows_its_first_rows_and_says_so(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from positions import web

    whole = client.get("/proposals?sort=party_name").text
    parties = column(whole, "proposals", 3)
    assert 'id="count"' not in whole and len(parties) == 3
    monkeypatch.setattr(web, "PROPOSAL_ROWS", 2)
    short = client.get("/proposals?sort=party_name").text
    assert "The first 2 of 3 rows; choose a party or an issue to see the others." in short
    assert column(short, "proposals", 3) == parties[:2]
    one = client.get("/proposals?party=russia").text
    assert column(one, "proposals", 3) == ["Russia"] and 'id="count"' not in one
    assert '<option value="russia" selected>Russia</option>' in one


def test_a_long_explanation_shows_its_latest_steps_and_the_one_in_force(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from positions import web

    monkeypatch.setattr(web, "EXPLAIN_ROWS", 1)
    # the US's cell on the ceasefire: its proposal sets the stance, a later remark leaves it
    us = client.get("/explain?party=us&issue=ceasefire").text
    assert column(us, "explain", 0) == ["1", "2"]
    assert "The latest 1 of 2 steps, and the one in force;" in us
    # Russia's: the latest step is the one in force
    russia = client.get("/explain?party=russia&issue=ceasefire").text
    assert column(russia, "explain", 0) == ["4"]
    assert "The latest 1 of 4 steps;" in russia
    monkeypatch.setattr(web, "EXPLAIN_ROWS", 300)
    assert 'id="count"' not in client.get("/explain?party=russia&issue=ceasefire").text
