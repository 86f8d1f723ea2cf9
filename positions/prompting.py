"""`positions add -i`: ask on the terminal for each field of a statement that no option gave,
offering the negotiation's choices (its speakers and parties, issues, the labels of an issue's
scale with their descriptions, its proposals), with Tab completion where the terminal has
readline (the prompts are written to the standard output: Python's ``input`` edits a line
with readline only there). The answers are the options' values: `positions add` checks them
as it checks options. An answer that is not one of a field's choices, or a date that does not
read as one, is said so on the spot and asked again (an empty answer to an optional field
leaves it out)."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import click

from positions.codebook import NONCOMMITTAL, Attribution, Confidence, StatedOn, Verdict
from positions.domain import Negotiation
from positions.hints import did_you_mean


def ask(negotiation: Negotiation, given: dict[str, Any]) -> dict[str, Any]:
    """``given`` with each missing field asked for (an empty answer leaves an optional one
    out)."""
    answers = dict(given)

    def field(
        name: str,
        text: str,
        choices: Sequence[tuple[str, str]] = (),
        required: bool = False,
        check: Callable[[str], str | None] | None = None,
    ) -> None:
        if answers.get(name) is not None:
            return
        keys = [key for key, _ in choices]
        if check is None and choices:
            check = functools.partial(_one_of, keys)
        if choices and all(meaning for _, meaning in choices):
            width = max(len(key) for key, _ in choices)
            for key, meaning in choices:
                click.echo(f"  {key:<{width}}  {meaning}")
        elif choices:
            text = f"{text} [{'/'.join(key for key, _ in choices)}]"
        while True:
            with _completion(keys):
                value = click.prompt(
                    text, default="" if not required else None, show_default=False
                ).strip()
            problem = check(value) if check is not None and value else None
            if problem is None:
                break
            click.echo(f"  {problem}; try again")
        answers[name] = value or None

    speakers = [(s.id, f"{s.name}, {s.party}") for s in negotiation.speakers.values()]
    parties = [(p.id, p.name) for p in negotiation.parties.values()]
    new_speaker = answers.get("new_speaker") is not None
    field(
        "by",
        "Who spoke (a speaker or a party)",
        [*speakers, *parties],
        required=True,
        check=(lambda value: None) if new_speaker else None,  # a speaker defined here
    )
    field("on", "When (YYYY-MM-DD, or before YYYY-MM-DD)", required=True, check=_date)
    issues = [(i.id, i.question) for i in negotiation.issues.values()]
    field("issue", "The issue (empty: none)", issues)
    issue = negotiation.issues.get(answers.get("issue") or "")
    if issue is not None:
        labels = [(p.label, p.description) for p in issue.scale]
        labels.append((NONCOMMITTAL, "said something, but took no position on the scale"))
        field("position", "The position", labels)
    proposals = [
        (p.id, p.title or f"{', '.join(p.proposers)} on {', '.join(p.issues)}")
        for p in negotiation.proposals.values()
    ]
    if proposals:
        field("proposal", "The proposal it answers (empty: none)", proposals)
    if answers.get("proposal"):
        field("verdict", "The verdict", [(v.value, "") for v in Verdict])
    field("quote", "The words as reported", required=True)
    if not answers.get("urls") and not answers.get("outlets"):
        url = click.prompt("The source's URL (empty: none)", default="", show_default=False)
        outlet = click.prompt("The outlet (empty: the URL's host)", default="", show_default=False)
        answers["urls"] = (url.strip(),) if url.strip() else ()
        answers["outlets"] = (outlet.strip(),) if outlet.strip() else ()
    field("attribution", "Attribution (empty: direct)", [(a.value, "") for a in Attribution])
    field("confidence", "Confidence (empty: high)", [(c.value, "") for c in Confidence])
    return answers


def _one_of(keys: Sequence[str], value: str) -> str | None:
    """Why ``value`` is not one of ``keys`` (None if it is)."""
    if value in keys:
        return None
    return f"'{value}' is not one of the choices{did_you_mean(value, keys)}"


def _date(value: str) -> str | None:
    """Why ``value`` is not a statement's date (None if it is)."""
    from pydantic import ValidationError

    try:
        StatedOn.model_validate(value)
    except ValidationError:
        return (
            f"'{value}' is not a date: write YYYY-MM-DD, YYYY-MM-DDTHH:MM (a time of day), "
            "or before YYYY-MM-DD"
        )
    return None


@contextlib.contextmanager
def _completion(words: list[str]) -> Iterator[None]:
    """Tab completes ``words`` while a prompt waits (where Python has readline)."""
    try:
        import readline
    except ImportError:  # pragma: no cover - a Python without readline: no completion
        yield
        return

    def complete(text: str, state: int) -> str | None:
        found = [w for w in words if w.startswith(text)]
        return found[state] if state < len(found) else None

    before = readline.get_completer()
    readline.set_completer(complete)
    readline.set_completer_delims(" \t")
    readline.parse_and_bind("tab: complete")
    try:
        yield
    finally:
        readline.set_completer(before)
