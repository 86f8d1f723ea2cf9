"""Value types: validated statements share one set of field names, and stay copyable."""

from __future__ import annotations

import json
import sys
from typing import Any

import pytest
from hypothesis import given

from positions.codebook import Statement, trusted
from positions.scenario import StatementInput, parse_scenario
from tests.strategies import codebook, statements

RECORD = {
    "id": "s-1",
    "on": "2025-03-13",
    "party": "alpha",
    "issue": "water",
    "position": "share",
    "quote": "We share.",
    "sources": [{"outlet": "Wire"}],
}


def test_statements_read_back_whole_share_their_field_names_and_copy_with_updates() -> None:
    whole = Statement.model_validate(RECORD).model_dump_json()
    first = Statement.model_validate_json(whole)
    second = Statement.model_validate_json(whole)
    assert first.model_fields_set is second.model_fields_set
    assert first.model_fields_set == set(Statement.model_fields)
    changed = first.model_copy(update={"hypothetical": True, "position": "keep"})
    assert (changed.hypothetical, changed.position, first.hypothetical) == (True, "keep", False)
    assert first.model_fields_set == set(Statement.model_fields)
    assert first == second != changed


def test_inputs_given_the_same_fields_share_them_and_a_copy_with_updates_gets_its_own() -> None:
    first = StatementInput.model_validate({**RECORD, "by": "alpha"})
    second = StatementInput.model_validate({**RECORD, "by": "beta"})
    assert first.model_fields_set is second.model_fields_set
    assert first.model_fields_set == {*RECORD, "by"}
    marked = first.model_copy(update={"hypothetical": True})
    assert marked.hypothetical and not first.hypothetical
    assert marked.model_fields_set == {*RECORD, "by", "hypothetical"}
    assert second.model_fields_set == {*RECORD, "by"}
    assert second.model_dump(exclude_unset=True).keys() == {*RECORD, "by"}


def test_a_trusted_statement_equals_the_validated_one_and_dumps_the_same() -> None:
    valid = Statement.model_validate(RECORD)
    built = trusted(Statement, {name: getattr(valid, name) for name in reversed(valid.__dict__)})
    assert built == valid
    assert built.model_dump_json() == valid.model_dump_json()
    assert (
        built.model_fields_set
        is Statement.model_validate_json(valid.model_dump_json()).model_fields_set
    )


def test_a_date_given_as_text_is_one_shared_instance_and_a_bad_one_is_refused_each_time() -> None:
    """`StatedOn` keeps one instance per date written as text (statements share it); a date
    that does not validate is never kept, so it fails every time."""
    from pydantic import ValidationError

    from positions.codebook import StatedOn

    first = StatedOn.model_validate("2031-05-17")
    assert StatedOn.model_validate("2031-05-17") is first
    assert StatedOn.model_validate({"day": "2031-05-17"}) == first
    assert StatedOn.model_validate("before 2031-05-17").before == first.day
    for _ in range(2):
        with pytest.raises(ValidationError):
            StatedOn.model_validate("2031-13-17")


@given(stmts=statements(max_size=6))
def test_statements_read_from_a_file_are_compact_copies_of_the_validated_inputs(
    stmts: list[dict[str, Any]],
) -> None:
    """A scenario keeps each statement it read (and its sources) as a compact copy of the
    validated input: equal to it, with the same fields set and the same JSON, its fields kept
    in a key-sharing dictionary much smaller than the validated model's own."""
    text = json.dumps({**codebook(), "statements": stmts}, default=str)
    for name in ("s.json", "s.yaml"):
        scenario = parse_scenario(text, name)
        for located, record in zip(scenario.statements, stmts, strict=True):
            read = located.value
            validated = StatementInput.model_validate_json(json.dumps(record, default=str))
            assert read == validated
            assert read.model_fields_set == validated.model_fields_set
            assert read.model_dump_json() == validated.model_dump_json()
            assert sys.getsizeof(read.__dict__) < sys.getsizeof(validated.__dict__) / 2
            assert read.sources == validated.sources
        seen: dict[Any, Any] = {}
        for located in scenario.statements:  # few-valued fields: one object per value
            values = [located.value.issue, located.value.position, located.value.party]
            values += [s.outlet for s in located.value.sources]
            for value in (v for v in values if v is not None):
                assert seen.setdefault(value, value) is value


def test_statements_stay_compact_in_a_process_that_validated_many_first() -> None:
    """CPython stops adding names to a class's shared keys once a few dozen instances exist:
    the classes' keys are shared where they are defined, so a process that validated many
    statements before reading a file (a fresh one here) still keeps the file's compactly."""
    import subprocess

    code = (
        "import json, sys\n"
        "from positions.scenario import StatementInput, parse_scenario\n"
        "record = {'id': 's', 'on': '2025-01-02', 'party': 'alpha', 'quote': 'q',\n"
        "          'sources': [{'outlet': 'Wire'}]}\n"
        "kept = [StatementInput.model_validate({**record, 'id': f's{n}'}) for n in range(500)]\n"
        "text = json.dumps({'negotiation': 'n', 'statements': [record]})\n"
        "read = parse_scenario(text, 'a.json').statements[0].value\n"
        "print(sys.getsizeof(read.__dict__), sys.getsizeof(kept[0].__dict__))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    compact, validated = (int(n) for n in done.stdout.split())
    assert compact < validated / 2
