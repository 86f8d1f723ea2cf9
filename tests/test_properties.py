"""Invariants of the record: import order, replay determinism, as-of prefixes, file round trips,
and that no command ever changes or deletes an event."""

from __future__ import annotations

import itertools
import tempfile
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from positions.application import PositionsApplication
from positions.errors import ScenarioError
from positions.scenario import parse_scenario
from tests.helpers import assert_same_tables, memory_app, tables
from tests.stores import BACKENDS, any_store
from tests.strategies import START, codebook, statements


def _text(data: dict[str, Any]) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def _import(app: PositionsApplication, files: list[dict[str, Any]]) -> None:
    scenarios = [parse_scenario(_text(data), f"part-{n}.yaml") for n, data in enumerate(files)]
    app.import_scenarios(scenarios)


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
    _import(reference, [{**codebook(), "statements": stmts}])

    shuffled = list(stmts)
    order.shuffle(shuffled)
    parts = _split(shuffled, cuts)
    order.shuffle(parts)
    other = memory_app()
    _import(other, [codebook(), *parts] if parts else [codebook()])
    assert_same_tables(tables(reference), tables(other))


@given(stmts=statements(), order=st.randoms(use_true_random=False))
def test_backfilling_statements_one_import_at_a_time_gives_identical_tables(
    stmts: list[dict[str, Any]], order: Any
) -> None:
    reference = memory_app()
    _import(reference, [{**codebook(), "statements": stmts}])

    backfilled = memory_app()
    _import(backfilled, [codebook()])
    waiting = list(stmts)
    order.shuffle(waiting)
    done: set[str] = set()
    while waiting:  # any order in which a clarification or retraction follows its target
        ready = next(s for s in waiting if s.get("clarifies", s.get("retracts")) in (None, *done))
        waiting.remove(ready)
        _import(backfilled, [{"negotiation": "generated", "statements": [ready]}])
        done.add(ready["id"])
    assert_same_tables(tables(reference), tables(backfilled))


@given(stmts=statements())
def test_replaying_the_same_events_twice_gives_identical_tables(
    stmts: list[dict[str, Any]],
) -> None:
    first, second = memory_app(), memory_app()
    for app in (first, second):
        _import(app, [{**codebook(), "statements": stmts}])
    assert_same_tables(tables(first), tables(second))
    _import(first, [{**codebook(), "statements": stmts}])  # re-import adds nothing
    assert_same_tables(tables(first), tables(second))


def _day(on: Any) -> date:
    if isinstance(on, dict):
        return on["before"] - timedelta(days=1)
    return on


@given(stmts=statements(), offset=st.integers(0, 13))
def test_stance_as_of_a_date_equals_the_stance_from_only_earlier_statements(
    stmts: list[dict[str, Any]], offset: int
) -> None:
    as_of = START + timedelta(days=offset)
    full = memory_app()
    _import(full, [{**codebook(), "statements": stmts}])
    prefix = memory_app()
    _import(prefix, [{**codebook(), "statements": [s for s in stmts if _day(s["on"]) <= as_of]}])
    assert_same_tables(tables(full, as_of), tables(prefix, as_of))


@pytest.mark.parametrize("backend", BACKENDS)
@given(stmts=statements(max_size=8))
def test_a_store_written_to_an_sqlite_file_or_postgresql_and_reopened_gives_the_same_tables(
    backend: str, stmts: list[dict[str, Any]]
) -> None:
    with tempfile.TemporaryDirectory() as folder, any_store(backend, Path(folder)) as url:
        written = PositionsApplication.open(url, create=True)
        _import(written, [{**codebook(), "statements": stmts}])
        written.close()
        reopened = PositionsApplication.open(url)
        in_memory = memory_app()
        _import(in_memory, [{**codebook(), "statements": stmts}])
        assert_same_tables(tables(reopened), tables(in_memory))
        reopened.close()


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
    _import(app, [{**codebook(), "statements": stmts}])
    before = _snapshot(app)
    tables(app)
    _import(app, [{**codebook(), "statements": stmts}])
    try:  # a conflicting or new batch: either it fails whole, or it only appends
        renamed = [
            {**s, "id": f"x{s['id']}"} for s in more if "clarifies" not in s and "retracts" not in s
        ]
        _import(app, [{"negotiation": "generated", "statements": renamed}])
    except ScenarioError:  # a refusal is fine; what matters is the log
        pass
    after = _snapshot(app)
    assert after[: len(before)] == before
