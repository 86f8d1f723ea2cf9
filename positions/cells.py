"""The guard a csv export puts on a cell a spreadsheet would run as a formula, and its undoing
when a spreadsheet is imported: one rule for both directions.

A text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return (OWASP's
list), or with an apostrophe, gets a leading apostrophe; an imported cell that starts with an
apostrophe followed by one of those loses it. Guarding an apostrophe too makes the two exact
inverses: a quote that begins ``'=`` is written ``''=`` and read back as it was.
"""

from __future__ import annotations

import re

FORMULA = r"^['=+\-@\t\r]"
"""A cell that is guarded (a regular expression, for polars as for `re`)."""

_GUARDED = re.compile(r"^'['=+\-@\t\r]")


def guarded(text: str) -> str:
    """The cell as a csv export writes it."""
    return "'" + text if re.match(FORMULA, text) else text


def unguarded(text: str) -> str:
    """The cell as it was before `guarded`."""
    return text[1:] if _GUARDED.match(text) else text
