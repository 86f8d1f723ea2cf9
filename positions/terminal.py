"""Tables laid out for a terminal or a pipe: one line per row, every id, date and label whole.

A table is as wide as its cells. When that is wider than the room (the terminal's width, or
``COLUMNS``, or 160 columns to a pipe), only the free-text columns (`FREE_TEXT`: quotes, the
effect of a step, conditions) are cut, each to its share of the room left, ending in ``…``;
the other cells are never cut or broken. If that is not enough, the columns the caller names
as droppable are left out, in its order, and a last line says which; a table whose remaining
ids alone are wider than the room runs past it rather than split a token. ``width=None``
(``--wide``) cuts and leaves out nothing.

`shown_columns` picks the columns a table shows: not those empty in every row, nor those the
caller names as fixed (a ``--party`` filter makes the party column the same in every row).
``records`` lays each row
out as one field per line, like ``psql``'s expanded display. Colours (verdicts, claims) are
ANSI SGR codes around the cell's text, only when asked for; widths are those of the text.

The layout is plain string work (`rich.cells.cell_len` for the width of text that is not
ASCII): rich's ``Table`` measures and wraps every cell and took about 0.6 ms a row, 12 s for
the 20,000 rows of ``proposals`` on a large store (docs/adr/0011-table-layout.md).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

from rich.cells import cell_len

FREE_TEXT = frozenset({"quote", "original_quote", "effect", "conditions", "note"})
"""The columns whose text may be cut to fit the room (with a trailing ``…``)."""

NARROWEST = 16
"""A free-text column is never cut narrower than this (or its heading, if wider)."""

ELLIPSIS = "…"

STYLES: dict[str, dict[str, str]] = {
    "verdict": {
        "accept": "32",
        "accept_with_conditions": "32",
        "undecided": "33",
        "reject": "31",
    },
}
"""SGR codes of the values of a column that are coloured (green, yellow, red)."""

CLAIM = "35"
"""The SGR code of a ``claimed_by`` cell: a position claimed for a party by another."""


@dataclass(frozen=True, slots=True)
class Layout:
    """How a table is laid out: ``width`` the room (None: as wide as the cells), ``color``
    whether cells are coloured, ``records`` one field per line, ``columns`` the columns to
    show and their order (None: the view's own)."""

    width: int | None = 160
    color: bool = False
    records: bool = False
    columns: tuple[str, ...] | None = None


PIPE = Layout()
"""The layout of a table written to a pipe: 160 columns, no colours."""


def text_width(text: str) -> int:
    """The number of terminal cells ``text`` takes."""
    return len(text) if text.isascii() else cell_len(text)


def shown_columns(
    columns: Sequence[str], rows: Sequence[Sequence[str]], fixed: Iterable[str] = ()
) -> list[int]:
    """The indexes of the columns a table shows: those with text in some row and not fixed."""
    left_out = set(fixed)
    return [
        i for i, name in enumerate(columns) if name not in left_out and any(row[i] for row in rows)
    ]


def cut(text: str, width: int) -> str:
    """``text`` cut to ``width`` cells, ending in ``…`` when anything was cut."""
    if text_width(text) <= width:
        return text
    if text.isascii():
        return text[: width - 1] + ELLIPSIS
    kept, used = [], 0
    for char in text:
        size = cell_len(char)
        if used + size > width - 1:
            break
        kept.append(char)
        used += size
    return "".join(kept) + ELLIPSIS


def fit(
    columns: Sequence[str],
    natural: Sequence[int],
    room: int | None,
    cuttable: Collection[str] = FREE_TEXT,
    floors: Mapping[str, int] | None = None,
) -> list[int]:
    """The width of each column: its natural width, the ``cuttable`` columns (the free-text
    ones unless told) cut so that the table (with its borders, 3 cells per column and 1)
    fits ``room`` where it can, but never narrower than `NARROWEST`, their heading or their
    ``floors``."""
    widths = list(natural)
    if room is None:
        return widths
    free = [i for i, name in enumerate(columns) if name in cuttable]
    left = room - _outer([w for i, w in enumerate(widths) if i not in free]) - 3 * len(free)
    # share what is left among the free columns, the narrowest first (water-filling)
    for n, i in enumerate(sorted(free, key=lambda i: natural[i])):
        share = left // (len(free) - n)
        floor = max(NARROWEST, text_width(columns[i]), (floors or {}).get(columns[i], 0))
        widths[i] = min(natural[i], max(share, floor))
        left -= widths[i]
    return widths


def table(
    columns: Sequence[str],
    rows: Sequence[Sequence[str]],
    title: str | None = None,
    layout: Layout = PIPE,
    droppable: Sequence[str] = (),
    cuttable: Collection[str] = FREE_TEXT,
    floors: Mapping[str, int] | None = None,
) -> str:
    """The rows (each a sequence of cell texts, one line each) as a boxed table or, with
    ``layout.records``, as one field per line.

    The ``cuttable`` columns (the free-text ones unless told) are cut with … to fit the
    room, no narrower than their ``floors``. When the table does not fit even so, the
    ``droppable`` columns are left out, in that order, until it fits, and a last line names
    them."""
    names = list(columns)
    if layout.records:
        return _records(names, rows, title, layout)
    # column by column: the texts, their widths, and the width each column needs
    texts = [list(column) for column in zip(*rows, strict=True)] if rows else [[] for _ in names]
    sizes = [_widths(column) for column in texts]
    natural = [max([text_width(name), *size]) for name, size in zip(names, sizes, strict=True)]
    widths = fit(names, natural, layout.width, cuttable, floors)
    left_out = []
    for name in droppable:
        if layout.width is None or _outer(widths) <= layout.width:
            break
        if name in names:
            j = names.index(name)
            left_out.append(name)
            for kept in (names, natural, texts, sizes):
                del kept[j]
            widths = fit(names, natural, layout.width, cuttable, floors)
    lines = [title] if title else []
    lines.append("┏" + "┳".join("━" * (w + 2) for w in widths) + "┓")
    lines.append("┃" + "┃".join(_pad(name, w) for name, w in zip(names, widths, strict=True)) + "┃")
    lines.append("┡" + "╇".join("━" * (w + 2) for w in widths) + "┩")
    padded = [
        _padded(name, column, size, width, layout.color)
        for name, column, size, width in zip(names, texts, sizes, widths, strict=True)
    ]
    lines.extend("│" + "│".join(parts) + "│" for parts in zip(*padded, strict=True))
    lines.append("└" + "┴".join("─" * (w + 2) for w in widths) + "┘")
    if left_out:
        lines.append(f"Left out at {layout.width} columns: {', '.join(left_out)} (see --wide).")
    return "\n".join(lines) + "\n"


def _widths(column: Sequence[str]) -> list[int]:
    """The width of each text of a column (their lengths, when the column is all ASCII)."""
    if "".join(column).isascii():
        return [len(text) for text in column]
    return [text_width(text) for text in column]


def _padded(
    name: str, column: Sequence[str], sizes: Sequence[int], width: int, color: bool
) -> list[str]:
    """A column's cells as they are drawn: cut to ``width`` where wider, padded to it, and
    coloured where the column is coloured."""
    style = _style_of(name) if color else None
    cells = []
    for text, size in zip(column, sizes, strict=True):
        if size > width:
            text = cut(text, width)
            size = text_width(text)
        cells.append(_pad(text, width, size, style(text) if style else None))
    return cells


def _outer(widths: Sequence[int]) -> int:
    """The width of a table whose columns are ``widths`` wide, borders included."""
    return sum(widths) + 3 * len(widths) + 1


def _pad(text: str, width: int, size: int | None = None, sgr: str | None = None) -> str:
    """A cell as drawn: ``text`` (``size`` cells wide) padded to ``width``, in colour ``sgr``."""
    gap = " " * (width - (text_width(text) if size is None else size))
    if sgr:
        text = f"\x1b[{sgr}m{text}\x1b[0m"
    return f" {text}{gap} "


def _style_of(name: str) -> Callable[[str], str | None] | None:
    """What colours a cell of column ``name`` (a cell's text to its SGR code), if anything."""
    if name == "claimed_by":
        return lambda text: CLAIM if text else None
    values = STYLES.get(name)
    return None if values is None else values.get


def _records(
    names: Sequence[str], cells: Sequence[Sequence[str]], title: str | None, layout: Layout
) -> str:
    """psql's expanded display: a ``-[ RECORD n ]`` rule, then ``name | value`` per field
    that has a value; free text cut to the room unless ``--wide``."""
    label = max((text_width(n) for n in names), default=0)
    lines = [title] if title else []
    for number, row in enumerate(cells, start=1):
        lines.append(f"-[ RECORD {number} ]" + "-" * max(0, label - 10))
        for name, text in zip(names, row, strict=True):
            if not text:
                continue
            room = None if layout.width is None else max(NARROWEST, layout.width - label - 3)
            if room is not None and name in FREE_TEXT:
                text = cut(text, room)
            lines.append(f"{name}{' ' * (label - text_width(name))} | {text}")
    return "\n".join(lines) + "\n"
