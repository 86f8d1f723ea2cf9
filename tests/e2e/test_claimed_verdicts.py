"""Claims about a verdict ("Putin agreed to the ceasefire"): `proposals --claims` lists them
below the party's own verdict, marked ``claimed_by``; a denial by the party ends the claim and a
clarification by the claimant replaces it, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.conftest import run_cli
from tests.helpers import cli_json

CLAIM = """\
negotiation: ukraine-2025
statements:
  - id: us-says-putin-agreed
    on: 2025-03-14
    by: us
    about: russia
    proposal: us-30-day-ceasefire
    verdict: accept
    attribution: claim
    quote: Putin agreed to the ceasefire.
    sources: [https://example.org/claim]
"""

DENIAL = """\
  - id: peskov-denies-agreeing
    on: 2025-03-16
    by: peskov
    retracts: us-says-putin-agreed
    quote: No such agreement was given.
    sources: [https://example.org/denial]
"""

CLARIFIED = """\
  - id: us-says-putin-hesitates
    on: 2025-03-15
    by: us
    clarifies: us-says-putin-agreed
    verdict: accept_with_conditions
    proposal: us-30-day-ceasefire
    conditions: [a halt to Western arms deliveries]
    quote: Putin agreed, with conditions.
    sources: [https://example.org/clarified]
"""


def verdicts(url: str, *options: str) -> list[tuple[Any, ...]]:
    found = cli_json(url, "proposals", *options)
    return [(r["party"], r["claimed_by"], r["verdict"], r["statement_id"]) for r in found]


def test_a_claimed_verdict_is_listed_with_claims_and_ended_by_the_partys_denial(
    seeded_url: str, tmp_path: Path
) -> None:
    claim = tmp_path / "claim.yaml"
    claim.write_text(CLAIM + DENIAL, encoding="utf-8")
    assert run_cli("--store", seeded_url, "import", str(claim)).code == 0
    own = [
        ("russia", None, "undecided", "peskov-not-a-rejection"),
        ("ukraine", None, "accept", "ukraine-accepts-30-day-ceasefire"),
        ("us", None, "accept", "us-30-day-ceasefire"),
    ]
    assert verdicts(seeded_url, "--as-of", "2025-03-15") == own  # no claim without --claims
    assert verdicts(seeded_url, "--as-of", "2025-03-15", "--claims") == [
        own[0],
        ("russia", "us", "accept", "us-says-putin-agreed"),
        *own[1:],
    ]
    assert verdicts(seeded_url, "--as-of", "2025-03-16", "--claims") == own  # denied
    assert verdicts(seeded_url, "--as-of", "2025-03-13", "--claims") == own  # not yet said
    table = run_cli("--store", seeded_url, "proposals", "--claims", "--as-of", "2025-03-15")
    assert "claimed_by" in table.out and "us-says-putin-agreed" in table.out


def test_the_claimants_clarification_replaces_its_claimed_verdict(
    seeded_url: str, tmp_path: Path
) -> None:
    claim = tmp_path / "claim.yaml"
    claim.write_text(CLAIM + CLARIFIED, encoding="utf-8")
    assert run_cli("--store", seeded_url, "import", str(claim)).code == 0
    rows = json.loads(
        run_cli(
            "--store", seeded_url, "proposals", "--claims", "--party", "russia", "--format", "json"
        ).out
    )
    assert [(r["claimed_by"], r["verdict"], r["conditions"], r["statement_id"]) for r in rows] == [
        (None, "undecided", None, "peskov-not-a-rejection"),
        (
            "us",
            "accept_with_conditions",
            "a halt to Western arms deliveries",
            "us-says-putin-hesitates",
        ),
    ]


def test_the_web_apps_proposals_page_marks_a_claimed_verdict(seeded: str, tmp_path: Path) -> None:
    from starlette.testclient import TestClient

    from positions.application import PositionsApplication
    from positions.web import create_app

    claim = tmp_path / "claim.yaml"
    claim.write_text(CLAIM, encoding="utf-8")
    assert run_cli("--store", seeded, "import", str(claim)).code == 0
    with TestClient(create_app(PositionsApplication.open(seeded))) as client:
        page = client.get("/proposals?as_of=2025-03-15")
    assert page.status_code == 200
    assert "Russia (claimed by United States)" in page.text
    assert "Putin agreed to the ceasefire." in page.text
