"""``--search``: SQLite's FTS5 index and PostgreSQL's text search find exactly the statements
that `positions.search` says hold the words, for any text (accents, scripts, marks, digits,
punctuation), and the index is kept through corrections, rebuilds and old views."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from positions.application import PositionsApplication
from positions.codebook import Correction
from positions.queries.stance import StepQueries
from positions.search import Search, word_list, words
from tests.runner import run_cli
from tests.stepcheck import scenario_of
from tests.stores import BACKENDS, any_store
from tests.strategies import START, codebook

CHARS = st.text(
    st.characters(
        blacklist_categories=("Cs", "Cc", "Co", "Cn"),  # no surrogate, control or unassigned
        blacklist_characters="\u2028\u2029",
    )
    | st.sampled_from([*"aAáÁeéÉ ß-'_9 ", "\u0301", "ﬁ", "İ", "Σ", "ς", "東", "Ⅻ"]),
    max_size=12,
)
WORDS = st.sampled_from(
    [
        *("Talks", "talk", "talking", "cease-fire", "CEASE", "naïve", "naive", "Straße"),
        *("strasse", "1990s", "x_y", "東京", "Ærø", "TALLINN", "the", "a"),
    ]
)
"""Words that differ by a stem, an accent, a case, a hyphen or a folding: what a tokenizer
other than the rule's would merge or split."""
TEXT = st.lists(st.one_of(CHARS, WORDS, WORDS), max_size=6).map(" ".join)


def statement(n: int, quote: str, notes: str, original: str) -> dict[str, Any]:
    found: dict[str, Any] = {
        "id": f"s{n}",
        "on": START + timedelta(days=n),
        "by": "alpha",
        "quote": quote if quote.strip() else "q",  # a quote needs more than spaces
        "sources": [{"outlet": "Wire"}],
        "issue": "water",
        "position": "share_all",
    }
    if notes.strip():
        found["notes"] = notes
    if original.strip():
        found.update(quote_original=original, language="xx")
    return found


@st.composite
def searches(draw: st.DrawFn, texts: list[str]) -> str:
    """A search of the words of the texts (whole, as prefixes, in another case) or others."""
    held = [w for text in texts for w in word_list(text)]
    terms: list[str] = []
    for _ in range(draw(st.integers(1, 3))):
        known = draw(st.booleans())
        if held and known:
            word = draw(st.sampled_from(held))
            word = word.upper() if draw(st.booleans()) else word
            cut = draw(st.integers(1, len(word)))
            terms.append(word[:cut] + "*" if cut < len(word) or draw(st.booleans()) else word)
        else:
            terms.append(draw(st.one_of(WORDS, CHARS).filter(lambda t: bool(word_list(t)))))
    return " ".join(terms)


@pytest.mark.parametrize("backend", BACKENDS)
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=15)
@given(data=st.data(), texts=st.lists(st.tuples(TEXT, TEXT, TEXT), min_size=1, max_size=6))
def test_the_index_finds_what_the_rule_says_for_any_text(
    backend: str,
    tmp_path_factory: pytest.TempPathFactory,
    data: st.DataObject,
    texts: list[tuple[str, str, str]],
) -> None:
    stmts = [statement(n, *three) for n, three in enumerate(texts)]
    asked = [data.draw(searches([t for three in texts for t in three])) for _ in range(6)]
    with any_store(backend, tmp_path_factory.mktemp("search")) as url:
        app = PositionsApplication.open(url, create=True)
        app.import_scenarios([scenario_of({**codebook(), "statements": stmts}, "s.json")])
        assert app.views is not None
        with StepQueries(app.views, "generated", None) as sql:
            for text in asked:
                search = Search.parse(text)
                expected = [
                    s["id"]
                    for s in stmts
                    if search.matches(words(s["quote"], s.get("quote_original"), s.get("notes")))
                ]
                found = [row["statement_id"] for row in sql.history_rows(search=search)]
                assert found == expected, text


def seeded_app(url: str) -> PositionsApplication:
    app = PositionsApplication.open(url, create=True)
    stmts = [
        statement(0, "Talks on the water deal", "", ""),
        statement(1, "No talks", "noted in Tallinn", "Переговоры"),
    ]
    app.import_scenarios([scenario_of({**codebook(), "statements": stmts}, "s.json")])
    return app


def found(app: PositionsApplication, text: str) -> list[str]:
    assert app.views is not None
    app.catch_up()
    with StepQueries(app.views, "generated", None) as sql:
        return [row["statement_id"] for row in sql.history_rows(search=Search.parse(text))]


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_corrected_statement_is_found_once_with_its_correction(
    backend: str, tmp_path: Path
) -> None:
    with any_store(backend, tmp_path) as url:
        app = seeded_app(url)
        app.correct("generated", Correction(statement="s1", reason="r", position="share_none"))
        assert found(app, "talks") == ["s0", "s1", "s1"]  # s1 and the row of its correction
        assert found(app, "переговоры") == ["s1", "s1"]
        assert found(app, "tallinn talks") == ["s1", "s1"]
        assert found(app, "deal tallinn") == []


def test_rebuild_and_views_made_before_search_keep_the_index(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    app = seeded_app(url)
    assert found(app, "water") == ["s0"]
    del app
    rebuilt = run_cli("--store", url, "rebuild")
    assert rebuilt.code == 0, rebuilt.err
    with sqlite3.connect(tmp_path / "store.db") as db:  # views as a version before search made
        for trigger in ("searched", "unsearched", "researched"):
            db.execute(f"DROP TRIGGER positions_view_statements_{trigger}")
        db.execute("DROP TABLE positions_view_search")
        db.execute("ALTER TABLE positions_view_statements DROP COLUMN words")
    assert found(PositionsApplication.open(url), "water") == ["s0"]
    checked = run_cli("--store", url, "verify")
    assert checked.code == 0, checked.out + checked.err
