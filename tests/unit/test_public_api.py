"""The public facade: one sorted ``__all__``, every name importable, nothing heavy at import."""

from __future__ import annotations

import subprocess
import sys

import pytest

import positions

EXPECTED = [
    "Amendment",
    "Analysis",
    "Correction",
    "NegotiationRecord",
    "NotFoundError",
    "PositionsApplication",
    "PositionsError",
    "Problem",
    "Query",
    "QueryError",
    "ScenarioError",
    "StoreError",
]


def test_the_public_names_are_pinned_and_sorted() -> None:
    assert positions.__all__ == EXPECTED


def test_every_public_name_resolves() -> None:
    for name in positions.__all__:
        assert getattr(positions, name).__name__ == name


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match=r"^module 'positions' has no attribute 'Nothing'$"):
        positions.Nothing  # noqa: B018


def test_importing_the_package_and_the_cli_loads_no_heavy_module() -> None:
    code = (
        "import sys, positions.cli; "
        "print(','.join(m for m in ('polars', 'eventsourcing', 'rich', 'pydantic', 'altair') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
