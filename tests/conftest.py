from __future__ import annotations

import os
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from tests.runner import ROOT, Run, run_cli, run_process
from tests.stores import BACKENDS, any_store, postgres_problem, vacuum_catalogs

__all__ = ["GOLDEN", "ROOT", "SEED", "Run", "run_cli", "run_process"]

SEED = ROOT / "fixtures" / "ukraine-2025-03-13.yaml"
GOLDEN = Path(__file__).resolve().parent / "golden"

settings.register_profile(
    "dev", max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "ci",
    max_examples=20,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(  # HYPOTHESIS_PROFILE=fuzz: a long run of the hostile-input tests
    "fuzz", max_examples=2_000, deadline=None, suppress_health_check=list(HealthCheck)
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


def pytest_sessionstart(session: pytest.Session) -> None:
    """Once per run (in the controller, not each xdist worker): the catalogs of the test
    server vacuumed of what earlier runs left (`tests.stores.vacuum_catalogs`)."""
    if not hasattr(session.config, "workerinput") and postgres_problem() is None:
        vacuum_catalogs(os.environ["POSITIONS_TEST_POSTGRES"])


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--regen-golden",
        action="store_true",
        default=False,
        help="rewrite the golden files under tests/golden/ instead of comparing with them",
    )


@pytest.fixture
def regen_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--regen-golden"))


@pytest.fixture
def store(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'store.db'}"


@pytest.fixture(scope="session")
def seed_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite store with the seed scenario imported, made once per test session (per worker
    under pytest-xdist); tests get copies of it from ``seeded``."""
    path = tmp_path_factory.mktemp("seed-template") / "store.db"
    result = run_cli("--store", f"sqlite:///{path}", "import", str(SEED))
    assert (result.code, result.err) == (0, ""), result.err
    conn = sqlite3.connect(path)
    try:  # everything into the main file, so that copying it alone copies the store
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    return path


@pytest.fixture
def seeded(seed_template: Path, tmp_path: Path) -> str:
    """The URL of this test's own SQLite store holding the seed scenario, as ``positions import``
    of the seed leaves it."""
    target = tmp_path / "store.db"
    for suffix in ("", "-wal", "-shm"):
        source = seed_template.with_name(seed_template.name + suffix)
        if source.exists():
            shutil.copyfile(source, target.with_name(target.name + suffix))
    return f"sqlite:///{target}"


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A store that does not exist yet: an SQLite file, or a fresh PostgreSQL schema."""
    with any_store(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def seeded_url(store_url: str, seed_template: Path) -> str:
    """``store_url`` holding the seed scenario: a copy of the session's template on SQLite, an
    import on PostgreSQL (a schema cannot be copied as a file can)."""
    if store_url.startswith("sqlite:///"):
        target = Path(store_url.removeprefix("sqlite:///"))
        shutil.copyfile(seed_template, target)
        return store_url
    result = run_cli("--store", store_url, "import", str(SEED))
    assert (result.code, result.err) == (0, ""), result.err
    return store_url


LEVELS = ("unit", "integration", "e2e")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test with its level: the folder it is in (``tests/unit``, ``tests/integration``,
    ``tests/e2e``), or ``integration`` for a file directly under ``tests/`` that names no level
    itself."""
    here = Path(__file__).resolve().parent
    for item in items:
        if any(item.get_closest_marker(level) for level in LEVELS):
            continue
        folder = item.path.resolve().parent
        level = folder.name if folder.parent == here and folder.name in LEVELS else "integration"
        item.add_marker(getattr(pytest.mark, level))
