"""Value types: validated statements share one set of field names, and stay copyable."""

from __future__ import annotations

from positions.codebook import Statement
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


def test_a_model_given_only_some_fields_keeps_its_own_set() -> None:
    given = StatementInput.model_validate({**RECORD, "by": "alpha"})
    assert given.model_fields_set == {*RECORD, "by"}
    assert given.model_dump(exclude_unset=True).keys() == {*RECORD, "by"}
