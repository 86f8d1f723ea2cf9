"""The event-sourced application: commands that record, and access to the recorded events."""

from __future__ import annotations

import itertools
import os
import random
import sqlite3
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast
from uuid import UUID

from eventsourcing.application import Application, ProcessingEvent
from eventsourcing.persistence import Mapper, PersistenceError, RecordConflictError

from positions.codebook import Amendment, Correction
from positions.domain import (
    Index,
    Negotiation,
    PartyRecord,
    plan_amendment,
    plan_correction,
    plan_import,
    project_index,
    project_negotiation,
    project_party_record,
)
from positions.errors import (
    ConflictError,
    NotFoundError,
    StoreError,
    first_line,
)
from positions.events import DomainEvent
from positions.files import new_file_mode
from positions.hints import did_you_mean
from positions.ids import fix_key, index_id, negotiation_id, record_id, registry_id
from positions.registry import Registration, backfill, registry_events
from positions.store.integrity import unseal
from positions.store.persistence import (
    PydanticMapper,
    StoreLocation,
    foreign_tables,
    parse_store_url,
    postgres_prepared,
)
from positions.timeline import NegotiationRecord

if TYPE_CHECKING:
    from positions.drafts import Scenario
    from positions.queries.stance import StepQueries
    from positions.views.store import ViewStore


@dataclass(frozen=True)
class ImportResult:
    negotiations: list[str]
    statements: int
    definitions: int
    events: int
    corrections: int = 0
    amendments: int = 0
    views_rebuilt: bool = False
    """Whether the views were found short of the events and rebuilt before planning."""
    registered: int = 0
    """How many statements and corrections recorded by an earlier version were registered
    before planning (`positions.registry.backfill`)."""


Written = TypeVar("Written")

ImportProgress = Callable[[str, int, int], None]
"""Told how an import goes, as ``(phase, done, total)``: ``reading`` files, ``checking``
statements (the plan), ``writing`` events (its one transaction), then ``views`` (their
catch-up). Each phase starts at ``done`` 0 and ends at ``done == total``."""


def _quiet(phase: str, done: int, total: int) -> None:
    """An `ImportProgress` that shows nothing."""


class PositionsApplication(Application[Any]):
    """The record of one store: import scenarios, read back a negotiation's events."""

    name = "positions"
    allow_hypothetical = False
    """Whether imports may hold hypothetical statements: only in a throwaway what-if store."""
    views_rebuilt = False
    """Whether a write found the views short of the events and rebuilt them first."""

    def __init__(self, location: StoreLocation, *, create: bool = True) -> None:
        self.location = location
        env = dict(location.env)
        try:
            if location.is_postgres:
                env["CREATE_TABLE"] = "true" if create else "false"
                with postgres_prepared(location, create=create):
                    super().__init__(env=env)
                    self.views: ViewStore | None = self._open_views()
            else:
                super().__init__(env=env)
                self.views = self._open_views()
        except (PersistenceError, OSError, sqlite3.Error) as exc:  # sqlite3: a file not a database
            reason = location.scrub(first_line(exc))
            if reason in DAMAGED:
                raise StoreError(
                    f"store {location.display} is not a positions store or is damaged "
                    f"({reason}): run 'positions verify'"
                ) from None
            raise StoreError(f"cannot open store {location.display}: {reason}") from None
        self._mapper().lookup = self._stored_digest

    def _open_views(self) -> ViewStore:
        from positions.views.store import ViewStore

        return ViewStore(self)

    @classmethod
    def open(cls, url: str, *, create: bool = False) -> PositionsApplication:
        location = parse_store_url(url)
        if not create and not location.exists():
            raise StoreError(f"store {location.display} does not exist (import a scenario first)")
        if create and location.sqlite_path is not None:
            parent = location.sqlite_path.parent
            if not parent.exists():
                raise StoreError(f"cannot create store {location.display}: no directory {parent}")
        others = foreign_tables(location.sqlite_path) if location.exists() else []
        if others:
            shown = ", ".join(others[:5]) + (", …" if len(others) > 5 else "")
            raise StoreError(
                f"{location.display} is not a positions store: it is an SQLite database of "
                f"something else (its tables: {shown}); give --store a new file or a store "
                "the tool made"
            )
        return cls(location, create=create)

    def construct_mapper(self) -> Mapper:  # type: ignore[type-arg]
        return self.factory.mapper(
            transcoder=self.construct_transcoder(), mapper_class=PydanticMapper
        )

    def _mapper(self) -> PydanticMapper:
        assert isinstance(self.mapper, PydanticMapper)
        return self.mapper

    def save(self, *objs: Any, **kwargs: Any) -> Any:
        """Save events in one transaction; chain digests are computed afresh for every save.

        The commands of `positions` save events, never aggregates (state is folded by
        `positions.domain`), so the events go straight to the event store, without the library's
        per-object runtime protocol checks or its aggregate cache and snapshots.
        """
        self._mapper().heads.clear()
        try:
            processing: ProcessingEvent[Any] = ProcessingEvent()
            processing.events.extend(objs)
            processing.saved_kwargs.update(kwargs)
            recordings = self._record(processing)
            self._notify(recordings)
            return recordings
        finally:
            self._mapper().heads.clear()

    def _prime_heads(self, events: Sequence[DomainEvent]) -> None:
        """Give the mapper the chain digest each stream's first new event follows, read before
        the write transaction opens (the mapper would otherwise ask the store mid-save)."""
        first: dict[Any, int] = {}
        for event in events:
            known = first.get(event.originator_id)
            if known is None or event.originator_version < known:
                first[event.originator_id] = event.originator_version
        mapper = self._mapper()
        for originator_id, version in first.items():
            if version > 1:
                digest = self._stored_digest(originator_id, version - 1)
                if digest is not None:
                    mapper.heads[originator_id] = (version - 1, digest)

    def _stored_digest(self, originator_id: Any, version: int) -> str | None:
        """The chain digest of a stored event (the mapper asks, to chain the next one to it)."""
        try:
            found = self.recorder.select_events(originator_id, gt=version - 1, lte=version, limit=1)
        except PersistenceError as exc:
            message = self.location.scrub(first_line(exc))
            raise StoreError(f"cannot read store {self.location.display}: {message}") from None
        if not found:
            return None
        return unseal(self._mapper().open_state(found[0].state))[0]

    # -- commands

    def import_files(
        self,
        paths: Iterable[Path | str],
        now: datetime | None = None,
        progress: ImportProgress = _quiet,
    ) -> ImportResult:
        """Read and validate every file, then record what is new in one transaction (or
        nothing). Each file's records are dropped as they are planned; should another writer
        get there first (a version conflict), the files are read again for the next plan."""
        files = [Path(p) for p in paths]
        return self.import_read(once_then(_read_files(files, progress), files), now, progress)

    def import_scenarios(
        self,
        scenarios: Sequence[Scenario],
        now: datetime | None = None,
        progress: ImportProgress = _quiet,
    ) -> ImportResult:
        """Plan on the current state and save in one transaction; when another writer got there
        first (a version conflict), read the state again and plan again, with a bounded,
        jittered back-off. A writer that gives up raises `ConflictError`."""
        return self.import_read(lambda: list(scenarios), now, progress)

    def import_read(
        self,
        load: Callable[[], list[Scenario]],
        now: datetime | None = None,
        progress: ImportProgress = _quiet,
    ) -> ImportResult:
        """`import_scenarios` of the scenarios ``load`` gives, a list of its own at each call:
        the plan takes it, dropping each record once it is planned, so that a large import
        never holds every record beside every planned event. ``load`` is called again only
        after a version conflict (`once_then` reads the files again then)."""
        return self._retrying(lambda: self._import_once(load, now, progress), "import")

    def _retrying(self, write: Callable[[], Written], what: str) -> Written:
        """``write`` (which plans on the current state and saves), planned and saved again
        when another writer got there first (a version conflict), with a bounded, jittered
        back-off; `ConflictError` once the attempts are spent (``what`` names the command)."""
        attempts = write_attempts()
        for attempt in range(1, attempts + 1):
            try:
                return write()
            except RecordConflictError:
                if attempt == attempts:
                    break
                time.sleep(random.uniform(0, min(2.0, 0.05 * 2**attempt)))
        raise ConflictError(
            f"gave up after {attempts} attempt(s): other writers kept changing the same "
            f"streams of store {self.location.display}; nothing was written, run the {what} again"
        )

    def _import_once(
        self,
        load: Callable[[], list[Scenario]],
        now: datetime | None,
        progress: ImportProgress,
    ) -> ImportResult:
        scenarios = load()  # a list of its own: the plan takes it (`plan_import`)
        count = sum(len(s.statements) for s in scenarios)
        progress("checking", 0, count)
        self.views_rebuilt = False
        slugs = list(dict.fromkeys(s.negotiation for s in scenarios))
        existing = {slug: self._negotiation(slug) for slug in slugs}
        registered = self._open_registries(existing)
        at = now or datetime.now(UTC)
        wanted: dict[str, list[str]] = {slug: [] for slug in slugs}
        for scenario in scenarios:
            ids = wanted[scenario.negotiation]
            for located in scenario.statements:
                value = located.value
                ids.append(value.id)
                ids.extend(t for t in (value.clarifies, value.retracts) if t is not None)
            for located in (*scenario.corrections, *scenario.amendments):
                ids.append(located.value.statement)
        fixing = {s.negotiation for s in scenarios if s.corrections or s.amendments}
        records = self._planning_records(existing, wanted, fixing)
        known = self._registered_corrections(
            [(s.negotiation, c.value) for s in scenarios for c in (*s.corrections, *s.amendments)]
        )
        index = self._index()
        with self._views_work("read the views of store {store}"):  # records read as asked
            plan = plan_import(
                index,
                existing,
                records,
                scenarios,
                at,
                allow_hypothetical=self.allow_hypothetical,
                known_corrections=known,
            )
        progress("checking", count, count)
        result = ImportResult(
            plan.negotiations,
            plan.statements,
            plan.definitions,
            len(plan.events) + len(plan.opened) + len(plan.registrations),
            plan.corrections,
            plan.amendments,
            self.views_rebuilt,
            registered,
        )
        if plan.events:
            self._save(plan.events, plan.opened, plan.registrations, at, progress)
            progress("views", 0, 1)
            self.catch_up()
            progress("views", 1, 1)
        return result

    def _open_registries(self, existing: dict[str, Negotiation | None]) -> int:
        """Register what the recorded negotiations among ``existing`` hold, for those a
        version before the registry recorded (ADR 0017): once, in a transaction of its own,
        read from the events. How many statements and corrections were registered."""
        if self.views is None:
            return 0  # an in-memory store: made by this version, its registries are open
        recorded = [slug for slug, state in existing.items() if state is not None]
        opened = self._registered_streams([registry_id(slug) for slug in recorded])
        count = 0
        for slug in recorded:
            if registry_id(slug) in opened:
                continue
            state = existing[slug]
            assert state is not None
            with self._views_work("read store {store}"):
                held = self.views.held_events(slug, list(state.parties))
            entries, _ = backfill(slug, held)  # an id held twice: `positions verify` says so
            try:
                self._save([], [slug], entries, datetime.now(UTC))
            except RecordConflictError:
                continue  # another writer registered it first
            count += len(entries)
        return count

    def _registered_streams(self, streams: list[UUID]) -> set[UUID]:
        """Those of ``streams`` that hold an event (read from the events table)."""
        if self.views is None:
            return {s for s in streams if self._events(s)}
        with self._views_work("read store {store}"):
            return set(self.views.stream_versions(streams))

    def _registered_corrections(
        self, corrections: list[tuple[str, Correction | Amendment]]
    ) -> set[UUID] | None:
        """The keys of those of ``corrections`` (and amendments) that are recorded, from the
        registry; None for an in-memory store, whose records (folded from its events) answer."""
        if self.views is None:
            return None
        return self._registered_streams([fix_key(slug, c) for slug, c in corrections])

    def _save(
        self,
        events: list[DomainEvent],
        opened: Sequence[str] = (),
        registrations: Sequence[Registration] = (),
        now: datetime | None = None,
        progress: ImportProgress = _quiet,
    ) -> None:
        """Save in one transaction ``events``, then the registry events of ``opened`` and
        ``registrations`` (`positions.registry`; after the others, so that a run of statement
        events stays a run), consuming ``events`` (the list is emptied as its events
        are stored, a chunk at a time, so that a large import never holds every stored event
        at once). A version conflict (`RecordConflictError`) passes through for the caller to
        re-plan, any other failure is a `StoreError`."""
        at = now or datetime.now(UTC)
        count = len(events) + len(opened) + len(registrations)
        progress("writing", 0, count)
        try:
            insert_chunks = getattr(self.recorder, "insert_chunks", None)
            if insert_chunks is None:  # the in-memory store: one call
                self.save(*events, *registry_events(opened, registrations, at))
                events.clear()
            else:
                mapper = self._mapper()
                mapper.heads.clear()
                try:
                    self._prime_heads(events)
                    chunks = _stored_chunks(
                        mapper, events, registry_events(opened, registrations, at)
                    )
                    insert_chunks(_told(chunks, lambda done: progress("writing", done, count)))
                finally:
                    mapper.heads.clear()
        except RecordConflictError:
            raise
        except PersistenceError as exc:
            raise StoreError(
                f"could not write to store {self.location.display}: "
                f"{self.location.scrub(first_line(exc))}"
            ) from None
        global _committed
        _committed += count
        progress("writing", count, count)

    # -- queries

    def get_negotiations(self) -> list[str]:
        return list(self._index().negotiations)

    def resolve_negotiation(self, negotiation: str | None) -> str:
        """The negotiation a query is about: the one named, or the store's only one."""
        known = self.get_negotiations()
        if negotiation is not None:
            if negotiation not in known:
                listed = ", ".join(known) or "none"
                raise NotFoundError(
                    f"unknown negotiation '{negotiation}' in store {self.location.display} "
                    f"(it holds: {listed}){did_you_mean(negotiation, known)}"
                )
            return negotiation
        if not known:
            raise NotFoundError(f"store {self.location.display} holds no negotiation yet")
        if len(known) > 1:
            raise NotFoundError(
                f"store {self.location.display} holds several negotiations "
                f"({', '.join(known)}): choose one with --negotiation (or POSITIONS_NEGOTIATION)"
            )
        return known[0]

    def get_negotiation(self, negotiation: str) -> Negotiation:
        """What a recorded negotiation defines: its parties, speakers, issues, proposals."""
        state = self._negotiation(negotiation)
        if state is None:
            raise NotFoundError(f"unknown negotiation '{negotiation}'")
        return state

    def get_record(self, negotiation: str, known_at: datetime | None = None) -> NegotiationRecord:
        """A negotiation as recorded, or as the record stood at ``known_at``: read from the
        materialized views (brought up to date first), or from the streams of an in-memory
        store."""
        if known_at is not None and known_at.tzinfo is None:
            known_at = known_at.replace(tzinfo=UTC)
        if self.views is not None:
            self.catch_up()
            try:
                record = self.views.read_record(negotiation, known_at)
            except PersistenceError as exc:
                raise self._read_error(exc) from None
            if record is None:
                self._not_recorded(negotiation, known_at)
            assert record is not None
            return record
        return self.get_record_from_streams(negotiation, known_at)

    def get_tables(self, negotiation: str, known_at: datetime | None = None) -> StepQueries:
        """The stance, comparison, proposals and history tables of a negotiation, answered by
        SQL on the step tables of the views (brought up to date first, where this process may
        write; otherwise answered from the views as they are, with ``behind`` the number of
        events they have not folded); a context manager holding one read transaction. Only for
        a store with views (not ``memory://``)."""
        from positions.queries.stance import StepQueries

        assert self.views is not None
        if known_at is not None and known_at.tzinfo is None:
            known_at = known_at.replace(tzinfo=UTC)
        behind = 0
        try:
            if self.views.read_only:
                behind = self.views.behind()
            else:
                try:
                    self.catch_up()  # nothing to fold: no write, no lock
                except StoreError as exc:  # a read-only file or role: answer from the views
                    if not _cannot_write(str(exc)):
                        raise
                    behind = self.views.behind()
            tables = StepQueries(self.views, negotiation, known_at)
        except PersistenceError as exc:
            raise self._read_error(exc) from None
        tables.behind = behind
        return tables

    def get_record_from_streams(
        self, negotiation: str, known_at: datetime | None = None
    ) -> NegotiationRecord:
        """`get_record` by replaying the negotiation's streams, bypassing the views: what an
        in-memory store answers with, and what the views must always agree with."""
        if known_at is not None and known_at.tzinfo is None:
            known_at = known_at.replace(tzinfo=UTC)
        codebook = self._events(negotiation_id(negotiation))
        state = project_negotiation(codebook)
        if state is None or (known_at is not None and codebook[0].timestamp > known_at):
            self._not_recorded(negotiation, known_at)
        assert state is not None
        statements: list[DomainEvent] = []
        for party in state.parties:
            statements.extend(self._events(record_id(negotiation, party)))
        return NegotiationRecord.from_events(codebook, statements, known_at)

    @staticmethod
    def _not_recorded(negotiation: str, known_at: datetime | None) -> None:
        if known_at is None:
            raise NotFoundError(f"unknown negotiation '{negotiation}'")
        raise NotFoundError(
            f"negotiation '{negotiation}' was not yet recorded at {known_at.isoformat()}"
        )

    def catch_up(self) -> int:
        """Bring the materialized views up to date with the events; how many events that read."""
        if self.views is None:
            return 0
        with self._views_work(
            "bring the views of store {store} up to date",
            " (the events are safe; any later command catches the views up)",
        ):
            return self.views.catch_up()

    def rebuild(self) -> int:
        """Rebuild the materialized views from the events; how many events were read."""
        if self.views is None:
            return len(self.get_notifications())
        with self._views_work("rebuild the views of store {store}"):
            return self.views.rebuild()

    @contextmanager
    def _views_work(self, what: str, after: str = "") -> Iterator[None]:
        """Work on the views; a store failure is a `StoreError`
        saying ``cannot <what>: <the library's message><after>``."""
        try:
            yield
        except PersistenceError as exc:
            message = self.location.scrub(first_line(exc))
            raise StoreError(
                f"cannot {what.format(store=self.location.display)}: {message}{after}"
            ) from None

    def _read_error(self, exc: BaseException) -> StoreError:
        message = self.location.scrub(first_line(exc))
        return StoreError(f"cannot read store {self.location.display}: {message}")

    def correct(
        self, negotiation: str, correction: Correction, now: datetime | None = None
    ) -> DomainEvent:
        """Record a correction of a statement's coding; the statement's own event stays.
        Another writer that changed the same party's record first (a version conflict) makes
        it plan again on the new state, with the same bounded back-off as an import."""
        return self._retrying(
            lambda: self._correct_once(negotiation, correction, now), "correction"
        )

    def amend(
        self, negotiation: str, amendment: Amendment, now: datetime | None = None
    ) -> DomainEvent:
        """Record an amendment of a statement's descriptive fields (its quote, sources,
        notes...); the statement's own event stays. Retried on a version conflict as
        `correct` is."""
        return self._retrying(lambda: self._correct_once(negotiation, amendment, now), "amendment")

    def _correct_once(
        self, negotiation: str, correction: Correction | Amendment, now: datetime | None
    ) -> DomainEvent:
        state = self._negotiation(negotiation)
        if state is None:
            raise NotFoundError(f"unknown negotiation '{negotiation}'")
        found = self._planning_records(
            {negotiation: state}, {negotiation: [correction.statement]}, {negotiation}
        )
        records = {party: record for (_, party), record in found.items()}
        self._open_registries({negotiation: state})
        known = self._registered_corrections([(negotiation, correction)])
        at = now or datetime.now(UTC)
        with self._views_work("read the views of store {store}"):  # records read as asked
            if isinstance(correction, Amendment):
                event = plan_amendment(state, records, correction, at, known)
            else:
                event = plan_correction(state, records, correction, at, known)
        self._save(
            [event],
            registrations=[
                Registration(
                    negotiation,
                    _party_of(records, event.originator_id),
                    event.originator_version,
                    correction.statement,
                    correction,
                )
            ],
            now=at,
        )
        self.catch_up()
        return event

    def get_all_events(self) -> list[DomainEvent]:
        """Every stored event, in the order of the notification log."""
        return [event for _, event in self.get_notifications()]

    def get_notifications(self) -> list[tuple[int, DomainEvent]]:
        """Every stored event with its notification id, in the order of the log."""
        events: list[tuple[int, DomainEvent]] = []
        start = 1
        while True:
            try:
                batch = self.recorder.select_notifications(start, 1000)
            except PersistenceError as exc:
                raise self._read_error(exc) from None
            if not batch:
                return events
            events.extend((n.id, cast(DomainEvent, self.mapper.to_domain_event(n))) for n in batch)
            start = batch[-1].id + 1

    # -- streams

    def _events(self, originator_id: Any) -> list[DomainEvent]:
        try:
            return [cast(DomainEvent, e) for e in self.events.get(originator_id)]
        except PersistenceError as exc:
            message = self.location.scrub(first_line(exc))
            raise StoreError(f"cannot read store {self.location.display}: {message}") from None

    def _index(self) -> Index:
        return project_index(self._events(index_id()))

    def _negotiation(self, slug: str) -> Negotiation | None:
        return project_negotiation(self._events(negotiation_id(slug)))

    def _planning_records(
        self,
        existing: dict[str, Negotiation | None],
        wanted: dict[str, list[str]],
        fixing: set[str],
    ) -> dict[tuple[str, str], PartyRecord]:
        """The party records of the negotiations in ``existing`` that are recorded, to plan
        on. With views, each record's version comes from the events table and its statements
        are read from the views as the planner asks for them (``wanted``: the ids it will ask
        for, read first in a few queries), so that planning a few statements never reads a
        large record whole; its corrections, which only planning a correction or an amendment
        reads, are read for the negotiations in ``fixing`` alone. The versions are read
        before the views catch up: a save planned on them fails its version check if any of
        its streams changed since."""
        streams = {
            (slug, party): record_id(slug, party)
            for slug, state in existing.items()
            if state is not None
            for party in state.parties
        }
        records: dict[tuple[str, str], PartyRecord] = {}
        if self.views is None:
            for (slug, party), _ in streams.items():
                record = self._party_record(slug, party)
                if record is not None:
                    records[(slug, party)] = record
            return records
        from positions.views.store import RecordedStatements, StatementSource

        with self._views_work("read the views of store {store}"):
            versions = self.views.stream_versions(list(streams.values()))
            self.catch_up()
            self._account_for(streams, versions)
            for slug in dict.fromkeys(slug for slug, _ in streams):
                source = StatementSource(self.views, slug)
                source.prefetch(wanted.get(slug, ()))
                corrections = self.views.corrections_of(slug) if slug in fixing else []
                amendments = self.views.amendments_of(slug)
                for (neg, party), stream in streams.items():
                    if neg == slug and stream in versions:
                        records[(slug, party)] = PartyRecord(
                            slug,
                            party,
                            versions[stream],
                            RecordedStatements(source, party),
                            corrections,
                            amendments,
                        )
        return records

    def _account_for(self, streams: dict[tuple[str, str], UUID], versions: dict[UUID, int]) -> None:
        """Views that hold fewer rows than the party records have events (their tables
        dropped, a row deleted behind the tool's back) would let an import record again what
        is recorded already: they are rebuilt from the events first, with a warning. (The
        events of a party record are its opening, its statements and its corrections; more
        rows than that is a writer that came in between, whose save the version check stops.)
        The command says so (``ImportResult.views_rebuilt``)."""
        assert self.views is not None
        for slug in dict.fromkeys(slug for slug, _ in streams):
            events = sum(
                versions[stream] - 1
                for (neg, _), stream in streams.items()
                if neg == slug and stream in versions
            )
            if self.views.folded(slug) < events:
                self.views.rebuild()
                self.views_rebuilt = True
                return

    def _party_record(self, slug: str, party: str) -> PartyRecord | None:
        return project_party_record(self._events(record_id(slug, party)))


DAMAGED = frozenset({"file is not a database", "database disk image is malformed"})
"""SQLite's words for a file that is not a database, or one whose pages were damaged."""

SAVE_CHUNK = 10_000
"""Events mapped to stored events and inserted at a time, inside a save's one transaction."""


def _stored_chunks(
    mapper: PydanticMapper, events: list[DomainEvent], then: Iterable[DomainEvent] = ()
) -> Iterator[list[Any]]:
    """``events``, then ``then``, as stored events, a chunk at a time, in order; the list is
    emptied as it goes, so each event can be freed once it is stored."""
    events.reverse()
    to_stored = mapper.to_stored_event
    pop = events.pop
    while events:
        yield [to_stored(pop()) for _ in range(min(SAVE_CHUNK, len(events)))]
    rest = iter(then)
    while chunk := [to_stored(event) for event in itertools.islice(rest, SAVE_CHUNK)]:
        yield chunk


def _read_files(files: list[Path], progress: ImportProgress) -> list[Scenario]:
    """The scenarios of ``files``, read and validated file by file (telling ``progress``);
    a `ScenarioError` naming the problems of every file."""
    from positions.scenario import read_scenarios  # YAML and the input models: on demand

    progress("reading", 0, len(files))
    return read_scenarios(files, each=lambda n, _: progress("reading", n, len(files)))


def _told(chunks: Iterator[list[Any]], tell: Callable[[int], None]) -> Iterator[list[Any]]:
    """``chunks``, telling how many items went before each one is handed on."""
    done = 0
    for chunk in chunks:
        tell(done)
        yield chunk
        done += len(chunk)


def _party_of(records: dict[str, PartyRecord], stream: UUID) -> str:
    """The party whose record stream is ``stream``."""
    return next(r.party for r in records.values() if record_id(r.negotiation, r.party) == stream)


def once_then(
    scenarios: list[Scenario],
    files: Sequence[Path],
    read: Callable[[Sequence[Path]], list[Scenario]] | None = None,
) -> Callable[[], list[Scenario]]:
    """A ``load`` for `PositionsApplication.import_read`: ``scenarios`` (already read from
    ``files``) the first time, the files read again (by ``read``; by default as
    `read_scenarios` reads them) each time after."""
    first = [scenarios]

    def load() -> list[Scenario]:
        if first:
            return first.pop()
        return read(files) if read is not None else _read_files(list(files), _quiet)

    return load


def import_into(
    url: str, load: Callable[[], list[Scenario]], progress: ImportProgress = _quiet
) -> ImportResult:
    """Import the scenarios ``load`` gives (`PositionsApplication.import_read`) into the store
    at ``url``, creating it. A new SQLite store is written under a temporary name beside it
    and given its name once the import has committed (`_new_file`), so that a refused or
    interrupted first import leaves no store behind, in one planning pass."""
    location = parse_store_url(url)
    if location.sqlite_path is not None and not location.sqlite_path.exists():
        return _new_file(location, load, progress)  # (an empty file: made a store in place)
    app = PositionsApplication.open(url, create=True)
    try:
        return app.import_read(load, progress=progress)
    finally:
        app.close()


def _new_file(
    location: StoreLocation, load: Callable[[], list[Scenario]], progress: ImportProgress
) -> ImportResult:
    """The first import of an SQLite store, into ``.NAME.XXXX.new`` in its directory, then
    hard-linked to the store's name (which fails, rather than replace it, if another writer
    created the store meanwhile: the import is then made again into that store)."""
    path = location.sqlite_path
    assert path is not None
    if not path.parent.is_dir():
        raise StoreError(f"cannot create store {location.display}: no directory {path.parent}")
    try:
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".new", dir=path.parent)
    except OSError as exc:
        raise StoreError(f"cannot create store {location.display}: {exc.strerror}") from None
    os.close(fd)
    temporary = Path(name)
    try:
        temporary.chmod(new_file_mode())  # as sqlite3 would have made the file
        app = PositionsApplication(
            StoreLocation(location.url, {**location.env, "SQLITE_DBNAME": name}, temporary),
            create=True,
        )
        try:
            result = app.import_read(load, progress=progress)
        finally:
            app.close()
        _checkpoint(temporary)
        if result.events == 0:
            return result  # nothing to record: no store is made
        try:
            os.link(temporary, path)
        except FileExistsError:
            return import_into(location.url, load, progress)
        except OSError as exc:
            raise StoreError(f"cannot create store {location.display}: {exc.strerror}") from None
        return result
    finally:
        for leftover in (temporary, Path(f"{name}-wal"), Path(f"{name}-shm")):
            leftover.unlink(missing_ok=True)


def _checkpoint(path: Path) -> None:
    """Every committed page of an SQLite file's write-ahead log written into the file itself
    (closing the last connection does this; a log left behind is checkpointed here)."""
    log = Path(f"{path}-wal")
    if log.exists() and log.stat().st_size > 0:
        connection = sqlite3.connect(path)
        try:
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            connection.close()


WRITE_ATTEMPTS_ENV = "POSITIONS_WRITE_ATTEMPTS"


_committed = 0
"""How many events this process's saves have committed (`committed_events`)."""


def committed_events() -> int:
    """How many events this process has committed to a store: a command interrupted after
    its write committed (while the views catch up, say) says so rather than `nothing
    written`."""
    return _committed


def write_attempts() -> int:
    """How many times a write is tried when other writers conflict (default 12)."""
    try:
        return max(1, int(os.environ.get(WRITE_ATTEMPTS_ENV, "12")))
    except ValueError:
        return 12


def _cannot_write(message: str) -> bool:
    """Whether a store error says this process may not write (not that the data is wrong)."""
    lowered = message.lower()
    return any(
        words in lowered
        for words in ("readonly database", "read-only", "permission denied", "read only")
    )
