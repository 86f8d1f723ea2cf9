"""Replaying the seed scenario gives the expected tables (golden files under tests/golden/)."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

from positions.application import PositionsApplication
from positions.projections import Query
from positions.render import render
from tests.conftest import GOLDEN, SEED


@pytest.fixture(scope="module")
def seed_query() -> Query:
    app = PositionsApplication.open("memory://")
    app.import_files([SEED])
    return Query(app.get_record("ukraine-2025"))


CASES = [
    ("compare", "2025-03-12"),
    ("compare", "2025-03-13"),
    ("proposals", "2025-03-12"),
    ("proposals", "2025-03-13"),
]


@pytest.mark.parametrize(("view", "day"), CASES)
def test_seed_tables_match_the_golden_files(
    seed_query: Query, view: str, day: str, regen_golden: bool
) -> None:
    as_of = date.fromisoformat(day)
    frame = seed_query.compare(as_of) if view == "compare" else seed_query.proposals(as_of)
    text = render(frame, "markdown", view, f"{view} as of {day}")
    path = GOLDEN / f"{view}-{day}.md"
    if regen_golden:
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


def _cell(query: Query, as_of: str, party: str, issue: str) -> dict[str, dict[str, Any]]:
    rows = query.stance(date.fromisoformat(as_of), party=party, issue=issue, claims=True)
    return {r["claimed_by"] or "own": r for r in rows.iter_rows(named=True)}


def test_russia_is_undecided_on_the_us_proposal_after_peskovs_clarification(
    seed_query: Query,
) -> None:
    frame = seed_query.proposals(date(2025, 3, 13))
    russia = frame.filter(frame["party"] == "russia").row(0, named=True)
    assert russia["verdict"] == "undecided"
    assert russia["statement_id"] == "peskov-not-a-rejection"


def test_russia_rejected_the_us_proposal_as_of_wednesday(seed_query: Query) -> None:
    frame = seed_query.proposals(date(2025, 3, 12))
    russia = frame.filter(frame["party"] == "russia").row(0, named=True)
    assert russia["verdict"] == "reject"


def test_russia_hardened_on_foreign_troops_from_the_12th_to_the_13th(seed_query: Query) -> None:
    before = _cell(seed_query, "2025-03-12", "russia", "foreign_troops")["own"]
    after = _cell(seed_query, "2025-03-13", "russia", "foreign_troops")["own"]
    assert before["position"] == "no_nato_country_troops"
    assert after["position"] == "no_foreign_troops"
    assert before["rank"] < after["rank"]


def test_the_us_has_no_own_nato_position_only_one_claimed_by_russia(seed_query: Query) -> None:
    cells = _cell(seed_query, "2025-03-13", "us", "nato")
    assert cells["own"]["position"] is None
    assert cells["russia"]["position"] == "off_the_table"
    assert cells["russia"]["statement_id"] == "ushakov-claims-us-nato-off-the-table"


def test_ukraine_accepted_the_30_day_ceasefire_on_the_11th(seed_query: Query) -> None:
    own = _cell(seed_query, "2025-03-11", "ukraine", "ceasefire")["own"]
    assert own["position"] == "temporary_ceasefire"
    assert json.loads(str(own["terms"])) == {"duration_days": 30, "scope": "entire front line"}


def test_a_noncommittal_remark_does_not_withdraw_the_us_proposal(seed_query: Query) -> None:
    own = _cell(seed_query, "2025-03-13", "us", "ceasefire")["own"]
    assert own["position"] == "temporary_ceasefire"
    assert own["statement_id"] == "us-30-day-ceasefire"


def test_a_noncommittal_remark_is_the_stance_when_nothing_else_was_said(seed_query: Query) -> None:
    own = _cell(seed_query, "2025-03-13", "us", "foreign_troops")["own"]
    assert own["position"] == "noncommittal"
    assert own["rank"] is None


def test_the_earlier_russian_ceasefire_position_orders_before_the_talks(seed_query: Query) -> None:
    history = seed_query.history(party="russia", issue="ceasefire")
    ids = history["statement_id"].to_list()
    assert ids[0] == "kremlin-ruled-out-temporary-ceasefire"
    assert history["stated_on"][0] == "before 2025-03-11"
    assert ids.index("peskov-not-a-rejection") > ids.index("ushakov-long-term-settlement")


def test_history_shows_the_clarification_where_it_happened(seed_query: Query) -> None:
    history = seed_query.history(party="russia", issue="ceasefire")
    clarified = history.filter(history["statement_id"] == "ushakov-long-term-settlement").row(
        0, named=True
    )
    assert clarified["ended_by"] == "peskov-not-a-rejection"
    assert clarified["ended_how"] == "clarified"
    as_of_12 = seed_query.history(party="russia", issue="ceasefire", as_of=date(2025, 3, 12))
    assert "ushakov-long-term-settlement" not in as_of_12["statement_id"].to_list()


def test_developments_are_on_the_timeline_with_their_sources(seed_query: Query) -> None:
    history = seed_query.history()
    developments = history.filter(history["kind"] == "development")
    assert set(developments["statement_id"]) == {
        "us-ukraine-talks-saudi-arabia",
        "ushakov-waltz-phone-call",
        "witkoff-arrives-in-moscow",
        "russia-says-sudzha-recaptured",
    }
    assert all(s and s.startswith("CNN") for s in developments["sources"])


def test_the_seed_codes_every_speaker_of_the_article(seed_query: Query) -> None:
    speakers = set(seed_query.history()["speaker"].drop_nulls())
    assert {
        "Yuriy Ushakov",
        "Dmitry Peskov",
        "Maria Zakharova",
        "Marco Rubio",
        "Donald Trump",
    } <= speakers
