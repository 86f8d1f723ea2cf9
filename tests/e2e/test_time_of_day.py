"""Times of day in `on` (R1): within a day a later time orders after an earlier one, whatever
the ids and kinds; untimed statements of the day come first; offsets are compared as instants;
`--as-of` a date takes in the whole day; times that order two statements leave the cell
uncontested (R16). On SQLite and PostgreSQL, through the CLI."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import run_cli
from tests.helpers import cli_json as rows
from tests.helpers import copied_through_a_scenario, exported_statements


def _import(url: str, tmp_path: Path, statements: str, name: str = "day.yaml") -> Any:
    path = tmp_path / name
    path.write_text("negotiation: ukraine-2025\nstatements:\n" + statements, encoding="utf-8")
    return run_cli("--store", url, "import", str(path))


POSITION_OF = {"ushakov": "settlement_first", "peskov": "conditional_ceasefire"}
"""What each Russian speaker says on the ceasefire in the statements `_said` writes."""


def _said(sid: str, on: str, by: str) -> str:
    """One statement of ``by`` on the ceasefire, as a scenario file's YAML list item."""
    return (
        f"  - id: {sid}\n    on: {on}\n    by: {by}\n    issue: ceasefire\n"
        f"    position: {POSITION_OF[by]}\n    quote: {sid}.\n"
        f"    sources: [https://example.org/{sid}]\n"
    )


def _russia(url: str, *args: str) -> tuple[Any, ...]:
    [row] = rows(url, "stance", "--party", "russia", "--issue", "ceasefire", *args)
    return row["position"], row["statement_id"], row["contested"], row["stated_on"]


EVENING_FIRST_ID = """\
  - id: a-evening
    on: 2025-03-14T18:00
    by: ushakov
    issue: ceasefire
    position: settlement_first
    quote: Only a settlement.
    sources: [https://example.org/evening]
  - id: b-morning
    on: 2025-03-14T09:30
    by: peskov
    issue: ceasefire
    position: conditional_ceasefire
    quote: On conditions.
    sources: [https://example.org/morning]
"""


def test_a_later_time_of_day_counts_after_an_earlier_one_whatever_the_ids(
    seeded_url: str, tmp_path: Path
) -> None:
    imported = _import(seeded_url, tmp_path, EVENING_FIRST_ID)
    assert (imported.code, imported.err) == (0, "")
    # by id, b-morning would sort last; by time the evening statement is the later one
    assert _russia(seeded_url, "--as-of", "2025-03-14") == (
        "settlement_first",
        "a-evening",
        False,
        "2025-03-14T18:00:00",
    )
    history = rows(seeded_url, "history", "--party", "russia", "--since", "2025-03-14")
    assert [(r["statement_id"], r["stated_on"], r["shift"]) for r in history] == [
        ("b-morning", "2025-03-14T09:30:00", "softened"),
        ("a-evening", "2025-03-14T18:00:00", "hardened"),
    ]
    explained = rows(seeded_url, "explain", "russia", "ceasefire", "--as-of", "2025-03-14")
    assert [r["statement_id"] for r in explained][-2:] == ["b-morning", "a-evening"]
    precision = {r["statement_id"]: r["date_precision"] for r in exported_statements(seeded_url)}
    assert (precision["a-evening"], precision["peskov-not-a-rejection"]) == ("time", "day")


def test_untimed_statements_of_a_day_come_before_timed_ones_and_contest_them(
    seeded_url: str, tmp_path: Path
) -> None:
    """An untimed statement orders first on its day (R1), but nothing says it came first:
    the cell is contested (R16). Two at the same time are contested too; two at different
    times are not."""
    untimed = _said("z-untimed", "2025-03-14", "peskov") + _said(
        "a-timed", "2025-03-14T08:00", "ushakov"
    )
    assert _import(seeded_url, tmp_path, untimed).code == 0
    assert _russia(seeded_url)[:3] == ("settlement_first", "a-timed", True)
    same_time = _said("c-same-time", "2025-03-16T12:00Z", "ushakov") + _said(
        "d-same-time", "2025-03-16T14:00+02:00", "peskov"
    )
    assert _import(seeded_url, tmp_path, same_time, "same.yaml").code == 0
    assert _russia(seeded_url)[:3] == ("conditional_ceasefire", "d-same-time", True)
    apart = _said("f-later", "2025-03-17T12:01Z", "ushakov") + _said(
        "g-earlier", "2025-03-17T14:00+02:00", "peskov"
    )
    assert _import(seeded_url, tmp_path, apart, "apart.yaml").code == 0
    # 14:00+02:00 is 12:00 UTC, a minute before 12:01Z
    assert _russia(seeded_url)[:3] == ("settlement_first", "f-later", False)


def test_as_of_a_day_takes_in_its_last_minute_and_a_tabling_orders_by_its_time(
    seeded_url: str, tmp_path: Path
) -> None:
    late = """\
  - id: late-night
    on: 2025-03-14T23:59-05:00
    by: peskov
    issue: ceasefire
    position: conditional_ceasefire
    quote: Late.
    sources: [https://example.org/late]
"""
    assert _import(seeded_url, tmp_path, late).code == 0
    # the day is the date as written, whatever the offset
    assert _russia(seeded_url, "--as-of", "2025-03-14")[:2] == (
        "conditional_ceasefire",
        "late-night",
    )
    assert _russia(seeded_url, "--as-of", "2025-03-13")[1] == "peskov-not-a-rejection"
    tabled = tmp_path / "tabled.yaml"
    tabled.write_text(
        "negotiation: ukraine-2025\n"
        "proposals:\n"
        "  - {id: moscow-plan, issue: ceasefire, by: russia, on: 2025-03-18T20:00,"
        " position: settlement_first}\n"
        "statements:\n"
        "  - {id: zz-noon, on: 2025-03-18T12:00, by: peskov, issue: ceasefire,"
        " position: conditional_ceasefire, quote: Noon., sources: [https://example.org/noon]}\n",
        encoding="utf-8",
    )
    assert run_cli("--store", seeded_url, "import", str(tabled)).code == 0
    # the evening tabling states Russia's position after the noon statement (R7 at its time)
    assert _russia(seeded_url)[:2] == ("settlement_first", "moscow-plan")


@pytest.mark.parametrize(
    ("on", "extra", "message"),
    [
        (
            "before 2025-03-14T10:00",
            "",
            "'before' takes a date, not a time of day ('2025-03-14T10:00'): a statement known "
            "only to be made before a day has no time",
        ),
        (
            "2025-03-14T25:00",
            "",
            "'2025-03-14T25:00' is not a date-time (expected YYYY-MM-DDTHH:MM[:SS], then an "
            "optional UTC offset such as Z or +02:00)",
        ),
        (
            "2025-03-14T10:00:00.5",
            "",
            "a time of day is given to the second at most, not 10:00:00.500000",
        ),
        (
            "2025-03-14T17:00",
            "    clarifies: first\n",
            "cannot clarify 'first', which was made later (2025-03-14T18:00:00): on its day, "
            "give this statement a time at or after it",
        ),
        (
            "2025-03-14",
            "    clarifies: first\n",
            "cannot clarify 'first', which was made later (2025-03-14T18:00:00): on its day, "
            "give this statement a time at or after it",
        ),
    ],
    ids=["before-with-time", "no-such-time", "fraction", "clarified-earlier", "untimed-clarifier"],
)
def test_a_time_that_cannot_be_ordered_is_refused_with_its_line(
    seeded_url: str, tmp_path: Path, on: str, extra: str, message: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "negotiation: ukraine-2025\nstatements:\n"
        "  - id: first\n    on: 2025-03-14T18:00\n    by: peskov\n    issue: ceasefire\n"
        "    position: settlement_first\n    quote: First.\n"
        "    sources: [https://example.org/first]\n"
        f"  - id: second\n    on: {on}\n    by: peskov\n{extra}"
        "    quote: Second.\n    sources: [https://example.org/second]\n"
        + ("" if extra else "    issue: ceasefire\n    position: settlement_first\n"),
        encoding="utf-8",
    )
    before = rows(seeded_url, "history")
    result = run_cli("--store", seeded_url, "import", str(path))
    assert result.code != 0
    [line] = result.err.splitlines()
    assert line.startswith(f"Error: {path}:11: ")
    assert message in line
    assert rows(seeded_url, "history") == before


def test_a_timed_record_exports_as_a_scenario_that_imports_as_it_was(
    seeded_url: str, tmp_path: Path
) -> None:
    assert _import(seeded_url, tmp_path, EVENING_FIRST_ID).code == 0
    copy, exported = copied_through_a_scenario(seeded_url, tmp_path)
    assert "2025-03-14T18:00:00" in exported

    def recorded(url: str) -> list[dict[str, Any]]:
        return [{**r, "recorded_at": None} for r in rows(url, "history")]

    assert recorded(copy) == recorded(seeded_url)
