"""Invariants of the rules and the tables made from them: rank deltas along a history, the
weighted summaries, a diff with itself, the one-pass sweep and the indexed stance against the
rules read literally, and the comparison rendered two ways."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import polars as pl
from hypothesis import example, given
from hypothesis import strategies as st

from positions.projections import Analysis
from positions.scenario import parse_scenario
from positions.steps import PROPOSER_SPAN
from tests.helpers import generated_app, import_parts, memory_app, yaml_text
from tests.strategies import ISSUES, PARTIES, START, codebook, statements


def _ident(query: Analysis, row: dict[str, Any], party: str) -> tuple[str, int]:
    """The step of ``party``'s history row: a statement's (of a joint statement, the party's
    own step), or a tabling's on the row's issue."""
    if row["kind"] != "proposal":
        return (row["statement_id"], -row["party"].split(", ").index(party))
    proposal = query.negotiation.proposals[row["statement_id"]]
    proposer = proposal.proposers.index(party) if party in proposal.proposers else 0
    return (row["statement_id"], proposer * PROPOSER_SPAN + proposal.issues.index(row["issue"]) + 1)


@given(stmts=statements())
def test_rank_deltas_along_a_history_add_up_to_the_last_rank_minus_the_first(
    stmts: list[dict[str, Any]],
) -> None:
    query = Analysis(generated_app(stmts).get_record("generated"))
    for party in PARTIES:
        for issue in ISSUES:
            rows = query.history(party=party, issue=issue).filter(
                pl.col("party").str.split(", ").list.contains(party)  # or among a joint one's
                & pl.col("kind").is_in(["position", "clarification", "retraction", "proposal"])
            )
            own = [r for r in rows.iter_rows(named=True) if r["about"] is None]
            ranks = [query.shifts[_ident(query, r, party)] for r in own]
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
    app.import_scenarios([parse_scenario(yaml_text({**book, "statements": stmts}), "g.yaml")])
    query = Analysis(app.get_record("generated"))
    row = query.outlook(issue="water").row(0, named=True)
    ranks = [r for r in query.stance(issue="water")["rank"].to_list() if r is not None]
    for value in (row["weighted_mean"], row["weighted_median"]):
        if value is not None:
            assert min(ranks) <= value <= max(ranks)


@given(stmts=statements(), offset=st.integers(0, 14))
def test_diff_of_a_date_with_itself_is_empty(stmts: list[dict[str, Any]], offset: int) -> None:
    query = Analysis(generated_app(stmts).get_record("generated"))
    day = START + timedelta(days=offset)
    assert query.diff(day, day).is_empty()


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

    query = Analysis(generated_app(stmts).get_record("generated"))
    for party in PARTIES:
        for issue in ISSUES:
            steps = own_steps(query.timeline, party, issue)
            for step in steps:
                shift = query.shifts[step.ident]
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

    query = Analysis(generated_app(stmts).get_record("generated"))
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


def test_a_clarification_made_after_its_targets_retraction_counts_from_its_own_place() -> None:
    """s4 retracts s2 before s3 clarifies it (R1 order on one day): the retraction ends s2
    alone, and s3 counts with its own position (R3, ADR 0021)."""
    query = Analysis(generated_app(CLARIFIED_AFTER_ITS_TARGETS_RETRACTION).get_record("generated"))
    assert query.shifts[("s3", 0)].after is not None
    assert query.shifts[("s3", 0)].after.source_id == "s3"
    assert query.stance(party="alpha", issue="border")["position"].to_list() == ["monitored"]


@given(stmts=statements(), offset=st.integers(0, 13), fmt=st.sampled_from(["table", "markdown"]))
def test_the_comparison_rendered_from_rows_equals_the_comparison_rendered_from_its_frame(
    stmts: list[dict[str, Any]], offset: int, fmt: str
) -> None:
    """``positions compare`` renders the terminal table from rows, without polars; it must be
    the text the frame gives."""
    from positions.render import render, render_compare_rows
    from positions.terminal import Layout

    app = memory_app()
    import_parts(app, [{**codebook(), "statements": stmts}])
    query = Analysis(app.get_record("generated"))
    as_of = START + timedelta(days=offset)
    assert render_compare_rows(query.compare_rows(as_of), fmt, "t") == render(
        query.compare(as_of), fmt, "compare", "t"
    )
    narrow = Layout(width=50, color=False, records=False, columns=None)
    assert render_compare_rows(query.compare_rows(as_of), fmt, "t", narrow) == render(
        query.compare(as_of), fmt, "compare", "t", layout=narrow
    )
    assert pl.DataFrame(query.compare_rows(as_of)).rows() == query.compare(as_of).rows()


@given(
    stmts=statements(),
    offset=st.integers(0, 14),
    party=st.sampled_from([None, *PARTIES]),
    issue=st.sampled_from([None, *ISSUES]),
)
def test_compare_and_proposals_of_a_party_on_an_issue_are_the_rows_of_the_whole_table(
    stmts: list[dict[str, Any]], offset: int, party: str | None, issue: str | None
) -> None:
    query = Analysis(generated_app(stmts).get_record("generated"))
    as_of = START + timedelta(days=offset)

    def wanted(row: dict[str, Any]) -> bool:  # a package's row is on each issue it covers
        return party in (None, row["party"]) and issue in (None, *row["issue"].split(", "))

    whole = query.compare_rows(as_of)
    assert query.compare_rows(as_of, party, issue) == [r for r in whole if wanted(r)]
    verdicts = query.proposal_rows(as_of)
    assert query.proposal_rows(as_of, party, issue) == [r for r in verdicts if wanted(r)]
