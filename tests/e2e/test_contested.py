"""R16, contested days: two of a party's own statements on one day that put it at different
points of the scale (or give different verdicts) mark the cell contested in stance, compare,
proposals and explain, on SQLite and PostgreSQL; R1 still picks the one that sorts last."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.conftest import run_cli
from tests.helpers import cli_json as rows

DAY = """\
negotiation: ukraine-2025
statements:
  - id: peskov-conditions
    on: 2025-03-14
    by: peskov
    issue: ceasefire
    position: conditional_ceasefire
    proposal: us-30-day-ceasefire
    verdict: accept_with_conditions
    quote: With conditions.
    sources: [https://example.org/a]
  - id: ushakov-no-truce
    on: 2025-03-14
    by: ushakov
    issue: ceasefire
    position: settlement_first
    proposal: us-30-day-ceasefire
    verdict: reject
    quote: No truce.
    sources: [https://example.org/b]
  - id: peskov-nato-noncommittal
    on: 2025-03-14
    by: peskov
    issue: nato
    position: noncommittal
    quote: We will see.
    sources: [https://example.org/c]
"""

WITHDRAWN = """\
  - id: kremlin-withdraws-ushakov
    on: 2025-03-15
    by: russia
    retracts: ushakov-no-truce
    quote: Ushakov was misquoted.
    sources: [https://example.org/d]
"""


def test_two_positions_on_one_day_contest_the_cell_and_explain_names_the_other(
    seeded_url: str, tmp_path: Path
) -> None:
    day = tmp_path / "day.yaml"
    day.write_text(DAY + WITHDRAWN, encoding="utf-8")
    assert run_cli("--store", seeded_url, "import", str(day)).code == 0

    def russia(as_of: str) -> dict[str, tuple[Any, ...]]:
        found = rows(seeded_url, "stance", "--party", "russia", "--as-of", as_of)
        return {r["issue"]: (r["position"], r["statement_id"], r["contested"]) for r in found}

    assert russia("2025-03-14") == {
        "ceasefire": ("settlement_first", "ushakov-no-truce", True),
        "foreign_troops": ("no_foreign_troops", "zakharova-under-any-flag", False),
        "nato": ("off_the_table", "ushakov-no-talk-about-nato", False),  # noncommittal beside
    }
    assert russia("2025-03-13")["ceasefire"] == (
        "settlement_first",
        "peskov-not-a-rejection",
        False,
    )
    # the retraction ends one of the two: the other is uncontested from its day
    assert russia("2025-03-15")["ceasefire"] == (
        "conditional_ceasefire",
        "peskov-conditions",
        False,
    )
    cells = rows(seeded_url, "compare", "--as-of", "2025-03-14")
    cell = next(r for r in cells if (r["party"], r["issue"]) == ("russia", "ceasefire"))
    assert cell["cell"] == "settlement_first (contested)"
    verdicts = rows(seeded_url, "proposals", "--as-of", "2025-03-14", "--party", "russia")
    assert [(r["verdict"], r["statement_id"], r["contested"]) for r in verdicts] == [
        ("reject", "ushakov-no-truce", True)
    ]
    explained = rows(seeded_url, "explain", "russia", "ceasefire", "--as-of", "2025-03-14")
    last = next(r for r in explained if r["statement_id"] == "ushakov-no-truce")
    assert last["effect"] == (
        "sets the stance: the latest position in force; contested on its day by "
        "peskov-conditions (R16)"
    )


def test_a_clarification_on_the_same_day_does_not_contest_what_it_clarifies(
    seeded_url: str, tmp_path: Path
) -> None:
    day = tmp_path / "day.yaml"
    day.write_text(
        "negotiation: ukraine-2025\nstatements:\n"
        "  - {id: a, on: 2025-03-14, by: peskov, issue: ceasefire, position: settlement_first,"
        " quote: First., sources: [https://example.org/1]}\n"
        "  - {id: b, on: 2025-03-14, by: peskov, clarifies: a, position: conditional_ceasefire,"
        " quote: Rather., sources: [https://example.org/2]}\n",
        encoding="utf-8",
    )
    assert run_cli("--store", seeded_url, "import", str(day)).code == 0
    found = rows(seeded_url, "stance", "--party", "russia", "--issue", "ceasefire")
    assert [(r["position"], r["statement_id"], r["contested"]) for r in found] == [
        ("conditional_ceasefire", "b", False)
    ]


def test_an_import_names_the_cells_it_made_contested(seeded_url: str, tmp_path: Path) -> None:
    day = tmp_path / "day.yaml"
    day.write_text(DAY, encoding="utf-8")
    imported = run_cli("--store", seeded_url, "import", str(day))
    assert (imported.code, imported.err) == (0, "")
    assert imported.out.splitlines()[1:] == [
        "moved: russia on us-30-day-ceasefire: undecided → reject (ushakov-no-truce)",
        "contested now (two statements of one day, R16): russia on ceasefire, "
        "russia on us-30-day-ceasefire",
        "set no cell in force: 2 statement(s): peskov-conditions, peskov-nato-noncommittal",
    ]
