"""An import's progress on a terminal: one line per phase (reading, checking, writing, the
views), each with its bar, its rate in statements per second and its time.

The phases are those `application.ImportProgress` tells of; reading is shown by the bytes of
the files read (the command reads them itself, file by file). Drawn by rich, on the standard
error, and gone once the import ends (`positions import` prints its counts after it).
"""

from __future__ import annotations

import time
from types import TracebackType
from typing import Any

LABELS = {
    "reading": "Reading {total:,} bytes",
    "checking": "Checking {total:,} statement(s)",
    "writing": "Writing {total:,} event(s)",
    "views": "Updating the views",
}
"""What each phase's line says (``total``: what the phase goes through)."""


class ImportBar:
    """An `application.ImportProgress` drawn on a terminal (use it as a context manager)."""

    def __init__(self, console: Any) -> None:
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[rate]}"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        self._tasks: dict[str, Any] = {}
        self._started: dict[str, float] = {}
        self.statements = 0
        """The statements of the import: read so far while reading, then all of them."""

    def __enter__(self) -> ImportBar:
        self._progress.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._progress.stop()

    def read(self, done: int, total: int, statements: int) -> None:
        """``done`` of ``total`` bytes read, holding ``statements`` statements so far."""
        self.statements = statements
        self(phase="reading", done=done, total=total)

    def __call__(self, phase: str, done: int, total: int) -> None:
        task = self._tasks.get(phase)
        if task is None:
            label = LABELS.get(phase, phase).format(total=total)
            task = self._progress.add_task(label, total=total or None, rate="")
            self._tasks[phase] = task
            self._started[phase] = time.monotonic()
        if phase == "checking":
            self.statements = total
        elapsed = time.monotonic() - self._started[phase]
        self._progress.update(task, completed=done, rate=_rate(phase, done, total, self, elapsed))


def _rate(phase: str, done: int, total: int, bar: ImportBar, elapsed: float) -> str:
    """A phase's rate in statements per second (the share of the statements its ``done`` of
    ``total`` stands for), once there is one to show."""
    if phase == "views" or elapsed <= 0 or total <= 0:
        return ""
    share = bar.statements if phase == "reading" else bar.statements * done / total
    return f"{share / elapsed:,.0f} statements/s" if share else ""
