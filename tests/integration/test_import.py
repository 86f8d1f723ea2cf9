"""Importing scenario files: every problem located as FILE:LINE, nothing written on error,
re-imports idempotent, conflicting re-definitions refused."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from positions.application import PositionsApplication
from positions.drafts import Scenario
from positions.errors import ScenarioError
from positions.scenario import parse_scenario
from tests.conftest import SEED

NEW_SPEAKER = " (a new speaker is defined under 'speakers:' with its id, name and party)"
"""What a message about an undefined speaker adds."""

HEAD = """\
negotiation: talks
parties:
  - {id: a, name: A}
  - {id: b, name: B}
speakers:
  - {id: a-envoy, name: A envoy, party: a, rank: envoy}
issues:
  - id: water
    question: Share?
    scale:
      - {label: all, description: All.}
      - {label: half, description: Half.}
      - {label: none, description: None.}
proposals:
  - {id: plan, issue: water, by: b, on: 2025-01-01, position: half}
"""


def problems(*texts: str, app: PositionsApplication | None = None) -> list[str]:
    app = app or PositionsApplication.open("memory://")
    scenarios = []
    errors: list[str] = []
    for n, text in enumerate(texts):
        try:
            scenarios.append(parse_scenario(textwrap.dedent(text), f"f{n}.yaml"))
        except ScenarioError as exc:
            errors.extend(exc.lines())
    if errors:
        return errors
    try:
        app.import_scenarios(scenarios)
    except ScenarioError as exc:
        return exc.lines()
    return []


def statement(body: str) -> str:
    return HEAD + "statements:\n" + textwrap.indent(textwrap.dedent(body), "  ")


OK = """\
- id: s1
  on: 2025-01-02
  by: a-envoy
  issue: water
  position: all
  quote: All of it.
  sources: [{outlet: Wire}]
"""


def test_a_valid_file_imports_without_problems() -> None:
    assert problems(statement(OK)) == []


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            OK.replace("position: all", "position: most"),
            "f0.yaml:21: statement 's1': 'most' is not a point on the scale of issue 'water' "
            "(choose from: all, half, none, noncommittal)",
        ),
        (
            OK.replace("by: a-envoy", "by: c"),
            "f0.yaml:19: statement 's1': 'c' is neither a speaker nor a party of 'talks'"
            + NEW_SPEAKER,
        ),
        (
            OK.replace("by: a-envoy", "by: a-envoy\n  party: b"),
            "f0.yaml:20: statement 's1': speaker 'a-envoy' speaks for 'a', not 'b'",
        ),
        (
            OK.replace("issue: water", "issue: land"),
            "f0.yaml:20: statement 's1': unknown issue 'land' (known: water)",
        ),
        (
            OK.replace("  sources: [{outlet: Wire}]\n", ""),
            "f0.yaml:17: statement 's1': a statement needs at least one source",
        ),
        (
            OK.replace("  quote: All of it.\n", ""),
            "f0.yaml:17: statement 's1': a statement needs its 'quote' (the words as reported)",
        ),
        (
            OK.replace("position: all", "verdict: accept"),
            "f0.yaml:21: statement 's1': a 'verdict' needs the 'proposal' it answers",
        ),
        (
            OK.replace("  position: all\n", ""),
            "f0.yaml:17: statement 's1': a statement needs a 'position' (or 'noncommittal') or a "
            "'verdict' on a proposal; to record an event that is not a position, use 'developments'",
        ),
        (
            OK.replace("by: a-envoy", "by: a-envoy\n  about: a"),
            "f0.yaml:20: statement 's1': 'about' names the statement's own party",
        ),
        (
            OK + OK.replace("s1", "s2").replace("position: all", "clarifies: s2"),
            "f0.yaml:28: statement 's2': a statement cannot clarify itself",
        ),
        (
            OK + OK.replace("s1", "s2").replace("position: all", "retracts: s9"),
            "f0.yaml:28: statement 's2': retracts unknown statement 's9'",
        ),
        (
            OK.replace("2025-01-02", "2025-02-30"),
            "f0.yaml:18: statements[0] (s1).on: '2025-02-30' is not a day of the calendar",
        ),
        (
            OK.replace("  quote", "  colour: red\n  quote"),
            "f0.yaml:22: statements[0] (s1).colour: unknown field (see docs/format.md for the "
            "fields a record takes)",
        ),
        (
            OK.replace("id: s1", "id: S 1"),
            "f0.yaml:17: statements[0] (S 1).id: an id takes lower-case letters, digits, '_', '-' "
            "and '.', starting with a letter or digit",
        ),
    ],
)
def test_each_problem_names_file_line_and_what_is_wrong(body: str, expected: str) -> None:
    assert problems(statement(body)) == [expected]


def test_clarifying_a_statement_made_later_is_refused() -> None:
    later = OK.replace("2025-01-02", "2025-01-09")
    clarification = OK.replace("s1", "s2").replace("position: all", "clarifies: s1")
    assert problems(statement(later + clarification)) == [
        "f0.yaml:25: statement 's2': cannot clarify 's1', which was made later (2025-01-09)"
    ]


def test_retracting_a_retraction_is_refused() -> None:
    first = OK.replace("s1", "s2").replace("  issue: water\n  position: all\n", "  retracts: s1\n")
    second = OK.replace("s1", "s3").replace("  issue: water\n  position: all\n", "  retracts: s2\n")
    assert problems(statement(OK + first + second)) == [
        "f0.yaml:33: statement 's3': cannot retract a retraction ('s2')"
    ]


def test_circular_clarifications_are_refused() -> None:
    one = OK.replace("  issue: water\n  position: all\n", "  clarifies: s2\n")
    two = OK.replace("s1", "s2").replace("  issue: water\n  position: all\n", "  clarifies: s1\n")
    lines = problems(statement(one + two))
    assert any("circle of clarifications" in line for line in lines)


def test_a_party_cannot_clarify_another_partys_statement() -> None:
    other = (
        OK.replace("s1", "s2")
        .replace("by: a-envoy", "by: b")
        .replace("  issue: water\n  position: all\n", "  clarifies: s1\n")
    )
    assert problems(statement(OK + other)) == [
        "f0.yaml:27: statement 's2': 's1' is a statement of 'a': a party can only clarify its "
        "own statements"
    ]


def test_a_party_can_deny_a_claim_about_itself() -> None:
    claim = OK.replace("by: a-envoy", "by: a-envoy\n  about: b")
    denial = (
        OK.replace("s1", "s2")
        .replace("by: a-envoy", "by: b")
        .replace("  issue: water\n  position: all\n", "  retracts: s1\n")
    )
    assert problems(statement(claim + denial)) == []


def test_a_problem_in_one_file_writes_nothing_from_any_file() -> None:
    app = PositionsApplication.open("memory://")
    good = statement(OK)
    bad = statement(OK.replace("s1", "s2").replace("by: a-envoy", "by: nobody"))
    assert problems(good, bad, app=app) == [
        "f1.yaml:19: statement 's2': 'nobody' is neither a speaker nor a party of 'talks'"
        + NEW_SPEAKER
    ]
    assert app.recorder.max_notification_id() in (None, 0)
    assert app.get_negotiations() == []


def test_reimporting_the_same_file_adds_nothing(tmp_path) -> None:  # type: ignore[no-untyped-def]
    app = PositionsApplication.open(f"sqlite:///{tmp_path / 's.db'}", create=True)
    first = app.import_files([SEED])
    assert first.statements == 11
    again = app.import_files([SEED])
    assert (again.statements, again.definitions, again.events) == (0, 0, 0)


def test_the_same_id_with_different_content_is_an_error() -> None:
    app = PositionsApplication.open("memory://")
    assert problems(statement(OK), app=app) == []
    changed = statement(OK.replace("position: all", "position: half"))
    assert problems(changed, app=app) == [
        "f0.yaml:17: statement 's1' is already recorded with different content (position "
        "differs): statement ids are unique in a negotiation, so give a new statement a new id; "
        "to fix how it was coded, correct it (positions correct, or the file's corrections:); "
        "if the party changed its stance, record a new statement that clarifies or retracts it"
    ]
    retyped = statement(OK.replace("quote: ", "quote: Indeed, "))
    assert problems(retyped, app=app) == [
        "f0.yaml:17: statement 's1' is already recorded with different content (quote differs): "
        "statement ids are unique in a negotiation, so give a new statement a new id; to fix its "
        "text, sources or notes, amend it (positions amend, or the file's amendments:), which "
        "keeps the first text in the record; a retraction would say the party took it back"
    ]
    salience = statement(OK.replace("quote: ", "salience: 40\n  quote: "))
    assert problems(salience, app=app) == [
        "f0.yaml:17: statement 's1' is already recorded with different content (salience "
        "differs): statement ids are unique in a negotiation, so give a new statement a new id; "
        "a recorded statement's speaker, salience and what-if mark stay as first recorded: keep "
        "the file as it was recorded"
    ]


def test_the_same_id_twice_in_one_batch_with_different_content_is_an_error() -> None:
    twice = statement(OK + OK.replace("position: all", "position: none"))
    assert problems(twice) == ["f0.yaml:24: statement 's1' is recorded differently at f0.yaml:17"]


def test_an_issue_scale_cannot_change_once_recorded() -> None:
    app = PositionsApplication.open("memory://")
    assert problems(HEAD, app=app) == []
    changed = HEAD.replace("{label: none, description: None.}", "{label: nil, description: None.}")
    assert problems(changed, app=app) == [
        "f0.yaml:10: issue 'water' is already recorded with other scale labels; they cannot "
        "change once recorded (define a new issue instead)"
    ]


def test_a_party_can_be_renamed_and_the_latest_name_wins() -> None:
    app = PositionsApplication.open("memory://")
    assert problems(HEAD, app=app) == []
    assert problems(HEAD.replace("name: A}", "name: Alpha}"), app=app) == []
    record = app.get_record("talks")
    assert record.negotiation.parties["a"].name == "Alpha"


def test_one_negotiation_can_be_split_across_files() -> None:
    app = PositionsApplication.open("memory://")
    statements_only = "negotiation: talks\nstatements:\n" + textwrap.indent(OK, "  ")
    assert problems(HEAD, statements_only, app=app) == []
    assert [s.id for s in app.get_record("talks").statements] == ["s1"]


@pytest.mark.parametrize(
    "written", ["before 2025-01-05", "{before: 2025-01-05}", "{before: 2025-01-05, text: earlier}"]
)
def test_every_form_of_an_imprecise_date_reads_as_the_day_before(written: str) -> None:
    text = statement(OK.replace("on: 2025-01-02", f"on: {written}"))
    scenario = parse_scenario(text, "f.yaml")
    stated = scenario.statements[0].value.on
    assert (str(stated), stated.day.isoformat()) == ("before 2025-01-05", "2025-01-04")


def test_a_date_and_a_before_date_together_are_refused() -> None:
    text = statement(OK.replace("on: 2025-01-02", "on: {day: 2025-03-20, before: 2025-03-13}"))
    assert problems(text) == [
        "f0.yaml:18: statements[0] (s1).on: give either a date or 'before' a date, not both"
    ]


def _json_with_an_unknown_speaker() -> tuple[str, int]:
    """A JSON scenario whose statement 's2' is ``by`` nobody known, and the line of that."""
    statement = {
        "id": "s1",
        "on": "2025-01-02",
        "by": "a",
        "issue": "water",
        "position": "all",
        "quote": "Q.",
        "sources": [{"outlet": "W"}],
    }
    document = {
        "negotiation": "talks",
        "parties": [{"id": "a", "name": "A"}],
        "issues": [
            {
                "id": "water",
                "question": "Share?",
                "scale": [
                    {"label": "all", "description": "All."},
                    {"label": "none", "description": "None."},
                ],
            }
        ],
        "statements": [statement, {**statement, "id": "s2", "on": "2025-01-03", "by": "nobody"}],
    }
    text = json.dumps(document, indent=2)
    return text, next(n for n, row in enumerate(text.splitlines(), 1) if '"nobody"' in row)


UNKNOWN_SPEAKER = (
    "statement 's2': 'nobody' is neither a speaker nor a party of 'talks'" + NEW_SPEAKER
)


def test_a_json_file_names_the_line_of_each_problem_the_plan_finds() -> None:
    text, line = _json_with_an_unknown_speaker()
    scenario = parse_scenario(text, "f.json")
    app = PositionsApplication.open("memory://")
    with pytest.raises(ScenarioError) as caught:
        app.import_scenarios([scenario])
    assert caught.value.lines() == [f"f.json:{line}: {UNKNOWN_SPEAKER}"]
    assert app.get_negotiations() == []


def test_a_json_file_is_read_once_and_its_problems_located_in_what_was_read(
    tmp_path: Path,
) -> None:
    """The lines of a file's problems come from the one reading of it: a file changed after
    it was read is neither read again nor located in its new text."""
    from positions.scenario import read_scenarios

    text, line = _json_with_an_unknown_speaker()
    path = tmp_path / "f.json"
    path.write_text(text)
    scenarios = read_scenarios([path])
    path.write_text("\n" * 50 + "not even JSON")
    app = PositionsApplication.open("memory://")
    with pytest.raises(ScenarioError) as caught:
        app.import_scenarios(scenarios)
    assert caught.value.lines() == [f"{path}:{line}: {UNKNOWN_SPEAKER}"]
    assert app.get_negotiations() == []


def _as_yaml_reads_it(text: str, name: str) -> Scenario:
    """``text`` read by the strict YAML loader, as any file that is not plain JSON is."""
    from unittest import mock

    import positions.scenario

    with mock.patch.object(positions.scenario, "_read_json", return_value=None):
        return parse_scenario(text, name)


def _origins(scenario: Scenario) -> list[tuple[str, int, int, list[tuple[str, int]]]]:
    """Every record's line, and the line a problem with each of its fields is reported on."""
    found = []
    for kind in ("parties", "speakers", "issues", "proposals", "statements", "corrections"):
        for n, item in enumerate(getattr(scenario, kind)):
            value = item.value
            names = getattr(type(value), "model_fields", None) or getattr(
                value, "__dataclass_fields__", {}
            )
            lines = [(f, item.origin.problem("", f).line) for f in names]
            found.append((kind, n, item.origin.line, lines))
    return found


@settings(max_examples=25, deadline=None)
@given(
    indent=st.sampled_from([None, 0, 1, 2, 4]),
    separators=st.sampled_from([None, (",", ":"), (" ,", " : ")]),
    broken=st.none() | st.integers(0, 7),
)
def test_a_json_file_reads_as_the_yaml_loader_reads_it(
    indent: int | None, separators: tuple[str, str] | None, broken: int | None
) -> None:
    """A JSON document is read record by record by the standard library's parser: the same
    records as the strict loader reads from the same text, each at the same line, a problem
    with each field on that field's line, and every problem of a document that does not
    validate said the same way at the same line, however the JSON is laid out."""
    from tests.conftest import SEED

    document = yaml_plain(SEED.read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    if broken is not None:  # a statement with a wrong field, and one with a wrong nested one
        statements = document["statements"]
        statements[broken % len(statements)]["on"] = "yesterday"
        statements[-1 - broken % len(statements)]["sources"] = [{"outlet": 5}]
    text = json.dumps(document, indent=indent, separators=separators)
    try:
        fast: object = parse_scenario(text, "seed.json")
    except ScenarioError as exc:
        fast = exc.lines()
    try:
        slow: object = _as_yaml_reads_it(text, "seed.json")
    except ScenarioError as exc:
        slow = exc.lines()
    assert (broken is None) == isinstance(fast, Scenario)
    if isinstance(fast, Scenario) and isinstance(slow, Scenario):
        assert [s.value for s in fast.statements] == [s.value for s in slow.statements]
        assert [p.value for p in fast.proposals] == [p.value for p in slow.proposals]
        assert fast.origin == slow.origin
        assert _origins(fast) == _origins(slow)
    else:
        assert fast == slow


def yaml_plain(text: str) -> object:
    from positions.scenario import parse_text

    return json.loads(json.dumps(parse_text(text)))


def _with_lines(value: object) -> object:
    """A loaded document with the lines its mappings and lists remember, for comparing."""
    if isinstance(value, dict):
        items = {k: _with_lines(v) for k, v in value.items()}
        return ("map", getattr(value, "line", None), getattr(value, "key_lines", None), items)
    if isinstance(value, list):
        items_ = [_with_lines(v) for v in value]
        return ("list", getattr(value, "line", None), getattr(value, "item_lines", None), items_)
    return (type(value).__name__, value)


_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**30), 10**30),
    st.floats(allow_nan=False),
    st.text(max_size=12),
    st.sampled_from(["yes", "no", "on", "1e5", "0x1f", "2025-03-13", "~", "null", "12:30"]),
)
_DOCUMENTS = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


@given(
    document=st.dictionaries(st.text(max_size=8), _DOCUMENTS, max_size=5),
    flow=st.sampled_from([None, True, False]),
    extra=st.sampled_from(["", "\nz: &a 1\ny: *a\n", "\n<<: {q: 1}\n", "\nk: 1\nk: 2\n"]),
)
def test_libyaml_and_the_pure_python_loader_read_the_same_values_and_lines(
    document: dict[str, object], flow: bool | None, extra: str
) -> None:
    """`parse_text` reads with libyaml when it can; what it gives, values and lines, and every
    refusal (aliases, merge keys, duplicate keys) are the pure-Python strict loader's."""
    import yaml

    from positions.scenario import LoaderError, parse_text

    text = yaml.safe_dump(document, default_flow_style=flow, allow_unicode=True) + extra
    try:
        slow: object = ("ok", _with_lines(parse_text(text, fast=False)))
    except LoaderError as exc:
        slow = ("error", exc.line, exc.message)
    try:
        fast: object = ("ok", _with_lines(parse_text(text)))
    except LoaderError as exc:
        fast = ("error", exc.line, exc.message)
    assert fast == slow


def _problems(document: dict[str, object]) -> list[str]:
    try:
        parse_scenario(json.dumps(document, default=str), "limits.json")
    except ScenarioError as exc:
        return [problem.message for problem in exc.problems]
    return []


def test_lists_longer_than_their_limit_are_refused_in_their_place() -> None:
    """A scale holds at most 100 points and a record at most 50 sources, conditions and terms
    (docs/format.md); as many as the limit are accepted."""
    from tests.strategies import codebook

    def said(n: int) -> dict[str, object]:
        return {
            "id": "s1",
            "on": "2025-01-05",
            "by": "alpha",
            "proposal": "plan-a",
            "verdict": "accept_with_conditions",
            "quote": "q",
            "sources": [{"outlet": f"Wire {k}"} for k in range(n)],
            "conditions": [f"condition {k}" for k in range(n)],
        }

    def issue(points: int) -> dict[str, object]:
        scale = [{"label": f"p{k}", "description": "d"} for k in range(points)]
        return {"id": "wide", "question": "Q?", "scale": scale}

    book = codebook()
    at_the_limit = {
        **book,
        "issues": [*book["issues"], issue(100)],
        "proposals": [{**book["proposals"][0], "terms": {f"t{k}": k for k in range(50)}}],
        "statements": [said(50)],
    }
    assert _problems(at_the_limit) == []
    over = {
        **book,
        "issues": [*book["issues"], issue(101)],
        "proposals": [{**book["proposals"][0], "terms": {f"t{k}": k for k in range(51)}}],
        "statements": [said(51)],
    }
    assert _problems(over) == [
        "issues[2] (wide).scale: holds 101 items; at most 100 are allowed",
        "proposals[0] (plan-a).terms: holds 51 items; at most 50 are allowed",
        "statements[0] (s1).conditions: holds 51 items; at most 50 are allowed",
        "statements[0] (s1).sources: holds 51 items; at most 50 are allowed",
    ]


def test_an_import_tells_its_progress_phase_by_phase(tmp_path: Path) -> None:
    """`import_files` tells each phase from 0 to its total, in order: the files read, the
    statements checked, the events written (all of them), the views brought up to date."""
    first, second = tmp_path / "a.yaml", tmp_path / "b.json"
    first.write_text(SEED.read_text(encoding="utf-8"), encoding="utf-8")
    second.write_text(
        json.dumps({"negotiation": "ukraine-2025", "statements": []}), encoding="utf-8"
    )
    told: list[tuple[str, int, int]] = []
    app = PositionsApplication.open(f"sqlite:///{tmp_path / 'store.db'}", create=True)
    try:
        result = app.import_files([first, second], progress=lambda *step: told.append(step))
    finally:
        app.close()
    phases = list(dict.fromkeys(phase for phase, _, _ in told))
    assert phases == ["reading", "checking", "writing", "views"]
    for phase in phases:
        steps = [(done, total) for name, done, total in told if name == phase]
        total = steps[0][1]
        assert steps[0][0] == 0 and steps[-1] == (total, total)
        assert [done for done, _ in steps] == sorted(done for done, _ in steps)
    totals = {phase: total for phase, _, total in told}
    assert totals["reading"] == 2
    assert totals["checking"] == result.statements
    assert totals["writing"] == result.events


def test_the_plan_takes_the_list_of_scenarios_and_holds_their_statements_alone() -> None:
    """`plan_import` takes the list it is given: each scenario in it is replaced by one
    without its statements, so that the statements' records can be freed as they are planned
    (`import_files` reads the files again should another writer get there first); the
    scenarios themselves are unchanged, and the plan records every statement."""
    from datetime import UTC, datetime

    from positions.domain import Index, plan_import

    read = parse_scenario(SEED.read_text(encoding="utf-8"), "seed.yaml")
    taken = [read]
    plan = plan_import(Index(), {read.negotiation: None}, {}, taken, datetime.now(UTC))
    assert [s.statements for s in taken] == [()]
    assert taken[0].parties == read.parties and read.statements
    assert plan.statements == len(read.statements)


def test_positions_import_gives_the_plan_the_list_it_read_and_reads_the_files_again_after(
    tmp_path: Path,
) -> None:
    """`import_into`, which `positions import` calls, hands the plan the very list of
    scenarios the command read (so each record is dropped once planned, not held by the
    command for the whole import); should another writer get there first, the next plan is
    given the files read again, whole."""
    from positions.application import import_into, once_then
    from positions.scenario import read_scenarios

    read = read_scenarios([SEED])
    count = len(read[0].statements)
    rereads: list[int] = []

    def again(paths: Any) -> list[Scenario]:
        rereads.append(len(paths))
        return read_scenarios(paths)

    load = once_then(read, [SEED], again)
    url = f"sqlite:///{tmp_path / 'store.db'}"
    result = import_into(url, load)
    assert result.statements == count
    assert [s.statements for s in read] == [()]  # taken by the plan, not copied
    assert rereads == []
    fresh = load()
    assert rereads == [1] and len(fresh[0].statements) == count
