"""Table layout (`positions.terminal`): one line per row, ids whole, free text cut to the room."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from positions.terminal import Layout, cut, shown_columns, table, text_width

COLUMNS = ["party", "statement_id", "verdict", "quote"]
ROWS = [
    ["russia", "peskov-not-a-rejection", "undecided", "Ushakov's remarks were not a rejection."],
    ["us", "us-30-day-ceasefire", "accept", "Ready to agree to a 30-day ceasefire."],
]


def test_a_table_that_fits_is_as_wide_as_its_cells() -> None:
    assert table(COLUMNS, ROWS, "Verdicts", Layout(width=120)) == (
        "Verdicts\n"
        "┏━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┓\n"
        "┃ party  ┃ statement_id           ┃ verdict   ┃ quote                                   ┃\n"
        "┡━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┩\n"
        "│ russia │ peskov-not-a-rejection │ undecided │ Ushakov's remarks were not a rejection. │\n"
        "│ us     │ us-30-day-ceasefire    │ accept    │ Ready to agree to a 30-day ceasefire.   │\n"
        "└────────┴────────────────────────┴───────────┴─────────────────────────────────────────┘\n"
    )


def test_in_a_narrow_room_only_the_quote_is_cut_and_ends_in_an_ellipsis() -> None:
    assert table(COLUMNS, ROWS, None, Layout(width=70)) == (
        "┏━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━┓\n"
        "┃ party  ┃ statement_id           ┃ verdict   ┃ quote                ┃\n"
        "┡━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━┩\n"
        "│ russia │ peskov-not-a-rejection │ undecided │ Ushakov's remarks w… │\n"
        "│ us     │ us-30-day-ceasefire    │ accept    │ Ready to agree to a… │\n"
        "└────────┴────────────────────────┴───────────┴──────────────────────┘\n"
    )


def test_wide_cuts_nothing_and_a_narrow_room_never_breaks_an_id() -> None:
    wide = table(COLUMNS, ROWS, None, Layout(width=None))
    assert "Ushakov's remarks were not a rejection." in wide
    narrow = table(COLUMNS, ROWS, None, Layout(width=20)).splitlines()
    assert len(narrow) == 2 + 4  # one line per row, whatever the room
    assert narrow[3] == "│ russia │ peskov-not-a-rejection │ undecided │ Ushakov's remar… │"


def test_records_show_one_field_per_line_and_skip_empty_fields() -> None:
    rows = [["russia", "peskov-not-a-rejection", "", "Not a rejection."]]
    assert table(COLUMNS, rows, "Verdicts", Layout(records=True)) == (
        "Verdicts\n"
        "-[ RECORD 1 ]--\n"
        "party        | russia\n"
        "statement_id | peskov-not-a-rejection\n"
        "quote        | Not a rejection.\n"
    )


def test_colour_marks_verdicts_and_claims_without_changing_the_widths() -> None:
    columns = ["verdict", "claimed_by"]
    rows = [["reject", ""], ["accept", "russia"]]
    plain = table(columns, rows, None, Layout(color=False)).splitlines()
    coloured = table(columns, rows, None, Layout(color=True)).splitlines()
    assert coloured[3] == "│ \x1b[31mreject\x1b[0m  │            │"
    assert coloured[4] == "│ \x1b[32maccept\x1b[0m  │ \x1b[35mrussia\x1b[0m     │"
    strip = [
        line.replace("\x1b[31m", "").replace("\x1b[32m", "").replace("\x1b[35m", "")
        for line in coloured
    ]
    assert [line.replace("\x1b[0m", "") for line in strip] == plain


def test_the_columns_shown_are_those_with_text_and_not_fixed_by_a_filter() -> None:
    rows = [["russia", "", "x"], ["russia", "", "y"]]
    assert shown_columns(["party", "terms", "quote"], rows) == [0, 2]
    assert shown_columns(["party", "terms", "quote"], rows, fixed=["party"]) == [2]


def test_wide_characters_are_measured_in_terminal_cells() -> None:
    assert text_width("和平") == 4
    assert cut("和平協定が必要だ", 7) == "和平協…"
    assert text_width(cut("和平協定が必要だ", 7)) <= 7


TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp"), blacklist_characters="│"),
    max_size=40,
)


@given(
    rows=st.lists(st.tuples(TEXT, TEXT, TEXT), min_size=1, max_size=6),
    width=st.integers(min_value=10, max_value=200),
)
def test_every_row_is_one_line_and_the_ids_are_whole(
    rows: list[tuple[str, str, str]], width: int
) -> None:
    columns = ["statement_id", "position", "quote"]
    lines = table(columns, [list(row) for row in rows], None, Layout(width=width)).splitlines()
    assert len(lines) == len(rows) + 4
    ids_width = max(text_width(t) for row in rows for t in (row[0], row[1], "statement_id"))
    for line, row in zip(lines[3:-1], rows, strict=True):
        cells = line[1:-1].split("│")
        assert cells[0].strip() == row[0].strip() or row[0] in cells[0]
        assert row[1] in cells[1]
        shown = cells[2].strip()
        assert shown == row[2].strip() or (shown.endswith("…") and row[2].startswith(shown[:-1]))
    # the table fits the room whenever the columns that are never cut leave room for the quote
    if 2 * ids_width + 16 + 10 <= width:
        assert all(text_width(line) <= width for line in lines)


def test_columns_that_cannot_fit_are_left_out_in_the_order_given_and_named() -> None:
    shown = table(COLUMNS, ROWS, None, Layout(width=50), droppable=["verdict", "statement_id"])
    lines = shown.splitlines()
    assert lines[1] == "┃ party  ┃ quote" + " " * 33 + "┃"
    assert lines[3] == "│ russia │ Ushakov's remarks were not a rejecti… │"
    assert lines[-1] == "Left out at 50 columns: verdict, statement_id (see --wide)."
    assert all(text_width(line) <= 50 for line in lines[:-1])
    assert table(COLUMNS, ROWS, None, Layout(width=None), droppable=["verdict"]).count("verdict")
