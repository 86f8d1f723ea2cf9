"""Corrections and the two clocks, shifts, gaps, outlook, explain, diff, what-if and exports."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from positions.application import PositionsApplication
from positions.codebook import Correction, StatedOn
from positions.errors import NotFoundError, QueryError
from positions.export import plover_records, scenario_document
from positions.projections import Analysis
from positions.render import render
from tests.conftest import GOLDEN, ROOT, SEED, run_cli
from tests.helpers import assert_same_tables, tables

RIVER = ROOT / "fixtures" / "example-river-talks.yaml"
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def seeded(url: str = "memory://") -> PositionsApplication:
    app = PositionsApplication.open(url, create=True)
    app.import_files([SEED], now=T0)
    return app


@pytest.fixture
def seed_store(seeded: str) -> str:
    """A store URL holding the seed (a copy of the session's template)."""
    return seeded


def query(app: PositionsApplication, known_at: datetime | None = None) -> Analysis:
    return Analysis(app.get_record("ukraine-2025", known_at=known_at))


def cell(q: Analysis, party: str, issue: str, as_of: date | None = None) -> dict[str, object]:
    return q.stance(as_of, party=party, issue=issue).row(0, named=True)


# -- corrections and the recording clock


def test_a_correction_changes_the_coding_from_its_recording_time_on() -> None:
    app = seeded()
    fix = Correction(
        statement="zakharova-under-any-flag", position="no_nato_country_troops", reason="misread"
    )
    app.correct("ukraine-2025", fix, now=T0 + timedelta(days=1))
    assert cell(query(app), "russia", "foreign_troops")["position"] == "no_nato_country_troops"
    before = query(app, known_at=T0 + timedelta(hours=1))
    assert cell(before, "russia", "foreign_troops")["position"] == "no_foreign_troops"


def test_a_correction_can_itself_be_corrected_and_history_shows_each() -> None:
    app = seeded()
    first = Correction(statement="ushakov-no-talk-about-nato", position="renounced", reason="typo")
    second = Correction(
        statement="ushakov-no-talk-about-nato", position="off_the_table", reason="undo typo"
    )
    app.correct("ukraine-2025", first, now=T0 + timedelta(days=1))
    app.correct("ukraine-2025", second, now=T0 + timedelta(days=2))
    assert cell(query(app), "russia", "nato")["position"] == "off_the_table"
    middle = query(app, known_at=T0 + timedelta(days=1, hours=1))
    assert cell(middle, "russia", "nato")["position"] == "renounced"
    history = query(app).history(party="russia", issue="nato")
    fixes = history.filter(pl.col("kind") == "correction")
    assert fixes["quote"].to_list() == [
        "correction 1: position: off_the_table → renounced; reason: typo",
        "correction 2: position: renounced → off_the_table; reason: undo typo",
    ]
    assert fixes["recorded_at"].to_list() == [
        (T0 + timedelta(days=1)).isoformat(),
        (T0 + timedelta(days=2)).isoformat(),
    ]


def test_correcting_the_date_or_party_moves_the_statement() -> None:
    app = seeded()
    moved = Correction(
        statement="zakharova-under-any-flag",
        on=StatedOn.model_validate("2025-03-14"),
        reason="date",
    )
    app.correct("ukraine-2025", moved, now=T0 + timedelta(days=1))
    q = query(app)
    assert (
        cell(q, "russia", "foreign_troops", date(2025, 3, 13))["position"]
        == "no_nato_country_troops"
    )
    assert cell(q, "russia", "foreign_troops", date(2025, 3, 14))["position"] == "no_foreign_troops"
    party = Correction(statement="ukraine-accepts-30-day-ceasefire", party="us", reason="who")
    app.correct("ukraine-2025", party, now=T0 + timedelta(days=2))
    assert cell(query(app), "ukraine", "ceasefire")["position"] is None


@pytest.mark.parametrize(
    ("correction", "error", "message"),
    [
        (
            Correction(statement="nobody-said-this", position="renounced", reason="x"),
            NotFoundError,
            "unknown statement 'nobody-said-this' in negotiation 'ukraine-2025'",
        ),
        (
            Correction(statement="ushakov-no-talk-about-nato", position="ceasefire", reason="x"),
            QueryError,
            "'ceasefire' is not a point on the scale of issue 'nato' (choose from: "
            "membership_offered, door_open, off_the_table, renounced, noncommittal)",
        ),
        (
            Correction(statement="ushakov-no-talk-about-nato", verdict="accept", reason="x"),
            QueryError,
            "statement 'ushakov-no-talk-about-nato' answers no proposal, so it cannot carry a "
            "verdict",
        ),
        (
            Correction(statement="zakharova-under-any-flag", party="us", reason="x"),
            QueryError,
            "statement 'zakharova-under-any-flag' was made by 'zakharova', who speaks for "
            "'russia', not 'us'",
        ),
        (
            Correction(statement="zakharova-under-any-flag", issue="nato", reason="x"),
            QueryError,
            "'no_foreign_troops' is not a point on the scale of issue 'nato' (choose from: "
            "membership_offered, door_open, off_the_table, renounced, noncommittal) "
            "(give a position too)",
        ),
    ],
)
def test_an_impossible_correction_is_refused_and_nothing_is_written(
    correction: Correction, error: type[Exception], message: str
) -> None:
    app = seeded()
    before = app.recorder.max_notification_id()
    with pytest.raises(error) as caught:
        app.correct("ukraine-2025", correction)
    assert str(caught.value) == message
    assert app.recorder.max_notification_id() == before


def test_the_cli_corrects_and_reports_errors(seed_store: str) -> None:
    store = seed_store
    done = run_cli(
        "--store",
        store,
        "correct",
        "zakharova-under-any-flag",
        "--position",
        "no_nato_country_troops",
        "--reason",
        "re-read",
    )
    assert done.code == 0 and done.out.startswith(
        "Corrected zakharova-under-any-flag (position) at "
    )
    unknown = run_cli("--store", store, "correct", "ghost", "--position", "x", "--reason", "r")
    assert (unknown.code, unknown.err) == (
        2,
        "Error: unknown statement 'ghost' in negotiation 'ukraine-2025'\n",
    )
    nothing = run_cli("--store", store, "correct", "zakharova-under-any-flag", "--reason", "r")
    assert nothing.err == (
        "Error: a correction needs at least one of position, verdict, issue, on, party\n"
    )
    rows = json.loads(
        run_cli("--store", store, "history", "--issue", "foreign_troops", "--format", "json").out
    )
    fix = next(r for r in rows if r["kind"] == "correction")
    stamp = datetime.fromisoformat(fix["recorded_at"])
    earlier = (stamp - timedelta(microseconds=1)).isoformat()
    old = json.loads(
        run_cli(
            "--store",
            store,
            "stance",
            "--party",
            "russia",
            "--issue",
            "foreign_troops",
            "--known-at",
            earlier,
            "--format",
            "json",
        ).out
    )
    assert old[0]["position"] == "no_foreign_troops"


def test_a_malformed_known_at_is_one_line() -> None:
    result = run_cli("--store", "memory://", "compare", "--known-at", "last tuesday")
    assert (result.code, result.err) == (
        2,
        "Error: --known-at: 'last tuesday' is not a timestamp (expected YYYY-MM-DD or "
        "YYYY-MM-DDTHH:MM[:SS][+HH:MM])\n",
    )


# -- shifts, gaps, outlook, explain, diff


def test_zakharova_moves_russia_one_rank_up_on_foreign_troops() -> None:
    history = query(seeded()).history(party="russia", issue="foreign_troops")
    row = history.filter(pl.col("statement_id") == "zakharova-under-any-flag").row(0, named=True)
    assert (row["shift"], row["shift_ranks"]) == ("up", 1)


def test_a_move_away_from_the_others_is_hardened_and_towards_them_softened() -> None:
    app = PositionsApplication.open("memory://")
    app.import_files([RIVER])
    q = Analysis(app.get_record("river-talks"))
    rows = {
        r["statement_id"]: r
        for r in q.history(party="upstream", issue="flow_share").iter_rows(named=True)
    }
    # from no_commitment (4) to seasonal_minimum (3): towards downstream (1) and the mediator (2)
    assert (
        rows["up-accepts-minimum-with-conditions"]["shift"],
        rows["up-accepts-minimum-with-conditions"]["shift_ranks"],
    ) == ("softened", -1)
    assert (rows["up-minister-hardens"]["shift"], rows["up-minister-hardens"]["shift_ranks"]) == (
        "hardened",
        1,
    )
    assert (
        rows["up-retracts-hardening"]["shift"],
        rows["up-retracts-hardening"]["shift_ranks"],
    ) == ("softened", -1)


@pytest.mark.parametrize("view", ["gaps", "diff", "shifts"])
def test_seed_analysis_tables_match_the_golden_files(view: str, regen_golden: bool) -> None:
    q = query(seeded())
    if view == "gaps":
        text = render(q.gaps(date(2025, 3, 13)), "markdown", "gaps", "gaps as of 2025-03-13")
        text += "\n" + render(q.gap_pairs(date(2025, 3, 13)), "markdown", "pairs")
    elif view == "diff":
        text = render(q.diff(date(2025, 3, 11), date(2025, 3, 13)), "markdown", "diff", "diff")
    else:
        frame = q.history().select(
            "stated_on", "party", "statement_id", "issue", "position", "shift", "shift_ranks"
        )
        text = render(frame, "markdown", "shifts", "shifts")
    path = GOLDEN / f"{view}-seed.md"
    if regen_golden:
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


def test_gaps_name_shared_positions_and_who_has_not_accepted() -> None:
    row = query(seeded()).gaps(date(2025, 3, 13), "ceasefire").row(0, named=True)
    assert row["spread"] == 2
    assert row["shared"] == "temporary_ceasefire: ukraine, us"
    assert row["proposals"] == "us-30-day-ceasefire: not accepted by russia (undecided)"


def test_compare_carries_the_spread_per_issue() -> None:
    frame = query(seeded()).compare(date(2025, 3, 13))
    spreads = dict(frame.group_by("issue").agg(pl.col("spread").first()).iter_rows())
    assert spreads == {"ceasefire": 2, "foreign_troops": 0, "nato": 0}


def test_the_outlook_weights_ranks_by_capability_and_salience() -> None:
    app = PositionsApplication.open("memory://")
    app.import_files([RIVER])
    q = Analysis(app.get_record("river-talks"))
    flow = q.outlook(issue="flow_share").row(0, named=True)
    # weights 60*80, 40*90, 20*30 on ranks 3, 1, 2
    assert flow["weighted_mean"] == round((3 * 4800 + 1 * 3600 + 2 * 600) / 9000, 4)
    assert flow["mean_position"] == "guaranteed_minimum"
    assert (flow["weighted_median"], flow["median_position"]) == (3.0, "seasonal_minimum")
    dam = q.outlook(issue="dam_filling").row(0, named=True)
    assert dam["weighted_mean"] is None
    assert dam["excluded"] == (
        "upstream (no salience); downstream (no position, no salience); "
        "mediator (no position, no salience)"
    )


def test_the_seed_outlook_lists_every_party_as_excluded() -> None:
    row = query(seeded()).outlook(issue="nato").row(0, named=True)
    assert row["weighted_mean"] is None
    assert "us (no position, no capability, no salience)" in row["excluded"]


def test_explain_gives_the_chain_and_the_rule_of_each_step() -> None:
    frame = query(seeded()).explain("russia", "ceasefire", date(2025, 3, 13))
    assert frame.select("statement_id", "rule").rows() == [
        ("kremlin-ruled-out-temporary-ceasefire", "R5"),
        ("ushakov-waltz-call-temporary-respite", "R5"),
        ("ushakov-long-term-settlement", "R3"),
        ("peskov-not-a-rejection", "R4, R5"),
    ]
    assert frame["effect"][2] == "clarified by 'peskov-not-a-rejection' on 2025-03-13"


def test_diff_of_a_date_with_itself_is_empty_and_reversed_dates_are_an_error() -> None:
    q = query(seeded())
    assert q.diff(date(2025, 3, 12), date(2025, 3, 12)).is_empty()
    with pytest.raises(QueryError, match=r"^FROM \(2025-03-13\) is after TO \(2025-03-11\)$"):
        q.diff(date(2025, 3, 13), date(2025, 3, 11))
    result = run_cli("replay", str(SEED))  # smoke: the store-free path still works
    assert result.code == 0


def test_the_cli_answers_each_analysis_question(seed_store: str) -> None:
    store = seed_store
    for args in (
        ["gaps"],
        ["gaps", "--pairs", "--format", "json"],
        ["outlook"],
        ["explain", "russia", "ceasefire"],
        ["diff", "2025-03-11", "2025-03-13"],
    ):
        result = run_cli("--store", store, *args)
        assert (result.code, result.err) == (0, ""), args
    reversed_dates = run_cli("--store", store, "diff", "2025-03-13", "2025-03-11")
    assert (reversed_dates.code, reversed_dates.err) == (
        2,
        "Error: FROM (2025-03-13) is after TO (2025-03-11)\n",
    )
    bad_party = run_cli("--store", store, "explain", "france", "nato")
    assert bad_party.err == "Error: unknown party 'france' (known: russia, ukraine, us)\n"


# -- what-if


RUSSIA_ACCEPTS = """\
negotiation: ukraine-2025
statements:
  - id: what-if-russia-accepts
    on: 2025-03-14
    by: putin
    issue: ceasefire
    position: temporary_ceasefire
    verdict: accept_with_conditions
    proposal: us-30-day-ceasefire
    conditions: [a halt to arms supplies to Ukraine]
    quote: Hypothetical.
    sources: [{outlet: none}]
"""


def test_a_what_if_replay_marks_hypotheticals_and_writes_nothing(
    tmp_path: Path, seed_store: str
) -> None:
    store = seed_store
    db = Path(store.removeprefix("sqlite:///"))
    before = db.read_bytes()
    hypo = tmp_path / "accepts.yaml"
    hypo.write_text(RUSSIA_ACCEPTS, encoding="utf-8")
    result = run_cli(
        "--store", store, "replay", str(SEED), "--what-if", str(hypo), "--format", "json"
    )
    assert result.code == 0, result.err
    cells = {(r["issue"], r["party"]): r for r in json.loads(result.out)}
    russia = cells[("ceasefire", "russia")]
    assert (russia["position"], russia["hypothetical"], russia["changed"]) == (
        "temporary_ceasefire",
        True,
        True,
    )
    assert russia["cell"].endswith("[what-if]") and russia["base_position"] == "settlement_first"
    assert cells[("nato", "russia")]["changed"] is False
    table = run_cli("replay", str(SEED), "--what-if", str(hypo), "--format", "markdown").out
    assert "**Changes against the base**" in table
    assert db.read_bytes() == before


def test_hypothetical_statements_cannot_be_imported_into_a_real_store(
    tmp_path: Path, seed_store: str
) -> None:
    store = seed_store
    hypo = tmp_path / "h.yaml"
    hypo.write_text(
        RUSSIA_ACCEPTS.replace(
            "    quote: Hypothetical.", "    hypothetical: true\n    quote: Hypothetical."
        ),
        encoding="utf-8",
    )
    result = run_cli("--store", store, "import", str(hypo))
    assert result.code == 2
    assert result.err == (
        f"Error: {hypo}:3: statement 'what-if-russia-accepts': hypothetical statements are for "
        "'positions replay --what-if', not for a store\n"
    )


# -- exports


def test_the_scenario_export_reimports_into_identical_tables(tmp_path: Path) -> None:
    app = seeded()
    app.correct(
        "ukraine-2025",
        Correction(
            statement="rubio-deterrent-on-the-ground", position="european_contingent", reason="r"
        ),
    )
    out = tmp_path / "record.yaml"
    result_app = PositionsApplication.open("memory://")
    from positions.export import write_export

    write_export(query(app), "scenario", None, out, None)
    result_app.import_files([out])
    assert_same_tables(tables(app), tables(result_app))
    assert scenario_document(query(result_app))["corrections"] == [
        {
            "statement": "rubio-deterrent-on-the-ground",
            "reason": "r",
            "position": "european_contingent",
        }
    ]


@pytest.mark.parametrize("fmt", ["parquet", "csv", "jsonl"])
def test_flat_exports_carry_every_statement_with_both_clocks(
    tmp_path: Path, seed_store: str, fmt: str
) -> None:
    store = seed_store
    out = tmp_path / f"statements.{fmt}"
    result = run_cli("--store", store, "export", "--what", "statements", str(out))
    assert (result.code, result.out) == (0, f"Wrote 11 statement(s) to {out}.\n")
    readers: dict[str, Callable[[Path], pl.DataFrame]] = {
        "parquet": pl.read_parquet,
        "csv": pl.read_csv,
        "jsonl": pl.read_ndjson,
    }
    frame = readers[fmt](out)
    assert frame.height == 11
    assert {
        "statement_id",
        "date",
        "recorded_at",
        "position",
        "rank",
        "sources",
        "ended_by",
    } <= set(frame.columns)


def test_plover_records_map_verdicts_and_keep_what_plover_cannot_express() -> None:
    records = {r["id"].split(":", 1)[1]: r for r in plover_records(query(seeded()))}
    assert len(records) == 11
    reject = records["ushakov-waltz-call-temporary-respite"]
    assert (reject["event"], reject["mode"], reject["recipient"]) == ("REJECT", "yield", "us")
    assert records["ukraine-accepts-30-day-ceasefire"]["event"] == "AGREE"
    clarification = records["peskov-not-a-rejection"]
    assert clarification["event"] is None
    assert clarification["comment"].startswith("clarification of ushakov-long-term-settlement; ")
    claim = records["ushakov-claims-us-nato-off-the-table"]
    assert (claim["actor"], claim["recipient"]) == ("russia", "us")
    assert records["trump-up-to-russia"]["comment"] == "noncommittal remark: no PLOVER category"
    assert reject["cite_info"]["outlet"] == "CNN"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--what", "stance", "--format", "plover", "x.jsonl"],
            "Error: --format plover is for --what statements, not stance\n",
        ),
        (
            ["--what", "scenario", "x.csv"],
            "Error: --what scenario writes YAML: use --format yaml or an .yaml file\n",
        ),
        (
            ["--what", "history", "x.txt"],
            "Error: cannot tell the format of x.txt from its extension: give --format (parquet, csv, jsonl, plover or yaml)\n",
        ),
        (
            ["--what", "history", "no/dir/x.csv"],
            "Error: cannot write no/dir/x.csv: no directory no/dir\n",
        ),
    ],
)
def test_export_errors_are_one_line(
    seed_store: str, tmp_path: Path, args: list[str], message: str
) -> None:
    store = seed_store
    result = run_cli("--store", store, "export", *args, cwd=tmp_path)
    assert (result.code, result.err) == (2, message)
    assert [p.name for p in tmp_path.iterdir() if not p.name.startswith("store.db")] == []


def test_correcting_a_date_past_its_own_clarification_is_refused() -> None:
    app = seeded()
    late = Correction(
        statement="ushakov-long-term-settlement",
        on=StatedOn.model_validate("2025-03-20"),
        reason="x",
    )
    with pytest.raises(QueryError) as caught:
        app.correct("ukraine-2025", late)
    assert str(caught.value) == (
        "statement 'ushakov-long-term-settlement' is qualified by 'peskov-not-a-rejection', "
        "made 2025-03-13: it cannot be dated 2025-03-20"
    )


def test_reimporting_salience_declarations_adds_nothing() -> None:
    app = PositionsApplication.open("memory://")
    app.import_files([RIVER])
    again = app.import_files([RIVER])
    assert (again.definitions, again.events) == (0, 0)


def test_a_naive_known_at_is_read_as_utc() -> None:
    app = seeded()
    record = app.get_record("ukraine-2025", known_at=T0.replace(tzinfo=None))
    assert len(record.statements) == 11
