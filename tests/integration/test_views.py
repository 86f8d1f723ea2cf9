"""The materialized views: queries read them, they equal a fresh fold of the events, they catch up
after a crash or after events another process wrote, `verify` reports a view row changed behind
the tool's back, and `rebuild` makes them anew. On SQLite and PostgreSQL alike."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from positions.application import PositionsApplication
from positions.codebook import SAFE_INTEGER, Correction, Statement
from positions.events import STATEMENT_EVENTS, StatementRecorded
from positions.scenario import parse_scenario
from positions.store.integrity import unseal, verify_store
from positions.views.fold import StatementRow, read_statement, stamp
from positions.views.store import BULK_RUN, VIEWS_NAME, _runs, log_rows
from tests.conftest import SEED, run_cli
from tests.helpers import write_scenario
from tests.stores import BACKENDS, any_store, execute, views_sql
from tests.strategies import ISSUES, codebook, statements

T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def seeded(seeded_url: str) -> str:
    return seeded_url


def test_an_import_leaves_one_statement_row_per_statement_and_the_views_at_the_last_event(
    seeded: str,
) -> None:
    found = views_sql(seeded, "SELECT statement_id, party, issue, position FROM V_statements")
    assert len(found) == 11
    assert ("zakharova-under-any-flag", "russia", "foreign_troops", "no_foreign_troops") in {
        tuple(r) for r in found
    }
    tracked = views_sql(
        seeded, "SELECT notification_id FROM TRACKING WHERE application_name = %s", (VIEWS_NAME,)
    )
    last = execute(
        seeded,
        "SELECT max(rowid) FROM EVENTS"
        if seeded.startswith("sqlite:")
        else "SELECT max(notification_id) FROM EVENTS",
    )
    assert tracked == last


def test_queries_read_the_views_not_the_events(seeded: str) -> None:
    # delete the stance interval a statement set: the query no longer shows it, so it did not
    # replay the events (the interval names the statement whose stored document it reads)
    def quotes() -> dict[str, str]:
        shown = run_cli("--store", seeded, "stance", "--party", "russia", "--format", "json")
        return {row["issue"]: row["quote"] or "" for row in json.loads(shown.out)}

    assert "under any flag" in quotes()["foreign_troops"]
    views_sql(seeded, "DELETE FROM V_stances WHERE source_id = %s", ("zakharova-under-any-flag",))
    assert "under any flag" not in quotes().get("foreign_troops", "")
    # verify notices the row no longer equals the events, and rebuild restores it
    checked = run_cli("--store", seeded, "verify")
    assert checked.code == 1
    assert (
        "Stale: view stances, row (ukraine-2025, russia, foreign_troops, ): missing (the "
        "events have it)\n"
    ) in checked.out
    assert checked.out.endswith(
        "Verification failed: 1 view row(s) differ from a fresh fold of the events; "
        "'positions rebuild' rebuilds the views from the events.\n"
    )
    rebuilt = run_cli("--store", seeded, "rebuild")
    assert (rebuilt.code, rebuilt.out, rebuilt.err) == (
        0,
        "Rebuilt the views from 47 event(s).\n",
        "",
    )
    assert "under any flag" in quotes()["foreign_troops"]
    assert run_cli("--store", seeded, "verify").code == 0


def test_a_view_row_naming_another_event_is_reported_by_verify(seeded: str) -> None:
    """A statement row whose notification id was changed behind the tool's back names an event
    that is not its statement's: verify reports the row, and the query fails in one line."""
    views_sql(
        seeded,
        "UPDATE V_statements SET notification_id = 1 WHERE statement_id = %s",
        ("zakharova-under-any-flag",),
    )
    views_sql(  # the step row that queries read the statement's sources through
        seeded,
        "UPDATE V_steps SET notification_id = 1 WHERE source_id = %s",
        ("zakharova-under-any-flag",),
    )
    checked = run_cli("--store", seeded, "verify")
    assert checked.code == 1
    assert (
        "Stale: view statements, row (ukraine-2025, zakharova-under-any-flag): differs from the "
        "events in notification_id\n"
    ) in checked.out
    shown = run_cli("--store", seeded, "history")  # it reads the sources from the event
    assert shown.code != 0 and shown.out == ""
    assert shown.err == (
        f"Error: cannot read statement 'zakharova-under-any-flag' from the views of store "
        f"{seeded} (not a statement event's JSON); run 'positions verify'\n"
    )
    assert run_cli("--store", seeded, "rebuild").code == 0
    assert run_cli("--store", seeded, "verify").code == 0


def test_views_made_with_a_copy_of_each_document_are_made_anew(seeded: str) -> None:
    """Views of an earlier version kept each statement's document in an ``original`` column:
    opening such a store empties them, and the next query folds every event again."""
    expected = run_cli("--store", seeded, "compare", "--format", "json").out
    views_sql(seeded, "ALTER TABLE V_statements ADD COLUMN original TEXT")
    views_sql(seeded, "UPDATE V_statements SET position = 'stale'")
    again = run_cli("--store", seeded, "compare", "--format", "json")
    assert (again.code, again.out, again.err) == (0, expected, "")
    assert views_sql(seeded, "SELECT count(*) FROM V_statements WHERE position = 'stale'") == [(0,)]
    assert run_cli("--store", seeded, "verify").code == 0
    columns = views_sql(seeded, "SELECT * FROM V_statements LIMIT 1")
    assert len(columns[0]) == 19


def test_views_made_without_the_speaker_column_are_made_anew(seeded: str) -> None:
    """Views of an earlier version had no ``speaker`` column (what ``--speaker`` reads):
    opening such a store empties them, and the next query folds every event again."""
    views_sql(seeded, "ALTER TABLE V_statements DROP COLUMN speaker")
    found = run_cli("--store", seeded, "history", "--speaker", "ushakov", "--format", "csv",
                    "--columns", "statement_id")  # fmt: skip
    assert (found.code, found.err) == (0, "")
    assert found.out.splitlines() == [
        "statement_id",
        "ushakov-waltz-call-temporary-respite",
        "ushakov-claims-us-nato-off-the-table",
        "ushakov-long-term-settlement",
        "ushakov-no-talk-about-nato",
    ]
    assert run_cli("--store", seeded, "verify").code == 0


def test_views_left_behind_by_a_crash_catch_up_on_the_next_query(seeded: str) -> None:
    """As if the importing process died after its events were committed and before its views
    were: every view row gone and the tracking row back at the start."""
    expected = run_cli("--store", seeded, "compare", "--format", "json").out
    for table in ("streams", "definitions", "statements", "corrections"):
        views_sql(seeded, f"DELETE FROM V_{table}")
    views_sql(seeded, "DELETE FROM TRACKING WHERE application_name = %s", (VIEWS_NAME,))
    assert views_sql(seeded, "SELECT count(*) FROM V_statements") == [(0,)]
    again = run_cli("--store", seeded, "compare", "--format", "json")
    assert (again.code, again.out) == (0, expected)
    assert views_sql(seeded, "SELECT count(*) FROM V_statements") == [(11,)]
    assert run_cli("--store", seeded, "verify").code == 0


def test_views_catch_up_with_events_written_by_another_process(seeded: str, tmp_path: Path) -> None:
    """A second process imports; the first, still open, sees the new statement on its next
    query because its views catch up from the log."""
    app = PositionsApplication.open(seeded)
    try:
        assert "extra-1" not in {s.id for s in app.get_record("ukraine-2025").statements}
        more = write_scenario(
            tmp_path / "more.yaml",
            {
                "negotiation": "ukraine-2025",
                "statements": [
                    {
                        "id": "extra-1",
                        "on": "2025-03-20",
                        "by": "russia",
                        "issue": "ceasefire",
                        "position": "no_ceasefire",
                        "quote": "No pause at all.",
                        "sources": [{"outlet": "Wire"}],
                    }
                ],
            },
        )
        assert run_cli("--store", seeded, "import", str(more)).code == 0
        record = app.get_record("ukraine-2025")
        assert "extra-1" in {s.id for s in record.statements}
    finally:
        app.close()


def test_a_correction_updates_the_coding_in_force_and_keeps_the_original(seeded: str) -> None:
    result = run_cli(
        "--store",
        seeded,
        "correct",
        "zakharova-under-any-flag",
        "--position",
        "neutral_peacekeepers",
        "--reason",
        "misread",
    )
    assert result.code == 0, result.err
    ((position, corrections, coding),) = views_sql(
        seeded,
        "SELECT position, corrections, coding FROM V_statements WHERE statement_id = %s",
        ("zakharova-under-any-flag",),
    )
    assert (position, corrections) == ("neutral_peacekeepers", 1)
    assert json.loads(coding)["position"] == "neutral_peacekeepers"
    app = PositionsApplication.open(seeded)
    try:
        now = app.get_record("ukraine-2025")
        recorded = now.recorded_at["zakharova-under-any-flag"]
        before = app.get_record("ukraine-2025", known_at=recorded)
    finally:
        app.close()
    by_id = {s.id: s for s in before.statements}
    assert by_id["zakharova-under-any-flag"].position == "no_foreign_troops"
    assert {s.id: s for s in now.statements}["zakharova-under-any-flag"].position == (
        "neutral_peacekeepers"
    )
    ((number, payload),) = views_sql(seeded, "SELECT number, payload FROM V_corrections")
    assert number == 1 and json.loads(payload)["reason"] == "misread"
    assert run_cli("--store", seeded, "verify").code == 0


def test_rebuilding_a_store_whose_views_are_intact_changes_no_row(seeded: str) -> None:
    before = views_sql(seeded, "SELECT * FROM V_statements ORDER BY statement_id")
    assert run_cli("--store", seeded, "rebuild").code == 0
    assert views_sql(seeded, "SELECT * FROM V_statements ORDER BY statement_id") == before


def test_rebuild_of_a_store_that_does_not_exist_is_an_error(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'missing.db'}"
    result = run_cli("--store", url, "rebuild")
    assert (result.code, result.out) == (2, "")
    assert result.err == f"Error: store {url} does not exist (import a scenario first)\n"
    assert not (tmp_path / "missing.db").exists()


def _corrected_store(url: str, stmts: list[dict[str, Any]], picks: list[tuple[int, int]]) -> Any:
    """A store with ``stmts`` imported and some corrections recorded an hour apart each."""
    app = PositionsApplication.open(url, create=True)
    try:
        text = json.dumps({**codebook(), "statements": stmts}, default=str)
        app.import_scenarios([parse_scenario(text, "g.json")], now=T0)
        coded = [s for s in stmts if s.get("position") and s.get("issue")]
        for hour, (which, to) in enumerate(picks, start=1):
            if not coded:
                break
            target = coded[which % len(coded)]
            labels = [*ISSUES[target["issue"]], "noncommittal"]
            position = labels[to % len(labels)]
            app.correct(
                "generated",
                Correction(statement=target["id"], position=position, reason=f"r{hour}"),
                now=T0 + timedelta(hours=hour),
            )
    except BaseException:
        app.close()
        raise
    return app


# Found on PostgreSQL: the count of events folded in SQL included the import's own catch-up.
EIGHT_POSITIONS = [
    {
        "id": f"s{n:03d}",
        "on": date(2025, 1, 1),
        "by": "alpha",
        "quote": f"Statement {n}.",
        "sources": [{"outlet": "Wire", "published": date(2025, 1, 2)}],
        "issue": "border",
        "position": "open",
    }
    for n in range(8)
]


@pytest.mark.parametrize("backend", BACKENDS)
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=15)
@given(
    stmts=statements(max_size=10),
    picks=st.lists(st.tuples(st.integers(0, 20), st.integers(0, 4)), max_size=3),
    page=st.integers(1, 12),
    hours=st.integers(0, 4),
    bulk_run=st.sampled_from([1, 2, BULK_RUN, 0]),
)
@example(stmts=EIGHT_POSITIONS, picks=[], page=2, hours=0, bulk_run=1)
def test_the_views_give_the_record_the_streams_give_whatever_the_page_size(
    backend: str,
    tmp_path_factory: pytest.TempPathFactory,
    stmts: list[dict[str, Any]],
    picks: list[tuple[int, int]],
    page: int,
    hours: int,
    bulk_run: int,
) -> None:
    """Whatever the page size, and whichever runs of statement events SQLite folds in SQL
    (``bulk_run``: 1 folds every statement event there, 0 none)."""
    with any_store(backend, tmp_path_factory.mktemp("views")) as url:
        _check_views_against_streams(url, stmts, picks, page, hours, bulk_run)


def _check_views_against_streams(
    url: str,
    stmts: list[dict[str, Any]],
    picks: list[tuple[int, int]],
    page: int,
    hours: int,
    bulk_run: int = BULK_RUN,
) -> None:
    app = _corrected_store(url, stmts, picks)
    try:
        assert app.views is not None
        if app.views.bulk_run:  # SQLite
            app.views.bulk_run = bulk_run
        app.views.clear()  # then fold again page by page, as after many small writes
        app.views.folded_in_sql = 0
        read = app.views.catch_up(page=page)
        assert read == len(app.get_notifications())
        if bulk_run == 1 and page > 1:  # every run of statement events goes to SQL
            recorded = sum(1 for e in app.get_all_events() if isinstance(e, STATEMENT_EVENTS))
            assert app.views.folded_in_sql == recorded
        verified = verify_store(app)
        assert verified.registry == []  # every statement and correction registered where held
        assert app.views.differences(log_rows(verified.rows)) == []
        for known_at in (None, T0 + timedelta(hours=hours, minutes=30)):
            assert app.views.read_record("generated", known_at) == app.get_record_from_streams(
                "generated", known_at
            )
    finally:
        app.close()


def test_a_query_on_current_views_does_not_wait_for_a_writer(tmp_path: Path) -> None:
    """Catching up takes the write lock only when there is something new: with another
    connection holding the SQLite file's write lock, a query on up-to-date views still answers
    (it would otherwise wait for the lock and fail)."""

    url = f"sqlite:///{tmp_path / 'store.db'}"
    assert run_cli("--store", url, "import", str(SEED)).code == 0
    expected = run_cli("--store", url, "compare", "--format", "csv").out
    writer = sqlite3.connect(tmp_path / "store.db", isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        result = run_cli("--store", url, "compare", "--format", "csv")
        assert (result.code, result.out, result.err) == (0, expected, "")
    finally:
        writer.execute("ROLLBACK")
        writer.close()


_TEXT = st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=40).filter(str.strip)
_TERMS = st.dictionaries(
    st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True),
    st.one_of(
        st.integers(min_value=-SAFE_INTEGER, max_value=SAFE_INTEGER),
        st.floats(allow_nan=False, allow_infinity=False),
        st.booleans(),
        _TEXT,
    ),
    max_size=3,
)


@given(
    quote=_TEXT,
    terms=_TERMS,
    before=st.booleans(),
    kind=st.sampled_from(["position", "claim", "clarification", "retraction"]),
    hypothetical=st.booleans(),
    verdict=st.sampled_from([None, "accept", "reject"]),
)
def test_statement_rows_read_from_stored_json_equal_rows_of_the_pydantic_event(
    quote: str, terms: dict[str, Any], before: bool, kind: str, hypothetical: bool, verdict: Any
) -> None:
    """The fold reads statement events straight from their stored JSON; what it reads must be
    what the validated event holds, its statement document byte for byte as pydantic writes it."""
    record: dict[str, Any] = {
        "id": "s-1",
        "on": {"before": "2025-03-14"} if before else "2025-03-13",
        "party": "alpha",
        "issue": "water",
        "position": "share",
        "terms": terms,
        "quote": quote,
        "hypothetical": hypothetical,
        "sources": [{"outlet": "Wire", "published": "2025-03-14"}],
    }
    if kind == "claim":
        record["about"] = "beta"
    elif kind != "position":
        record["clarifies" if kind == "clarification" else "retracts"] = "s-0"
    if verdict is not None:
        record.update(verdict=verdict, proposal="plan-a")
    statement = Statement.model_validate(record)
    event = StatementRecorded(
        originator_id=uuid4(), originator_version=2, timestamp=T0, statement=statement
    )
    mapper = PositionsApplication.open("memory://").mapper
    payload = unseal(mapper.to_stored_event(event).state)[1]
    fast = StatementRow.of_document("n", payload, 7)
    slow = StatementRow.of("n", statement, statement, stamp(event.timestamp), 7, 0)
    assert fast == slow
    assert fast.kind == kind
    assert fast.original == statement.model_dump_json().encode()


_MAYBE_TEXT = st.none() | _TEXT
_DAY = st.dates(min_value=datetime(1800, 1, 2).date(), max_value=datetime(2200, 12, 31).date())


@given(
    data=st.fixed_dictionaries(
        {
            "id": st.from_regex(r"[a-z0-9][a-z0-9_.-]{0,12}", fullmatch=True),
            "on": _DAY.map(str)
            | st.fixed_dictionaries({"before": _DAY.map(str), "text": _MAYBE_TEXT}),
            "party": st.sampled_from(["alpha", "beta"]),
            "speaker": st.none() | st.just("alpha-envoy"),
            "issue": st.none() | st.just("water"),
            "position": st.none() | st.sampled_from(["share", "noncommittal"]),
            "terms": _TERMS,
            "conditions": st.lists(_TEXT, max_size=2),
            "attribution": st.sampled_from(["direct", "paraphrase", "anonymous_source", "claim"]),
            "quote": _MAYBE_TEXT,
            "quote_original": _MAYBE_TEXT,
            "language": st.none() | st.sampled_from(["ru", "uk", "zh-Hant"]),
            "sources": st.lists(
                st.fixed_dictionaries(
                    {
                        "outlet": _TEXT,
                        "title": _MAYBE_TEXT,
                        "url": st.none() | st.just("https://example.org/a?b=1"),
                        "published": st.none() | _DAY.map(str),
                    }
                ),
                max_size=2,
            ),
            "confidence": st.sampled_from(["high", "medium", "low"]),
            "channel": _MAYBE_TEXT,
            "notes": _MAYBE_TEXT,
            "salience": st.none()
            | st.integers(0, 100)
            | st.floats(0, 100, allow_nan=False, allow_infinity=False),
            "hypothetical": st.booleans(),
        }
    ),
    link=st.sampled_from([None, "clarifies", "retracts", "about", "proposal"]),
)
def test_a_statement_read_from_its_view_document_is_the_validated_statement(
    data: dict[str, Any], link: str | None
) -> None:
    """A statement read back from its stored document equals the validated statement and
    writes the same JSON."""
    if link == "proposal":
        data.update(proposal="plan-a", verdict="accept_with_conditions")
    elif link is not None:
        data[link] = "other"
    statement = Statement.model_validate(data)
    document = statement.model_dump_json()
    read = read_statement(document)
    assert read == statement
    assert read.model_dump_json() == document


@pytest.mark.parametrize(
    ("named", "problem"),
    [(1, "not a statement event's JSON"), (999_999, "its event 999999 is not in the store")],
)
def test_a_view_row_that_names_no_statement_event_is_a_one_line_error(
    tmp_path: Path, named: int, problem: str
) -> None:
    """A statement row changed behind the tool's back fails the query with one line naming
    the statement and the way to check the store, not a traceback."""
    url = f"sqlite:///{tmp_path / 'store.db'}"
    assert run_cli("--store", url, "import", str(SEED)).code == 0
    execute(url, f"UPDATE positions_view_statements SET notification_id = {named}")
    execute(url, f"UPDATE positions_view_steps SET notification_id = {named}")
    result = run_cli("--store", url, "history")  # it reads the sources from the events
    assert result.code != 0 and result.out == ""
    assert result.err.count("\n") == 1 and "Traceback" not in result.err
    assert "cannot read statement '" in result.err and "positions verify" in result.err
    assert f"({problem})" in result.err


def test_a_save_gets_the_notification_ids_its_events_were_stored_under(tmp_path: Path) -> None:
    """The SQLite recorder inserts a save's events in one executemany and derives their ids."""
    source = PositionsApplication.open("memory://")
    source.import_files([SEED])
    events = source.get_all_events()
    app = PositionsApplication.open(f"sqlite:///{tmp_path / 'store.db'}", create=True)
    try:
        given_ids = {}
        for part in (events[:5], events[5:6], events[6:]):
            for recording in app.save(*part):
                event = recording.domain_event
                given_ids[(event.originator_id, event.originator_version)] = (
                    recording.notification.id
                )
        log = app.recorder.select_notifications(1, 1_000_000)
        stored = {(n.originator_id, n.originator_version): n.id for n in log}
        assert len(log) == len(events) == len(given_ids)
        assert given_ids == stored
    finally:
        app.close()


def test_a_statement_event_whose_json_was_changed_is_an_error_naming_it_not_a_row(
    seeded: str,
) -> None:
    """The fold reads statement events straight from their JSON: JSON that is not what the tool
    writes stops the catch-up with one line naming the event, and the views keep what they had."""
    key = "rowid" if seeded.startswith("sqlite:") else "notification_id"
    ((position, state),) = execute(
        seeded,
        f"SELECT {key}, state FROM EVENTS WHERE topic = %s ORDER BY {key} LIMIT 1",
        ("positions.events:StatementRecorded",),
    )
    changed = bytes(state).replace(b'"party":', b'"parti":')
    assert changed != bytes(state)
    execute(seeded, f"UPDATE EVENTS SET state = %s WHERE {key} = %s", (changed, position))
    views_sql(seeded, "DELETE FROM TRACKING WHERE application_name = %s", (VIEWS_NAME,))
    before = views_sql(seeded, "SELECT count(*) FROM V_statements")
    result = run_cli("--store", seeded, "compare")
    assert (result.code, result.out) == (2, "")
    assert result.err == (
        f"Error: cannot read event {position} of store {seeded} (its JSON has no 'party'); "
        "run 'positions verify'\n"
    )
    assert views_sql(seeded, "SELECT count(*) FROM V_statements") == before
    assert run_cli("--store", seeded, "verify").code == 1


@given(
    kinds=st.lists(st.booleans(), max_size=40),
    gaps=st.lists(st.integers(1, 3), min_size=40, max_size=40),
    after=st.integers(0, 5),
    bulk_run=st.integers(0, 5),
)
def test_runs_cover_a_page_in_order(
    kinds: list[bool], gaps: list[int], after: int, bulk_run: int
) -> None:
    """The runs of a page cover each of its events once, in log order; each SQL run is at
    least ``bulk_run`` statement events and nothing else (none with ``bulk_run`` 0); SQL and
    Python runs alternate."""
    ids = [after + sum(gaps[: i + 1]) for i in range(len(kinds))]
    page = list(zip(ids, kinds, strict=True))
    runs = list(_runs(page, after, bulk_run))
    covered = [
        (key, statement) for _, low, high, _ in runs for key, statement in page if low < key <= high
    ]
    assert covered == page
    assert [count for *_, count in runs] == [
        sum(1 for key, _ in page if low < key <= high) for _, low, high, _ in runs
    ]
    for sql, low, high, count in runs:
        if sql:
            assert bulk_run and count >= bulk_run
            assert all(statement for key, statement in page if low < key <= high)
    assert all(one[0] != after_it[0] for one, after_it in pairwise(runs))


@pytest.mark.parametrize(
    "damage",
    [
        "DELETE FROM V_statements WHERE statement_id = 'zakharova-under-any-flag'",
        "DROP TABLE V_statements",
    ],
    ids=["a-row-deleted", "the-table-dropped"],
)
def test_views_short_of_the_events_never_let_a_reimport_record_again(
    seeded_url: str, damage: str
) -> None:
    """With a view row deleted or the statement table dropped, a re-import of the same file
    recorded every affected statement a second time: the import sees that the views hold
    fewer rows than the party records have events, rebuilds them, and records nothing new."""
    from tests.stores import count_events

    before = count_events(seeded_url)
    views_sql(seeded_url, damage)
    result = run_cli("--store", seeded_url, "import", str(SEED))
    assert result.code == 0, result.err
    assert result.out.startswith("Nothing new"), result.out
    assert result.err.startswith("Warning: the views did not account for every recorded event")
    assert count_events(seeded_url) == before
    assert run_cli("--store", seeded_url, "verify").code == 0


def test_verify_reports_a_statement_recorded_twice_in_the_events(seeded_url: str) -> None:
    """The log is immutable, so a statement recorded twice (what views short of the events
    once let a re-import do) can only be reported: verify names it and the two events."""
    from positions.events import StatementRecorded

    app = PositionsApplication.open(seeded_url)
    try:
        events = app.get_notifications()
        first_id, first = next((n, e) for n, e in events if isinstance(e, StatementRecorded))
        stream = [e for _, e in events if e.originator_id == first.originator_id]
        again = StatementRecorded(
            originator_id=first.originator_id,
            originator_version=max(e.originator_version for e in stream) + 1,
            timestamp=datetime.now(UTC),
            statement=first.statement,
        )
        app._save([again])
        last = app.get_notifications()[-1][0]
    finally:
        app.close()
    result = run_cli("--store", seeded_url, "verify")
    assert result.code == 1
    assert (
        f"Duplicate: negotiation 'ukraine-2025', statement '{first.statement.id}': recorded "
        f"twice, by events {first_id} and {last}\n"
    ) in result.out
    assert "1 statement(s) recorded more than once" in result.out


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_an_index_no_query_uses_any_more_is_dropped_on_opening(
    backend: str, tmp_path: Path
) -> None:
    """The step rows' day index, which the order key's index replaced, and the indexes of
    ended steps without the order key, which those with it replaced, are dropped from a store
    an earlier version made (every write kept them), and the new ones made; the answers stay
    the same."""
    from tests.stores import any_store

    with any_store(backend, tmp_path) as url:
        app = PositionsApplication.open(url, create=True)
        app.import_files([SEED])
        views = app.views
        assert views is not None
        with views._transaction() as cursor:  # the index as an earlier version made it
            cursor.execute(
                views._sql(
                    "CREATE INDEX positions_view_steps_day ON {p}positions_view_steps "
                    "(negotiation, day)"
                )
            )
            for name, subject in (("ended", "issue"), ("verdict_ended", "proposal")):
                cursor.execute(views._sql(f"DROP INDEX {{p}}positions_view_steps_{name}_from"))
                cursor.execute(
                    views._sql(
                        f"CREATE INDEX positions_view_steps_{name} ON {{p}}positions_view_steps "
                        f"(negotiation, party, {subject}, claimant, ended_key) "
                        "WHERE ended_key IS NOT NULL"
                    )
                )
        with views.recorder.datastore.transaction(commit=False) as cursor:
            assert "positions_view_steps_day" in views._indexes(cursor)
        before = run_cli("--store", url, "compare", "--format", "csv")
        reopened = PositionsApplication.open(url)
        assert reopened.views is not None
        with reopened.views.recorder.datastore.transaction(commit=False) as cursor:
            found = reopened.views._indexes(cursor)
        assert "positions_view_steps_day" not in found
        assert "positions_view_steps_order" in found
        assert not {"positions_view_steps_ended", "positions_view_steps_verdict_ended"} & found
        assert "positions_view_steps_ended_from" in found
        assert "positions_view_steps_verdict_ended_from" in found
        assert run_cli("--store", url, "compare", "--format", "csv") == before


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("made", ["other-rules", "old-layout"])
def test_step_tables_made_under_other_rules_are_folded_again_on_opening(
    backend: str, made: str, tmp_path: Path
) -> None:
    """Step rows made under an earlier version of the rules (another version in the views,
    or none kept and the table of an older layout) are made anew on the next opening that
    may write: every event is folded again, and the answers are this version's."""
    from positions.steps import RULES_VERSION

    with any_store(backend, tmp_path) as url:
        assert run_cli("--store", url, "import", str(SEED)).code == 0
        expected = run_cli("--store", url, "history", "--format", "csv")
        app = PositionsApplication.open(url)
        views = app.views
        assert views is not None
        with views._transaction() as cursor:  # rows an earlier version of the rules wrote
            cursor.execute(views._sql("UPDATE {p}positions_view_steps SET after_position = 'x'"))
            if made == "other-rules":
                cursor.execute(views._sql("UPDATE {p}positions_view_versions SET version = 1"))
            else:
                cursor.execute(views._sql("DELETE FROM {p}positions_view_versions"))
                cursor.execute(
                    views._sql("ALTER TABLE {p}positions_view_steps RENAME COLUMN slot TO precise")
                )
        del app, views
        assert run_cli("--store", url, "history", "--format", "csv") == expected
        reopened = PositionsApplication.open(url)
        assert reopened.views is not None
        with reopened.views.recorder.datastore.transaction(commit=False) as cursor:
            found = reopened.views._step_columns(cursor)
            cursor.execute(
                reopened.views._sql(
                    "SELECT count(*) AS n FROM {p}positions_view_steps WHERE after_position = 'x'"
                )
            )
            stale = cursor.fetchone()["n"]
        assert ("slot" in found, "precise" in found, stale) == (True, False, 0)
        assert reopened.views._rules_version() == RULES_VERSION
