"""Aggregates and the rules for changing them.

Streams (ids derived from slugs with ``uuid5``, so every process finds the same stream):
- the index: which negotiations the store holds;
- a negotiation's codebook: its title, parties, speakers, issues, proposals and developments;
- one record per party: the statements made on its behalf (including its claims about others).

State is rebuilt by pure folds (``project_*``). `plan_import` turns scenario files into the new
events they imply, or into every problem found: it never writes, so an import is all or nothing.
"""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Callable, Container, Iterable, MutableMapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from positions.codebook import (
    DESCRIPTIVE,
    NONCOMMITTAL,
    Amendment,
    Attribution,
    Correction,
    Development,
    Issue,
    Kind,
    Party,
    Proposal,
    Salience,
    Speaker,
    Statement,
)
from positions.errors import NotFoundError, Origin, Problem, QueryError, ScenarioError
from positions.events import (
    STATEMENT_EVENTS,
    CodingCorrected,
    DevelopmentNoted,
    DomainEvent,
    IssueDefined,
    NegotiationListed,
    NegotiationOpened,
    NegotiationRetitled,
    PartyDefined,
    PartyRecordOpened,
    ProposalTabled,
    SalienceDeclared,
    SpeakerDefined,
    StatementAmended,
    StatementClarified,
    StatementRecorded,
    StatementRetracted,
)
from positions.hints import did_you_mean, listing, unknown
from positions.ids import fix_key, index_id, negotiation_id, record_id
from positions.registry import Registration

if TYPE_CHECKING:
    from positions.drafts import Located, Scenario, StatementDraft

_STATEMENT_FIELDS = set(Statement.model_fields)
"""The fields a statement built by the planner was given: all of them (pydantic's
``model_construct`` takes the set; its copies take a copy of it)."""

# ---------------------------------------------------------------------------------------------
# State


@dataclass
class Index:
    version: int = 0
    negotiations: list[str] = field(default_factory=list)


@dataclass
class Negotiation:
    """The codebook stream's state: everything a negotiation defines."""

    slug: str
    title: str
    version: int = 0
    parties: dict[str, Party] = field(default_factory=dict)
    speakers: dict[str, Speaker] = field(default_factory=dict)
    issues: dict[str, Issue] = field(default_factory=dict)
    proposals: dict[str, Proposal] = field(default_factory=dict)
    developments: dict[str, Development] = field(default_factory=dict)
    salience: dict[tuple[str, str], Salience] = field(default_factory=dict)


@dataclass
class PartyRecord:
    """One party's stream: its version, its statements as first recorded (by id) and the
    corrections and amendments recorded on it. An application may give ``statements`` as a
    mapping that reads each statement from its store when it is asked for (a large record is
    never read whole to plan a few statements), and ``corrections`` and ``amendments`` as
    every one of the negotiation: each use picks a statement's own by its id. Only planning a
    correction or an amendment reads ``corrections``: an application leaves them out to plan
    an import that holds neither."""

    negotiation: str
    party: str
    version: int = 0
    statements: MutableMapping[str, Statement] = field(default_factory=dict)
    corrections: list[Correction] = field(default_factory=list)
    amendments: list[Amendment] = field(default_factory=list)


def project_index(events: Iterable[DomainEvent]) -> Index:
    index = Index()
    for event in events:
        index.version = event.originator_version
        if isinstance(event, NegotiationListed):
            index.negotiations.append(event.negotiation)
    return index


def project_negotiation(events: Iterable[DomainEvent]) -> Negotiation | None:
    state: Negotiation | None = None
    for event in events:
        if isinstance(event, NegotiationOpened):
            state = Negotiation(slug=event.negotiation, title=event.title)
        if state is None:
            continue
        state.version = event.originator_version
        if isinstance(event, NegotiationRetitled):
            state.title = event.title
        elif isinstance(event, PartyDefined):
            state.parties[event.party.id] = event.party
        elif isinstance(event, SpeakerDefined):
            state.speakers[event.speaker.id] = event.speaker
        elif isinstance(event, IssueDefined):
            state.issues[event.issue.id] = event.issue
        elif isinstance(event, ProposalTabled):
            state.proposals[event.proposal.id] = event.proposal
        elif isinstance(event, DevelopmentNoted):
            state.developments[event.development.id] = event.development
        elif isinstance(event, SalienceDeclared):
            salience = event.salience
            state.salience[(salience.party, salience.issue)] = salience
    return state


def project_party_record(events: Iterable[DomainEvent]) -> PartyRecord | None:
    state: PartyRecord | None = None
    for event in events:
        if isinstance(event, PartyRecordOpened):
            state = PartyRecord(negotiation=event.negotiation, party=event.party)
        if state is None:
            continue
        state.version = event.originator_version
        if isinstance(event, StatementRecorded | StatementClarified | StatementRetracted):
            state.statements[event.statement.id] = event.statement
        elif isinstance(event, CodingCorrected):
            state.corrections.append(event.correction)
        elif isinstance(event, StatementAmended):
            state.amendments.append(event.amendment)
    return state


def statement_event_class(statement: Statement) -> type[DomainEvent]:
    kind = statement.kind
    if kind is Kind.RETRACTION:
        return StatementRetracted
    if kind is Kind.CLARIFICATION:
        return StatementClarified
    return StatementRecorded


# ---------------------------------------------------------------------------------------------
# Planning an import


@dataclass
class ImportPlan:
    events: list[DomainEvent]
    statements: int
    definitions: int
    negotiations: list[str]
    corrections: int = 0
    amendments: int = 0
    registrations: list[Registration] = field(default_factory=list)
    """The registry entries of the plan's statements, corrections and amendments
    (`positions.registry`):
    saved after ``events``, in the same transaction."""
    opened: list[str] = field(default_factory=list)
    """The negotiations whose registry the plan opens (those it lists)."""


def plan_import(
    index: Index,
    existing: dict[str, Negotiation | None],
    records: dict[tuple[str, str], PartyRecord],
    scenarios: list[Scenario],
    now: datetime,
    *,
    allow_hypothetical: bool = False,
    known_corrections: Container[UUID] | None = None,
) -> ImportPlan:
    """The events that record ``scenarios`` on top of the current state, or a `ScenarioError`.

    The list is taken: each scenario in it is replaced by one without its statements once
    they are in a negotiation's batch, and the planner drops each statement's record as it
    plans it, so that a large import never holds every record beside every planned statement
    (a caller that keeps its own scenarios keeps their records, of course).

    ``existing`` and ``records`` hold the current state of every negotiation the scenarios name.
    Re-importing what is already recorded yields no events: a statement id is recorded when
    ``records`` hold it, a correction or an amendment when its key (`ids.fix_key`) is in
    ``known_corrections`` (by default, the keys of those ``records`` hold). An
    application reads both from its registry (`positions.registry`).
    """
    problems: list[Problem] = []
    events: list[DomainEvent] = []
    registrations: list[Registration] = []
    opened: list[str] = []
    statements = definitions = corrections = amendments = 0
    index_version = index.version
    slugs = list(dict.fromkeys(s.negotiation for s in scenarios))
    for slug in slugs:
        group = [s for s in scenarios if s.negotiation == slug]
        batch = [st for s in group for st in s.statements]
        if existing.get(slug) is None and _needs_definitions(group):
            problems.extend(_undefined(slug, index, group))
            continue
        for i, scenario in enumerate(scenarios):
            if scenario.negotiation == slug:
                scenarios[i] = replace(scenario, statements=())
        group = [s for s in scenarios if s.negotiation == slug]
        party_records = {party: r for (neg, party), r in records.items() if neg == slug}
        planner = _Planner(slug, existing.get(slug), party_records, now)
        planner.allow_hypothetical = allow_hypothetical
        planner.known_corrections = (
            known_corrections
            if known_corrections is not None
            else _correction_keys(slug, party_records.values())
        )
        if existing.get(slug) is None:
            opened.append(slug)
            index_version += 1
            events.append(
                NegotiationListed(
                    originator_id=index_id(),
                    originator_version=index_version,
                    timestamp=now,
                    negotiation=slug,
                )
            )
        planner.plan(group, batch)
        del batch
        problems.extend(planner.problems)
        events.extend(planner.events)
        registrations.extend(planner.registrations)
        statements += planner.statements_added
        definitions += planner.definitions_added
        corrections += planner.corrections_added
        amendments += planner.amendments_added
    if problems:
        raise ScenarioError(problems)
    return ImportPlan(
        events, statements, definitions, slugs, corrections, amendments, registrations, opened
    )


def _correction_keys(slug: str, records: Iterable[PartyRecord]) -> set[UUID]:
    """The registry keys of the corrections and amendments ``records`` hold."""
    fixes: list[Correction | Amendment] = []
    for record in records:
        fixes.extend(record.corrections)
        fixes.extend(record.amendments)
    return {fix_key(slug, fix) for fix in fixes}


class _Recorded:
    """The statements recorded in any of a negotiation's party records, by id."""

    def __init__(self, records: dict[str, PartyRecord]) -> None:
        self.records = list(records.values())

    def get(self, sid: str) -> Statement | None:
        for record in self.records:
            found = record.statements.get(sid)
            if found is not None:
                return found
        return None

    def reads(self, recorded: Statement, statement: Statement) -> bool:
        """Whether ``statement`` is ``recorded`` as first recorded or as amended since (a file
        fixed after `positions amend` imports again as recorded)."""
        if recorded == statement:
            return True
        if any(getattr(recorded, n) != getattr(statement, n) for n in _CODED_FIELDS):
            return False
        home = next((r for r in self.records if r.party == recorded.party), None)
        fixes = [a for a in (home.amendments if home else ()) if a.statement == recorded.id]
        return bool(fixes) and amended(recorded, fixes) == statement


_DEFINITION_ORDER = ("parties", "issues", "speakers", "proposals", "developments", "salience")


class _Planner:
    """Plans one negotiation's share of an import."""

    def __init__(
        self,
        slug: str,
        existing: Negotiation | None,
        records: dict[str, PartyRecord],
        now: datetime,
    ) -> None:
        self.slug = slug
        self.existing = existing
        self.state = Negotiation(slug=slug, title=existing.title if existing else slug)
        if existing is not None:
            self.state.version = existing.version
            self.state.parties = dict(existing.parties)
            self.state.speakers = dict(existing.speakers)
            self.state.issues = dict(existing.issues)
            self.state.proposals = dict(existing.proposals)
            self.state.developments = dict(existing.developments)
            self.state.salience = dict(existing.salience)
        self.records = records
        self.recorded = _Recorded(records)
        self.now = now
        self.events: list[DomainEvent] = []
        self.registrations: list[Registration] = []
        self.known_corrections: Container[UUID] = set()
        self.problems: list[Problem] = []
        self.statements_added = 0
        self.definitions_added = 0
        self.corrections_added = 0
        self.amendments_added = 0
        self._seen: dict[tuple[str, str], tuple[Any, Origin]] = {}
        self._record_versions = {party: r.version for party, r in records.items()}
        self.allow_hypothetical = False

    # -- events

    def _codebook_event(self, cls: type[DomainEvent], **payload: Any) -> None:
        self.state.version += 1
        self.events.append(
            cls(
                originator_id=negotiation_id(self.slug),
                originator_version=self.state.version,
                timestamp=self.now,
                **payload,
            )
        )

    def _record_event(self, party: str, cls: type[DomainEvent], **payload: Any) -> None:
        version = self._record_versions.get(party, 0)
        if version == 0:
            version = 1
            self.events.append(
                PartyRecordOpened(
                    originator_id=record_id(self.slug, party),
                    originator_version=version,
                    timestamp=self.now,
                    negotiation=self.slug,
                    party=party,
                )
            )
        version += 1
        self._record_versions[party] = version
        if cls in STATEMENT_EVENTS:
            sid = payload["statement"].id
            self.registrations.append(Registration(self.slug, party, version, sid))
        if cls in STATEMENT_EVENTS and self.now.tzinfo is not None:
            # a statement event of a statement just built and validated: nothing is left to
            # validate (pydantic's model_construct), and a large import makes one per statement
            self.events.append(
                cls.model_construct(
                    originator_id=record_id(self.slug, party),
                    originator_version=version,
                    timestamp=self.now,
                    statement=payload["statement"],
                )
            )
            return
        self.events.append(
            cls(
                originator_id=record_id(self.slug, party),
                originator_version=version,
                timestamp=self.now,
                **payload,
            )
        )

    # -- the plan

    def plan(self, scenarios: list[Scenario], statements: list[Located]) -> None:
        """Plan ``scenarios``' definitions and corrections and the ``statements`` of their batch
        (taken out of the scenarios by the caller: the list is emptied as they are planned)."""
        self._title(scenarios)
        checks: dict[str, Callable[[Any, Origin], None]] = {
            "parties": lambda v, o: None,
            "issues": lambda v, o: None,
            "speakers": self._check_speaker,
            "proposals": self._check_proposal,
            "developments": lambda v, o: None,
            "salience": self._check_salience,
        }
        for kind in _DEFINITION_ORDER:
            for scenario in scenarios:
                for located in getattr(scenario, kind):
                    self._define(kind, located, checks[kind])
        self._statements(statements)
        self._corrections([c for s in scenarios for c in s.corrections])
        self._corrections([a for s in scenarios for a in s.amendments])

    def _corrections(self, located: list[Located]) -> None:
        """Plan a batch's corrections, or its amendments (the same way: each is recorded once,
        in the party record that holds its statement, and registered by its content)."""
        if not located or any(p for p in self.problems):
            return
        records: dict[str, PartyRecord] = {}
        planned: set[UUID] = set()
        for party, record in self.records.items():
            records[party] = PartyRecord(
                self.slug,
                party,
                record.version,
                ChainMap({}, record.statements),  # the batch's statements over the recorded
                list(record.corrections),
                list(record.amendments),
            )
        for event in self.events:
            if isinstance(event, StatementRecorded | StatementClarified | StatementRetracted):
                party = event.statement.party
                records.setdefault(party, PartyRecord(self.slug, party))
                records[party].statements[event.statement.id] = event.statement
        for item in located:
            correction: Correction | Amendment = item.value
            for record in records.values():
                record.version = self._record_versions.get(record.party, record.version)
            home = next((r for r in records.values() if correction.statement in r.statements), None)
            key = fix_key(self.slug, correction)
            if key in self.known_corrections or key in planned:
                continue  # recorded already, or earlier in this import
            amendment = isinstance(correction, Amendment)
            try:
                if isinstance(correction, Amendment):
                    event = plan_amendment(self.state, records, correction, self.now, planned)
                else:
                    event = plan_correction(self.state, records, correction, self.now, planned)
            except (QueryError, NotFoundError) as exc:
                what = "amendment" if amendment else "correction"
                self.problems.append(
                    item.origin.problem(f"{what} of '{correction.statement}': {exc}")
                )
                continue
            assert home is not None
            if isinstance(correction, Amendment):
                home.amendments.append(correction)
                self.amendments_added += 1
            else:
                home.corrections.append(correction)
                self.corrections_added += 1
            planned.add(key)
            self._record_versions[home.party] = event.originator_version
            self.events.append(event)
            self.registrations.append(
                Registration(
                    self.slug,
                    home.party,
                    event.originator_version,
                    correction.statement,
                    correction,
                )
            )

    def _title(self, scenarios: list[Scenario]) -> None:
        titled = [s for s in scenarios if s.title is not None]
        titles = {s.title for s in titled}
        if len(titles) > 1:
            first = titled[0]
            for other in titled[1:]:
                if other.title != first.title:
                    self.problems.append(
                        other.origin.problem(
                            f"negotiation '{self.slug}' has another title in {first.path}"
                        )
                    )
            return
        title = titles.pop() if titles else None
        if self.existing is None:
            self._codebook_event(NegotiationOpened, negotiation=self.slug, title=title or self.slug)
            self.state.title = title or self.slug
        elif title is not None and title != self.existing.title:
            self._codebook_event(NegotiationRetitled, title=title)
            self.state.title = title

    def _define(self, kind: str, located: Located, check: Callable[[Any, Origin], None]) -> None:
        value, origin = located.value, located.origin
        singular = {"parties": "party", "salience": "salience"}.get(kind, kind[:-1])
        ident = f"{value.party}/{value.issue}" if kind == "salience" else value.id
        key = (kind, ident)
        if key in self._seen:
            previous, where = self._seen[key]
            if previous != value:
                self.problems.append(
                    origin.problem(
                        f"{singular} '{ident}' is defined differently at {where.file}:{where.line}"
                    )
                )
            return
        self._seen[key] = (value, origin)
        table: dict[Any, Any] = getattr(self.state, kind)
        table_key = (value.party, value.issue) if kind == "salience" else value.id
        old = table.get(table_key)
        if old == value:
            return
        before = len(self.problems)
        check(value, origin)
        if old is not None:
            self._check_revision(singular, old, value, origin)
        if len(self.problems) > before:
            return
        table[table_key] = value
        self.definitions_added += 1
        classes: dict[str, tuple[type[DomainEvent], str]] = {
            "parties": (PartyDefined, "party"),
            "speakers": (SpeakerDefined, "speaker"),
            "issues": (IssueDefined, "issue"),
            "proposals": (ProposalTabled, "proposal"),
            "developments": (DevelopmentNoted, "development"),
            "salience": (SalienceDeclared, "salience"),
        }
        event_class, field_name = classes[kind]
        self._codebook_event(event_class, **{field_name: value})

    def _check_revision(self, singular: str, old: Any, new: Any, origin: Origin) -> None:
        fixed = {
            "issue": ("labels",),
            "speaker": ("party",),
            "proposal": ("issues", "by", "reported_by"),
        }.get(singular, ())
        for name in fixed:
            if getattr(old, name) == getattr(new, name):
                continue
            what, place = f"'{name}'", name
            if name == "labels":
                what, place = "scale labels", "scale"
            elif name == "issues":  # a package's issues, or a proposal's one issue
                package = old.package or new.package
                what = "issues" if package else "'issue'"
                place = "covers" if new.package else "issue"
            self.problems.append(
                origin.problem(
                    f"{singular} '{new.id}' is already recorded with other {what}; "
                    f"they cannot change once recorded (define a new {singular} instead)",
                    place,
                )
            )

    def _check_speaker(self, speaker: Speaker, origin: Origin) -> None:
        if speaker.party not in self.state.parties:
            self.problems.append(
                origin.problem(_unknown("party", speaker.party, self.state.parties), "party")
            )

    def _check_salience(self, salience: Salience, origin: Origin) -> None:
        if salience.party not in self.state.parties:
            self.problems.append(
                origin.problem(_unknown("party", salience.party, self.state.parties), "party")
            )
        if salience.issue not in self.state.issues:
            self.problems.append(
                origin.problem(_unknown("issue", salience.issue, self.state.issues), "issue")
            )

    def _check_proposal(self, proposal: Proposal, origin: Origin) -> None:
        proposers = proposal.proposers
        for n, proposer in enumerate(proposers):
            if proposer not in self.state.parties:
                self.problems.append(
                    origin.problem(_unknown("party", proposer, self.state.parties), "by")
                )
            elif proposer in proposers[:n]:
                self.problems.append(
                    origin.problem(
                        f"proposal '{proposal.id}': party '{proposer}' is listed twice", "by"
                    )
                )
        reporter = proposal.reported_by
        if reporter is not None and reporter not in self.state.parties:
            self.problems.append(
                origin.problem(_unknown("party", reporter, self.state.parties), "reported_by")
            )
        elif reporter is not None and reporter in proposers:
            self.problems.append(
                origin.problem(
                    f"'reported_by' names the party whose account is all that is known of the "
                    f"proposal, not its proposer ('{reporter}'): drop it for a proposal its "
                    "proposer tabled",
                    "reported_by",
                )
            )
        if proposal.covers:
            mixed = [n for n in ("issue", "position", "terms") if getattr(proposal, n)]
            if mixed:
                self.problems.append(
                    origin.problem(
                        f"proposal '{proposal.id}' has both 'covers' and '{mixed[0]}': a "
                        "package gives each issue's position and terms under 'covers' alone",
                        mixed[0],
                    )
                )
                return
        else:
            missing = [n for n in ("issue", "position") if getattr(proposal, n) is None]
            if missing:
                self.problems.append(
                    origin.problem(
                        f"proposal '{proposal.id}' needs its '{missing[0]}' (or 'covers': the "
                        "issues of a package, each with its position)",
                        "id",
                    )
                )
                return
        seen: set[str] = set()
        for cover in proposal.covered:
            where = "covers" if proposal.covers else "issue"
            if cover.issue in seen:
                self.problems.append(
                    origin.problem(
                        f"proposal '{proposal.id}' covers issue '{cover.issue}' twice: give "
                        "each issue once, with one position",
                        where,
                    )
                )
                continue
            seen.add(cover.issue)
            issue = self.state.issues.get(cover.issue)
            if issue is None:
                self.problems.append(
                    origin.problem(_unknown("issue", cover.issue, self.state.issues), where)
                )
            elif not issue.on_scale(cover.position):
                self.problems.append(
                    origin.problem(
                        f"'{cover.position}' is not a point on the scale of issue '{issue.id}' "
                        f"(a proposal takes one of: {', '.join(issue.labels)})"
                        + did_you_mean(cover.position, issue.labels),
                        "covers" if proposal.covers else "position",
                    )
                )

    # -- statements

    def _statements(self, located: list[Located]) -> None:
        pending: dict[str, Located] = {}
        for item in located:
            value: StatementDraft = item.value
            if value.id in pending:
                first = pending[value.id]
                if first.value != value:
                    self.problems.append(
                        item.origin.problem(
                            f"statement '{value.id}' is recorded differently at "
                            f"{first.origin.file}:{first.origin.line}",
                            "id",
                        )
                    )
                continue
            pending[value.id] = item
        located.clear()  # each record is now held by ``pending`` alone, until it is resolved
        resolver = _StatementResolver(self, pending)
        for sid in list(pending):
            resolver.resolve(sid)
        for statement in resolver.order:
            self.statements_added += 1
            self._record_event(
                statement.party, statement_event_class(statement), statement=statement
            )


class _StatementResolver:
    """Normalises batch statements, resolving clarification targets first."""

    def __init__(self, planner: _Planner, pending: dict[str, Located]) -> None:
        self.planner = planner
        self.state = planner.state
        self.pending = pending
        self.done: dict[str, Statement | None] = {}
        self.order: list[Statement] = []

    def knows(self, sid: str) -> bool:
        """Whether ``sid`` is a statement of the batch (resolved already, or pending)."""
        return sid in self.done or sid in self.pending

    def lookup(self, sid: str) -> Statement | None:
        if self.knows(sid):
            return self.resolve(sid)
        return self.planner.recorded.get(sid)

    def resolve(self, sid: str) -> Statement | None:
        """A batch statement normalised, the batch statements its target chain runs through
        first, deepest first: a loop, not recursion, so that a chain or a circle of any length
        is planned (a circle is reported at the statement where it closes)."""
        if sid in self.done:
            return self.done[sid]
        chain = [sid]
        seen = {sid}
        while True:
            value = self.pending[chain[-1]].value
            target = value.retracts if value.retracts is not None else value.clarifies
            if target is None or target in self.done or target not in self.pending:
                break
            if target == chain[-1]:
                break  # a statement that names itself: its own problem (`_normalise`)
            if target in seen:
                item = self.pending[target]
                self.planner.problems.append(
                    item.origin.problem(
                        f"statement '{target}' is part of a circle of clarifications or "
                        "retractions",
                        "clarifies" if item.value.clarifies else "retracts",
                    )
                )
                self.done[target] = None
                break
            chain.append(target)
            seen.add(target)
        for each in reversed(chain):
            self._settle(each)
        return self.done[sid]

    def _settle(self, sid: str) -> None:
        """Normalise one batch statement whose batch target is settled already."""
        item = self.pending[sid]
        statement = self._normalise(item)
        del self.pending[sid]  # resolved: ``done`` answers for it from now on
        if statement is not None:
            recorded = self.planner.recorded.get(sid)
            if recorded is not None:
                if not self.planner.recorded.reads(recorded, statement):
                    self.planner.problems.append(
                        item.origin.problem(_taken(sid, recorded, statement), "id")
                    )
                    statement = None
                self.done[sid] = statement
                return
            self.order.append(statement)
        self.done[sid] = statement

    def _normalise(self, item: Located) -> Statement | None:
        s: StatementDraft = item.value
        o = item.origin
        errors: list[Problem] = []
        state = self.state

        listed = (s.party,) if isinstance(s.party, str) else tuple(s.party or ())
        party = listed[0] if listed else None
        speaker: str | None = None
        for n, named in enumerate(listed):
            if named not in state.parties:
                errors.append(o.problem(_unknown("party", named, state.parties), "party"))
            elif named in listed[:n]:
                errors.append(o.problem(f"party '{named}' is listed twice", "party"))
        if len(listed) > 1:  # a joint statement: made by each listed party
            if s.by in state.speakers and state.speakers[s.by].party not in listed:
                errors.append(
                    o.problem(
                        f"speaker '{s.by}' speaks for '{state.speakers[s.by].party}', which "
                        f"is not one of the parties listed ({', '.join(listed)})",
                        "by",
                    )
                )
            elif s.by in state.parties and s.by not in listed:
                errors.append(
                    o.problem(
                        f"'by' is party '{s.by}', which is not one of the parties listed "
                        f"({', '.join(listed)})",
                        "by",
                    )
                )
            elif s.by is not None and s.by not in state.speakers and s.by not in state.parties:
                errors.append(o.problem(_unknown_speaker(s.by, state), "by"))
            speaker = s.by if s.by in state.speakers else None
        elif s.by is None and party is None:
            errors.append(o.problem("a statement needs 'by' (a speaker or party id)", "id"))
        elif s.by is not None:
            s_party = party
            if s.by in state.speakers:
                speaker = s.by
                implied = state.speakers[s.by].party
                if s_party is not None and s_party != implied:
                    errors.append(
                        o.problem(
                            f"speaker '{s.by}' speaks for '{implied}', not '{s_party}'", "party"
                        )
                    )
                party = implied
            elif s.by in state.parties:
                if s_party is not None and s_party != s.by:
                    errors.append(
                        o.problem(f"'by' is party '{s.by}' but 'party' is '{s_party}'", "party")
                    )
                party = s.by
            else:
                errors.append(o.problem(_unknown_speaker(s.by, state), "by"))

        issue, about = s.issue, s.about
        if s.clarifies is not None and s.retracts is not None:
            errors.append(o.problem("a statement cannot both clarify and retract", "retracts"))
        target_id = s.retracts if s.retracts is not None else s.clarifies
        verb = "retract" if s.retracts is not None else "clarify"
        field_name = "retracts" if s.retracts is not None else "clarifies"
        if target_id is not None:
            if target_id == s.id:
                errors.append(o.problem(f"a statement cannot {verb} itself", field_name))
                target = None
            else:
                target = self.lookup(target_id)
                if target is None and not self.knows(target_id):
                    errors.append(
                        o.problem(f"{field_name} unknown statement '{target_id}'", field_name)
                    )
            if target is not None:
                if target.kind is Kind.RETRACTION:
                    errors.append(
                        o.problem(f"cannot {verb} a retraction ('{target_id}')", field_name)
                    )
                if target.on.sort_key() > s.on.sort_key():
                    same_day = (
                        ": on its day, give this statement a time at or after it"
                        if target.on.day == s.on.day and target.on.time is not None
                        else ""
                    )
                    errors.append(
                        o.problem(
                            f"cannot {verb} '{target_id}', which was made later "
                            f"({target.on}){same_day}",
                            "on",
                        )
                    )
                speaking = listed if len(listed) > 1 else (party,)
                allowed = all(
                    p in target.parties
                    or (verb == "retract" and target.kind is Kind.CLAIM and target.about == p)
                    for p in speaking
                )
                if party is not None and not allowed:
                    errors.append(
                        o.problem(
                            f"'{target_id}' is a statement of '{', '.join(target.parties)}': a "
                            f"party can only {verb} its own statements"
                            + (" or deny claims about itself" if verb == "retract" else ""),
                            field_name,
                        )
                    )
                if verb == "clarify":
                    if issue is not None and target.issue is not None and issue != target.issue:
                        errors.append(
                            o.problem(
                                f"'{target_id}' is on issue '{target.issue}', not '{issue}'",
                                "issue",
                            )
                        )
                    issue = issue or target.issue
                    if about is not None and about != target.about:
                        errors.append(
                            o.problem(f"'{target_id}' is not a claim about '{about}'", "about")
                        )
                    about = target.about

        if s.proposal is not None:
            proposal = state.proposals.get(s.proposal)
            if proposal is None:
                errors.append(
                    o.problem(_unknown("proposal", s.proposal, state.proposals), "proposal")
                )
            elif issue is None:
                issue = proposal.issue  # a package's verdict is on the whole package
            elif issue not in proposal.issues:
                on = (
                    f"covers the issues {', '.join(repr(i) for i in proposal.issues)}"
                    if proposal.package
                    else f"is on issue '{proposal.issue}'"
                )
                errors.append(o.problem(f"proposal '{s.proposal}' {on}, not '{issue}'", "proposal"))
            if s.verdict is None:
                errors.append(o.problem("'proposal' needs a 'verdict' on it", "proposal"))
        elif s.verdict is not None:
            errors.append(o.problem("a 'verdict' needs the 'proposal' it answers", "verdict"))

        if issue is not None and issue not in state.issues:
            errors.append(o.problem(_unknown("issue", issue, state.issues), "issue"))
            issue_def = None
        else:
            issue_def = state.issues.get(issue) if issue is not None else None
        if s.position is not None:
            if issue is None:
                errors.append(o.problem("a 'position' needs the 'issue' it is on", "position"))
            elif (
                issue_def is not None
                and s.position != NONCOMMITTAL
                and not issue_def.on_scale(s.position)
            ):
                errors.append(o.problem(_off_scale(s.position, issue_def), "position"))
        if s.terms and s.position is None and s.verdict is None and s.clarifies is None:
            errors.append(o.problem("'terms' qualify a 'position' or a 'verdict'", "terms"))
        if s.conditions and s.position is None and s.verdict is None and s.clarifies is None:
            errors.append(
                o.problem("'conditions' qualify a 'position' or a 'verdict'", "conditions")
            )
        if s.attribution is Attribution.CLAIM and about is None:
            errors.append(
                o.problem(
                    "attribution 'claim' needs 'about': the party the claim is about",
                    "attribution",
                )
            )

        if about is not None and s.clarifies is None:
            if about not in state.parties:
                errors.append(o.problem(_unknown("party", about, state.parties), "about"))
            elif about == party or about in listed:
                errors.append(o.problem("'about' names the statement's own party", "about"))
        needs_coding = target_id is None
        if needs_coding and s.position is None and s.verdict is None:
            errors.append(
                o.problem(
                    "a statement needs a 'position' (or 'noncommittal') or a 'verdict' on a "
                    "proposal; to record an event that is not a position, use 'developments'",
                    "id",
                )
            )
        if s.hypothetical and not self.planner.allow_hypothetical:
            errors.append(
                o.problem(
                    "hypothetical statements are for 'positions replay --what-if', not for a store",
                    "id",
                )
            )
        if s.quote is None:
            errors.append(o.problem("a statement needs its 'quote' (the words as reported)", "id"))
        if not s.sources:
            errors.append(o.problem("a statement needs at least one source", "id"))
        if s.quote_original is not None and s.language is None:
            errors.append(o.problem("'quote_original' needs its 'language'", "quote_original"))

        if errors:
            self.planner.problems.extend(
                replace(e, message=f"statement '{s.id}': {e.message}") for e in errors
            )
            return None
        assert party is not None
        # every field is validated already (the input's, or an id known to the codebook)
        values: dict[str, Any] = {
            "id": s.id,
            "on": s.on,
            "party": party,
            "speaker": speaker,
            "joint": listed[1:] if len(listed) > 1 else (),
            "issue": issue,
            "position": s.position,
            "terms": s.terms,
            "verdict": s.verdict,
            "proposal": s.proposal,
            "conditions": s.conditions,
            "clarifies": s.clarifies,
            "retracts": s.retracts,
            "about": about,
            "attribution": s.attribution,
            "quote": s.quote,
            "quote_original": s.quote_original,
            "language": s.language,
            "sources": s.sources,
            "confidence": s.confidence,
            "channel": s.channel,
            "notes": s.notes,
            "salience": s.salience,
            "hypothetical": s.hypothetical,
        }
        return Statement.model_construct(_STATEMENT_FIELDS, **values)


NEW_SPEAKER = "(a new speaker is defined under 'speakers:' with its id, name and party)"
"""How a statement by an undefined speaker is told to define it (`positions add` says how
with its options instead)."""

TAKEN = "is already recorded with different content"
"""What a statement whose id holds another statement is told (`positions add` then derives
the next id)."""


CODING = ("issue", "position", "terms", "verdict", "proposal", "on", "party")
"""The fields of a statement `positions correct` (or a file's ``corrections:``) changes."""

_CODED_FIELDS = tuple(name for name in Statement.model_fields if name not in DESCRIPTIVE)
"""The fields no amendment changes."""


def _taken(sid: str, recorded: Statement, statement: Statement) -> str:
    """A statement whose id holds another: which fields differ, and what to do instead."""
    fields = [
        name
        for name in Statement.model_fields
        if getattr(recorded, name) != getattr(statement, name)
    ]
    coding = [name for name in fields if name in CODING]
    if coding:
        advice = (
            "to fix how it was coded, correct it (positions correct, or the file's "
            "corrections:); if the party changed its stance, record a new statement that "
            "clarifies or retracts it"
        )
    elif all(name in DESCRIPTIVE for name in fields):
        advice = (
            "to fix its text, sources or notes, amend it (positions amend, or the file's "
            "amendments:), which keeps the first text in the record; a retraction would say "
            "the party took it back"
        )
    else:
        advice = (
            "a recorded statement's speaker, salience and what-if mark stay as first "
            "recorded: keep the file as it was recorded"
        )
    return (
        f"statement '{sid}' {TAKEN} ({', '.join(fields)} "
        f"{'differs' if len(fields) == 1 else 'differ'}): statement ids are unique in "
        f"a negotiation, so give a new statement a new id; {advice}"
    )


def _needs_definitions(group: list[Scenario]) -> bool:
    """Whether files that define no party and no issue of a negotiation record what names
    them (a file that only titles a negotiation opens it)."""
    if any(s.parties or s.issues for s in group):
        return False
    return any(
        s.statements or s.proposals or s.speakers or s.salience or s.corrections or s.amendments
        for s in group
    )


def _undefined(slug: str, index: Index, group: list[Scenario]) -> list[Problem]:
    """One problem for each file that uses a negotiation neither the store nor any file of
    the import defines (rather than one for every party and issue its records name)."""
    held = index.negotiations
    holds = f"it holds: {listing(held)}" if held else "it holds no negotiation yet"
    advice = did_you_mean(slug, held) or (
        ": import the file that defines it first, or with this one"
    )
    message = (
        f"negotiation '{slug}' is not in the store ({holds}) and no file of this import "
        f"defines its parties and issues{advice}"
    )
    return [scenario.origin.problem(message) for scenario in group]


def _unknown_speaker(by: str, state: Negotiation) -> str:
    """A ``by`` that names no speaker or party: the nearest of either, or how to define one."""
    hint = did_you_mean(by, [*state.speakers, *state.parties]) or f" {NEW_SPEAKER}"
    return f"'{by}' is neither a speaker nor a party of '{state.slug}'{hint}"


def _unknown(kind: str, value: str, known: dict[str, Any]) -> str:
    return unknown(kind, value, known)


def _off_scale(position: str, issue: Issue) -> str:
    choices = (*issue.labels, NONCOMMITTAL)
    return (
        f"'{position}' is not a point on the scale of issue '{issue.id}' "
        f"(choose from: {', '.join(choices)}){did_you_mean(position, choices)}"
    )


# ---------------------------------------------------------------------------------------------
# Coding corrections


def corrected(statement: Statement, corrections: Iterable[Correction]) -> Statement:
    """The statement with each correction of it applied, in the order they were recorded."""
    for correction in corrections:
        if correction.statement == statement.id:
            statement = statement.model_copy(update=correction.changes())
    return statement


def _home_of_new(
    state: Negotiation,
    records: dict[str, PartyRecord],
    fix: Correction | Amendment,
    known: Container[UUID] | None,
    what: str,
) -> PartyRecord:
    """The party record holding the statement a correction or amendment names, or the error
    that it names none, or that the same one is recorded already (its key in ``known``, by
    default those of ``records``)."""
    home = next((r for r in records.values() if fix.statement in r.statements), None)
    if home is None:
        raise NotFoundError(f"unknown statement '{fix.statement}' in negotiation '{state.slug}'")
    if known is None:
        known = _correction_keys(state.slug, records.values())
    if fix_key(state.slug, fix) in known:
        raise QueryError(
            f"this {what} of statement '{fix.statement}' is recorded already "
            "(the same changes and reason); give another reason to record it again"
        )
    return home


def plan_correction(
    state: Negotiation,
    records: dict[str, PartyRecord],
    correction: Correction,
    now: datetime,
    known_corrections: Container[UUID] | None = None,
) -> DomainEvent:
    """The event recording ``correction``, or a `QueryError`/`NotFoundError` saying why not.

    A correction is recorded once: one with the same fields and reason as one recorded
    already (its key in ``known_corrections``, by default those of ``records``) is refused."""
    home = _home_of_new(state, records, correction, known_corrections, "correction")
    changes = correction.changes()
    if not changes:
        raise QueryError("a correction needs at least one of position, verdict, issue, on, party")
    current = corrected(home.statements[correction.statement], home.corrections)
    issue_id = correction.issue or current.issue
    if correction.issue is not None and correction.issue not in state.issues:
        raise NotFoundError(_unknown("issue", correction.issue, state.issues))
    issue = state.issues.get(issue_id) if issue_id is not None else None
    position = correction.position or current.position
    if position is not None and position != NONCOMMITTAL:
        if issue is None:
            raise QueryError("a position needs an issue: give --issue too")
        if not issue.on_scale(position):
            hint = " (give a position too)" if correction.position is None else ""
            raise QueryError(_off_scale(position, issue) + hint)
    if correction.verdict is not None and current.proposal is None:
        raise QueryError(
            f"statement '{current.id}' answers no proposal, so it cannot carry a verdict"
        )
    if correction.party is not None:
        if current.joint:
            raise QueryError(
                f"statement '{current.id}' is a joint statement of "
                f"{', '.join(current.parties)}: its parties cannot be corrected (retract it "
                "and record it again)"
            )
        if correction.party not in state.parties:
            raise NotFoundError(_unknown("party", correction.party, state.parties))
        speaker = state.speakers.get(current.speaker or "")
        if speaker is not None and speaker.party != correction.party:
            raise QueryError(
                f"statement '{current.id}' was made by '{speaker.id}', who speaks for "
                f"'{speaker.party}', not '{correction.party}'"
            )
    if correction.on is not None:
        for record in records.values():
            own: dict[str, list[Correction]] = {}
            for earlier in record.corrections:
                own.setdefault(earlier.statement, []).append(earlier)
            for other in record.statements.values():
                later = corrected(other, own.get(other.id, ()))
                if later.target == current.id and later.on.sort_key() < correction.on.sort_key():
                    raise QueryError(
                        f"statement '{current.id}' is qualified by '{later.id}', made {later.on}: "
                        f"it cannot be dated {correction.on}"
                    )
    if correction.on is not None and current.target is not None:
        target_home = next((r for r in records.values() if current.target in r.statements), None)
        if target_home is not None:
            target = corrected(target_home.statements[current.target], target_home.corrections)
            if target.on.sort_key() > correction.on.sort_key():
                raise QueryError(
                    f"statement '{current.id}' qualifies '{target.id}', made {target.on}: "
                    f"it cannot be dated {correction.on}"
                )
    return CodingCorrected(
        originator_id=record_id(state.slug, home.party),
        originator_version=home.version + 1,
        timestamp=now,
        correction=correction,
    )


# ---------------------------------------------------------------------------------------------
# Amendments


def amended(statement: Statement, amendments: Iterable[Amendment]) -> Statement:
    """The statement with each amendment of it applied, in the order they were recorded
    (`Amendment.apply` decides what each does)."""
    fields: dict[str, Any] | None = None
    for amendment in amendments:
        if amendment.statement == statement.id:
            fields = amendment.apply(fields or statement.model_dump(mode="json"))
    return statement if fields is None else Statement.model_validate(fields)


AMENDABLE = (*DESCRIPTIVE, "add_sources")


def plan_amendment(
    state: Negotiation,
    records: dict[str, PartyRecord],
    amendment: Amendment,
    now: datetime,
    known_amendments: Container[UUID] | None = None,
) -> DomainEvent:
    """The event recording ``amendment``, or a `QueryError`/`NotFoundError` saying why not:
    the statement must be recorded, the amendment must change something, and the amended
    statement must still be a valid statement. Recorded once, as a correction is."""
    home = _home_of_new(state, records, amendment, known_amendments, "amendment")
    if not amendment.changes():
        raise QueryError(f"an amendment needs at least one of {', '.join(AMENDABLE)}")
    current = amended(home.statements[amendment.statement], home.amendments)
    from pydantic import ValidationError

    try:
        after = amended(current, [amendment])
    except ValidationError as exc:  # e.g. more sources than a statement takes
        from positions.messages import location, message

        error = exc.errors()[0]
        where = ".".join(str(p) for p in location(error))
        raise QueryError(
            f"the amended statement would not be valid ({where}: {message(error, Statement)})"
        ) from None
    if after == current:
        raise QueryError(
            f"statement '{current.id}' already reads so: the amendment changes nothing"
        )
    return StatementAmended(
        originator_id=record_id(state.slug, home.party),
        originator_version=home.version + 1,
        timestamp=now,
        amendment=amendment,
    )
