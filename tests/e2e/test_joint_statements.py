"""Joint statements (`party: [us, ukraine]`, R17): one statement made by several parties
together counts as each one's own statement, is listed once in `history` with all its parties,
and a party that clarifies or retracts it does so for itself alone. On SQLite and PostgreSQL,
through the CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from positions.scenario import parse_text
from tests.conftest import SEED, run_cli
from tests.helpers import cli_json as rows
from tests.helpers import copied_through_a_scenario, exported_statements, import_text

JOINT = """\
negotiation: ukraine-2025
statements:
  - id: jeddah-european-force
    on: 2025-03-14
    party: [us, ukraine]
    issue: foreign_troops
    position: european_contingent
    quote: Both delegations back a European force to guarantee a ceasefire.
    sources: [https://example.org/jeddah]
"""

US_STEPS_BACK = """\
  - id: rubio-no-force-yet
    on: 2025-03-15
    by: rubio
    retracts: jeddah-european-force
    quote: We have not committed to any force.
    sources: [https://example.org/rubio]
"""


def _troops(url: str, as_of: str) -> dict[str, Any]:
    found = rows(url, "stance", "--issue", "foreign_troops", "--as-of", as_of)
    return {r["party"]: (r["position"], r["statement_id"], r["speaker"]) for r in found}


def _listed(url: str, *options: str) -> list[tuple[Any, ...]]:
    return [
        (r["party"], r["speaker"], r["ended_by"])
        for r in rows(url, "history", *options)
        if r["statement_id"] == "jeddah-european-force"
    ]


def test_a_joint_statement_counts_for_each_party_and_is_listed_once(
    seeded_url: str, tmp_path: Path
) -> None:
    out = import_text(seeded_url, tmp_path / "joint.yaml", JOINT)
    assert "moved: us on foreign_troops: noncommittal → european_contingent" in out
    assert "moved: ukraine on foreign_troops: — → european_contingent" in out
    together = ("european_contingent", "jeddah-european-force", "United States, Ukraine")
    troops = _troops(seeded_url, "2025-03-14")
    assert (troops["us"], troops["ukraine"]) == (together, together)
    assert troops["russia"][1] == "zakharova-under-any-flag"
    assert _troops(seeded_url, "2025-03-13")["ukraine"] == (None, None, None)

    listed = ("us, ukraine", "United States, Ukraine", None)
    assert _listed(seeded_url) == [listed]
    for party in ("us", "ukraine"):
        assert _listed(seeded_url, "--party", party) == [listed]
    assert _listed(seeded_url, "--party", "russia") == []
    [row] = [
        r for r in exported_statements(seeded_url) if r["statement_id"] == "jeddah-european-force"
    ]
    assert row["party"] == "us, ukraine"


def test_a_party_that_retracts_a_joint_statement_retracts_its_own_part_alone(
    seeded_url: str, tmp_path: Path
) -> None:
    import_text(seeded_url, tmp_path / "joint.yaml", JOINT + US_STEPS_BACK)
    troops = _troops(seeded_url, "2025-03-15")
    assert troops["us"][:2] == ("noncommittal", "rubio-deterrent-on-the-ground")
    assert troops["ukraine"][:2] == ("european_contingent", "jeddah-european-force")
    assert _listed(seeded_url, "--party", "us") == [
        ("us, ukraine", "United States, Ukraine", "rubio-no-force-yet")
    ]
    assert _listed(seeded_url, "--party", "ukraine") == [
        ("us, ukraine", "United States, Ukraine", None)
    ]
    explained = rows(seeded_url, "explain", "ukraine", "foreign_troops", "--as-of", "2025-03-15")
    assert [r["statement_id"] for r in explained] == ["jeddah-european-force"]


def test_a_joint_statement_round_trips_through_an_exported_scenario(
    seeded_url: str, tmp_path: Path
) -> None:
    import_text(seeded_url, tmp_path / "joint.yaml", JOINT + US_STEPS_BACK)
    copy, exported = copied_through_a_scenario(seeded_url, tmp_path)
    assert "  party:\n  - us\n  - ukraine\n" in exported
    for as_of in ("2025-03-14", "2025-03-15"):
        assert _troops(copy, as_of) == _troops(seeded_url, as_of)
    assert _listed(copy, "--party", "ukraine") == _listed(seeded_url, "--party", "ukraine")


REPORTED_PLAN = """\
negotiation: ukraine-2025
proposals:
  - id: us-force-plan
    by: us
    reported_by: ukraine
    on: 2025-03-14
    issue: foreign_troops
    position: european_contingent
"""

BOTH_ACCEPT = """\
negotiation: ukraine-2025
statements:
  - id: jeddah-both-accept-the-plan
    on: 2025-03-15
    party: [us, ukraine]
    verdict: accept
    proposal: us-force-plan
    quote: Both delegations accept the plan.
    sources: [https://example.org/jeddah]
"""


def test_a_joint_statement_imports_back_from_its_exported_row(
    seeded_url: str, tmp_path: Path
) -> None:
    """The row of a joint statement in the statements export gives its coding as stated, not
    its first party's resolution of it: a bare acceptance of a proposal that Ukraine reported
    of the US confirms it for the US alone (its position), and Ukraine's acceptance sets no
    position; imported back, it is the same statement and the tables are the same."""
    import_text(seeded_url, tmp_path / "plan.yaml", REPORTED_PLAN)
    import_text(seeded_url, tmp_path / "accept.yaml", BOTH_ACCEPT)
    troops = _troops(seeded_url, "2025-03-15")
    assert troops["us"][:2] == ("european_contingent", "jeddah-both-accept-the-plan")
    assert troops["ukraine"][1] != "jeddah-both-accept-the-plan"
    sheet = tmp_path / "statements.csv"
    done = run_cli("--store", seeded_url, "export", "--what", "statements", str(sheet))
    assert done.code == 0, done.err
    row = next(
        r
        for r in exported_statements(seeded_url)
        if r["statement_id"] == "jeddah-both-accept-the-plan"
    )
    assert (row["party"], row["verdict"], row["position"]) == ("us, ukraine", "accept", None)
    book = dict(parse_text(SEED.read_text(encoding="utf-8")))
    del book["statements"]  # the seed's codebook: its statements come with the sheet
    (tmp_path / "book.json").write_text(json.dumps(book, default=str), encoding="utf-8")
    copy = f"sqlite:///{tmp_path / 'copy.db'}"
    files = (str(tmp_path / "book.json"), str(tmp_path / "plan.yaml"), str(sheet))
    again = run_cli("--store", copy, "import", *files)
    assert (again.code, again.err) == (0, ""), again.err
    assert _troops(copy, "2025-03-15") == troops
    assert rows(copy, "compare") == rows(seeded_url, "compare")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ("    party: [us, ukraine]\n", "    party: [us, ukraine, us]\n"),
            "statement 'jeddah-european-force': party 'us' is listed twice",
        ),
        (
            ("    party: [us, ukraine]\n", "    party: [us, ukraine]\n    by: peskov\n"),
            "statement 'jeddah-european-force': speaker 'peskov' speaks for 'russia', which is "
            "not one of the parties listed (us, ukraine)",
        ),
        (
            ("    party: [us, ukraine]\n", "    party: [us, ukraine]\n    about: ukraine\n"),
            "statement 'jeddah-european-force': 'about' names the statement's own party",
        ),
    ],
    ids=["listed-twice", "speaker-of-another", "about-itself"],
)
def test_a_malformed_joint_statement_is_refused_in_one_line(
    seeded_url: str, tmp_path: Path, change: tuple[str, str], message: str
) -> None:
    path = tmp_path / "joint.yaml"
    path.write_text(JOINT.replace(*change), encoding="utf-8")
    before = rows(seeded_url, "history")
    refused = run_cli("--store", seeded_url, "import", str(path))
    assert (refused.code, refused.out) == (2, "")
    [line] = refused.err.splitlines()
    assert line.startswith(f"Error: {path}:") and line.endswith(message), line
    assert rows(seeded_url, "history") == before


def test_the_parties_of_a_joint_statement_cannot_be_corrected(
    seeded_url: str, tmp_path: Path
) -> None:
    import_text(seeded_url, tmp_path / "joint.yaml", JOINT)
    refused = run_cli(
        "--store",
        seeded_url,
        "correct",
        "jeddah-european-force",
        "--party",
        "us",
        "--reason",
        "one party only",
    )
    assert refused.code != 0
    assert refused.err.splitlines() == [
        "Error: statement 'jeddah-european-force' is a joint statement of us, ukraine: its "
        "parties cannot be corrected (retract it and record it again)"
    ]


def test_a_joint_claim_is_each_partys_claim_and_is_listed_once_for_the_party_it_is_about(
    seeded_url: str, tmp_path: Path
) -> None:
    claim = JOINT.replace(
        "    party: [us, ukraine]\n", "    party: [us, ukraine]\n    about: russia\n"
    )
    import_text(seeded_url, tmp_path / "claim.yaml", claim)
    found = rows(seeded_url, "stance", "--party", "russia", "--issue", "foreign_troops", "--claims")
    assert [(r["claimed_by"], r["position"], r["statement_id"]) for r in found] == [
        (None, "no_foreign_troops", "zakharova-under-any-flag"),
        ("ukraine", "european_contingent", "jeddah-european-force"),
        ("us", "european_contingent", "jeddah-european-force"),
    ]
    assert _listed(seeded_url, "--party", "russia") == [
        ("us, ukraine", "United States, Ukraine", None)
    ]


JOINT_PROPOSAL = """\
negotiation: ukraine-2025
proposals:
  - id: jeddah-force-plan
    by: [us, ukraine]
    on: 2025-03-14
    covers:
      - {issue: foreign_troops, position: european_contingent}
      - {issue: nato, position: door_open}
    sources: [https://example.org/plan]
"""


def test_a_joint_proposal_is_each_proposers_position_and_acceptance(
    seeded_url: str, tmp_path: Path
) -> None:
    import_text(seeded_url, tmp_path / "plan.yaml", JOINT_PROPOSAL)
    for party in ("us", "ukraine"):
        stance = {
            r["issue"]: (r["position"], r["statement_id"])
            for r in rows(seeded_url, "stance", "--party", party, "--as-of", "2025-03-14")
        }
        assert stance["foreign_troops"] == ("european_contingent", "jeddah-force-plan")
        assert stance["nato"] == ("door_open", "jeddah-force-plan")
    verdicts = [
        (r["party"], r["tabled_by"], r["verdict"], r["statement_id"])
        for r in rows(seeded_url, "proposals")
        if r["proposal"] == "jeddah-force-plan"
    ]
    assert verdicts == [
        ("russia", "us, ukraine", None, None),
        ("ukraine", "us, ukraine", "accept", "jeddah-force-plan"),
        ("us", "us, ukraine", "accept", "jeddah-force-plan"),
    ]
    for asked in ([], ["--party", "ukraine"]):
        tabled = [
            (r["party"], r["issue"], r["speaker"])
            for r in rows(seeded_url, "history", *asked)
            if r["statement_id"] == "jeddah-force-plan"
        ]
        assert tabled == [
            ("us, ukraine", "foreign_troops", "United States, Ukraine"),
            ("us, ukraine", "nato", "United States, Ukraine"),
        ]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("by: [us, ukraine]", "by: [us, ukraine, us]"), "party 'us' is listed twice"),
        (
            ("by: [us, ukraine]", "by: [us, ukraine]\n    reported_by: ukraine"),
            "'reported_by' names the party whose account is all that is known of the "
            "proposal, not its proposer ('ukraine'): drop it for a proposal its proposer tabled",
        ),
    ],
    ids=["listed-twice", "reported-by-a-proposer"],
)
def test_a_malformed_joint_proposal_is_refused_in_one_line(
    seeded_url: str, tmp_path: Path, change: tuple[str, str], message: str
) -> None:
    path = tmp_path / "plan.yaml"
    path.write_text(JOINT_PROPOSAL.replace(*change), encoding="utf-8")
    refused = run_cli("--store", seeded_url, "import", str(path))
    assert (refused.code, refused.out) == (2, "")
    [line] = refused.err.splitlines()
    assert line.startswith(f"Error: {path}:") and line.endswith(message), line


def test_the_latest_rows_of_a_party_count_a_joint_claim_about_it_once(
    seeded_url: str, tmp_path: Path
) -> None:
    """`history(latest=N)` (the web app's recent rows) reads the last N rows from the store:
    a joint claim about the party, one step per claimant, is one of them."""
    from positions.application import PositionsApplication

    claim = JOINT.replace(
        "    party: [us, ukraine]\n", "    party: [us, ukraine]\n    about: russia\n"
    )
    import_text(seeded_url, tmp_path / "claim.yaml", claim)
    with PositionsApplication.open(seeded_url).get_tables("ukraine-2025") as tables:
        whole = tables.history("russia").to_dicts()
        assert [r["statement_id"] for r in whole].count("jeddah-european-force") == 1
        for latest in (1, 2, 3):
            assert tables.history("russia", latest=latest).to_dicts() == whole[-latest:]
