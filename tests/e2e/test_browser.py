"""End to end: the report opened in headless Chromium, with no network.

Chromium is Debian's ``chromium`` package. When it is missing the setup installs it (as root,
with apt-get); when that cannot be done the tests skip with the reason, except in CI (``CI=true``)
where a missing browser fails them.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SEED, run_cli

pytestmark = pytest.mark.slow

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--enable-logging=stderr",
    "--v=0",
]
SCRIPT_QUOTE = "It's up to Russia now. <script>document.title='pwned'</script>"
NONCE = "positions-test"
# Appended to a copy of the report (the report itself runs no script): measures what was laid out.
MEASURE = f"""<script id="measure" nonce="{NONCE}">
(function () {{
  var charts = Array.prototype.map.call(document.querySelectorAll("figure.chart"), function (f) {{
    var svg = f.querySelector("svg"), box = svg ? svg.getBoundingClientRect() : null;
    return {{issue: f.dataset.issue, width: box ? box.width : 0, height: box ? box.height : 0}};
  }});
  var scripts = Array.prototype.filter.call(document.scripts, function (s) {{
    return s.id !== "measure";
  }}).length;
  var out = document.createElement("pre");
  out.id = "measured";
  out.textContent = JSON.stringify({{charts: charts, scripts: scripts, title: document.title}});
  document.body.appendChild(out);
}})();
</script>"""


def _install_chromium() -> str | None:
    """Install Debian's chromium when the machine allows it; the reason it cannot, else None."""
    if os.name != "posix" or os.geteuid() != 0:
        return "chromium is not installed and installing it needs root"
    if shutil.which("apt-get") is None:
        return "chromium is not installed and there is no apt-get to install it"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "chromium"]):
        done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["no message"])[-1]
            return f"chromium is not installed and {' '.join(command)} failed: {last}"
    return None


@pytest.fixture(scope="session")
def chromium() -> str:
    found = shutil.which("chromium")
    reason = None if found else _install_chromium()
    found = shutil.which("chromium")
    if found is None:
        message = reason or "chromium could not be installed"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message} (in CI the browser tests must run)")
        pytest.skip(message)
    return found


@dataclass(frozen=True)
class Page:
    dom: str
    console: list[str]
    screenshot: Path


def open_page(chromium: str, page: Path, workdir: Path, height: int = 2400) -> Page:
    """Load a file in a fresh headless Chromium: its DOM after scripts ran, its console
    messages, and a screenshot."""
    url = page.resolve().as_uri()
    dom = _run(chromium, workdir / "profile-dom", ["--dump-dom", url])
    shot = workdir / "screenshot.png"
    screenshot = _run(
        chromium,
        workdir / "profile-shot",
        [f"--screenshot={shot}", f"--window-size=1280,{height}", url],
    )
    console = [line for line in (dom.stderr + screenshot.stderr).splitlines() if ":CONSOLE" in line]
    return Page(dom.stdout, console, shot)


def _run(chromium: str, profile: Path, args: list[str]) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [chromium, *FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=90,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done


class Cells(HTMLParser):
    """The text of every cell of every table, by the table's class."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._table: str | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self._table = dict(attrs).get("class") or ""
            self.tables.setdefault(self._table, [])
        elif tag == "tr" and self._table is not None:
            self.tables[self._table].append([])
        elif tag == "td":
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._cell is not None and self._table is not None:
            self.tables[self._table][-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def non_blank_share(png: Path) -> float:
    """The share of pixels that differ from the page's background (its top-left pixel)."""
    from PIL import Image

    with Image.open(png) as image:
        data = image.convert("RGB").resize((image.width // 4, image.height // 4)).tobytes()
    pixels = [data[i : i + 3] for i in range(0, len(data), 3)]
    background = pixels[0]
    return sum(1 for p in pixels if p != background) / len(pixels)


@pytest.fixture(scope="module")
def report_page(chromium: str, tmp_path_factory: pytest.TempPathFactory) -> Page:
    workdir = tmp_path_factory.mktemp("browser")
    scenario = workdir / "seed.yaml"
    text = SEED.read_text(encoding="utf-8")
    assert "It's up to Russia now." in text
    scenario.write_text(text.replace("It's up to Russia now.", SCRIPT_QUOTE), encoding="utf-8")
    store = f"sqlite:///{workdir / 'store.db'}"
    assert run_cli("--store", store, "import", str(scenario)).code == 0
    report = workdir / "report.html"
    done = run_cli("--store", store, "report", "--out", str(report))
    assert done.code == 0, done.err
    html = report.read_text(encoding="utf-8")
    policy = "default-src 'none';"
    assert policy in html
    measured = workdir / "measured.html"
    measured.write_text(
        html.replace(policy, f"{policy} script-src 'nonce-{NONCE}';", 1).replace(
            "</body>", MEASURE + "\n</body>", 1
        ),
        encoding="utf-8",
    )
    return open_page(chromium, measured, workdir)


def _measured(page: Page) -> dict[str, object]:
    found = re.search(r'<pre id="measured">(.*?)</pre>', page.dom, re.S)
    assert found, "the measuring script did not run"
    raw = found.group(1).replace("&quot;", '"').replace("&lt;", "<").replace("&gt;", ">")
    return dict(json.loads(raw.replace("&amp;", "&")))


def test_the_report_opens_without_a_console_message(report_page: Page) -> None:
    assert report_page.console == []


def test_the_seed_tables_are_in_the_rendered_page(report_page: Page) -> None:
    cells = Cells()
    cells.feed(report_page.dom)
    compare = [row for row in cells.tables["compare"] if row]
    assert compare == [
        [
            "Ceasefire",
            "settlement_first",
            "temporary_ceasefire (duration_days: 30, scope: entire front line)",
            "temporary_ceasefire (duration_days: 30, scope: entire front line)",
        ],
        ["Foreign troops", "no_foreign_troops", "—", "noncommittal"],
        ["NATO membership", "off_the_table", "—", "—; off_the_table (claimed by Russia)"],
    ]
    plan = "30-day ceasefire covering the entire front line"
    verdicts = {(row[0], row[3]): row[4] for row in cells.tables["proposals"] if row}
    assert verdicts == {
        (plan, "Russia"): "undecided",
        (plan, "Ukraine"): "accept",
        (plan, "United States"): "accept",
    }
    claims = [row[:4] for row in cells.tables["claims"] if row]
    assert claims == [["United States", "NATO membership", "off_the_table", "Russia"]]
    developments = [row[1] for row in cells.tables["developments"] if row]
    assert developments == [
        "us-ukraine-talks-saudi-arabia",
        "ushakov-waltz-phone-call",
        "russia-says-sudzha-recaptured",
        "witkoff-arrives-in-moscow",
    ]


def test_each_timeline_is_laid_out_with_a_size(report_page: Page) -> None:
    charts = _measured(report_page)["charts"]
    assert isinstance(charts, list)
    assert [c["issue"] for c in charts] == ["ceasefire", "foreign_troops", "nato"]
    for chart in charts:
        assert chart["width"] > 300 and chart["height"] > 150, chart


def test_a_quote_with_a_script_tag_is_shown_as_text_and_never_runs(report_page: Page) -> None:
    measured = _measured(report_page)
    assert measured["scripts"] == 0
    assert measured["title"] != "pwned"
    cells = Cells()
    cells.feed(report_page.dom)
    quotes = [row[7] for row in cells.tables["history"] if len(row) > 7]
    assert any(quote.endswith(SCRIPT_QUOTE) for quote in quotes), quotes


def test_the_screenshot_is_not_blank(report_page: Page) -> None:
    assert non_blank_share(report_page.screenshot) > 0.03


def test_the_checks_see_console_errors_and_blank_pages(chromium: str, tmp_path: Path) -> None:
    # the harness itself: a console error is caught, a blank page is blank
    noisy = tmp_path / "noisy.html"
    noisy.write_text("<html><body><script>console.error('boom')</script></body></html>")
    page = open_page(chromium, noisy, tmp_path, height=600)
    assert page.console and all('"boom"' in line for line in page.console)
    assert non_blank_share(page.screenshot) == 0.0


def test_the_web_app_answers_its_controls_in_a_browser(chromium: str, tmp_path: Path) -> None:
    """`positions serve` in a real process, driven in Chromium by Playwright over HTTP: the
    matrix is laid out with a link in every cell, the date control changes it, a cell leads to
    the statements behind it, the history's speaker filter narrows it, and a quote holding a
    script stays text (no dialog opens, the page logs nothing: a Content-Security-Policy
    violation would)."""
    from playwright.sync_api import sync_playwright

    from tests.e2e.test_serve import serving
    from tests.helpers import one_statement

    store = f"sqlite:///{tmp_path / 'store.db'}"
    assert run_cli("--store", store, "import", str(SEED)).code == 0
    hostile = one_statement(tmp_path / "s.yaml", quote=SCRIPT_QUOTE)
    other = f"sqlite:///{tmp_path / 'other.db'}"
    assert run_cli("--store", other, "import", str(hostile)).code == 0
    cell = 'td[data-party="russia"][data-issue="foreign_troops"]'
    with (
        serving(store) as (_, address),
        serving(other) as (_, hostile_address),
        sync_playwright() as driver,
    ):
        browser = driver.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page()
        logged: list[str] = []
        dialogs: list[str] = []
        page.on("console", lambda message: logged.append(message.text))

        def dismissed(dialog: Any) -> None:
            dialogs.append(dialog.message)
            dialog.dismiss()

        page.on("dialog", dismissed)
        page.goto(f"{address}compare?as_of=2025-03-12")
        assert page.inner_text(cell) == "no_nato_country_troops"
        assert page.locator('td.cell a[href^="/explain?as_of=2025-03-12&"]').count() == 9
        page.fill('input[name="as_of"]', "2025-03-13")
        page.click("form.moment button")
        page.wait_for_url("**/compare?as_of=2025-03-13*")
        assert page.inner_text(cell) == "no_foreign_troops"
        page.click(f"{cell} a")
        page.wait_for_url("**/explain?*")
        assert "absolutely unacceptable to deploy units" in page.inner_text("table.explain")
        page.goto(f"{address}history")
        everything = page.locator("table.history tbody tr").count()
        page.select_option('select[name="speaker"]', "zakharova")
        page.click("form.filters button")
        page.wait_for_url("**/history?*speaker=zakharova*")
        speakers = page.locator("table.history tbody td:nth-child(4)").all_inner_texts()
        assert 0 < len(speakers) < everything
        assert set(speakers) == {"Maria Zakharova"}
        page.fill('input[name="search"]', "Absolutely unacceptable")
        page.click("form.filters button")
        page.wait_for_url("**/history?*search=Absolutely*")
        quotes = page.locator("table.history tbody td.quote").all_inner_texts()
        assert len(quotes) == 1
        assert "absolutely unacceptable to deploy units" in quotes[0]
        page.goto(f"{hostile_address}history")
        assert SCRIPT_QUOTE in page.inner_text("table.history")
        assert page.title() != "pwned"
        browser.close()
    assert logged == []
    assert dialogs == []
