"""Value types: validated statements share one set of field names, and stay copyable."""

from __future__ import annotations

import pytest

from positions.codebook import Statement, trusted
from positions.scenario import StatementInput

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
