"""`positions verify`: every stored event chains to the one before it in its stream; rows changed,
deleted or reordered behind the tool's back (with sqlite3 and psycopg directly) are named by
stream and version, exit 1; an intact store gives a summary line for the events and one for the
materialized views, exit 0."""

from __future__ import annotations

import re
from pathlib import Path

from positions.ids import negotiation_id, record_id
from positions.store.integrity import GENESIS, chain_digest, seal, unseal
from tests.conftest import run_cli
from tests.stores import delete_row, execute, rows, update_row

RUSSIA = record_id("ukraine-2025", "russia").hex
CODEBOOK = negotiation_id("ukraine-2025").hex
SUMMARY = re.compile(
    r"^Verified 47 events in 17 streams: every hash chain is intact \(head ([0-9a-f]{64})\)\.\n"
    r"Verified the views: 11 statement row\(s\), every row equal to a fresh fold of the events\.\n$"
)


def _row(url: str, stream: str, version: int) -> tuple[object, bytes]:
    for key, originator, found, state in rows(url):
        if originator == stream and found == version:
            return key, state
    raise AssertionError(f"no row {stream} v{version}")


def _verify(url: str, *args: str) -> tuple[int, str, str]:
    result = run_cli("--store", url, "verify", *args)
    return result.code, result.out, result.err


def test_an_intact_store_verifies_with_a_summary_line_for_events_and_views(seeded_url: str) -> None:
    code, out, err = _verify(seeded_url)
    assert (code, err) == (0, "")
    assert SUMMARY.match(out), out


def test_a_changed_event_is_named_by_stream_and_version(seeded_url: str) -> None:
    key, state = _row(seeded_url, RUSSIA, 3)
    assert b"Moscow" in state or b'"quote"' in state
    update_row(seeded_url, key, state=state.replace(b'"quote":"', b'"quote":"Allegedly, ', 1))
    assert _verify(seeded_url) == (
        1,
        "Tampered: negotiation 'ukraine-2025' / party 'russia', version 3: was changed or moved "
        "(its hash does not chain to the version before it)\n"
        "Verification failed: 1 of 17 stream(s) broken (47 events read).\n",
        "",
    )


def test_a_deleted_event_is_named_by_stream_and_version(seeded_url: str) -> None:
    key, _ = _row(seeded_url, CODEBOOK, 4)
    delete_row(seeded_url, key)
    assert _verify(seeded_url) == (
        1,
        "Tampered: negotiation 'ukraine-2025', version 4: is missing (an event was deleted or "
        "renumbered)\n"
        "Verification failed: 1 of 17 stream(s) broken (46 events read).\n",
        "",
    )


def test_reordered_events_are_named_by_stream_and_version(seeded_url: str) -> None:
    second, _ = _row(seeded_url, RUSSIA, 2)
    third, _ = _row(seeded_url, RUSSIA, 3)
    update_row(seeded_url, second, version=-1)
    update_row(seeded_url, third, version=2)
    update_row(seeded_url, second, version=3)
    assert _verify(seeded_url) == (
        1,
        "Tampered: negotiation 'ukraine-2025' / party 'russia', version 2: was changed or moved "
        "(its hash does not chain to the version before it)\n"
        "Verification failed: 1 of 17 stream(s) broken (47 events read).\n",
        "",
    )


def test_events_moved_to_each_others_places_in_the_log_are_reported_as_reordered(
    seeded_url: str,
) -> None:
    """Two whole rows of a stream change places in the log: every hash still chains, by version,
    but the later version now comes first in the order the rows were stored."""
    second, _ = _row(seeded_url, RUSSIA, 2)
    third, _ = _row(seeded_url, RUSSIA, 3)
    key = "rowid" if seeded_url.startswith("sqlite:") else "notification_id"
    for old, new in ((second, -1), (third, second), (-1, third)):
        execute(seeded_url, f"UPDATE EVENTS SET {key} = %s WHERE {key} = %s", (new, old))
    assert _verify(seeded_url) == (
        1,
        "Tampered: negotiation 'ukraine-2025' / party 'russia', version 3: was stored after a "
        "later version (reordered)\n"
        "Verification failed: 1 of 17 stream(s) broken (47 events read).\n",
        "",
    )


def test_swapped_states_are_named_by_stream_and_version(seeded_url: str) -> None:
    second, state2 = _row(seeded_url, RUSSIA, 2)
    third, state3 = _row(seeded_url, RUSSIA, 3)
    update_row(seeded_url, second, state=state3)
    update_row(seeded_url, third, state=state2)
    code, out, _ = _verify(seeded_url)
    assert code == 1
    assert out.splitlines()[0] == (
        "Tampered: negotiation 'ukraine-2025' / party 'russia', version 2: was changed or moved "
        "(its hash does not chain to the version before it)"
    )


def test_a_state_without_its_seal_is_reported(seeded_url: str) -> None:
    key, state = _row(seeded_url, CODEBOOK, 2)
    update_row(seeded_url, key, state=unseal(state)[1])
    code, out, _ = _verify(seeded_url)
    assert (code, out.splitlines()[0]) == (
        1,
        "Tampered: negotiation 'ukraine-2025', version 2: carries no chain digest (changed or "
        "not sealed)",
    )


def test_a_resealed_but_unreadable_event_is_reported(seeded_url: str) -> None:
    key, _ = _row(seeded_url, RUSSIA, 1)
    payload = b'{"timestamp":"2025-01-01T00:00:00Z","negotiation":"x","party":"y","extra":1}'
    topic = "positions.events:PartyRecordOpened"
    from uuid import UUID

    digest = chain_digest(GENESIS, UUID(RUSSIA), 1, topic, payload)
    update_row(seeded_url, key, state=seal(digest, payload))
    code, out, _ = _verify(seeded_url)
    assert code == 1
    assert out.splitlines()[0].startswith(
        "Tampered: negotiation 'ukraine-2025' / party 'russia', version 2: was changed or moved"
    ) or out.splitlines()[0].startswith(
        "Tampered: negotiation 'ukraine-2025' / party 'russia', version 1: cannot be read back"
    )


def test_deleting_the_newest_event_shows_only_against_a_recorded_head(seeded_url: str) -> None:
    code, out, _ = _verify(seeded_url)
    match = SUMMARY.match(out)
    assert code == 0 and match
    head = match.group(1)
    last = max(v for _, o, v, _ in rows(seeded_url) if o == RUSSIA)
    key, _ = _row(seeded_url, RUSSIA, last)
    delete_row(seeded_url, key)
    # the chains alone cannot show it, but the registry still names the deleted statement
    code, out, _ = _verify(seeded_url)
    lines = out.splitlines()
    assert code == 1
    assert lines[0].startswith("Verified 46 events in 17 streams")
    assert lines[1].startswith("Registry: negotiation 'ukraine-2025' / registry: statement '")
    assert lines[1].endswith(
        f"is registered at party 'russia' version {last}, which holds no such statement"
    )
    assert lines[-1].startswith("Verification failed: 1 problem(s) in the registry")
    code, out, err = _verify(seeded_url, "--expect-head", head)
    assert (code, err) == (1, "")
    lines = out.splitlines()
    assert lines[0].startswith("Tampered: the store's head is ")
    assert lines[0].endswith(
        f", not {head} (events were added since, or the newest ones were deleted)"
    )
    assert lines[1] == "Verification failed: 0 of 17 stream(s) broken (46 events read)."


def test_verifying_a_store_that_does_not_exist_is_an_error(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'missing.db'}"
    assert _verify(url) == (2, "", f"Error: store {url} does not exist (import a scenario first)\n")


def test_later_imports_chain_to_the_events_already_stored(seeded_url: str, tmp_path: Path) -> None:
    more = tmp_path / "more.yaml"
    more.write_text(
        "negotiation: ukraine-2025\nstatements:\n"
        "  - id: extra-1\n    on: 2025-03-20\n    by: russia\n    issue: ceasefire\n"
        "    position: settlement_first\n    quote: More.\n"
        "    sources: [{outlet: Wire, published: 2025-03-20}]\n"
    )
    result = run_cli("--store", seeded_url, "import", str(more))
    assert result.code == 0, result.err
    code, out, _ = _verify(seeded_url)
    assert code == 0 and out.startswith("Verified 49 events in 18 streams")


def test_seal_and_unseal_round_trip() -> None:
    sealed = seal("a" * 64, b'{"x":1}')
    assert unseal(sealed) == ("a" * 64, b'{"x":1}')
    assert unseal(b'{"x":1}') == (None, b'{"x":1}')
