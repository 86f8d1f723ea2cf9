"""The search rule (`positions.search`): what a statement's words are, and what a search finds."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from positions.errors import QueryError
from positions.search import LONGEST, Search, Term, fold, word_list, words


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Kyiv accepted the US-backed 30-day ceasefire.",
            "kyiv accepted the us backed 30 day ceasefire",
        ),
        ("NAÏVE Straße, Ærø", "naive strasse ærø"),
        ("Ukraine's future", "ukraine s future"),
        ("snake_case and ﬁne", "snake case and fine"),
        ("Переговоры ОТЛОЖЕНЫ", "переговоры отложены"),
        ("«...» — !?", ""),
    ],
)
def test_the_words_of_a_text_are_its_runs_of_letters_and_digits_without_case_or_accents(
    text: str, expected: str
) -> None:
    assert words(text) == expected


def test_the_words_of_a_statement_are_those_of_its_quote_original_and_notes() -> None:
    assert words("We agree.", None, "Said twice") == "we agree said twice"
    assert words("a" * (LONGEST + 5)) == "a" * LONGEST


@given(st.text())
def test_a_text_written_in_its_own_words_has_the_same_words(text: str) -> None:
    assert words(words(text)) == words(text)
    assert all(" " not in w and w for w in word_list(text))


def test_a_search_is_every_word_given_a_trailing_star_a_prefix() -> None:
    search = Search.parse("Ceasefire  tal* US-backed")
    assert search.terms == (
        Term("ceasefire", False),
        Term("tal", True),
        Term("us", False),
        Term("backed", False),
    )
    assert search.matches("the us backed ceasefire talks")
    assert not search.matches("the us backed ceasefire")  # no word starts with tal
    assert not Search.parse("tal").matches("talks")
    assert Search.parse("TALKS").matches("talks")


def test_a_search_written_as_an_operator_is_only_words_in_both_query_languages() -> None:
    search = Search.parse('NEAR(a b) OR "x" -y:*')
    assert [t.word for t in search.terms] == ["near", "a", "b", "or", "x", "y"]
    assert search.fts5() == '"near" "a" "b" "or" "x" "y"*'
    assert search.tsquery() == "'near' & 'a' & 'b' & 'or' & 'x' & 'y':*"


@pytest.mark.parametrize("text", ["", "  ", "*", "-- !", "'_'"])
def test_a_search_with_no_word_is_a_query_error(text: str) -> None:
    with pytest.raises(QueryError, match="holds no word to look for"):
        Search.parse(text)


@given(st.text() | st.text("aAéÉßİΣς\u0301ﬁ'’ -"))
def test_folding_is_the_rule_read_literally(text: str) -> None:
    """Case-folded, decomposed, every mark dropped, case-folded again (`fold` takes shorter
    ways for ASCII and for texts with few marks)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    unmarked = "".join(c for c in decomposed if not unicodedata.category(c).startswith("M"))
    assert fold(text) == unmarked.casefold()
