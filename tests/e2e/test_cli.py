"""The CLI through its real entry point: ``main()`` in process, and ``python -m positions`` in a
real process where the process itself matters (a terminal, the modules a cold start imports)."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from positions.clidoc import generate
from tests.conftest import ROOT, SEED, run_cli
from tests.helpers import SEED_IMPORTED
from tests.runner import process_env, run_process

RIVER = ROOT / "fixtures" / "example-river-talks.yaml"


def test_import_reports_what_it_recorded_and_a_second_import_adds_nothing(store: str) -> None:
    first = run_cli("--store", store, "import", str(SEED))
    assert (first.code, first.err) == (0, "")
    assert first.out == SEED_IMPORTED
    second = run_cli("--store", store, "import", str(SEED))
    assert second.out == "Nothing new: 1 file(s) already recorded in ukraine-2025.\n"


def test_an_import_lists_the_cells_it_moved_and_the_statements_that_set_none(
    seeded: str, tmp_path: Path
) -> None:
    more = tmp_path / "more.yaml"
    more.write_text(
        "negotiation: ukraine-2025\n"
        "statements:\n"
        "  - {id: lavrov-still, on: 2025-03-15, by: russia, issue: nato, position: off_the_table,"
        " quote: Still., sources: [https://example.org/l]}\n"
        "  - {id: peskov-earlier, on: 2025-03-01, by: peskov, issue: ceasefire,"
        " position: settlement_first, quote: Earlier., sources: [https://example.org/o]}\n"
        "  - {id: us-conditions, on: 2025-03-15, by: us, proposal: us-30-day-ceasefire,"
        " verdict: accept_with_conditions, quote: Only so., sources: [https://example.org/v]}\n"
        "corrections:\n"
        "  - {statement: rubio-deterrent-on-the-ground, reason: re-read,"
        " position: no_foreign_troops}\n",
        encoding="utf-8",
    )
    imported = run_cli("--store", seeded, "import", str(more))
    assert (imported.code, imported.err) == (0, "")
    assert imported.out == (
        "Recorded 3 statement(s), 0 definition(s) and 1 correction(s) in ukraine-2025 "
        "(8 events).\n"
        "moved: us on foreign_troops: noncommittal → no_foreign_troops "
        "(rubio-deterrent-on-the-ground)\n"
        "moved: us on us-30-day-ceasefire: accept → accept_with_conditions (us-conditions)\n"
        "set no cell in force: 1 statement(s): peskov-earlier\n"
    )
    again = tmp_path / "again.yaml"
    again.write_text(more.read_text().replace("us-conditions", "us-conditions-2"))
    quiet = run_cli("--store", seeded, "import", "--quiet", str(again))
    assert quiet.out == (
        "Recorded 1 statement(s) and 0 definition(s) in ukraine-2025 (2 events).\n"
    )  # --quiet: the counts alone


def test_the_store_can_come_from_the_environment(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'env.db'}"
    assert run_cli("import", str(SEED), env={"POSITIONS_STORE": url}).code == 0
    assert (tmp_path / "env.db").exists()


def test_the_default_store_is_positions_db_in_the_working_directory(tmp_path: Path) -> None:
    assert run_cli("import", str(SEED), cwd=tmp_path).code == 0
    assert (tmp_path / "positions.db").exists()
    assert run_cli("compare", cwd=tmp_path).code == 0


def test_stance_json_has_the_documented_fields(seeded: str) -> None:
    result = run_cli(
        "--store",
        seeded,
        "stance",
        "--party",
        "russia",
        "--issue",
        "foreign_troops",
        "--as-of",
        "2025-03-12",
        "--format",
        "json",
    )
    rows = json.loads(result.out)
    recorded = datetime.fromisoformat(rows[0].pop("recorded_at"))
    assert recorded.tzinfo is not None
    assert rows == [
        {
            "party": "russia",
            "issue": "foreign_troops",
            "position": "no_nato_country_troops",
            "rank": 4,
            "terms": None,
            "stated_on": "before 2025-03-13",
            "date": "2025-03-12",
            "statement_id": "moscow-no-nato-country-troops",
            "speaker": "Russia",
            "quote": "Previously, Moscow said it would be unacceptable for troops from NATO countries "
            "to be present in Ukraine, even under national flags.",
            "claimed_by": None,
            "shift": "new",
            "shift_ranks": None,
            "contested": False,
        }
    ]


def test_claims_appear_in_stance_only_with_claims(seeded: str) -> None:
    plain = json.loads(
        run_cli(
            "--store", seeded, "stance", "--party", "us", "--issue", "nato", "--format", "json"
        ).out
    )
    assert [r["claimed_by"] for r in plain] == [None]
    assert plain[0]["position"] is None and plain[0]["rank"] is None
    claimed = json.loads(
        run_cli(
            "--store",
            seeded,
            "stance",
            "--party",
            "us",
            "--issue",
            "nato",
            "--claims",
            "--format",
            "json",
        ).out
    )
    assert [(r["party"], r["position"], r["claimed_by"]) for r in claimed] == [
        ("us", None, None),
        ("us", "off_the_table", "russia"),
    ]


def test_proposals_json_has_the_documented_fields(seeded: str) -> None:
    rows = json.loads(run_cli("--store", seeded, "proposals", "--format", "json").out)
    russia = next(r for r in rows if r["party"] == "russia")
    assert {
        k: russia[k] for k in ("proposal", "party", "verdict", "stated_on", "statement_id")
    } == {
        "proposal": "us-30-day-ceasefire",
        "party": "russia",
        "verdict": "undecided",
        "stated_on": "2025-03-13",
        "statement_id": "peskov-not-a-rejection",
    }


def test_compare_csv_has_one_row_per_issue_and_party(seeded: str) -> None:
    lines = run_cli("--store", seeded, "compare", "--format", "csv").out.splitlines()
    assert lines[0] == "issue,party,position,rank,terms,statement_id,claims,spread,cell"
    assert len(lines) == 1 + 3 * 3


def test_history_since_and_until_list_the_rows_of_those_days_both_included(seeded: str) -> None:
    def ids(*window: str) -> list[str]:
        found = run_cli("--store", seeded, "history", *window, "--format", "json")
        assert (found.code, found.err) == (0, "")
        return [row["statement_id"] for row in json.loads(found.out)]

    assert ids("--since", "2025-03-12", "--until", "2025-03-12") == [
        "moscow-no-nato-country-troops",
        "ushakov-waltz-phone-call",
        "rubio-deterrent-on-the-ground",
        "trump-up-to-russia",
        "ushakov-waltz-call-temporary-respite",
    ]
    every = ids()
    assert ids("--since", "2025-03-12") + ids("--until", "2025-03-11") == (
        every[len(ids("--until", "2025-03-11")) :] + ids("--until", "2025-03-11")
    )
    assert ids("--until", "2025-03-11") == every[: len(ids("--until", "2025-03-11"))]
    table = run_cli("--store", seeded, "history", "--since", "2025-03-13", "--party", "russia")
    assert table.out.splitlines()[0] == "History of russia, from 2025-03-13"
    wrong = run_cli("--store", seeded, "history", "--since", "2025-03-14", "--until", "2025-03-12")
    assert (wrong.code, wrong.out) == (2, "")
    assert wrong.err == (
        "Error: --since 2025-03-14 is after --until 2025-03-12: no day lies between them\n"
    )


def test_history_search_finds_the_statements_holding_every_word_whatever_case_or_accent(
    seeded: str,
) -> None:
    def ids(*args: str) -> list[str]:
        found = run_cli("--store", seeded, "history", *args, "--format", "json")
        assert (found.code, found.err) == (0, "")
        return [row["statement_id"] for row in json.loads(found.out)]

    assert ids("--search", "NATO AMÉRICANS") == [
        "ushakov-claims-us-nato-off-the-table",
        "ushakov-no-talk-about-nato",
    ]
    assert ids("--search", "ceasefire") == [
        "kremlin-ruled-out-temporary-ceasefire",
        "ukraine-accepts-30-day-ceasefire",
        "ushakov-long-term-settlement",
    ]
    assert ids("--search", "ceasefire", "--party", "russia", "--since", "2025-03-12") == [
        "ushakov-long-term-settlement"
    ]
    assert ids("--search", "americ*") == ids("--search", "americans")
    assert ids("--search", "americ") == []
    table = run_cli("--store", seeded, "history", "--search", "ceasefire", "--party", "russia")
    assert table.out.splitlines()[0] == "History of russia matching 'ceasefire'"
    digest = run_cli(
        "--store", seeded, "digest", "2025-03-12", "--search", "troops", "--format", "json"
    )
    assert [row["statement_id"] for row in json.loads(digest.out)] == [
        "moscow-no-nato-country-troops",
        "rubio-deterrent-on-the-ground",
    ]


def test_digest_lists_a_day_issue_by_issue_with_the_cells_each_statement_moved(
    seeded: str,
) -> None:
    found = run_cli(
        "--store", seeded, "digest", "2025-03-13", "--format", "csv",
        "--columns", "issue,statement_id,moved",
    )  # fmt: skip
    assert (found.code, found.err) == (0, "")
    assert found.out.splitlines() == [
        "issue,statement_id,moved",
        ",russia-says-sudzha-recaptured,",
        ",witkoff-arrives-in-moscow,",
        "ceasefire,ushakov-long-term-settlement,",
        "ceasefire,peskov-not-a-rejection,",
        "foreign_troops,zakharova-under-any-flag,"
        "russia on foreign_troops: no_nato_country_troops → no_foreign_troops",
        "nato,ushakov-claims-us-nato-off-the-table,",
        "nato,ushakov-no-talk-about-nato,russia on nato: — → off_the_table",
    ]
    window = run_cli("--store", seeded, "digest", "--since", "2025-03-12", "--until", "2025-03-13")
    assert window.out.splitlines()[0] == "Digest, 2025-03-12 to 2025-03-13"
    both = run_cli("--store", seeded, "digest", "2025-03-13", "--since", "2025-03-01")
    assert (both.code, both.err) == (2, "Error: give a DATE or --since/--until, not both\n")


def test_compare_and_proposals_of_one_party_on_one_issue(seeded: str) -> None:
    def rows(*args: str) -> list[dict[str, object]]:
        found = run_cli("--store", seeded, *args, "--format", "json")
        assert (found.code, found.err) == (0, "")
        return list(json.loads(found.out))

    whole = rows("compare")
    assert rows("compare", "--party", "russia") == [r for r in whole if r["party"] == "russia"]
    assert rows("compare", "--issue", "nato") == [r for r in whole if r["issue"] == "nato"]
    assert [r["party"] for r in rows("proposals", "--party", "ukraine")] == ["ukraine"]
    assert rows("proposals", "--issue", "nato") == []
    table = run_cli("--store", seeded, "compare", "--party", "russia", "--issue", "nato")
    assert table.out.splitlines()[0] == "Positions of russia on nato"
    unknown = run_cli("--store", seeded, "proposals", "--issue", "water")
    assert (unknown.code, unknown.err) == (
        2,
        "Error: unknown issue 'water' (known: ceasefire, foreign_troops, nato)\n",
    )


def test_compare_markdown_matches_the_golden_table(seeded: str) -> None:
    out = run_cli("--store", seeded, "compare", "--as-of", "2025-03-13", "--format", "markdown").out
    golden = (ROOT / "tests" / "golden" / "compare-2025-03-13.md").read_text(encoding="utf-8")
    assert out.splitlines()[2:] == golden.splitlines()[2:]


def test_history_lists_the_clarification_after_what_it_clarifies(seeded: str) -> None:
    rows = json.loads(
        run_cli(
            "--store",
            seeded,
            "history",
            "--party",
            "russia",
            "--issue",
            "ceasefire",
            "--format",
            "json",
        ).out
    )
    assert [r["statement_id"] for r in rows] == [
        "kremlin-ruled-out-temporary-ceasefire",
        "ushakov-waltz-call-temporary-respite",
        "ushakov-long-term-settlement",
        "peskov-not-a-rejection",
    ]
    assert (
        rows[3]["kind"] == "clarification" and rows[3]["target"] == "ushakov-long-term-settlement"
    )


def test_table_output_is_plain_text_in_a_pipe(seeded: str) -> None:
    out = run_cli("--store", seeded, "compare").out
    assert "\x1b[" not in out
    assert "no_foreign_troops" in out and "off_the_table (claimed by russia)" in out


def test_replay_prints_the_comparison_and_writes_nothing(tmp_path: Path) -> None:
    result = run_cli(
        "replay", str(RIVER), "--as-of", "2024-05-08", "--format", "json", cwd=tmp_path
    )
    assert result.code == 0, result.err
    cells = {(r["issue"], r["party"]): r["position"] for r in json.loads(result.out)}
    assert cells[("flow_share", "upstream")] == "no_commitment"
    assert cells[("dam_filling", "upstream")] == "notified_schedule"
    assert list(tmp_path.iterdir()) == []


def test_a_negotiation_with_issues_of_its_own_works_end_to_end(store: str) -> None:
    assert run_cli("--store", store, "import", str(RIVER)).code == 0
    rows = json.loads(run_cli("--store", store, "proposals", "--format", "json").out)
    assert {r["party"]: r["verdict"] for r in rows} == {
        "upstream": "accept_with_conditions",
        "downstream": "reject",
        "mediator": "accept",
    }
    upstream = next(r for r in rows if r["party"] == "upstream")
    assert upstream["conditions"] == (
        "the minimum applies in the dry season only; downstream drops its claim to half the flow"
    )
    # the retraction of the hardening restores nothing by itself: the earlier statement counts again
    # only because it was never ended
    stance = json.loads(
        run_cli(
            "--store",
            store,
            "stance",
            "--party",
            "upstream",
            "--issue",
            "flow_share",
            "--format",
            "json",
        ).out
    )
    assert stance[0]["position"] == "seasonal_minimum"


def test_several_negotiations_need_negotiation(seeded: str) -> None:
    assert run_cli("--store", seeded, "import", str(RIVER)).code == 0
    result = run_cli("--store", seeded, "compare")
    assert (result.code, result.out) == (2, "")
    assert result.err == (
        f"Error: store {seeded} holds several negotiations (ukraine-2025, river-talks): "
        "choose one with --negotiation (or POSITIONS_NEGOTIATION)\n"
    )
    chosen = run_cli(
        "--store", seeded, "compare", "--negotiation", "river-talks", "--format", "csv"
    )
    assert chosen.code == 0 and "flow_share" in chosen.out
    by_variable = run_cli(
        "--store",
        seeded,
        "compare",
        "--format",
        "csv",
        env={"POSITIONS_NEGOTIATION": "river-talks"},
    )
    assert by_variable == chosen
    misspelt = run_cli("--store", seeded, "compare", "--negotiation", "river-talk")
    assert misspelt.err == (
        f"Error: unknown negotiation 'river-talk' in store {seeded} (it holds: ukraine-2025, "
        "river-talks): did you mean 'river-talks'?\n"
    )
    listed = json.loads(run_cli("--store", seeded, "negotiations", "--format", "json").out)
    assert [(n["negotiation"], n["statements"]) for n in listed] == [
        ("ukraine-2025", 11),
        ("river-talks", 8),
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["compare", "--as-of", "13/03/2025"],
            "Error: --as-of: '13/03/2025' is not a date (expected YYYY-MM-DD)\n",
        ),
        (
            ["stance", "--party", "france"],
            "Error: unknown party 'france' (known: russia, ukraine, us)\n",
        ),
        (
            ["stance", "--issue", "grain"],
            "Error: unknown issue 'grain' (known: ceasefire, foreign_troops, nato)\n",
        ),
        (
            ["history", "--issue", "grain"],
            "Error: unknown issue 'grain' (known: ceasefire, foreign_troops, nato)\n",
        ),
        (
            ["history", "--search", "-- '*'"],
            "Error: --search \"-- '*'\" holds no word to look for (words are letters and digits)\n",
        ),
        (
            ["compare", "--negotiation", "gaza"],
            "Error: unknown negotiation 'gaza' in store {store} (it holds: ukraine-2025)\n",
        ),
        (
            ["stance", "--format", "xml"],
            "Error: Invalid value for '--format': 'xml' is not one of 'table', 'markdown', 'csv', "
            "'json', 'jsonl'. (see 'positions stance --help')\n",
        ),
    ],
)
def test_query_errors_are_one_line_and_exit_2(seeded: str, args: list[str], message: str) -> None:
    result = run_cli("--store", seeded, *args)
    assert (result.code, result.out, result.err) == (2, "", message.format(store=seeded))


def test_a_store_that_does_not_exist_is_an_error_and_is_not_created(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'missing.db'}"
    result = run_cli("--store", url, "compare")
    assert (result.code, result.err) == (
        2,
        f"Error: store {url} does not exist (import a scenario first)\n",
    )
    assert not (tmp_path / "missing.db").exists()


def test_a_plain_path_is_an_sqlite_store_and_store_may_follow_the_command(
    tmp_path: Path,
) -> None:
    imported = run_cli("--store", "talks.db", "import", str(SEED), cwd=tmp_path)
    assert (imported.code, imported.err) == (0, "")
    assert (tmp_path / "talks.db").is_file()
    by_url = run_cli("--store", "sqlite:///talks.db", "stance", "--format", "csv", cwd=tmp_path)
    after = run_cli("stance", "--format", "csv", "--store", "talks.db", cwd=tmp_path)
    absolute = run_cli("stance", "--store", str(tmp_path / "talks.db"), "--format", "csv")
    assert by_url.code == 0 and "temporary_ceasefire" in by_url.out
    assert after == by_url == absolute
    # after the command it wins over the one before it and over POSITIONS_STORE
    env = {"POSITIONS_STORE": "sqlite:///elsewhere.db"}
    both = run_cli(
        "--store",
        "none.db",
        "stance",
        "--format",
        "csv",
        "--store",
        "talks.db",
        cwd=tmp_path,
        env=env,
    )
    assert both == by_url
    missing = run_cli("compare", "--store", "none.db", cwd=tmp_path)
    assert missing.err == "Error: store none.db does not exist (import a scenario first)\n"
    assert not (tmp_path / "none.db").exists() and not (tmp_path / "elsewhere.db").exists()
    assert run_cli("schema", "--store", "talks.db").err.startswith("Error: No such option")


def test_an_unknown_store_url_is_an_error() -> None:
    result = run_cli("--store", "mysql://x/y", "compare")
    assert result.code == 2
    assert result.err == (
        "Error: unknown store URL 'mysql://x/y': use sqlite:///path/to/file.db, memory:// "
        "or postgresql://user@host:port/database\n"
    )


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://analyst:s3cret@127.0.0.1:1/nowhere",
        "postgresql://analyst@127.0.0.1:1/nowhere?password=s3cret",
        "postgresql://analyst@127.0.0.1:1/nowhere?schema=x&password=s3cret",
        "postgresql://analyst@127.0.0.1:1/nowhere#s3cret",
        "postgresql://analyst:s3cret127.0.0.1:5432/nowhere",
        # a URL missing its slashes or its scheme, and user info in SQLite or memory URLs
        "postgresql:/u:s3cret@127.0.0.1/db",
        "postgresql//u:s3cret@127.0.0.1/db",
        "postgresql:u:s3cret@127.0.0.1/db",
        "u:s3cret@127.0.0.1/db",
        "memory://u:s3cret@x",
        "sqlite://u:s3cret@/tmp/x.db",
        "sqlite://:s3cret@/x.db",
    ],
)
def test_a_store_password_never_appears_in_errors(url: str) -> None:
    result = run_cli("--store", url, "compare")
    assert result.code == 2
    assert result.err.startswith("Error: ") and result.err.count("\n") == 1, result.err
    assert "s3cret" not in result.out + result.err and "Traceback" not in result.err
    assert "***" in result.err, result.err


def test_a_bad_scenario_names_file_and_line_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        SEED.read_text(encoding="utf-8").replace(
            "position: no_foreign_troops", "position: no_troops"
        ),
        encoding="utf-8",
    )
    line = next(n for n, text in enumerate(bad.read_text().splitlines(), 1) if "no_troops" in text)
    url = f"sqlite:///{tmp_path / 'store.db'}"
    result = run_cli("--store", url, "import", str(bad))
    assert result.code == 2
    assert result.err == (
        f"Error: {bad}:{line}: statement 'zakharova-under-any-flag': 'no_troops' is not a point on "
        "the scale of issue 'foreign_troops' (choose from: nato_presence, european_contingent, "
        "neutral_peacekeepers, no_nato_country_troops, no_foreign_troops, noncommittal)\n"
    )
    assert [p.name for p in tmp_path.iterdir()] == ["bad.yaml"]  # no store, no temporary file


def test_a_first_import_is_made_under_a_temporary_name_and_leaves_only_the_store(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    result = run_cli("--store", url, "import", str(SEED))
    assert result.code == 0, result.err
    assert [p.name for p in tmp_path.iterdir()] == ["store.db"]
    assert oct((tmp_path / "store.db").stat().st_mode & 0o777) == oct(0o666 & ~_umask())
    assert run_cli("--store", url, "verify").code == 0
    again = run_cli("--store", url, "import", str(SEED))
    assert again.out.startswith("Nothing new"), again.out


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_a_bad_scenario_into_an_existing_store_changes_nothing(seeded: str, tmp_path: Path) -> None:
    path = Path(seeded.removeprefix("sqlite:///"))
    before = sqlite3.connect(path).execute("select count(*) from stored_events").fetchone()
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "negotiation: ukraine-2025\nstatements:\n  - {id: x, on: 2025-03-14, by: nobody, position: a}\n"
    )
    result = run_cli("--store", seeded, "import", str(bad))
    assert result.code == 2 and result.err.startswith(f"Error: {bad}:3: statement 'x': ")
    after = sqlite3.connect(path).execute("select count(*) from stored_events").fetchone()
    assert before == after


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            b"negotiation: t\nparties: &p\n  - {id: a, name: A}\nx: *p\n",
            "4: YAML aliases (*name) are not allowed in scenario files",
        ),
        (b"negotiation: t\nnegotiation: u\n", "2: duplicate key 'negotiation' (first at line 1)"),
        (b'negotiation: t\ntitle: "\xff"\n', "2: is not valid UTF-8"),
        (b"negotiation: t\n  bad: [\n", "2: malformed YAML: mapping values are not allowed here"),
        (b"", "1: is empty"),
        (b"- a\n- b\n", "1: must be a mapping with a 'negotiation' key"),
        (
            b'{"negotiation": "t", "parties": [{"id": "a"}]}',
            "1: parties[0] (a).name: required field is missing",
        ),
    ],
)
def test_malformed_files_get_one_located_line(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "f.yaml"
    path.write_bytes(content)
    result = run_cli("--store", "memory://", "import", str(path))
    assert (result.code, result.out, result.err) == (2, "", f"Error: {path}:{message}\n")


def test_a_missing_file_is_named() -> None:
    result = run_cli("--store", "memory://", "import", "no/such.yaml")
    assert (result.code, result.err) == (2, "Error: no/such.yaml: no such file\n")


def test_version_and_help() -> None:
    version = run_cli("--version")
    assert version.code == 0 and version.out.startswith("positions ")
    for command in (
        "import",
        "stance",
        "history",
        "compare",
        "proposals",
        "replay",
        "negotiations",
        "timeline",
        "report",
    ):
        help_text = run_cli(command, "--help").out
        assert "Example:" in help_text, command


def test_the_cli_reference_is_current_and_documents_every_command() -> None:
    assert (ROOT / "docs" / "cli.md").read_text(encoding="utf-8") == generate(), "run `make docs`"


@pytest.fixture(scope="module")
def large_import(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    from benchmarks.generate import generate

    folder = tmp_path_factory.mktemp("large")
    generate(1500, folder)
    paths = sorted(folder.glob("*.json"))
    assert sum(p.stat().st_size for p in paths) > 256 * 1024
    return paths


def _in_a_terminal(*args: str) -> str:
    """Run the CLI under a pseudo-terminal (util-linux `script`) and return what it showed."""
    import shlex
    import subprocess
    import sys

    command = shlex.join([sys.executable, "-m", "positions", *args])
    done = subprocess.run(
        ["script", "-qec", command, "/dev/null"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
        timeout=300,
        env={"PATH": "/usr/bin:/bin", "TERM": "xterm", "COLUMNS": "120"},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.mark.slow
def test_a_large_import_shows_progress_on_a_terminal_only(
    large_import: list[Path], tmp_path: Path
) -> None:
    shown = _in_a_terminal(
        "--store", f"sqlite:///{tmp_path / 'a.db'}", "import", *map(str, large_import)
    )
    assert "Reading" in shown and "Writing" in shown and "statements/s" in shown
    assert "Recorded 1500 statement(s)" in shown
    quiet = _in_a_terminal(
        "--store", f"sqlite:///{tmp_path / 'b.db'}", "import", "--quiet", *map(str, large_import)
    )
    assert "Reading" not in quiet and "Recorded 1500 statement(s)" in quiet
    piped = run_cli("--store", f"sqlite:///{tmp_path / 'c.db'}", "import", *map(str, large_import))
    assert (piped.code, piped.err) == (0, "")
    assert piped.out.startswith("Recorded 1500 statement(s)")


def test_compare_on_a_terminal_reads_the_store_without_importing_polars_or_yaml(
    tmp_path: Path,
) -> None:
    """Cold start: ``positions compare`` needs neither polars nor the YAML reader (a frame is
    built only for csv and json)."""
    store = f"sqlite:///{tmp_path / 'store.db'}"
    assert run_cli("--store", store, "import", str(SEED)).code == 0
    probe = (
        "import sys\n"
        "from positions.cli import main\n"
        f"assert main(['--store', {store!r}, 'compare', '--format', 'markdown']) in (0, None)\n"
        "print(sorted(m for m in ('polars', 'yaml') if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    assert "| ceasefire |" in done.stdout
    assert done.stdout.rstrip().endswith("[]")


def test_a_closed_output_pipe_ends_python_m_positions_quietly_with_status_0(seeded: str) -> None:
    """docs/errors.md: ``positions history | head`` is not an error. The reader here closes the
    pipe before the command writes, so every write fails."""
    writer = subprocess.Popen(
        [sys.executable, "-m", "positions", "--store", seeded, "history", "--format", "json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=process_env(),
        cwd=ROOT,
    )
    assert writer.stdout is not None and writer.stderr is not None
    writer.stdout.close()
    err = writer.stderr.read()
    writer.stderr.close()
    assert (writer.wait(timeout=120), err) == (0, b"")


def test_python_m_positions_prints_an_error_on_one_line_and_exits_2() -> None:
    """The real process: ``__main__`` hands main()'s status to the interpreter."""
    result = run_process("--store", "mysql://x/y", "compare")
    assert (result.code, result.out) == (2, "")
    assert result.err == (
        "Error: unknown store URL 'mysql://x/y': use sqlite:///path/to/file.db, memory:// "
        "or postgresql://user@host:port/database\n"
    )


def test_csv_and_json_on_a_terminal_show_control_characters_as_escapes(tmp_path: Path) -> None:
    """csv and json written to a pipe keep the data exact; on a terminal, a quote's ESC
    sequences are shown as ``\\u001b`` escapes rather than run."""
    from tests.helpers import store_with_one_statement

    hostile = "Cleared\x1b[2J and \x1b[31mred\x1b[0m."
    store = store_with_one_statement(tmp_path, quote=hostile)
    for fmt in ("csv", "json"):
        shown = _in_a_terminal("--store", store, "stance", "--party", "alpha", "--format", fmt)
        assert "\x1b[2J" not in shown and "\x1b[31m" not in shown, fmt
        assert "Cleared\\u001b[2J" in shown, fmt
        piped = run_cli("--store", store, "stance", "--party", "alpha", "--format", fmt).out
        assert "\x1b[2J" in piped or "\\u001b[2J" in piped, fmt  # json escapes ESC itself
    assert hostile in run_cli("--store", store, "stance", "--format", "csv").out


STANCE_80 = """\
Stance of russia
┏━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━━━┓
┃ issue          ┃ position          ┃ stated_on  ┃ quote                      ┃
┡━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━━━┩
│ ceasefire      │ settlement_first  │ 2025-03-13 │ Ushakov's remarks on a te… │
│ foreign_troops │ no_foreign_troops │ 2025-03-13 │ For us, it is absolutely … │
│ nato           │ off_the_table     │ 2025-03-13 │ the Americans and we thin… │
└────────────────┴───────────────────┴────────────┴────────────────────────────┘
Left out at 80 columns: rank, shift, speaker, statement_id (see --wide).
"""

STANCE_120 = """\
Stance of russia
┏━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━┓
┃ issue          ┃ position          ┃ stated_on  ┃ statement_id               ┃ speaker         ┃ quote               ┃
┡━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━┩
│ ceasefire      │ settlement_first  │ 2025-03-13 │ peskov-not-a-rejection     │ Dmitry Peskov   │ Ushakov's remarks … │
│ foreign_troops │ no_foreign_troops │ 2025-03-13 │ zakharova-under-any-flag   │ Maria Zakharova │ For us, it is abso… │
│ nato           │ off_the_table     │ 2025-03-13 │ ushakov-no-talk-about-nato │ Yuriy Ushakov   │ the Americans and … │
└────────────────┴───────────────────┴────────────┴────────────────────────────┴─────────────────┴─────────────────────┘
Left out at 120 columns: rank, shift (see --wide).
"""


@pytest.mark.parametrize(("columns", "expected"), [("80", STANCE_80), ("120", STANCE_120)])
def test_a_stance_table_fits_80_and_120_columns_without_breaking_a_token(
    seeded: str, columns: str, expected: str
) -> None:
    shown = run_cli("--store", seeded, "stance", "--party", "russia", env={"COLUMNS": columns})
    assert (shown.code, shown.err) == (0, "")
    assert shown.out == expected


COMPARE_80 = """\
Positions
┏━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━┓
┃ issue          ┃ russia            ┃ ukraine              ┃ us                   ┃
┡━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━┩
│ ceasefire      │ settlement_first  │ temporary_ceasefire… │ temporary_ceasefire… │
│ foreign_troops │ no_foreign_troops │ —                    │ noncommittal         │
│ nato           │ off_the_table     │ —                    │ —; off_the_table (c… │
└────────────────┴───────────────────┴──────────────────────┴──────────────────────┘
"""


def test_a_comparison_at_80_columns_cuts_terms_and_claims_never_a_label(seeded: str) -> None:
    """The cells hold a position with its terms and claims (60 and more characters): they
    are cut with … to the room, a column never narrower than its longest label and the …."""
    shown = run_cli("--store", seeded, "compare", env={"COLUMNS": "80"})
    assert (shown.code, shown.err) == (0, "")
    assert shown.out == COMPARE_80
    wide = run_cli("--store", seeded, "compare", "--wide", env={"COLUMNS": "80"})
    assert "temporary_ceasefire (duration_days: 30, scope: entire front line)" in wide.out


def test_wide_records_and_columns_choose_what_a_table_shows(seeded: str) -> None:
    wide = run_cli(
        "--store", seeded, "stance", "--party", "russia", "--wide", env={"COLUMNS": "80"}
    )
    assert "For us, it is absolutely unacceptable" in wide.out
    assert "│ rank │" not in wide.out and "┃ rank ┃" in wide.out
    records = run_cli("--store", seeded, "stance", "--party", "russia", "--records")
    assert records.out.splitlines()[1:4] == [
        "-[ RECORD 1 ]--",
        "issue        | ceasefire",
        "position     | settlement_first",
    ]
    picked = run_cli(
        "--store", seeded, "proposals", "--columns", "verdict,party", "--format", "csv"
    )
    assert picked.out.splitlines() == [
        "verdict,party",
        "undecided,russia",
        "accept,ukraine",
        "accept,us",
    ]
    wrong = run_cli("--store", seeded, "proposals", "--columns", "party,nope")
    assert wrong.code == 2
    assert wrong.err.startswith("Error: --columns: no column 'nope' here (the columns are ")


def test_verdicts_are_coloured_on_a_terminal_unless_no_color_is_asked(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'store.db'}"
    assert run_cli("--store", store, "import", str(SEED)).code == 0
    coloured = _in_a_terminal("--store", store, "proposals")
    assert "\x1b[33mundecided\x1b[0m" in coloured and "\x1b[32maccept\x1b[0m" in coloured
    plain = _in_a_terminal("--store", store, "proposals", "--no-color")
    assert "undecided" in plain and "\x1b[" not in plain
    piped = run_cli("--store", store, "proposals", env={"NO_COLOR": None})
    assert "undecided" in piped.out and "\x1b[" not in piped.out


def test_jsonl_is_one_object_a_line_the_items_of_the_json_array(seeded: str) -> None:
    for command in (["stance", "--claims"], ["compare"], ["proposals"], ["history"]):
        array = json.loads(run_cli("--store", seeded, *command, "--format", "json").out)
        lines = run_cli("--store", seeded, *command, "--format", "jsonl").out
        assert lines.endswith("\n")
        assert [json.loads(line) for line in lines.splitlines()] == array, command


def test_a_dash_writes_a_picture_a_report_or_an_export_to_the_standard_output(
    seeded: str, tmp_path: Path
) -> None:
    """``-`` is the standard output for every --out and export path: the output is the file
    alone, and what was written is said on the standard error."""
    svg = run_cli("--store", seeded, "timeline", "--issue", "nato", "--out", "-")
    assert (svg.code, svg.err) == (0, "Wrote to the standard output.\n")
    assert svg.out.startswith("<svg")
    page = run_cli("--store", seeded, "report", "--out", "-")
    assert page.code == 0 and page.out.startswith("<!DOCTYPE html>")
    rows = run_cli("--store", seeded, "export", "--what", "stance", "--format", "csv", "-")
    assert (rows.code, rows.err) == (0, "Wrote 10 stance row(s) to the standard output.\n")
    to_file = tmp_path / "stance.csv"
    written = run_cli("--store", seeded, "export", "--what", "stance", str(to_file))
    assert written.out == f"Wrote 10 stance row(s) to {to_file}.\n"
    assert rows.out == to_file.read_text(encoding="utf-8")
    unknown = run_cli("--store", seeded, "export", "--what", "stance", "-")
    assert unknown.code == 2
    assert unknown.err.startswith("Error: cannot tell the format of - from its extension")
    assert not (ROOT / "-").exists()  # never a file named -
