"""The registry of statement ids (ADR 0017): whether a statement or a correction is recorded is
decided by the events table, so views that are missing, stale or edited never let an import
record a second event, and a store made before the registry is registered once."""

from __future__ import annotations

from pathlib import Path

import pytest
from eventsourcing.persistence import RecordConflictError

from positions.application import PositionsApplication
from positions.events import REGISTRY_EVENTS, StatementRegistered
from positions.registry import Registration
from tests.conftest import SEED, run_cli
from tests.stores import count_events, execute, views_sql

REGISTRY_TOPICS = tuple(f"positions.events:{cls.__name__}" for cls in REGISTRY_EVENTS)

CORRECTION = """
negotiation: ukraine-2025
corrections:
  - statement: zakharova-under-any-flag
    reason: the issue is the deployment of troops
    position: no_foreign_troops
    on: 2025-03-13
"""


def _registry_rows(url: str) -> int:
    marks = ", ".join("%s" for _ in REGISTRY_TOPICS)
    return int(
        execute(url, f"SELECT count(*) FROM EVENTS WHERE topic IN ({marks})", REGISTRY_TOPICS)[0][0]
    )


def _forget_the_registry(url: str) -> None:
    """The store as a version before the registry left it: no registry events."""
    marks = ", ".join("%s" for _ in REGISTRY_TOPICS)
    execute(url, f"DELETE FROM EVENTS WHERE topic IN ({marks})", REGISTRY_TOPICS)


@pytest.fixture
def corrected(seeded_url: str, tmp_path: Path) -> tuple[str, Path]:
    path = tmp_path / "correction.yaml"
    path.write_text(CORRECTION, encoding="utf-8")
    result = run_cli("--store", seeded_url, "import", str(path))
    assert result.code == 0, result.err
    return seeded_url, path


def test_an_import_registers_each_statement_and_correction_and_opens_the_registry(
    corrected: tuple[str, Path],
) -> None:
    url, _ = corrected
    # 11 statements, 1 correction, 1 registry opened
    assert _registry_rows(url) == 13
    assert run_cli("--store", url, "verify").code == 0


def test_an_edited_statement_row_never_lets_a_reimport_record_it_again(seeded_url: str) -> None:
    """A statement row renamed behind the tool's back leaves the views' row count as it was
    (the count check cannot see it): asked of the views, the import recorded the statement a
    second time; the registry says it is recorded."""
    before = count_events(seeded_url)
    views_sql(
        seeded_url,
        "UPDATE V_statements SET statement_id = 'renamed' "
        "WHERE statement_id = 'zakharova-under-any-flag'",
    )
    result = run_cli("--store", seeded_url, "import", str(SEED))
    assert (result.code, result.err) == (0, ""), result.err
    assert result.out.startswith("Nothing new"), result.out
    assert count_events(seeded_url) == before


def test_an_edited_correction_row_never_lets_a_reimport_record_it_again(
    corrected: tuple[str, Path],
) -> None:
    url, path = corrected
    before = count_events(url)
    views_sql(url, "UPDATE V_corrections SET payload = replace(payload, 'deployment', 'placing')")
    result = run_cli("--store", url, "import", str(path))
    assert result.code == 0, result.err
    assert result.out.startswith("Nothing new"), result.out
    assert count_events(url) == before


def test_the_same_correction_twice_is_refused_by_correct(seeded_url: str) -> None:
    args = [
        "--store", seeded_url, "correct", "zakharova-under-any-flag",
        "--reason", "a second look", "--position", "no_foreign_troops",
    ]  # fmt: skip
    assert run_cli(*args).code == 0
    before = count_events(seeded_url)
    again = run_cli(*args)
    assert again.code != 0
    assert again.err.strip().splitlines() == [
        "Error: this correction of statement 'zakharova-under-any-flag' is recorded already "
        "(the same changes and reason); give another reason to record it again"
    ]
    assert count_events(seeded_url) == before


def test_a_store_made_before_the_registry_is_registered_once_then_decides_by_it(
    corrected: tuple[str, Path],
) -> None:
    url, path = corrected
    _forget_the_registry(url)
    views_sql(
        url,
        "UPDATE V_statements SET statement_id = 'renamed' "
        "WHERE statement_id = 'zakharova-under-any-flag'",
    )
    before = count_events(url)
    result = run_cli("--store", url, "import", str(SEED), str(path))
    assert result.code == 0, result.err
    assert result.out.startswith("Nothing new"), result.out
    assert result.err.startswith("Registered 12 statement(s) and correction(s)"), result.err
    assert count_events(url) == before + 13
    again = run_cli("--store", url, "import", str(SEED), str(path))
    assert (again.code, again.err) == (0, ""), again.err
    assert count_events(url) == before + 13
    assert run_cli("--store", url, "rebuild").code == 0
    assert run_cli("--store", url, "verify").code == 0


def test_two_registrations_of_one_statement_id_cannot_both_be_stored(seeded_url: str) -> None:
    """What stops two writers recording one id: the events table holds one version 1 of the
    id's registry stream, whichever party's record the second writer chose."""
    app = PositionsApplication.open(seeded_url)
    try:
        taken = Registration("ukraine-2025", "ukraine", 99, "zakharova-under-any-flag")
        with pytest.raises(RecordConflictError):
            app._save([], registrations=[taken])
    finally:
        app.close()


def test_verify_reports_a_registration_deleted_or_pointing_elsewhere(
    corrected: tuple[str, Path],
) -> None:
    url, _ = corrected
    topic = f"positions.events:{StatementRegistered.__name__}"
    stream = execute(url, "SELECT originator_id FROM EVENTS WHERE topic = %s", (topic,))[0][0]
    execute(url, "DELETE FROM EVENTS WHERE originator_id = %s", (stream,))
    result = run_cli("--store", url, "verify")
    assert result.code == 1
    problems = [line for line in result.out.splitlines() if line.startswith("Registry: ")]
    assert len(problems) == 1, result.out
    assert problems[0].endswith("is not registered (its registry stream is missing)")
    assert "1 problem(s) in the registry" in result.out


def test_verify_reports_a_registration_naming_an_event_that_holds_nothing_of_it(
    corrected: tuple[str, Path],
) -> None:
    """A registration stored beside the tool (chained correctly, so no chain breaks) that
    names a version holding another statement."""
    url, _ = corrected
    app = PositionsApplication.open(url)
    try:
        app._save([], registrations=[Registration("ukraine-2025", "russia", 2, "never-said")])
    finally:
        app.close()
    result = run_cli("--store", url, "verify")
    assert result.code == 1
    assert (
        "Registry: negotiation 'ukraine-2025' / registry: statement 'never-said' is registered "
        "at party 'russia' version 2, which holds no such statement"
    ) in result.out.splitlines()


def test_an_import_over_a_registration_naming_the_wrong_event_is_one_line(
    seeded_url: str, tmp_path: Path
) -> None:
    """A registration that names an event which does not hold its statement (stored beside
    the tool) made every import of that id conflict and retry until it gave up, blaming other
    writers: it is one line naming the statement and `verify`, and nothing is written."""
    app = PositionsApplication.open(seeded_url)
    try:
        app._save([], registrations=[Registration("ukraine-2025", "russia", 2, "late-one")])
    finally:
        app.close()
    path = tmp_path / "late.yaml"
    path.write_text(
        "negotiation: ukraine-2025\nstatements:\n"
        "  - id: late-one\n    on: 2025-03-20\n    by: russia\n    issue: ceasefire\n"
        "    position: settlement_first\n    quote: Later.\n"
        "    sources: [{outlet: Wire, published: 2025-03-20}]\n",
        encoding="utf-8",
    )
    before = count_events(seeded_url)
    result = run_cli("--store", seeded_url, "import", str(path))
    assert result.code == 2
    assert result.err.splitlines() == [
        f"Error: statement 'late-one' of negotiation 'ukraine-2025' is registered at party "
        f"'russia' version 2, which does not hold it (store {seeded_url} was changed "
        "behind the tool's back); run 'positions verify'"
    ]
    assert count_events(seeded_url) == before
