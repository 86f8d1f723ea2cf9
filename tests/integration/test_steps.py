"""The step tables: their SQL answers equal the rules read literally (the in-memory timeline over
the replayed streams) for any as-of date and recording time (`tests.stepcheck`); keeping them
import by import is checked in ``test_steps_upkeep.py``."""

from __future__ import annotations

import random
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from positions.application import PositionsApplication
from positions.queries.stance import StepQueries
from tests.stepcheck import RECORDS, T0, check_against_the_rules, record, scenario_of
from tests.stores import BACKENDS, any_store
from tests.strategies import START, codebook, said

RETRACTED_LATEST = [  # four positions of one party, then the latest retracted in a later import
    {
        "id": f"p{n}",
        "on": START + timedelta(days=n),
        "by": "alpha",
        "quote": "q",
        "sources": [{"outlet": "Wire"}],
        "issue": "water",
        "position": label,
    }
    for n, label in enumerate(["share_all", "share_half", "share_little", "share_none"])
] + [
    {
        "id": "r0",
        "on": START + timedelta(days=9),
        "by": "alpha",
        "quote": "q",
        "sources": [{"outlet": "Wire"}],
        "retracts": "p3",
    },
    {
        "id": "r1",
        "on": START + timedelta(days=10),
        "by": "alpha",
        "quote": "q",
        "sources": [{"outlet": "Wire"}],
        "retracts": "p2",
    },
]


MOVED_LATER = [  # the later of two positions, then corrected to a later date still
    {
        "id": f"p{n}",
        "on": START + timedelta(days=2 * n),
        "by": "alpha",
        "quote": "q",
        "sources": [{"outlet": "Wire"}],
        "issue": "border",
        "position": label,
    }
    for n, label in enumerate(["open", "closed"])
]


RETRACTED_ELSEWHERE = [  # a retraction carries its target's issue: corrected, it moves too
    {
        "id": "p0",
        "on": START,
        "by": "alpha",
        "quote": "q",
        "sources": [{"outlet": "Wire"}],
        "issue": "water",
        "position": "share_all",
    },
    {
        "id": "p1",
        "on": START,
        "by": "alpha",
        "quote": "q",
        "sources": [{"outlet": "Wire"}],
        "issue": "border",
        "position": "open",
    },
    {
        "id": "r0",
        "on": START,
        "by": "alpha",
        "quote": "q",
        "sources": [{"outlet": "Wire"}],
        "retracts": "p0",
    },
]


@pytest.mark.parametrize("backend", BACKENDS)
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=6)
@given(**RECORDS)
def test_the_step_tables_answer_as_the_rules_read_literally_at_any_date_and_recording_time(
    backend: str,
    tmp_path_factory: pytest.TempPathFactory,
    stmts: list[dict[str, Any]],
    order: Any,
    cuts: list[int],
    fixes: list[tuple[int, int, int]],
) -> None:
    """Six random records per backend (six more in ``test_steps_long_histories.py``, with
    R13's mean read the other way; the records that once broke it run apart, below):
    R13's mean in `history` read from the others' cells of each row's day, as short
    histories do."""
    with any_store(backend, tmp_path_factory.mktemp("steps")) as url:
        app, times = record(url, stmts, order, cuts, fixes)
        check_against_the_rules(app, times)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(
    ("stmts", "cuts", "fixes"),
    [
        (RETRACTED_LATEST, [4, 5], []),
        (MOVED_LATER, [], [(1, 1, 8)]),
        (RETRACTED_ELSEWHERE, [], [(0, 2, 0)]),
    ],
    ids=["retracted-latest", "moved-later", "retracted-elsewhere"],
)
def test_the_records_that_once_broke_the_step_tables_answer_as_the_rules_read_literally(
    backend: str,
    tmp_path_factory: pytest.TempPathFactory,
    stmts: list[dict[str, Any]],
    cuts: list[int],
    fixes: list[tuple[int, int, int]],
) -> None:
    with any_store(backend, tmp_path_factory.mktemp("steps")) as url:
        app, times = record(url, stmts, random.Random(0), cuts, fixes)
        check_against_the_rules(app, times)


def test_a_retraction_of_the_latest_of_many_positions_brings_back_the_one_before(
    tmp_path: Path,
) -> None:
    """Appended after many positions, a retraction of the latest leaves the previous one in
    force (R10): the step table finds it though it reads only the latest steps before."""
    url = f"sqlite:///{tmp_path / 'store.db'}"
    positions = [
        {
            "id": f"p{n:02d}",
            "on": START + timedelta(days=n),
            "by": "alpha",
            "quote": "q",
            "sources": [{"outlet": "Wire"}],
            "issue": "border",
            "position": ["open", "monitored", "closed"][n % 3],
        }
        for n in range(12)
    ]
    app = PositionsApplication.open(url, create=True)
    app.import_scenarios([scenario_of({**codebook(), "statements": positions}, "a.json")], now=T0)
    retraction = {
        "id": "r",
        "on": START + timedelta(days=20),
        "by": "alpha",
        "quote": "q",
        "sources": [{"outlet": "Wire"}],
        "retracts": "p11",
    }
    later = T0 + timedelta(hours=1)
    app.import_scenarios(
        [scenario_of({"negotiation": "generated", "statements": [retraction]}, "b.json")], now=later
    )
    assert app.views is not None
    with StepQueries(app.views, "generated", T0 + timedelta(hours=1)) as sql:
        border = [
            r
            for r in sql.stance_rows(claims=True)
            if (r["party"], r["issue"], r["claimed_by"]) == ("alpha", "border", None)
        ]
        assert [(r["position"], r["statement_id"]) for r in border] == [("monitored", "p10")]
        earlier = sql.stance_rows(START + timedelta(days=19), party="alpha", issue="border")
        assert [(r["position"], r["statement_id"]) for r in earlier] == [("closed", "p11")]
    with StepQueries(app.views, "generated", T0 + timedelta(minutes=30)) as before:
        rows = before.stance_rows(party="alpha", issue="border")
        assert [(r["position"], r["statement_id"]) for r in rows] == [("closed", "p11")]


def test_query_commands_on_a_terminal_read_the_step_tables_without_importing_polars(
    tmp_path: Path,
) -> None:
    """Cold start: `stance`, `proposals` and `history` in a human format render their rows
    straight from the step tables (a frame, and polars, only for csv and json)."""
    import subprocess
    import sys

    from tests.conftest import SEED
    from tests.runner import run_cli

    store = f"sqlite:///{tmp_path / 'store.db'}"
    assert run_cli("--store", store, "import", str(SEED)).code == 0
    commands = [
        ["stance", "--claims"],
        ["proposals", "--as-of", "2025-03-12"],
        ["history", "--party", "russia", "--issue", "ceasefire"],
    ]
    probe = (
        "import sys\n"
        "from positions.cli import main\n"
        + "".join(
            f"assert main(['--store', {store!r}, *{c!r}, '--format', 'markdown']) in (0, None)\n"
            for c in commands
        )
        + "print(sorted(m for m in ('polars', 'yaml') if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    assert "| russia | ceasefire | settlement_first |" in done.stdout
    assert "| us-30-day-ceasefire | ceasefire | russia |  | reject |" in done.stdout
    assert "| 2025-03-13 | russia | clarification | peskov-not-a-rejection |" in done.stdout
    assert done.stdout.rstrip().endswith("[]")


def test_a_noncommittal_statement_backfilled_under_positions_later_retracted_comes_into_force(
    tmp_path: Path,
) -> None:
    """The sweep of a backfill stops only once nothing can bring the backfilled statement back:
    here both positions on the scale are retracted later, so the noncommittal one backfilled
    between them sets the stance from then on (R6, R10)."""

    first = [
        said("c1", 1, issue="border", position="open"),
        said("c3", 6, issue="border", position="closed"),
        said("r1", 10, retracts="c1"),
        said("r3", 12, retracts="c3"),
    ]
    url = f"sqlite:///{tmp_path / 'store.db'}"
    app = PositionsApplication.open(url, create=True)
    app.import_scenarios([scenario_of({**codebook(), "statements": first}, "a.json")], now=T0)
    later = T0 + timedelta(hours=1)
    backfill = {
        "negotiation": "generated",
        "statements": [said("n0", 3, issue="border", position="noncommittal")],
    }
    app.import_scenarios([scenario_of(backfill, "b.json")], now=later)
    assert app.views is not None
    with StepQueries(app.views, "generated", T0 + timedelta(hours=1)) as sql:
        rows = sql.stance_rows(START + timedelta(days=13), party="alpha", issue="border")
        assert [(r["position"], r["statement_id"]) for r in rows] == [("noncommittal", "n0")]
    check_against_the_rules(app, [T0, later])


def _instructions(sql: StepQueries, question: Any) -> tuple[int, Any]:
    """How many SQLite virtual-machine instructions ``question`` (a call on ``sql``) runs, a
    measure of the rows it reads and not a time, and its answer."""
    connection = sql.cursor.sqlite_cursor.connection
    counted = [0]

    def count() -> int:
        counted[0] += 1
        return 0

    connection.set_progress_handler(count, 1)
    try:
        answer = question()
    finally:
        connection.set_progress_handler(None, 0)
    return counted[0], answer


def test_a_table_as_recorded_at_a_past_time_reads_its_groups_not_the_whole_record(
    tmp_path: Path,
) -> None:
    """`--known-at` reads the step table's rows of every recording time: an index serves them
    too, so a party's stance as recorded an hour ago reads as much on a record where another
    party said a thousand things more and the party itself spoke on another issue, and so do
    its verdicts (each cell once read every step row of the negotiation, for R16's rivals)."""
    own = [
        *(
            said(f"a{n}", n, issue="border", position=["open", "monitored", "closed"][n % 3])
            for n in range(3)
        ),
        said("a-verdict", 3, proposal="plan-a", verdict="accept"),
    ]
    water = ["share_all", "share_half", "share_little", "share_none"]
    others = [
        *(
            said(
                f"b{n}",
                3 + n % 300,
                "beta",
                issue="water",
                position=water[n % 4],
                proposal="plan-a",
                verdict=["accept", "reject"][n % 2],
            )
            for n in range(1000)
        ),
        # and alpha on another issue: its verdicts' index is not its whole record's
        *(said(f"w{n}", n % 300, issue="water", position=water[n % 4]) for n in range(500)),
    ]
    counts = []
    for name, statements in (("small", own), ("large", own + others)):
        app = PositionsApplication.open(f"sqlite:///{tmp_path / name}.db", create=True)
        data = {**codebook(), "statements": statements}
        app.import_scenarios([scenario_of(data, f"{name}.json")], now=T0)
        assert app.views is not None
        with StepQueries(app.views, "generated", T0 + timedelta(hours=1)) as sql:
            read, rows = _instructions(sql, partial(sql.stance_rows, party="alpha", issue="border"))
            assert [(r["position"], r["statement_id"]) for r in rows] == [("closed", "a2")]
            counts.append(read)
            read, verdicts = _instructions(sql, partial(sql.proposal_rows, party="alpha"))
            assert (verdicts[0]["proposal"], verdicts[0]["verdict"]) == ("plan-a", "accept")
            counts.append(read)
        app.close()
    small_stance, small_verdicts, large_stance, large_verdicts = counts
    assert large_stance < 2 * small_stance, counts
    assert large_verdicts < 2 * small_verdicts, counts


def test_a_party_s_salience_is_read_from_the_statements_that_give_one_not_its_whole_group(
    tmp_path: Path,
) -> None:
    """R14 on the step table: the party's latest own statement on the issue that gives a
    salience is found from the few statements that give one, so a record where the party said
    600 things more on the issue, none with a salience, reads as much (it once read the whole
    group, every time `outlook` asked)."""
    first = said("s0", 0, issue="border", position="open", salience=70)
    more = [said(f"s{n}", n % 200, issue="border", position="open") for n in range(1, 601)]
    counts = []
    for name, statements in (("small", [first, *more[:2]]), ("large", [first, *more])):
        app = PositionsApplication.open(f"sqlite:///{tmp_path / name}.db", create=True)
        data = {**codebook(), "statements": statements}
        app.import_scenarios([scenario_of(data, f"{name}.json")], now=T0)
        assert app.views is not None
        with StepQueries(app.views, "generated", None) as sql:
            read, found = _instructions(sql, partial(sql.salience, "alpha", "border", None))
            assert found == 70.0
            counts.append(read)
        app.close()
    small, large = counts
    assert large < 2 * small, counts
