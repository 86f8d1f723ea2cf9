"""positions: an event-sourced record of what each party in a negotiation has publicly stated.

The public names are loaded on first use, so that ``positions --help`` starts quickly.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_WHERE = {
    "Amendment": "positions.codebook",
    "Analysis": "positions.projections",
    "Correction": "positions.codebook",
    "NegotiationRecord": "positions.timeline",
    "NotFoundError": "positions.errors",
    "PositionsApplication": "positions.application",
    "PositionsError": "positions.errors",
    "Problem": "positions.errors",
    "Query": "positions.projections",
    "QueryError": "positions.errors",
    "ScenarioError": "positions.errors",
    "StoreError": "positions.errors",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'positions' has no attribute {name!r}")
