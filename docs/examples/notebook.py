"""The Python facade of `positions`, as a notebook would use it (docs/api.md).

Run from the repository root:

    .venv/bin/python docs/examples/notebook.py

It imports the seed and the river example into a throwaway SQLite store, asks the analysis
questions, corrects one statement's date and reads the record as it stood before the correction.
"""

from __future__ import annotations

import tempfile
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl

from positions import Analysis, Correction, PositionsApplication

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
SEED = FIXTURES / "ukraine-2025-03-13.yaml"
RIVER = FIXTURES / "example-river-talks.yaml"

pl.Config.set_tbl_width_chars(120)
pl.Config.set_fmt_str_lengths(50)
pl.Config.set_tbl_hide_dataframe_shape(True)
pl.Config.set_tbl_hide_column_data_types(True)

with tempfile.TemporaryDirectory() as folder:
    # Open (and create) a store, and import scenario files into it: all or nothing.
    app = PositionsApplication.open(f"sqlite:///{folder}/notebook.db", create=True)
    result = app.import_files([SEED, RIVER])
    print(f"imported {result.statements} statements into {', '.join(result.negotiations)}")

    # One negotiation's record, and the analysis over it.
    seed = Analysis(app.get_record("ukraine-2025"))

    # Each party's position, as of a day; the same columns as `stance --format json`.
    stance = seed.stance(date(2025, 3, 12), party="russia")
    print(stance.select("issue", "position", "rank", "shift", "statement_id"))

    # Verdicts on proposals, gaps and pairwise rank distances.
    verdicts = seed.proposals()
    print(verdicts.select("party", "verdict", "statement_id"))
    print(seed.gaps().select("issue", "holders", "spread", "shared"))
    print(seed.gap_pairs(issue="ceasefire").filter(pl.col("distance") > 0).height, "pairs apart")

    # What changed between two days, and why a stance is what it is.
    print(seed.diff(date(2025, 3, 12), date(2025, 3, 13)).select("party", "issue", "shift"))
    print(seed.explain("russia", "ceasefire").select("step", "statement_id", "rule"))

    # The compromise outlook needs capabilities and saliences: the river example has them.
    river = Analysis(app.get_record("river-talks"))
    outlook = river.outlook(issue="flow_share").row(0, named=True)
    print(
        f"flow_share: weighted mean {outlook['weighted_mean']} ({outlook['mean_position']}), "
        f"weighted median {outlook['weighted_median']} ({outlook['median_position']})"
    )

    # Correct a coding; the original stays in the record and `known_at` reads it back.
    before = datetime.now(UTC)  # known_at must carry a time zone
    app.correct(
        "ukraine-2025",
        Correction(
            statement="ushakov-waltz-call-temporary-respite",
            on="2025-03-13",
            reason="dated when Ushakov gave his account",
        ),
    )
    for label, known_at in (("as first recorded", before), ("after the correction", None)):
        record = app.get_record("ukraine-2025", known_at=known_at)
        verdicts = Analysis(record).proposals(date(2025, 3, 12))
        russia = verdicts.filter(pl.col("party") == "russia").row(0, named=True)
        print(f"russia's verdict as of 2025-03-12, {label}: {russia['verdict']}")
    app.close()
