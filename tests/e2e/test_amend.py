"""Amendments (R15): a recorded statement's text, sources and notes fixed with a reason, through
the real entry point on SQLite and PostgreSQL; the first text stays in the record and
``--known-at`` shows it."""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime
from pathlib import Path

import yaml

from tests.conftest import SEED, run_cli
from tests.helpers import cli_json as rows
from tests.helpers import exported_statements as statements

ZAKHAROVA = "zakharova-under-any-flag"
FIRST = (
    "For us, it is absolutely unacceptable to deploy units of the armed forces of other states "
    "in Ukraine under any flag, whether it be a foreign contingent, military bases, or some "
    "peacekeeping operations."
)
RETYPED = "For us, it is absolutely unacceptable to deploy units under any flag."
AMEND = (
    "amend", ZAKHAROVA,
    "--quote", RETYPED,
    "--add-source", "https://www.mid.ru/briefing",
    "--notes", "Transcript of the weekly briefing.",
    "--reason", "retyped from the ministry transcript",
)  # fmt: skip


def events(url: str) -> int:
    verified = run_cli("--store", url, "verify")
    assert verified.code == 0, verified.out + verified.err
    match = re.search(r"Verified (\d+) events", verified.out)
    assert match is not None, verified.out
    return int(match.group(1))


def now() -> str:
    moment = datetime.now(UTC).isoformat()
    time.sleep(0.01)  # the next recording time is later
    return moment


def test_an_amendment_fixes_the_text_shown_and_known_at_shows_the_first(seeded_url: str) -> None:
    before = now()
    amended = run_cli("--store", seeded_url, *AMEND)
    assert amended.code == 0, amended.err
    assert re.fullmatch(
        rf"Amended {ZAKHAROVA} \(quote, notes, add_sources\) at \S+\.\n", amended.out
    ), amended.out

    history = rows(seeded_url, "history", "--party", "russia", "--issue", "foreign_troops")
    statement = next(
        r for r in history if r["statement_id"] == ZAKHAROVA and r["kind"] != "amendment"
    )
    assert statement["quote"] == RETYPED
    assert statement["sources"] == "CNN; mid.ru https://www.mid.ru/briefing"
    assert statement["position"] == "no_foreign_troops"  # nothing it counts for changed
    change = next(r for r in history if r["kind"] == "amendment")
    assert change["statement_id"] == ZAKHAROVA
    assert change["quote"] == (
        f"amendment 1: quote: “{FIRST}” → “{RETYPED}”, notes: “Added that Russia would respond "
        '"with all available means".” → “Transcript of the weekly briefing.”, sources: + '
        "mid.ru https://www.mid.ru/briefing; reason: retyped from the ministry transcript"
    )
    assert history.index(change) == history.index(statement) + 1

    explained = rows(seeded_url, "explain", "russia", "foreign_troops")
    assert [(r["kind"], r["rule"]) for r in explained][-2:] == [
        ("position", "R5"),
        ("amendment", "R15"),
    ]
    assert explained[-1]["effect"].startswith("amendment 1 (quote: “For us")
    assert explained[-1]["effect"].endswith("): retyped from the ministry transcript")
    assert explained[-2]["quote"] == RETYPED

    stance = rows(seeded_url, "stance", "--party", "russia")
    assert next(r for r in stance if r["issue"] == "foreign_troops")["quote"] == RETYPED
    listed = statements(seeded_url)
    exported = next(r for r in listed if r["statement_id"] == ZAKHAROVA)
    assert (exported["quote"], exported["notes"]) == (RETYPED, "Transcript of the weekly briefing.")
    assert exported["amendments"] == 1 and exported["last_amended_at"] is not None
    assert json.loads(exported["sources"])[-1] == {
        "outlet": "mid.ru",
        "url": "https://www.mid.ru/briefing",
    }

    then = rows(seeded_url, "history", "--party", "russia", "--known-at", before)
    first = [r for r in then if r["statement_id"] == ZAKHAROVA]
    assert [r["kind"] for r in first] == ["position"]
    assert (first[0]["quote"], first[0]["sources"]) == (FIRST, "CNN")
    old_stance = rows(seeded_url, "stance", "--party", "russia", "--known-at", before)
    assert next(r for r in old_stance if r["issue"] == "foreign_troops")["quote"] == FIRST
    assert rows(seeded_url, "compare", "--known-at", before) == rows(seeded_url, "compare")


def test_a_search_finds_every_text_a_statement_had_by_the_time_asked_for(seeded_url: str) -> None:
    before = now()
    assert run_cli("--store", seeded_url, *AMEND).code == 0

    def found(*words: str) -> list[tuple[str, str]]:
        listed = rows(seeded_url, "history", "--search", *words)
        return [(r["statement_id"], r["kind"]) for r in listed]

    assert found("weekly briefing") == [(ZAKHAROVA, "position"), (ZAKHAROVA, "amendment")]
    assert found("peacekeeping") == [(ZAKHAROVA, "position"), (ZAKHAROVA, "amendment")]
    then = rows(seeded_url, "history", "--search", "weekly briefing", "--known-at", before)
    assert then == []
    then = rows(seeded_url, "history", "--search", "peacekeeping", "--known-at", before)
    assert [(r["statement_id"], r["quote"]) for r in then] == [(ZAKHAROVA, FIRST)]


def test_an_amendment_can_replace_the_sources(seeded_url: str) -> None:
    replaced = run_cli(
        "--store", seeded_url, "amend", ZAKHAROVA,
        "--source", "https://www.mid.ru/briefing", "--source", "https://tass.com/1",
        "--reason", "the CNN piece quoted the briefing",
    )  # fmt: skip
    assert replaced.code == 0, replaced.err
    listed = {r["statement_id"]: r for r in statements(seeded_url)}
    assert json.loads(listed[ZAKHAROVA]["sources"]) == [
        {"outlet": "mid.ru", "url": "https://www.mid.ru/briefing"},
        {"outlet": "tass.com", "url": "https://tass.com/1"},
    ]
    change = next(r for r in rows(seeded_url, "history") if r["kind"] == "amendment")
    assert change["quote"] == (
        "amendment 1: sources: CNN → mid.ru https://www.mid.ru/briefing; tass.com "
        "https://tass.com/1; reason: the CNN piece quoted the briefing"
    )
    bad = run_cli("--store", seeded_url, "amend", ZAKHAROVA, "--source", "tass", "--reason", "r")
    assert (bad.code, bad.err) == (
        2,
        "Error: --source: a source is a mapping such as {outlet: CNN, url: https://…}, or a "
        "URL; not 'tass'\n",
    )


def test_each_refused_amendment_says_why_and_writes_nothing(seeded_url: str) -> None:
    assert run_cli("--store", seeded_url, *AMEND).code == 0
    count = events(seeded_url)
    cases = {
        AMEND: "Error: this amendment of statement 'zakharova-under-any-flag' is recorded "
        "already (the same changes and reason); give another reason to record it again",
        ("amend", ZAKHAROVA, "--quote", RETYPED, "--reason", "again"): "Error: statement "
        "'zakharova-under-any-flag' already reads so: the amendment changes nothing",
        ("amend", "zakharova-any-flag", "--notes", "n", "--reason", "r"): "Error: unknown "
        "statement 'zakharova-any-flag' in negotiation 'ukraine-2025'",
        ("amend", ZAKHAROVA, "--reason", "r"): "Error: an amendment needs at least one of "
        "quote, quote_original, language, sources, channel, notes, confidence, attribution, "
        "add_sources",
        ("amend", ZAKHAROVA, "--add-source", "ftp://x", "--reason", "r"): "Error: "
        "--add-source: a source is a mapping such as {outlet: CNN, url: https://…}, or a URL; "
        "not 'ftp://x'",
        ("amend", ZAKHAROVA, "--language", "RU", "--reason", "r"): "Error: --language: "
        "expected a language tag such as 'ru', 'uk' or 'pt-BR' (BCP 47): write 'ru'",
        ("amend", ZAKHAROVA, "--quote", " ", "--reason", "r"): "Error: --quote: may not be empty",
    }
    for command, message in cases.items():
        refused = run_cli("--store", seeded_url, *command)
        assert (refused.code, refused.out, refused.err) == (2, "", message + "\n"), command
    assert events(seeded_url) == count


def test_a_files_amendments_are_recorded_once_and_the_export_carries_them(
    seeded_url: str, store_url: str, tmp_path: Path
) -> None:
    fixes = tmp_path / "fixes.yaml"
    fixes.write_text(
        "negotiation: ukraine-2025\n"
        "amendments:\n"
        f"  - statement: {ZAKHAROVA}\n"
        "    reason: retyped from the ministry transcript\n"
        f"    quote: {RETYPED}\n"
        "    add_sources: [https://www.mid.ru/briefing]\n"
        "  - statement: peskov-not-a-rejection\n"
        "    reason: the briefing was a call\n"
        "    channel: conference call\n"
        "    confidence: medium\n",
        encoding="utf-8",
    )
    imported = run_cli("--store", seeded_url, "import", str(fixes))
    assert imported.out == (
        "Recorded 0 statement(s), 0 definition(s) and 2 amendment(s) in ukraine-2025 (4 events).\n"
    ), imported.err
    again = run_cli("--store", seeded_url, "import", str(fixes))
    assert again.out == "Nothing new: 1 file(s) already recorded in ukraine-2025.\n"
    assert again.err == ""  # the views account for the amendments: nothing rebuilt
    listed = {r["statement_id"]: r for r in statements(seeded_url)}
    assert listed["peskov-not-a-rejection"]["channel"] == "conference call"
    assert listed["peskov-not-a-rejection"]["confidence"] == "medium"

    exported = tmp_path / "export.yaml"
    assert run_cli("--store", seeded_url, "export", "--what", "scenario", str(exported)).code == 0
    document = yaml.safe_load(exported.read_text(encoding="utf-8"))
    assert [a["statement"] for a in document["amendments"]] == [ZAKHAROVA, "peskov-not-a-rejection"]
    first = next(s for s in document["statements"] if s["id"] == ZAKHAROVA)
    assert " ".join(first["quote"].split()) == FIRST  # the statement as first recorded
    assert run_cli("--store", store_url, "import", str(exported)).code == 0
    for read in (lambda url: rows(url, "history"), statements):
        ours, theirs = read(seeded_url), read(store_url)
        drop = ("recorded_at", "last_corrected_at", "last_amended_at")
        assert [{k: v for k, v in r.items() if k not in drop} for r in ours] == [
            {k: v for k, v in r.items() if k not in drop} for r in theirs
        ]


def test_a_file_retyped_after_recording_is_told_to_amend_and_one_that_reads_as_amended_is_recorded(
    seeded_url: str, tmp_path: Path
) -> None:
    seed = SEED.read_text(encoding="utf-8")
    retyped = tmp_path / "retyped.yaml"
    retyped.write_text(seed.replace("whether it be a foreign", "whether it is a foreign"))
    refused = run_cli("--store", seeded_url, "import", str(retyped))
    assert refused.code == 2
    assert refused.err == (
        f"Error: {retyped}:209: statement '{ZAKHAROVA}' is already recorded with different "
        "content (quote differs): statement ids are unique in a negotiation, so give a new "
        "statement a new id; to fix its text, sources or notes, amend it (positions amend, or "
        "the file's amendments:), which keeps the first text in the record; a retraction would "
        "say the party took it back\n"
    )
    assert run_cli("--store", seeded_url, *AMEND).code == 0
    fixed = tmp_path / "fixed.yaml"
    old = seed[seed.index("    quote: >-\n      For us") : seed.index("developments:")]
    new = (
        f"    quote: {RETYPED}\n"
        "    notes: Transcript of the weekly briefing.\n"
        "    sources:\n"
        "      - {outlet: CNN, published: 2025-03-13}\n"
        "      - https://www.mid.ru/briefing\n\n"
    )
    fixed.write_text(seed.replace(old, new), encoding="utf-8")
    assert run_cli("--store", seeded_url, "import", str(fixed)).out == (
        "Nothing new: 1 file(s) already recorded in ukraine-2025.\n"
    )


def test_the_views_rebuilt_from_the_events_show_the_same_amended_record(seeded_url: str) -> None:
    assert run_cli("--store", seeded_url, *AMEND).code == 0
    shown = rows(seeded_url, "history")
    assert run_cli("--store", seeded_url, "rebuild").code == 0
    assert rows(seeded_url, "history") == shown
    assert events(seeded_url) > 0  # verify: the views equal a fresh fold, the registry holds it


def test_an_amendment_row_deleted_behind_the_tools_back_is_reported_and_rebuilt(
    seeded: str,
) -> None:
    """On an SQLite file, which anyone can edit by hand (the views are the same on PostgreSQL)."""
    seeded_url = seeded
    assert run_cli("--store", seeded_url, *AMEND).code == 0
    import sqlite3

    with sqlite3.connect(seeded_url.removeprefix("sqlite:///")) as db:
        db.execute("DELETE FROM positions_view_amendments")
    verified = run_cli("--store", seeded_url, "verify")
    assert verified.code != 0
    assert "view amendments, row (" in verified.out + verified.err
    imported = run_cli("--store", seeded_url, "import", str(SEED))
    assert imported.err.startswith("Warning: the views did not account for every recorded event")
    assert events(seeded_url) > 0  # rebuilt: verify passes again
    listed = {r["statement_id"]: r for r in statements(seeded_url)}
    assert listed[ZAKHAROVA]["quote"] == RETYPED
