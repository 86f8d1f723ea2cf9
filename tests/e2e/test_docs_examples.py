"""The example code of docs/api.md runs as a script and prints what the page says."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
NOTEBOOK = ROOT / "docs" / "examples" / "notebook.py"


def test_the_notebook_example_runs_and_reads_the_record_before_a_correction() -> None:
    done = subprocess.run(
        [sys.executable, str(NOTEBOOK)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "imported 19 statements into ukraine-2025, river-talks"
    assert "russia's verdict as of 2025-03-12, as first recorded: reject" in lines
    assert "russia's verdict as of 2025-03-12, after the correction: None" in lines
    assert (
        "flow_share: weighted mean 2.1333 (guaranteed_minimum), "
        "weighted median 3.0 (seasonal_minimum)"
    ) in lines
