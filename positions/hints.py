"""Hints in error messages: the nearest known name to a misspelt one, and lists of names kept
short. Pure functions over strings; the messages that use them are written where the problem
is found."""

from __future__ import annotations

from collections.abc import Iterable

LISTED = 20
"""The most names a message lists; the rest are counted."""


def nearest(value: str, choices: Iterable[str]) -> str | None:
    """The known name ``value`` was most likely meant to be: the same name in another case,
    else the closest by `difflib` (at least 0.75 alike), else None."""
    names = [c for c in dict.fromkeys(choices) if c != value]
    folded = value.casefold()
    for name in names:
        if name.casefold() == folded:
            return name
    import difflib  # only when a message is made: not at every command's start

    close = difflib.get_close_matches(value, names, n=1, cutoff=0.75)
    return close[0] if close else None


def did_you_mean(value: str, choices: Iterable[str]) -> str:
    """``": did you mean 'x'?"`` for the nearest known name, or nothing."""
    name = nearest(value, choices)
    return f": did you mean '{name}'?" if name is not None else ""


def listing(names: Iterable[str], limit: int = LISTED) -> str:
    """Sorted names separated by commas, at most ``limit`` of them and a count of the rest;
    ``none defined`` when there are none."""
    ordered = sorted(dict.fromkeys(names))
    if not ordered:
        return "none defined"
    shown = ", ".join(ordered[:limit])
    rest = len(ordered) - limit
    return f"{shown} and {rest:,} more" if rest > 0 else shown


def unknown(kind: str, value: str, known: Iterable[str]) -> str:
    """``unknown party 'Russia' (known: russia, ukraine, us): did you mean 'russia'?``"""
    names = list(known)
    return f"unknown {kind} '{value}' (known: {listing(names)}){did_you_mean(value, names)}"
