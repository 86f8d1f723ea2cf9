"""Value types of the record: parties, speakers, issues and their scales, proposals, statements.

These are the payloads of the events in `positions.events` and the records of scenario files.
They validate themselves (pydantic, ``extra="forbid"``); rules that need the whole negotiation
(does this speaker exist, is this label on the scale) live in `positions.domain`.
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter
from datetime import date, datetime, timedelta
from datetime import time as TimeOfDay
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any, Literal, Self
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    StringConstraints,
    Tag,
    TypeAdapter,
    WithJsonSchema,
    field_validator,
    model_validator,
)

if TYPE_CHECKING:
    from pydantic import GetJsonSchemaHandler
    from pydantic.json_schema import JsonSchemaValue
    from pydantic_core import CoreSchema

NONCOMMITTAL = "noncommittal"
"""The position of a statement that said something but took no position on the issue's scale."""

Slug = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z0-9][a-z0-9_.-]{0,99}$"),
]
"""An id: lower-case letters, digits, ``_``, ``-`` and ``.``, starting with a letter or digit."""

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20_000)]
"""Free text that may not be empty."""

SAFE_INTEGER = 2**53 - 1
"""The largest integer a JSON number holds exactly everywhere (a double's integer range)."""

TERM_TEXT_LIMIT = 1_000
"""The longest text a term takes (a term is a condition's value, not a document)."""

SCALE_LIMIT = 100
"""The most points an issue's scale has."""

LIST_LIMIT = 50
"""The most sources, conditions or terms one record has."""


def _term_value(value: Any) -> Any:
    """A term as the store can hold it and every later command read back: an integer within
    ±`SAFE_INTEGER`, a finite number, a text of at most `TERM_TEXT_LIMIT` characters."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and abs(value) > SAFE_INTEGER:
        raise ValueError(
            f"an integer term must lie within ±{SAFE_INTEGER:,} (what a JSON number holds "
            "exactly): write a larger one as text"
        )
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("a term must be a finite number, not infinity or NaN")
    if isinstance(value, str) and len(value) > TERM_TEXT_LIMIT:
        raise ValueError(f"a term's text is limited to {TERM_TEXT_LIMIT:,} characters")
    return value


TermValue = Annotated[str | int | float | bool, AfterValidator(_term_value)]

Language = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")]
"""A BCP 47 language tag such as ``ru`` or ``uk`` (lower-case primary subtag)."""


class Record(BaseModel):
    """Base of every value type: immutable, and unknown fields are errors."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class SpeakerRank(StrEnum):
    HEAD_OF_STATE = "head_of_state"
    MINISTER = "minister"
    ENVOY = "envoy"
    SPOKESPERSON = "spokesperson"
    AIDE = "aide"
    OFFICIAL = "official"
    ANONYMOUS_SOURCE = "anonymous_source"


class Verdict(StrEnum):
    ACCEPT = "accept"
    ACCEPT_WITH_CONDITIONS = "accept_with_conditions"
    UNDECIDED = "undecided"
    REJECT = "reject"


class Attribution(StrEnum):
    DIRECT = "direct"
    PARAPHRASE = "paraphrase"
    ANONYMOUS_SOURCE = "anonymous_source"
    CLAIM = "claim"


class Confidence(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class Kind(StrEnum):
    """What a statement does to the record (derived from its fields, never written by hand)."""

    POSITION = "position"
    CLARIFICATION = "clarification"
    RETRACTION = "retraction"
    CLAIM = "claim"


Weight = Annotated[
    int | float,
    Field(ge=0, le=100),
    WithJsonSchema({"type": "number", "minimum": 0, "maximum": 100}),
]
"""A salience or capability: 0 to 100 (the JSON Schema says so itself: pydantic writes a
union's bounds in words no checker reads)."""


class Party(Record):
    id: Slug
    name: Text
    capability: Weight | None = None


class Speaker(Record):
    id: Slug
    name: Text
    party: Slug
    role: Text | None = None
    rank: SpeakerRank = SpeakerRank.OFFICIAL


class ScalePoint(Record):
    label: Slug
    description: Text

    @field_validator("label")
    @classmethod
    def _not_reserved(cls, label: str) -> str:
        if label == NONCOMMITTAL:
            raise ValueError(f"'{NONCOMMITTAL}' is reserved and cannot be a point on a scale")
        return label


class Issue(Record):
    id: Slug
    title: Text | None = None
    question: Text
    scale: tuple[ScalePoint, ...] = Field(min_length=2, max_length=SCALE_LIMIT)
    plover_mode: Literal["assist", "change", "yield", "meet"] | None = None
    """PLOVER mode of a REJECT on this issue (e.g. `yield` for a refused ceasefire)."""

    @field_validator("scale")
    @classmethod
    def _labels_unique(cls, scale: tuple[ScalePoint, ...]) -> tuple[ScalePoint, ...]:
        counts = Counter(p.label for p in scale)  # linear: a scale may be long
        twice = sorted(label for label, count in counts.items() if count > 1)
        if twice:
            raise ValueError(f"scale labels must be unique; repeated: {', '.join(twice)}")
        return scale

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(p.label for p in self.scale)

    @functools.cached_property
    def _ranks(self) -> dict[str, int]:
        return {p.label: n for n, p in enumerate(self.scale, start=1)}

    def on_scale(self, label: str) -> bool:
        return label in self._ranks

    def rank(self, position: str | None) -> int | None:
        """1-based rank of a position on the scale; None for noncommittal or no position."""
        if position is None or position == NONCOMMITTAL:
            return None
        rank = self._ranks.get(position)
        if rank is None:
            raise ValueError(f"{position!r} is not on the scale of issue '{self.id}'")
        return rank


URL = re.compile(r"^https?://\S+$")


class Source(Record):
    """Where a statement was reported. Written as a bare URL, it is a source whose outlet is
    the URL's host without ``www.`` (docs/format.md)."""

    outlet: Text
    title: Text | None = None
    url: Annotated[str, StringConstraints(pattern=URL.pattern, max_length=2000)] | None = None
    published: date | None = None

    @model_validator(mode="before")
    @classmethod
    def _bare_url(cls, value: Any) -> Any:
        if isinstance(value, str) and URL.match(value.strip()):
            url = value.strip()
            host = urlsplit(url).hostname or url
            return {"outlet": host.removeprefix("www."), "url": url}
        return value


def _one_or_many(value: Any) -> Any:
    return (value,) if isinstance(value, dict | str) else value


Sources = Annotated[
    tuple[Source, ...],
    BeforeValidator(
        _one_or_many,
        json_schema_input_type=Source
        | Annotated[str, Field(pattern=URL.pattern)]
        | Annotated[
            list[Source | Annotated[str, Field(pattern=URL.pattern)]], Field(max_length=LIST_LIMIT)
        ],
    ),
    Field(max_length=LIST_LIMIT),
]
"""One source or a list of them; a source may be written as its URL alone."""

_BEFORE = re.compile(r"^before\s+(\S+)$")
_MOMENT = re.compile(r"^(\d{4}-\d{2}-\d{2})[T ](.+)$")

TIMED = 2
"""The first day slot of a statement with a time of day (`StatedOn.slot`): 0 is a "before"
date, 1 a day without a time."""

_DAY_SECONDS = 86_400

_TIME = TypeAdapter(TimeOfDay)


def time_text(value: TimeOfDay) -> str:
    """A time of day as the events store it (pydantic's JSON form: ``18:00:00``,
    ``18:00:00+02:00``, ``18:00:00Z``)."""
    text: str = _TIME.dump_python(value, mode="json")
    return text


def on_text(day: str, before: str | None, at: str | None) -> str:
    """How a date is written in every table: ``2025-03-12``, ``before 2025-03-13`` or
    ``2025-03-12T18:00:00+02:00``, from the stored fields (ISO texts). The views' SQL writes
    the same text (`positions.views.store`), checked against this by the tests."""
    if before is not None:
        return f"before {before}"
    return day if at is None else f"{day}T{at}"


def slot_of(before: object, at: TimeOfDay | None) -> int:
    """A statement's place within its day (R1): 0 for a "before" date, 1 for a day without a
    time, and for a time of day ``TIMED`` plus the seconds from the start of the day in UTC,
    offset by a day so that every UTC offset stays positive. A time without an offset counts
    as UTC."""
    if before is not None:
        return 0
    if at is None:
        return 1
    offset = at.utcoffset()
    seconds = at.hour * 3600 + at.minute * 60 + at.second
    if offset is not None:
        seconds -= int(offset.total_seconds())
    return TIMED + _DAY_SECONDS + seconds


def precision_of(slot: int) -> str:
    """How precisely a date is known, by its slot (`slot_of`): ``before``, ``day`` or
    ``time``."""
    return "before" if slot == 0 else "day" if slot == 1 else "time"


def _moment(value: str) -> dict[str, Any] | None:
    """``YYYY-MM-DDTHH:MM[:SS][offset]`` as the day and the time, or None for any other text."""
    match = _MOMENT.match(value)
    if not match:
        return None
    try:
        at = TimeOfDay.fromisoformat(match.group(2))
    except ValueError:
        raise ValueError(
            f"{value!r} is not a date-time (expected YYYY-MM-DDTHH:MM[:SS], then an optional "
            "UTC offset such as Z or +02:00)"
        ) from None
    return {"day": match.group(1), "time": at}


class StatedOn(Record):
    """When a statement was made: a day, a day and a time of day, or only "before" a day.

    ``day`` is the last day the statement can have been made: the day itself for a precise date,
    the day before ``before`` for an imprecise one. Imprecise statements order before every
    precise statement of their ``day``, and statements without a time before those with one
    (see docs/codebook.md, R1).
    """

    day: date
    before: date | None = None
    time: TimeOfDay | None = None
    text: Text | None = None

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        """What a file may write (`_parse`): a date, a date-time, ``before DATE``, or the
        mapping with ``day`` or ``before``."""
        mapping = handler.resolve_ref_schema(handler(core_schema))
        mapping.pop("required", None)
        return {
            "anyOf": [
                {"type": "string", "format": "date"},
                {"type": "string", "pattern": _MOMENT.pattern},
                {"type": "string", "pattern": _BEFORE.pattern},
                mapping,
            ]
        }

    @model_validator(mode="before")
    @classmethod
    def _parse(cls, value: Any) -> Any:
        if isinstance(value, datetime):
            return {"day": value.date(), "time": value.timetz()}
        if isinstance(value, date):
            return {"day": value}
        if isinstance(value, str):
            text = value.strip()
            match = _BEFORE.match(text)
            if not match:
                return _moment(text) or {"day": value}
            value = {"before": match.group(1)}
        if isinstance(value, dict) and isinstance(value.get("day"), (str, datetime)):
            day = value["day"]
            moment = (
                {"day": day.date(), "time": day.timetz()}
                if isinstance(day, datetime)
                else _moment(day.strip())
            )
            if moment is not None:
                if value.get("time") is not None:
                    raise ValueError("give the time of day once: in 'day' or in 'time'")
                value = {**value, **moment}
        if isinstance(value, dict) and "before" in value and "day" not in value:
            before = value["before"]
            if isinstance(before, str):
                if _MOMENT.match(before.strip()):
                    raise ValueError(
                        f"'before' takes a date, not a time of day ({before!r}): a statement "
                        "known only to be made before a day has no time"
                    )
                try:
                    before = date.fromisoformat(before)
                except ValueError:
                    raise ValueError(
                        f"'before' must be a date (YYYY-MM-DD), not {before!r}"
                    ) from None
            if not isinstance(before, date) or isinstance(before, datetime):
                raise ValueError("'before' must be a date (YYYY-MM-DD)")
            if before == date.min:
                raise ValueError("'before' must be later than 0001-01-01")
            return {**value, "before": before, "day": before - timedelta(days=1)}
        return value

    @model_validator(mode="after")
    def _in_range(self) -> Self:
        if self.before is not None and self.day != self.before - timedelta(days=1):
            raise ValueError("give either a date or 'before' a date, not both")
        if self.before is not None and self.time is not None:
            raise ValueError(
                "'before' takes a date, not a time of day: a statement known only to be made "
                "before a day has no time"
            )
        if self.time is not None and self.time.microsecond:
            raise ValueError(
                f"a time of day is given to the second at most, not {self.time.isoformat()}"
            )
        if not date(1800, 1, 1) <= self.day <= date(2200, 12, 31):
            raise ValueError(
                f"date {self.day.isoformat()} is out of range (1800-01-01 to 2200-12-31)"
            )
        return self

    @property
    def precise(self) -> bool:
        return self.before is None

    @property
    def slot(self) -> int:
        """Its place within its day (R1, `slot_of`)."""
        return slot_of(self.before, self.time)

    def sort_key(self) -> tuple[date, int]:
        return (self.day, self.slot)

    def __str__(self) -> str:
        return on_text(
            self.day.isoformat(),
            None if self.before is None else self.before.isoformat(),
            None if self.time is None else time_text(self.time),
        )

    def to_scenario(self) -> Any:
        if self.precise and self.time is None:
            return self.day if self.text is None else {"day": self.day, "text": self.text}
        if self.precise:
            moment = str(self)
            return moment if self.text is None else {"day": moment, "text": self.text}
        if self.text is None:
            return f"before {self.before}"
        return {"before": self.before, "text": self.text}


Parties = Annotated[tuple[Slug, ...], Field(min_length=1, max_length=LIST_LIMIT)]
"""The parties of a joint statement, as listed (``party: [us, ukraine]``)."""


def _party_form(value: Any) -> str:
    return "list" if isinstance(value, list | tuple) else "one"


PartyOrParties = Annotated[
    Annotated[Slug, Tag("one")] | Annotated[Parties, Tag("list")], Discriminator(_party_form)
]
"""A party, or the parties of a joint statement as a list; an error names the field alone
(`positions.messages.location` drops the form's tag)."""


class Cover(Record):
    """One issue a proposal covers, with the position (and terms) it proposes on it."""

    issue: Slug
    position: Slug
    terms: dict[Slug, TermValue] = Field(default_factory=dict, max_length=LIST_LIMIT)


class Proposal(Record):
    """A proposal on one issue (``issue``, ``position``, ``terms``) or a package over several
    (``covers``, one `Cover` per issue); `positions.domain` checks that it has one form."""

    id: Slug
    issue: Slug | None = None
    by: PartyOrParties
    """The party that tabled it, or a list of the parties that tabled it together."""
    on: StatedOn
    reported_by: Slug | None = None
    """The party whose account is all that is known of it (the proposer never confirmed it):
    its tabling is then that party's claim about the proposer (R7, R9)."""
    position: Slug | None = None
    terms: dict[Slug, TermValue] = Field(default_factory=dict, max_length=LIST_LIMIT)
    covers: tuple[Cover, ...] = Field(default=(), max_length=LIST_LIMIT)
    """The issues of a package, in the order given (empty for a proposal on one issue)."""
    title: Text | None = None
    quote: Text | None = None
    sources: Sources = ()

    @property
    def covered(self) -> tuple[Cover, ...]:
        """What it proposes, issue by issue: its ``covers``, or its one issue as a `Cover`."""
        if self.covers:
            return self.covers
        if self.issue is None or self.position is None:
            return ()
        return (Cover(issue=self.issue, position=self.position, terms=self.terms),)

    @property
    def issues(self) -> tuple[str, ...]:
        """The issues it covers, in order."""
        return tuple(c.issue for c in self.covered)

    @property
    def package(self) -> bool:
        return bool(self.covers)

    @property
    def proposers(self) -> tuple[str, ...]:
        """The parties that tabled it: one, or those of a joint proposal as listed."""
        return (self.by,) if isinstance(self.by, str) else tuple(self.by)


class Development(Record):
    id: Slug
    on: StatedOn
    what: Text
    sources: Sources = ()


class StatementCoding(Record):
    """The fields a statement has both as an analyst writes it and as it is recorded."""

    id: Slug
    on: StatedOn
    issue: Slug | None = None
    position: Slug | None = None
    terms: dict[Slug, TermValue] = Field(default_factory=dict, max_length=LIST_LIMIT)
    verdict: Verdict | None = None
    proposal: Slug | None = None
    conditions: Annotated[
        tuple[Text, ...],
        BeforeValidator(
            _one_or_many,
            json_schema_input_type=Text | Annotated[list[Text], Field(max_length=LIST_LIMIT)],
        ),
        Field(max_length=LIST_LIMIT),
    ] = ()
    clarifies: Slug | None = None
    retracts: Slug | None = None
    about: Slug | None = None
    attribution: Attribution = Attribution.DIRECT
    quote: Text | None = None
    quote_original: Text | None = None
    language: Language | None = None
    sources: Sources = ()
    confidence: Confidence = Confidence.HIGH
    channel: Text | None = None
    notes: Text | None = None
    salience: Weight | None = None
    hypothetical: bool = False


class Statement(StatementCoding):
    """One statement, normalised: ``party`` is always set, ``speaker`` when a person spoke."""

    party: Slug
    speaker: Slug | None = None
    joint: tuple[Slug, ...] = Field(default=(), max_length=LIST_LIMIT)
    """The other parties of a joint statement, in the order listed after ``party`` (empty for
    a statement of one party): it counts as each one's own statement."""

    @property
    def parties(self) -> tuple[str, ...]:
        """Every party that made it: ``party``, then the others of a joint statement."""
        return (self.party, *self.joint)

    @property
    def kind(self) -> Kind:
        if self.retracts is not None:
            return Kind.RETRACTION
        if self.clarifies is not None:
            return Kind.CLARIFICATION
        if self.about is not None:
            return Kind.CLAIM
        return Kind.POSITION

    @property
    def target(self) -> str | None:
        """The statement this one clarifies or retracts."""
        return self.retracts if self.retracts is not None else self.clarifies

    def sort_key(self) -> tuple[date, int, str]:
        return (*self.on.sort_key(), self.id)


class Salience(Record):
    """How much an issue matters to a party (0-100), declared once rather than per statement."""

    party: Slug
    issue: Slug
    value: Weight


class Correction(Record):
    """A change to a recorded statement's coding; the statement's own event is never touched."""

    statement: Slug
    reason: Text
    position: Slug | None = None
    verdict: Verdict | None = None
    issue: Slug | None = None
    on: StatedOn | None = None
    party: Slug | None = None

    def changes(self) -> dict[str, Any]:
        return {
            name: getattr(self, name)
            for name in ("position", "verdict", "issue", "on", "party")
            if getattr(self, name) is not None
        }


DESCRIPTIVE = (
    "quote",
    "quote_original",
    "language",
    "sources",
    "channel",
    "notes",
    "confidence",
    "attribution",
)
"""The fields of a statement that describe it rather than code it: what an amendment fixes.
None of them bears on a stance (docs/codebook.md, R15)."""


class Amendment(Record):
    """A fix to a recorded statement's descriptive fields (`DESCRIPTIVE`): a retyped quote, a
    source found later, a note. The statement's own event is never touched, and nothing it
    counts for changes; ``add_sources`` adds sources after those the statement has, while
    ``sources`` replaces them."""

    statement: Slug
    reason: Text
    quote: Text | None = None
    quote_original: Text | None = None
    language: Language | None = None
    sources: Sources | None = None
    add_sources: Sources = ()
    channel: Text | None = None
    notes: Text | None = None
    confidence: Confidence | None = None
    attribution: Attribution | None = None

    def changes(self) -> dict[str, Any]:
        """The fields it gives, by name (``add_sources`` under its own name)."""
        given = {
            name: getattr(self, name) for name in DESCRIPTIVE if getattr(self, name) is not None
        }
        if self.add_sources:
            given["add_sources"] = self.add_sources
        return given

    def apply(self, fields: dict[str, Any]) -> dict[str, Any]:
        """A statement's fields (as JSON gives them) with this amendment applied: the one
        place the effect of an amendment is decided, for the statement models and for the
        stored documents the queries read alike."""
        data = self.model_dump(mode="json", include=set(DESCRIPTIVE) | {"add_sources"})
        out = dict(fields)
        for name in DESCRIPTIVE:
            if data[name] is not None:
                out[name] = data[name]
        if self.add_sources:
            out["sources"] = [*out.get("sources", ()), *data["add_sources"]]
        return out

    def describe(self, before: dict[str, Any]) -> str:
        """What it changes, as ``name: before → after`` (texts quoted), from the statement's
        fields before it (as JSON gives them): the one wording of an amendment in `history`
        and `explain`."""
        after = self.apply(before)
        given = self.changes()
        parts = []
        for name in (*DESCRIPTIVE, "add_sources"):
            if name not in given:
                continue
            if name == "add_sources":
                added = after["sources"][len(before.get("sources") or ()) :]
                parts.append(f"sources: + {sources_text(added) or 'none'}")
            elif name == "sources":
                parts.append(
                    f"sources: {sources_text(before.get('sources') or ()) or 'none'} → "
                    f"{sources_text(after['sources']) or 'none'}"
                )
            else:
                old, new = before.get(name), after[name]
                parts.append(f"{name}: {_shown(name, old)} → {_shown(name, new)}")
        return ", ".join(parts)


def _shown(name: str, value: Any) -> str:
    if value is None:
        return "none"
    if name in ("quote", "quote_original", "channel", "notes"):
        return f"“{value}”"
    return str(value)


def sources_text(sources: Any) -> str | None:
    """Sources as every table shows them: outlet and URL, one after another (None for none);
    each a `Source` or its JSON mapping."""
    shown = []
    for s in sources:
        outlet, url = (s.outlet, s.url) if isinstance(s, Source) else (s["outlet"], s.get("url"))
        shown.append(" ".join(part for part in (outlet, url or "") if part))
    return "; ".join(shown) or None
