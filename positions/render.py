"""DataFrames to text: a table (`positions.terminal`), Markdown, CSV or JSON.

polars is imported by the functions that take a frame, not with the module: the tables are
also rendered straight from rows (`render_compare_rows`, `render_rows`), so that a query on a
terminal starts without polars' import time.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Collection, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from positions.cells import FORMULA
from positions.errors import QueryError
from positions.terminal import FREE_TEXT, PIPE, Layout, shown_columns, table, text_width

if TYPE_CHECKING:
    import polars as pl

FORMATS = ("table", "markdown", "csv", "json", "jsonl")

# Columns shown by the human formats (table, markdown); csv and json carry every column.
HUMAN_COLUMNS: dict[str, list[str]] = {
    "stance": [
        "party",
        "issue",
        "position",
        "rank",
        "terms",
        "shift",
        "stated_on",
        "statement_id",
        "speaker",
        "quote",
        "claimed_by",
    ],
    "history": [
        "stated_on",
        "party",
        "kind",
        "statement_id",
        "speaker",
        "issue",
        "position",
        "verdict",
        "proposal",
        "about",
        "target",
        "ended_how",
        "ended_by",
        "quote",
    ],
    "digest": [
        "issue",
        "stated_on",
        "party",
        "kind",
        "speaker",
        "position",
        "verdict",
        "proposal",
        "moved",
        "quote",
    ],
    "explain": [
        "step",
        "stated_on",
        "kind",
        "statement_id",
        "speaker",
        "position",
        "verdict",
        "effect",
        "rule",
        "quote",
    ],
    "proposals": [
        "proposal",
        "issue",
        "party",
        "claimed_by",
        "verdict",
        "conditions",
        "stated_on",
        "statement_id",
        "speaker",
    ],
}

DROPPABLE: dict[str, list[str]] = {
    "stance": ["rank", "shift", "speaker", "terms", "statement_id"],
    "history": [
        "ended_by",
        "target",
        "about",
        "speaker",
        "proposal",
        "statement_id",
        "ended_how",
        "kind",
    ],
    "digest": ["proposal", "speaker", "kind"],
    "explain": ["rule", "speaker", "statement_id"],
    "proposals": ["conditions", "speaker", "statement_id"],
}
"""The columns a terminal table leaves out, in this order, when it cannot fit the room
otherwise (`positions.terminal.table`); ``--wide`` and ``--records`` keep them."""


def to_records(frame: pl.DataFrame) -> list[dict[str, Any]]:
    """Rows as JSON-ready dicts: dates as ISO strings, terms as objects."""
    records = []
    for row in frame.iter_rows(named=True):
        out: dict[str, Any] = {}
        for key, value in row.items():
            if key == "terms" and isinstance(value, str):
                out[key] = json.loads(value)
            elif hasattr(value, "isoformat"):
                out[key] = value.isoformat()
            else:
                out[key] = value
        records.append(out)
    return records


def pivot_compare(frame: pl.DataFrame) -> pl.DataFrame:
    """The comparison table as issues × parties."""
    import polars as pl

    if frame.is_empty():
        return pl.DataFrame({"issue": []}, schema={"issue": pl.String})
    parties = list(dict.fromkeys(frame["party"].to_list()))
    wide = frame.pivot(on="party", index="issue", values="cell", aggregate_function="first")
    return wide.select(["issue", *parties])


def neutralised(frame: pl.DataFrame) -> pl.DataFrame:
    """The frame with every text cell a spreadsheet would run as a formula (starting with
    ``=``, ``+``, ``-``, ``@``, a tab or a carriage return), or starting with an apostrophe,
    given a leading apostrophe, as OWASP advises for CSV files: the cell then shows as the
    text it is (``--raw-csv`` writes the cells as they are). `positions.cells` decides it,
    and undoes it when a spreadsheet is imported."""
    import polars as pl

    texts = [name for name, dtype in frame.schema.items() if dtype == pl.String]
    return frame.with_columns(
        pl.when(pl.col(name).str.contains(FORMULA))
        .then(pl.lit("'") + pl.col(name))
        .otherwise(pl.col(name))
        .alias(name)
        for name in texts
    )


def render(
    frame: pl.DataFrame,
    fmt: str,
    view: str,
    title: str | None = None,
    raw_csv: bool = False,
    layout: Layout = PIPE,
    fixed: Iterable[str] = (),
) -> str:
    """Render a projection's frame; ``view`` names the projection (it picks the human layout,
    unless ``layout.columns`` names the columns)."""
    import polars as pl

    if fmt in ("csv", "json", "jsonl"):
        if layout.columns is not None:
            frame = frame.select(chosen(layout.columns, frame.columns))
        if fmt == "json":
            return for_terminal(json.dumps(to_records(frame), ensure_ascii=False, indent=2) + "\n")
        if fmt == "jsonl":  # one object a line
            lines = (json.dumps(record, ensure_ascii=False) + "\n" for record in to_records(frame))
            return for_terminal("".join(lines))
        return for_terminal((frame if raw_csv else neutralised(frame)).write_csv())
    if view == "compare":
        pivot = pivot_compare(frame)
        return _compare_table(pivot.columns[1:], list(pivot.iter_rows()), fmt, title, layout)
    else:
        default = [c for c in HUMAN_COLUMNS.get(view, frame.columns) if c in frame.columns]
        names = default if layout.columns is None else chosen(layout.columns, frame.columns)
        human = frame.select(names)
        if "terms" in human.columns:
            human = human.with_columns(
                pl.col("terms").map_elements(_terms_text, return_dtype=pl.String)
            )
    return _human(human.columns, list(human.iter_rows()), fmt, view, title, layout, fixed)


def render_compare_rows(
    rows: list[dict[str, Any]], fmt: str, title: str | None = None, layout: Layout = PIPE
) -> str:
    """The comparison table (`Query.compare_rows`) as issues × parties, for the human formats
    (``table``, ``markdown``): the same text as `render` of the frame, without polars."""
    if fmt not in ("table", "markdown"):
        raise ValueError(f"render_compare_rows renders the human formats, not {fmt!r}")
    parties = list(dict.fromkeys(row["party"] for row in rows))
    cells: dict[str, dict[str, Any]] = {}
    for row in rows:
        cells.setdefault(row["issue"], {}).setdefault(row["party"], row["cell"])
    table = [(issue, *(by.get(p) for p in parties)) for issue, by in cells.items()]
    return _compare_table(parties, table, fmt, title, layout)


def _compare_table(
    parties: list[str], table: list[tuple[Any, ...]], fmt: str, title: str | None, layout: Layout
) -> str:
    """Issues × parties in a human format. A cell (a position, its terms and claims) may be
    cut with … to fit the room, but never inside the position's label: a party's column is
    at least its longest label and the … wide."""
    floors = {
        p: 1 + max((_label_width(row[n]) for row in table), default=0)
        for n, p in enumerate(parties, start=1)
    }
    return _human(
        ["issue", *parties], table, fmt, "compare", title, layout, cuttable=parties, floors=floors
    )


def _label_width(cell: str | None) -> int:
    """The width of the position label a cell of `compare` starts with."""
    return 0 if not cell else text_width(cell.split(" (")[0].split(";")[0])


def render_rows(
    rows: list[dict[str, Any]],
    schema: list[str],
    fmt: str,
    view: str,
    title: str | None = None,
    layout: Layout = PIPE,
    fixed: Iterable[str] = (),
) -> str:
    """A projection's rows (dicts over the columns of its ``schema``) in a human format: the
    same text as `render` of their frame, without polars."""
    if fmt not in ("table", "markdown"):
        raise ValueError(f"render_rows renders the human formats, not {fmt!r}")
    if layout.columns is None:
        columns = [c for c in HUMAN_COLUMNS.get(view, schema) if c in schema]
    else:
        columns = chosen(layout.columns, schema)
    table = [
        tuple(_terms_text(row.get(c)) if c == "terms" else row.get(c) for c in columns)
        for row in rows
    ]
    return _human(columns, table, fmt, view, title, layout, fixed)


def chosen(names: Sequence[str], available: Sequence[str]) -> list[str]:
    """The columns ``--columns`` names, in its order; a name the table does not have is a
    `QueryError` listing the ones it has."""
    unknown = [name for name in names if name not in available]
    if unknown:
        raise QueryError(
            f"--columns: no column {', '.join(map(repr, unknown))} here "
            f"(the columns are {', '.join(available)})"
        )
    return list(dict.fromkeys(names))


def _human(
    columns: list[str],
    rows: list[tuple[Any, ...]],
    fmt: str,
    view: str,
    title: str | None,
    layout: Layout,
    fixed: Iterable[str] = (),
    cuttable: Collection[str] = FREE_TEXT,
    floors: dict[str, int] | None = None,
) -> str:
    texts = _texts(rows)
    if fmt == "markdown":  # a document's table keeps the view's columns, empty or not
        return _markdown(columns, texts, title)
    if layout.columns is not None:  # columns named by --columns are shown as named
        return table(columns, texts, title, layout, cuttable=cuttable, floors=floors)
    keep = shown_columns(columns, texts, fixed) if texts else list(range(len(columns)))
    columns = [columns[i] for i in keep]
    texts = [[row[i] for i in keep] for row in texts]
    return table(columns, texts, title, layout, DROPPABLE.get(view, ()), cuttable, floors)


def _terms_text(value: str | None) -> str | None:
    if value is None:
        return None
    return ", ".join(f"{k}: {v}" for k, v in json.loads(value).items())


def _texts(rows: list[tuple[Any, ...]]) -> list[list[str]]:
    """The rows as the texts their cells show (`_cell`), checked for control characters and
    line feeds a column at a time."""
    if not rows:
        return []
    columns = []
    for values in zip(*rows, strict=True):
        column = ["" if v is None else str(v) for v in values]
        joined = "".join(column)
        if "\n" in joined or _CONTROL.search(joined):
            column = [_cell(text) for text in column]
        columns.append(column)
    return [list(row) for row in zip(*columns, strict=True)]


def _cell(value: Any) -> str:
    """A value as the one line of text a table cell shows (a line feed shows as a space)."""
    if value is None:
        return ""
    return visible(str(value)).replace("\n", " ")


_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
"""The control characters (C0 but the line feed, DEL, C1) that text from the record must not
carry to a terminal or into an SVG: ESC (``\x1b``) starts the sequences that clear a screen,
colour text or make links. With them the bidirectional embeddings, overrides and isolates
(U+202A-U+202E, U+2066-U+2069), which make a terminal or a picture show a cell's text, and
the cells after it, in another order than the record holds it."""


def visible(text: str) -> str:
    """``text`` with every control character written as its ``\\uXXXX`` escape (so text that
    holds none is unchanged, and the escape reads the same in JSON)."""
    if not _CONTROL.search(text):
        return text
    return _CONTROL.sub(lambda found: f"\\u{ord(found.group()):04x}", text)


def for_terminal(text: str) -> str:
    """Output in a machine format (csv, json) as it goes to standard output: where that is a
    terminal, its control characters escaped (`visible`); to a pipe or a file, exactly as
    rendered."""
    return visible(text) if sys.stdout.isatty() else text


def _markdown(columns: list[str], rows: list[list[str]], title: str | None) -> str:
    lines = [f"**{_escape_md(title)}**", ""] if title else []
    lines.append("| " + " | ".join(columns) + " |")
    lines.append("| " + " | ".join("---" for _ in columns) + " |")
    for row in rows:
        lines.append("| " + " | ".join(_escape_md(text) for text in row) + " |")
    return "\n".join(lines) + "\n"


def _escape_md(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")
