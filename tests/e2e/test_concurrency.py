"""Several real processes importing into the same store at once (SQLite file and PostgreSQL):
nothing lost, nothing duplicated; version conflicts are retried by planning again; a writer that
gives up says so and exits 2."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from positions.application import PositionsApplication
from positions.errors import ConflictError
from positions.scenario import read_scenarios
from tests.conftest import ROOT, run_cli
from tests.helpers import write_scenario
from tests.strategies import PARTIES, START, codebook

pytestmark = pytest.mark.slow

WRITERS = 4
EACH = 200


def _statements(prefix: str, count: int) -> list[dict[str, Any]]:
    out = []
    for n in range(count):
        party = PARTIES[n % len(PARTIES)]
        day = START + timedelta(days=n % 30)
        out.append(
            {
                "id": f"{prefix}-{n:04d}",
                "on": day,
                "by": party,
                "issue": "water",
                "position": ["share_all", "share_half", "share_none"][n % 3],
                "quote": f"Statement {n} of {prefix}.",
                "sources": [{"outlet": "Wire", "published": day + timedelta(days=1)}],
            }
        )
    return out


def _files(folder: Path) -> list[list[Path]]:
    """Per writer: the shared codebook, its own statements and a file every writer imports."""
    book = write_scenario(folder / "codebook.yaml", codebook())
    shared = write_scenario(
        folder / "shared.yaml",
        {"negotiation": "generated", "statements": _statements("shared", 40)},
    )
    return [
        [
            book,
            write_scenario(
                folder / f"writer-{k}.yaml",
                {"negotiation": "generated", "statements": _statements(f"w{k}", EACH)},
            ),
            shared,
        ]
        for k in range(WRITERS)
    ]


def _start(url: str, files: list[Path], env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    full = {k: v for k, v in os.environ.items() if k != "POSITIONS_STORE"}
    full.update(env or {})
    return subprocess.Popen(
        [sys.executable, "-m", "positions", "--store", url, "import", *map(str, files)],
        cwd=ROOT,
        env=full,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(writer: subprocess.Popen[str]) -> tuple[int, str, str]:
    out, err = writer.communicate(timeout=240)
    return writer.returncode, out, err


def _statement_ids(url: str) -> Counter[str]:
    app = PositionsApplication.open(url)
    try:
        record = app.get_record("generated")
        return Counter(
            e.statement.id
            for e in app.get_all_events()
            if hasattr(e, "statement") and e.originator_id != record.negotiation
        )
    finally:
        app.close()


def test_four_writers_at_once_lose_nothing_and_duplicate_nothing(
    store_url: str, tmp_path: Path
) -> None:
    writers = [_start(store_url, files) for files in _files(tmp_path)]
    results = [_finish(w) for w in writers]
    assert [code for code, _, _ in results] == [0] * WRITERS, results
    ids = _statement_ids(store_url)
    assert len(ids) == WRITERS * EACH + 40
    assert set(ids.values()) == {1}
    for k in range(WRITERS):
        assert all(ids[f"w{k}-{n:04d}"] == 1 for n in range(EACH))
    verified = run_cli("--store", store_url, "verify")
    assert verified.code == 0, verified.out
    again = [_start(store_url, files) for files in _files(tmp_path)]
    assert [_finish(w)[0] for w in again] == [0] * WRITERS
    assert _statement_ids(store_url) == ids


def test_writers_that_give_up_say_so_and_exit_2(store_url: str, tmp_path: Path) -> None:
    """With a single attempt allowed, conflicting writers either succeed or give up cleanly."""
    files = _files(tmp_path)
    writers = [_start(store_url, f, {"POSITIONS_WRITE_ATTEMPTS": "1"}) for f in files]
    results = [_finish(w) for w in writers]
    message = (
        "Error: gave up after 1 attempt(s): other writers kept changing the same streams of "
        f"store {store_url}; nothing was written, run the import again\n"
    )
    for code, out, err in results:
        assert (code, err) in ((0, ""), (2, message)), (code, out, err)
    succeeded = sum(1 for code, _, _ in results if code == 0)
    assert succeeded >= 1
    ids = _statement_ids(store_url)
    assert set(ids.values()) == {1}
    assert len(ids) == succeeded * EACH + 40


class _Interrupted(PositionsApplication):
    """Between planning and saving, another writer records the same streams (on the first
    ``times`` saves): a real conflict, at a chosen moment."""

    name = "positions"  # the same tables as PositionsApplication
    other_url: str
    other_files: list[Path]
    times = 1

    def _save(self, events: list[Any], *args: Any, **kwargs: Any) -> None:
        if self.times > 0:
            self.times -= 1
            other = PositionsApplication.open(self.other_url, create=True)
            try:
                other.import_files(self.other_files)
            finally:
                other.close()
        super()._save(events, *args, **kwargs)


def _interrupted_by_another_writer(
    store_url: str, tmp_path: Path, first: dict[str, Any], theirs: int
) -> _Interrupted:
    """A store holding ``first``, opened by a writer whose first save another writer (``theirs``
    statements ``t-…``) gets in before."""
    book = write_scenario(tmp_path / "first.yaml", first)
    other = write_scenario(
        tmp_path / "theirs.yaml",
        {"negotiation": "generated", "statements": _statements("t", theirs)},
    )
    seed = PositionsApplication.open(store_url, create=True)
    seed.import_files([book])
    seed.close()
    app = _Interrupted.open(store_url)
    assert isinstance(app, _Interrupted)
    app.other_url, app.other_files = store_url, [other]
    return app


@pytest.mark.parametrize(("attempts", "gives_up"), [("3", False), ("1", True)])
def test_a_conflict_is_retried_by_planning_again_and_a_bounded_writer_gives_up(
    store_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    attempts: str,
    gives_up: bool,
) -> None:
    monkeypatch.setenv("POSITIONS_WRITE_ATTEMPTS", attempts)
    mine = write_scenario(
        tmp_path / "mine.yaml", {"negotiation": "generated", "statements": _statements("m", 5)}
    )
    app = _interrupted_by_another_writer(store_url, tmp_path, codebook(), 5)
    try:
        if gives_up:
            with pytest.raises(ConflictError, match=r"^gave up after 1 attempt\(s\): "):
                app.import_scenarios(read_scenarios([mine]))
        else:
            result = app.import_scenarios(read_scenarios([mine]))
            assert result.statements == 5
    finally:
        app.close()
    ids = _statement_ids(store_url)
    assert set(ids.values()) == {1}
    assert sorted(ids) == sorted(
        [f"t-{n:04d}" for n in range(5)] + ([] if gives_up else [f"m-{n:04d}" for n in range(5)])
    )


@pytest.mark.parametrize(("attempts", "gives_up"), [("3", False), ("1", True)])
def test_a_correction_in_conflict_is_planned_again_like_an_import(
    store_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    attempts: str,
    gives_up: bool,
) -> None:
    """Two corrections (or a correction and an import) on one party at once failed one with
    'unexpected IntegrityError': a correction plans again on the new state, as an import does,
    and a bounded writer gives up saying so."""
    from positions.codebook import Correction

    monkeypatch.setenv("POSITIONS_WRITE_ATTEMPTS", attempts)
    book = {**codebook(), "statements": _statements("m", 3)}
    app = _interrupted_by_another_writer(store_url, tmp_path, book, 3)
    fix = Correction(statement="m-0000", reason="misread", position="share_none")
    try:
        if gives_up:
            with pytest.raises(ConflictError, match=r"^gave up after 1 attempt\(s\): "):
                app.correct("generated", fix)
        else:
            app.correct("generated", fix)
    finally:
        app.close()
    reader = PositionsApplication.open(store_url)
    try:
        kinds = [type(event).__name__ for event in reader.get_all_events()]
    finally:
        reader.close()
    assert kinds.count("CodingCorrected") == (0 if gives_up else 1)
    assert sorted(_statement_ids(store_url)) == sorted(
        [f"m-{n:04d}" for n in range(3)] + [f"t-{n:04d}" for n in range(3)]
    )
