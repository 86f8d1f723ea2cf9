"""The hints of error messages (`positions.hints`) and pydantic's errors in the format's words
(`positions.messages`)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from positions.codebook import Source
from positions.hints import did_you_mean, listing, nearest, unknown
from positions.messages import fields_at, message
from positions.scenario import ScenarioFile, StatementInput


def test_the_nearest_name_is_the_same_name_in_another_case_before_any_look_alike() -> None:
    assert nearest("Russia", ["russian", "russia"]) == "russia"
    assert nearest("trumpp", ["trump", "rubio"]) == "trump"
    assert nearest("france", ["russia", "ukraine", "us"]) is None  # 0.62 alike: too far
    assert nearest("us", ["us", "uk"]) is None  # the name itself is not a suggestion
    assert did_you_mean("sorces", ["sources", "quote"]) == ": did you mean 'sources'?"
    assert did_you_mean("xyz", ["sources"]) == ""


def test_a_listing_is_sorted_and_counts_what_it_leaves_out() -> None:
    assert listing([]) == "none defined"
    assert listing(["b", "a", "b"]) == "a, b"
    assert listing([f"p{n:02}" for n in range(25)], limit=3) == "p00, p01, p02 and 22 more"
    assert unknown("party", "Us", ["us", "uk"]) == (
        "unknown party 'Us' (known: uk, us): did you mean 'us'?"
    )


def test_the_fields_of_a_record_are_found_through_lists_and_optional_fields() -> None:
    assert "confidence" in fields_at(ScenarioFile, ("statements", 3))
    assert fields_at(ScenarioFile, ("statements", 0, "sources", 1)) == list(Source.model_fields)
    assert "label" in fields_at(ScenarioFile, ("issues", 0, "scale", 2))
    assert fields_at(ScenarioFile, ("statements", 0, "quote")) == []
    assert fields_at(ScenarioFile, ("nothing", 0)) == []
    assert "quote" in fields_at(StatementInput, ())


def errors(model: Any, data: dict[str, Any]) -> list[str]:
    with pytest.raises(ValidationError) as raised:
        model.model_validate(data)
    # a union of numbers fails once for each kind: one message, as a file's problems are a set
    return list(dict.fromkeys(message(error, model) for error in raised.value.errors()))


STATEMENT = {"id": "s1", "on": "2025-03-10", "by": "a"}


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"sorces": "x"}, "unknown field: did you mean 'sources'?"),
        ({"colour": "red"}, "unknown field (see docs/format.md for the fields a record takes)"),
        ({"id": "S-1"}, "ids are lower case: write 's-1'"),
        (
            {"id": "s 1"},
            "an id takes lower-case letters, digits, '_', '-' and '.', starting "
            "with a letter or digit",
        ),
        ({"on": "March"}, "expected a date as YYYY-MM-DD (or before YYYY-MM-DD), not 'March'"),
        ({"on": "2025-13-01"}, "'2025-13-01' is not a day of the calendar"),
        ({"confidence": "hi"}, "expected one of high, medium, low, not 'hi'"),
        (
            {"confidence": "hihg"},
            "expected one of high, medium, low, not 'hihg': did you mean 'high'?",
        ),
        ({"quote": " "}, "may not be empty"),
        ({"salience": 101}, "must be at most 100"),
        ({"salience": -1}, "must be at least 0"),
        ({"salience": "lots"}, "expected a number, not 'lots'"),
        ({"hypothetical": "perhaps"}, "expected true or false, not 'perhaps'"),
        (
            {"language": "EN"},
            "expected a language tag such as 'ru', 'uk' or 'pt-BR' (BCP 47): write 'en'",
        ),
        (
            {"sources": "Wire"},
            "a source is a mapping such as {outlet: CNN, url: https://…}, or a URL; not 'Wire'",
        ),
        (
            {"sources": {"outlet": "W", "url": "w.example/a"}},
            "a url starts with http:// or "
            "https:// and holds no spaces: write 'https://w.example/a'",
        ),
        (
            {"sources": {"outlet": "W", "published": "May"}},
            "expected a date as YYYY-MM-DD, not 'May'",
        ),
        ({"conditions": 5}, "expected a list, not 5"),
    ],
)
def test_each_mistake_gets_a_message_in_the_formats_words(
    change: dict[str, Any], expected: str
) -> None:
    assert errors(StatementInput, {**STATEMENT, **change}) == [expected]


def test_a_bare_url_is_a_source_whose_outlet_is_its_host_without_www() -> None:
    one = StatementInput.model_validate({**STATEMENT, "sources": "https://www.cnn.com/2025/x"})
    assert one.sources == (Source(outlet="cnn.com", url="https://www.cnn.com/2025/x"),)
    many = StatementInput.model_validate(
        {**STATEMENT, "sources": ["http://example.org:8/x?y=1", {"outlet": "Wire"}]}
    )
    assert [s.outlet for s in many.sources] == ["example.org", "Wire"]
    assert errors(StatementInput, {**STATEMENT, "sources": "https://a b"}) == [
        "a source is a mapping such as {outlet: CNN, url: https://…}, or a URL; not 'https://a b'"
    ]
