"""Value types: statements validate, round-trip through their JSON, and copy with updates."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from positions.codebook import Statement
from positions.drafts import StatementDraft
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


def test_a_statement_read_back_from_its_json_equals_it_and_copies_with_updates() -> None:
    whole = Statement.model_validate(RECORD).model_dump_json()
    first = Statement.model_validate_json(whole)
    assert first.model_dump_json() == whole
    assert first.model_fields_set == set(Statement.model_fields)
    changed = first.model_copy(update={"hypothetical": True, "position": "keep"})
    assert (changed.hypothetical, changed.position, first.hypothetical) == (True, "keep", False)
    assert first == Statement.model_validate_json(whole) != changed


def test_an_input_keeps_the_fields_it_was_given_and_a_copy_adds_the_updated_ones() -> None:
    first = StatementInput.model_validate({**RECORD, "by": "alpha"})
    assert first.model_fields_set == {*RECORD, "by"}
    marked = first.model_copy(update={"hypothetical": True})
    assert marked.hypothetical and not first.hypothetical
    assert marked.model_fields_set == {*RECORD, "by", "hypothetical"}
    assert first.model_dump(exclude_unset=True).keys() == {*RECORD, "by"}


def test_a_date_given_as_text_parses_and_a_bad_one_is_refused_each_time() -> None:
    from pydantic import ValidationError

    from positions.codebook import StatedOn

    first = StatedOn.model_validate("2031-05-17")
    assert StatedOn.model_validate({"day": "2031-05-17"}) == first
    assert StatedOn.model_validate("before 2031-05-17").before == first.day
    assert StatedOn.model_validate("before 2031-05-17").precise is False
    for _ in range(2):
        with pytest.raises(ValidationError):
            StatedOn.model_validate("2031-13-17")


@given(stmts=statements(max_size=6))
def test_statements_read_from_a_file_are_the_validated_inputs(
    stmts: list[dict[str, Any]],
) -> None:
    """A scenario, YAML or JSON, hands the planner each statement it read as a draft with
    every field of the validated input, and nothing else."""
    text = json.dumps({**codebook(), "statements": stmts}, default=str)
    for name in ("s.json", "s.yaml"):
        scenario = parse_scenario(text, name)
        for located, record in zip(scenario.statements, stmts, strict=True):
            read = located.value
            validated = StatementInput.model_validate_json(json.dumps(record, default=str))
            assert isinstance(read, StatementDraft)
            assert {name: getattr(read, name) for name in StatementInput.model_fields} == dict(
                validated
            )


def test_a_draft_has_exactly_the_fields_of_a_statement_input() -> None:
    assert list(StatementDraft.__dataclass_fields__) == list(StatementInput.model_fields)


_SCALARS = st.one_of(
    st.text(st.characters(exclude_categories=["Cs"]), max_size=12),
    st.sampled_from(["1e5", "2e3", "-1E-7", "true", "False", "12", "0", "1.5", "null", "~", "yes"]),
    st.integers(min_value=-(2**53), max_value=2**53),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
)


@given(
    document=st.dictionaries(
        st.from_regex(r"[a-z][a-z_]{0,8}", fullmatch=True),
        st.one_of(
            _SCALARS, st.lists(_SCALARS, max_size=3), st.dictionaries(st.just("k"), _SCALARS)
        ),
        max_size=6,
    )
)
@example(document={"quote": "a\x85b", "terms": ["x\u2028y", "p\u2029q"]})
def test_a_scenario_document_written_as_yaml_reads_back_as_it_was(document: dict[str, Any]) -> None:
    """`export --what scenario` once wrote strings such as ``1e5`` unquoted, which the strict
    loader reads as numbers: the writer quotes with the loader's own resolvers. It also wrote
    NEL (U+0085) raw in a single-quoted string, which YAML reads as a line break and folds
    into a space."""
    from positions.scenario import dump_scenario, parse_text

    assert parse_text(dump_scenario(document)) == document
