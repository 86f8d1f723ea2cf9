"""Invariants of the record: import order, replay determinism, as-of prefixes, file round trips,
and that no command ever changes or deletes an event."""

from __future__ import annotations

import itertools
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import yaml
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from positions.application import PositionsApplication
from positions.codebook import Correction
from positions.errors import ScenarioError
from positions.export import scenario_document
from positions.projections import Analysis
from positions.scenario import parse_scenario
from tests.helpers import assert_same_tables, memory_app, tables
from tests.stores import BACKENDS, any_store
from tests.strategies import ISSUES, PARTIES, START, backfill_order, codebook, statements


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
    for ready in backfill_order(stmts, order):
        _import(backfilled, [{"negotiation": "generated", "statements": [ready]}])
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
        before: date = on["before"]
        return before - timedelta(days=1)
    day: date = on
    return day


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
@settings(max_examples=20, deadline=None)  # a round trip; the step-table properties cover more
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


# -- analysis invariants

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _generated(stmts: list[dict[str, Any]]) -> PositionsApplication:
    app = memory_app()
    scenario = parse_scenario(_text({**codebook(), "statements": stmts}), "g.yaml")
    app.import_scenarios([scenario], now=T0)
    return app


@given(stmts=statements(), data=st.data())
def test_known_at_before_a_correction_equals_the_table_without_it(
    stmts: list[dict[str, Any]], data: st.DataObject
) -> None:
    app = _generated(stmts)
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


@given(stmts=statements())
def test_rank_deltas_along_a_history_add_up_to_the_last_rank_minus_the_first(
    stmts: list[dict[str, Any]],
) -> None:
    query = Analysis(_generated(stmts).get_record("generated"))
    for party in PARTIES:
        for issue in ISSUES:
            rows = query.history(party=party, issue=issue).filter(
                (pl.col("party") == party)
                & pl.col("kind").is_in(["position", "clarification", "retraction", "proposal"])
            )
            own = [r for r in rows.iter_rows(named=True) if r["about"] is None]
            ranks = [query.shifts[r["statement_id"]] for r in own]
            held = [
                s
                for s in ranks
                if s.after is not None
                and query.negotiation.issues[issue].rank(s.after.position) is not None
            ]
            if not held:
                continue
            first_rank = query.negotiation.issues[issue].rank(held[0].after.position)  # type: ignore[union-attr]
            final = query.stance(party=party, issue=issue)["rank"][0]
            deltas = [s.ranks for s in ranks[ranks.index(held[0]) + 1 :]]
            if final is None or any(d is None for d in deltas):
                continue  # the chain passed through "no position": deltas are undefined there
            assert sum(deltas) == final - first_rank  # type: ignore[arg-type]


@given(stmts=statements(), weights=st.lists(st.integers(0, 100), min_size=6, max_size=6))
def test_the_weighted_mean_and_median_lie_between_the_lowest_and_highest_rank(
    stmts: list[dict[str, Any]], weights: list[int]
) -> None:
    book = codebook()
    for party, capability in zip(book["parties"], weights[:3], strict=True):
        party["capability"] = capability
    book["salience"] = [
        {"party": p, "issue": "water", "value": v}
        for p, v in zip(PARTIES, weights[3:], strict=True)
    ]
    app = memory_app()
    app.import_scenarios([parse_scenario(_text({**book, "statements": stmts}), "g.yaml")])
    query = Analysis(app.get_record("generated"))
    row = query.outlook(issue="water").row(0, named=True)
    ranks = [r for r in query.stance(issue="water")["rank"].to_list() if r is not None]
    for value in (row["weighted_mean"], row["weighted_median"]):
        if value is not None:
            assert min(ranks) <= value <= max(ranks)


@given(stmts=statements(), offset=st.integers(0, 14))
def test_diff_of_a_date_with_itself_is_empty(stmts: list[dict[str, Any]], offset: int) -> None:
    query = Analysis(_generated(stmts).get_record("generated"))
    day = START + timedelta(days=offset)
    assert query.diff(day, day).is_empty()


@given(stmts=statements(max_size=10))
def test_the_scenario_export_round_trip_gives_identical_tables(stmts: list[dict[str, Any]]) -> None:
    app = _generated(stmts)
    document = scenario_document(Analysis(app.get_record("generated")))
    again = memory_app()
    again.import_scenarios([parse_scenario(_text(document), "export.yaml")])
    assert_same_tables(tables(app), tables(again))


def _naive_effective(steps: list[Any], key: Any, inclusive: bool) -> Any:
    """The rules R5/R6 read literally: the steps made by ``key`` and not ended by it."""
    from tests.helpers import effective_position

    def made(k: Any) -> bool:
        return bool(k <= key if inclusive else k < key)

    live = [s for s in steps if made(s.key) and not (s.ended_key is not None and made(s.ended_key))]
    return effective_position(live)


def _said(**fields: Any) -> dict[str, Any]:
    return {"quote": "Q.", "sources": [{"outlet": "Wire"}], "by": "alpha", **fields}


# Found by the literal-rules property: a clarification whose target a retraction dated earlier
# (a "before" date) had already ended counted in the shift sweep.
CLARIFIED_AFTER_ITS_TARGETS_RETRACTION = [
    _said(id="s1", on=START.isoformat(), issue="border", position="open"),
    _said(id="s2", on=f"before {START + timedelta(days=1)}", issue="border", position="closed"),
    _said(id="s3", on=START.isoformat(), clarifies="s2", position="monitored"),
    _said(id="s4", on=f"before {START + timedelta(days=1)}", retracts="s2"),
]


@given(stmts=statements())
@example(stmts=CLARIFIED_AFTER_ITS_TARGETS_RETRACTION)
def test_the_one_pass_sweep_agrees_with_the_rules_read_literally(
    stmts: list[dict[str, Any]],
) -> None:
    from positions.analysis import own_steps

    query = Analysis(_generated(stmts).get_record("generated"))
    for party in PARTIES:
        for issue in ISSUES:
            steps = own_steps(query.timeline, party, issue)
            for step in steps:
                shift = query.shifts[step.source_id]
                assert shift.before is _naive_effective(steps, step.key, inclusive=False)
                assert shift.after is _naive_effective(steps, step.key, inclusive=True)


@given(stmts=statements(), offsets=st.lists(st.integers(-1, 14), min_size=1, max_size=4))
def test_the_indexed_stance_agrees_with_the_rules_read_literally_on_every_date(
    stmts: list[dict[str, Any]], offsets: list[int]
) -> None:
    """`stance` bisects a per-group sweep; the rules say: of the steps in force on the date
    (made by then, not ended by then), the latest on the scale, else the latest noncommittal."""
    from positions.timeline import in_force
    from tests.helpers import effective_position

    query = Analysis(_generated(stmts).get_record("generated"))
    for as_of in [None, *(START + timedelta(days=n) for n in offsets)]:
        live = in_force(query.timeline, as_of or date.max)
        frame = query.stance(as_of, claims=True)
        for row in frame.iter_rows(named=True):
            group = [
                s
                for s in live
                if (s.party, s.issue, s.claimed_by)
                == (row["party"], row["issue"], row["claimed_by"])
            ]
            chosen = effective_position(group)
            assert row["statement_id"] == (chosen.source_id if chosen else None), (as_of, row)
        claimed = {
            (s.party, s.issue, s.claimed_by)
            for s in live
            if s.claimed_by is not None and s.position is not None
        }
        shown = {
            (r["party"], r["issue"], r["claimed_by"])
            for r in frame.iter_rows(named=True)
            if r["claimed_by"] is not None
        }
        assert shown == claimed


def test_a_clarification_ended_by_an_earlier_retraction_of_its_target_never_counts() -> None:
    query = Analysis(_generated(CLARIFIED_AFTER_ITS_TARGETS_RETRACTION).get_record("generated"))
    assert query.shifts["s3"].after is not None
    assert query.shifts["s3"].after.source_id == "s1"
    assert query.stance(party="alpha", issue="border")["position"].to_list() == ["open"]


@given(stmts=statements(), offset=st.integers(0, 13), fmt=st.sampled_from(["table", "markdown"]))
def test_the_comparison_rendered_from_rows_equals_the_comparison_rendered_from_its_frame(
    stmts: list[dict[str, Any]], offset: int, fmt: str
) -> None:
    """``positions compare`` renders the terminal table from rows, without polars; it must be
    the text the frame gives."""
    from positions.render import render, render_compare_rows

    app = memory_app()
    _import(app, [{**codebook(), "statements": stmts}])
    query = Analysis(app.get_record("generated"))
    as_of = START + timedelta(days=offset)
    assert render_compare_rows(query.compare_rows(as_of), fmt, "t") == render(
        query.compare(as_of), fmt, "compare", "t"
    )
    assert pl.DataFrame(query.compare_rows(as_of)).rows() == query.compare(as_of).rows()


@given(
    stmts=statements(),
    order=st.randoms(use_true_random=False),
    cuts=st.lists(st.integers(0, 40), max_size=3),
)
def test_importing_json_files_that_are_dropped_once_planned_records_the_same_events(
    stmts: list[dict[str, Any]], order: Any, cuts: list[int]
) -> None:
    """`import_files` drops each JSON file's statements as they are planned: it records
    exactly the events that planning the same scenarios, kept whole, records, in any split of
    the statements over the files and any order of them."""
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
                    scenario = parse_scenario(_text(part), f"part-{hour}.yaml")
                    try:
                        outcomes.append(str(app.import_scenarios([scenario], now=now)))
                    except ScenarioError as exc:
                        outcomes.append(f"refused: {exc}")
                assert outcomes[0] == outcomes[1]
            assert _events(stored) == _events(replayed)
        finally:
            stored.close()
