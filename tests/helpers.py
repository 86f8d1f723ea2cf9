"""Given/when/then helpers shared by the tests: scenarios as text, stores, tables."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import polars as pl
import yaml

from positions.application import PositionsApplication
from positions.codebook import NONCOMMITTAL
from positions.projections import Query


def write_scenario(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


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
