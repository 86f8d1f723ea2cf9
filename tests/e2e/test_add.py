"""`positions add`: one statement from options (or prompts), checked and planned as an import
checks and plans a file, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import ROOT, run_cli
from tests.helpers import exported_statements as statements
from tests.runner import process_env

PESKOV = (
    "add",
    "--by", "peskov",
    "--on", "2025-03-14",
    "--issue", "ceasefire",
    "--position", "conditional_ceasefire",
    "--quote", "We need guarantees.",
    "--source-url", "https://www.example.org/briefing",
)  # fmt: skip


def test_add_records_a_statement_with_a_derived_id_and_shows_the_cell_it_moved(
    seeded_url: str,
) -> None:
    before = len(statements(seeded_url))
    added = run_cli("--store", seeded_url, *PESKOV)
    assert added.code == 0, added.err
    assert added.err == ""
    lines = added.out.splitlines()
    assert (
        lines[0] == "Recorded statement 'peskov-2025-03-14-ceasefire' in ukraine-2025 (2 events)."
    )
    assert "statement_id | peskov-2025-03-14-ceasefire" in lines
    assert "sources      | example.org https://www.example.org/briefing" in lines
    assert "moved        | russia on ceasefire: settlement_first → conditional_ceasefire" in lines
    recorded = statements(seeded_url)
    assert len(recorded) == before + 1
    row = next(r for r in recorded if r["statement_id"] == "peskov-2025-03-14-ceasefire")
    assert (row["party"], row["speaker"], row["position"]) == (
        "russia", "peskov", "conditional_ceasefire"
    )  # fmt: skip
    assert json.loads(str(row["sources"])) == [
        {"outlet": "example.org", "url": "https://www.example.org/briefing"}
    ]
    stance = run_cli("--store", seeded_url, "stance", "--party", "russia", "--format", "json")
    cell = next(r for r in json.loads(stance.out) if r["issue"] == "ceasefire")
    assert cell["statement_id"] == "peskov-2025-03-14-ceasefire"


def test_add_takes_a_time_of_day_and_names_the_statement_by_its_hours_and_minutes(
    seeded_url: str,
) -> None:
    timed = [a if a != "2025-03-14" else "2025-03-14T18:30+03:00" for a in PESKOV]
    assert timed != list(PESKOV)
    added = run_cli("--store", seeded_url, *timed)
    assert added.code == 0, added.err
    assert added.out.splitlines()[0] == (
        "Recorded statement 'peskov-2025-03-14-1830-ceasefire' in ukraine-2025 (2 events)."
    )
    row = next(
        r for r in statements(seeded_url) if r["statement_id"] == "peskov-2025-03-14-1830-ceasefire"
    )
    assert row["stated_on"] == "2025-03-14T18:30:00+03:00"


def test_the_same_statement_again_records_nothing_and_another_gets_the_next_id(
    seeded_url: str,
) -> None:
    assert run_cli("--store", seeded_url, *PESKOV).code == 0
    count = len(statements(seeded_url))
    again = run_cli("--store", seeded_url, *PESKOV, "--format", "json")
    assert again.code == 0
    assert again.err == (
        "Nothing new: statement 'peskov-2025-03-14-ceasefire' is recorded already in "
        "ukraine-2025.\n"
    )
    assert [r["statement_id"] for r in json.loads(again.out)] == ["peskov-2025-03-14-ceasefire"]
    assert len(statements(seeded_url)) == count
    other = [*PESKOV[:-3], "We need firm guarantees.", *PESKOV[-2:]]
    second = run_cli("--store", seeded_url, *other)
    assert second.out.splitlines()[0] == (
        "Recorded statement 'peskov-2025-03-14-ceasefire-2' in ukraine-2025 (2 events)."
    )
    named = run_cli("--store", seeded_url, *other, "--id", "peskov-2025-03-14-ceasefire")
    assert (named.code, named.out) == (2, "")
    assert named.err.startswith(
        "Error: add: statement 'peskov-2025-03-14-ceasefire' is already recorded with "
        "different content"
    )


def test_each_bad_option_is_named_and_nothing_is_written(seeded_url: str) -> None:
    count = len(statements(seeded_url))
    bad = run_cli(
        "--store", seeded_url, "add", "--by", "peskv", "--on", "14.03.2025", "--issue",
        "ceasefire", "--position", "conditional", "--quote", "x", "--outlet", "TASS",
        "--confidence", "hi",
    )  # fmt: skip
    assert (bad.code, bad.out) == (2, "")
    assert bad.err.splitlines() == [
        "Error: --confidence: expected one of high, medium, low, not 'hi'",
        "Error: --on: expected a date as YYYY-MM-DD (or before YYYY-MM-DD), not '14.03.2025'",
    ]
    planned = run_cli(
        "--store", seeded_url, "add", "--by", "peskv", "--on", "2025-03-14", "--issue",
        "ceasefire", "--position", "conditional", "--quote", "x", "--outlet", "TASS",
    )  # fmt: skip
    assert planned.err.splitlines() == [
        "Error: --by: statement 'peskv-2025-03-14-ceasefire': 'peskv' is neither a speaker nor "
        "a party of 'ukraine-2025': did you mean 'peskov'?",
        "Error: --position: statement 'peskv-2025-03-14-ceasefire': 'conditional' is not a "
        "point on the scale of issue 'ceasefire' (choose from: immediate_unconditional, "
        "temporary_ceasefire, conditional_ceasefire, settlement_first, no_ceasefire, "
        "noncommittal)",
    ]
    newcomer = run_cli("--store", seeded_url, *PESKOV[:2], "lavrov", *PESKOV[3:])
    assert newcomer.err == (
        "Error: --by: statement 'lavrov-2025-03-14-ceasefire': 'lavrov' is neither a speaker "
        "nor a party of 'ukraine-2025' (define one with --new-speaker NAME --party P)\n"
    )
    no_scheme = run_cli("--store", seeded_url, *PESKOV[:-1], "example.org/briefing")
    assert no_scheme.err == (
        "Error: --source-url: 'example.org/briefing': a url starts with http:// or https:// "
        "and holds no spaces: write 'https://example.org/briefing'\n"
    )
    term = run_cli("--store", seeded_url, *PESKOV, "--term", "days")
    assert term.err == "Error: --term 'days': expected KEY=VALUE, e.g. duration_days=30\n"
    for result in (planned, newcomer, no_scheme, term):
        assert result.code == 2
    assert len(statements(seeded_url)) == count


def test_a_new_speaker_is_defined_with_the_statement_and_terms_are_typed(seeded_url: str) -> None:
    added = run_cli(
        "--store", seeded_url, "add", "--by", "lavrov", "--party", "russia", "--new-speaker",
        "Sergei Lavrov", "--role", "Foreign minister", "--rank", "minister", "--on",
        "before 2025-03-15", "--issue", "nato", "--position", "off_the_table", "--term",
        "treaty=true", "--term", "years=20", "--quote", "Never.", "--outlet", "TASS",
        "--published", "2025-03-15", "--format", "json",
    )  # fmt: skip
    assert added.code == 0, added.err
    assert added.err == (
        "Recorded statement 'lavrov-before-2025-03-15-nato' in ukraine-2025 (3 events).\n"
    )
    [row] = json.loads(added.out)
    assert (row["speaker"], row["stated_on"]) == ("Sergei Lavrov", "before 2025-03-15")
    assert row["terms"] == {"treaty": True, "years": 20}
    speakers = run_cli("--store", seeded_url, "history", "--speaker", "lavrov", "--format", "csv")
    assert speakers.code == 0 and "lavrov-before-2025-03-15-nato" in speakers.out


def _drive(args: list[str], answers: list[str], timeout: float = 60.0) -> tuple[int, str]:
    """Run ``positions ARGS`` on a pseudo-terminal, typing each answer once its prompt (a
    line ending with ': ') is shown; what the terminal showed, and the exit status."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "positions", *args],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        cwd=ROOT,
        env=process_env({"TERM": "dumb", "COLUMNS": "120"}),
        close_fds=True,
    )
    os.close(follower)
    shown = b""
    pending = list(answers)
    deadline = time.monotonic() + timeout
    prompts = 0
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([leader], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(leader, 4096)
                except OSError:
                    break
                if not chunk:
                    break
                shown += chunk
            # a prompt is answered once input() shows its own " " (readline is reading then)
            if shown.count(b": ") > prompts and pending and shown.endswith(b": "):
                prompts = shown.count(b": ")
                os.write(leader, pending.pop(0).encode())
            if process.poll() is not None and not ready:
                break
    finally:
        os.close(leader)
        process.wait(timeout=30)
    return process.returncode, shown.decode("utf-8", "replace")


def test_add_i_asks_for_each_field_with_the_codebooks_choices_and_asks_again_on_a_bad_answer(
    seeded_url: str,
) -> None:
    answers = [
        "pesk\t\r",  # Tab completes the speaker's id
        "15.03.2025\r",  # not a date: asked again
        "2025-03-15\r",
        "cesefire\r",  # not an issue: asked again
        "ceasefire\r",
        "conditional_ceasefire\r",
        "us-30-day-ceasefire\r",
        "undecided\r",
        "We are studying it.\r",
        "https://tass.example/1\r",
        "TASS\r",
        "\r",
        "\r",
    ]
    code, shown = _drive(["--store", seeded_url, "add", "-i"], answers)
    assert code == 0, shown
    assert "Dmitry Peskov, russia" in shown  # the speakers offered
    assert "Accepts a ceasefire only once stated conditions are met" in shown  # the scale
    assert "The verdict [accept/accept_with_conditions/undecided/reject]:" in shown
    assert (
        "'15.03.2025' is not a date: write YYYY-MM-DD, YYYY-MM-DDTHH:MM (a time of day), or "
        "before YYYY-MM-DD; try again"
    ) in shown
    assert "'cesefire' is not one of the choices: did you mean 'ceasefire'?; try again" in shown
    assert "Recorded statement 'peskov-2025-03-15-ceasefire' in ukraine-2025" in shown
    row = next(
        r for r in statements(seeded_url) if r["statement_id"] == "peskov-2025-03-15-ceasefire"
    )
    assert (row["speaker"], row["verdict"], row["proposal"]) == (
        "peskov", "undecided", "us-30-day-ceasefire"
    )  # fmt: skip
    assert json.loads(str(row["sources"])) == [{"outlet": "TASS", "url": "https://tass.example/1"}]


def test_add_needs_a_store_that_exists(tmp_path: Path) -> None:
    result = run_cli("add", "--store", str(tmp_path / "none.db"), *PESKOV[1:])
    assert (result.code, result.out) == (2, "")
    assert (
        result.err
        == f"Error: store {tmp_path / 'none.db'} does not exist (import a scenario first)\n"
    )
    assert not (tmp_path / "none.db").exists()


def test_add_records_a_joint_statement_from_a_repeated_party(seeded_url: str) -> None:
    added = run_cli(
        "--store",
        seeded_url,
        "add",
        "--party",
        "us",
        "--party",
        "ukraine",
        "--on",
        "2025-03-14",
        "--issue",
        "nato",
        "--position",
        "door_open",
        "--quote",
        "Together.",
        "--source-url",
        "https://example.org/joint",
    )
    assert added.code == 0, added.err
    assert added.out.splitlines()[0] == (
        "Recorded statement 'us-ukraine-2025-03-14-nato' in ukraine-2025 (2 events)."
    )
    stance = run_cli("--store", seeded_url, "stance", "--issue", "nato", "--format", "json")
    cells = {r["party"]: r["statement_id"] for r in json.loads(stance.out)}
    assert cells["us"] == cells["ukraine"] == "us-ukraine-2025-03-14-nato"
