"""Both stores through the real entry point: an SQLite file and PostgreSQL (a fresh schema per
test), the store URL's forms, and a password that never shows."""

from __future__ import annotations

import json
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings

from positions.application import PositionsApplication
from positions.errors import StoreError
from tests.conftest import ROOT, SEED, run_cli
from tests.helpers import SEED_IMPORTED, assert_same_tables, import_parts, memory_app, tables
from tests.stores import (
    BACKENDS,
    any_store,
    count_events,
    execute,
    postgres_store,
    require_postgres,
    schema_of,
)
from tests.strategies import codebook, statements

RIVER = ROOT / "fixtures" / "example-river-talks.yaml"


def test_import_then_query_works_on_both_stores(store_url: str) -> None:
    first = run_cli("--store", store_url, "import", str(SEED))
    assert (first.code, first.err) == (0, "")
    assert first.out == SEED_IMPORTED
    again = run_cli("--store", store_url, "import", str(SEED))
    assert again.out == "Nothing new: 1 file(s) already recorded in ukraine-2025.\n"
    assert count_events(store_url) == 47
    rows = json.loads(run_cli("--store", store_url, "proposals", "--format", "json").out)
    assert {r["party"]: r["verdict"] for r in rows}["russia"] == "undecided"


def test_a_second_negotiation_and_the_environment_variable_work_on_both_stores(
    store_url: str,
) -> None:
    env = {"POSITIONS_STORE": store_url}
    assert run_cli("import", str(SEED), env=env).code == 0
    assert run_cli("import", str(RIVER), env=env).code == 0
    listed = json.loads(run_cli("negotiations", "--format", "json", env=env).out)
    assert [(n["negotiation"], n["statements"]) for n in listed] == [
        ("ukraine-2025", 11),
        ("river-talks", 8),
    ]


def test_a_bad_file_writes_nothing_on_both_stores(store_url: str, tmp_path: Path) -> None:
    assert run_cli("--store", store_url, "import", str(SEED)).code == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "negotiation: ukraine-2025\nstatements:\n  - {id: x, on: 2025-03-14, by: nobody, position: a}\n"
    )
    result = run_cli("--store", store_url, "import", str(bad))
    assert result.code == 2 and result.err.startswith(f"Error: {bad}:3: statement 'x': ")
    assert count_events(store_url) == 47


def test_querying_a_postgresql_store_that_was_never_written_says_so() -> None:
    with postgres_store() as url:
        result = run_cli("--store", url, "compare")
        assert (result.code, result.out) == (2, "")
        assert result.err == f"Error: store {url} does not exist (import a scenario first)\n"
        # nothing was created by asking
        found = execute(
            url.rsplit("?", 1)[0] + "?schema=public",
            "SELECT count(*) FROM pg_namespace WHERE nspname = %s",
            (schema_of(url),),
        )
        assert found == [(0,)]


def test_a_postgresql_password_is_never_shown_in_errors() -> None:
    base = require_postgres()
    secret = "s3cret-Pa55"
    with_password = base.replace("postgresql://postgres@", f"postgresql://postgres:{secret}@")
    assert with_password != base, "POSITIONS_TEST_POSTGRES must name user postgres"
    shown = base.replace("postgresql://postgres@", "postgresql://postgres:***@")
    cases = {
        f"{with_password}?schema=never_written": (
            f"Error: store {shown}?schema=never_written does not exist (import a scenario first)\n"
        ),
        f"{with_password}?schema=Bad": (
            f"Error: malformed store URL '{shown}?schema=Bad': a schema name takes lower-case "
            "letters, digits and '_', starting with a letter or '_'\n"
        ),
        f"{with_password}?sslmode=disable": (
            f"Error: malformed store URL '{shown}?sslmode=***': unknown parameter 'sslmode' "
            "(only 'schema')\n"
        ),
        f"postgresql://analyst:{secret}@127.0.0.1:1/nowhere": (
            "Error: cannot open store postgresql://analyst:***@127.0.0.1:1/nowhere: connection "
            'failed: connection to server at "127.0.0.1", port 1 failed: Connection refused\n'
        ),
    }
    for url, message in cases.items():
        for args in (["compare"], ["import", str(SEED)], ["verify"]):
            if args[0] == "import" and "never_written" in url:
                continue
            result = run_cli("--store", url, *args)
            assert (result.code, result.out, result.err) == (2, "", message), (url, args)
            assert secret not in result.err + result.out
    missing_db = base.rsplit("/", 1)[0].replace(
        "postgresql://postgres@", f"postgresql://postgres:{secret}@"
    )
    result = run_cli("--store", f"{missing_db}/no_such_database", "compare")
    assert result.code == 2
    assert secret not in result.err and "Traceback" not in result.err
    assert result.err.startswith("Error: cannot open store postgresql://postgres:***@")
    assert result.err.endswith('database "no_such_database" does not exist\n')


def test_a_password_in_a_library_message_is_replaced() -> None:
    from positions.store.persistence import parse_store_url

    location = parse_store_url("postgresql://u:hunter2@db.example:5432/record")
    assert location.scrub(
        "failed for u:hunter2 at postgresql://u:hunter2@db.example:5432/record"
    ) == ("failed for u:*** at postgresql://u:***@db.example:5432/record")
    assert location.env["POSTGRES_SCHEMA"] == "public"


def test_opening_a_missing_postgresql_store_for_reading_is_a_store_error() -> None:
    with postgres_store() as url, pytest.raises(StoreError, match="does not exist"):
        PositionsApplication.open(url)


def test_a_save_larger_than_one_chunk_is_one_transaction_on_postgresql(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL copies a save's events chunk by chunk (eventsourcing's own single pipelined
    insert stalls on large saves): every event is stored, in order, once."""
    from positions import application
    from tests.e2e.test_concurrency import _statements
    from tests.helpers import write_scenario
    from tests.strategies import codebook

    monkeypatch.setattr(application, "SAVE_CHUNK", 100)
    count = 2 * 100 + 50
    scenario = write_scenario(
        tmp_path / "big.yaml", {**codebook(), "statements": _statements("big", count)}
    )
    with postgres_store() as url:
        result = run_cli("--store", url, "import", str(scenario))
        assert result.code == 0, result.err
        ids = [row[0] for row in execute(url, "SELECT notification_id FROM EVENTS ORDER BY 1")]
        assert len(ids) == count_events(url) > count
        assert len(set(ids)) == len(ids)
        assert run_cli("--store", url, "verify").code == 0
        again = run_cli("--store", url, "import", str(scenario))
        assert again.out.startswith("Nothing new")
        assert count_events(url) == len(ids)


@pytest.mark.parametrize("backend", BACKENDS)
@settings(max_examples=10, deadline=None)  # a round trip; the step-table properties cover more
@given(stmts=statements(max_size=8))
def test_a_store_written_to_an_sqlite_file_or_postgresql_and_reopened_gives_the_same_tables(
    backend: str, stmts: list[dict[str, Any]]
) -> None:
    with tempfile.TemporaryDirectory() as folder, any_store(backend, Path(folder)) as url:
        written = PositionsApplication.open(url, create=True)
        import_parts(written, [{**codebook(), "statements": stmts}])
        written.close()
        reopened = PositionsApplication.open(url)
        in_memory = memory_app()
        import_parts(in_memory, [{**codebook(), "statements": stmts}])
        assert_same_tables(tables(reopened), tables(in_memory))
        reopened.close()


def _planner_rows(url: str, table: str) -> float:
    """The rows PostgreSQL's planner believes a view table holds (`pg_class.reltuples`: set
    by ``ANALYZE``, -1 for a table never analyzed)."""
    rows = execute(
        url,
        "SELECT c.reltuples FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.relname = %s",
        (schema_of(url), table),
    )
    return float(rows[0][0])


def test_postgresql_knows_what_a_large_import_wrote_and_a_small_append_leaves_it_be() -> None:
    """With autovacuum off, or before it wakes, PostgreSQL plans by no statistics and reads a
    whole table for one group: an import that changes the tables as much as autovacuum's rule
    asks (50 rows and a tenth) has them analyzed at once, a small append does not."""
    from tests.stepcheck import T0, scenario_of
    from tests.strategies import said

    water = ["share_all", "share_half", "share_little", "share_none"]
    stated = [said(f"s{n}", n % 40, issue="water", position=water[n % 4]) for n in range(200)]
    with postgres_store() as url:
        app = PositionsApplication.open(url, create=True)
        try:
            assert _planner_rows(url, "positions_view_steps") < 1  # made, never analyzed
            app.import_scenarios([scenario_of({**codebook(), "statements": stated}, "a.json")], T0)
            steps = _planner_rows(url, "positions_view_steps")
            assert steps >= 200
            assert _planner_rows(url, "positions_view_statements") == 200
            assert _planner_rows(url, "positions_events") >= 400
            one = {**stated[0], "id": "late", "position": "share_none"}
            data = {"negotiation": "generated", "statements": [one]}
            app.import_scenarios([scenario_of(data, "b.json")], T0 + timedelta(hours=1))
            assert _planner_rows(url, "positions_view_steps") == steps
        finally:
            app.close()
