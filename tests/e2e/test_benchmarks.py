"""The benchmark harness runs end to end at a tiny size: results, never times, are checked."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from benchmarks.generate import generate
from benchmarks.run import main as run_benchmarks
from positions.scenario import read_scenarios

pytestmark = pytest.mark.slow

SIZE = 200
COMMANDS = ("stance", "history", "timeline", "stance_known")
"""The commands run as processes: a query read from the step tables, one with filters, one
that writes a file and one as recorded at a time (each beside the seed); the others take the
same paths."""


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    work = tmp_path_factory.mktemp("bench")
    out = work / "results" / "latest.json"
    doc = work / "performance.md"
    run_benchmarks(
        [
            "--sizes",
            str(SIZE),
            "--work",
            str(work),
            "--out",
            str(out),
            "--doc",
            str(doc),
            "--postgres",
            "",
            "--profile",
            str(SIZE),
            "--cold-runs",
            "1",
            "--cli-runs",
            "1",
            "--runs",
            "1",
            "--timeout",
            "120",
            "--commands",
            ",".join(COMMANDS),
        ]
    )
    data: dict[str, Any] = json.loads(out.read_text())
    data["_doc"] = doc.read_text()
    return data


def test_the_generator_is_deterministic_and_writes_the_mix_asked_for(tmp_path: Path) -> None:
    first = generate(2_000, tmp_path / "a", per_file=500)
    second = generate(2_000, tmp_path / "b", per_file=500)
    assert len(first.files) == 1 + 4
    for a, b in zip(first.files, second.files, strict=True):
        assert Path(a).read_bytes() == Path(b).read_bytes()
    assert sum(first.kinds.values()) == 2_000
    assert first.kinds["clarification"] > 0
    assert first.kinds["retraction"] > 0
    assert first.kinds["claim"] > 0
    assert first.kinds["verdict"] > 0
    assert first.corrections > 0


def test_generated_files_are_valid_scenarios(tmp_path: Path) -> None:
    made = generate(2_000, tmp_path, per_file=700)
    scenarios = read_scenarios(Path(f) for f in made.files)
    assert sum(len(s.statements) for s in scenarios) == 2_000
    assert sum(len(s.corrections) for s in scenarios) == made.corrections


def test_every_generated_statement_is_imported(results: dict[str, Any]) -> None:
    entry = results["sizes"][str(SIZE)]
    assert entry["generated"]["statements"] == SIZE
    assert entry["import_sqlite"]["statements"] == SIZE
    assert entry["import_sqlite"]["stored_events"] == entry["import_sqlite"]["events"]
    assert entry["raw_sqlite"]["rows"] == SIZE


def test_the_rebuild_reads_every_event_and_makes_a_row_per_statement(
    results: dict[str, Any],
) -> None:
    entry = results["sizes"][str(SIZE)]
    assert entry["rebuild_sqlite"]["events"] == entry["import_sqlite"]["events"]
    assert entry["rebuild_sqlite"]["statement_rows"] == SIZE
    assert entry["rebuild_floor"]["events"] == entry["import_sqlite"]["events"]
    assert entry["rebuild_floor"]["statement_rows"] == SIZE
    assert "| rebuild the views, 200 (events/s) |" in results["_doc"]
    assert "events/s (read the log + write the rows, no fold)" in results["_doc"]


def test_appending_records_the_new_statements_and_the_codebook_only_into_an_empty_store(
    results: dict[str, Any],
) -> None:
    entry = results["sizes"][str(SIZE)]
    added, fresh = entry["append_sqlite"], entry["append_fresh"]
    assert added["statements"] == fresh["statements"] == SIZE // 10
    assert added["definitions"] == 0
    assert fresh["definitions"] == entry["import_sqlite"]["definitions"]
    assert added["events"] == 2 * (SIZE // 10)  # each statement and its registration
    assert f"| append {SIZE // 10} statements to the 200 store (s; peak MB) |" in results["_doc"]
    cli = entry["append_cli"]  # a fresh `positions import` on a copy of the store
    assert "not_measured" not in cli, cli
    assert cli["runs"] == 1 and cli["median_ms"] > 0 and cli["peak_rss_mb"] > 0
    assert cli["command"].startswith("positions import ")
    assert (
        "| `positions import` of the same file into the 200 store, a fresh process"
        in (results["_doc"])
    )


def test_stance_has_a_row_for_every_party_and_issue(results: dict[str, Any]) -> None:
    entry = results["sizes"][str(SIZE)]
    cells = len(entry["generated"]["parties"]) * len(entry["generated"]["issues"])
    assert entry["query_sqlite"]["stance_rows"] == cells
    duckdb = entry["duckdb"]
    if "not_measured" in duckdb:
        assert "duckdb is not installed" in duckdb["not_measured"]
    else:
        assert 0 < duckdb["rows"] <= cells


def test_compare_and_proposals_answer_in_process(results: dict[str, Any]) -> None:
    entry = results["sizes"][str(SIZE)]
    query = entry["query_sqlite"]
    cells = len(entry["generated"]["parties"]) * len(entry["generated"]["issues"])
    assert query["compare_rows"] >= cells
    assert query["proposal_rows"] > 0
    assert query["stance_ms"] is not None and query["compare_ms"] is not None
    assert query["open_ms"] > 0


def test_every_command_runs_on_the_store_and_on_the_seed(results: dict[str, Any]) -> None:
    entry = results["sizes"][str(SIZE)]
    names = set(COMMANDS)
    assert set(entry["cli"]) == names
    assert set(entry["cli_seed"]) == names
    for found in (entry["cli"], entry["cli_seed"]):
        for name, result in found.items():
            assert "not_measured" not in result, (name, result)
            assert result["runs"] == 1
            assert result["peak_rss_mb"] > 0
    assert entry["cli"]["history"]["command"] == (
        f"positions history --party {entry['generated']['parties'][0]} "
        f"--issue {entry['generated']['issues'][0]}"
    )
    doc = results["_doc"]
    assert f"| `positions stance --as-of {entry['query_sqlite']['as_of']}`, 200 " in doc
    assert "(seed store)" in doc
    assert "| peak memory, query commands, 200 (MB) |" in doc
    known = entry["cli"]["stance_known"]["command"]
    assert known.endswith("--known-at 2100-01-01T00:00:00+00:00"), known


def test_a_command_that_runs_out_of_time_is_recorded_not_raised(tmp_path: Path) -> None:
    from benchmarks.run import run_command

    hook = tmp_path / "hook"
    hook.mkdir()
    result = run_command("sqlite:///nowhere.db", ["compare"], 1, 0.001, hook)
    assert result == {"not_measured": "took longer than 0 s"}


def test_each_phase_reports_its_peak_memory(results: dict[str, Any]) -> None:
    entry = results["sizes"][str(SIZE)]
    for phase in ("raw_sqlite", "import_sqlite", "query_sqlite", "rebuild_sqlite", "rebuild_floor"):
        assert entry[phase]["peak_rss_mb"] > 0


def test_profiles_name_functions_or_say_why_not(results: dict[str, Any]) -> None:
    profile = results["sizes"][str(SIZE)]["profile"]
    if "not_measured" in profile:
        assert "pyinstrument is not installed" in profile["not_measured"]
        return
    for phase in ("import", "stance"):
        assert profile[phase]["functions"]
        assert all(
            0 <= f["self_share"] <= f["total_share"] <= 1 for f in profile[phase]["functions"]
        )


def test_cold_start_and_the_document_are_written(results: dict[str, Any]) -> None:
    assert set(results["cold_start"]) == {"compare_ms", "python_ms", "libraries_ms", "runs"}
    assert set(results["machine"]) >= {"cpu", "cores", "memory_gb"}
    doc = results["_doc"]
    assert doc.startswith("# Performance\n")
    assert "| import, SQLite, 200 (statements/s) |" in doc
    assert "| cold start, `positions compare` on the seed (ms) |" in doc


def test_a_phase_that_runs_out_of_time_is_recorded_not_raised(tmp_path: Path) -> None:
    from benchmarks.run import run_phase

    made = generate(SIZE, tmp_path / "gen")
    result = run_phase(
        "import", {"store": f"sqlite:///{tmp_path / 's.db'}", "files": made.files}, 0.01
    )
    assert result == {"not_measured": "took longer than 0 s"}


def test_the_performance_page_is_the_committed_results_with_their_notes() -> None:
    """docs/performance.md is generated from benchmarks/results/latest.json and the notes of
    benchmarks/limits.json: a note changed without the page made again fails here."""
    from benchmarks.report import render
    from benchmarks.run import DOC, RESULTS

    assert DOC.read_text(encoding="utf-8") == render(json.loads(RESULTS.read_text()))


def test_the_import_is_timed_phase_by_phase_beside_the_floor_of_each(
    results: dict[str, Any],
) -> None:
    entry = results["sizes"][str(SIZE)]
    phases = entry["import_sqlite"]["phases"]
    assert list(phases) == ["reading", "checking", "writing", "views"]
    assert sum(phases.values()) <= entry["import_sqlite"]["seconds"]
    assert entry["read_floor"]["statements"] == SIZE
    doc = results["_doc"]
    assert "### The import, phase by phase" in doc
    row = next(line for line in doc.splitlines() if line.startswith("| 200 | "))
    assert row.count("|") == 10 and "—" not in row
