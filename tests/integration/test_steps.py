"""The step tables: their SQL answers equal the rules read literally (the in-memory timeline over
the replayed streams) for any as-of date and recording time, and keeping them one import at a
time gives the same tables as folding every event again."""

from __future__ import annotations

import itertools
import json
import random
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from positions.application import PositionsApplication
from positions.chart import timeline_data
from positions.codebook import Correction
from positions.errors import PositionsError
from positions.projections import Analysis
from positions.queries.stance import StepQueries
from positions.scenario import parse_scenario
from positions.steps import OWN
from positions.views.tables import TABLES
from tests.stores import BACKENDS, any_store
from tests.strategies import ISSUES, START, backfill_order, codebook, statements

T0 = datetime(2026, 1, 1, 9, tzinfo=UTC)
DAYS = [None, *(START + timedelta(days=n) for n in (-1, 0, 2, 3, 5, 8, 12, 14))]
"""As-of days: before the first statement, the strategies' busiest days, after the last."""
WHOLE_DAYS = (None, START + timedelta(days=5))


def _scenario(data: dict[str, Any], name: str) -> Any:
    return parse_scenario(json.dumps(data, default=str), name)


def _record(
    url: str,
    stmts: list[dict[str, Any]],
    order: Any,
    cuts: list[int],
    fixes: list[tuple[int, int, int]],
) -> tuple[PositionsApplication, list[datetime]]:
    """A store with ``stmts`` imported in parts (in a backfilling order), each part an hour
    after the last, then corrections an hour apart; the recording times, in order."""
    app = PositionsApplication.open(url, create=True)
    ready = backfill_order(stmts, order)
    bounds = sorted({0, len(ready), *(c % (len(ready) + 1) for c in cuts)})
    times: list[datetime] = []
    for n, (a, b) in enumerate(itertools.pairwise(bounds)):
        data: dict[str, Any] = {"negotiation": "generated", "statements": ready[a:b]}
        if n == 0:
            data = {**codebook(), **data}
        now = T0 + timedelta(hours=len(times))
        app.import_scenarios([_scenario(data, f"part-{n}.json")], now=now)
        times.append(now)
    coded = [s for s in stmts if s.get("issue")]
    for which, what, to in fixes:
        if not coded:
            break
        target = coded[which % len(coded)]
        if what == 0:
            labels = [*ISSUES[target["issue"]], "noncommittal"]
            change: dict[str, Any] = {"position": labels[to % len(labels)]}
        elif what == 1:
            change = {"on": START + timedelta(days=to % 14)}
        else:
            change = {"issue": sorted(ISSUES)[to % 2], "position": "noncommittal"}
        now = T0 + timedelta(hours=len(times))
        try:
            app.correct(
                "generated", Correction(statement=target["id"], reason="r", **change), now=now
            )
        except PositionsError:
            continue  # a correction the planner refuses (a date before its target's, say)
        times.append(now)
    return app, times


def _answers(query: Any, as_of: date | None, whole: bool = False) -> dict[str, Any]:
    frames = {
        "stance": query.stance_rows(as_of, claims=True),
        "compare": query.compare_rows(as_of),
        "proposals": query.proposals(as_of).to_dicts(),
        "history": query.history(as_of=as_of).to_dicts(),
    }
    for party, issue in (("alpha", "water"), ("beta", None), (None, "border")):
        frames[f"history {party} {issue}"] = query.history(party, issue, as_of).to_dicts()
    for party, issue, latest in (("beta", None, 3), (None, "border", 2), (None, None, 4)):
        frames[f"latest {latest} {party} {issue}"] = query.history(
            party, issue, as_of, latest=latest
        ).to_dicts()
    for party, issue in (("alpha", "water"), ("beta", "border")) if whole else ():
        frames[f"explain {party} {issue}"] = query.explain(party, issue, as_of).to_dicts()
    if whole:
        frames["gaps"] = [query.gaps(as_of).to_dicts(), query.gap_pairs(as_of).to_dicts()]
    if whole and as_of is not None:
        for start in (START, START + timedelta(days=3)):
            if start <= as_of:
                frames[f"diff {start}"] = query.diff(start, as_of).to_dicts()
    if whole and as_of in WHOLE_DAYS:  # the tables that list the record, less often
        frames["statements"] = query.statement_rows(as_of)
        frames["outlook"] = query.outlook(as_of).to_dicts()
        for issue in ISSUES:
            data = timeline_data(query, issue, as_of)
            frames[f"timeline {issue}"] = [
                data.steps.to_dicts(),
                data.points.to_dicts(),
                data.developments.to_dicts(),
            ]
    return frames


def _positions_over_time(query: Any) -> dict[tuple[str, str, int], str | None]:
    """What `Tables.series` says is in force, for every party and issue on every day."""
    first = (START - timedelta(days=2)).toordinal()
    return {
        (issue, party, day): series.at(day)
        for issue in ISSUES
        for party, series in query.series(issue).items()
        for day in range(first, first + 40)
    }


def _check_against_the_rules(
    app: PositionsApplication, times: list[datetime], listings: bool = True
) -> None:
    """The SQL answers equal the in-memory rules at every as-of day and recording time;
    ``listings``: also the tables that list the whole record (as it is now)."""
    assert app.views is not None
    app.catch_up()
    moments = [None, *(t + timedelta(minutes=30) for t in times), times[0]]
    for known_at in moments:
        oracle = Analysis(app.get_record_from_streams("generated", known_at))
        with StepQueries(app.views, "generated", known_at) as sql:
            whole = listings and known_at is None
            for day in DAYS:
                assert _answers(sql, day, whole) == _answers(oracle, day, whole), (known_at, day)
                _check_whole_tables_against_cells(sql, day or date.max)
            assert _positions_over_time(sql) == _positions_over_time(oracle), known_at


def _check_whole_tables_against_cells(sql: StepQueries, day: date) -> None:
    """The intervals in force read for a whole table (`cells`) are those read cell by cell."""
    n = sql.negotiation
    for table, subjects in (("stances", n.issues), ("verdicts", n.proposals)):
        whole = {
            key[:2]: (c.source_id, c.tabling, c.value) for key, c in sql.cells(table, day).items()
        }
        one_by_one = {}
        for party in n.parties:
            for subject in subjects:
                c = sql.cell(table, party, subject, OWN, day)
                if c is not None:
                    one_by_one[(party, subject)] = (c.source_id, c.tabling, c.value)
        assert whole == one_by_one, (table, day)


def _tables(app: PositionsApplication) -> dict[str, list[tuple[Any, ...]]]:
    assert app.views is not None
    found = {}
    with app.views.recorder.datastore.transaction(commit=False) as cursor:
        for table in TABLES:
            rows = app.views._tuples(
                cursor, app.views._sql(f"SELECT * FROM {{p}}positions_view_{table}"), []
            )
            found[table] = sorted(tuple(str(v) for v in row) for row in rows)
    return found


def _check_against_a_rebuild(app: PositionsApplication) -> None:
    """The step tables as kept equal the step tables folded again from every event."""
    kept = _tables(app)
    app.rebuild()
    assert _tables(app) == kept


records = {
    "stmts": statements(),
    "order": st.randoms(use_true_random=False),
    "cuts": st.lists(st.integers(0, 40), max_size=3),
    "fixes": st.lists(
        st.tuples(st.integers(0, 30), st.integers(0, 2), st.integers(0, 20)), max_size=3
    ),
}

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


@pytest.mark.parametrize(
    ("backend", "part"), [(backend, part) for backend in BACKENDS for part in (0, 1)]
)
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=6)
@given(**records)
def test_the_step_tables_answer_as_the_rules_read_literally_at_any_date_and_recording_time(
    backend: str,
    part: int,
    tmp_path_factory: pytest.TempPathFactory,
    stmts: list[dict[str, Any]],
    order: Any,
    cuts: list[int],
    fixes: list[tuple[int, int, int]],
) -> None:
    """In two parts per backend, six random records each: each part is a test of its own, so
    that two workers share the work (the records found so far run apart, below)."""
    with any_store(backend, tmp_path_factory.mktemp("steps")) as url:
        app, times = _record(url, stmts, order, cuts, fixes)
        _check_against_the_rules(app, times)


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
        app, times = _record(url, stmts, random.Random(0), cuts, fixes)
        _check_against_the_rules(app, times)


@pytest.mark.parametrize("backend", BACKENDS)
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=10)
@given(
    stmts=statements(max_size=40),
    order=st.randoms(use_true_random=False),
    late=st.integers(1, 6),
    fixes=records["fixes"],
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
        app, times = _record(url, stmts, order, [len(stmts) - late], fixes)
        _check_against_the_rules(app, times, listings=False)
        _check_against_a_rebuild(app)


@pytest.mark.parametrize("backend", BACKENDS)
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=10)
@given(**records)
def test_keeping_the_step_tables_import_by_import_equals_folding_every_event_again(
    backend: str,
    tmp_path_factory: pytest.TempPathFactory,
    stmts: list[dict[str, Any]],
    order: Any,
    cuts: list[int],
    fixes: list[tuple[int, int, int]],
) -> None:
    with any_store(backend, tmp_path_factory.mktemp("steps")) as url:
        app, _ = _record(url, stmts, order, cuts, fixes)
        _check_against_a_rebuild(app)


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
    app.import_scenarios([_scenario({**codebook(), "statements": positions}, "a.json")], now=T0)
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
        [_scenario({"negotiation": "generated", "statements": [retraction]}, "b.json")], now=later
    )
    assert app.views is not None
    with StepQueries(app.views, "generated", None) as sql:
        border = [
            r
            for r in sql.stance_rows(claims=True)
            if r["party"] == "alpha" and r["issue"] == "border"
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
    assert "| us-30-day-ceasefire | ceasefire | russia | reject |" in done.stdout
    assert "| 2025-03-13 | russia | clarification | peskov-not-a-rejection |" in done.stdout
    assert done.stdout.rstrip().endswith("[]")


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
                f"Warning: the views of store {reader} have not folded 35 event(s) and cannot "
                "be brought up to date here (read-only); answering from the views as they are.\n"
            )
            with connect(base) as conn:
                assert conn.execute(f"SELECT * FROM {tracking} ORDER BY 1").fetchall() == before
        finally:
            with connect(base) as conn:
                conn.execute(f'DROP OWNED BY "{role}"')
                conn.execute(f'DROP ROLE "{role}"')


def test_a_noncommittal_statement_backfilled_under_positions_later_retracted_comes_into_force(
    tmp_path: Path,
) -> None:
    """The sweep of a backfill stops only once nothing can bring the backfilled statement back:
    here both positions on the scale are retracted later, so the noncommittal one backfilled
    between them sets the stance from then on (R6, R10)."""

    def said(sid: str, day: int, **coding: Any) -> dict[str, Any]:
        on = START + timedelta(days=day)
        return {"id": sid, "on": on, "by": "alpha", "quote": "q", "sources": [{"outlet": "W"}]} | (
            coding
        )

    first = [
        said("c1", 1, issue="border", position="open"),
        said("c3", 6, issue="border", position="closed"),
        said("r1", 10, retracts="c1"),
        said("r3", 12, retracts="c3"),
    ]
    url = f"sqlite:///{tmp_path / 'store.db'}"
    app = PositionsApplication.open(url, create=True)
    app.import_scenarios([_scenario({**codebook(), "statements": first}, "a.json")], now=T0)
    later = T0 + timedelta(hours=1)
    backfill = {
        "negotiation": "generated",
        "statements": [said("n0", 3, issue="border", position="noncommittal")],
    }
    app.import_scenarios([_scenario(backfill, "b.json")], now=later)
    assert app.views is not None
    with StepQueries(app.views, "generated", None) as sql:
        rows = sql.stance_rows(START + timedelta(days=13), party="alpha", issue="border")
        assert [(r["position"], r["statement_id"]) for r in rows] == [("noncommittal", "n0")]
    _check_against_the_rules(app, [T0, later])
