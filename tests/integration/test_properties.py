"""Invariants of the record: import order, replay determinism, as-of prefixes, file round trips,
and that no command ever changes or deletes an event."""

from __future__ import annotations

import itertools
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from positions.application import PositionsApplication
from positions.codebook import Correction
from positions.errors import ScenarioError
from positions.export import scenario_document
from positions.projections import Analysis
from positions.scenario import parse_scenario
from tests.helpers import (
    GENERATED_AT,
    assert_same_tables,
    generated_app,
    import_parts,
    memory_app,
    tables,
    yaml_text,
)
from tests.stores import BACKENDS, any_store
from tests.strategies import ISSUES, START, backfill_order, codebook, statements


def _split(stmts: list[dict[str, Any]], cuts: list[int]) -> list[dict[str, Any]]:
    bounds = sorted({0, len(stmts), *(c % (len(stmts) + 1) for c in cuts)})
    return [
        {"negotiation": "generated", "statements": stmts[a:b]}
        for a, b in itertools.pairwise(bounds)
        if stmts[a:b]
    ]


@given(
    stmts=statements(),
    order=st.randoms(use_true_random=False),
    cuts=st.lists(st.integers(0, 40), max_size=3),
)
def test_any_import_order_gives_identical_tables(
    stmts: list[dict[str, Any]], order: Any, cuts: list[int]
) -> None:
    reference = memory_app()
    import_parts(reference, [{**codebook(), "statements": stmts}])

    shuffled = list(stmts)
    order.shuffle(shuffled)
    parts = _split(shuffled, cuts)
    order.shuffle(parts)
    other = memory_app()
    import_parts(other, [codebook(), *parts] if parts else [codebook()])
    assert_same_tables(tables(reference), tables(other))


@given(stmts=statements(), order=st.randoms(use_true_random=False))
def test_backfilling_statements_one_import_at_a_time_gives_identical_tables(
    stmts: list[dict[str, Any]], order: Any
) -> None:
    reference = memory_app()
    import_parts(reference, [{**codebook(), "statements": stmts}])

    backfilled = memory_app()
    import_parts(backfilled, [codebook()])
    for ready in backfill_order(stmts, order):
        import_parts(backfilled, [{"negotiation": "generated", "statements": [ready]}])
    assert_same_tables(tables(reference), tables(backfilled))


@given(stmts=statements())
def test_replaying_the_same_events_twice_gives_identical_tables(
    stmts: list[dict[str, Any]],
) -> None:
    first, second = memory_app(), memory_app()
    for app in (first, second):
        import_parts(app, [{**codebook(), "statements": stmts}])
    assert_same_tables(tables(first), tables(second))
    import_parts(first, [{**codebook(), "statements": stmts}])  # re-import adds nothing
    assert_same_tables(tables(first), tables(second))


def _day(on: Any) -> date:
    """The day a statement counts from (R2): the day before a "before" date, the date of a
    date-time as written (whatever its offset)."""
    if isinstance(on, dict):
        before: date = on["before"]
        return before - timedelta(days=1)
    if isinstance(on, str):
        return date.fromisoformat(on[:10])
    day: date = on
    return day


@given(stmts=statements(), offset=st.integers(0, 13))
def test_stance_as_of_a_date_equals_the_stance_from_only_earlier_statements(
    stmts: list[dict[str, Any]], offset: int
) -> None:
    as_of = START + timedelta(days=offset)
    full = memory_app()
    import_parts(full, [{**codebook(), "statements": stmts}])
    prefix = memory_app()
    import_parts(
        prefix, [{**codebook(), "statements": [s for s in stmts if _day(s["on"]) <= as_of]}]
    )
    assert_same_tables(tables(full, as_of), tables(prefix, as_of))


def _snapshot(app: PositionsApplication) -> list[tuple[Any, ...]]:
    return [
        (n.id, n.originator_id, n.originator_version, n.topic, n.state)
        for n in app.recorder.select_notifications(1, 1_000_000)
    ]


@given(stmts=statements(max_size=8), more=statements(max_size=4))
def test_events_are_never_changed_or_deleted(
    stmts: list[dict[str, Any]], more: list[dict[str, Any]]
) -> None:
    app = memory_app()
    import_parts(app, [{**codebook(), "statements": stmts}])
    before = _snapshot(app)
    tables(app)
    import_parts(app, [{**codebook(), "statements": stmts}])
    try:  # a conflicting or new batch: either it fails whole, or it only appends
        renamed = [
            {**s, "id": f"x{s['id']}"} for s in more if "clarifies" not in s and "retracts" not in s
        ]
        import_parts(app, [{"negotiation": "generated", "statements": renamed}])
    except ScenarioError:  # a refusal is fine; what matters is the log
        pass
    after = _snapshot(app)
    assert after[: len(before)] == before


# -- analysis invariants

T0 = GENERATED_AT


@given(stmts=statements(), data=st.data())
def test_known_at_before_a_correction_equals_the_table_without_it(
    stmts: list[dict[str, Any]], data: st.DataObject
) -> None:
    app = generated_app(stmts)
    untouched = tables(app)
    log = _snapshot(app)
    coded = [s for s in stmts if s.get("position") and s.get("issue")]
    assume(coded)
    target = data.draw(st.sampled_from(coded))
    new = data.draw(st.sampled_from([*ISSUES[target["issue"]], "noncommittal"]))
    app.correct(
        "generated",
        Correction(statement=target["id"], position=new, reason="r"),
        now=T0 + timedelta(days=1),
    )
    before = Analysis(app.get_record("generated", known_at=T0 + timedelta(hours=1)))
    assert_same_tables(untouched, _frames(before))
    assert _snapshot(app)[: len(log)] == log  # the correction only appended


def _frames(query: Analysis) -> dict[str, Any]:
    frames = {
        "stance": query.stance(None, claims=True),
        "compare": query.compare(None),
        "proposals": query.proposals(None),
        "history": query.history(),
    }
    return {name: frame.drop("recorded_at", strict=False) for name, frame in frames.items()}


@given(stmts=statements(max_size=10))
def test_the_scenario_export_round_trip_gives_identical_tables(stmts: list[dict[str, Any]]) -> None:
    app = generated_app(stmts)
    document = scenario_document(Analysis(app.get_record("generated")))
    again = memory_app()
    again.import_scenarios([parse_scenario(yaml_text(document), "export.yaml")])
    assert_same_tables(tables(app), tables(again))


@given(
    stmts=statements(),
    order=st.randoms(use_true_random=False),
    cuts=st.lists(st.integers(0, 40), max_size=3),
)
def test_importing_json_files_records_what_importing_the_scenarios_read_from_them_records(
    stmts: list[dict[str, Any]], order: Any, cuts: list[int]
) -> None:
    """`import_files` reads each file once, with its lines, and records exactly the events
    that importing the scenarios `read_scenarios` reads from the same files records, in any
    split of the statements over the files and any order of them."""
    import json

    from positions.scenario import read_scenarios

    shuffled = list(stmts)
    order.shuffle(shuffled)
    parts = [codebook(), *_split(shuffled, cuts)]
    now = datetime(2026, 1, 1, tzinfo=UTC)
    with tempfile.TemporaryDirectory() as folder:
        paths = []
        for n, part in enumerate(parts):
            paths.append(Path(folder) / f"part-{n}.json")
            paths[-1].write_text(json.dumps(part, default=str))
        kept = memory_app()
        kept.import_scenarios(read_scenarios(paths), now)
        dropped = memory_app()
        dropped.import_files(paths, now)
    assert dropped.get_all_events() == kept.get_all_events()
    assert len(kept.get_all_events()) > len(parts)


def _events(app: PositionsApplication) -> list[dict[str, Any]]:
    return [{"type": type(e).__name__, **e.model_dump(mode="json")} for e in app.get_all_events()]


@pytest.mark.parametrize("backend", BACKENDS)
@settings(max_examples=15, deadline=None)
@given(
    stmts=statements(max_size=10),
    order=st.randoms(use_true_random=False),
    cuts=st.lists(st.integers(0, 40), max_size=3),
    again=st.lists(st.integers(0, 10), max_size=2),
    fixes=st.lists(st.tuples(st.integers(0, 20), st.integers(0, 4), st.booleans()), max_size=3),
    changed=st.none() | st.integers(0, 20),
)
def test_imports_on_top_of_a_stored_record_plan_what_a_replayed_record_plans(
    backend: str,
    stmts: list[dict[str, Any]],
    order: Any,
    cuts: list[int],
    again: list[int],
    fixes: list[tuple[int, int, bool]],
    changed: int | None,
) -> None:
    """A store with views plans each import on records read from the views as the planner asks
    for statements (versions from the events table); an in-memory store replays the streams.
    Through a backfill in parts, re-imports of earlier parts, corrections of earlier statements
    (by position or by date) and a statement re-imported with other content, both record the
    same events and refuse the same imports with the same problems."""
    ready = backfill_order(stmts, order)
    parts: list[dict[str, Any]] = [codebook(), *_split(ready, cuts)]
    parts.extend(parts[1 + n % len(parts[1:])] for n in again if len(parts) > 1)
    coded = [s for s in stmts if s.get("issue") and s.get("position")]
    for which, to, by_date in fixes:
        if not coded:
            break
        target = coded[which % len(coded)]
        fix: dict[str, Any] = {"statement": target["id"], "reason": "recoded"}
        if by_date:
            fix["on"] = str(START + timedelta(days=to))
        else:
            fix["position"] = [*ISSUES[target["issue"]], "noncommittal"][to % 4]
        parts.append({"negotiation": "generated", "corrections": [fix]})
    if changed is not None:
        twin = {**stmts[changed % len(stmts)], "quote": "Said otherwise."}
        parts.append({"negotiation": "generated", "statements": [twin]})
    with tempfile.TemporaryDirectory() as folder, any_store(backend, Path(folder)) as url:
        stored = PositionsApplication.open(url, create=True)
        replayed = memory_app()
        try:
            for hour, part in enumerate(parts):
                now = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(hours=hour)
                outcomes = []
                for app in (stored, replayed):
                    scenario = parse_scenario(yaml_text(part), f"part-{hour}.yaml")
                    try:
                        outcomes.append(str(app.import_scenarios([scenario], now=now)))
                    except ScenarioError as exc:
                        outcomes.append(f"refused: {exc}")
                assert outcomes[0] == outcomes[1]
            assert _events(stored) == _events(replayed)
        finally:
            stored.close()
