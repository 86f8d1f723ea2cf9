"""Hostile input: malformed YAML and JSON, wrong types, unknown ids, circular clarifications,
retracting a retraction, self-clarification, dates out of range, enormous quotes, invalid UTF-8,
duplicate keys and alias bombs. Always one ``Error: FILE:LINE: …`` line per problem, exit 2,
nothing written, no traceback. ``HYPOTHESIS_PROFILE=fuzz`` runs many more examples."""

from __future__ import annotations

import json
import re
import sqlite3
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import example, given
from hypothesis import strategies as st

from tests.conftest import SEED, run_cli
from tests.helpers import one_statement, store_with_one_statement
from tests.strategies import BREAKAGES, broken_statements, codebook, statements

HOSTILE_BYTES = [
    b":",
    b": ",
    b"[",
    b"]",
    b"{",
    b"}",
    b"&a ",
    b"*a",
    b"\xff",
    b"\xc3",
    b"\x00",
    b"\x07",
    b"\t",
    b"- ",
    b"\n",
    b"\n  ",
    b"!!",
    b"!!binary ",
    b"!!python/object:os.system ",
    b"? ",
    b"<<: ",
    b'"',
    b"'",
    b"#",
    b"%YAML 1.1\n",
    b"---\n",
    b"...\n",
    b"|",
    b">",
    b"1" * 5000,
    b"9999-99-99",
    b"0001-01-01",
    b"1e999",
    b"null",
    b"~",
    b",",
    b"\\u0000",
    b"\xef\xbb\xbf",
]


def _run(*args: str) -> tuple[int, str, str]:
    result = run_cli(*args)
    return result.code, result.out, result.err


def _count(db: Path) -> int:
    if not db.exists():
        return -1
    conn = sqlite3.connect(db)
    try:
        return int(conn.execute("SELECT count(*) FROM stored_events").fetchone()[0])
    finally:
        conn.close()


@pytest.fixture(scope="module")
def seeded_db() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "seeded.db"
        book = Path(folder) / "codebook.yaml"
        book.write_text(yaml.safe_dump(codebook(), sort_keys=False))
        assert _run("--store", f"sqlite:///{db}", "import", str(book))[0] == 0
        yield db


def assert_clean_refusal(content: bytes, seeded: Path, *, may_succeed: bool = False) -> None:
    """Import ``content`` into a new store and into an existing one: either it is valid (only
    when ``may_succeed``), or every line is ``Error: FILE:LINE: …``, exit 2, nothing written."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "hostile.yaml"
        path.write_bytes(content)
        fresh = Path(folder) / "fresh.db"
        for db in (fresh, seeded):
            before = _count(db)
            code, out, err = _run("--store", f"sqlite:///{db}", "import", str(path))
            if code == 0 and may_succeed:
                continue
            assert (code, out) == (2, ""), (content, code, out, err)
            assert "Traceback" not in err and "Error: unexpected" not in err, err
            lines = err.splitlines()
            assert lines, content
            pattern = re.compile(rf"^Error: {re.escape(str(path))}:[1-9][0-9]*: \S.*$")
            for line in lines:
                assert pattern.match(line), (content, line)
            assert _count(db) == before, content


def _valid_text(stmts: list[dict[str, Any]], as_json: bool) -> bytes:
    data = {**codebook(), "statements": stmts}
    if as_json:
        return json.dumps(data, default=str, indent=1).encode()
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True).encode()


@given(
    stmts=statements(max_size=4),
    as_json=st.booleans(),
    edits=st.lists(
        st.tuples(st.floats(0, 1), st.sampled_from(HOSTILE_BYTES), st.integers(0, 3)),
        min_size=1,
        max_size=4,
    ),
)
def test_mutated_files_are_refused_cleanly_or_are_valid(
    seeded_db: Path,
    stmts: list[dict[str, Any]],
    as_json: bool,
    edits: list[tuple[float, bytes, int]],
) -> None:
    content = _valid_text(stmts, as_json)
    for where, insert, drop in edits:
        at = int(where * len(content))
        content = content[:at] + insert + content[at + drop :]
    assert_clean_refusal(content, seeded_db, may_succeed=True)


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
FIELDS = [
    "id",
    "on",
    "by",
    "issue",
    "position",
    "quote",
    "sources",
    "clarifies",
    "retracts",
    "about",
    "verdict",
    "proposal",
    "terms",
    "conditions",
    "confidence",
    "attribution",
]


@given(
    stmts=statements(max_size=4),
    index=st.integers(0, 3),
    field=st.sampled_from(FIELDS),
    value=JSONISH,
    as_json=st.booleans(),
)
def test_wrong_types_anywhere_in_a_statement_are_located(
    seeded_db: Path,
    stmts: list[dict[str, Any]],
    index: int,
    field: str,
    value: Any,
    as_json: bool,
) -> None:
    target = stmts[index % len(stmts)]
    target[field] = value
    assert_clean_refusal(_valid_text(stmts, as_json), seeded_db, may_succeed=True)


@given(
    links=st.lists(
        st.tuples(st.sampled_from(["clarifies", "retracts"]), st.integers(0, 5)),
        min_size=1,
        max_size=6,
    ),
)
def test_circles_self_references_unknown_targets_and_retracted_retractions_are_refused(
    seeded_db: Path, links: list[tuple[str, int]]
) -> None:
    stmts = [
        {
            "id": "s0",
            "on": "2025-01-01",
            "by": "alpha",
            "issue": "water",
            "position": "share_all",
            "quote": "First.",
            "sources": [{"outlet": "Wire"}],
        }
    ]
    for n, (verb, target) in enumerate(links, start=1):
        stmts.append(
            {
                "id": f"s{n}",
                "on": "2025-01-02",
                "by": "alpha",
                verb: f"s{target}",
                "quote": f"Link {n}.",
                "sources": [{"outlet": "Wire"}],
            }
        )
    stmts[0]["clarifies" if links[0][1] % 2 else "retracts"] = f"s{len(links)}"  # close a circle
    content = yaml.safe_dump({**codebook(), "statements": stmts}, sort_keys=False).encode()
    assert_clean_refusal(content, seeded_db)


BILLION_LAUGHS = b"negotiation: t\na: &a [x, x, x, x, x, x, x, x, x]\n" + b"".join(
    f"{chr(98 + n)}: &{chr(98 + n)} [*{chr(97 + n)}, *{chr(97 + n)}, *{chr(97 + n)}]\n".encode()
    for n in range(9)
)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (BILLION_LAUGHS, "3: YAML aliases (*name) are not allowed in scenario files"),
        (
            b"negotiation: t\nx: " + b"[" * 50_000 + b"]" * 50_000 + b"\n",
            "1: the file nests too deeply",
        ),
        (b"negotiation: t\nn: " + b"7" * 6000 + b"\n", "2: a number is too large"),
        (
            b"negotiation: t\ntitle: \x00\n",
            "2: holds a control character (#x0000) YAML does not allow",
        ),
        (b"negotiation: t\nparties:\n  - {id: a, name: \xc3\x28}\n", "3: is not valid UTF-8"),
        (b"negotiation: t\ntitle: A\ntitle: B\n", "3: duplicate key 'title' (first at line 2)"),
        (
            b'{"negotiation": "t",\n "title": "A",\n "title": "B"}',
            "3: duplicate key 'title' (first at line 2)",
        ),
        (
            b'{"negotiation": "t",\n "parties": [\n',
            "3: malformed YAML: expected the node content, but found '<stream end>'",
        ),
        (
            b"negotiation: t\nx: !!python/object:os.system ls\n",
            "2: malformed YAML: could not determine a constructor for the tag 'tag:yaml.org,2002:python/object:os.system'",
        ),
        (b"negotiation: t\nparties: 5\n", "2: parties: expected a list, not 5"),
    ],
)
def test_hostile_files_through_the_real_entry_point(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "hostile.yaml"
    path.write_bytes(content)
    db = tmp_path / "store.db"
    result = run_cli("--store", f"sqlite:///{db}", "import", str(path))
    assert (result.code, result.out, result.err) == (2, "", f"Error: {path}:{message}\n")
    assert not db.exists()


def test_an_enormous_quote_and_an_out_of_range_date_are_located(tmp_path: Path) -> None:
    data = {
        **codebook(),
        "statements": [
            {
                "id": "huge",
                "on": "2025-01-02",
                "by": "alpha",
                "issue": "water",
                "position": "share_all",
                "quote": "word " * 50_000,
                "sources": [{"outlet": "Wire"}],
            },
            {
                "id": "early",
                "on": {"before": "0001-01-01"},
                "by": "alpha",
                "issue": "water",
                "position": "share_all",
                "quote": "Early.",
                "sources": [{"outlet": "Wire"}],
            },
        ],
    }
    path = tmp_path / "big.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False, width=10**9))
    result = run_cli("--store", f"sqlite:///{tmp_path / 'store.db'}", "import", str(path))
    lines = result.err.splitlines()
    assert result.code == 2 and len(lines) == 2, result.err
    assert re.match(
        rf"^Error: {re.escape(str(path))}:\d+: statements\[0\] \(huge\)\.quote: ", lines[0]
    )
    assert lines[1].endswith("statements[1] (early).on: 'before' must be later than 0001-01-01")
    assert not (tmp_path / "store.db").exists()


@given(broken=broken_statements(), as_json=st.booleans())
@example(  # a claim by an envoy about the envoy's own party: the party is not the speaker's id
    broken=(
        [
            {
                "id": "s000",
                "on": "2025-01-01",
                "by": "alpha-envoy",
                "quote": "Said.",
                "sources": [{"outlet": "Wire"}],
                "issue": "water",
                "position": "share_all",
                "about": "alpha",
            }
        ],
        "s000",
        BREAKAGES["about itself"],
    ),
    as_json=False,
)
def test_a_statement_broken_in_a_documented_way_gets_its_documented_message(
    broken: tuple[list[dict[str, Any]], str, str], as_json: bool
) -> None:
    """The error paths with generated inputs: whatever else the file holds, the broken statement
    is named on a line of its own with the message docs/format.md gives, and nothing else is
    anything but a located ``Error:`` line."""
    stmts, statement_id, message = broken
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / ("broken.json" if as_json else "broken.yaml")
        path.write_bytes(_valid_text(stmts, as_json))
        code, out, err = _run("--store", "memory://", "import", str(path))
    assert (code, out) == (2, ""), err
    located = re.compile(rf"^Error: {re.escape(str(path))}:[1-9][0-9]*: (.*)$")
    found = [located.match(line) for line in err.splitlines()]
    assert all(found), err
    assert f"statement '{statement_id}': {message}" in [m[1] for m in found if m], err


def test_a_tampered_event_topic_never_imports_the_module_it_names(
    tmp_path: Path, seeded: str
) -> None:
    """A store received from someone else must never choose what Python imports: an event (and
    its view row) whose topic names another module is an unreadable event, one line, and that
    module is never imported."""
    from tests.runner import run_process
    from tests.stores import execute

    marker = tmp_path / "imported"
    (tmp_path / "probe_module.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    execute(
        seeded,
        "UPDATE EVENTS SET topic = 'probe_module:PartyDefined' WHERE topic LIKE '%:PartyDefined'",
    )
    views = sqlite3.connect(seeded.removeprefix("sqlite:///"))
    views.execute(
        "UPDATE positions_view_definitions SET topic = 'probe_module:PartyDefined' "
        "WHERE topic LIKE '%:PartyDefined'"
    )
    views.commit()
    views.close()
    env = {"PYTHONPATH": str(tmp_path)}
    # the three paths that read a topic: a definition row of the views, the mapper, the fold
    for args in (["compare"], ["verify"], ["rebuild"]):
        result = run_process("--store", seeded, *args, env=env)
        assert not marker.exists(), args
        assert "Traceback" not in result.err, (args, result.err)
        assert result.code != 0, (args, result.out)
        if args == ["compare"]:
            assert "unknown event topic 'probe_module:PartyDefined'" in result.err, result.err
        if args == ["verify"]:  # the topic is sealed in the hash chain
            assert "Tampered: negotiation 'ukraine-2025', version 2" in result.out, result.out


@pytest.mark.parametrize(
    "row",
    [
        "'6e058dd0a9b85083a8ba0b04ff56de84', 99, 'positions.events:PartyDefined', '{}'",
        "NULL, 1, 'positions.events:PartyDefined', X'7b7d'",
    ],
    ids=["state-as-text", "no-stream-id"],
)
def test_an_event_row_the_tool_never_writes_is_one_line_from_every_command(
    seeded: str, row: str
) -> None:
    """A row added behind the tool's back with a state stored as text, or without a stream id,
    is reported in one line, never as an unexpected error: a query names the event and sends
    the user to verify; verify names the row as tampered."""
    from tests.runner import run_process
    from tests.stores import execute

    execute(seeded, f"INSERT INTO EVENTS VALUES ({row})")
    for args in (["compare"], ["verify"], ["rebuild"]):
        result = run_process("--store", seeded, *args)
        assert "Traceback" not in result.err and "unexpected" not in result.err, result.err
        assert result.code != 0, (args, result.out)
        if args == ["verify"]:
            assert "Tampered: " in result.out and "Verification failed" in result.out
        else:
            [line] = result.err.splitlines()
            assert line.startswith("Error: cannot read event 48 of store "), line
            assert line.endswith("; run 'positions verify'"), line


def test_only_regular_files_of_at_most_64_mib_are_read_and_nothing_waits(tmp_path: Path) -> None:
    """A FIFO with no writer once hung the import forever, and a 3 GB sparse file was read
    whole before its size was checked (MemoryError): the file's kind and size are checked
    before it is read."""
    import os

    from tests.runner import run_process

    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    sparse = tmp_path / "sparse.yaml"
    with sparse.open("wb") as handle:
        handle.truncate(3 * 2**30)
    store = f"sqlite:///{tmp_path / 'store.db'}"
    for path, message in (
        (fifo, "is not a regular file (a device, a pipe or a socket)"),
        (sparse, "is larger than 64 MiB"),
    ):
        result = run_process("--store", store, "import", str(path))
        assert (result.code, result.err) == (2, f"Error: {path}: {message}\n")
    assert not (tmp_path / "store.db").exists()


def test_control_characters_in_the_data_never_reach_a_terminal_or_an_svg(tmp_path: Path) -> None:
    """A quote holding ESC sequences (clear the screen, colour, an OSC 8 link) or a C1 control
    once reached the terminal in tables and markdown, and made the SVG timeline ill-formed XML:
    they are written as ``\\uXXXX`` escapes there. A csv or json file keeps the data exact."""
    import xml.etree.ElementTree as ET

    hostile = "Cleared\x1b[2J \x1b[31mred\x1b[0m \x1b]8;;http://x\x07link\x1b]8;;\x07 \x9b1m."
    store = store_with_one_statement(tmp_path, quote=hostile)
    for fmt in ("table", "markdown"):
        out = run_cli("--store", store, "stance", "--format", fmt).out
        assert not any(c in out for c in "\x1b\x07\x9b"), fmt
    markdown = run_cli("--store", store, "stance", "--format", "markdown").out
    # shown as escapes (the backslash doubled by Markdown's own escaping)
    assert "Cleared\\\\u001b[2J \\\\u001b[31mred\\\\u001b[0m" in markdown
    exported = tmp_path / "statements.csv"
    assert run_cli("--store", store, "export", "--what", "statements", str(exported)).code == 0
    assert hostile in exported.read_text(encoding="utf-8")  # a file keeps the data exact
    svg = tmp_path / "water.svg"
    assert run_cli("--store", store, "timeline", "--issue", "water", "--out", str(svg)).code == 0
    ET.parse(svg)  # well-formed XML


def test_bidirectional_overrides_in_the_data_are_shown_as_escapes(tmp_path: Path) -> None:
    """A right-to-left override (U+202E) in a quote reversed the rest of the table's line on
    a terminal, so that the text shown was not the text recorded: it is written as an escape,
    as the control characters are; right-to-left letters themselves are left alone."""
    store = store_with_one_statement(tmp_path, quote="We \u202eaccept\u202c \u2067שלום\u2069.")
    for fmt in ("table", "markdown"):
        out = run_cli("--store", store, "stance", "--format", fmt).out
        assert not any(c in out for c in "\u202e\u202c\u2067\u2069"), fmt
        assert "שלום" in out


@given(
    value=st.one_of(
        st.integers(),
        st.floats(allow_nan=False),
        st.text(st.characters(exclude_categories=["Cs"]), max_size=1_200),
        st.booleans(),
    )
)
@example(value=10**310)
@example(value=float("inf"))
@example(value=2**53)
@example(value="Infinity")  # a text, once written as the number by the test's own helper
def test_a_term_the_import_accepts_reads_back_as_it_was(value: Any) -> None:
    """Whatever term a file gives, the import either refuses it in one located line and
    records nothing, or records it so that every later command reads it back unchanged
    (integers beyond what JSON holds exactly and infinities were once accepted, then made
    every query fail)."""
    with tempfile.TemporaryDirectory() as folder:
        scenario = one_statement(Path(folder) / "t.json", terms={"v": value})
        store = f"sqlite:///{Path(folder) / 'store.db'}"
        imported = run_cli("--store", store, "import", str(scenario))
        if imported.code != 0:
            assert imported.code == 2 and imported.err.startswith(f"Error: {scenario}:")
            assert imported.err.count("\n") == 1, imported.err
            assert not (Path(folder) / "store.db").exists()
            return
        shown = run_cli("--store", store, "history", "--issue", "water", "--format", "json")
        assert shown.code == 0, shown.err
        (row,) = [r for r in json.loads(shown.out) if r["statement_id"] == "s1"]
        assert row["terms"] == {"v": value}
        assert type(row["terms"]["v"]) is type(value)
        assert run_cli("--store", store, "verify").code == 0


def test_chains_and_circles_of_any_length_are_planned_without_recursion(tmp_path: Path) -> None:
    """A circle of a few hundred clarifications (or a chain listed from its end) raised
    RecursionError: a chain of 1,200 listed backwards is recorded and read, a circle of 1,200
    is one located problem."""

    def said(name: str, **fields: Any) -> dict[str, Any]:
        return {
            "id": name,
            "on": "2025-01-05",
            "by": "alpha",
            "quote": "q",
            "sources": [{"outlet": "W"}],
            **fields,
        }

    chain = [said("c0", issue="water", position="share_all")]
    chain += [said(f"c{n}", clarifies=f"c{n - 1}") for n in range(1, 1200)]
    chain.reverse()
    circle = [said(f"k{n}", clarifies=f"k{(n + 1) % 1200}") for n in range(1200)]
    results = {}
    for name, records in (("chain", chain), ("circle", circle)):
        path = tmp_path / f"{name}.json"
        path.write_text(
            json.dumps({**codebook(), "statements": records}, default=str), encoding="utf-8"
        )
        store = f"sqlite:///{tmp_path / name}.db"
        results[name] = (path, store, run_cli("--store", store, "import", str(path)))
    _, store, imported = results["chain"]
    assert imported.code == 0, imported.err[:300]
    shown = run_cli("--store", store, "stance", "--party", "alpha", "--issue", "water")
    assert "share_all" in shown.out and "c1199" in shown.out
    path, _, refused = results["circle"]
    assert (refused.code, refused.err) == (
        2,
        f"Error: {path}:1: statement 'k0' is part of a circle of clarifications or retractions\n",
    )


def test_an_sqlite_database_of_something_else_is_refused_and_left_as_it_was(
    tmp_path: Path,
) -> None:
    """An import into an SQLite file of another application's tables once added the tool's
    tables beside them and said it recorded the statements."""
    path = tmp_path / "crm.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
    before = path.read_bytes()
    url = f"sqlite:///{path}"
    for args in (["import", str(SEED)], ["compare"], ["verify"]):
        result = run_cli("--store", url, *args)
        assert (result.code, result.out, result.err) == (
            2,
            "",
            f"Error: {url} is not a positions store: it is an SQLite database of something "
            "else (its tables: customers); give --store a new file or a store the tool made\n",
        ), args
    assert path.read_bytes() == before
