"""Spreadsheets of statements (.csv, .xlsx, .xls, .ods): one row per statement, read once with
each cell's row and column into the scenarios the planner takes (docs/format.md,
"Spreadsheets").

The columns are those of ``positions export --what statements --format csv``; the columns that
export derives are read and ignored, so that an export imports back into the same record. Each
row is validated by the model of a scenario file's statement (`scenario.StatementInput`), so a
rule is decided in one place whatever the file; a problem is reported as
``FILE:ROW:COLUMN: what is wrong`` (the header is row 1).
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from positions import messages
from positions.cells import unguarded
from positions.codebook import URL
from positions.drafts import Located, Scenario, StatementDraft
from positions.errors import Origin, Problem, ScenarioError
from positions.hints import did_you_mean
from positions.scenario import StatementInput, read_regular_file

SUFFIXES = (".csv", ".xlsx", ".xls", ".ods")
"""The files read as spreadsheets of statements."""

DERIVED = frozenset(
    {
        "kind",
        "date",
        "date_precision",
        "rank",
        "speaker_name",
        "recorded_at",
        "corrections",
        "last_corrected_at",
        "amendments",
        "last_amended_at",
        "ended_by",
        "ended_how",
    }
)
"""Columns of a statements export that the record derives: read, and ignored."""

RENAMED = {"statement_id": "id", "stated_on": "on", "speaker": "by"}
"""Columns of the export named otherwise than the field they give (the field's own name is
taken too)."""

COLUMNS = {field: column for column, field in RENAMED.items()}
"""The column that names a field which is missing from a row."""

FIELDS = frozenset(StatementInput.model_fields)
SOURCE = re.compile(r"^(source_url|outlet|published|source_title)(?:_([1-9][0-9]?))?$")
SOURCE_FIELDS = {"source_url": "url", "outlet": "outlet", "published": "published"}
SOURCE_FIELDS |= {"source_title": "title"}
KNOWN = sorted({*FIELDS, *RENAMED, *DERIVED, "negotiation", "sources", *SOURCE_FIELDS})
"""Every column a spreadsheet may have (numbered source columns besides)."""


@dataclass(frozen=True)
class Row(Origin):
    """A statement's row; a problem with one of its fields names that field's column."""

    columns: tuple[tuple[str, str], ...] = ()

    def problem(self, message: str, field: str | None = None) -> Problem:
        column = dict(self.columns).get(field or "", "") if field != "id" else ""
        return Problem(self.file, self.line, message, column)


def read_spreadsheet(path: Path, negotiation: str | None = None) -> list[Scenario]:
    """The statements of a spreadsheet, one scenario per negotiation they name (a
    ``negotiation`` column, else ``negotiation``); a `ScenarioError` naming every problem."""
    name = str(path)
    data = read_regular_file(path, name)
    header, rows = _table(data, name, path.suffix.lower())
    if not any(header):
        message = "names no column: its first row holds the columns' names (docs/format.md)"
        raise ScenarioError([Problem(name, 1, message)])
    problems: list[Problem] = []
    for column in sorted({c for c in header if c and header.count(c) > 1}):
        problems.append(Problem(name, 1, "is named by more than one column", column))
    for column in header:
        if not column:
            if any(cells[header.index(column)] is not None for cells in rows):
                problems.append(Problem(name, 1, "a column that holds cells has no name"))
        elif column not in KNOWN and not SOURCE.match(column):
            hint = did_you_mean(column, KNOWN) or " (see docs/format.md, Spreadsheets)"
            problems.append(Problem(name, 1, f"unknown column{hint}", column))
    if negotiation is None and "negotiation" not in header:
        problems.append(
            Problem(
                name,
                1,
                "names no negotiation: add a 'negotiation' column, or give --negotiation ID",
            )
        )
    if problems:
        raise ScenarioError(problems)
    grouped: dict[str, list[Located]] = {}
    firsts: dict[str, int] = {}
    for number, cells in enumerate(rows, start=2):
        values = {c: _cell(v) for c, v in zip(header, cells, strict=True) if c}
        if all(v is None for v in values.values()):
            continue  # a blank row
        slug = values.get("negotiation") or negotiation
        if negotiation is not None and slug != negotiation:
            problems.append(
                Problem(
                    name,
                    number,
                    f"is {slug!r}, but --negotiation is {negotiation!r}",
                    "negotiation",
                )
            )
            continue
        assert slug is not None
        located = _statement(name, number, values, problems)
        if located is not None:
            grouped.setdefault(slug, []).append(located)
            firsts.setdefault(slug, number)
    if problems:
        raise ScenarioError(problems)
    if not grouped:
        raise ScenarioError([Problem(name, 1, "holds no statement (no row below the header)")])
    return [
        Scenario(
            path=name,
            negotiation=slug,
            title=None,
            origin=Origin(name, firsts[slug]),
            parties=(),
            speakers=(),
            issues=(),
            proposals=(),
            statements=tuple(statements),
            developments=(),
        )
        for slug, statements in grouped.items()
    ]


def _table(data: bytes, name: str, suffix: str) -> tuple[list[str], list[list[str | None]]]:
    """The header and the rows of a file, every cell as text (or None when empty)."""
    if suffix == ".csv":
        return _csv(data, name)
    import fastexcel

    try:
        reader = fastexcel.read_excel(data)
        sheets = reader.sheet_names
        chosen = "statements" if "statements" in sheets else 0
        # every row from the sheet's first, so that the numbers are the sheet's own
        sheet = reader.load_sheet(chosen, header_row=None, skip_rows=0, dtypes="string")
        frame = sheet.to_polars()
    except Exception as exc:  # the reader's errors have no common base
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ScenarioError(
            [Problem(name, 0, f"cannot be read as a spreadsheet ({suffix}): {reason}")]
        ) from None
    rows = [[_day_cell(c) for c in row] for row in frame.iter_rows()]
    header = [str(c).strip() if c is not None else "" for c in rows[0]] if rows else []
    return header, rows[1:]


_MIDNIGHT = re.compile(r"^(\d{4}-\d{2}-\d{2}) 00:00:00$")


def _day_cell(value: Any) -> Any:
    """A spreadsheet's date cell, which its reader gives as the date at midnight
    (``2025-03-14 00:00:00``), as the date alone; a cell with another time of day keeps it."""
    if isinstance(value, str):
        match = _MIDNIGHT.match(value)
        if match:
            return match.group(1)
    return value


def _csv(data: bytes, name: str) -> tuple[list[str], list[list[str | None]]]:
    import polars as pl

    data = data.removeprefix(b"\xef\xbb\xbf")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError(
            [Problem(name, _row_at(data, exc.start), "is not valid UTF-8")]
        ) from None
    if not text.strip():
        raise ScenarioError([Problem(name, 1, "is empty")])
    try:
        frame = pl.read_csv(io.BytesIO(data), infer_schema=False, truncate_ragged_lines=False)
    except (pl.exceptions.PolarsError, ValueError) as exc:
        raise ScenarioError([_malformed(text, name, exc)]) from None
    header = _header(text) or [c.strip() for c in frame.columns]
    return header, [list(row) for row in frame.iter_rows()]


def _header(text: str) -> list[str] | None:
    """The first row's names as written (polars renames a repeated one)."""
    import csv

    try:
        return [c.strip() for c in next(csv.reader(io.StringIO(text, newline="")))]
    except (csv.Error, StopIteration):
        return None


def _row_at(data: bytes, offset: int) -> int:
    """The row of a csv file that holds byte ``offset`` (a quoted cell may hold line breaks)."""
    import csv

    before = data[:offset].decode("utf-8", errors="replace") + "x"
    try:
        return sum(1 for _ in csv.reader(io.StringIO(before, newline="")))
    except csv.Error:
        return before.count("\n") + 1


def _malformed(text: str, name: str, exc: Exception) -> Problem:
    """What is wrong with a csv file polars' reader refused: the first row whose number of
    cells is not the header's, found by the standard library's reader, else the reason."""
    import csv

    try:
        rows = csv.reader(io.StringIO(text, newline=""))
        header = next(rows)
        for number, row in enumerate(rows, start=2):
            if row and len(row) != len(header):
                return Problem(
                    name, number, f"holds {len(row)} cell(s), but the header names {len(header)}"
                )
    except csv.Error as error:
        return Problem(name, 0, f"is not a well-formed csv file: {error}")
    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return Problem(name, 0, f"is not a well-formed csv file: {reason}")


def _cell(value: Any) -> str | None:
    """A cell's text: None when empty; the csv export's guard undone."""
    if value is None:
        return None
    text = str(value)
    if not text.strip():
        return None
    return unguarded(text)


def _statement(
    name: str, number: int, values: dict[str, str | None], problems: list[Problem]
) -> Located | None:
    """One row's statement, validated; its problems added to ``problems``."""
    record: dict[str, Any] = {}
    columns: dict[str, str] = {}
    sources: dict[int, dict[str, str]] = {}
    numbers: list[int] = []
    found: list[Problem] = []
    for column, value in values.items():
        if value is None or column in DERIVED or column == "negotiation":
            continue
        numbered = SOURCE.match(column)
        if numbered:
            index = int(numbered.group(2) or 1)
            sources.setdefault(index, {})[SOURCE_FIELDS[numbered.group(1)]] = value
            columns.setdefault("sources", column)
            continue
        field = RENAMED.get(column, column)
        columns[field] = column
        try:
            record[field] = _value(field, value)
        except ValueError as exc:
            found.append(Problem(name, number, str(exc), column))
    if sources:
        listed = list(record.get("sources") or [])
        numbers = [1] * len(listed) + sorted(sources)  # each source's column number
        for index, source in sorted(sources.items()):
            try:
                listed.append(_source(source))
            except ValueError as exc:
                column = "source_url" if index == 1 else f"source_url_{index}"
                found.append(Problem(name, number, str(exc), column))
        record["sources"] = listed
    try:
        statement = StatementInput.model_validate(record)
    except ValidationError as exc:
        for error in exc.errors():
            loc = messages.location(error)
            field = str(loc[0]) if loc else ""
            column = _column_of(loc, columns, numbers)
            found.append(
                Problem(name, number, messages.message(error, StatementInput), column or field)
            )
        problems.extend(found)
        return None
    if found:
        problems.extend(found)
        return None
    origin = Row(name, number, columns=tuple(columns.items()))
    return Located(StatementDraft.of(statement), origin)


def _column_of(loc: tuple[Any, ...], columns: dict[str, str], numbers: list[int]) -> str:
    """The column behind the field at ``loc`` of a row's statement (``numbers``: the number
    of each source's columns, ``outlet_2`` being 2)."""
    if not loc:
        return ""
    field = str(loc[0])
    if field == "sources" and "sources" not in columns.values() and len(loc) >= 3:
        prefix = {"url": "source_url", "outlet": "outlet", "published": "published"}
        base = prefix.get(str(loc[2]), "source_url")
        at = loc[1] if isinstance(loc[1], int) and 0 <= loc[1] < len(numbers) else None
        index = numbers[at] if at is not None else 1
        return base if index == 1 else f"{base}_{index}"
    return columns.get(field) or COLUMNS.get(field, field)


def _source(cells: dict[str, str]) -> Any:
    """A source of the numbered columns; a URL alone as such (its outlet is its host)."""
    if set(cells) == {"url"}:
        if not URL.match(cells["url"]):
            raise ValueError(messages.url_problem(cells["url"]))
        return cells["url"]
    return cells


def _value(field: str, text: str) -> Any:
    """A cell's value for ``field``: JSON for terms and sources as the export writes them."""
    if field == "terms":
        return _json(text, dict, 'expected a JSON object of terms, such as {"duration_days": 30}')
    if field == "conditions":
        if text.lstrip().startswith("["):
            return _json(text, list, 'expected a JSON list of conditions, such as ["monitoring"]')
        return [text]
    if field == "party" and "," in text:  # a joint statement's parties, as exported
        return [name.strip() for name in text.split(",")]
    if field == "sources" and text.lstrip().startswith(("[", "{")):
        return _json(
            text,
            list | dict,
            'expected a JSON list of sources, such as [{"outlet": "CNN"}], or a URL',
        )
    return text


def _json(text: str, kind: Any, expected: str) -> Any:
    """A cell of JSON holding a value of ``kind``; a ValueError saying what is ``expected``."""
    try:
        value = json.loads(text)
    except ValueError:
        raise ValueError(expected) from None
    if not isinstance(value, kind):
        raise ValueError(expected)
    return value
