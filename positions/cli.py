"""The ``positions`` command line: parse, call the application, render, and turn every
`PositionsError` (and every usage mistake) into one ``Error: …`` line and exit status 2."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from positions.errors import PositionsError, QueryError

if TYPE_CHECKING:
    from positions.application import PositionsApplication
    from positions.projections import Query

FORMATS = ("table", "markdown", "csv", "json")


def parse_date(value: str | None, option: str = "--as-of") -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise QueryError(f"{option}: {value!r} is not a date (expected YYYY-MM-DD)") from None


def _open(ctx: click.Context, create: bool = False) -> PositionsApplication:
    from positions.application import PositionsApplication
    from positions.persistence import store_from_environment

    return PositionsApplication.open(store_from_environment(ctx.obj["store"]), create=create)


def _query(app: PositionsApplication, negotiation: str | None) -> Query:
    from positions.projections import Query

    return Query(app.get_record(app.resolve_negotiation(negotiation)))


def _emit(frame: Any, fmt: str, view: str, title: str | None = None) -> None:
    from positions.render import render

    click.echo(render(frame, fmt, view, title), nl=False)


def _as_of_title(what: str, as_of: date | None) -> str:
    return f"{what} as of {as_of.isoformat()}" if as_of else what


format_option = click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="table",
    show_default=True,
    help="Output format. json prints an array of flat objects.",
)
as_of_option = click.option(
    "--as-of", "as_of", metavar="DATE", help="Only statements made by this date (YYYY-MM-DD)."
)
negotiation_option = click.option(
    "--negotiation",
    metavar="ID",
    help="The negotiation to query (needed only when the store holds several).",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option(
    "--store",
    metavar="URL",
    envvar="POSITIONS_STORE",
    help=(
        "sqlite:///path/to/file.db (default sqlite:///positions.db), memory:// "
        "or postgresql://user@host:port/db; also POSITIONS_STORE."
    ),
)
@click.version_option(package_name="positions", message="positions %(version)s")
@click.pass_context
def cli(ctx: click.Context, store: str | None) -> None:
    """Keep an event-sourced record of what each party in a negotiation has publicly stated.

    \b
    Example:
      positions --store sqlite:///talks.db import fixtures/ukraine-2025-03-13.yaml
      positions --store sqlite:///talks.db compare --as-of 2025-03-12
    """
    ctx.ensure_object(dict)
    ctx.obj["store"] = store


@cli.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.pass_context
def import_(ctx: click.Context, files: tuple[Path, ...]) -> None:
    """Validate scenario files, then record what is new in them (all or nothing).

    Every problem in every file is reported as FILE:LINE: what is wrong, and then nothing is
    written. Importing the same file again adds nothing.

    \b
    Example:
      positions import fixtures/ukraine-2025-03-13.yaml
    """
    from positions.application import import_into
    from positions.persistence import store_from_environment
    from positions.scenario import read_scenarios

    scenarios = read_scenarios(files)
    result = import_into(store_from_environment(ctx.obj["store"]), scenarios)
    names = ", ".join(result.negotiations)
    if result.events == 0:
        click.echo(f"Nothing new: {len(files)} file(s) already recorded in {names}.")
    else:
        click.echo(
            f"Recorded {result.statements} statement(s) and {result.definitions} definition(s) "
            f"in {names} ({result.events} events)."
        )


@cli.command()
@as_of_option
@click.option("--party", metavar="P", help="Only this party.")
@click.option("--issue", metavar="I", help="Only this issue.")
@click.option("--claims", is_flag=True, help="Also show positions claimed for a party by others.")
@negotiation_option
@format_option
@click.pass_context
def stance(
    ctx: click.Context,
    as_of: str | None,
    party: str | None,
    issue: str | None,
    claims: bool,
    negotiation: str | None,
    fmt: str,
) -> None:
    """Each party's current position on each issue, with the statement that set it.

    \b
    Example:
      positions stance --party russia --as-of 2025-03-12 --format json
    """
    day = parse_date(as_of)
    query = _query(_open(ctx), negotiation)
    frame = query.stance(day, party=party, issue=issue, claims=claims)
    _emit(frame, fmt, "stance", _as_of_title("Stance", day))


@cli.command()
@click.option("--party", metavar="P", help="Only statements by or about this party.")
@click.option("--issue", metavar="I", help="Only this issue.")
@as_of_option
@negotiation_option
@format_option
@click.pass_context
def history(
    ctx: click.Context,
    party: str | None,
    issue: str | None,
    as_of: str | None,
    negotiation: str | None,
    fmt: str,
) -> None:
    """Every statement in date order, with clarifications and retractions where they happened.

    Without --party and --issue, developments are shown on the timeline too.

    \b
    Example:
      positions history --party russia --issue ceasefire
    """
    day = parse_date(as_of)
    query = _query(_open(ctx), negotiation)
    _emit(query.history(party=party, issue=issue, as_of=day), fmt, "history", "History")


@cli.command()
@as_of_option
@negotiation_option
@format_option
@click.pass_context
def compare(ctx: click.Context, as_of: str | None, negotiation: str | None, fmt: str) -> None:
    """Issues × parties: each cell the position (and terms), claimed positions marked.

    \b
    Example:
      positions compare --as-of 2025-03-13 --format markdown
    """
    day = parse_date(as_of)
    query = _query(_open(ctx), negotiation)
    _emit(query.compare(day), fmt, "compare", _as_of_title("Positions", day))


@cli.command()
@as_of_option
@negotiation_option
@format_option
@click.pass_context
def proposals(ctx: click.Context, as_of: str | None, negotiation: str | None, fmt: str) -> None:
    """Proposals × parties with each party's verdict.

    \b
    Example:
      positions proposals --as-of 2025-03-12
    """
    day = parse_date(as_of)
    query = _query(_open(ctx), negotiation)
    _emit(query.proposals(day), fmt, "proposals", _as_of_title("Verdicts on proposals", day))


@cli.command()
@format_option
@click.pass_context
def negotiations(ctx: click.Context, fmt: str) -> None:
    """The negotiations the store holds.

    \b
    Example:
      positions negotiations --format json
    """
    import polars as pl

    app = _open(ctx)
    rows = []
    for slug in app.get_negotiations():
        record = app.get_record(slug)
        rows.append(
            {
                "negotiation": slug,
                "title": record.negotiation.title,
                "parties": len(record.negotiation.parties),
                "issues": len(record.negotiation.issues),
                "statements": len(record.statements),
            }
        )
    schema = {
        "negotiation": pl.String,
        "title": pl.String,
        "parties": pl.Int64,
        "issues": pl.Int64,
        "statements": pl.Int64,
    }
    _emit(pl.DataFrame(rows, schema=schema), fmt, "negotiations", "Negotiations")


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@as_of_option
@negotiation_option
@format_option
def replay(files: tuple[Path, ...], as_of: str | None, negotiation: str | None, fmt: str) -> None:
    """Import scenario files into a fresh in-memory store and print the comparison table.

    Nothing is written anywhere: this is how a sequence of statements is tried out.

    \b
    Example:
      positions replay fixtures/ukraine-2025-03-13.yaml --as-of 2025-03-12
    """
    from positions.application import PositionsApplication

    day = parse_date(as_of)
    app = PositionsApplication.open("memory://")
    app.import_files(files)
    query = _query(app, negotiation)
    _emit(query.compare(day), fmt, "compare", _as_of_title("Positions", day))


@cli.command()
@click.option(
    "--expect-head",
    metavar="DIGEST",
    help="Also fail unless the store's head digest (printed by an earlier verify) is this one.",
)
@click.pass_context
def verify(ctx: click.Context, expect_head: str | None) -> None:
    """Check every stream's hash chain; exit 1 naming each stream and version that was changed,
    deleted or reordered behind the tool's back.

    When the record is intact, one line tells how many events and streams were read and the
    store's head digest; keep it, and --expect-head later shows whether the newest events of a
    stream were deleted (which a chain alone cannot show).

    \b
    Example:
      positions verify
    """
    from positions.integrity import verify_store

    result = verify_store(_open(ctx))
    for finding in result.findings:
        click.echo(f"Tampered: {finding}")
    if expect_head is not None and expect_head != result.head:
        click.echo(
            f"Tampered: the store's head is {result.head}, not {expect_head} "
            "(events were added since, or the newest ones were deleted)"
        )
    if result.findings or (expect_head is not None and expect_head != result.head):
        click.echo(
            f"Verification failed: {len(result.findings)} of {result.streams} stream(s) broken "
            f"({result.events} events read)."
        )
        ctx.exit(1)
    click.echo(
        f"Verified {result.events} events in {result.streams} streams: every hash chain is "
        f"intact (head {result.head})."
    )


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the exit status (0, or 2 for any error)."""
    try:
        status = cli.main(args=argv, prog_name="positions", standalone_mode=False)
        if isinstance(status, int) and status:  # a command's ctx.exit(status)
            return status
    except PositionsError as exc:
        for line in exc.lines():
            click.echo(f"Error: {line}", err=True)
        return 2
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.UsageError as exc:
        hint = (
            f" (see 'positions {exc.ctx.command_path.split(' ', 1)[1]} --help')"
            if exc.ctx and " " in exc.ctx.command_path
            else " (see 'positions --help')"
        )
        click.echo(f"Error: {exc.format_message()}{hint}", err=True)
        return 2
    except click.Abort:
        click.echo("Error: aborted", err=True)
        return 2
    except BrokenPipeError:
        return 0
    except Exception as exc:
        click.echo(f"Error: unexpected {type(exc).__name__}: {exc} (please report this)", err=True)
        return 2
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
