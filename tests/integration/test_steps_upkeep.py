"""Keeping the step tables: a few statements backfilled into a long record, import after
import against a rebuild, and a read-only PostgreSQL role that answers from the views."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tests.stepcheck import (
    RECORDS,
    T0,
    check_against_a_rebuild,
    check_against_the_rules,
    record,
    scenario_of,
)
from tests.stores import BACKENDS, any_store
from tests.strategies import backfill_order, codebook, statements


@pytest.mark.parametrize("backend", BACKENDS)
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=6)
@given(
    stmts=statements(max_size=40),
    order=st.randoms(use_true_random=False),
    late=st.integers(1, 6),
    fixes=RECORDS["fixes"],
)
def test_a_few_statements_backfilled_into_a_long_record_answer_as_the_rules_read_literally(
    backend: str,
    tmp_path_factory: pytest.TempPathFactory,
    stmts: list[dict[str, Any]],
    order: Any,
    late: int,
    fixes: list[tuple[int, int, int]],
) -> None:
    """A long record, then a few statements of any date: the catch-up sweeps each group only
    until the change can no longer show, and the tables still equal the rules and a rebuild."""
    with any_store(backend, tmp_path_factory.mktemp("steps")) as url:
        app, times = record(url, stmts, order, [len(stmts) - late], fixes)
        check_against_the_rules(app, times, listings=False)
        check_against_a_rebuild(app)


@pytest.mark.parametrize("backend", BACKENDS)
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=10)
@given(**RECORDS)
def test_keeping_the_step_tables_import_by_import_equals_folding_every_event_again(
    backend: str,
    tmp_path_factory: pytest.TempPathFactory,
    stmts: list[dict[str, Any]],
    order: Any,
    cuts: list[int],
    fixes: list[tuple[int, int, int]],
) -> None:
    with any_store(backend, tmp_path_factory.mktemp("steps")) as url:
        app, _ = record(url, stmts, order, cuts, fixes)
        check_against_a_rebuild(app)


def test_a_read_only_postgresql_role_answers_from_the_views_writes_nothing_and_warns_when_behind() -> (
    None
):
    """Queries never write: a role that may only read answers; when the step tables are behind
    the events it answers from them as they are and says how many events are not folded."""
    import uuid

    from tests.conftest import SEED
    from tests.runner import run_cli
    from tests.stores import base_of, connect, postgres_store, schema_of

    role = f"reader_{uuid.uuid4().hex[:12]}"
    with postgres_store() as url:
        assert run_cli("--store", url, "import", str(SEED)).code == 0
        schema, base = schema_of(url), base_of(url)
        tracking = f'"{schema}".positions_tracking'
        with connect(base) as conn:
            conn.execute(f'CREATE ROLE "{role}" LOGIN')
            conn.execute(f'GRANT USAGE ON SCHEMA "{schema}" TO "{role}"')
            conn.execute(f'GRANT SELECT ON ALL TABLES IN SCHEMA "{schema}" TO "{role}"')
        reader = url.replace("postgres@", f"{role}@", 1)
        try:
            current = run_cli("--store", reader, "stance", "--party", "russia", "--format", "csv")
            assert (current.code, current.err) == (0, "")
            assert "zakharova-under-any-flag" in current.out
            with connect(base) as conn:  # the step tables fall behind the events
                conn.execute(f"DELETE FROM {tracking} WHERE application_name = 'positions-steps'")
                before = conn.execute(f"SELECT * FROM {tracking} ORDER BY 1").fetchall()
            behind = run_cli("--store", reader, "stance", "--party", "russia", "--format", "csv")
            assert behind.code == 0
            assert behind.out == current.out
            assert behind.err == (
                f"Warning: the views of store {reader} have not folded 47 event(s) and cannot "
                "be brought up to date here (read-only); answering from the views as they are.\n"
            )
            with connect(base) as conn:
                assert conn.execute(f"SELECT * FROM {tracking} ORDER BY 1").fetchall() == before
                # step rows made under another version of the rules cannot be read here
                conn.execute(f'UPDATE "{schema}".positions_view_versions SET version = 1')
            other = run_cli("--store", reader, "stance", "--party", "russia")
            assert (other.code, other.out) == (2, "")
            assert other.err == (
                "Error: the views of this store were made by an earlier version of positions's "
                "rules; open it once where it may be written (any command remakes them), or run "
                "positions rebuild there\n"
            )
        finally:
            with connect(base) as conn:
                conn.execute(f'DROP OWNED BY "{role}"')
                conn.execute(f'DROP ROLE "{role}"')


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=15)
@given(stmts=statements(), order=st.randoms(use_true_random=False), cut=st.integers())
def test_one_recording_time_kept_in_two_imports_leaves_no_row_that_was_never_in_force(
    tmp_path_factory: pytest.TempPathFactory, stmts: list[dict[str, Any]], order: Any, cut: int
) -> None:
    """Events of one recording time folded in two catch-ups (as when a reader catches up
    between the chunks of a large import): the rows the first opened and the second closed
    were never in force, and are gone, as a rebuild (one fold) has none."""
    from positions.application import PositionsApplication

    ready = backfill_order(stmts, order)
    assume(len(ready) >= 2)
    at = 1 + cut % (len(ready) - 1)
    url = f"sqlite:///{tmp_path_factory.mktemp('steps') / 'store.db'}"
    app = PositionsApplication.open(url, create=True)
    first = {**codebook(), "statements": ready[:at]}
    second = {"negotiation": "generated", "statements": ready[at:]}
    app.import_scenarios([scenario_of(first, "a.json")], now=T0)
    app.import_scenarios([scenario_of(second, "b.json")], now=T0)
    check_against_a_rebuild(app)


def _two_imports_of_one_recording_time(
    tmp_path: Any, first: list[dict[str, Any]], second: list[dict[str, Any]]
) -> None:
    """Import ``first`` and then ``second`` at one recording time into a new SQLite store:
    the step tables kept equal those of a rebuild."""
    from positions.application import PositionsApplication

    app = PositionsApplication.open(f"sqlite:///{tmp_path / 'store.db'}", create=True)
    try:
        app.import_scenarios([scenario_of({**codebook(), "statements": first}, "a.json")], now=T0)
        rest = {"negotiation": "generated", "statements": second}
        app.import_scenarios([scenario_of(rest, "b.json")], now=T0)
        check_against_a_rebuild(app)
    finally:
        app.close()


def test_a_retraction_in_the_next_import_of_a_recording_time_joins_the_intervals_it_leaves(
    tmp_path: Any,
) -> None:
    """Found by the property above: s001 is clarified by s004 on the 2nd, and s004 is then
    retracted with s001 (s009, the 2nd) in a second import of the same recording time. s012,
    in force on the 1st, is in force again from the 2nd: one interval, as a rebuild has it,
    not the interval that ended on the 2nd and a new one from the 2nd."""
    source = {"outlet": "Wire", "published": "2025-01-02"}
    said = {"on": "2025-01-01", "by": "alpha", "sources": [source]}
    first = [
        {"id": "s012", "quote": "Statement 12.", "issue": "border", "position": "open", **said},
        {"id": "s001", "quote": "Statement 1.", "issue": "border", "position": "open", **said},
        {**said, "id": "s004", "on": "2025-01-02", "quote": "Statement 4.", "clarifies": "s001"},
    ]
    retraction = {**said, "id": "s009", "on": "2025-01-02", "quote": "9.", "retracts": "s001"}
    _two_imports_of_one_recording_time(tmp_path, first, [retraction])


def test_a_statement_retracted_in_the_next_import_of_its_recording_time_leaves_no_group(
    tmp_path: Any,
) -> None:
    """Found by the property above: alpha's statement and its retraction on the same day, in
    two imports of one recording time. Nothing of alpha was ever in force, and a rebuild has
    no group for it; the kept tables deleted the group's rows but kept the group."""
    source = {"outlet": "Wire", "published": "2025-01-02"}
    said = {"on": "2025-01-01", "sources": [source], "issue": "border", "position": "open"}
    first = [
        {"id": "s000", "by": "beta", "quote": "Statement 0.", **said},
        {"id": "s001", "by": "alpha", "quote": "Statement 1.", **said},
    ]
    retraction = {
        "id": "s002", "on": "2025-01-01", "by": "alpha", "quote": "Statement 2.",
        "sources": [source], "retracts": "s001",
    }  # fmt: skip
    _two_imports_of_one_recording_time(tmp_path, first, [retraction])
