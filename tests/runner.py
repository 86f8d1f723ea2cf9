"""Running the CLI from a test: in process (the default), or in a real process when the process
itself is what a test is about.

``run_cli`` calls ``positions.cli.main``, the function the ``positions`` console script calls,
with standard input, output and error captured and the environment set as for a subprocess
(``POSITIONS_STORE`` removed, ``COLUMNS=200``, ``NO_COLOR=1``), in the style of click's
``CliRunner``. Errors therefore come out as they do for a user: ``Error: …`` on standard error and
the exit status ``main()`` returns.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner

ROOT = Path(__file__).resolve().parent.parent
BASE_ENV: dict[str, str | None] = {
    "POSITIONS_STORE": None,
    "POSITIONS_NEGOTIATION": None,
    "COLUMNS": "200",
    "NO_COLOR": "1",
}


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str


@contextmanager
def _working_directory(folder: Path | None) -> Iterator[None]:
    if folder is None:
        yield
        return
    before = Path.cwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(before)


def run_cli(
    *args: str,
    cwd: Path | None = None,
    env: Mapping[str, str | None] | None = None,
    input: str | bytes | None = None,
) -> Run:
    """Run ``positions ARGS...`` in this process through the real entry point."""
    from positions.cli import main

    full_env: dict[str, str | None] = {**BASE_ENV, **(env or {})}
    runner = CliRunner()
    with (
        _working_directory(cwd or ROOT),
        runner.isolation(input=input, env=full_env) as (out, err, _),
    ):
        try:
            code = main(list(args))
        except SystemExit as exc:  # shell completion exits the way click does, with sys.exit
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        sys.stdout.flush()
        sys.stderr.flush()
        return Run(code, out.getvalue().decode("utf-8"), err.getvalue().decode("utf-8"))


def process_env(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a real ``positions`` process: this one's, set as ``run_cli`` sets it."""
    full_env = {k: v for k, v in os.environ.items() if k != "POSITIONS_STORE"}
    full_env.update({k: v for k, v in BASE_ENV.items() if v is not None})
    full_env.update(env or {})
    return full_env


def run_process(*args: str, cwd: Path | None = None, env: Mapping[str, str] | None = None) -> Run:
    """Run the real entry point (``python -m positions``) in a subprocess."""
    done = subprocess.run(
        [sys.executable, "-m", "positions", *args],
        capture_output=True,
        text=True,
        cwd=cwd or ROOT,
        env=process_env(env),
        check=False,
        timeout=120,
    )
    return Run(done.returncode, done.stdout, done.stderr)
