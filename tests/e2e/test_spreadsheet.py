"""`positions import` of spreadsheets of statements (.csv, .xlsx, .ods), through the real entry
point: an export imports back into the same record, every problem is named FILE:ROW:COLUMN,
and nothing is written on any problem."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from positions.cells import guarded, unguarded
from positions.scenario import dump_scenario, parse_text
from tests.conftest import SEED, run_cli
from tests.strategies import codebook, statements


def definitions(path: Path) -> Path:
    """The seed's codebook alone (its statements left out), as a scenario file."""
    document = json.loads(json.dumps(parse_text(SEED.read_text(encoding="utf-8"))))
    document.pop("statements")
    path.write_text(dump_scenario(document), encoding="utf-8")
    return path


def exported(url: str, *args: str) -> list[dict[str, str]]:
    """The statements export as csv rows, without the recording time (which differs)."""
    out = run_cli("--store", url, *args, "export", "--what", "statements", "--format", "csv", "-")
    assert out.code == 0, out.err
    return [{k: v for k, v in row.items() if k != "recorded_at"} for row in csv.DictReader(
        io.StringIO(out.out))]  # fmt: skip


def compared(url: str) -> str:
    result = run_cli("--store", url, "compare", "--format", "csv")
    assert result.code == 0, result.err
    return result.out


def test_a_statements_export_imports_back_into_the_same_record(
    store_url: str, tmp_path: Path
) -> None:
    seeded = f"sqlite:///{tmp_path / 'source.db'}"
    assert run_cli("--store", seeded, "import", str(SEED)).code == 0
    sheet = tmp_path / "statements.csv"
    assert run_cli("--store", seeded, "export", "--what", "statements", str(sheet)).code == 0
    defs = definitions(tmp_path / "defs.yaml")
    imported = run_cli("--store", store_url, "import", str(defs), str(sheet))
    assert (imported.code, imported.err) == (0, "")
    assert imported.out.startswith("Recorded 11 statement(s)")
    assert exported(store_url) == exported(seeded)
    assert compared(store_url) == compared(seeded)
    again = run_cli("--store", store_url, "import", str(sheet))
    assert again.out == "Nothing new: 1 file(s) already recorded in ukraine-2025.\n"


def test_a_csv_imports_into_postgresql_too(seeded_url: str, tmp_path: Path) -> None:
    """The seed's statements, re-recorded from a csv of new ids, on either store."""
    rows = exported(seeded_url)
    frame = pl.DataFrame(rows).with_columns(
        (pl.lit("copy-") + pl.col("statement_id")).alias("statement_id")
    )
    frame = frame.with_columns(
        pl.when(pl.col(c) == "").then(None).otherwise(pl.col(c)).alias(c) for c in frame.columns
    )
    for target in ("clarifies", "retracts"):
        frame = frame.with_columns(
            pl.when(pl.col(target).is_not_null())
            .then(pl.lit("copy-") + pl.col(target))
            .otherwise(None)
            .alias(target)
        )
    sheet = tmp_path / "copies.csv"
    frame.write_csv(sheet)
    result = run_cli("--store", seeded_url, "import", str(sheet))
    assert (result.code, result.err) == (0, ""), result.err
    assert result.out.startswith("Recorded 11 statement(s)")
    ids = {r["statement_id"] for r in exported(seeded_url)}
    assert {f"copy-{r['statement_id']}" for r in rows} <= ids


def sheet_rows(before: bool = True) -> list[dict[str, Any]]:
    """Two statements: one with date cells and a second source, one of a party's speaker
    made before a day (as text, unless ``before`` is false: a column of an xlsx sheet written
    by polars holds one type) with its source given by its URL alone."""
    return [
        {
            "statement_id": "peskov-guarantees",
            "stated_on": date(2025, 3, 14),
            "speaker": "peskov",
            "issue": "ceasefire",
            "position": "conditional_ceasefire",
            "quote": "-We need guarantees.",  # a cell a spreadsheet would run, kept as text
            "source_url": "https://example.org/a",
            "outlet": "Wire",
            "published": date(2025, 3, 15),
            "outlet_2": "TASS",
        },
        {
            "statement_id": "trump-hopes",
            "stated_on": "before 2025-03-15" if before else date(2025, 3, 14),
            "speaker": "trump",
            "issue": "ceasefire",
            "position": "temporary_ceasefire",
            "quote": "We hope Russia agrees.",
            "source_url": "https://example.org/b",
            "outlet": None,
            "published": None,
            "outlet_2": None,
        },
    ]


def write_ods(path: Path, rows: list[dict[str, Any]]) -> None:
    from odf.opendocument import OpenDocumentSpreadsheet  # type: ignore[import-untyped]
    from odf.table import Table, TableCell, TableRow  # type: ignore[import-untyped]
    from odf.text import P  # type: ignore[import-untyped]

    document = OpenDocumentSpreadsheet()
    table = Table(name="statements")
    header = TableRow()
    for name in rows[0]:
        cell = TableCell(valuetype="string")
        cell.addElement(P(text=name))
        header.addElement(cell)
    table.addElement(header)
    for row in rows:
        line = TableRow()
        for value in row.values():
            if isinstance(value, date):
                cell = TableCell(valuetype="date", datevalue=value.isoformat())
                cell.addElement(P(text=value.strftime("%d/%m/%Y")))
            else:
                cell = TableCell(valuetype="string")
                if value is not None:
                    cell.addElement(P(text=value))
            line.addElement(cell)
        table.addElement(line)
    document.spreadsheet.addElement(table)
    document.save(str(path))


def check_sheet(seeded: str, sheet: Path, before: bool = True) -> None:
    result = run_cli("--store", seeded, "import", "--negotiation", "ukraine-2025", str(sheet))
    assert (result.code, result.err) == (0, ""), result.err
    assert result.out.startswith("Recorded 2 statement(s)")
    rows = {r["statement_id"]: r for r in exported(seeded)}
    peskov, trump = rows["peskov-guarantees"], rows["trump-hopes"]
    assert (peskov["stated_on"], peskov["quote"]) == ("2025-03-14", "'-We need guarantees.")
    assert json.loads(peskov["sources"]) == [
        {"outlet": "Wire", "url": "https://example.org/a", "published": "2025-03-15"},
        {"outlet": "TASS"},
    ]
    assert trump["stated_on"] == ("before 2025-03-15" if before else "2025-03-14")
    assert json.loads(trump["sources"]) == [
        {"outlet": "example.org", "url": "https://example.org/b"}
    ]
    stance = json.loads(run_cli("--store", seeded, "stance", "--format", "json").out)
    cell = next(r for r in stance if (r["party"], r["issue"]) == ("russia", "ceasefire"))
    assert cell["statement_id"] == "peskov-guarantees"


def test_an_xlsx_sheet_with_date_cells_imports(seeded: str, tmp_path: Path) -> None:
    sheet = tmp_path / "statements.xlsx"
    pl.DataFrame(sheet_rows(before=False)).write_excel(sheet, worksheet="statements")
    check_sheet(seeded, sheet, before=False)


def test_an_ods_sheet_with_date_cells_imports(seeded: str, tmp_path: Path) -> None:
    sheet = tmp_path / "statements.ods"
    write_ods(sheet, sheet_rows())
    check_sheet(seeded, sheet)


def test_a_csv_sheet_imports(seeded: str, tmp_path: Path) -> None:
    sheet = tmp_path / "statements.csv"
    rows = [{k: str(v) if isinstance(v, date) else v for k, v in r.items()} for r in sheet_rows()]
    frame = pl.DataFrame(rows).with_columns(pl.col("quote").map_elements(guarded))
    sheet.write_bytes(b"\xef\xbb\xbf" + frame.write_csv().encode())  # with a BOM, as Excel saves
    check_sheet(seeded, sheet)


HEADER = "negotiation,statement_id,stated_on,speaker,issue,position,quote,source_url\n"
ROW = "ukraine-2025,s1,2025-03-14,peskov,ceasefire,conditional_ceasefire,Hi,https://e.org/1\n"

BAD: dict[str, tuple[bytes, list[str]]] = {
    "columns.csv": (
        b"statement_id,stated_on,speaker,confidnce,quotes\ns1,2025-03-14,peskov,high,Hi\n",
        [
            "columns.csv:1: names no negotiation: add a 'negotiation' column, or give "
            "--negotiation ID",
            "columns.csv:1:confidnce: unknown column: did you mean 'confidence'?",
            "columns.csv:1:quotes: unknown column: did you mean 'quote'?",
        ],
    ),
    "shape.csv": (
        (
            HEADER
            + ROW.replace("2025-03-14", "14.3.2025")
            + ROW.replace("s1,", "S2,")
            + ROW.replace("https://e.org/1", "e.org/1").replace("s1,", "s3,")
        ).encode(),
        [
            "shape.csv:2:stated_on: expected a date as YYYY-MM-DD (or before YYYY-MM-DD), not "
            "'14.3.2025'",
            "shape.csv:3:statement_id: ids are lower case: write 's2'",
            "shape.csv:4:source_url: a url starts with http:// or https:// and holds no "
            "spaces: write 'https://e.org/1'",
        ],
    ),
    "rules.csv": (
        (
            HEADER
            + ROW.replace("peskov", "peskv").replace(",conditional_ceasefire", ",conditional")
            + ROW.replace("s1,", "s2,").replace(",Hi,", ",,")
        ).encode(),
        [
            "rules.csv:2:position: statement 's1': 'conditional' is not a point on the scale of "
            "issue 'ceasefire' (choose from: immediate_unconditional, temporary_ceasefire, "
            "conditional_ceasefire, settlement_first, no_ceasefire, noncommittal)",
            "rules.csv:2:speaker: statement 's1': 'peskv' is neither a speaker nor a party of "
            "'ukraine-2025': did you mean 'peskov'?",
            "rules.csv:3: statement 's2': a statement needs its 'quote' (the words as reported)",
        ],
    ),
    "ragged.csv": (
        (HEADER + ROW + ROW.replace("s1,", "s2,").replace("\n", ",x\n")).encode(),
        ["ragged.csv:3: holds 9 cell(s), but the header names 8"],
    ),
    "short.csv": (
        (HEADER + "ukraine-2025,s1\n").encode(),  # the cells left out at its end are empty
        ["short.csv:2:stated_on: required field is missing"],
    ),
    "latin1.csv": (
        (HEADER + ROW.replace("Hi", "caf\xe9")).encode("latin-1"),
        ["latin1.csv:2: is not valid UTF-8"],
    ),
    "other.csv": (
        (HEADER + ROW.replace("ukraine-2025", "river")).encode(),
        ["other.csv:2:negotiation: is 'river', but --negotiation is 'ukraine-2025'"],
    ),
    "broken.xlsx": (
        b"not a spreadsheet",
        [
            "broken.xlsx: cannot be read as a spreadsheet (.xlsx): "
            "calamine error: Cannot detect file format"
        ],
    ),
    "notes.txt": (
        b"hello",
        [
            "notes.txt: is neither a scenario file nor a spreadsheet of "
            "statements: positions takes .yaml, .yml, .json, .csv, .xlsx, .xls, .ods"
        ],
    ),
    "header.csv": (HEADER.encode(), ["header.csv:1: holds no statement (no row below the header)"]),
    "twice.csv": (
        (HEADER.replace("\n", ",quote\n") + ROW.replace("\n", ",Hello\n")).encode(),
        ["twice.csv:1:quote: is named by more than one column"],
    ),
    "lines.csv": (  # the row, not the line: a quoted cell holds a line break
        (HEADER + ROW.replace(",Hi,", ',"two\nlines",') + ROW.replace("Hi", "caf\xe9")).encode(
            "latin-1"
        ),
        ["lines.csv:3: is not valid UTF-8"],
    ),
    "second.csv": (  # the columns of a numbered source are named with its number
        (HEADER + ROW)
        .replace(",source_url", ",source_url,published_3")
        .replace("/1\n", "/1,2025-03-14\n")
        .encode(),
        ["second.csv:2:outlet_3: required field is missing"],
    ),
}


def test_each_problem_is_named_file_row_column_and_nothing_is_written(
    seeded: str, tmp_path: Path
) -> None:
    before = exported(seeded)
    for name, (content, expected) in BAD.items():
        (tmp_path / name).write_bytes(content)
        negotiation = ("--negotiation", "ukraine-2025") if name == "other.csv" else ()
        result = run_cli("--store", seeded, "import", *negotiation, name, cwd=tmp_path)
        assert (result.code, result.out) == (2, ""), name
        assert result.err.splitlines() == [f"Error: {line}" for line in expected], name
    assert exported(seeded) == before
    fresh = run_cli("--store", "new.db", "import", "shape.csv", cwd=tmp_path)
    assert fresh.code == 2 and not (tmp_path / "new.db").exists()


@settings(max_examples=8, deadline=None)
@given(stmts=statements(max_size=8))
def test_any_exported_record_imports_back_from_its_csv(stmts: list[dict[str, Any]]) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        here = Path(folder)
        whole = {**codebook(), "statements": stmts}
        (here / "whole.json").write_text(json.dumps(whole, default=str), encoding="utf-8")
        (here / "defs.json").write_text(json.dumps(codebook(), default=str), encoding="utf-8")
        first, second = f"sqlite:///{here / 'a.db'}", f"sqlite:///{here / 'b.db'}"
        assert run_cli("--store", first, "import", str(here / "whole.json")).code == 0
        sheet = here / "statements.csv"
        assert run_cli("--store", first, "export", "--what", "statements", str(sheet)).code == 0
        result = run_cli("--store", second, "import", str(here / "defs.json"), str(sheet))
        assert (result.code, result.err) == (0, "")
        assert exported(second) == exported(first)
        assert compared(second) == compared(first)


@given(st.text())
def test_the_csv_guard_is_undone_exactly_on_import(text: str) -> None:
    assert unguarded(guarded(text)) == text


def test_an_xlsx_sheet_numbers_its_rows_from_the_sheets_first(seeded: str, tmp_path: Path) -> None:
    """calamine starts a sheet at its first cell that holds something; the rows are still
    numbered as the sheet shows them, and a first row without names is refused."""
    import xlsxwriter  # type: ignore[import-untyped]

    cells = [HEADER.strip().split(","), ROW.strip().replace("conditional_", "").split(",")]
    for name, top in (("gap.xlsx", 0), ("low.xlsx", 2)):
        book = xlsxwriter.Workbook(str(tmp_path / name))
        sheet = book.add_worksheet()
        sheet.write_row(top, 0, cells[0])
        sheet.write_row(top + 2, 0, cells[1])  # a blank row between
        sheet.write(top + 2, 9, "")
        book.close()
    before = exported(seeded)
    gap = run_cli("--store", seeded, "import", "gap.xlsx", cwd=tmp_path)
    assert (gap.code, gap.out) == (2, "")
    assert gap.err.startswith("Error: gap.xlsx:3:position: statement 's1': 'ceasefire' is not")
    low = run_cli("--store", seeded, "import", "low.xlsx", cwd=tmp_path)
    assert (low.code, low.out) == (2, "")
    assert low.err == (
        "Error: low.xlsx:1: names no column: its first row holds the columns' names "
        "(docs/format.md)\n"
    )
    assert exported(seeded) == before
