"""Every exception `positions` raises on purpose.

    PositionsError                  base: the CLI prints ``Error: <message>`` and exits 2
    ├── ScenarioError               a scenario file is malformed or inconsistent; carries every
    │                               problem as ``FILE:LINE: what is wrong``
    ├── StoreError                  a store URL is malformed, the store does not exist or
    │                               cannot be reached, read or written
    ├── ConflictError               other writers kept changing the same streams: an import
    │                               gave up after its bounded retries (nothing was written)
    ├── NotFoundError               an unknown negotiation, party, issue or proposal was asked for
    └── QueryError                  a query's arguments are malformed (a date, a choice)

Library errors (eventsourcing, pydantic, yaml) are translated into one of these where they are
detected and re-raised ``from None``; nothing else is expected to reach the user.
"""

from __future__ import annotations

from dataclasses import dataclass


def first_line(exc: BaseException) -> str:
    """The first line of an error's message, or its type's name when it has none: what a
    one-line error quotes of an error from a library."""
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


class PositionsError(Exception):
    """Base of every error `positions` raises on purpose."""

    def lines(self) -> list[str]:
        """The error as the one-line messages shown to the user."""
        return [str(self)]


@dataclass(frozen=True, order=True)
class Problem:
    """One problem found in a scenario file, located by file and line (and, in a
    spreadsheet, by column: ``FILE:ROW:COLUMN``)."""

    file: str
    line: int
    message: str
    column: str = ""

    def __str__(self) -> str:
        message = self.message
        if not message.isprintable():  # one problem, one line: control characters are escaped
            message = "".join(c if c.isprintable() else repr(c)[1:-1] for c in message)
        if self.line <= 0:
            return f"{self.file}: {message}"
        if self.column:
            return f"{self.file}:{self.line}:{self.column}: {message}"
        return f"{self.file}:{self.line}: {message}"


@dataclass(frozen=True)
class Origin:
    """Where a record came from: its file, the line it starts on, and the line of each field."""

    file: str
    line: int
    field_lines: tuple[tuple[str, int], ...] = ()

    def problem(self, message: str, field: str | None = None) -> Problem:
        """A problem with this record, located at ``field``'s line when it is known."""
        line = dict(self.field_lines).get(field, self.line) if field else self.line
        return Problem(self.file, line, message)


class ScenarioError(PositionsError):
    """One or more scenario files are malformed or inconsistent; nothing was written."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(set(problems))
        super().__init__("\n".join(str(p) for p in self.problems))

    def lines(self) -> list[str]:
        return [str(p) for p in self.problems]


class StoreError(PositionsError):
    """A store URL is malformed, or the store it names does not exist."""


class TamperedError(StoreError, ValueError):
    """A stored event or view row that the tool did not write (an unknown topic, say): read
    from a store, so changed behind the tool's back. A ValueError too, for the readers that
    report any unreadable row as theirs."""


class ConflictError(PositionsError):
    """Other writers kept changing the same streams; the write gave up and wrote nothing."""


class NotFoundError(PositionsError):
    """An unknown negotiation, party, issue, proposal or statement was asked for."""


class QueryError(PositionsError):
    """A query's arguments are malformed."""
