"""Every error message documented in docs/format.md and docs/errors.md is produced, word for word.

The documented messages are read from the pages themselves: each ``Error: …`` line of a code
block. For docs/format.md each file named there (``rules.yaml``, ``defs.yaml``, ...) has a case
below that writes such a file and imports it; the errors it gives must be the documented lines of
that file, no more and no fewer, equal but for the line numbers (a page shows the lines of a file
it does not print). A message added to a page without a case here, or a case whose file the page
no longer shows, fails the first test. docs/errors.md's examples run as shown, in a folder that
holds the store ``tour.db``; the shapes it describes in prose (Ctrl-C, an unexpected error, a
store that cannot be opened, views that cannot be written) are at the end.
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from positions import PositionsApplication
from tests.conftest import ROOT, SEED, run_cli

FORMAT = ROOT / "docs" / "format.md"
ERRORS = ROOT / "docs" / "errors.md"
RIVER_TALKS = ROOT / "fixtures" / "example-river-talks.yaml"
LOCATED = re.compile(r"^Error: (?P<file>[^:]+):(?:\d+:)? ")


def documented_lines(page: Path, after: str | None = None) -> list[str]:
    """Every ``Error: …`` line of the code blocks of ``page`` (from the heading ``after`` on)."""
    text = page.read_text(encoding="utf-8")
    if after is not None:
        text = text[text.index(after) :]
    blocks = re.findall(r"^```[a-z]*\n(.*?)^```", text, flags=re.S | re.M)
    return [line for block in blocks for line in block.splitlines() if line.startswith("Error: ")]


def by_file(lines: list[str]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for line in lines:
        found = LOCATED.match(line)
        assert found, line
        grouped.setdefault(found["file"], []).append(line)
    return grouped


def without_line_numbers(line: str) -> str:
    """A line with every ``FILE:LINE`` and ``line N`` made ``FILE:N`` and ``line N``."""
    line = re.sub(r"(\.ya?ml|\.json):\d+", r"\1:N", line)
    return re.sub(r"\bline \d+\b", "line N", line)


SCENARIO_ERRORS = by_file(documented_lines(FORMAT, after="\n## Errors\n"))

# Definitions most cases share: two parties, a speaker of party a, an issue x of two points.
HEAD = """\
negotiation: talks
parties:
  - {id: a, name: A}
  - {id: b, name: B}
speakers:
  - {id: amin, name: Amin, party: a}
issues:
  - id: x
    question: How much?
    scale:
      - {label: all, description: All of it.}
      - {label: none, description: None of it.}
"""
PROPOSAL = """\
proposals:
  - {id: p1, issue: x, by: a, on: 2025-03-01, position: all}
"""
SOURCE = "sources: {outlet: Wire}"


def statement(fields: str) -> str:
    """One statement in flow style, with a quote and a source unless ``fields`` says otherwise."""
    return f"  - {{{fields}, quote: Said., {SOURCE}}}\n"


@dataclass(frozen=True)
class Case:
    files: dict[str, str | bytes]
    args: tuple[str, ...] = ()
    before: dict[str, str] = field(default_factory=dict)
    """Files imported into the store first (a store that already holds an earlier version)."""


CASES: dict[str, Case] = {
    "nosuch.yaml": Case({}, ("nosuch.yaml",)),
    "/tmp": Case({}, ("/tmp",)),
    "/dev/zero": Case({}, ("/dev/zero",)),
    "empty.yaml": Case({"empty.yaml": b""}),
    "list.yaml": Case({"list.yaml": b"- a\n- b\n"}),
    "latin1.yaml": Case({"latin1.yaml": b"negotiation: talks\ntitle: caf\xe9\n"}),
    "malformed.yaml": Case(
        {"malformed.yaml": "negotiation: talks\nparties:\n  - {id: a, name: A}\nx: [1, 2\n"}
    ),
    "alias.yaml": Case(
        {"alias.yaml": "negotiation: talks\nparties: &p\n  - {id: a, name: A}\nspeakers: *p\n"}
    ),
    "merge.yaml": Case(
        {"merge.yaml": "negotiation: talks\nparties:\n  - id: a\n    <<: {name: A}\n"}
    ),
    "dupkey.yaml": Case({"dupkey.yaml": "negotiation: talks\ntitle: One\ntitle: Two\n"}),
    "defs.yaml": Case(
        {
            "defs.yaml": """\
negotiation: Talks
parties:
  - {id: a, name: A, flag: red}
  - {id: b}
speakers:
  - {id: amin, name: Amin, party: a, rank: general}
issues:
  - id: x
    question: How much?
    scale:
      - {label: noncommittal, description: Nothing.}
      - {label: all, description: All of it.}
      - {label: none, description: None of it.}
  - id: y
    question: How long?
    scale:
      - {label: long, description: Long.}
statements:
  - {id: s1, on: 2025-03-10, by: a, issue: x, position: none, confidence: total, quote: "", verdict: maybe, sources: [{outlet: Wire, url: "ftp://x"}]}
  - {id: s2, on: sometime in March, by: a, issue: x, position: none, attribution: rumour, quote: Said., sources: {outlet: Wire}}
"""
        }
    ),
    "duplabel.yaml": Case(
        {
            "duplabel.yaml": """\
negotiation: talks
issues:
  - id: x
    question: How much?
    scale:
      - {label: all, description: All of it.}
      - {label: all, description: All of it again.}
"""
        }
    ),
    "badbefore.yaml": Case(
        {
            "badbefore.yaml": HEAD
            + "statements:\n"
            + statement("id: s1, on: {before: March 2025}, by: a, issue: x, position: all")
        }
    ),
    "range.yaml": Case(
        {
            "range.yaml": HEAD
            + "statements:\n"
            + statement("id: s1, on: 1700-01-01, by: a, issue: x, position: all")
        }
    ),
    "terms.yaml": Case(
        {
            "terms.yaml": HEAD
            + "statements:\n"
            + statement(
                "id: s1, on: 2025-03-10, by: a, issue: x, position: all, "
                "terms: {ships: 123456789012345678901234567890, rate: !!float inf}"
            )
            + statement(
                f"id: s2, on: 2025-03-11, by: a, issue: x, position: all, terms: {{note: {'w' * 1001}}}"
            )
        }
    ),
    "cross.yaml": Case(
        {
            "cross.yaml": """\
negotiation: talks
parties:
  - {id: a, name: A}
speakers:
  - {id: amin, name: Amin, party: a}
  - {id: cmin, name: Cmin, party: c}
issues:
  - id: x
    question: How much?
    scale:
      - {label: all, description: All of it.}
      - {label: none, description: None of it.}
proposals:
  - {id: p1, issue: z, by: c, on: 2025-03-01, position: all}
  - {id: p2, issue: x, by: a, on: 2025-03-01, position: most}
"""
        }
    ),
    "package.yaml": Case(
        {
            "package.yaml": HEAD
            + """\
  - id: y
    question: How long?
    scale:
      - {label: long, description: Long.}
      - {label: short, description: Short.}
  - id: z
    question: Where?
    scale:
      - {label: here, description: Here.}
      - {label: there, description: There.}
proposals:
  - id: deal
    by: a
    on: 2025-03-01
    covers: [{issue: x, position: all}, {issue: y, position: short}]
  - id: twice
    by: a
    on: 2025-03-01
    covers: [{issue: x, position: all}, {issue: x, position: none}]
  - id: both
    by: a
    on: 2025-03-01
    issue: z
    covers: [{issue: x, position: all}]
  - {id: neither, by: a, on: 2025-03-01}
statements:
  - id: s1
    on: 2025-03-02
    by: a
    proposal: deal
    issue: z
    verdict: accept
    quote: Yes.
    sources: [https://example.org/s1]
"""
        }
    ),
    "joint.yaml": Case(
        {
            "joint.yaml": """\
negotiation: talks
parties:
  - {id: a, name: A}
  - {id: b, name: B}
  - {id: c, name: C}
speakers:
  - {id: cmin, name: Cmin, party: c}
issues:
  - id: x
    question: How much?
    scale:
      - {label: all, description: All of it.}
      - {label: none, description: None of it.}
statements:
  - {id: j1, on: 2025-03-01, party: [a, b, a], issue: x, position: all, quote: Q, sources: [https://example.org/j]}
  - {id: j2, on: 2025-03-01, by: cmin, party: [a, b], issue: x, position: all, quote: Q, sources: [https://example.org/j]}
  - {id: j3, on: 2025-03-01, party: [a, b], about: b, issue: x, position: all, quote: Q, sources: [https://example.org/j]}
  - {id: j4, on: 2025-03-01, party: [a, b], issue: x, position: all, quote: Q, sources: [https://example.org/j]}
  - {id: j5, on: 2025-03-02, party: [a, c], retracts: j4, quote: Q, sources: [https://example.org/j]}
"""
        }
    ),
    "one-b.yaml": Case(
        {
            "one.yaml": "negotiation: talks\nparties:\n  - {id: a, name: A}\n",
            "one-b.yaml": "negotiation: talks\nparties:\n  - {id: a, name: Another A}\n",
        }
    ),
    "typos.yaml": Case(
        {
            "typos.yaml": HEAD.replace("{id: b, name: B}", "{id: b, name: B, capability: high}")
            + PROPOSAL
            + "statements:\n"
            + statement("id: S1, on: 2025-03-10, by: amn, issue: x, position: al")
            + statement("id: s2, on: 2025-03-10, party: A, issue: x, position: all, cofidence: low")
            + statement("id: s3, on: 13 March 2025, by: a, issue: x, position: all")
            + statement("id: s4, on: 2025-02-30, by: a, proposal: p1, verdict: acept")
            + "  - {id: s5, on: 2025-03-10, by: b, issue: x, position: none, quote: Said.,"
            " sources: [Wire, {outlet: Wire, url: wire.example/1, published: March}]}\n"
            + "  - {id: s6, on: 2025-03-10, by: b, issue: x, position: none, quote: Said.,"
            " sources: https://www.wire.example/2, language: RU}\n"
        }
    ),
    "typos-ids.yaml": Case(
        {
            "typos-ids.yaml": HEAD
            + "statements:\n"
            + statement("id: s1, on: 2025-03-10, by: amn, issue: x, position: al")
            + statement("id: s2, on: 2025-03-10, by: bob, issue: x, position: none")
        }
    ),
    "elsewhere.yaml": Case(
        {
            "elsewhere.yaml": "negotiation: talk\nstatements:\n"
            + statement("id: s1, on: 2025-03-10, by: a")
        },
        before={"talks.yaml": HEAD},
    ),
    "keys.yaml": Case(
        {
            "keys.yaml": HEAD
            + "statements:\n"
            + statement(
                "id: s1, on: 2025-03-10, by: amin, issue: x, position: all, terms: {true: 3}"
            )
        }
    ),
    "t2.yaml": Case(
        {
            "t1.yaml": "negotiation: talks\ntitle: One title\n",
            "t2.yaml": "negotiation: talks\ntitle: Another title\n",
        }
    ),
    "v2.yaml": Case(
        {
            "v2.yaml": HEAD.replace("party: a}", "party: b}").replace(
                "{label: none, description: None of it.}",
                "{label: some, description: Some of it.}",
            )
            + PROPOSAL.replace("by: a", "by: b")
            + "statements:\n"
            + statement("id: s1, on: 2025-03-10, by: a, issue: x, position: none")
        },
        before={
            "v1.yaml": HEAD
            + PROPOSAL
            + "statements:\n"
            + statement("id: s1, on: 2025-03-10, by: a, issue: x, position: all")
        },
    ),
    "rules.yaml": Case(
        {
            "rules.yaml": HEAD
            + PROPOSAL
            + "statements:\n"
            + statement("id: s1, on: 2025-03-10, by: b, issue: x, position: all")
            + statement("id: s2, on: 2025-03-11, by: a, clarifies: s1")
            + statement("id: s3, on: 2025-03-09, by: b, clarifies: s1")
            + statement("id: s4, on: 2025-03-11, by: b, retracts: s1")
            + statement("id: s5, on: 2025-03-12, by: b, retracts: s4")
            + statement("id: s6, on: 2025-03-12, by: nobody, issue: x, position: all")
            + statement("id: s7, on: 2025-03-12, by: a, issue: x, position: most")
            + statement("id: s8, on: 2025-03-12, by: a, issue: x, verdict: accept")
            + statement("id: s9, on: 2025-03-12, by: a, proposal: p1")
            + "  - {id: s10, on: 2025-03-12, by: a}\n"
            + statement("id: s11, on: 2025-03-12, by: b, about: b, issue: x, position: all")
            + statement("id: s12, on: 2025-03-12, by: amin, party: b, issue: x, position: all")
            + statement("id: s13, on: 2025-03-12, by: a, clarifies: s13")
            + statement("id: s14, on: 2025-03-12, by: a, clarifies: s99")
            + statement("id: s15, on: 2025-03-12, by: a, clarifies: s1, retracts: s1")
            + statement("id: s16, on: 2025-03-12, by: a, position: all")
            + statement(
                "id: s17, on: 2025-03-12, by: a, issue: x, position: all, quote_original: Сказал."
            )
        }
    ),
    "samebyparty.yaml": Case(
        {
            "samebyparty.yaml": HEAD
            + "statements:\n"
            + statement("id: s1, on: 2025-03-10, by: a, issue: x, position: all")
            + statement("id: s2, on: 2025-03-11, by: b, party: a, issue: x, position: all")
        }
    ),
    "termsonly.yaml": Case(
        {
            "termsonly.yaml": HEAD
            + "statements:\n"
            + statement("id: s1, on: 2025-03-10, by: a, issue: x, position: all")
            + statement("id: s2, on: 2025-03-11, by: a, retracts: s1, terms: {years: 5}")
        }
    ),
    "lang.yaml": Case(
        {
            "lang.yaml": HEAD
            + "statements:\n"
            + statement(
                "id: s1, on: 2025-03-10, by: a, issue: x, position: all, "
                "quote_original: Сказал., language: english"
            )
        }
    ),
    "refs.yaml": Case(
        {
            "refs.yaml": HEAD
            + "salience:\n  - {party: c, issue: x, value: 10}\n  - {party: a, issue: y, value: 10}\n"
            + "statements:\n"
            + statement(
                "id: s1, on: 2025-03-10, by: a, issue: x, position: all, hypothetical: true"
            )
        }
    ),
    "dupsal.yaml": Case(
        {
            "dupsal.yaml": HEAD
            + "salience:\n  - {party: a, issue: x, value: 10}\n  - {party: a, issue: x, value: 20}\n"
        }
    ),
    "shape.yaml": Case(
        {
            "shape.yaml": """\
negotiation: talks
parties:
  - {id: a, name: A, capability: 101}
  - {id: b, name: B, capability: high}
issues:
  - id: x
    question: How much?
    plover_mode: surrender
    scale:
      - {label: all, description: All of it.}
      - {label: none, description: None of it.}
salience:
  - {party: a, issue: x, value: -1}
  - {party: b, issue: x}
statements:
  - id: s1
    on: 2025-03-10
    by: a
    issue: x
    position: all
    salience: 101
    hypothetical: maybe
    quote: Said.
    sources: {outlet: Wire}
corrections:
  - {statement: s1, position: none}
  - {statement: s1, reason: "", verdict: maybe}
  - {statement: s1, reason: typo, on: sometime in March}
  - {statement: s1, reason: typo, colour: red}
"""
        }
    ),
    "fixes.yaml": Case(
        {
            "fixes.yaml": HEAD
            + "statements:\n"
            + statement("id: s1, on: 2025-03-10, by: amin, issue: x, position: all")
            + statement("id: s2, on: 2025-03-11, by: amin, clarifies: s1, position: none")
            + """\
corrections:
  - {statement: s9, reason: typo, position: none}
  - {statement: s1, reason: typo}
  - {statement: s1, reason: typo, position: most}
  - {statement: s1, reason: typo, verdict: accept}
  - {statement: s1, reason: typo, party: b}
  - {statement: s2, reason: typo, on: 2025-03-01}
  - {statement: s1, reason: typo, issue: z}
"""
        }
    ),
    "amends.yaml": Case(
        {
            "amends.yaml": HEAD
            + "statements:\n"
            + statement("id: s1, on: 2025-03-10, by: amin, issue: x, position: all")
            + """\
amendments:
  - {statement: s9, reason: typo, quote: All of them.}
  - {statement: s1, reason: typo}
  - {statement: s1, reason: typo, quote: Said.}
"""
        }
    ),
}


# Where the code and docs/format.md part ways: the documented line, and the line the code gives.
# Each is a defect of the page or of the code; the entry goes when either is fixed (a documented
# line no longer on the page fails the test below).
DIVERGENCES: dict[str, str] = {}
"""A documented line and the line the code gives instead, while the page is behind (none now)."""
# Documented files whose errors the code no longer gives at all (strict xfail: fixing the page or
# the code makes the test pass, and then this entry must go).
NOT_PRODUCED: dict[str, str] = {}


def test_every_file_of_the_documented_scenario_errors_has_a_case() -> None:
    assert sorted(SCENARIO_ERRORS) == sorted(CASES)
    assert sum(map(len, SCENARIO_ERRORS.values())) >= 80
    documented = {line for lines in SCENARIO_ERRORS.values() for line in lines}
    assert set(DIVERGENCES) <= documented
    assert set(NOT_PRODUCED) <= set(CASES)


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(name, marks=pytest.mark.xfail(reason=NOT_PRODUCED[name], strict=True))
        if name in NOT_PRODUCED
        else name
        for name in sorted(CASES)
    ],
)
def test_a_scenario_file_gives_exactly_the_documented_errors(name: str, tmp_path: Path) -> None:
    case = CASES[name]
    for filename, content in {**case.before, **case.files}.items():
        data = content.encode("utf-8") if isinstance(content, str) else content
        (tmp_path / filename).write_bytes(data)
    store = "memory://"
    if case.before:
        store = "sqlite:///store.db"
        first = run_cli("--store", store, "import", *case.before, cwd=tmp_path)
        assert (first.code, first.err) == (0, ""), first.err
    result = run_cli("--store", store, "import", *(case.args or tuple(case.files)), cwd=tmp_path)
    assert (result.code, result.out) == (2, "")
    expected = [without_line_numbers(DIVERGENCES.get(line, line)) for line in SCENARIO_ERRORS[name]]
    assert [without_line_numbers(line) for line in result.err.splitlines()] == expected


def test_the_documented_bad_scenario_gives_the_documented_errors_and_exit_2(
    seed_template: Path, tmp_path: Path
) -> None:
    text = ERRORS.read_text(encoding="utf-8")
    talks = re.search(r"```yaml\n(negotiation: ukraine-2025\n.*?)```", text, flags=re.S)
    assert talks is not None
    (tmp_path / "talks.yaml").write_text(talks[1], encoding="utf-8")
    shutil.copyfile(seed_template, tmp_path / "tour.db")
    result = run_cli("--store", "sqlite:///tour.db", "import", "talks.yaml", cwd=tmp_path)
    documented = [line for line in documented_lines(ERRORS) if "talks.yaml:" in line]
    assert len(documented) == 3
    assert (result.code, result.out, result.err.splitlines()) == (2, "", documented)


RIVER = "negotiation: river\nparties:\n  - {id: up, name: Upstream}\n"

# docs/errors.md: each documented line (but the bad scenario's), and the command that gives it,
# run in a folder holding the seed's store as tour.db (and, where marked, a second negotiation)
COMMANDS: dict[str, tuple[str, ...]] = {
    "unknown store URL 'mysql://db/talks'": ("--store", "mysql://db/talks", "compare"),
    "is neither a scenario file nor a spreadsheet": (
        "--store",
        "sqlite:///tour.db",
        "import",
        "notes.txt",
    ),
    "malformed store URL 'sqlite://tour.db'": ("--store", "sqlite://tour.db", "compare"),
    "store sqlite:///tour.db does not exist": ("--store", "sqlite:///tour.db", "compare"),
    "'sqlite:///:memory:' names an in-memory": (
        "--store",
        "sqlite:///:memory:",
        "import",
        str(SEED),
    ),
    "cannot create store": (
        "--store",
        "sqlite:///no/such/dir/tour.db",
        "import",
        str(SEED),
    ),
    "unknown party 'france'": ("--store", "sqlite:///tour.db", "stance", "--party", "france"),
    "unknown issue 'oil'": ("--store", "sqlite:///tour.db", "history", "--issue", "oil"),
    "unknown negotiation 'ukraine'": (
        "--store",
        "sqlite:///tour.db",
        "compare",
        "--negotiation",
        "ukraine",
    ),
    "holds several negotiations": ("--store", "sqlite:///tour.db", "compare"),
    "memory:// holds no negotiation": ("--store", "memory://", "compare"),
    "'13/03/2025'": ("--store", "sqlite:///tour.db", "compare", "--as-of", "13/03/2025"),
    "'2025-02-30'": ("--store", "sqlite:///tour.db", "compare", "--as-of", "2025-02-30"),
    "'html'": ("--store", "sqlite:///tour.db", "compare", "--format", "html"),
    "'comprae'": ("--store", "sqlite:///tour.db", "comprae"),
    "'chart.jpg'": ("--store", "sqlite:///tour.db", "timeline", "--out", "chart.jpg"),
    "--points": ("--store", "sqlite:///tour.db", "timeline", "--points", "0", "--out", "chart.svg"),
    "--search": ("--store", "sqlite:///tour.db", "history", "--search", "?!"),
    "something else": ("--store", "sqlite:///tour.db", "compare"),
    "'report.pdf'": ("--store", "sqlite:///tour.db", "report", "--out", "report.pdf"),
    "no/such/report.html": (
        "--store",
        "sqlite:///tour.db",
        "report",
        "--out",
        "no/such/report.html",
    ),
}
STORE_ERRORS = [line for line in documented_lines(ERRORS) if "talks.yaml:" not in line]


def _command_for(line: str) -> str:
    found = [key for key in COMMANDS if key in line]
    assert len(found) == 1, f"{line!r} has {len(found)} commands here: {found}"
    return found[0]


def test_every_documented_error_of_errors_md_has_a_command() -> None:
    assert sorted(_command_for(line) for line in STORE_ERRORS) == sorted(COMMANDS)


@pytest.mark.parametrize("line", STORE_ERRORS)
def test_a_command_gives_exactly_the_documented_error_and_exit_2(
    line: str, seed_template: Path, tmp_path: Path
) -> None:
    key = _command_for(line)
    if key == "something else":  # another application's database
        with sqlite3.connect(tmp_path / "tour.db") as db:
            db.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
    elif key != "store sqlite:///tour.db does not exist":
        shutil.copyfile(seed_template, tmp_path / "tour.db")
    if key == "holds several negotiations":
        (tmp_path / "river.yaml").write_text(RIVER, encoding="utf-8")
        added = run_cli("--store", "sqlite:///tour.db", "import", "river.yaml", cwd=tmp_path)
        assert added.code == 0, added.err
    before = _files(tmp_path)
    result = run_cli(*COMMANDS[key], cwd=tmp_path)
    assert (result.code, result.out, result.err) == (2, "", line + "\n")
    assert _files(tmp_path) == before  # nothing created or written


def _files(folder: Path) -> dict[str, bytes]:
    """The files of ``folder`` and their content, but SQLite's own -wal and -shm files."""
    return {
        p.name: p.read_bytes()
        for p in sorted(folder.iterdir())
        if p.is_file() and not p.name.endswith(("-wal", "-shm"))
    }


# docs/errors.md in prose: the shapes every other failure takes


def _raising(error: BaseException) -> Callable[..., PositionsApplication]:
    def open_store(*args: object, **kwargs: object) -> PositionsApplication:
        raise error

    return open_store


def test_ctrl_c_is_error_interrupted_and_exit_130(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(PositionsApplication, "open", _raising(KeyboardInterrupt()))
    result = run_cli("--store", "memory://", "compare")
    assert (result.code, result.out) == (130, "")
    assert result.err.splitlines()[-1] == "Error: interrupted, nothing written"


def test_anything_else_is_unexpected_with_its_type_and_please_report_this(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(PositionsApplication, "open", _raising(RuntimeError("boom")))
    result = run_cli("--store", "memory://", "compare")
    assert (result.code, result.out, result.err) == (
        2,
        "",
        "Error: unexpected RuntimeError: boom (please report this)\n",
    )


@pytest.mark.parametrize("command", [("compare",), ("import", str(SEED)), ("verify",)])
def test_a_file_that_is_not_a_database_is_a_store_that_cannot_be_opened(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"SQLite format 3\x00" + bytes(range(256)) * 16)
    before = junk.read_bytes()
    result = run_cli("--store", "sqlite:///junk.db", *command, cwd=tmp_path)
    assert (result.code, result.out, result.err) == (
        2,
        "",
        "Error: store sqlite:///junk.db is not a positions store or is damaged (file is not "
        "a database): run 'positions verify'\n",
    )
    assert junk.read_bytes() == before


def test_a_store_whose_pages_were_damaged_is_one_line(seeded: str) -> None:
    """Pages overwritten in the middle of the file: SQLite opens it, and a query then fails
    with ``database disk image is malformed``, which was an unexpected DatabaseError."""
    path = Path(seeded.removeprefix("sqlite:///"))
    data = bytearray(path.read_bytes())
    page = 4096
    data[4 * page : 7 * page] = bytes(range(256)) * (3 * page // 256)
    path.write_bytes(bytes(data))
    for command in (("compare",), ("verify",)):
        result = run_cli("--store", seeded, *command)
        assert result.code == 2
        assert len(result.err.splitlines()) == 1, result.err
        assert "is not a positions store or is damaged" in result.err
        assert "please report" not in result.err


def test_views_that_cannot_be_written_leave_the_events_safe_and_a_later_command_catches_up(
    seeded: str,
) -> None:
    path = seeded.removeprefix("sqlite:///")
    conn = sqlite3.connect(path)
    try:  # every table but the events' refuses writes
        tables = [
            str(name)
            for (name,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name != 'stored_events' "
                "AND sql NOT LIKE 'CREATE VIRTUAL TABLE%'"  # no trigger on the full-text index
            )
        ]
        assert tables
        for table in tables:
            for op in ("INSERT", "UPDATE", "DELETE"):
                conn.execute(
                    f"CREATE TRIGGER refuse_{op}_{table} BEFORE {op} ON {table} "
                    "BEGIN SELECT RAISE(ABORT, 'refused by a trigger'); END"
                )
        conn.commit()
    finally:
        conn.close()
    result = run_cli("--store", seeded, "import", str(RIVER_TALKS))
    assert (result.code, result.out, result.err) == (
        2,
        "",
        f"Error: cannot bring the views of store {seeded} up to date: refused by a trigger "
        "(the events are safe; any later command catches the views up)\n",
    )
    conn = sqlite3.connect(path)
    try:
        for (trigger,) in list(
            conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        ):
            conn.execute(f"DROP TRIGGER {trigger}")
        conn.commit()
    finally:
        conn.close()
    listed = run_cli("--store", seeded, "negotiations", "--format", "json")
    assert listed.code == 0, listed.err
    assert [(n["negotiation"], n["statements"]) for n in json.loads(listed.out)] == [
        ("ukraine-2025", 11),
        ("river-talks", 8),
    ]
