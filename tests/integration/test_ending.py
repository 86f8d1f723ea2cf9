"""R3: nothing ends a statement before it is made. A clarification made after its target was
retracted counts from its own day; every combination of clarification and retraction answers
alike in memory and from the store's step tables, and no step ever ends before it begins."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from hypothesis import example, given, settings

from positions.application import PositionsApplication
from positions.projections import Analysis
from positions.views.tables import OPEN
from tests.helpers import generated_app, memory_app, yaml_text
from tests.strategies import START, codebook, statements

A = {"id": "a", "on": "2025-01-01", "by": "alpha", "issue": "water", "position": "share_all"}


def recorded(*records: dict[str, Any]) -> PositionsApplication:
    from positions.scenario import parse_scenario

    app = memory_app()
    # the generated codebook without its proposal (a tabling would state alpha's position)
    document = {
        **codebook(),
        "proposals": [],
        "statements": [{"quote": "Said.", "sources": [{"outlet": "Wire"}], **r} for r in records],
    }
    app.import_scenarios([parse_scenario(yaml_text(document), "ending.yaml")])
    return app


def stance(app: PositionsApplication, day: str) -> tuple[Any, Any]:
    """(position, statement) of alpha on water as of ``day``, from the store and in memory,
    which must agree."""
    with app.get_tables("generated") as tables:
        rows = tables.stance_rows(date.fromisoformat(day), party="alpha", issue="water")
    memory = Analysis(app.get_record("generated")).stance(
        date.fromisoformat(day), party="alpha", issue="water"
    )
    found = (rows[0].get("position"), rows[0].get("statement_id"))
    held = memory.row(0, named=True)
    assert found == (held["position"], held["statement_id"]), day
    return found


def explained(app: PositionsApplication) -> list[tuple[str, str]]:
    with app.get_tables("generated") as tables:
        rows = tables.explain("alpha", "water").to_dicts()
    memory = Analysis(app.get_record("generated")).explain("alpha", "water").to_dicts()
    drop = ("recorded_at",)
    assert [{k: v for k, v in r.items() if k not in drop} for r in rows] == [
        {k: v for k, v in r.items() if k not in drop} for r in memory
    ]
    return [(r["statement_id"], r["effect"]) for r in rows]


def test_a_clarification_after_its_target_was_retracted_counts_from_its_own_day() -> None:
    app = recorded(
        A,
        {"id": "r", "on": "2025-01-03", "by": "alpha", "retracts": "a"},
        {"id": "c", "on": "2025-01-05", "by": "alpha", "clarifies": "a", "position": "share_half"},
    )
    assert stance(app, "2025-01-02") == ("share_all", "a")
    assert stance(app, "2025-01-04") == (None, None)
    assert stance(app, "2025-01-05") == ("share_half", "c")
    effects = dict(explained(app))
    assert effects["a"] == "retracted by 'r' on 2025-01-03"
    assert effects["c"] == "sets the stance: carries the clarified coding"


def test_a_clarification_without_a_position_after_a_retraction_restates_its_target() -> None:
    app = recorded(
        A,
        {"id": "r", "on": "2025-01-03", "by": "alpha", "retracts": "a"},
        {"id": "c", "on": "2025-01-05", "by": "alpha", "clarifies": "a"},
    )
    assert stance(app, "2025-01-04") == (None, None)
    assert stance(app, "2025-01-05") == ("share_all", "c")


def test_a_retraction_after_a_clarification_ends_both_from_its_day() -> None:
    app = recorded(
        A,
        {"id": "c", "on": "2025-01-03", "by": "alpha", "clarifies": "a", "position": "share_half"},
        {"id": "r", "on": "2025-01-05", "by": "alpha", "retracts": "a"},
    )
    assert stance(app, "2025-01-04") == ("share_half", "c")
    assert stance(app, "2025-01-05") == (None, None)
    effects = dict(explained(app))
    assert effects["a"] == "clarified by 'c' on 2025-01-03"
    assert effects["c"] == "retracted by 'r' on 2025-01-05"


def test_a_chain_of_clarifications_is_ended_by_a_later_retraction_of_its_root_only() -> None:
    app = recorded(
        A,
        {"id": "c1", "on": "2025-01-02", "by": "alpha", "clarifies": "a", "position": "share_half"},
        {"id": "r", "on": "2025-01-04", "by": "alpha", "retracts": "a"},
        {"id": "c2", "on": "2025-01-06", "by": "alpha", "clarifies": "c1"},
    )
    assert stance(app, "2025-01-03") == ("share_half", "c1")
    assert stance(app, "2025-01-05") == (None, None)
    assert stance(app, "2025-01-06") == ("share_half", "c2")  # restated after the retraction


LATE_CLARIFICATION = [
    {"id": "s000", "on": START, "by": "alpha", "issue": "water", "position": "share_all"},
    {"id": "s001", "on": START + timedelta(days=2), "by": "alpha", "retracts": "s000"},
    {"id": "s002", "on": START + timedelta(days=4), "by": "alpha-envoy", "clarifies": "s000"},
]


@settings(max_examples=60)
@example(
    stmts=[{"quote": "Said.", "sources": [{"outlet": "Wire"}], **s} for s in LATE_CLARIFICATION]
)
@given(stmts=statements())
def test_no_step_ends_before_it_is_made(stmts: list[dict[str, Any]]) -> None:
    app = generated_app(stmts)
    for step in Analysis(app.get_record("generated")).timeline.steps:
        assert step.ended_key is None or step.ended_key > step.key, step
    assert app.views is not None
    with app.views.recorder.datastore.transaction(commit=False) as cursor:
        rows = app.views._tuples(
            cursor,
            app.views._sql(
                "SELECT source_id, sort_key, ended_key FROM {p}positions_view_steps "
                f"WHERE recorded_to = '{OPEN}' AND ended_key IS NOT NULL"
            ),
            [],
        )
    for source_id, sort_key, ended_key in rows:
        assert ended_key > sort_key, source_id


def test_a_change_of_terms_alone_shows_the_terms_in_diff_and_digest() -> None:
    app = recorded(
        {**A, "position": "share_half", "terms": {"years": 5}},
        {**A, "id": "b", "on": "2025-01-03", "position": "share_half", "terms": {"years": 10}},
    )
    with app.get_tables("generated") as tables:
        changed = tables.diff(date(2025, 1, 2), date(2025, 1, 3)).to_dicts()
        digest = tables.digest_rows(date(2025, 1, 3), date(2025, 1, 3))
    assert [(c["from_terms"], c["to_terms"]) for c in changed] == [
        ('{"years": 5}', '{"years": 10}')
    ]
    assert [row["moved"] for row in digest] == [
        'alpha on water: share_half {"years": 5} → share_half {"years": 10}'
    ]
