"""Proposals known only from another party's account (`reported_by`, R7 and R9): the report
is the reporting party's claim about the proposer, never the proposer's position or verdict,
until the proposer accepts it, from that day. On SQLite and PostgreSQL, through the CLI."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import run_cli
from tests.helpers import cli_json as rows

REPORTED = """\
negotiation: ukraine-2025
proposals:
  - id: russia-energy-truce
    title: A truce on strikes at energy plants
    issue: ceasefire
    by: russia
    reported_by: us
    on: 2025-03-14
    position: temporary_ceasefire
    terms: {scope: energy infrastructure}
    quote: Russia offered a truce on energy strikes, a US official said.
    sources: [https://example.org/reported]
"""

CONFIRMED = """\
statements:
  - id: peskov-confirms-energy-truce
    on: 2025-03-16
    by: peskov
    proposal: russia-energy-truce
    verdict: accept
    quote: We did offer a pause in strikes on energy plants.
    sources: [https://example.org/confirmed]
"""


def _ceasefire(url: str, as_of: str) -> list[tuple[Any, ...]]:
    found = rows(
        url, "stance", "--party", "russia", "--issue", "ceasefire", "--claims", "--as-of", as_of
    )
    return [(r["claimed_by"], r["position"], r["terms"], r["statement_id"]) for r in found]


def _verdicts(url: str, as_of: str) -> list[tuple[Any, ...]]:
    found = rows(url, "proposals", "--claims", "--as-of", as_of)
    return [
        (r["party"], r["claimed_by"], r["verdict"], r["statement_id"], r["reported_by"])
        for r in found
        if r["proposal"] == "russia-energy-truce"
    ]


def test_a_reported_proposal_is_the_reporters_claim_until_the_proposer_accepts_it(
    seeded_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "reported.yaml"
    path.write_text(REPORTED, encoding="utf-8")
    imported = run_cli("--store", seeded_url, "import", str(path))
    assert (imported.code, imported.err) == (0, "")
    own = ("settlement_first", None, "peskov-not-a-rejection")
    claimed = ("temporary_ceasefire", {"scope": "energy infrastructure"}, "russia-energy-truce")
    assert _ceasefire(seeded_url, "2025-03-14") == [(None, *own), ("us", *claimed)]
    assert _verdicts(seeded_url, "2025-03-14") == [
        ("russia", None, None, None, "us"),
        ("russia", "us", "accept", "russia-energy-truce", "us"),
        ("ukraine", None, None, None, "us"),
        ("us", None, None, None, "us"),
    ]
    cell = next(
        r
        for r in rows(seeded_url, "compare", "--as-of", "2025-03-14")
        if (r["party"], r["issue"]) == ("russia", "ceasefire")
    )
    assert cell["cell"] == "settlement_first; temporary_ceasefire (claimed by us)"

    path.write_text(REPORTED + CONFIRMED, encoding="utf-8")
    confirmed = run_cli("--store", seeded_url, "import", str(path))
    assert (confirmed.code, confirmed.err) == (0, "")
    assert "moved: russia on ceasefire: settlement_first → temporary_ceasefire" in confirmed.out
    assert _ceasefire(seeded_url, "2025-03-15") == [(None, *own), ("us", *claimed)]
    from_then = (
        "temporary_ceasefire",
        {"scope": "energy infrastructure"},
        "peskov-confirms-energy-truce",
    )
    assert _ceasefire(seeded_url, "2025-03-16") == [(None, *from_then), ("us", *claimed)]
    explained = rows(seeded_url, "explain", "russia", "ceasefire", "--as-of", "2025-03-16")
    last = next(r for r in explained if r["statement_id"] == "peskov-confirms-energy-truce")
    assert (last["effect"], last["rule"]) == (
        "sets the stance: accepting 'russia-energy-truce', known until then from another "
        "party's account, states its position",
        "R5, R7",
    )
    assert _verdicts(seeded_url, "2025-03-16")[:2] == [
        ("russia", None, "accept", "peskov-confirms-energy-truce", "us"),
        ("russia", "us", "accept", "russia-energy-truce", "us"),
    ]


def test_a_proposers_statement_with_its_own_position_keeps_it(
    seeded_url: str, tmp_path: Path
) -> None:
    """Only a bare acceptance takes the proposal's position: a statement that gives its own
    position states that one (R8: a verdict does not set a position)."""
    path = tmp_path / "reported.yaml"
    path.write_text(
        REPORTED
        + CONFIRMED.replace(
            "    verdict: accept\n",
            "    verdict: accept\n    issue: ceasefire\n    position: conditional_ceasefire\n",
        ),
        encoding="utf-8",
    )
    assert run_cli("--store", seeded_url, "import", str(path)).code == 0
    assert _ceasefire(seeded_url, "2025-03-16")[0] == (
        None,
        "conditional_ceasefire",
        None,
        "peskov-confirms-energy-truce",
    )


@pytest.mark.parametrize(
    ("reporter", "message"),
    [
        (
            "russia",
            "'reported_by' names the party whose account is all that is known of the proposal, "
            "not its proposer ('russia'): drop it for a proposal its proposer tabled",
        ),
        ("usa", "unknown party 'usa' (known: russia, ukraine, us): did you mean 'us'?"),
    ],
    ids=["the-proposer", "unknown"],
)
def test_a_proposal_reported_by_its_proposer_or_by_no_party_is_refused(
    seeded_url: str, tmp_path: Path, reporter: str, message: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        REPORTED.replace("reported_by: us", f"reported_by: {reporter}"), encoding="utf-8"
    )
    before = rows(seeded_url, "proposals")
    result = run_cli("--store", seeded_url, "import", str(path))
    assert (result.code, result.out) == (2, "")
    [line] = result.err.splitlines()
    assert line == f"Error: {path}:7: {message}"
    assert rows(seeded_url, "proposals") == before


def test_the_report_and_the_web_app_name_who_reported_a_proposal(
    seeded_url: str, tmp_path: Path
) -> None:
    from starlette.testclient import TestClient

    from positions.application import PositionsApplication
    from positions.web import create_app

    path = tmp_path / "reported.yaml"
    path.write_text(REPORTED, encoding="utf-8")
    assert run_cli("--store", seeded_url, "import", str(path)).code == 0
    out = tmp_path / "report.html"
    assert run_cli("--store", seeded_url, "report", "--out", str(out)).code == 0
    page = out.read_text(encoding="utf-8")
    rows_of_truce = [r for r in page.split("<tr") if "A truce on strikes at energy plants" in r]
    assert rows_of_truce
    assert all(r.count("United States") >= 1 for r in rows_of_truce)
    assert "reported by" in page.split("A truce on strikes at energy plants")[0].lower()
    with TestClient(create_app(PositionsApplication.open(seeded_url))) as client:
        page = client.get("/proposals").text
    assert "Russia (reported by United States)" in page
