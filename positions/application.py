"""The event-sourced application: commands that record, and access to the recorded events."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from eventsourcing.application import Application
from eventsourcing.persistence import Mapper, PersistenceError

from positions.domain import (
    Index,
    Negotiation,
    PartyRecord,
    index_id,
    negotiation_id,
    plan_import,
    project_index,
    project_negotiation,
    project_party_record,
    record_id,
)
from positions.errors import NotFoundError, StoreError
from positions.events import DomainEvent
from positions.persistence import PydanticMapper, StoreLocation, parse_store_url
from positions.scenario import Scenario, read_scenarios
from positions.timeline import NegotiationRecord


@dataclass(frozen=True)
class ImportResult:
    negotiations: list[str]
    statements: int
    definitions: int
    events: int


class PositionsApplication(Application[Any]):
    """The record of one store: import scenarios, read back a negotiation's events."""

    name = "positions"

    def __init__(self, location: StoreLocation) -> None:
        self.location = location
        try:
            super().__init__(env=dict(location.env))
        except (PersistenceError, OSError) as exc:
            raise StoreError(f"cannot open store {location.display}: {_first_line(exc)}") from None

    @classmethod
    def open(cls, url: str, *, create: bool = False) -> PositionsApplication:
        location = parse_store_url(url)
        if not create and not location.exists():
            raise StoreError(f"store {location.display} does not exist (import a scenario first)")
        if create and location.sqlite_path is not None:
            parent = location.sqlite_path.parent
            if not parent.exists():
                raise StoreError(f"cannot create store {location.display}: no directory {parent}")
        return cls(location)

    def construct_mapper(self) -> Mapper:  # type: ignore[type-arg]
        return self.factory.mapper(
            transcoder=self.construct_transcoder(), mapper_class=PydanticMapper
        )

    # -- commands

    def import_files(
        self, paths: Iterable[Path | str], now: datetime | None = None
    ) -> ImportResult:
        """Validate every file, then record what is new in one transaction (or nothing)."""
        return self.import_scenarios(read_scenarios(Path(p) for p in paths), now)

    def import_scenarios(
        self, scenarios: Sequence[Scenario], now: datetime | None = None
    ) -> ImportResult:
        slugs = list(dict.fromkeys(s.negotiation for s in scenarios))
        existing = {slug: self._negotiation(slug) for slug in slugs}
        records: dict[tuple[str, str], PartyRecord] = {}
        for slug, state in existing.items():
            if state is None:
                continue
            for party in state.parties:
                record = self._party_record(slug, party)
                if record is not None:
                    records[(slug, party)] = record
        plan = plan_import(self._index(), existing, records, scenarios, now or datetime.now(UTC))
        if plan.events:
            self._save(plan.events)
        return ImportResult(plan.negotiations, plan.statements, plan.definitions, len(plan.events))

    def _save(self, events: list[DomainEvent]) -> None:
        try:
            self.save(*events)
        except PersistenceError as exc:
            raise StoreError(
                f"could not write to store {self.location.display}: {_first_line(exc)}"
            ) from None

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
                    f"(it holds: {listed})"
                )
            return negotiation
        if not known:
            raise NotFoundError(f"store {self.location.display} holds no negotiation yet")
        if len(known) > 1:
            raise NotFoundError(
                f"store {self.location.display} holds several negotiations "
                f"({', '.join(known)}): choose one with --negotiation"
            )
        return known[0]

    def get_record(self, negotiation: str) -> NegotiationRecord:
        """Every event of a negotiation: its codebook stream and each party's record."""
        codebook = self._events(negotiation_id(negotiation))
        state = project_negotiation(codebook)
        if state is None:
            raise NotFoundError(f"unknown negotiation '{negotiation}'")
        statements: list[DomainEvent] = []
        for party in state.parties:
            statements.extend(self._events(record_id(negotiation, party)))
        return NegotiationRecord.from_events(codebook, statements)

    def get_all_events(self) -> list[DomainEvent]:
        """Every stored event, in the order of the notification log."""
        events: list[DomainEvent] = []
        start = 1
        while True:
            batch = self.recorder.select_notifications(start, 1000)
            if not batch:
                return events
            events.extend(self.mapper.to_domain_event(n) for n in batch)
            start = batch[-1].id + 1

    # -- streams

    def _events(self, originator_id: Any) -> list[DomainEvent]:
        try:
            return list(self.events.get(originator_id))
        except PersistenceError as exc:
            raise StoreError(
                f"cannot read store {self.location.display}: {_first_line(exc)}"
            ) from None

    def _index(self) -> Index:
        return project_index(self._events(index_id()))

    def _negotiation(self, slug: str) -> Negotiation | None:
        return project_negotiation(self._events(negotiation_id(slug)))

    def _party_record(self, slug: str, party: str) -> PartyRecord | None:
        return project_party_record(self._events(record_id(slug, party)))


def import_into(url: str, scenarios: Sequence[Scenario]) -> ImportResult:
    """Import into the store at ``url``, creating it; a store created for an import that then
    fails is removed again, so that a failed import leaves nothing behind."""
    location = parse_store_url(url)
    fresh = not location.exists()
    app = PositionsApplication.open(url, create=True)
    try:
        return app.import_scenarios(scenarios)
    except BaseException:
        app.close()
        if fresh and location.sqlite_path is not None:
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(f"{location.sqlite_path}{suffix}").unlink(missing_ok=True)
        raise
    finally:
        app.close()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
