"""Given/when/then helpers shared by the tests: scenarios as text, stores, tables."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
import yaml

from positions.application import PositionsApplication
from positions.codebook import NONCOMMITTAL
from positions.projections import Query
from positions.scenario import parse_scenario
from tests.strategies import codebook


def write_scenario(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def one_statement(path: Path, **fields: Any) -> Path:
    """A JSON scenario at ``path``: the generated codebook and one statement of alpha on water
    (``fields`` replace or add to its fields). An infinite number is written as 1e999, which
    JSON reads as one (and a text "Infinity" stays a text)."""
    import json

    from tests.strategies import codebook

    statement = {
        "id": "s1",
        "on": "2025-01-05",
        "by": "alpha",
        "issue": "water",
        "position": "share_all",
        "quote": "q",
        "sources": [{"outlet": "Wire"}],
        **fields,
    }
    marker = "\u0000infinity\u0000"  # stands for an infinite number, not a text that says so

    def marked(value: Any) -> Any:
        if isinstance(value, float) and value in (float("inf"), float("-inf")):
            return marker if value > 0 else "-" + marker
        if isinstance(value, dict):
            return {k: marked(v) for k, v in value.items()}
        if isinstance(value, list):
            return [marked(v) for v in value]
        return value

    text = json.dumps(marked({**codebook(), "statements": [statement]}), default=str)
    text = text.replace(json.dumps("-" + marker), "-1e999").replace(json.dumps(marker), "1e999")
    path.write_text(text, encoding="utf-8")
    return path


def store_with_one_statement(folder: Path, **fields: Any) -> str:
    """The URL of an SQLite store in ``folder`` holding `one_statement`."""
    from tests.runner import run_cli

    store = f"sqlite:///{folder / 'store.db'}"
    imported = run_cli(
        "--store", store, "import", str(one_statement(folder / "one.json", **fields))
    )
    assert imported.code == 0, imported.err
    return store


def tables(app: PositionsApplication, as_of: Any = None) -> dict[str, pl.DataFrame]:
    """Every projection of the store's only negotiation."""
    query = Query(app.get_record(app.resolve_negotiation(None)))
    frames = {
        "stance": query.stance(as_of, claims=True),
        "compare": query.compare(as_of),
        "proposals": query.proposals(as_of),
        "history": query.history(as_of=as_of),
    }
    # the recording clock differs from one store to another; every other column must agree
    return {name: frame.drop("recorded_at", strict=False) for name, frame in frames.items()}


def assert_same_tables(left: dict[str, pl.DataFrame], right: dict[str, pl.DataFrame]) -> None:
    from polars.testing import assert_frame_equal

    assert left.keys() == right.keys()
    for name in left:
        assert_frame_equal(left[name], right[name], check_row_order=True)


def memory_app() -> PositionsApplication:
    return PositionsApplication.open("memory://")


def yaml_text(data: dict[str, Any]) -> str:
    """A scenario document as YAML text, written by libyaml's emitter (fast)."""
    return yaml.dump(data, Dumper=yaml.CSafeDumper, sort_keys=False, allow_unicode=True)


def import_parts(app: PositionsApplication, files: list[dict[str, Any]]) -> None:
    """Import scenario documents as YAML files (``part-N.yaml``), in one import."""
    scenarios = [parse_scenario(yaml_text(data), f"part-{n}.yaml") for n, data in enumerate(files)]
    app.import_scenarios(scenarios)


GENERATED_AT = datetime(2026, 1, 1, tzinfo=UTC)


def generated_app(stmts: list[dict[str, Any]]) -> PositionsApplication:
    """An in-memory store holding the generated codebook and ``stmts``, recorded at
    `GENERATED_AT`."""
    app = memory_app()
    scenario = parse_scenario(yaml_text({**codebook(), "statements": stmts}), "g.yaml")
    app.import_scenarios([scenario], now=GENERATED_AT)
    return app


def import_all(app: PositionsApplication, paths: Iterable[Path]) -> None:
    app.import_files(list(paths))


def effective_position(steps: Iterable[Any]) -> Any:
    """R5 and R6 read literally, the oracle of the properties: the step that sets a stance,
    from the steps in force for one party and issue, in order.

    The latest step with a position on the scale wins; a noncommittal step sets the stance only
    when no step has a position on the scale (saying nothing does not withdraw a position).
    """
    committed: Any = None
    noncommittal: Any = None
    for step in steps:
        if step.position is None:
            continue
        if step.position == NONCOMMITTAL:
            noncommittal = step
        else:
            committed = step
    return committed or noncommittal


SEED_IMPORTED = (
    "Recorded 11 statement(s) and 19 definition(s) in ukraine-2025 (47 events).\n"
    "moved: russia on ceasefire: — → settlement_first (peskov-not-a-rejection)\n"
    "moved: russia on foreign_troops: — → no_foreign_troops (zakharova-under-any-flag)\n"
    "moved: russia on nato: — → off_the_table (ushakov-no-talk-about-nato)\n"
    'moved: ukraine on ceasefire: — → temporary_ceasefire {"duration_days": 30, "scope": "entire front line"} (ukraine-accepts-30-day-ceasefire)\n'
    'moved: us on ceasefire: — → temporary_ceasefire {"duration_days": 30, "scope": "entire front line"} (us-30-day-ceasefire)\n'
    "moved: us on foreign_troops: — → noncommittal (rubio-deterrent-on-the-ground)\n"
    "moved: us on nato, claimed by russia: — → off_the_table (ushakov-claims-us-nato-off-the-table)\n"
    "moved: russia on us-30-day-ceasefire: — → undecided (peskov-not-a-rejection)\n"
    "moved: ukraine on us-30-day-ceasefire: — → accept (ukraine-accepts-30-day-ceasefire)\n"
    "moved: us on us-30-day-ceasefire: — → accept (us-30-day-ceasefire)\n"
    "set no cell in force: 5 statement(s): kremlin-ruled-out-temporary-ceasefire, moscow-no-nato-country-troops, trump-up-to-russia, ushakov-long-term-settlement, ushakov-waltz-call-temporary-respite\n"
)
"""What importing the seed into a new store prints: the counts, each cell it set, and the
statements that set none."""


def cli_json(url: str, *command: str) -> list[dict[str, Any]]:
    """The rows a query command prints with ``--format json`` (it must succeed)."""
    from tests.runner import run_cli

    result = run_cli("--store", url, *command, "--format", "json")
    assert result.code == 0, result.err
    found: list[dict[str, Any]] = json.loads(result.out)
    return found


def exported_statements(url: str) -> list[dict[str, Any]]:
    """The rows of ``export --what statements`` (jsonl, to the standard output)."""
    from tests.runner import run_cli

    out = run_cli("--store", url, "export", "--what", "statements", "--format", "jsonl", "-").out
    return [json.loads(line) for line in out.splitlines()]


def import_text(url: str, path: Path, text: str) -> str:
    """Write ``text`` to ``path`` and import it with the CLI (it must succeed): its output."""
    from tests.runner import run_cli

    path.write_text(text, encoding="utf-8")
    done = run_cli("--store", url, "import", str(path))
    assert (done.code, done.err) == (0, ""), done.err
    return done.out


def copied_through_a_scenario(url: str, folder: Path) -> tuple[str, str]:
    """A new SQLite store in ``folder`` made by importing ``export --what scenario`` of
    ``url``: its URL, and the exported file's text."""
    from tests.runner import run_cli

    exported = folder / "exported.yaml"
    done = run_cli("--store", url, "export", "--what", "scenario", str(exported))
    assert done.code == 0, done.err
    copy = f"sqlite:///{folder / 'copy.db'}"
    imported = run_cli("--store", copy, "import", str(exported))
    assert imported.code == 0, imported.err
    return copy, exported.read_text(encoding="utf-8")
