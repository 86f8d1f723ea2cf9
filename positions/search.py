"""The full-text search rule: which words a statement holds, and which statements a search finds.

This module is the only place the rule is decided. A statement's *words* are the runs of
letters and digits of its quote, original quote and notes, compared without case or accents:
each text is case-folded, decomposed (NFKD), stripped of its marks (Unicode category M) and
case-folded again, then cut into runs of letters and digits (`str.isalnum`, so ``_``, ``-`` and
``'`` separate words); a run longer than `LONGEST` characters keeps its first `LONGEST`. The
views keep each statement's words as one space-separated text (`words`), and a search is read
by the same function, so the database never normalises text itself:

- SQLite indexes that text in an FTS5 table whose ``ascii`` tokenizer splits it exactly at the
  spaces (every other character of a word is an ASCII letter or digit, or not ASCII, and so a
  token character for it), and `Search.fts5` writes the query;
- PostgreSQL indexes ``array_to_tsvector(string_to_array(words, ' '))`` (the words as they are,
  no parser or dictionary), and `Search.tsquery` writes the query.

A search is a list of terms, every one of which must be among a statement's words; a term
written with a trailing ``*`` matches every word that starts with it. `Search.matches` is the
rule read literally; a property test holds both databases' answers to it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from positions.errors import QueryError

LONGEST = 100
"""The most characters of a word that count (PostgreSQL indexes words of up to 2,047 bytes)."""

_WORD = re.compile(r"[^\W_]+")


def fold(text: str) -> str:
    """A text compared without case or accents (see the module's rule)."""
    if text.isascii():  # the same, for ASCII: nothing decomposes, no mark, casefold is lower
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    marks = [c for c in set(decomposed) if unicodedata.category(c).startswith("M")]
    return decomposed.translate(dict.fromkeys(map(ord, marks))).casefold()


def word_list(text: str) -> list[str]:
    """The words of one text, in order."""
    return [word[:LONGEST] for word in _WORD.findall(fold(text))]


def words(*texts: str | None) -> str:
    """The words of a statement's texts (quote, original quote, notes), space-separated: what
    the views keep and index."""
    return " ".join(word for text in texts if text for word in word_list(text))


@dataclass(frozen=True)
class Term:
    word: str
    prefix: bool


@dataclass(frozen=True)
class Search:
    """A parsed ``--search``: every term must be among a statement's words."""

    terms: tuple[Term, ...]

    @classmethod
    def parse(cls, text: str, name: str = "--search") -> Search:
        """The terms of a search; `QueryError` (naming the search as ``name``) when it holds
        no word to look for."""
        terms: list[Term] = []
        for chunk in text.split():
            found = word_list(chunk)
            if not found:
                continue
            prefix = chunk.endswith("*")
            terms.extend(Term(word, False) for word in found[:-1])
            terms.append(Term(found[-1], prefix))
        if not terms:
            raise QueryError(
                f"{name} {text!r} holds no word to look for (words are letters and digits)"
            )
        return cls(tuple(dict.fromkeys(terms)))

    def matches(self, held: str) -> bool:
        """Whether a statement with these `words` is found: the rule read literally."""
        have = held.split()
        return all(
            any(w == t.word or (t.prefix and w.startswith(t.word)) for w in have)
            for t in self.terms
        )

    def fts5(self) -> str:
        """The FTS5 query of the search (every word quoted: no operator can come from it)."""
        return " ".join(f'"{t.word}"' + ("*" if t.prefix else "") for t in self.terms)

    def tsquery(self) -> str:
        """The PostgreSQL ``tsquery`` text of the search (every word quoted as a lexeme)."""
        return " & ".join(f"'{t.word}'" + (":*" if t.prefix else "") for t in self.terms)
