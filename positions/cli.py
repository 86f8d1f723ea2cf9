"""The ``positions`` command line: parse, call the application, render, and turn every
`PositionsError` (and every usage mistake) into one ``Error: …`` line and exit status 2."""

from __future__ import annotations

import contextlib
import errno
import os
import sys
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from positions.errors import PositionsError, QueryError, ScenarioError, first_line
from positions.moments import parse_date, parse_known_at

if TYPE_CHECKING:
    from positions.application import PositionsApplication
    from positions.projections import Analysis
    from positions.search import Search

FORMATS = ("table", "markdown", "csv", "json", "jsonl")


def _open(ctx: click.Context, create: bool = False) -> PositionsApplication:
    from positions.application import PositionsApplication
    from positions.store.persistence import store_from_environment

    return PositionsApplication.open(store_from_environment(ctx.obj["store"]), create=create)


def _query(
    app: PositionsApplication, negotiation: str | None, known_at: str | None = None
) -> Analysis:
    from positions.projections import Analysis

    stamp = parse_known_at(known_at)
    return Analysis(app.get_record(app.resolve_negotiation(negotiation), known_at=stamp))


def _tables(app: PositionsApplication, negotiation: str | None, known_at: str | None = None) -> Any:
    """What answers `stance`, `compare`, `proposals`, `history`, `explain`, `diff`, `gaps`,
    `timeline`, `report`, `outlook` and `export --what stance|history|statements`: SQL on the
    step tables of the store's views."""
    stamp = parse_known_at(known_at)
    tables = app.get_tables(app.resolve_negotiation(negotiation), stamp)
    if tables.behind:
        click.echo(
            f"Warning: the views of store {app.location.display} have not folded "
            f"{tables.behind} event(s) and cannot be brought up to date here (read-only); "
            "answering from the views as they are.",
            err=True,
        )
    return tables


def _emit_rows(
    rows: Any, fmt: str, view: str, title: str | None = None, fixed: tuple[str, ...] = ()
) -> None:
    """Rows of a projection in a human format, without building a frame (no polars)."""
    from positions.projections import SCHEMAS
    from positions.render import render_rows

    text = render_rows(rows, list(SCHEMAS[view]), fmt, view, title, _layout(), fixed)
    click.echo(text, nl=False, color=True)


HUMAN = ("table", "markdown")


def _emit(
    frame: Any, fmt: str, view: str, title: str | None = None, fixed: tuple[str, ...] = ()
) -> None:
    from positions.render import render

    # color=True: click would strip what looks like ANSI codes from text to a pipe, and csv
    # and json to a pipe carry the data exactly (on a terminal, render escapes them)
    text = render(frame, fmt, view, title, raw_csv=_raw_csv(), layout=_layout(), fixed=fixed)
    click.echo(text, nl=False, color=True)


def _layout() -> Any:
    """The table layout the command's options and standard output ask for: the room is the
    terminal's width (or ``COLUMNS``), 160 columns to a pipe, unlimited with ``--wide``;
    colours only on a terminal, without ``NO_COLOR`` or ``--no-color``."""
    import shutil

    from positions.terminal import Layout

    meta = click.get_current_context().meta
    terminal = sys.stdout.isatty()
    if meta.get("wide"):
        width = None
    elif terminal:
        width = shutil.get_terminal_size().columns
    else:
        width = _columns_variable() or 160
    names = meta.get("columns")
    columns = tuple(n.strip() for n in names.split(",") if n.strip()) if names else None
    color = terminal and not meta.get("no_color") and not os.environ.get("NO_COLOR")
    return Layout(width=width, color=color, records=bool(meta.get("records")), columns=columns)


def _columns_variable() -> int | None:
    value = os.environ.get("COLUMNS", "")
    return int(value) if value.isdigit() and int(value) > 0 else None


def _fixed(**filters: str | None) -> tuple[str, ...]:
    """The columns a filter makes the same in every row (``--party russia``: the party)."""
    return tuple(name for name, value in filters.items() if value is not None)


def _remember(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    ctx.meta[param.name or ""] = value
    return value


def _raw_csv() -> bool:
    """Whether ``--raw-csv`` was given (csv cells written as they are)."""
    root = click.get_current_context().find_root()
    return bool(root.obj and root.obj.get("raw_csv"))


def _of(what: str, party: str | None, issue: str | None) -> str:
    """A title naming the filters, whose columns the table leaves out (`_fixed`)."""
    return what + (f" of {party}" if party else "") + (f" on {issue}" if issue else "")


def _search(text: str | None) -> Search | None:
    """``--search``, parsed (`positions.search`)."""
    if text is None:
        return None
    from positions.search import Search

    return Search.parse(text)


def _matching(search: str | None) -> str:
    """A title's words for ``--search``."""
    return "" if search is None else f" matching {search!r}"


def _window_dates(since: str | None, until: str | None) -> tuple[date | None, date | None]:
    """The days of ``--since`` and ``--until``; a QueryError when no day lies between them."""
    first, last = parse_date(since, "--since"), parse_date(until, "--until")
    if first is not None and last is not None and first > last:
        raise QueryError(f"--since {since} is after --until {until}: no day lies between them")
    return first, last


def _window(what: str, since: date | None, until: date | None) -> str:
    """A title naming the date window of ``--since`` and ``--until``."""
    if since is not None and since == until:
        return f"{what}, {since.isoformat()}"
    if since is not None and until is not None:
        return f"{what}, {since.isoformat()} to {until.isoformat()}"
    if since is not None:
        return f"{what}, from {since.isoformat()}"
    return f"{what}, until {until.isoformat()}" if until is not None else what


def _as_of_title(what: str, as_of: date | None, known_at: str | None = None) -> str:
    title = f"{what} as of {as_of.isoformat()}" if as_of else what
    return f"{title}, as recorded at {known_at}" if known_at else title


_LAYOUT_OPTIONS = [
    click.option(
        "--format",
        "fmt",
        type=click.Choice(FORMATS),
        default="table",
        show_default=True,
        help="Output format. json prints an array of flat objects.",
    ),
    click.option(
        "--columns",
        metavar="A,B,…",
        expose_value=False,
        callback=_remember,
        help="Only these columns, in this order (any column of the csv output).",
    ),
    click.option(
        "--wide",
        is_flag=True,
        expose_value=False,
        callback=_remember,
        help="Cut no text to fit the terminal (quotes in full).",
    ),
    click.option(
        "--records",
        is_flag=True,
        expose_value=False,
        callback=_remember,
        help="One field per line, each row under a -[ RECORD n ] rule.",
    ),
    click.option(
        "--no-color",
        "no_color",
        is_flag=True,
        expose_value=False,
        callback=_remember,
        help="No colours on a terminal (as NO_COLOR does).",
    ),
]


def format_option(command: Any) -> Any:
    """The output options of a query: ``--format`` and the table layout (``--columns``,
    ``--wide``, ``--records``, ``--no-color``)."""
    for option in reversed(_LAYOUT_OPTIONS):
        command = option(command)
    return command


as_of_option = click.option(
    "--as-of", "as_of", metavar="DATE", help="Only statements made by this date (YYYY-MM-DD)."
)
known_at_option = click.option(
    "--known-at",
    "known_at",
    metavar="TIMESTAMP",
    help="Answer from the record as it stood at this recording time (ISO 8601; a date means "
    "the end of that day, UTC).",
)
search_option = click.option(
    "--search",
    metavar="TEXT",
    help="Only statements whose quote, original quote or notes hold every word of TEXT "
    "(without case or accents; a word ending in * matches its prefix).",
)
negotiation_option = click.option(
    "--negotiation",
    metavar="ID",
    envvar="POSITIONS_NEGOTIATION",
    help="The negotiation to query (needed only when the store holds several); also "
    "POSITIONS_NEGOTIATION.",
)


class _PipeClosedError(Exception):
    """Standard output was closed by its reader (``positions history | head``)."""


STORE_HELP = (
    "sqlite:///path/to/file.db or a plain path (an SQLite file; sqlite:///rel/x.db is relative "
    "to the working directory, sqlite:////abs/x.db absolute), memory:// or "
    "postgresql://user@host:port/db. Default positions.db; also POSITIONS_STORE."
)

STORELESS = frozenset({"schema", "new", "replay"})
"""The commands that open no store, and so take no ``--store`` of their own."""


def _store_after_command(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if value is not None:
        ctx.find_root().obj["store"] = value


class _Group(click.Group):
    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        """Every command that opens a store takes ``--store`` after its name too (``positions
        compare --store talks.db``), as it is taken before it."""
        if (name or cmd.name) not in STORELESS:
            cmd.params.append(
                click.Option(
                    ["--store"],
                    metavar="URL",
                    expose_value=False,
                    callback=_store_after_command,
                    help="The store, as before the command (see positions --help).",
                )
            )
        super().add_command(cmd, name)

    def invoke(self, ctx: click.Context) -> Any:
        # click's own main() turns a closed pipe into exit status 1; raised as something other
        # than an OSError, it reaches main() below, which exits 0 as docs/errors.md says
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            raise _PipeClosedError from None


@click.group(
    cls=_Group,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.option(
    "--store",
    metavar="URL",
    envvar="POSITIONS_STORE",
    help=STORE_HELP,
)
@click.option(
    "--raw-csv",
    is_flag=True,
    help="Write csv cells as they are: without it, a text cell starting with =, +, -, @, a "
    "tab or a carriage return (which a spreadsheet runs as a formula), or with ', gets a "
    "leading ' (which importing the file takes off again).",
)
@click.version_option(package_name="positions", message="positions %(version)s")
@click.pass_context
def cli(ctx: click.Context, store: str | None, raw_csv: bool) -> None:
    """Keep an event-sourced record of what each party in a negotiation has publicly stated.

    \b
    Example:
      positions --store sqlite:///talks.db import fixtures/ukraine-2025-03-13.yaml
      positions --store sqlite:///talks.db compare --as-of 2025-03-12
    """
    ctx.ensure_object(dict)
    ctx.obj["store"] = store
    ctx.obj["raw_csv"] = raw_csv


@cli.command()
def schema() -> None:
    """Print the JSON Schema of a scenario file, for an editor to check and complete files.

    It says what each field takes; `positions import` (or `replay`) still checks what lies
    between records (ids defined before they are used, positions on their issue's scale).

    \b
    Example:
      positions schema > positions-scenario.schema.json
      # then, on the first line of a scenario file (yaml-language-server, VS Code's YAML):
      # yaml-language-server: $schema=positions-scenario.schema.json
    """
    import json

    from positions.scenario import scenario_schema

    click.echo(json.dumps(scenario_schema(), indent=2, ensure_ascii=False))


@cli.command()
@click.argument("file", type=click.Path(path_type=Path))
def new(file: Path) -> None:
    """Write a commented scenario file to start from (every record and field, with what it
    means; the optional ones commented out). It replays as it is; an existing file is never
    replaced. FILE may be - for the standard output.

    \b
    Example:
      positions new talks.yaml
      positions replay talks.yaml
    """
    from importlib.resources import files

    from positions.files import is_stdout, write_file

    if not is_stdout(file) and (file.exists() or file.is_symlink()):
        raise QueryError(f"{file} already exists: give the name of a new file")
    _out_folder(file, label="")
    write_file(file, (files("positions") / "templates" / "new-scenario.yaml").read_bytes())
    _wrote(file, "Wrote {out}: edit it, then check it with `positions replay`.")


@cli.command()
@click.option("-i", "--interactive", is_flag=True, help="Ask for each field on the terminal.")
@click.option("--id", "sid", metavar="ID", help="The statement's id (default: derived).")
@click.option("--by", metavar="SPEAKER", help="Who spoke: a speaker's id (or a party's).")
@click.option(
    "--party",
    metavar="P",
    multiple=True,
    help="The party spoken for (implied by a speaker); repeat it for a joint statement.",
)
@click.option(
    "--on",
    metavar="DATE",
    help="When: YYYY-MM-DD, YYYY-MM-DDTHH:MM[+HH:MM] (with a time of day), or 'before YYYY-MM-DD'.",
)
@click.option("--issue", metavar="I", help="The issue the statement takes a position on.")
@click.option("--position", metavar="LABEL", help="A point of the issue's scale, or noncommittal.")
@click.option("--term", "terms", metavar="KEY=VALUE", multiple=True, help="A term (repeatable).")
@click.option("--verdict", metavar="V", help="accept, accept_with_conditions, undecided, reject.")
@click.option("--proposal", metavar="ID", help="The proposal the verdict answers.")
@click.option("--condition", "conditions", metavar="TEXT", multiple=True, help="Repeatable.")
@click.option("--clarifies", metavar="ID", help="The statement this one clarifies.")
@click.option("--retracts", metavar="ID", help="The statement this one retracts.")
@click.option("--about", metavar="P", help="The party a claim is about.")
@click.option("--quote", metavar="TEXT", help="The words as reported.")
@click.option("--quote-original", metavar="TEXT", help="The words in their own language.")
@click.option("--language", metavar="TAG", help="The original's language (ru, uk, ...).")
@click.option("--source-url", "urls", metavar="URL", multiple=True, help="Repeatable.")
@click.option("--outlet", "outlets", metavar="NAME", multiple=True, help="Repeatable.")
@click.option("--published", "published", metavar="DATE", multiple=True, help="Repeatable.")
@click.option("--attribution", metavar="A", help="direct, paraphrase, anonymous_source, claim.")
@click.option("--confidence", metavar="C", help="high (default), medium, low.")
@click.option("--channel", metavar="TEXT", help="Where it was said (a briefing, a post).")
@click.option("--notes", metavar="TEXT", help="The coder's notes.")
@click.option("--new-speaker", metavar="NAME", help="Define --by as a new speaker of --party.")
@click.option("--role", metavar="TEXT", help="The new speaker's role.")
@click.option("--rank", metavar="RANK", help="The new speaker's rank (head_of_state, ...).")
@negotiation_option
@format_option
@click.pass_context
def add(ctx: click.Context, /, interactive: bool, fmt: str, **given: Any) -> None:
    """Record one statement from options (or, with -i, by answering prompts), checked and
    planned exactly as `positions import` checks and plans a file.

    The id is derived from the speaker (or party), the date and the issue when --id is not
    given (peskov-2025-03-13-ceasefire; -2, -3, ... when that id holds another statement).
    Several sources: repeat --source-url, --outlet and --published, paired in order; a URL
    alone is a source whose outlet is its host. Prints the statement as recorded, with the
    cells it moved on its day. Adding the same statement again records nothing.

    \b
    Example:
      positions add --by peskov --on 2025-03-14 --issue ceasefire \\
        --position conditional_ceasefire --quote "We need guarantees." \\
        --source-url https://example.org/briefing
    """
    from positions.adding import derived_id, fields, scenario, taken

    app = _open(ctx)
    slug = app.resolve_negotiation(given.pop("negotiation"))
    if interactive:
        from positions.prompting import ask

        given = ask(app.get_negotiation(slug), given)
    parties = given["party"]
    if not isinstance(parties, str):  # repeated: the parties of a joint statement (R17)
        given["party"] = (parties[0] if len(parties) == 1 else list(parties)) if parties else None
    statement, speaker, what = fields(given)
    named = given["by"] or given["party"]
    named = "-".join(named) if isinstance(named, list) else named
    for attempt in range(1, 100):
        sid = given["sid"] or derived_id(named, given["on"], what, attempt)
        planned = scenario(slug, {"id": sid, **statement}, speaker)
        try:
            result = app.import_scenarios([planned])
        except ScenarioError as exc:
            if given["sid"] is None and taken(exc, sid):
                continue  # the derived id holds another statement: the next one
            raise
        break
    else:
        raise QueryError(
            f"the ids derived for this statement up to '{sid}' are all taken: give --id"
        )
    day = planned.statements[0].value.on.day
    if result.events == 0:
        said = f"Nothing new: statement '{sid}' is recorded already in {slug}."
    else:
        said = f"Recorded statement '{sid}' in {slug} ({result.events} events)."
    click.echo(said, err=fmt not in HUMAN)  # the standard output of json or csv is data alone
    with _tables(app, slug) as query:
        rows = [r for r in query.digest_rows(day, day) if r["statement_id"] == sid]
    if fmt not in HUMAN:
        from positions.projections import DIGEST_SCHEMA, _frame

        _emit(_frame(rows, DIGEST_SCHEMA), fmt, "digest")
        return
    ctx.meta["records"] = True
    ctx.meta["columns"] = ctx.meta.get("columns") or ",".join(ADDED_COLUMNS)
    _emit_rows(rows, fmt, "digest", f"Statement {sid}")


ADDED_COLUMNS = (
    "statement_id",
    "stated_on",
    "party",
    "speaker",
    "kind",
    "issue",
    "position",
    "terms",
    "verdict",
    "proposal",
    "conditions",
    "about",
    "target",
    "attribution",
    "confidence",
    "quote",
    "sources",
    "moved",
)
"""What `positions add` shows of the statement it recorded (those with a value)."""


PROGRESS_BYTES = 256 * 1024
"""Files larger than this in all (a few thousand statements) get a progress bar on a terminal."""


@cli.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--quiet", "-q", is_flag=True, help="No progress bar, and the counts alone (no cells moved)."
)
@click.option(
    "--negotiation",
    metavar="ID",
    help="The negotiation of spreadsheets without a negotiation column (scenario files "
    "name theirs, which must then be this one).",
)
@click.pass_context
def import_(
    ctx: click.Context, files: tuple[Path, ...], quiet: bool, negotiation: str | None
) -> None:
    """Validate scenario files (.yaml, .yml, .json) and spreadsheets of statements (.csv,
    .xlsx, .xls, .ods), then record what is new in them (all or nothing).

    Every problem in every file is reported as FILE:LINE: what is wrong (FILE:ROW:COLUMN in a
    spreadsheet), and then nothing is written. Importing the same file again adds nothing.
    After the counts, each cell in force that the import moved (a party's position on an
    issue, its verdict on a proposal, a claim) is listed, then the statements it recorded that
    set no cell in force (superseded, noncommittal beside a position, made earlier than the
    party's latest). A
    spreadsheet has the columns of `export --what statements --format csv` (docs/format.md).
    Large imports show their progress on a terminal, phase by phase (reading, checking,
    writing, the views) with statements per second (never in a pipe; --quiet turns it off).

    \b
    Example:
      positions import fixtures/ukraine-2025-03-13.yaml
      positions import --negotiation ukraine-2025 statements.xlsx
    """
    from positions.application import import_into, once_then
    from positions.scenario import read_scenarios
    from positions.store.persistence import parse_store_url, store_from_environment

    url = store_from_environment(ctx.obj["store"])
    sizes = [path.stat().st_size if path.is_file() else 0 for path in files]

    def again(paths: Sequence[Path]) -> list[Any]:
        """The files read again, after another writer got there first (the import took the
        records read the first time, dropping each once planned)."""
        return read_scenarios(paths, negotiation=negotiation)

    started = datetime.now(UTC)  # before the import's recording time: the tables before it
    if quiet or not sys.stderr.isatty() or sum(sizes) < PROGRESS_BYTES:
        scenarios = read_scenarios(files, negotiation=negotiation)
        touched = _touched(scenarios)
        result = import_into(url, once_then(scenarios, files, again))
    else:
        from rich.console import Console

        from positions.progress import ImportBar

        with ImportBar(Console(stderr=True)) as bar:
            bar.read(0, sum(sizes), 0)
            scenarios = read_scenarios(
                files,
                negotiation=negotiation,
                each=lambda n, read: bar.read(
                    sum(sizes[:n]), sum(sizes), sum(len(s.statements) for s in read)
                ),
            )
            touched = _touched(scenarios)
            result = import_into(url, once_then(scenarios, files, again), bar)
    if result.views_rebuilt:
        click.echo(
            "Warning: the views did not account for every recorded event (changed behind the "
            "tool's back); they were rebuilt from the events before the import was planned.",
            err=True,
        )
    if result.registered:
        click.echo(
            f"Registered {result.registered} statement(s) and correction(s) an earlier version "
            "recorded, once (see docs/adr/0017-a-registry-of-statement-ids.md).",
            err=True,
        )
    names = ", ".join(result.negotiations)
    if result.events == 0:
        click.echo(f"Nothing new: {len(files)} file(s) already recorded in {names}.")
    else:
        counts = [f"{result.statements} statement(s)", f"{result.definitions} definition(s)"]
        if result.corrections:
            counts.append(f"{result.corrections} correction(s)")
        if result.amendments:
            counts.append(f"{result.amendments} amendment(s)")
        recorded = f"{', '.join(counts[:-1])} and {counts[-1]}"
        click.echo(f"Recorded {recorded} in {names} ({result.events} events).")
        if not quiet and not parse_store_url(url).is_memory:  # a memory store is gone now
            _report_changes(ctx, touched, started)


def _touched(scenarios: Any) -> dict[str, tuple[list[str], list[str]]]:
    """For each negotiation, the ids of the statements (and of those corrected or amended)
    and of the proposals an import's files hold (read before the import, which may consume
    them)."""
    found: dict[str, tuple[list[str], list[str]]] = {}
    for scenario in scenarios:
        ids, tablings = found.setdefault(scenario.negotiation, ([], []))
        ids.extend(located.value.id for located in scenario.statements)
        ids.extend(located.value.statement for located in scenario.corrections)
        tablings.extend(located.value.id for located in scenario.proposals)
    return found


def _report_changes(
    ctx: click.Context, touched: dict[str, tuple[list[str], list[str]]], started: datetime
) -> None:
    """Each cell in force whose position or verdict the import moved (as recorded just before
    it and now), and the statements it recorded that set no cell in force
    (`positions.changes`)."""
    from positions.changes import changes_of, listed

    app = _open(ctx)
    try:
        for slug, (ids, tablings) in touched.items():
            if not ids and not tablings:
                continue
            found = changes_of(app, slug, ids, tablings, started)
            prefix = f"{slug}: " if len(touched) > 1 else ""
            for move in found.moved[:SHOWN_MOVES]:
                click.echo(f"{prefix}moved: {move}")
            if len(found.moved) > SHOWN_MOVES:
                click.echo(f"{prefix}moved: {len(found.moved) - SHOWN_MOVES} more cell(s)")
            if found.contested:
                click.echo(
                    f"{prefix}contested now (two statements of one day, R16): "
                    f"{listed(found.contested)}"
                )
            if found.idle:
                idle = found.idle
                click.echo(
                    f"{prefix}set no cell in force: {len(idle)} statement(s): {listed(idle)}"
                )
    finally:
        app.close()


SHOWN_MOVES = 20
"""Moved cells an import lists; the rest are counted."""


@cli.command()
@as_of_option
@click.option("--party", metavar="P", help="Only this party.")
@click.option("--issue", metavar="I", help="Only this issue.")
@click.option("--claims", is_flag=True, help="Also show positions claimed for a party by others.")
@known_at_option
@negotiation_option
@format_option
@click.pass_context
def stance(
    ctx: click.Context,
    as_of: str | None,
    party: str | None,
    issue: str | None,
    claims: bool,
    known_at: str | None,
    negotiation: str | None,
    fmt: str,
) -> None:
    """Each party's current position on each issue, with the statement that set it.

    \b
    Example:
      positions stance --party russia --as-of 2025-03-12 --format json
    """
    day = parse_date(as_of)
    title = _as_of_title(_of("Stance", party, issue), day, known_at)
    with _tables(_open(ctx), negotiation, known_at) as query:
        if fmt in HUMAN:
            rows = query.stance_rows(day, party, issue, claims)
            _emit_rows(rows, fmt, "stance", title, _fixed(party=party, issue=issue))
            return
        frame = query.stance(day, party=party, issue=issue, claims=claims)
    _emit(frame, fmt, "stance", title, _fixed(party=party, issue=issue))


@cli.command()
@click.option("--party", metavar="P", help="Only statements by or about this party.")
@click.option("--issue", metavar="I", help="Only this issue.")
@click.option("--speaker", metavar="S", help="Only statements this speaker made (a speaker id).")
@click.option("--since", metavar="DATE", help="Only rows dated on or after DATE (YYYY-MM-DD).")
@click.option("--until", metavar="DATE", help="Only rows dated on or before DATE (YYYY-MM-DD).")
@search_option
@as_of_option
@known_at_option
@negotiation_option
@format_option
@click.pass_context
def history(
    ctx: click.Context,
    party: str | None,
    issue: str | None,
    speaker: str | None,
    since: str | None,
    until: str | None,
    search: str | None,
    as_of: str | None,
    known_at: str | None,
    negotiation: str | None,
    fmt: str,
) -> None:
    """Every statement in date order, with clarifications and retractions where they happened.

    Without --party, --issue, --speaker and --search, developments are shown on the timeline
    too. --search finds the statements holding every word given, in their quote, original
    quote or notes, whatever the case or accents ("tal*" finds "talks" and "Tallinn"); their
    corrections are listed with them.
    --since and --until list only the rows dated between them (both included); --as-of is
    the day the record is read as of (what had ended by then), as for the other commands.

    \b
    Example:
      positions history --party russia --issue ceasefire
      positions history --since 2025-03-11 --until 2025-03-12
      positions history --speaker peskov
      positions history --search "ceasefire trump"
    """
    day = parse_date(as_of)
    first, last = _window_dates(since, until)
    found = _search(search)
    what = _of("History", party, issue) + (f" by {speaker}" if speaker else "")
    what += _matching(search)
    title = _as_of_title(_window(what, first, last), day, known_at)
    fixed = _fixed(party=party, issue=issue)
    window = {"since": first, "until": last, "speaker": speaker, "search": found}
    with _tables(_open(ctx), negotiation, known_at) as query:
        if fmt in HUMAN and hasattr(query, "history_rows"):
            rows = query.history_rows(party, issue, day, **window)
            _emit_rows(rows, fmt, "history", title, fixed)
            return
        frame = query.history(party=party, issue=issue, as_of=day, **window)
    _emit(frame, fmt, "history", title, fixed)


@cli.command()
@as_of_option
@click.option("--party", metavar="P", help="Only this party's column.")
@click.option("--issue", metavar="I", help="Only this issue's row.")
@known_at_option
@negotiation_option
@format_option
@click.pass_context
def compare(
    ctx: click.Context,
    as_of: str | None,
    party: str | None,
    issue: str | None,
    known_at: str | None,
    negotiation: str | None,
    fmt: str,
) -> None:
    """Issues × parties: each cell the position (and terms), claimed positions marked.

    \b
    Example:
      positions compare --as-of 2025-03-13 --format markdown
    """
    day = parse_date(as_of)
    title = _as_of_title(_of("Positions", party, issue), day, known_at)
    with _tables(_open(ctx), negotiation, known_at) as query:
        if fmt in ("table", "markdown"):  # straight from rows: no polars to import
            from positions.render import render_compare_rows

            rows = query.compare_rows(day, party, issue)
            click.echo(render_compare_rows(rows, fmt, title, _layout()), nl=False, color=True)
            return
        frame = query.compare(day, party, issue)
    _emit(frame, fmt, "compare", title)


@cli.command()
@as_of_option
@click.option("--party", metavar="P", help="Only this party's verdicts.")
@click.option(
    "--issue", metavar="I", help="Only proposals on this issue (a package: one that covers it)."
)
@click.option(
    "--claims", is_flag=True, help="Also the verdicts others claim for a party (claimed_by)."
)
@known_at_option
@negotiation_option
@format_option
@click.pass_context
def proposals(
    ctx: click.Context,
    as_of: str | None,
    party: str | None,
    issue: str | None,
    claims: bool,
    known_at: str | None,
    negotiation: str | None,
    fmt: str,
) -> None:
    """Proposals × parties with each party's verdict; with --claims, below each party's row
    one row per party that claims a verdict for it ("Putin agreed to X"), marked claimed_by.

    \b
    Example:
      positions proposals --as-of 2025-03-12 --party russia
      positions proposals --claims
    """
    day = parse_date(as_of)
    title = _as_of_title(_of("Verdicts on proposals", party, issue), day, known_at)
    fixed = _fixed(party=party, issue=issue)
    with _tables(_open(ctx), negotiation, known_at) as query:
        if fmt in HUMAN and hasattr(query, "proposal_rows"):
            rows = query.proposal_rows(day, party, issue, claims)
            _emit_rows(rows, fmt, "proposals", title, fixed)
            return
        frame = query.proposals(day, party, issue, claims)
    _emit(frame, fmt, "proposals", title, fixed)


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
@click.option(
    "--what-if",
    "what_if",
    multiple=True,
    type=click.Path(path_type=Path),
    metavar="FILE",
    help="Hypothetical statements to layer on the others (repeat for several files).",
)
@as_of_option
@negotiation_option
@format_option
def replay(
    files: tuple[Path, ...],
    what_if: tuple[Path, ...],
    as_of: str | None,
    negotiation: str | None,
    fmt: str,
) -> None:
    """Import scenario files into a fresh in-memory store and print the comparison table.

    Nothing is written anywhere: this is how a sequence of statements is tried out. With
    --what-if, the hypothetical statements are layered on the others, every cell they set is
    marked [what-if], and the table is compared with the one without them.

    \b
    Example:
      positions replay fixtures/ukraine-2025-03-13.yaml --as-of 2025-03-12
      positions replay fixtures/ukraine-2025-03-13.yaml --what-if russia-accepts.yaml
    """
    from positions.application import PositionsApplication
    from positions.projections import what_if as layer
    from positions.scenario import read_scenarios

    day = parse_date(as_of)
    base_scenarios = read_scenarios(files)
    hypothetical = read_scenarios(what_if, what_if=True)
    base = PositionsApplication.open("memory://")
    base.import_scenarios(base_scenarios)
    if not what_if:
        with _tables(base, negotiation) as tables:
            frame = tables.compare(day)
        _emit(frame, fmt, "compare", _as_of_title("Positions", day))
        return
    layered = PositionsApplication.open("memory://")
    layered.allow_hypothetical = True
    layered.import_scenarios([*base_scenarios, *hypothetical])
    with _tables(base, negotiation) as tables, _tables(layered, negotiation) as layered_tables:
        frame = layer(tables, layered_tables, day)
    _emit(frame, fmt, "compare", _as_of_title("Positions with what-if statements", day))
    if fmt in ("table", "markdown"):
        changed = frame.filter(frame["changed"]).select(
            "issue", "party", base="base_cell", what_if="cell"
        )
        click.echo()
        _emit(changed, fmt, "changes", "Changes against the base")


@cli.command()
@click.option(
    "--expect-head",
    metavar="DIGEST",
    help="Also fail unless the store's head digest (printed by an earlier verify) is this one.",
)
@click.pass_context
def verify(ctx: click.Context, expect_head: str | None) -> None:
    """Check every stream's hash chain, then the registry of statement ids, then the
    materialized views; exit 1 naming each stream and version that was changed, deleted or
    reordered behind the tool's back, each statement or correction whose registration is
    missing or names another event, or each view row that differs from a fresh fold of the
    events.

    When the record is intact, one line tells how many events and streams were read and the
    store's head digest; keep it, and --expect-head later shows whether the newest events of a
    stream were deleted (which a chain alone cannot show). A second line tells that the views
    equal the events.

    \b
    Example:
      positions verify
    """
    from positions.store.integrity import verify_store
    from positions.views.store import log_rows

    app = _open(ctx)
    result = verify_store(app)
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
    for problem in result.registry:
        click.echo(f"Registry: {problem}")
    if result.registry:
        click.echo(
            f"Verification failed: {len(result.registry)} problem(s) in the registry of "
            "statement ids (see docs/adr/0017-a-registry-of-statement-ids.md)."
        )
        ctx.exit(1)
    if app.views is None:
        return
    if app.views.read_only:  # a read-only file or role: the views are compared as they are
        behind = app.views.behind()
        if behind:
            click.echo(
                f"Warning: the views have not folded {behind} event(s) and cannot be brought "
                "up to date here (read-only); they are compared as they are.",
                err=True,
            )
    else:
        app.catch_up()
    differences = app.views.differences(log_rows(result.rows))
    twice = [d for d in differences if d.table == "log"]
    for difference in twice:
        click.echo(f"Duplicate: {difference}")
    if twice:
        click.echo(
            f"Verification failed: {len(twice)} statement(s) recorded more than once in the "
            "events (the views keep the later event's)."
        )
        ctx.exit(1)
    if app.views.read_only:
        click.echo(
            "Warning: the step tables are not checked: a fresh fold needs to write (in a "
            "transaction it rolls back), and this store is read-only here; verify a copy.",
            err=True,
        )
    else:
        differences += app.views.step_differences()
    for difference in differences:
        click.echo(f"Stale: {difference}")
    if differences:
        click.echo(
            f"Verification failed: {len(differences)} view row(s) differ from a fresh fold of "
            "the events; 'positions rebuild' rebuilds the views from the events."
        )
        ctx.exit(1)
    click.echo(
        f"Verified the views: {len(app.views.statements())} statement row(s), every row equal "
        "to a fresh fold of the events."
    )


@cli.command()
@click.pass_context
def rebuild(ctx: click.Context) -> None:
    """Rebuild the materialized views from the events: empty them, then fold every event again.

    Queries bring the views up to date by themselves; rebuild is for a store whose views
    'positions verify' reports stale (changed behind the tool's back).

    \b
    Example:
      positions rebuild
    """
    app = _open(ctx)
    events = app.rebuild()
    click.echo(f"Rebuilt the views from {events} event(s).")


@cli.command()
@click.argument("statement_id", metavar="STATEMENT_ID")
@click.option("--position", metavar="P", help="The corrected position (or noncommittal).")
@click.option(
    "--verdict",
    type=click.Choice(["accept", "accept_with_conditions", "undecided", "reject"]),
    help="The corrected verdict on the statement's proposal.",
)
@click.option("--issue", metavar="I", help="The corrected issue.")
@click.option(
    "--on",
    "on",
    metavar="DATE",
    help="The corrected date (YYYY-MM-DD, YYYY-MM-DDTHH:MM[+HH:MM] or 'before DATE').",
)
@click.option("--party", metavar="P", help="The corrected party.")
@click.option("--reason", required=True, help="Why the coding was wrong (kept in the record).")
@negotiation_option
@click.pass_context
def correct(
    ctx: click.Context,
    statement_id: str,
    position: str | None,
    verdict: str | None,
    issue: str | None,
    on: str | None,
    party: str | None,
    reason: str,
    negotiation: str | None,
) -> None:
    """Correct a recorded statement's coding; the original stays in the record.

    Queries use the corrected coding from now on; --known-at an earlier time shows the
    original. A correction can itself be corrected by another.

    \b
    Example:
      positions correct zakharova-under-any-flag --position no_nato_country_troops \\
        --reason "re-read the full briefing"
    """
    from pydantic import ValidationError

    from positions.codebook import Correction

    app = _open(ctx)
    slug = app.resolve_negotiation(negotiation)
    try:
        correction = Correction(
            statement=statement_id,
            reason=reason,
            position=position,
            verdict=verdict,
            issue=issue,
            on=on,
            party=party,
        )
    except ValidationError as exc:
        error = exc.errors()[0]
        from positions.messages import location, message

        where = ".".join(str(p) for p in location(error))
        raise QueryError(f"--{where}: {message(error, Correction)}") from None
    event = app.correct(slug, correction)
    click.echo(
        f"Corrected {statement_id} ({', '.join(correction.changes())}) "
        f"at {event.timestamp.isoformat()}."
    )


@cli.command()
@click.argument("statement_id", metavar="STATEMENT_ID")
@click.option("--quote", metavar="TEXT", help="The quote as it should read.")
@click.option("--quote-original", metavar="TEXT", help="The quote in its original language.")
@click.option("--language", metavar="TAG", help="The original quote's language (BCP 47: ru, uk).")
@click.option(
    "--add-source",
    "add_sources",
    multiple=True,
    metavar="URL",
    help="A source to add after those it has (repeat for several; the outlet is the host).",
)
@click.option(
    "--source",
    "sources",
    multiple=True,
    metavar="URL",
    help="The sources it should have, replacing those it has (repeat for several).",
)
@click.option("--channel", metavar="TEXT", help="Where it was said (a briefing, a post...).")
@click.option("--notes", metavar="TEXT", help="The coder's notes, as they should read.")
@click.option(
    "--confidence",
    type=click.Choice(["high", "medium", "low"]),
    help="How sure the coding is.",
)
@click.option(
    "--attribution",
    type=click.Choice(["direct", "paraphrase", "anonymous_source", "claim"]),
    help="How the words reached the report.",
)
@click.option("--reason", required=True, help="Why it is amended (kept in the record).")
@negotiation_option
@click.pass_context
def amend(
    ctx: click.Context,
    /,
    statement_id: str,
    reason: str,
    negotiation: str | None,
    **given: Any,
) -> None:
    """Fix a recorded statement's quote, sources, notes or other descriptive fields.

    The statement as first recorded stays in the record: history and explain show each
    amendment with its reason, and --known-at an earlier time shows the text as it was.
    Nothing the statement counts for changes (to change its position, verdict, issue,
    date or party, use correct; if the party changed its stance, record a statement that
    clarifies or retracts it).

    \b
    Example:
      positions amend peskov-no-troops --quote "We see no place for troops" \\
        --add-source https://tass.com/politics/1 --reason "retyped from the transcript"
    """
    from pydantic import ValidationError

    from positions.codebook import Amendment

    app = _open(ctx)
    slug = app.resolve_negotiation(negotiation)
    values = {name: value for name, value in given.items() if value not in (None, ())}
    try:
        amendment = Amendment(statement=statement_id, reason=reason, **values)
    except ValidationError as exc:
        error = exc.errors()[0]
        from positions.messages import location, message

        where = location(error)
        option = str(where[0]).replace("_", "-") if where else "statement"
        option = {"add-sources": "add-source", "sources": "source"}.get(option, option)
        raise QueryError(f"--{option}: {message(error, Amendment)}") from None
    event = app.amend(slug, amendment)
    click.echo(
        f"Amended {statement_id} ({', '.join(amendment.changes())}) "
        f"at {event.timestamp.isoformat()}."
    )


@cli.command()
@click.option("--issue", metavar="I", help="Only this issue.")
@click.option("--pairs", is_flag=True, help="Print the pairwise rank distances instead.")
@as_of_option
@known_at_option
@negotiation_option
@format_option
@click.pass_context
def gaps(
    ctx: click.Context,
    issue: str | None,
    pairs: bool,
    as_of: str | None,
    known_at: str | None,
    negotiation: str | None,
    fmt: str,
) -> None:
    """How far apart the parties are per issue, what they share, where proposals stand.

    \b
    Example:
      positions gaps --issue ceasefire
      positions gaps --pairs --format json
    """
    day = parse_date(as_of)
    with _tables(_open(ctx), negotiation, known_at) as tables:
        if pairs:
            frame = tables.gap_pairs(day, issue)
            _emit(frame, fmt, "pairs", _as_of_title("Rank distances", day, known_at))
            return
        _emit(tables.gaps(day, issue), fmt, "gaps", _as_of_title("Gaps", day, known_at))
        if fmt in ("table", "markdown"):
            click.echo()
            _emit(tables.gap_pairs(day, issue), fmt, "pairs", "Rank distances")


@cli.command()
@click.option("--issue", metavar="I", help="Only this issue.")
@as_of_option
@known_at_option
@negotiation_option
@format_option
@click.pass_context
def outlook(
    ctx: click.Context,
    issue: str | None,
    as_of: str | None,
    known_at: str | None,
    negotiation: str | None,
    fmt: str,
) -> None:
    """Where a compromise would land: capability×salience-weighted mean and median ranks.

    Parties without a position, a capability or a salience are listed as excluded. The
    formulas and their limits: docs/analysis.md.

    \b
    Example:
      positions outlook --issue flow_share --format json
    """
    day = parse_date(as_of)
    with _tables(_open(ctx), negotiation, known_at) as tables:
        frame = tables.outlook(day, issue)
    _emit(frame, fmt, "outlook", _as_of_title("Outlook", day, known_at))


@cli.command()
@click.argument("party", metavar="PARTY")
@click.argument("issue", metavar="ISSUE")
@as_of_option
@known_at_option
@negotiation_option
@format_option
@click.pass_context
def explain(
    ctx: click.Context,
    party: str,
    issue: str,
    as_of: str | None,
    known_at: str | None,
    negotiation: str | None,
    fmt: str,
) -> None:
    """Why a party's stance on an issue is what it is: the chain of statements, clarifications,
    retractions and corrections, each with the rule of docs/codebook.md that decided it.

    \b
    Example:
      positions explain russia ceasefire --as-of 2025-03-13
    """
    day = parse_date(as_of)
    with _tables(_open(ctx), negotiation, known_at) as tables:
        frame = tables.explain(party, issue, day)
    title = _as_of_title(f"Why {party} stands where it does on {issue}", day, known_at)
    _emit(frame, fmt, "explain", title)


@cli.command()
@click.argument("day", metavar="[DATE]", required=False)
@click.option("--since", metavar="DATE", help="From this day (instead of DATE).")
@click.option("--until", metavar="DATE", help="To this day, included (instead of DATE).")
@search_option
@known_at_option
@negotiation_option
@format_option
@click.pass_context
def digest(
    ctx: click.Context,
    day: str | None,
    since: str | None,
    until: str | None,
    search: str | None,
    known_at: str | None,
    negotiation: str | None,
    fmt: str,
) -> None:
    """What was said on a day (or from --since to --until), issue by issue, with the cells
    each statement moved (`positions diff` over the same days).

    \b
    Example:
      positions digest 2025-03-12
      positions digest --since 2025-03-11 --until 2025-03-13 --format markdown
    """
    if day is not None and (since is not None or until is not None):
        raise QueryError("give a DATE or --since/--until, not both")
    if day is None and (since is None or until is None):
        raise QueryError("give a DATE, or both --since and --until")
    if day is not None:
        first = last = parse_date(day, "DATE")
    else:
        first, last = _window_dates(since, until)
    assert first is not None
    assert last is not None
    found = _search(search)
    title = _as_of_title(_window("Digest" + _matching(search), first, last), None, known_at)
    with _tables(_open(ctx), negotiation, known_at) as query:
        if fmt in HUMAN:
            _emit_rows(query.digest_rows(first, last, found), fmt, "digest", title)
            return
        frame = query.digest(first, last, found)
    _emit(frame, fmt, "digest", title)


@cli.command()
@click.argument("start", metavar="FROM")
@click.argument("end", metavar="TO")
@known_at_option
@negotiation_option
@format_option
@click.pass_context
def diff(
    ctx: click.Context,
    start: str,
    end: str,
    known_at: str | None,
    negotiation: str | None,
    fmt: str,
) -> None:
    """What changed between two dates: each party and issue whose position moved, with the
    shift and the statements in between (`positions explain` gives each one's reasons).

    \b
    Example:
      positions diff 2025-03-11 2025-03-13
    """
    first, last = parse_date(start, "FROM"), parse_date(end, "TO")
    assert first is not None
    assert last is not None
    with _tables(_open(ctx), negotiation, known_at) as tables:
        frame = tables.diff(first, last)
    _emit(frame, fmt, "diff", f"Changes from {first} to {last}")


@cli.command()
@click.option(
    "--what",
    type=click.Choice(["statements", "stance", "history", "scenario"]),
    required=True,
    help="Which table to write, or the whole record as a scenario file.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["parquet", "csv", "jsonl", "plover", "yaml"]),
    help="File format (default from the file's extension; plover: statements only).",
)
@click.argument("out", type=click.Path(path_type=Path), metavar="OUT")
@as_of_option
@known_at_option
@negotiation_option
@click.pass_context
def export(
    ctx: click.Context,
    what: str,
    fmt: str | None,
    out: Path,
    as_of: str | None,
    known_at: str | None,
    negotiation: str | None,
) -> None:
    """Write a flat table (parquet, csv, jsonl), PLOVER-style event records, or a scenario
    file that re-imports into an identical store.

    \b
    Example:
      positions export --what statements --format parquet statements.parquet
      positions export --what statements --format plover events.jsonl
      positions export --what scenario record.yaml
    """
    from positions.export import write_export

    day = parse_date(as_of)
    if what == "scenario" and day is not None:
        raise QueryError("--as-of does not apply to --what scenario, which writes the whole record")
    app = _open(ctx)
    if what in ("stance", "history") or (what == "statements" and fmt != "plover"):
        # tables the step tables answer
        with _tables(app, negotiation, known_at) as tables:
            written = write_export(tables, what, fmt, out, day, _raw_csv())
    else:
        written = write_export(_query(app, negotiation, known_at), what, fmt, out, day, _raw_csv())
    unit = "statement(s)" if what in ("statements", "scenario") else f"{what} row(s)"
    _wrote(out, f"Wrote {written} {unit} to {{out}}.")


out_option = click.option(
    "--out",
    "out",
    metavar="FILE",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The file to write.",
)


def _out_folder(path: Path, label: str = "--out: ") -> Path:
    """The folder ``--out`` writes into; checked before any work, so that a mistyped path is
    refused at once rather than after the picture or report is drawn (``-``: the standard
    output, no folder)."""
    from positions.files import is_stdout

    if is_stdout(path):
        return Path(".")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise QueryError(f"{label}cannot write {path}: no directory {folder}")
    return folder


def _wrote(path: Path, message: str) -> None:
    """Say what was written (``message`` names it ``{out}``): on the standard output, unless
    that is where it went (``-``), then on the standard error, so that the output is the
    file alone."""
    from positions.files import is_stdout

    if is_stdout(path):
        text = message.replace("Wrote {out}", "Wrote to {out}")
        click.echo(text.format(out="the standard output"), err=True)
    else:
        click.echo(message.format(out=path))


def _count_or_all(text: str, option: str) -> int | None:
    """A positive whole number, or None for ``all``."""
    if text == "all":
        return None
    if not (text.isdigit() and int(text) > 0):
        raise QueryError(f"{option}: {text!r} is not a positive whole number or 'all'")
    return int(text)


def _write_out(path: Path, content: bytes) -> None:
    """Write ``content`` to ``path`` whole or not at all (`files.write_file`)."""
    from positions.files import write_file

    _out_folder(path)
    write_file(path, content, label="--out: ")


@cli.command()
@click.option(
    "--issue", metavar="I", help="Only this issue (default: every issue, one under another)."
)
@as_of_option
@known_at_option
@negotiation_option
@out_option
@click.option(
    "--points",
    metavar="N|all",
    default="300",
    show_default=True,
    help="Statements drawn as points per issue, the latest (all: every one); the lines "
    "show every change of position, or, past 120 changes of a party, the position it held "
    "at the end of 120 equal spans of days.",
)
@click.pass_context
def timeline(
    ctx: click.Context,
    issue: str | None,
    as_of: str | None,
    known_at: str | None,
    negotiation: str | None,
    out: Path,
    points: str,
) -> None:
    """Draw each party's position over time as a picture (.svg, .png) or a page (.html).

    Per issue: each party's rank on the scale as a step line, each statement as a point
    (clarifications, retractions, claims and proposals marked; in HTML, hovering shows the
    quote, speaker, source and date), developments as dashed vertical rules. On a long
    record only the latest --points statements of an issue are points, and the subtitle
    says so, so that the picture stays readable.

    \b
    Example:
      positions timeline --issue ceasefire --out ceasefire.svg
    """
    from positions.chart import check_picture_path, picture, timeline_charts

    fmt = "svg" if str(out) == "-" else check_picture_path(out.name)
    _out_folder(out)
    day = parse_date(as_of)
    most = _count_or_all(points, "--points")
    with _tables(_open(ctx), negotiation, known_at) as tables:
        tables.check_issue(issue)
        issues = [issue] if issue is not None else list(tables.negotiation.issues)
        charts = timeline_charts(tables, issues, day, most)
    _write_out(out, picture(charts, fmt))
    _wrote(out, "Wrote {out}.")


@cli.command()
@as_of_option
@known_at_option
@negotiation_option
@out_option
@click.option(
    "--recent",
    metavar="N|all",
    default="25",
    show_default=True,
    help="Statements listed per party, the latest (all: every one, and every statement "
    "drawn in the timelines, not only the latest 300 of an issue).",
)
@click.option(
    "--since",
    metavar="DATE",
    help="Count the lede's changes from this day (default: the day before the report's day).",
)
@click.pass_context
def report(
    ctx: click.Context,
    as_of: str | None,
    known_at: str | None,
    negotiation: str | None,
    out: Path,
    recent: str,
    since: str | None,
) -> None:
    """Write one self-contained HTML report that opens with no network.

    It opens with what changed since the day before (or --since), then holds the comparison
    and proposals tables, a timeline per issue, each party's latest
    statements with quotes and source links, the claims and the developments, headed by the
    as-of date and the time the record was known at.

    \b
    Example:
      positions report --as-of 2025-03-13 --out report.html
    """
    from positions.report import build_report

    if not out.name.lower().endswith((".html", ".htm")) and str(out) != "-":
        raise QueryError(f"--out: '{out.name}' must end in .html (or be -, the standard output)")
    _out_folder(out)
    day = parse_date(as_of)
    latest = _count_or_all(recent, "--recent")
    with _tables(_open(ctx), negotiation, known_at) as tables:
        html = build_report(tables, day, latest, parse_date(since, "--since"))
    _write_out(out, html.encode("utf-8"))
    _wrote(out, "Wrote {out}.")


@cli.command()
@negotiation_option
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8000,
    show_default=True,
    help="The port to listen on (0: any free port, printed).",
)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="The address to listen on. Anything but a loopback address lets other machines "
    "read the record.",
)
@click.pass_context
def serve(ctx: click.Context, negotiation: str | None, port: int, host: str) -> None:
    """Browse the record in a local, read-only web app until Ctrl-C.

    Pages: /compare (the matrix, each cell linking to its explanation), /explain,
    /history (filters: party, issue, speaker, since, until), /proposals and /timeline,
    each at any as_of date and known_at recording time given in its address, e.g.
    /compare?as_of=2025-03-12, so that a link shows the same answer again.

    \b
    Example:
      positions serve --port 8000
    """
    import socket

    from positions.web import create_app

    app = _open(ctx)
    site = create_app(app, negotiation)  # checks the negotiation before listening
    try:
        listener = socket.create_server((host, port), reuse_port=False)
    except OSError as exc:
        raise QueryError(f"cannot listen on {host}:{port} ({exc.strerror or exc})") from None
    bound = listener.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    if not host.startswith("127.") and host not in ("localhost", "::1"):
        click.echo(
            f"Warning: {host} is not a loopback address: other machines can read the record.",
            err=True,
        )
    click.echo(f"Serving on http://{shown}:{bound}/ (Ctrl-C to stop)", err=True)
    _serve(site, listener)


def _serve(site: Any, listener: Any) -> None:
    """Run the app on a listening socket until interrupted (uvicorn, its own logs off)."""
    import uvicorn

    config = uvicorn.Config(site, log_level="warning", access_log=False, lifespan="off")
    server = uvicorn.Server(config)
    try:
        server.run(sockets=[listener])
    except KeyboardInterrupt:  # uvicorn stops on Ctrl-C, then raises it again: the normal end
        pass
    finally:
        listener.close()
    click.echo("Stopped.", err=True)


def _discard_stdout() -> None:
    """Point standard output at /dev/null, so that flushing it at exit does not fail again."""
    import os

    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # not a file (a test's captured stream)
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)


INTERRUPTED = 130
"""The exit status after Ctrl-C (128 + SIGINT), as shells report it."""


class Interrupted(KeyboardInterrupt):
    """Ctrl-C, as the tool's own handler raises it (`_Interrupt`): a KeyboardInterrupt
    whatever catches it. Its own class, because CPython 3.11, running ``python -m
    positions``, takes a KeyboardInterrupt that passed through code run by ``exec`` of a
    string (as ``dataclasses`` makes its methods, in the imports a command makes on demand)
    for one the program never handled, and ends the process by SIGINT after the command has
    handled it and returned 130; it takes that class alone so, not its subclasses."""


class _Interrupt:
    """Ctrl-C, remembered: Python raises KeyboardInterrupt where it lands, and a library may
    wrap that in an error of its own (pydantic's serializer does), which must still read as
    an interruption."""

    def __init__(self) -> None:
        self.seen = False
        self.committed_before = _committed()

    def __call__(self, signum: int, frame: Any) -> None:
        self.seen = True
        raise Interrupted

    @contextlib.contextmanager
    def watching(self) -> Iterator[None]:
        import signal
        import threading

        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = signal.signal(signal.SIGINT, self)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the exit status (0, 2 for any error, 130 after Ctrl-C)."""
    interrupt = _Interrupt()
    try:
        with interrupt.watching():
            return _main(argv, interrupt)
    except KeyboardInterrupt:  # between the commands' own handlers
        return _interrupted(interrupt)


def _main(argv: list[str] | None, interrupt: _Interrupt) -> int:
    try:
        status = cli.main(args=argv, prog_name="positions", standalone_mode=False)
        if isinstance(status, int) and status:  # a command's ctx.exit(status)
            return status
    except KeyboardInterrupt:
        return _interrupted(interrupt)
    except Exception as exc:
        # click turns a KeyboardInterrupt into Abort; a library may wrap it in its own error
        by_keyboard = isinstance(exc, click.Abort) and isinstance(exc.__cause__, KeyboardInterrupt)
        return _interrupted(interrupt) if interrupt.seen or by_keyboard else _failed(exc)
    return 0


def _interrupted(interrupt: _Interrupt) -> int:
    # a write is one transaction and a file is written under a temporary name: an
    # interrupted command leaves what was there before it, unless its write had committed
    written = _committed() - interrupt.committed_before
    if written:
        click.echo(
            f"Error: interrupted after {written} event(s) were recorded; the views catch up "
            "with the next command",
            err=True,
        )
    else:
        click.echo("Error: interrupted, nothing written", err=True)
    return INTERRUPTED


def _committed() -> int:
    """How many events this process has committed (`application.committed_events`; none if
    no command has opened a store)."""
    module = sys.modules.get("positions.application")
    return int(module.committed_events()) if module is not None else 0


_WRITE_ERRORS = {errno.ENOSPC, errno.EIO, errno.EFBIG, errno.EDQUOT}
"""The errors of a write that failed for want of room or of a working device."""


def _failed(exc: Exception) -> int:
    """The exit status of a command that raised ``exc``, its one-line message printed (its
    control characters escaped: a message can quote a file name or an argument)."""
    from positions.render import visible

    if isinstance(exc, PositionsError):
        for line in exc.lines():
            click.echo(f"Error: {visible(line)}", err=True)
        return 2
    if isinstance(exc, click.exceptions.Exit):
        return int(exc.exit_code)
    if isinstance(exc, click.UsageError):
        hint = (
            f" (see 'positions {exc.ctx.command_path.split(' ', 1)[1]} --help')"
            if exc.ctx and " " in exc.ctx.command_path
            else " (see 'positions --help')"
        )
        click.echo(f"Error: {visible(exc.format_message())}{hint}", err=True)
        return 2
    if isinstance(exc, click.Abort):
        click.echo("Error: aborted", err=True)
        return 2
    if isinstance(exc, BrokenPipeError | _PipeClosedError):
        _discard_stdout()
        return 0
    if isinstance(exc, OSError) and exc.errno in _WRITE_ERRORS:
        # every file is written by `files.write_file`, which names it: what is left is the
        # standard output (a table printed to a full disk, say)
        _discard_stdout()
        click.echo(f"Error: cannot write to the standard output: {exc.strerror}", err=True)
        return 2
    if _damaged(exc):
        reason = first_line(exc)
        click.echo(
            f"Error: the store is not a positions store or is damaged ({visible(reason)}): "
            "run 'positions verify'",
            err=True,
        )
        return 2
    first = visible(first_line(exc))
    click.echo(f"Error: unexpected {type(exc).__name__}: {first} (please report this)", err=True)
    return 2


def _damaged(exc: BaseException) -> bool:
    """Whether ``exc`` is SQLite's (or the library's wrapping of it) for a damaged file."""
    import sqlite3

    from eventsourcing.persistence import PersistenceError

    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, sqlite3.DatabaseError | PersistenceError) and any(
            words in str(seen) for words in ("malformed", "not a database")
        ):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
