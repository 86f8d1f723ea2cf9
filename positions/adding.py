"""One statement given field by field (`positions add`), as the scenario an import takes.

The fields are those of a scenario file's statement (`scenario.StatementInput`), checked by the
same models and then planned by the same planner as `positions import`; only the place a
problem is reported differs: the option that gave the field (``--on: expected a date ...``)
instead of a file's line. Pure: the command reads the options and the store, this module
builds the scenario.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import zip_longest
from typing import Any

from pydantic import ValidationError

from positions import messages
from positions.codebook import URL
from positions.domain import NEW_SPEAKER, TAKEN
from positions.drafts import Located, Scenario, StatementDraft
from positions.errors import Origin, Problem, QueryError, ScenarioError
from positions.scenario import LoaderError, ScenarioFile, StatementInput, parse_text

COMMAND = "add"
"""What a problem that belongs to no one option is reported against."""

FLAGS: dict[str, str] = {
    **{name: "--" + name.replace("_", "-") for name in StatementInput.model_fields},
    "terms": "--term",
    "conditions": "--condition",
    "sources": "--source-url",
}
"""The option that gives each field of a statement."""

SOURCE_FLAGS = {"url": "--source-url", "outlet": "--outlet", "published": "--published"}
SPEAKER_FLAGS = {"id": "--by", "name": "--new-speaker", "party": "--party", "role": "--role"}
SPEAKER_FLAGS |= {"rank": "--rank"}


@dataclass(frozen=True)
class FlagOrigin(Origin):
    """Where a field of `positions add` came from: its option."""

    def problem(self, message: str, field: str | None = None) -> Problem:
        flag = FLAGS.get(field or "") if field != "id" else None
        message = message.replace(NEW_SPEAKER, "(define one with --new-speaker NAME --party P)")
        return Problem(flag or self.file, 0, message)


STATEMENT_FIELDS = (
    "by",
    "party",
    "on",
    "issue",
    "position",
    "verdict",
    "proposal",
    "clarifies",
    "retracts",
    "about",
    "quote",
    "quote_original",
    "language",
    "attribution",
    "confidence",
    "channel",
    "notes",
)
"""The options of `positions add` that give a statement's field as they are."""


def fields(given: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any] | None, str | None]:
    """The statement (without its id) and the new speaker that the options of `positions
    add` give, and what the statement is about (for its derived id)."""
    speaker = None
    if given["new_speaker"] is not None:
        if isinstance(given["party"], list):
            raise QueryError("--new-speaker speaks for one party: give one --party")
        speaker = {"id": given["by"], "name": given["new_speaker"], "party": given["party"]}
        speaker |= {k: given[k] for k in ("role", "rank") if given[k] is not None}
    elif given["role"] is not None or given["rank"] is not None:
        raise QueryError("--role and --rank describe a --new-speaker: give its name too")
    statement = {name: given[name] for name in STATEMENT_FIELDS if given[name] is not None}
    statement["terms"] = terms(given["terms"])
    statement["conditions"] = list(given["conditions"])
    statement["sources"] = sources(given["urls"], given["outlets"], given["published"])
    what = given["issue"] or given["proposal"]
    if what is None and given["retracts"]:
        what = "retraction"
    elif what is None and given["clarifies"]:
        what = "clarification"
    return statement, speaker, what


def terms(pairs: tuple[str, ...]) -> dict[str, Any]:
    """``--term KEY=VALUE`` options as a statement's terms: each value read as a scenario
    file's scalar (``30`` a number, ``true`` a flag, anything else text)."""
    found: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise QueryError(f"--term {pair!r}: expected KEY=VALUE, e.g. duration_days=30")
        try:
            parsed = parse_text(value) if value.strip() else value
        except LoaderError:
            parsed = value
        found[key.strip()] = parsed if isinstance(parsed, str | int | float | bool) else value
    return found


def taken(exc: ScenarioError, sid: str) -> bool:
    """Whether the only problem is that ``sid`` holds another statement already."""
    return bool(exc.problems) and all(
        p.message.startswith(f"statement '{sid}' {TAKEN}") for p in exc.problems
    )


def sources(
    urls: tuple[str, ...], outlets: tuple[str, ...], published: tuple[str, ...]
) -> list[Any]:
    """The sources of ``--source-url``, ``--outlet`` and ``--published``, paired in the order
    given; a URL alone is written as such (its outlet is then its host: `codebook.Source`)."""
    found: list[Any] = []
    for url, outlet, day in zip_longest(urls, outlets, published):
        if url is not None and not URL.match(url):
            fix = messages.url_problem(url)
            raise ScenarioError([Problem("--source-url", 0, f"{url!r}: {fix}")])
        if outlet is None and day is None:
            found.append(url)
            continue
        source = {"outlet": outlet, "url": url, "published": day}
        found.append({k: v for k, v in source.items() if v is not None})
    return found


_MOMENT = re.compile(r"^(\d{4}-\d{2}-\d{2})[T ](\d{2}):(\d{2})")
"""The day, hours and minutes of a date-time as written."""


def derived_id(who: str | None, on: str | None, what: str | None, attempt: int = 1) -> str:
    """A readable id for a statement given without one: its speaker (or party), its date and
    its issue (or proposal, or kind), ``peskov-2025-03-13-ceasefire``; ``-2``, ``-3`` … for the
    next attempts, when the id is taken by another statement. A time of day is written as
    its hours and minutes as given (``peskov-2025-03-13-1800-ceasefire``)."""
    if on is not None:
        moment = _MOMENT.match(on.strip())
        if moment:
            on = f"{moment.group(1)}-{moment.group(2)}{moment.group(3)}"
    parts = [p for p in (who, on, what) if p]
    text = "-".join(parts) or "statement"
    slug = re.sub(r"[^a-z0-9_.]+", "-", text.lower()).strip("-.") or "statement"
    suffix = f"-{attempt}" if attempt > 1 else ""
    return slug[: 100 - len(suffix)].rstrip("-.") + suffix


def scenario(
    negotiation: str, statement: dict[str, Any], speaker: dict[str, Any] | None = None
) -> Scenario:
    """The scenario that records ``statement`` (and defines ``speaker``) in ``negotiation``;
    a `ScenarioError` naming the option of each field that is not right."""
    document: dict[str, Any] = {"negotiation": negotiation, "statements": [statement]}
    if speaker is not None:
        document["speakers"] = [speaker]
    try:
        model = ScenarioFile.model_validate(document)
    except ValidationError as exc:
        problems = [
            Problem(_flag(messages.location(error)), 0, messages.message(error, ScenarioFile))
            for error in exc.errors()
        ]
        raise ScenarioError(problems) from None
    origin = FlagOrigin(COMMAND, 0)
    return Scenario(
        path=COMMAND,
        negotiation=model.negotiation,
        title=None,
        origin=origin,
        parties=(),
        speakers=tuple(Located(s, origin) for s in model.speakers),
        issues=(),
        proposals=(),
        statements=tuple(Located(StatementDraft.of(s), origin) for s in model.statements),
        developments=(),
    )


def _flag(loc: tuple[Any, ...]) -> str:
    """The option behind the field at ``loc`` of the scenario `scenario` builds."""
    if loc[:1] == ("negotiation",):
        return "--negotiation"
    if loc[:1] == ("speakers",) and len(loc) >= 3:
        return SPEAKER_FLAGS.get(str(loc[2]), "--new-speaker")
    if len(loc) < 3:
        return COMMAND
    field = str(loc[2])
    if field == "sources" and len(loc) >= 5:
        return SOURCE_FLAGS.get(str(loc[4]), "--source-url")
    return FLAGS.get(field, COMMAND)
