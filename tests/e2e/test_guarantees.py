"""Promises of the docs that a change once broke without any test noticing, each checked through
the CLI (``main()`` in process) or the public API, so that they hold whatever the read side is
made of: the closed pipe is in tests/e2e/test_cli.py (it needs a real process), verify's reorder
check in tests/integration/test_integrity.py, and the scenario messages (``quote_original``
without ``language``, YAML merge keys) in tests/e2e/test_documented_errors.py.

Each was checked by breaking the code it guards and watching it fail: the naive ``--known-at``
by dropping ``get_record``'s reading of a naive time as UTC; the markdown test by not escaping
``|``; the control-character test by not escaping a problem's message; the file-mode test by
leaving the renamed file at mkstemp's 0600; the export test by letting ``--what scenario`` take
``--format csv``; the proposals test by listing proposals whatever their tabling date; the
explain tests by dropping explain's own R6 wording for a noncommittal step."""

from __future__ import annotations

import json
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

from positions import PositionsApplication
from tests.conftest import SEED, run_cli
from tests.helpers import store_with_one_statement, write_scenario
from tests.strategies import codebook


def _ids(rows: list[dict[str, object]]) -> list[object]:
    return [row["statement_id"] for row in rows]


# -- --known-at without a time zone (docs/analysis.md: "UTC unless it gives an offset")


def test_a_known_at_without_an_offset_on_a_store_with_views_reads_as_utc(seeded: str) -> None:
    before = datetime.now(UTC)
    corrected = run_cli(
        "--store",
        seeded,
        "correct",
        "ushakov-waltz-call-temporary-respite",
        "--on",
        "2025-03-13",
        "--reason",
        "dated when Ushakov gave his account",
    )
    assert corrected.code == 0, corrected.err

    def verdicts(*known_at: str) -> list[tuple[object, object]]:
        result = run_cli(
            "--store", seeded, "proposals", "--as-of", "2025-03-12", *known_at, "--format", "json"
        )
        assert (result.code, result.err) == (0, ""), result.err
        return [(r["party"], r["verdict"]) for r in json.loads(result.out)]

    naive = verdicts("--known-at", before.replace(tzinfo=None).isoformat())
    assert naive == verdicts("--known-at", before.isoformat())
    assert ("russia", "reject") in naive  # the record before the correction moved Ushakov's call
    assert ("russia", "reject") not in verdicts()


def test_the_api_reads_a_known_at_without_a_time_zone_as_utc_on_an_sqlite_store(
    seeded: str,
) -> None:
    app = PositionsApplication.open(seeded)
    stamp = datetime.now(UTC)
    naive = app.get_record("ukraine-2025", known_at=stamp.replace(tzinfo=None))
    aware = app.get_record("ukraine-2025", known_at=stamp)
    assert [s.id for s in naive.statements] == [s.id for s in aware.statements]
    assert len(naive.statements) == 11


# -- markdown cells


def test_a_vertical_bar_in_a_markdown_cell_is_escaped(tmp_path: Path) -> None:
    data = codebook()
    data["statements"] = [
        {
            "id": "s1",
            "on": "2025-01-05",
            "by": "alpha",
            "issue": "border",
            "position": "monitored",
            "terms": {"crossings": "north | south"},
            "quote": "Crossings north | south.",
            "sources": [{"outlet": "Wire"}],
        }
    ]
    path = write_scenario(tmp_path / "bar.yaml", data)
    result = run_cli("replay", str(path), "--format", "markdown")
    assert result.code == 0, result.err
    row = next(line for line in result.out.splitlines() if line.startswith("| border |"))
    assert r"monitored (crossings: north \| south)" in row
    assert row.replace(r"\|", "").count("|") == 1 + len(data["parties"]) + 1


# -- problems are one line each


def test_control_characters_in_a_problem_are_escaped_so_it_stays_one_line(tmp_path: Path) -> None:
    path = tmp_path / "ctl.yaml"
    path.write_text(
        'negotiation: talks\nparties:\n  - {id: a, name: A, "fl\\nag\\u001b[31m": red}\n',
        encoding="utf-8",
    )
    result = run_cli("--store", "memory://", "import", str(path))
    assert (result.code, result.out) == (2, "")
    assert result.err == (
        f"Error: {path}:3: parties[0] (a).fl\\nag\\x1b[31m: unknown field "
        "(see docs/format.md for the fields a record takes)\n"
    )


# -- files written with --out


@pytest.mark.parametrize(
    "args",
    [
        ("timeline", "--issue", "ceasefire", "--out", "picture.svg"),
        ("report", "--out", "report.html"),
    ],
)
def test_a_picture_or_report_is_readable_by_everyone_like_any_new_file(
    seeded: str, tmp_path: Path, args: tuple[str, ...]
) -> None:
    result = run_cli("--store", seeded, *args, cwd=tmp_path)
    assert result.code == 0, result.err
    written = tmp_path / args[-1]
    assert stat.S_IMODE(written.stat().st_mode) == 0o644
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


# -- exports


@pytest.mark.parametrize("out", ["record.yaml", "record.csv"])
def test_a_scenario_export_in_another_format_is_refused(
    seeded: str, tmp_path: Path, out: str
) -> None:
    result = run_cli(
        "--store", seeded, "export", "--what", "scenario", "--format", "csv", out, cwd=tmp_path
    )
    assert (result.code, result.out, result.err) == (
        2,
        "",
        "Error: --what scenario writes YAML: use --format yaml or an .yaml file\n",
    )
    assert not (tmp_path / out).exists()


# -- proposals and --as-of


def test_a_proposal_tabled_after_the_as_of_date_is_not_listed(seeded: str) -> None:
    def listed(as_of: str) -> list[tuple[object, object, object]]:
        result = run_cli("--store", seeded, "proposals", "--as-of", as_of, "--format", "json")
        assert (result.code, result.err) == (0, ""), result.err
        return [(r["proposal"], r["party"], r["verdict"]) for r in json.loads(result.out)]

    assert listed("2025-03-10") == []  # tabled on 11 March
    assert ("us-30-day-ceasefire", "us", "accept") in listed("2025-03-11")


def test_a_proposal_tabled_later_than_a_verdict_on_it_is_listed_only_from_its_tabling(
    tmp_path: Path,
) -> None:
    data = codebook()  # plan-a is tabled by alpha on 2025-01-03
    data["statements"] = [
        {
            "id": "early-verdict",
            "on": "2025-01-02",
            "by": "beta",
            "issue": "water",
            "position": "share_none",
            "verdict": "reject",
            "proposal": "plan-a",
            "quote": "No.",
            "sources": [{"outlet": "Wire"}],
        }
    ]
    store = f"sqlite:///{tmp_path / 'early.db'}"
    assert (
        run_cli("--store", store, "import", str(write_scenario(tmp_path / "e.yaml", data))).code
        == 0
    )
    for as_of, expected in (("2025-01-02", []), ("2025-01-03", ["alpha", "beta", "gamma"])):
        result = run_cli("--store", store, "proposals", "--as-of", as_of, "--format", "json")
        assert (result.code, result.err) == (0, ""), result.err
        assert sorted(str(r["party"]) for r in json.loads(result.out)) == expected, as_of


# -- explain states R6 as docs/codebook.md does


def _explain(store: str, party: str, issue: str) -> list[tuple[object, object, object]]:
    result = run_cli("--store", store, "explain", party, issue, "--format", "json")
    assert (result.code, result.err) == (0, ""), result.err
    return [(r["statement_id"], r["effect"], r["rule"]) for r in json.loads(result.out)]


def test_explain_says_a_noncommittal_statement_leaves_the_position_on_the_scale_standing(
    tmp_path: Path,
) -> None:
    data = codebook()  # without beta's joint proposal on border, which would come later
    data["proposals"] = [p for p in data["proposals"] if p["id"] != "deal-e"]
    data["statements"] = [
        {
            "id": f"s{n}",
            "on": day,
            "by": "beta",
            "issue": "border",
            "position": position,
            "quote": "Said.",
            "sources": [{"outlet": "Wire"}],
        }
        for n, (day, position) in enumerate(
            [("2025-01-04", "closed"), ("2025-01-06", "noncommittal")], start=1
        )
    ]
    store = f"sqlite:///{tmp_path / 'r6.db'}"
    assert (
        run_cli("--store", store, "import", str(write_scenario(tmp_path / "r6.yaml", data))).code
        == 0
    )
    assert _explain(store, "beta", "border") == [
        ("s1", "sets the stance: the latest position in force", "R5"),
        ("s2", "noncommittal: leaves the earlier position standing", "R6"),
    ]
    stance = json.loads(
        run_cli(
            "--store", store, "stance", "--party", "beta", "--issue", "border", "--format", "json"
        ).out
    )
    assert [(r["position"], r["statement_id"]) for r in stance] == [("closed", "s1")]


def test_explain_says_noncommittal_sets_the_stance_only_when_nothing_on_the_scale_was_said(
    seeded: str,
) -> None:
    assert _explain(seeded, "us", "foreign_troops") == [
        ("rubio-deterrent-on-the-ground", "sets the stance: nothing on the scale was said", "R6")
    ]
    assert _explain(seeded, "us", "ceasefire") == [
        (
            "us-30-day-ceasefire",
            "sets the stance: tabling a proposal states the proposer's position",
            "R5, R7",
        ),
        ("trump-up-to-russia", "noncommittal: leaves the earlier position standing", "R6"),
    ]


def test_an_export_never_follows_a_planted_link_and_says_when_the_disk_is_full(
    tmp_path: Path, seeded: str
) -> None:
    """An export once wrote through a link planted at its fixed temporary name (OUT.part) and
    so overwrote the link's target, and said "Wrote" when the device was full. The temporary
    file has a random name made exclusively, a full device is one line and exit 2, and a
    device is written directly (the link to it is kept)."""
    out = tmp_path / "stance.csv"
    victim = tmp_path / "victim.txt"
    victim.write_text("keep", encoding="utf-8")
    (tmp_path / "stance.csv.part").symlink_to(victim)
    result = run_cli("--store", seeded, "export", "--what", "stance", str(out))
    assert result.code == 0, result.err
    assert victim.read_text(encoding="utf-8") == "keep"
    assert out.read_text(encoding="utf-8").startswith("party,issue,position")
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []
    full = run_cli("--store", seeded, "export", "--what", "stance", "--format", "csv", "/dev/full")
    assert full.code == 2 and full.err.startswith("Error: cannot write /dev/full: ")
    assert "Wrote" not in full.out
    parquet = run_cli(
        "--store", seeded, "export", "--what", "statements", "--format", "parquet", "/dev/full"
    )
    assert (parquet.code, parquet.err) == (
        2,
        "Error: cannot write /dev/full: No space left on device\n",
    )
    link = tmp_path / "null.csv"
    link.symlink_to("/dev/null")
    assert run_cli("--store", seeded, "export", "--what", "stance", str(link)).code == 0
    assert link.is_symlink()


def test_csv_cells_a_spreadsheet_would_run_are_neutralised_unless_raw_csv_is_given(
    tmp_path: Path,
) -> None:
    """OWASP's rule for CSV files: a text cell starting with =, +, -, @, a tab or a carriage
    return gets a leading apostrophe, in exports and in --format csv; --raw-csv writes them as
    they are."""
    formula = '=HYPERLINK("http://example.com","click")'
    store = store_with_one_statement(tmp_path, quote=formula)
    out = tmp_path / "stance.csv"
    assert run_cli("--store", store, "export", "--what", "stance", str(out)).code == 0
    assert '"\'=HYPERLINK(""http://example.com"",""click"")"' in out.read_text(encoding="utf-8")
    shown = run_cli("--store", store, "stance", "--format", "csv").out
    assert "'=HYPERLINK" in shown
    raw = run_cli("--store", store, "--raw-csv", "stance", "--format", "csv").out
    assert "'=HYPERLINK" not in raw and '"=HYPERLINK(' in raw


def _as_another_user() -> list[str] | None:
    """A command prefix that runs as ``nobody`` (root ignores file modes), [] where this is
    not root already, None where root cannot drop its rights here."""
    import os
    import shutil

    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        return None
    return ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]


def test_a_store_in_a_read_only_folder_answers_queries_and_verify_and_writes_nothing() -> None:
    """A store on read-only media or another user's: SQLite would need to write a lock file
    beside it; the store is opened read-only with no lock, queries and verify answer, and
    neither the file nor its folder changes."""
    import hashlib
    import os
    import stat
    import subprocess
    import sys
    import tempfile

    from tests.stores import in_ci

    prefix = _as_another_user()
    if prefix is None:
        reason = "running as root, and setpriv is missing to run as another user"
        if in_ci():
            pytest.fail(f"{reason} (in CI this test must run)")
        pytest.skip(reason)
    folder = Path(tempfile.mkdtemp())
    store = folder / "store.db"
    try:
        url = f"sqlite:///{store}"
        env = {k: v for k, v in os.environ.items() if k != "POSITIONS_STORE"}
        made = subprocess.run(  # a process that ends: SQLite folds its log into the file
            [sys.executable, "-m", "positions", "--store", url, "import", str(SEED)],
            capture_output=True,
            text=True,
            env=env,
            check=False,
            timeout=120,
        )
        assert made.returncode == 0, made.stderr
        store.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
        folder.chmod(0o555)
        before = hashlib.sha256(store.read_bytes()).hexdigest(), sorted(os.listdir(folder))
        for args, expected in (
            (["compare", "--format", "csv"], "nato,russia,off_the_table,3"),
            (
                ["history", "--party", "us", "--format", "csv"],
                "ushakov-claims-us-nato-off-the-table",
            ),
            (["verify"], "Verified the views"),
        ):
            done = subprocess.run(
                [*prefix, sys.executable, "-m", "positions", "--store", url, *args],
                capture_output=True,
                text=True,
                env=env,
                cwd="/",
                check=False,
                timeout=120,
            )
            assert done.returncode == 0, (args, done.stderr)
            assert expected in done.stdout, (args, done.stdout)
            assert "unexpected" not in done.stderr
        assert (
            hashlib.sha256(store.read_bytes()).hexdigest(),
            sorted(os.listdir(folder)),
        ) == before
    finally:
        folder.chmod(0o755)
        if store.exists():
            store.chmod(0o644)
        for path in folder.iterdir():
            path.unlink()
        folder.rmdir()


@pytest.mark.parametrize("args", [["compare"], ["history", "--format", "json"]])
def test_a_table_printed_to_a_full_disk_is_one_line_and_exit_2(
    seeded: str, args: list[str]
) -> None:
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "POSITIONS_STORE"}
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            [sys.executable, "-m", "positions", "--store", seeded, *args],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            check=False,
            timeout=60,
        )
    assert (done.returncode, done.stderr) == (
        2,
        "Error: cannot write to the standard output: No space left on device\n",
    )


def test_a_query_on_an_empty_file_leaves_it_empty_and_an_import_makes_it_a_store(
    tmp_path: Path,
) -> None:
    """SQLite makes any file it opens a database: a query on an empty file once wrote the
    views' tables into it. An empty file is no store to a query; an import makes it one."""
    empty = tmp_path / "empty.db"
    empty.touch()
    url = f"sqlite:///{empty}"
    result = run_cli("--store", url, "compare")
    assert (result.code, result.err) == (
        2,
        f"Error: store {url} does not exist (import a scenario first)\n",
    )
    assert empty.stat().st_size == 0
    assert run_cli("--store", url, "import", str(SEED)).code == 0
    assert "off_the_table" in run_cli("--store", url, "compare").out


def test_an_error_quoting_an_argument_or_a_file_name_escapes_its_control_characters(
    seeded: str, tmp_path: Path
) -> None:
    """An argument or a file name with ESC reached the terminal raw inside the error line."""
    result = run_cli("--store", seeded, "stance", "--party", "ru\x1b[2Jssia")
    assert result.err == (
        "Error: unknown party 'ru\\u001b[2Jssia' (known: russia, ukraine, us): "
        "did you mean 'russia'?\n"
    )
    name = tmp_path / "f\x1b[2Jname.yaml"
    name.write_text("negotiation: [\n", encoding="utf-8")
    result = run_cli("--store", seeded, "import", str(name))
    assert result.code == 2
    assert "\x1b" not in result.err and "f\\u001b[2Jname.yaml" in result.err


def test_a_view_row_naming_another_module_is_one_line_and_imports_nothing(seeded: str) -> None:
    _behind_the_tools_back(seeded, "UPDATE positions_view_definitions SET topic = 'this:x'")
    for command in (("compare",), ("history",), ("report", "--out", "-")):
        result = run_cli("--store", seeded, *command)
        assert (result.code, result.out) == (2, "")
        assert result.err == (
            "Error: unknown event topic 'this:x' (the store was changed behind the tool's "
            "back); run 'positions verify'\n"
        )


def test_a_reader_that_closes_the_pipe_of_out_dash_is_an_error_not_wrote(
    seeded: str, tmp_path: Path
) -> None:
    """The standard output's buffer wrote a large block to a pipe with one call that wrote
    part of it: `head -c 10` closed the pipe, and the command said `Wrote …` with status 0."""
    import subprocess
    import sys

    said = {
        "on": "2025-03-13", "by": "russia", "issue": "nato", "position": "off_the_table",
        "sources": [{"outlet": "Wire", "published": "2025-03-13"}],
    }  # fmt: skip
    long = [
        {"id": f"long-{n}", "quote": f"{n} " + "x" * 19_000, **json.loads(json.dumps(said))}
        for n in range(10)
    ]  # each its own copy: a shared one is written as a YAML alias
    more = write_scenario(
        tmp_path / "long.yaml", {"negotiation": "ukraine-2025", "statements": long}
    )
    assert run_cli("--store", seeded, "import", str(more)).code == 0
    command = [sys.executable, "-m", "positions", "--store", seeded, "export", "--what",
               "scenario", "--format", "yaml", "-"]  # fmt: skip
    writer = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert writer.stdout is not None and writer.stderr is not None
    writer.stdout.read(10)
    writer.stdout.close()
    err = writer.stderr.read().decode()
    writer.stderr.close()
    assert writer.wait(timeout=60) == 2, err
    assert err == "Error: cannot write to the standard output: Broken pipe\n"


@pytest.mark.parametrize(
    ("table", "change", "command", "kind"),
    [
        ("corrections", "payload = '{}'", ("import", "CORRECTION"), "correction"),
        ("definitions", "topic = 'positions.events:PartyRecordOpened'", ("history",), "definition"),
    ],
)
def test_a_view_row_the_tool_did_not_write_is_one_line_naming_rebuild(
    seeded: str, tmp_path: Path, table: str, change: str, command: tuple[str, ...], kind: str
) -> None:
    """A view row changed to JSON its class does not read (or to another event class) was a
    multi-line unexpected ValidationError."""
    correction = tmp_path / "fix.yaml"
    correction.write_text(
        "negotiation: ukraine-2025\ncorrections:\n  - statement: zakharova-under-any-flag\n"
        "    reason: again\n    position: no_foreign_troops\n",
        encoding="utf-8",
    )
    assert run_cli("--store", seeded, "import", str(correction)).code == 0
    _behind_the_tools_back(seeded, f"UPDATE positions_view_{table} SET {change}")
    args = [str(correction) if part == "CORRECTION" else part for part in command]
    result = run_cli("--store", seeded, *args)
    assert result.code == 2
    assert len(result.err.splitlines()) == 1, result.err
    assert result.err.startswith(f"Error: the views' {kind} row of event ")
    assert result.err.endswith("'positions rebuild' makes them again from the events\n")
    assert run_cli("--store", seeded, "rebuild").code == 0
    assert run_cli("--store", seeded, *args).code == 0


@pytest.mark.parametrize(
    "change", ["state = x'deadbeef'", "state = NULL", "originator_version = 'abc'"]
)
def test_an_events_row_changed_to_what_no_event_is_one_line_and_a_verify_finding(
    seeded: str, change: str
) -> None:
    """A state that is not the tool's JSON, a NULL state, a version that is no number: they
    were unexpected UnicodeDecodeError, TypeError or ValidationError for import and verify."""
    _behind_the_tools_back(seeded, f"UPDATE stored_events SET {change} WHERE rowid = 5")
    result = run_cli("--store", seeded, "import", str(SEED))
    assert result.code == 2
    assert len(result.err.splitlines()) == 1, result.err
    assert "please report" not in result.err
    assert result.err.endswith("run 'positions verify'\n")
    verified = run_cli("--store", seeded, "verify")
    assert verified.code == 1, verified.err
    assert verified.out.startswith("Tampered: negotiation 'ukraine-2025', version ")


def test_a_tracking_row_changed_to_what_is_no_notification_id_is_one_line_naming_rebuild(
    seeded: str,
) -> None:
    _behind_the_tools_back(seeded, "UPDATE tracking SET notification_id = 'x'")
    result = run_cli("--store", seeded, "compare")
    assert (result.code, result.out) == (2, "")
    assert result.err == (
        "Error: the views' tracking row of positions-views does not read back ('x' is not a "
        "notification id): they were changed behind the tool's back; 'positions rebuild' makes "
        "them again from the events\n"
    )
    assert run_cli("--store", seeded, "rebuild").code == 0
    assert run_cli("--store", seeded, "compare").code == 0


def test_a_stream_id_changed_to_what_is_no_uuid_is_a_verify_finding(seeded: str) -> None:
    """The library's notification reader raised `badly formed hexadecimal UUID string`, an
    unexpected ValueError for verify."""
    _behind_the_tools_back(
        seeded, "UPDATE stored_events SET originator_id = 'not-a-uuid' WHERE rowid = 5"
    )
    result = run_cli("--store", seeded, "verify")
    assert result.code == 1, result.err
    assert result.err == ""
    assert (
        "Tampered: the row after notification 4, version 0: cannot be read (badly formed "
        "hexadecimal UUID string)"
    ) in result.out.splitlines()


def _behind_the_tools_back(url: str, sql: str) -> None:
    """One SQL statement on an SQLite store's file, as someone with write access could."""
    import sqlite3

    conn = sqlite3.connect(url.removeprefix("sqlite:///"))
    try:
        conn.execute(sql)
        conn.commit()
    finally:
        conn.close()
