"""Package proposals (`covers`, R7 and R8): tabling a package states the proposer's position on
each issue it covers; a verdict on it is on the whole package; `proposals` lists it once per
party with its issues. On SQLite and PostgreSQL, through the CLI."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.conftest import run_cli
from tests.helpers import cli_json as rows
from tests.helpers import copied_through_a_scenario, import_text

PACKAGE = """\
negotiation: ukraine-2025
proposals:
  - id: us-security-package
    title: A ceasefire with a European force
    by: us
    on: 2025-03-15
    covers:
      - {issue: ceasefire, position: conditional_ceasefire, terms: {days: 30}}
      - {issue: foreign_troops, position: european_contingent}
    quote: A truce and a European force, together.
    sources: [https://example.org/package]
statements:
  - id: peskov-rejects-package
    on: 2025-03-16
    by: peskov
    proposal: us-security-package
    verdict: reject
    quote: The package is unacceptable.
    sources: [https://example.org/rejected]
  - id: ukraine-accepts-the-force
    on: 2025-03-16
    by: ukraine
    proposal: us-security-package
    issue: foreign_troops
    verdict: accept
    quote: We welcome the force.
    sources: [https://example.org/accepted]
"""

REPORTED = """\
negotiation: ukraine-2025
proposals:
  - id: russia-package
    by: russia
    reported_by: us
    on: 2025-03-14
    covers:
      - {issue: ceasefire, position: temporary_ceasefire, terms: {scope: energy}}
      - {issue: nato, position: renounced}
    sources: [https://example.org/reported]
"""

CONFIRMS = """\
statements:
  - id: peskov-confirms-the-truce
    on: 2025-03-16
    by: peskov
    proposal: russia-package
    issue: ceasefire
    verdict: accept
    quote: We did offer a truce on energy strikes.
    sources: [https://example.org/confirmed]
"""


def _stance(url: str, party: str, as_of: str, claims: bool = False) -> dict[Any, tuple[Any, ...]]:
    asked = ["stance", "--party", party, "--as-of", as_of, *(["--claims"] if claims else [])]
    return {
        (r["issue"], r["claimed_by"]): (r["position"], r["terms"], r["statement_id"])
        for r in rows(url, *asked)
    }


def _proposal(url: str, proposal: str, *options: str) -> list[tuple[Any, ...]]:
    return [
        (r["issue"], r["party"], r["claimed_by"], r["verdict"], r["statement_id"])
        for r in rows(url, "proposals", *options)
        if r["proposal"] == proposal
    ]


def test_a_package_states_the_proposers_position_on_each_issue_and_takes_one_verdict(
    seeded_url: str, tmp_path: Path
) -> None:
    before = _stance(seeded_url, "us", "2025-03-14")
    out = import_text(seeded_url, tmp_path / "package.yaml", PACKAGE)
    assert "moved: us on foreign_troops: noncommittal → european_contingent" in out
    assert "moved: russia on us-security-package: — → reject (peskov-rejects-package)" in out

    assert _stance(seeded_url, "us", "2025-03-14") == before
    now = _stance(seeded_url, "us", "2025-03-15")
    assert now[("ceasefire", None)] == (
        "conditional_ceasefire",
        {"days": 30},
        "us-security-package",
    )
    assert now[("foreign_troops", None)] == (
        "european_contingent",
        None,
        "us-security-package",
    )
    assert now[("nato", None)] == before[("nato", None)]
    # verdicts give no position: Russia and Ukraine stand where they stood
    for party in ("russia", "ukraine"):
        assert _stance(seeded_url, party, "2025-03-16") == _stance(seeded_url, party, "2025-03-14")

    issues = "ceasefire, foreign_troops"
    assert _proposal(seeded_url, "us-security-package", "--as-of", "2025-03-16") == [
        (issues, "russia", None, "reject", "peskov-rejects-package"),
        (issues, "ukraine", None, "accept", "ukraine-accepts-the-force"),
        (issues, "us", None, "accept", "us-security-package"),
    ]
    assert _proposal(seeded_url, "us-security-package", "--as-of", "2025-03-14") == []
    on_troops = rows(seeded_url, "proposals", "--issue", "foreign_troops")
    assert {r["proposal"] for r in on_troops} == {"us-security-package"}
    on_ceasefire = rows(seeded_url, "proposals", "--issue", "ceasefire")
    assert {r["proposal"] for r in on_ceasefire} == {"us-30-day-ceasefire", "us-security-package"}

    explained = rows(seeded_url, "explain", "us", "foreign_troops", "--as-of", "2025-03-16")
    assert [(r["statement_id"], r["kind"], r["position"], r["rule"]) for r in explained] == [
        ("rubio-deterrent-on-the-ground", "position", "noncommittal", "R6"),
        ("us-security-package", "proposal", "european_contingent", "R5, R7"),
    ]
    history = rows(seeded_url, "history", "--party", "us", "--as-of", "2025-03-15")
    tablings = [(r["issue"], r["position"]) for r in history if r["kind"] == "proposal"]
    assert tablings[-2:] == [
        ("ceasefire", "conditional_ceasefire"),
        ("foreign_troops", "european_contingent"),
    ]


def test_a_package_known_from_another_account_is_confirmed_issue_by_issue(
    seeded_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "reported.yaml"
    own = _stance(seeded_url, "russia", "2025-03-16")
    import_text(seeded_url, path, REPORTED)
    claimed = _stance(seeded_url, "russia", "2025-03-16", claims=True)
    assert {k: v for k, v in claimed.items() if k[1] is None} == own
    assert claimed[("ceasefire", "us")] == (
        "temporary_ceasefire",
        {"scope": "energy"},
        "russia-package",
    )
    assert claimed[("nato", "us")] == ("renounced", None, "russia-package")

    import_text(seeded_url, path, REPORTED + CONFIRMS)
    confirmed = _stance(seeded_url, "russia", "2025-03-16")
    assert confirmed[("ceasefire", None)] == (
        "temporary_ceasefire",
        {"scope": "energy"},
        "peskov-confirms-the-truce",
    )
    assert confirmed[("nato", None)] == own[("nato", None)]  # confirmed on ceasefire alone
    assert _proposal(seeded_url, "russia-package", "--claims", "--as-of", "2025-03-16")[:2] == [
        ("ceasefire, nato", "russia", None, "accept", "peskov-confirms-the-truce"),
        ("ceasefire, nato", "russia", "us", "accept", "russia-package"),
    ]


def test_a_bare_acceptance_of_a_reported_package_gives_the_verdict_alone(
    seeded_url: str, tmp_path: Path
) -> None:
    own = _stance(seeded_url, "russia", "2025-03-16")
    bare = CONFIRMS.replace("    issue: ceasefire\n", "")
    import_text(seeded_url, tmp_path / "reported.yaml", REPORTED + bare)
    assert _stance(seeded_url, "russia", "2025-03-16") == own
    assert _proposal(seeded_url, "russia-package", "--as-of", "2025-03-16")[0] == (
        "ceasefire, nato",
        "russia",
        None,
        "accept",
        "peskov-confirms-the-truce",
    )


def test_the_issues_of_a_recorded_package_cannot_change(seeded_url: str, tmp_path: Path) -> None:
    path = tmp_path / "package.yaml"
    import_text(seeded_url, path, PACKAGE)
    before = rows(seeded_url, "proposals")
    path.write_text(
        PACKAGE.replace(
            "      - {issue: foreign_troops, position: european_contingent}\n",
            "      - {issue: nato, position: door_open}\n",
        ),
        encoding="utf-8",
    )
    refused = run_cli("--store", seeded_url, "import", str(path))
    assert (refused.code, refused.out) == (2, "")
    assert refused.err.splitlines() == [
        f"Error: {path}:7: proposal 'us-security-package' is already recorded with other "
        "issues; they cannot change once recorded (define a new proposal instead)"
    ]
    assert rows(seeded_url, "proposals") == before


def test_a_package_round_trips_through_an_exported_scenario_and_shows_in_the_report(
    seeded_url: str, tmp_path: Path
) -> None:
    import_text(seeded_url, tmp_path / "package.yaml", PACKAGE)
    copy, _ = copied_through_a_scenario(seeded_url, tmp_path)
    for asked in (["proposals"], ["stance", "--as-of", "2025-03-16"]):
        unrecorded = [  # when each was recorded differs, the rest not
            [{k: v for k, v in r.items() if k != "recorded_at"} for r in rows(url, *asked)]
            for url in (copy, seeded_url)
        ]
        assert unrecorded[0] == unrecorded[1]

    report = tmp_path / "report.html"
    assert run_cli("--store", seeded_url, "report", "--out", str(report)).code == 0
    page = report.read_text(encoding="utf-8")
    package_rows = [r for r in page.split("<tr") if "A ceasefire with a European force" in r]
    assert package_rows
    assert all("Ceasefire, Foreign troops" in r for r in package_rows[:3])
