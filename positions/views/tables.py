"""The bitemporal step table: `positions.steps` kept in the store's database, beside the views.

Three tables, each row valid over a recording-time interval ``[recorded_from, recorded_to)``
(a `views.fold.stamp`; ``OPEN`` while it is the row in force). Nothing is updated in place but
``recorded_to``: a change closes the rows it replaces and adds new ones, so the table answers
for any recording time (``--known-at``).

- ``positions_view_steps``: one row per statement or tabling: its coding as recorded, its
  resolved step (group, position, verdict, order key, what ended it) and the positions in force
  in its group just before and after it (for shifts).
- ``positions_view_stances``: for each (party, issue, claimant) group, the step in force over
  each interval of days ``[valid_from, valid_to)`` (day ordinals).
- ``positions_view_verdicts``: the same for each (party, proposal, claimant) group's verdict.
- ``positions_view_step_groups``: which groups exist (for the claimants of a cell).

`StepStore.catch_up` feeds them from the notification log after the views' other tables, in
its own transaction with its own tracking row (application name ``positions-steps``): it reads
the events after its position, and applies them one recording time at a time (every event of
one save shares its time). For each recording time it resolves the statements that changed and
the clarifications that carry their coding, works out what ends them, and sweeps only the
groups they touch, from the earliest key they touch on (`steps.sweep_group`), with just the
steps in force before that key that can still matter: those ended at or after it, and the
latest never-ended step of each kind (any other one stays below it for good).
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date
from datetime import time as TimeOfDay
from typing import TYPE_CHECKING, Any

import orjson
from eventsourcing.persistence import Tracking
from eventsourcing.utils import get_topic

from positions.codebook import NONCOMMITTAL, on_text, slot_of
from positions.events import CodingCorrected, ProposalTabled
from positions.steps import (
    OPEN_DAY,
    OWN,
    Coding,
    Interval,
    Key,
    Step,
    conditions_text,
    descendants,
    ender,
    intervals,
    key_of_text,
    key_text,
    members,
    reported_for,
    resolve,
    sweep_group,
    tablings,
    target_of,
    terms_text,
)
from positions.store.persistence import tracked_position
from positions.views.fold import STATEMENT_TOPICS, LogRow, stamp_text

if TYPE_CHECKING:
    from positions.views.store import ViewStore

STEPS_NAME = "positions-steps"
"""The step table's application name in eventsourcing's tracking table."""

OPEN = "9999-12-31T23:59:59.999999Z"
"""``recorded_to`` of a row in force (after every recording time)."""

PAGE = 10_000
CHUNK = 500
FIRST_PAGE = 16
PAGE_STEPS = 4096
"""A group's steps read per query while it is swept: the first page, and the largest."""

_CORRECTED = get_topic(CodingCorrected)
_TABLED = get_topic(ProposalTabled)

STEP_COLUMNS = (
    "negotiation",
    "source_id",
    "tabling",
    "recorded_from",
    "recorded_to",
    "own_party",
    "about",
    "raw_issue",
    "raw_position",
    "raw_terms",
    "raw_verdict",
    "raw_proposal",
    "raw_conditions",
    "day",
    "slot",
    "stated_on",
    "clarifies",
    "retracts",
    "recorded_at",
    "notification_id",
    "kind",
    "party",
    "claimant",
    "issue",
    "position",
    "terms",
    "verdict",
    "proposal",
    "conditions",
    "depth",
    "sort_key",
    "live",
    "ended_by",
    "ended_how",
    "ended_key",
    "before_position",
    "after_position",
    "member",
    "parties",
)
STEP_SELECT = ", ".join(STEP_COLUMNS[5:])
"""The columns `step_of_row` reads after ``source_id, tabling``."""

STANCE_COLUMNS = (
    "negotiation",
    "party",
    "issue",
    "claimant",
    "valid_from",
    "valid_to",
    "recorded_from",
    "recorded_to",
    "source_id",
    "tabling",
    "position",
    "terms",
    "stated_on",
    "day",
)
VERDICT_COLUMNS = (
    "negotiation",
    "party",
    "proposal",
    "claimant",
    "valid_from",
    "valid_to",
    "recorded_from",
    "recorded_to",
    "source_id",
    "tabling",
    "verdict",
    "conditions",
    "stated_on",
    "day",
)
_CURRENT = f"recorded_to = '{OPEN}'"

DDL = (
    "CREATE TABLE IF NOT EXISTS {p}positions_view_steps ("
    "negotiation TEXT NOT NULL, source_id TEXT NOT NULL, tabling INTEGER NOT NULL, "
    "recorded_from TEXT NOT NULL, recorded_to TEXT NOT NULL, "
    "own_party TEXT NOT NULL, about TEXT, raw_issue TEXT, raw_position TEXT, "
    "raw_terms TEXT NOT NULL, raw_verdict TEXT, raw_proposal TEXT, raw_conditions TEXT NOT NULL, "
    "day INTEGER NOT NULL, slot INTEGER NOT NULL, stated_on TEXT NOT NULL, clarifies TEXT, "
    "retracts TEXT, recorded_at TEXT NOT NULL, notification_id BIGINT NOT NULL, "
    "kind TEXT NOT NULL, party TEXT NOT NULL, claimant TEXT NOT NULL, issue TEXT, position TEXT, "
    "terms TEXT NOT NULL, verdict TEXT, proposal TEXT, conditions TEXT NOT NULL, "
    "depth INTEGER NOT NULL, sort_key TEXT NOT NULL, live TEXT, ended_by TEXT, ended_how TEXT, "
    "ended_key TEXT, before_position TEXT, after_position TEXT, member INTEGER NOT NULL, "
    "parties TEXT, PRIMARY KEY (negotiation, source_id, tabling, recorded_from))",
    "CREATE INDEX IF NOT EXISTS positions_view_steps_group ON {p}positions_view_steps "
    f"(negotiation, party, issue, claimant, sort_key) WHERE {_CURRENT}",
    "CREATE INDEX IF NOT EXISTS positions_view_steps_live ON {p}positions_view_steps "
    f"(negotiation, party, issue, claimant, live, sort_key) WHERE {_CURRENT} "
    "AND ended_key IS NULL",
    "CREATE INDEX IF NOT EXISTS positions_view_steps_ended_from ON {p}positions_view_steps "
    f"(negotiation, party, issue, claimant, ended_key, sort_key) WHERE {_CURRENT} "
    "AND ended_key IS NOT NULL",
    "CREATE INDEX IF NOT EXISTS positions_view_steps_verdict ON {p}positions_view_steps "
    f"(negotiation, party, proposal, claimant, sort_key) WHERE {_CURRENT} "
    "AND verdict IS NOT NULL",
    "CREATE INDEX IF NOT EXISTS positions_view_steps_verdict_ended_from "
    "ON {p}positions_view_steps "
    f"(negotiation, party, proposal, claimant, ended_key, sort_key) WHERE {_CURRENT} "
    "AND verdict IS NOT NULL AND ended_key IS NOT NULL",
    "CREATE INDEX IF NOT EXISTS positions_view_steps_group_recorded ON {p}positions_view_steps "
    "(negotiation, party, issue, claimant, sort_key, recorded_from)",
    "CREATE INDEX IF NOT EXISTS positions_view_steps_verdict_recorded "
    "ON {p}positions_view_steps "
    "(negotiation, party, proposal, claimant, sort_key, recorded_from) "
    "WHERE verdict IS NOT NULL",
    "CREATE INDEX IF NOT EXISTS positions_view_steps_order ON {p}positions_view_steps "
    f"(negotiation, sort_key) WHERE {_CURRENT}",
    "CREATE INDEX IF NOT EXISTS positions_view_steps_party ON {p}positions_view_steps "
    f"(negotiation, party, sort_key) WHERE {_CURRENT}",
    "CREATE INDEX IF NOT EXISTS positions_view_steps_issue ON {p}positions_view_steps "
    f"(negotiation, issue, sort_key) WHERE {_CURRENT}",
    "CREATE INDEX IF NOT EXISTS positions_view_steps_claimant ON {p}positions_view_steps "
    f"(negotiation, own_party, sort_key) WHERE {_CURRENT} AND about IS NOT NULL",
    "CREATE INDEX IF NOT EXISTS positions_view_steps_claims ON {p}positions_view_steps "
    f"(negotiation, own_party, issue) WHERE {_CURRENT} AND about IS NOT NULL",
    "CREATE INDEX IF NOT EXISTS positions_view_steps_clarifies ON {p}positions_view_steps "
    f"(negotiation, clarifies) WHERE {_CURRENT} AND clarifies IS NOT NULL",
    "CREATE INDEX IF NOT EXISTS positions_view_steps_retracts ON {p}positions_view_steps "
    f"(negotiation, retracts) WHERE {_CURRENT} AND retracts IS NOT NULL",
    "CREATE TABLE IF NOT EXISTS {p}positions_view_stances ("
    "negotiation TEXT NOT NULL, party TEXT NOT NULL, issue TEXT NOT NULL, "
    "claimant TEXT NOT NULL, valid_from INTEGER NOT NULL, valid_to INTEGER NOT NULL, "
    "recorded_from TEXT NOT NULL, recorded_to TEXT NOT NULL, source_id TEXT NOT NULL, "
    "tabling INTEGER NOT NULL, position TEXT NOT NULL, terms TEXT NOT NULL, "
    "stated_on TEXT NOT NULL, day INTEGER NOT NULL, "
    "PRIMARY KEY (negotiation, party, issue, claimant, valid_from, recorded_from))",
    "CREATE TABLE IF NOT EXISTS {p}positions_view_verdicts ("
    "negotiation TEXT NOT NULL, party TEXT NOT NULL, proposal TEXT NOT NULL, "
    "claimant TEXT NOT NULL, valid_from INTEGER NOT NULL, valid_to INTEGER NOT NULL, "
    "recorded_from TEXT NOT NULL, recorded_to TEXT NOT NULL, source_id TEXT NOT NULL, "
    "tabling INTEGER NOT NULL, verdict TEXT NOT NULL, conditions TEXT NOT NULL, "
    "stated_on TEXT NOT NULL, day INTEGER NOT NULL, "
    "PRIMARY KEY (negotiation, proposal, party, claimant, valid_from, recorded_from))",
    "CREATE TABLE IF NOT EXISTS {p}positions_view_step_groups ("
    "negotiation TEXT NOT NULL, kind TEXT NOT NULL, party TEXT NOT NULL, subject TEXT NOT NULL, "
    "claimant TEXT NOT NULL, PRIMARY KEY (negotiation, kind, party, subject, claimant))",
)
"""The step tables, with ``{p}`` for the schema prefix (the same on SQLite and PostgreSQL)."""

TABLES = ("steps", "stances", "verdicts", "step_groups")
"""The step tables (``positions_view_`` and the name)."""
INDEXES = tuple(s.split()[5] for s in DDL if s.startswith("CREATE INDEX"))
"""The step table's secondary indexes (dropped while a first fold fills the empty table)."""


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return str(int(value))
    return "" if value is None else str(value)


def _live(step: Step) -> str | None:
    """The kind of step `sweep` keeps in force: 'c' a position on the scale, 'n' noncommittal."""
    if step.position is None:
        return None
    return "n" if step.position == NONCOMMITTAL else "c"


def _on(on: Any) -> tuple[int, int, str]:
    """A stored date's (``StatedOn`` as JSON) day ordinal, slot in the day (R1) and text."""
    before, at = on["before"], on.get("time")  # events recorded before times of day have none
    slot = slot_of(before, None if at is None else TimeOfDay.fromisoformat(at))
    return _day(on["day"]), slot, on_text(on["day"], before, at)


def _day(text: str) -> int:
    return date.fromisoformat(text).toordinal()


def _loads(payload: bytes) -> Any:
    try:
        return orjson.loads(payload)
    except orjson.JSONDecodeError:  # an integer beyond 64 bits: the standard parser takes it
        return json.loads(payload)


def codings_of_statement(data: Any, recorded_at: str, notification_id: int) -> list[Coding]:
    """The codings of a statement event's JSON (``data["statement"]``): one, or one per party
    of a joint statement (`members`)."""
    s = data["statement"]
    day, slot, stated_on = _on(s["on"])
    one = Coding(
        source_id=s["id"],
        tabling=0,
        party=s["party"],
        about=s["about"],
        issue=s["issue"],
        position=s["position"],
        terms=terms_text(s["terms"]),
        verdict=s["verdict"],
        proposal=s["proposal"],
        conditions=conditions_text(s["conditions"]),
        day=day,
        slot=slot,
        stated_on=stated_on,
        clarifies=s["clarifies"],
        retracts=s["retracts"],
        recorded_at=recorded_at,
        notification_id=notification_id,
    )
    return members(one, (s["party"], *s.get("joint", ())))  # events before joint ones: none


def codings_of_tabling(data: Any) -> list[Coding]:
    """The codings of a proposal's tabling (a `ProposalTabled` payload): one per proposer and
    issue covered (`steps.tablings`, R7)."""
    p = data["proposal"]
    day, slot, stated_on = _on(p["on"])
    covers = p.get("covers") or [  # events recorded before packages have none
        {"issue": p["issue"], "position": p["position"], "terms": p["terms"]}
    ]
    by = p["by"]
    return tablings(
        p["id"],
        [by] if isinstance(by, str) else by,
        p.get("reported_by"),  # events recorded before reported proposals have none
        [(c["issue"], c["position"], terms_text(c.get("terms", {}))) for c in covers],
        day,
        slot,
        stated_on,
    )


def corrected_coding(coding: Coding, correction: Any) -> Coding:
    """A coding with a correction's changes (position, verdict, issue, on, party: R12)."""
    changes: dict[str, Any] = {}
    for name in ("position", "verdict", "issue", "party"):
        if correction.get(name) is not None:
            changes[name] = correction[name]
    on = correction.get("on")
    if on is not None:
        changes["day"], changes["slot"], changes["stated_on"] = _on(on)
    return replace(coding, **changes)


@dataclass
class _Change:
    """What one recording time changes in one negotiation: codings by (id, tabling), in the
    order recorded, and corrections of codings recorded earlier."""

    codings: dict[tuple[str, int], Coding]
    corrections: list[Any]


class StepStore:
    """The step tables of one store, maintained from its log (see the module docstring)."""

    def __init__(self, views: ViewStore) -> None:
        self.views = views

    # -- SQL helpers

    def _rows(self, cursor: Any, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self.views._tuples(cursor, self.views._sql(sql), list(params))

    def _execute(self, cursor: Any, sql: str, params: Sequence[Any] = ()) -> None:
        cursor.execute(self.views._sql(sql), list(params))

    def _insert(self, cursor: Any, table: str, columns: Sequence[str], rows: list[Any]) -> None:
        if not rows:
            return
        marks = ", ".join("%s" for _ in columns)
        cursor.executemany(
            self.views._sql(
                f"INSERT INTO {{p}}positions_view_{table} ({', '.join(columns)}) "
                f"VALUES ({marks}) ON CONFLICT DO NOTHING"
            ),
            rows,
        )

    def position(self, cursor: Any) -> int:
        return tracked_position(self.views.recorder, STEPS_NAME, cursor)

    # -- catching up

    def is_current(self, cursor: Any, upto: int) -> bool:
        return self.position(cursor) >= upto

    def catch_up(self, cursor: Any, upto: int) -> int:
        """Apply the events after the step tables' position up to ``upto`` (the views'
        position), in the caller's write transaction; the number of events read."""
        after = self.position(cursor)
        if after >= upto:
            return 0
        read = self.fold(cursor, after, upto)
        self.views.recorder._insert_tracking(cursor, Tracking(STEPS_NAME, upto))
        return read

    def fold(self, cursor: Any, after: int, upto: int) -> int:
        """Apply the events ``after`` < notification id <= ``upto`` to the step tables."""
        streams = {row.stream: row for row in self.views._rows(cursor, "streams")}
        stamp: str | None = None
        pending: dict[str, _Change] = {}
        read = 0
        unindexed = after == 0 and not self._rows(
            cursor, "SELECT 1 FROM {p}positions_view_steps LIMIT 1"
        )
        if unindexed:  # the first recording time fills empty tables: index them afterwards
            for name in INDEXES:
                self._execute(cursor, f"DROP INDEX IF EXISTS {{p}}{name}")
        for row in self._log(cursor, after, upto):
            read += 1
            found = self._item(row, streams)
            if found is None:
                continue
            negotiation, recorded, kind, value = found
            if stamp is not None and recorded != stamp and pending:
                self._apply(cursor, stamp, pending)
                pending = {}
                if unindexed:
                    self._index(cursor)
                    unindexed = False
            stamp = recorded
            change = pending.setdefault(negotiation, _Change({}, []))
            if kind == "codings":
                for coding in value:
                    change.codings[(coding.source_id, coding.tabling)] = coding
            else:
                sid = value["statement"]
                base = change.codings.get((sid, 0))
                if base is not None:  # each of its codings (one per party of a joint one)
                    for number in range(len(base.parties) or 1):
                        key = (sid, -number)
                        change.codings[key] = corrected_coding(change.codings[key], value)
                else:
                    change.corrections.append(value)
        if stamp is not None and pending:
            self._apply(cursor, stamp, pending)
        if unindexed:
            self._index(cursor)
        return read

    def _index(self, cursor: Any) -> None:
        for statement in DDL:
            if statement.startswith("CREATE INDEX"):
                self._execute(cursor, statement)

    def snapshot(self, cursor: Any) -> dict[str, set[tuple[str, ...]]]:
        """Every row of the step tables, as text (for comparing two foldings)."""
        found = {}
        for table in TABLES:
            rows = self._rows(cursor, f"SELECT * FROM {{p}}positions_view_{table}")
            found[table] = {tuple(_text(v) for v in row) for row in rows}
        return found

    def differences(self, cursor: Any) -> list[tuple[str, tuple[str, ...], str]]:
        """How the stored step tables differ from folding every event again, as (table, row,
        problem); the fresh fold is made in the caller's transaction, which must roll back."""
        upto = self.position(cursor)
        stored = self.snapshot(cursor)
        self.clear(cursor)
        self.fold(cursor, 0, upto)
        fresh = self.snapshot(cursor)
        found = []
        for table in TABLES:
            for row in sorted(fresh[table] - stored[table]):
                found.append((table, row, "missing (the events have it)"))
            for row in sorted(stored[table] - fresh[table]):
                found.append((table, row, "not in a fresh fold of the events"))
        return found

    def _log(self, cursor: Any, after: int, upto: int) -> Iterator[LogRow]:
        while after < upto:
            last = min(upto, after + PAGE)
            yield from self.views._log(cursor, after, last)
            after = last

    def _item(self, row: LogRow, streams: dict[str, Any]) -> tuple[str, str, str, Any] | None:
        """(negotiation, recording stamp, 'codings' or 'correction', value) of a log row that
        changes steps (a list of codings: a package's tabling has one per issue), or None."""
        statement = row.topic in STATEMENT_TOPICS
        if not (statement or row.topic == _CORRECTED or row.topic == _TABLED):
            return None
        home = streams.get(row.stream)
        if home is None:
            return None
        try:
            data = _loads(row.payload)
            recorded = stamp_text(data["timestamp"])
            if statement and home.party is not None:
                return (
                    home.negotiation,
                    recorded,
                    "codings",
                    codings_of_statement(data, recorded, row.notification_id),
                )
            if row.topic == _CORRECTED and home.party is not None:
                return home.negotiation, recorded, "correction", data["correction"]
            if row.topic == _TABLED and home.party is None:
                return home.negotiation, recorded, "codings", codings_of_tabling(data)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise self.views._unreadable(row, exc) from None
        return None

    # -- one recording time

    def _apply(self, cursor: Any, stamp: str, pending: dict[str, _Change]) -> None:
        for negotiation, change in pending.items():
            _Maintenance(self, cursor, negotiation, stamp).apply(change)

    def clear(self, cursor: Any) -> None:
        for table in TABLES:
            self._execute(cursor, f"DELETE FROM {{p}}positions_view_{table}")


class _Maintenance:
    """The changes of one recording time to one negotiation's steps."""

    def __init__(self, store: StepStore, cursor: Any, negotiation: str, stamp: str) -> None:
        self.store = store
        self.cursor = cursor
        self.negotiation = negotiation
        self.stamp = stamp
        self.current: dict[tuple[str, int], Step | None] = {}
        """Steps in force before this change, read from the table as needed."""
        self.new: dict[tuple[str, int], Step] = {}
        """Steps as they are after it (those that may have changed)."""

    # reading current steps

    def _select(self, where: str, params: Sequence[Any], tail: str = "") -> list[Step]:
        rows = self.store._rows(
            self.cursor,
            f"SELECT source_id, tabling, {STEP_SELECT} FROM {{p}}positions_view_steps "
            f"WHERE negotiation = %s AND {_CURRENT} AND {where} {tail}",
            [self.negotiation, *params],
        )
        found = []
        for row in rows:
            step = step_of_row(row)
            found.append(step)
            self.current.setdefault((step.source_id, step.coding.tabling), step)
        return found

    def _tablings(self, proposals: Iterable[str]) -> dict[str, dict[int, Coding]]:
        """The tabling codings of ``proposals`` as recorded before this change, by proposal
        and number (one per issue covered)."""
        found: dict[str, dict[int, Coding]] = {}
        ids = sorted(proposals)
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            marks = ", ".join("%s" for _ in chunk)
            for step in self._select(f"tabling > 0 AND source_id IN ({marks})", chunk):
                found.setdefault(step.source_id, {})[step.coding.tabling] = step.coding
        return found

    def _fetch(self, keys: Iterable[tuple[str, int]]) -> None:
        wanted = [k for k in keys if k not in self.current]
        for tabling in sorted({t for _, t in wanted}):
            ids = [sid for sid, t in wanted if t == tabling]
            for start in range(0, len(ids), CHUNK):
                chunk = ids[start : start + CHUNK]
                marks = ", ".join("%s" for _ in chunk)
                self._select(f"tabling = %s AND source_id IN ({marks})", [int(tabling), *chunk])
            for sid in ids:
                self.current.setdefault((sid, tabling), None)

    def step(self, sid: str) -> Step | None:
        """A statement's step as it is after this change (of a joint statement, that of its
        first party)."""
        key = (sid, 0)
        if key in self.new:
            return self.new[key]
        if key not in self.current:
            self._fetch([key])
        return self.current[key]

    def parts(self, sid: str) -> list[Step]:
        """A statement's steps as they are after this change: one, or one per party of a
        joint statement (its first step lists the parties)."""
        first = self.step(sid)
        if first is None or not first.coding.parties:
            return [] if first is None else [first]
        keys = [(sid, -n) for n in range(len(first.coding.parties))]
        self._fetch(k for k in keys if k not in self.new)
        found = [self.new.get(k) or self.current.get(k) for k in keys]
        return [step for step in found if step is not None]

    def _naming(self, targets: Sequence[str], column: str) -> dict[str, list[str]]:
        """The statements (as currently recorded) whose ``column`` names one of ``targets``."""
        found: dict[str, list[str]] = {}
        for start in range(0, len(targets), CHUNK):
            chunk = list(targets[start : start + CHUNK])
            marks = ", ".join("%s" for _ in chunk)
            for step in self._select(f"{column} IN ({marks})", chunk):
                target = step.coding.clarifies if column == "clarifies" else step.coding.retracts
                assert target is not None
                found.setdefault(target, []).append(step.source_id)
        return found

    # the change

    def apply(self, change: _Change) -> None:
        codings = dict(change.codings)
        if change.corrections:
            self._fetch((c["statement"], 0) for c in change.corrections)
            for correction in change.corrections:
                sid = correction["statement"]
                first = codings.get((sid, 0))
                if first is None:
                    current = self.current.get((sid, 0))
                    if current is None:
                        continue  # a correction of a statement not recorded counts for nothing
                    first = current.coding
                for number in range(len(first.parties) or 1):  # each party's coding
                    key = (sid, -number)
                    base = codings.get(key)
                    if base is None:
                        found = self.parts(sid)[number]
                        base = found.coding
                    codings[key] = corrected_coding(base, correction)
        self._fetch(codings)
        self._resolve(codings)
        self._end(codings)
        self._sweep()

    def _children(
        self, roots: Sequence[str], columns: Sequence[str] = ("clarifies",)
    ) -> dict[str, list[str]]:
        """Clarifications of ``roots`` and of those (with ``columns`` also naming "retracts":
        every statement that names one, and those that name them), as recorded now."""
        children: dict[str, list[str]] = {}
        level = list(roots)
        seen: set[str] = set(level)
        while level:
            found: dict[str, list[str]] = {}
            for column in columns:
                for parent, kids in self._naming(level, column).items():
                    found.setdefault(parent, []).extend(kids)
            level = []
            for parent, kids in found.items():
                for kid in kids:
                    children.setdefault(parent, []).append(kid)
                    if kid not in seen:
                        seen.add(kid)
                        level.append(kid)
        return children

    def _resolve(self, codings: dict[tuple[str, int], Coding]) -> None:
        """Resolve every changed coding, and every statement that carries part of one: a
        clarification its coding (R4), a retraction its issue."""
        statements = list(dict.fromkeys(sid for sid, tabling in codings if tabling <= 0))
        children = self._children(statements, ("clarifies", "retracts"))
        for coding in codings.values():  # new clarifications and retractions of this change
            if coding.target is not None and not coding.is_tabling:
                kids = children.setdefault(coding.target, [])
                if coding.source_id not in kids:
                    kids.append(coding.source_id)
        carried = descendants(statements, children)
        self._fetch((sid, 0) for sid in carried)
        todo: dict[tuple[str, int], Coding] = dict(codings)
        for sid in carried:
            if (sid, 0) not in todo:
                for part in self.parts(sid):
                    todo[(sid, part.coding.tabling)] = part.coding
        sources: dict[str, list[tuple[str, int]]] = {}  # each statement's keys in ``todo``
        for key in todo:
            if key[1] <= 0:
                sources.setdefault(key[0], []).append(key)
        done: dict[tuple[str, int], Step] = {}
        tablings = self._tablings({c.proposal for c in todo.values() if c.proposal is not None})
        for (sid, number), coding in todo.items():
            if number:
                tablings.setdefault(sid, {})[number] = coding

        def reported(coding: Coding) -> Coding | None:
            """The tabling a statement answering a proposal known only from another party's
            account could confirm (`reported_for`)."""
            parts = tablings.get(coding.proposal or "")
            if not parts or coding.is_tabling:
                return None
            found = reported_for(coding, [parts[n] for n in sorted(parts)])
            return found if found is not None and found.about is not None else None

        def resolved(key: tuple[str, int], path: frozenset[tuple[str, int]]) -> Step:
            if key in done:
                return done[key]
            coding = todo[key]
            target: Step | None = None
            if coding.target is not None:
                keys = sorted(sources.get(coding.target, ()), key=lambda k: -k[1])
                mine = [k for k in keys if todo[k].party == coding.party] or keys[:1]
                if mine and mine[0] not in path:
                    target = resolved(mine[0], path | {key})
                else:
                    target = target_of(coding, self.parts(coding.target))
            previous = self.current.get(key)
            step = resolve(coding, target, reported(coding))
            if previous is not None:  # what ended it, and its shift, stay until decided anew
                step = replace(
                    step,
                    ended_by=previous.ended_by,
                    ended_how=previous.ended_how,
                    ended_key=previous.ended_key,
                    before=previous.before,
                    after=previous.after,
                )
            done[key] = step
            return step

        for key in todo:
            self.new[key] = resolved(key, frozenset())

    def _end(self, codings: dict[tuple[str, int], Coding]) -> None:
        """Decide anew what ends each statement that a changed statement names, that a changed
        retraction ends through a chain of clarifications, and each changed statement (R3)."""
        targets: set[str] = {sid for sid, tabling in codings if tabling <= 0}
        retracted: list[str] = []
        for coding in codings.values():
            if coding.target is not None:
                targets.add(coding.target)
            if coding.retracts is not None:
                retracted.append(coding.retracts)
        # old targets of corrected statements are unchanged: corrections never change targets
        if retracted:
            targets.update(descendants(retracted, self._children(retracted)))
        ordered = sorted(targets)
        clarifying = self._naming(ordered, "clarifies")
        retracting = self._naming(ordered, "retracts")
        new_retractions: dict[str, list[str]] = {}
        for coding in codings.values():
            if coding.is_tabling or coding.target is None:
                continue
            bucket = clarifying if coding.clarifies is not None else retracting
            names = bucket.setdefault(coding.target, [])
            if coding.source_id not in names:
                names.append(coding.source_id)
            if coding.retracts is not None:
                new_retractions.setdefault(coding.retracts, []).append(coding.source_id)
        above = self._retracted_above(ordered, new_retractions)
        for sid in ordered:
            naming = [
                s
                for other in dict.fromkeys((*clarifying.get(sid, ()), *retracting.get(sid, ())))
                for s in self.parts(other)
                if s.coding.target == sid
            ]
            for step in self.parts(sid):
                ended_by, how, key = ender(step, naming, list(above.get(sid, ())))
                if (step.ended_by, step.ended_how, step.ended_key) != (ended_by, how, key):
                    step = replace(step, ended_by=ended_by, ended_how=how, ended_key=key)
                self.new[(sid, step.coding.tabling)] = step

    def _retracted_above(
        self, sids: Sequence[str], new_retractions: dict[str, list[str]]
    ) -> dict[str, tuple[Step, ...]]:
        """For each statement, the retractions of the statements it clarifies, directly or
        through a chain, nearest first (a clarification ends with what it clarifies, R3): each
        chain walked once for all the statements on it, the retractions of every statement on
        the chains read in one pass (a chain of n clarifications costs n, not n squared)."""
        parent: dict[str, str | None] = {}
        for sid in sids:  # every statement on the chains above, and what each clarifies
            up: str | None = sid
            walked: set[str] = set()
            while up is not None and up not in parent and up not in walked:
                walked.add(up)
                step = self.step(up)
                parent[up] = step.coding.clarifies if step is not None else None
                up = parent[up]
        ancestors = sorted({p for p in parent.values() if p is not None})
        found = self._naming(ancestors, "retracts")
        own: dict[str, tuple[Step, ...]] = {}
        for name in ancestors:
            named = [*found.get(name, ()), *new_retractions.get(name, ())]
            own[name] = tuple(
                s
                for other in dict.fromkeys(named)
                for s in self.parts(other)
                if s.coding.retracts == name
            )
        above: dict[str, tuple[Step, ...]] = {}
        for sid in sids:
            chain: list[str] = []  # the statements whose answer is not known yet, nearest first
            link: str | None = sid
            seen: set[str] = set()
            while link is not None and link not in above and link not in seen:
                seen.add(link)
                chain.append(link)
                link = parent.get(link)
            # a circle (refused at import, so never stored) ends the walk like a chain's top
            known = above.get(link, ()) if link is not None else ()
            for name in reversed(chain):
                top = parent.get(name)
                if top is None or (top in seen and top not in above):
                    known = ()
                    above[name] = ()
                    continue
                known = own.get(top, ()) + above.get(top, known)
                above[name] = known
        return above

    # sweeping the groups touched

    def _sweep(self) -> None:
        changed: list[tuple[Step | None, Step]] = []
        for key, step in self.new.items():
            previous = self.current.get(key)
            if previous is None or _rule_fields(previous) != _rule_fields(step):
                changed.append((previous, step))
        stances: dict[tuple[str, str, str], Key] = {}
        verdicts: dict[tuple[str, str, str], Key] = {}
        for previous, step in changed:
            for version in (previous, step):
                if version is None:
                    continue
                keys = [version.key]
                if version.ended_key is not None:
                    keys.append(version.ended_key)
                if version.issue is not None:
                    group = (version.party, version.issue, version.claimant)
                    stances[group] = min([*keys, stances.get(group, keys[0])])
                vgroup = version.verdict_group
                if vgroup is not None:
                    verdicts[vgroup] = min([*keys, verdicts.get(vgroup, keys[0])])
        self._by_group: dict[tuple[Any, ...], list[tuple[str, int]]] = {}
        self._old_by_group: dict[tuple[Any, ...], list[Step]] = {}
        self._moved = set(self.new)
        """The steps read from ``new`` rather than the table while groups are swept."""
        for key, step in self.new.items():
            for home in (("s", *step.group), ("v", *(step.verdict_group or ()))):
                self._by_group.setdefault(home, []).append(key)
            old = self.current.get(key)
            if old is not None:
                for home in (("s", *old.group), ("v", *(old.verdict_group or ()))):
                    self._old_by_group.setdefault(home, []).append(old)
        for group, since in sorted(stances.items()):
            self._sweep_stance(group, since)
        for vgroup, since in sorted(verdicts.items()):
            self._sweep_verdict(vgroup, since)
        self._write(changed)

    def _members(self, group: tuple[str, str, str], since: Key, verdicts: bool) -> Iterator[Step]:
        """The steps of a group `sweep_group` needs, in key order: those before ``since`` that
        ended at or after it, the latest never-ended one of each kind before it, then those
        from ``since`` on, read a page at a time (the sweep may stop early)."""
        party, subject, claimant = group
        column = "proposal" if verdicts else "issue"
        start = key_text(since)
        mine = [party, subject, claimant]
        where = f"party = %s AND {column} = %s AND claimant = %s"
        extra = " AND verdict IS NOT NULL" if verdicts else ""
        rows = self._select(
            f"{where}{extra} AND ended_key IS NOT NULL AND ended_key >= %s AND sort_key < %s",
            [*mine, start, start],
        )
        moved = self._moved
        home = ("v" if verdicts else "s", *group)
        # rows left out below because they are in ``new`` instead
        room = 1 + sum(1 for old in self._old_by_group.get(home, ()) if old.key < since)
        kinds = ["v"] if verdicts else ["c", "n"]
        for kind in kinds:
            live = "verdict IS NOT NULL" if verdicts else "live = %s"
            params = [*mine] if verdicts else [*mine, kind]
            rows += self._select(
                f"{where} AND {live} AND ended_key IS NULL AND sort_key < %s",
                [*params, start],
                f"ORDER BY sort_key DESC LIMIT {room}",
            )
        before: dict[tuple[str, int], Step] = {}
        for step in rows:
            key = (step.source_id, step.coding.tabling)
            if key not in moved:
                before[key] = step
        yield from sorted(before.values(), key=lambda s: s.key)
        fresh = sorted((self.new[k] for k in self._by_group.get(home, ())), key=lambda s: s.key)
        yield from heapq.merge(
            fresh, self._pages(f"{where}{extra}", mine, start, moved), key=lambda s: s.key
        )

    def _pages(
        self, where: str, params: list[Any], start: str, moved: set[tuple[str, int]]
    ) -> Iterator[Step]:
        """A group's stored steps from ``start`` on, in key order, a page at a time (small
        first: a sweep usually settles within a few steps of the last it changes)."""
        after, op, size = start, ">=", FIRST_PAGE
        while True:
            page = self._select(
                f"{where} AND sort_key {op} %s",
                [*params, after],
                f"ORDER BY sort_key LIMIT {size}",
            )
            for step in page:
                if (step.source_id, step.coding.tabling) not in moved:
                    yield step
            if len(page) < size:
                return
            after, op, size = key_text(page[-1].key), ">", min(size * 4, PAGE_STEPS)

    def _settled(self, group: tuple[str, str, str], verdicts: bool) -> Any:
        """A `sweep_group` stop test for a group: true at a step past every key where this
        change acts (its steps' keys and ends, old and new) once each changed step is outranked
        for good by a step in force that nothing ends (a later one of its kind, or for a
        noncommittal one any on the scale). From there the group's steps are in force exactly
        as they were, so what is stored after that day stands."""
        home = ("v" if verdicts else "s", *group)
        changed = [self.new[k] for k in self._by_group.get(home, ())]
        changed += self._old_by_group.get(home, [])
        point: Key | None = None
        top: dict[str, Key] = {}
        for step in changed:
            for key in (step.key, step.ended_key):
                if key is not None and (point is None or key > point):
                    point = key
            kind = ("c" if step.verdict is not None else None) if verdicts else _live(step)
            if kind is not None and (kind not in top or step.key > top[kind]):
                top[kind] = step.key
        moved = self._moved
        best: dict[str, Key] = {}

        def settled(step: Step) -> bool:
            if step.ended_key is None and (step.source_id, step.coding.tabling) not in moved:
                kind = ("c" if step.verdict is not None else None) if verdicts else _live(step)
                if kind is not None and (kind not in best or step.key > best[kind]):
                    best[kind] = step.key
            if point is None or step.key < point:
                return False
            committed = "c" not in top or ("c" in best and best["c"] > top["c"])
            noncommittal = "n" not in top or "c" in best or ("n" in best and best["n"] > top["n"])
            return committed and noncommittal

        return settled

    def _sweep_stance(self, group: tuple[str, str, str], since: Key, bounded: bool = True) -> None:
        members = list(self._members(group, since, verdicts=False)) if not bounded else None
        steps = members if members is not None else self._members(group, since, verdicts=False)
        settled = self._settled(group, verdicts=False) if bounded else None
        swept: list[Step] = []

        def seen(found: Iterable[Step]) -> Iterator[Step]:
            for step in found:
                swept.append(step)
                yield step

        moves, days, stopped = sweep_group(seen(steps), since, settled=settled)
        if not self._intervals("stances", group, since, days, stopped):
            self._sweep_stance(group, since, bounded=False)
            return
        for step in swept:
            move = moves.get(step.source_id)
            if move is None or step.key < since:
                continue
            key = (step.source_id, step.coding.tabling)
            if (step.before, step.after) != move:
                self.new[key] = replace(self.new.get(key, step), before=move[0], after=move[1])

    def _sweep_verdict(self, group: tuple[str, str, str], since: Key, bounded: bool = True) -> None:
        settled = self._settled(group, verdicts=True) if bounded else None
        members = self._members(group, since, verdicts=True)
        _, days, stopped = sweep_group(members, since, verdicts=True, settled=settled)
        if not self._intervals("verdicts", group, since, days, stopped):
            self._sweep_verdict(group, since, bounded=False)

    def _intervals(
        self,
        table: str,
        group: tuple[str, str, str],
        since: Key,
        days: list[tuple[int, Step | None]],
        stopped: bool = False,
    ) -> bool:
        """Close the group's intervals from the day of ``since`` on that differ from the sweep,
        and add the sweep's; an interval that ends on that day and holds the step the sweep
        starts with is joined to the sweep's first, as a fold of every event joins them. A sweep
        that ``stopped`` early covers the days up to its last; the stored interval in force that
        day must hold the same step, and keeps its end (False, and nothing written, if it does
        not)."""
        party, subject, claimant = group
        column = "proposal" if table == "verdicts" else "issue"
        columns = VERDICT_COLUMNS if table == "verdicts" else STANCE_COLUMNS
        start = since[0]
        until = days[-1][0] if stopped and days else None
        bound = "" if until is None else f" AND valid_from <= {int(until)}"
        old = self.store._rows(
            self.cursor,
            f"SELECT valid_from, valid_to, {', '.join(columns[8:])} "
            f"FROM {{p}}positions_view_{table} WHERE negotiation = %s AND party = %s "
            f"AND {column} = %s AND claimant = %s AND {_CURRENT} AND valid_to >= %s{bound}",
            [self.negotiation, party, subject, claimant, start],
        )
        old_rows = {_interval_row(row) for row in old}
        fresh = [_interval_values(i, table == "verdicts") for i in intervals(days)]
        if until is not None:
            holding = [row for row in old_rows if row[0] <= until < row[1]]
            if len(holding) != 1 or not fresh or fresh[-1][2:] != holding[0][2:]:
                return False
            fresh[-1] = (fresh[-1][0], holding[0][1], *fresh[-1][2:])
        first = min(old_rows, default=None)
        if first is not None and first[0] < start:
            kept = (first[0], start, *first[2:])
            if fresh and fresh[0][0] == start and fresh[0][2:] == first[2:]:
                fresh[0] = (first[0], fresh[0][1], *fresh[0][2:])
            else:
                fresh.insert(0, kept)
        new_rows = set(fresh)
        closing = old_rows - new_rows
        adding = new_rows - old_rows
        for row in closing:
            self.store._execute(
                self.cursor,
                f"UPDATE {{p}}positions_view_{table} SET recorded_to = %s WHERE negotiation = %s "
                f"AND party = %s AND {column} = %s AND claimant = %s AND valid_from = %s "
                f"AND {_CURRENT}",
                [self.stamp, self.negotiation, party, subject, claimant, row[0]],
            )
        if closing:
            self.store._execute(  # rows opened and closed now were never in force
                self.cursor,
                f"DELETE FROM {{p}}positions_view_{table} WHERE negotiation = %s "
                f"AND party = %s AND {column} = %s AND claimant = %s "
                "AND recorded_from = %s AND recorded_to = %s",
                [self.negotiation, party, subject, claimant, self.stamp, self.stamp],
            )
            keys = [self.negotiation, party, subject, claimant]
            self.store._execute(  # a group whose every row was never in force: none at all
                self.cursor,
                "DELETE FROM {p}positions_view_step_groups WHERE negotiation = %s AND kind = %s "
                "AND party = %s AND subject = %s AND claimant = %s AND NOT EXISTS (SELECT 1 "
                f"FROM {{p}}positions_view_{table} WHERE negotiation = %s AND party = %s "
                f"AND {column} = %s AND claimant = %s)",
                [self.negotiation, table, party, subject, claimant, *keys],
            )
        self.store._insert(
            self.cursor,
            table,
            columns,
            [
                (
                    self.negotiation,
                    party,
                    subject,
                    claimant,
                    row[0],
                    row[1],
                    self.stamp,
                    OPEN,
                    *row[2:],
                )
                for row in sorted(adding)
            ],
        )
        if adding:
            self.store._insert(
                self.cursor,
                "step_groups",
                ("negotiation", "kind", "party", "subject", "claimant"),
                [(self.negotiation, table, party, subject, claimant)],
            )
        return True

    def _write(self, changed: list[tuple[Step | None, Step]]) -> None:
        rows = []
        closing = []
        for key, step in self.new.items():
            previous = self.current.get(key)
            if previous is not None and _all_fields(previous) == _all_fields(step):
                continue
            if previous is not None:
                closing.append(key)
            rows.append(_step_row(self.negotiation, step, self.stamp))
        for start in range(0, len(closing), CHUNK):
            chunk = closing[start : start + CHUNK]
            for tabling in sorted({t for _, t in chunk}):
                ids = [sid for sid, t in chunk if t == tabling]
                marks = ", ".join("%s" for _ in ids)
                self.store._execute(
                    self.cursor,
                    "UPDATE {p}positions_view_steps SET recorded_to = %s WHERE negotiation = %s "
                    f"AND tabling = %s AND {_CURRENT} AND source_id IN ({marks})",
                    [self.stamp, self.negotiation, int(tabling), *ids],
                )
                self.store._execute(  # rows opened and closed now were never in force
                    self.cursor,
                    "DELETE FROM {p}positions_view_steps WHERE negotiation = %s "
                    f"AND tabling = %s AND source_id IN ({marks}) "
                    "AND recorded_from = %s AND recorded_to = %s",
                    [self.negotiation, int(tabling), *ids, self.stamp, self.stamp],
                )
        self.store._insert(self.cursor, "steps", STEP_COLUMNS, rows)


def _rule_fields(step: Step) -> tuple[Any, ...]:
    """What decides a step's effect on its groups (its shift aside)."""
    return (
        step.coding,
        step.group,
        step.verdict_group,
        step.position,
        step.terms,
        step.verdict,
        step.conditions,
        step.depth,
        step.ended_key,
    )


def _all_fields(step: Step) -> tuple[Any, ...]:
    return (*_rule_fields(step), step.ended_by, step.ended_how, step.before, step.after)


def _step_row(negotiation: str, step: Step, stamp: str) -> tuple[Any, ...]:
    c = step.coding
    return (
        negotiation,
        c.source_id,
        int(c.tabling),
        stamp,
        OPEN,
        c.party,
        c.about,
        c.issue,
        c.position,
        c.terms,
        c.verdict,
        c.proposal,
        c.conditions,
        c.day,
        c.slot,
        c.stated_on,
        c.clarifies,
        c.retracts,
        c.recorded_at,
        c.notification_id,
        c.kind,
        step.party,
        step.claimant,
        step.issue,
        step.position,
        step.terms,
        step.verdict,
        step.proposal,
        step.conditions,
        step.depth,
        key_text(step.key),
        _live(step),
        step.ended_by,
        step.ended_how,
        key_text(step.ended_key) if step.ended_key is not None else None,
        step.before,
        step.after,
        c.member,
        json.dumps(list(c.parties)) if c.parties else None,
    )


def step_of_row(row: Sequence[Any]) -> Step:
    """A `Step` from ``source_id, tabling`` and the `STEP_SELECT` columns."""
    (
        source_id,
        tabling,
        own_party,
        about,
        raw_issue,
        raw_position,
        raw_terms,
        raw_verdict,
        raw_proposal,
        raw_conditions,
        day,
        slot,
        stated_on,
        clarifies,
        retracts,
        recorded_at,
        notification_id,
        _kind,
        party,
        claimant,
        issue,
        position,
        terms,
        verdict,
        proposal,
        conditions,
        depth,
        _sort_key,
        _live_kind,
        ended_by,
        ended_how,
        ended_key,
        before,
        after,
        member,
        parties,
    ) = row
    coding = Coding(
        source_id=source_id,
        tabling=int(tabling),
        party=own_party,
        about=about,
        issue=raw_issue,
        position=raw_position,
        terms=raw_terms,
        verdict=raw_verdict,
        proposal=raw_proposal,
        conditions=raw_conditions,
        day=int(day),
        slot=int(slot),
        stated_on=stated_on,
        clarifies=clarifies,
        retracts=retracts,
        recorded_at=recorded_at,
        notification_id=int(notification_id),
        member=int(member),
        parties=tuple(json.loads(parties)) if parties else (),
    )
    return Step(
        coding,
        party=party,
        claimant=claimant,
        issue=issue,
        position=position,
        terms=terms,
        verdict=verdict,
        proposal=proposal,
        conditions=conditions,
        depth=int(depth),
        ended_by=ended_by,
        ended_how=ended_how,
        ended_key=key_of_text(ended_key) if ended_key is not None else None,
        before=before,
        after=after,
    )


def _interval_values(interval: Interval, verdicts: bool) -> tuple[Any, ...]:
    step = interval.step
    c = step.coding
    if verdicts:
        assert step.verdict is not None
        value, extra = step.verdict, step.conditions
    else:
        assert step.position is not None
        value, extra = step.position, step.terms
    return (
        interval.start,
        interval.end,
        c.source_id,
        int(c.tabling),
        value,
        extra,
        c.stated_on,
        c.day,
    )


def _interval_row(row: Sequence[Any]) -> tuple[Any, ...]:
    valid_from, valid_to, source_id, tabling, value, extra, stated_on, day = row
    return (
        int(valid_from),
        int(valid_to),
        source_id,
        int(tabling),
        value,
        extra,
        stated_on,
        int(day),
    )


__all__ = ["OPEN", "OPEN_DAY", "OWN", "StepStore"]
