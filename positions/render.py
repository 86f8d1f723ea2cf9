"""DataFrames to text: a rich table, Markdown, CSV or JSON.

polars is imported by the functions that take a frame, not with the module: the tables are
also rendered straight from rows (`render_compare_rows`, `render_rows`), so that a query on a
terminal starts without polars' import time.
"""

from __future__ import annotations

import io
import json
import os
import re
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import polars as pl

FORMATS = ("table", "markdown", "csv", "json")

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
        "verdict",
        "conditions",
        "stated_on",
        "statement_id",
        "speaker",
    ],
}


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


FORMULA = r"^[=+\-@\t\r]"
"""What a spreadsheet runs as a formula at the start of a cell (OWASP's list)."""


def neutralised(frame: pl.DataFrame) -> pl.DataFrame:
    """The frame with every text cell a spreadsheet would run as a formula (starting with
    ``=``, ``+``, ``-``, ``@``, a tab or a carriage return) given a leading apostrophe, as
    OWASP advises for CSV files: the cell then shows as the text it is (``--raw-csv`` writes
    the cells as they are)."""
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
    frame: pl.DataFrame, fmt: str, view: str, title: str | None = None, raw_csv: bool = False
) -> str:
    """Render a projection's frame; ``view`` names the projection (it picks the human layout)."""
    import polars as pl

    if fmt == "json":
        return for_terminal(json.dumps(to_records(frame), ensure_ascii=False, indent=2) + "\n")
    if fmt == "csv":
        return for_terminal((frame if raw_csv else neutralised(frame)).write_csv())
    if view == "compare":
        human = pivot_compare(frame)
    else:
        columns = [c for c in HUMAN_COLUMNS.get(view, frame.columns) if c in frame.columns]
        human = frame.select(columns)
        if "terms" in human.columns:
            human = human.with_columns(
                pl.col("terms").map_elements(_terms_text, return_dtype=pl.String)
            )
    return _human(human.columns, list(human.iter_rows()), fmt, title)


def render_compare_rows(rows: list[dict[str, Any]], fmt: str, title: str | None = None) -> str:
    """The comparison table (`Query.compare_rows`) as issues × parties, for the human formats
    (``table``, ``markdown``): the same text as `render` of the frame, without polars."""
    if fmt not in ("table", "markdown"):
        raise ValueError(f"render_compare_rows renders the human formats, not {fmt!r}")
    parties = list(dict.fromkeys(row["party"] for row in rows))
    cells: dict[str, dict[str, Any]] = {}
    for row in rows:
        cells.setdefault(row["issue"], {}).setdefault(row["party"], row["cell"])
    table = [(issue, *(by.get(p) for p in parties)) for issue, by in cells.items()]
    return _human(["issue", *parties], table, fmt, title)


def render_rows(
    rows: list[dict[str, Any]],
    schema: list[str],
    fmt: str,
    view: str,
    title: str | None = None,
) -> str:
    """A projection's rows (dicts over the columns of its ``schema``) in a human format: the
    same text as `render` of their frame, without polars."""
    if fmt not in ("table", "markdown"):
        raise ValueError(f"render_rows renders the human formats, not {fmt!r}")
    columns = [c for c in HUMAN_COLUMNS.get(view, schema) if c in schema]
    table = [
        tuple(_terms_text(row.get(c)) if c == "terms" else row.get(c) for c in columns)
        for row in rows
    ]
    return _human(columns, table, fmt, title)


def _human(columns: list[str], rows: list[tuple[Any, ...]], fmt: str, title: str | None) -> str:
    if fmt == "markdown":
        return _markdown(columns, rows, title)
    return _table(columns, rows, title)


def _terms_text(value: str | None) -> str | None:
    if value is None:
        return None
    return ", ".join(f"{k}: {v}" for k, v in json.loads(value).items())


def _cell(value: Any) -> str:
    if value is None:
        return ""
    return visible(str(value))


_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")
"""The control characters (C0 but the line feed, DEL, C1) that text from the record must not
carry to a terminal or into an SVG: ESC (``\x1b``) starts the sequences that clear a screen,
colour text or make links."""


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


def _markdown(columns: list[str], rows: list[tuple[Any, ...]], title: str | None) -> str:
    lines = [f"**{_escape_md(title)}**", ""] if title else []
    lines.append("| " + " | ".join(columns) + " |")
    lines.append("| " + " | ".join("---" for _ in columns) + " |")
    for row in rows:
        lines.append("| " + " | ".join(_escape_md(_cell(v)) for v in row) + " |")
    return "\n".join(lines) + "\n"


def _escape_md(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _table(columns: list[str], rows: list[tuple[Any, ...]], title: str | None) -> str:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=escape(title) if title else None, show_lines=False, title_justify="left")
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*(escape(_cell(v)) for v in row))
    terminal = sys.stdout.isatty()
    width = None if terminal else int(os.environ.get("COLUMNS", "160"))
    buffer = io.StringIO()
    console = Console(
        file=buffer, width=width, force_terminal=terminal, no_color=not terminal or None
    )
    console.print(table)
    return buffer.getvalue()
