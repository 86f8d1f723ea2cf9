"""Hypothesis strategies: random negotiations as scenario dicts, valid ones and ones with a
statement broken in a way whose message is documented."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from hypothesis import assume
from hypothesis import strategies as st

from positions.codebook import StatedOn

START = date(2025, 1, 1)
PARTIES = ["alpha", "beta", "gamma"]
CAPABILITIES = [60, 30, None]
ISSUES = {
    "water": ["share_all", "share_half", "share_little", "share_none"],
    "border": ["open", "monitored", "closed"],
}


def said(sid: str, day: int, by: str = "alpha", **coding: Any) -> dict[str, Any]:
    """A statement record of `codebook`'s negotiation: ``sid`` said by ``by`` on the ``day``-th
    day after `START`, with ``coding`` (an issue and position, a verdict, a target...)."""
    on = START + timedelta(days=day)
    return {"id": sid, "on": on, "by": by, "quote": "q", "sources": [{"outlet": "Wire"}]} | coding


def codebook() -> dict[str, Any]:
    return {
        "negotiation": "generated",
        "title": "Generated negotiation",
        "parties": [
            {"id": p, "name": p.title(), **({"capability": c} if c is not None else {})}
            for p, c in zip(PARTIES, CAPABILITIES, strict=True)
        ],
        "salience": [{"party": "beta", "issue": "border", "value": 50}],
        "speakers": [
            {"id": f"{p}-envoy", "name": f"{p.title()} envoy", "party": p, "rank": "envoy"}
            for p in PARTIES
        ],
        "issues": [
            {
                "id": issue,
                "question": f"What does the party accept on {issue}?",
                "scale": [{"label": label, "description": f"Accepts {label}."} for label in labels],
            }
            for issue, labels in ISSUES.items()
        ],
        "proposals": [
            {
                "id": "plan-a",
                "issue": "water",
                "by": "alpha",
                "on": START + timedelta(days=2),
                "position": "share_half",
                "terms": {"years": 5},
            },
            {  # known only from alpha's account: alpha's claim about beta until beta accepts
                "id": "plan-b",
                "issue": "border",
                "by": "beta",
                "reported_by": "alpha",
                "on": START + timedelta(days=4),
                "position": "monitored",
            },
            {  # a package: gamma's position on both issues, and one verdict on the whole
                "id": "deal-c",
                "by": "gamma",
                "on": START + timedelta(days=6),
                "covers": [
                    {"issue": "border", "position": "open", "terms": {"posts": 3}},
                    {"issue": "water", "position": "share_all"},
                ],
            },
            {  # a package known only from beta's account, confirmed by alpha issue by issue
                "id": "deal-d",
                "by": "alpha",
                "reported_by": "beta",
                "on": START + timedelta(days=8),
                "covers": [
                    {"issue": "water", "position": "share_little"},
                    {"issue": "border", "position": "closed"},
                ],
            },
            {  # a joint proposal: beta's and gamma's own, each accepting it
                "id": "deal-e",
                "by": ["beta", "gamma"],
                "on": START + timedelta(days=10),
                "covers": [
                    {"issue": "water", "position": "share_half"},
                    {"issue": "border", "position": "monitored"},
                ],
            },
        ],
    }


QUOTED = ("Water", "wáter talks", "TALLINN", "cease-fire", "Straße", "talks", "Ceasefire")
"""Words of the statements' quotes and notes, for ``--search``: one word in two cases and
with an accent, words that share a prefix, a hyphenated word, one that case-folds longer."""


TIMES = ("09:00", "18:00+02:00", "16:00Z", "12:30")
"""Times of day of the statements: two of them the same instant written in two ways."""


@st.composite
def statements(draw: st.DrawFn, max_size: int = 14) -> list[dict[str, Any]]:
    """A list of valid statements: positions, claims, clarifications and retractions."""
    count = draw(st.integers(min_value=1, max_value=max_size))
    made: list[dict[str, Any]] = []
    for n in range(count):
        day = START + timedelta(days=draw(st.integers(0, 12)))
        imprecise = draw(st.booleans()) and draw(st.booleans())
        at = None if imprecise else draw(st.sampled_from([None, None, *TIMES]))
        on: Any = (
            {"before": day + timedelta(days=1)}
            if imprecise
            else (day if at is None else f"{day.isoformat()}T{at}")
        )
        key = StatedOn.model_validate(on).sort_key()
        party = draw(st.sampled_from(PARTIES))
        by = draw(st.sampled_from([party, f"{party}-envoy"]))
        record: dict[str, Any] = {
            "id": f"s{n:03d}",
            "on": on,
            "by": by,
            "quote": f"Statement {n}: {QUOTED[n % 5]} {QUOTED[n * 3 % 7]}.",
            "sources": [{"outlet": "Wire", "published": day + timedelta(days=1)}],
        }
        kind = draw(st.sampled_from(["position", "position", "claim", "clarify", "retract"]))
        targets = [
            m for m in made if party in m["_parties"] and m["_key"] <= key and "retracts" not in m
        ]
        if kind in ("clarify", "retract") and targets:
            target = draw(st.sampled_from(targets))
            if kind == "clarify":
                record["clarifies"] = target["id"]
                if target["_issue"] is not None and draw(st.booleans()):
                    record["position"] = draw(
                        st.sampled_from([*ISSUES[target["_issue"]], "noncommittal"])
                    )
            else:
                record["retracts"] = target["id"]
            record["_issue"] = target["_issue"]
        else:
            issue = draw(st.sampled_from(sorted(ISSUES)))
            record["issue"] = issue
            record["_issue"] = issue
            record["position"] = draw(st.sampled_from([*ISSUES[issue], "noncommittal"]))
            if issue == "water" and draw(st.booleans()):
                record["verdict"] = draw(
                    st.sampled_from(["accept", "accept_with_conditions", "undecided", "reject"])
                )
                record["proposal"] = "plan-a"
            elif issue == "border" and day >= START + timedelta(days=4) and draw(st.booleans()):
                record["verdict"] = draw(st.sampled_from(["accept", "reject"]))
                record["proposal"] = "plan-b"
                if draw(st.booleans()):  # a bare verdict: beta's acceptance confirms plan-b
                    del record["issue"], record["position"]
                    record["_issue"] = None
            if (
                "proposal" not in record
                and day >= START + timedelta(days=6)
                and draw(st.booleans())
            ):
                package = draw(st.sampled_from(["deal-c", "deal-d", "deal-e"]))
                tabled = {"deal-c": 6, "deal-d": 8, "deal-e": 10}[package]
                if day >= START + timedelta(days=tabled):
                    record["verdict"] = draw(st.sampled_from(["accept", "reject"]))
                    record["proposal"] = package
                    if draw(st.booleans()):  # a verdict on the whole package, no position
                        del record["issue"], record["position"]
                        record["_issue"] = None
                    elif draw(st.booleans()):  # accepting one issue of it (deal-d: confirms it)
                        del record["position"]
            parties = [party]
            if draw(st.integers(0, 4)) == 0:  # a joint statement of two or three parties
                others = [p for p in PARTIES if p != party]
                parties += draw(
                    st.lists(st.sampled_from(others), min_size=1, max_size=2, unique=True)
                )
                record["party"] = parties
                if draw(st.booleans()):
                    del record["by"]  # made by the parties together
            if kind == "claim" and len(parties) < len(PARTIES):
                record["about"] = draw(st.sampled_from([p for p in PARTIES if p not in parties]))
            record["_parties"] = parties
        if "retracts" not in record and draw(st.integers(0, 3)) == 0:
            record["salience"] = draw(st.sampled_from([20, 70]))
        if n % 4 == 1:
            record["notes"] = f"Noted: {QUOTED[n % 7]}"
        record["_party"] = party
        record.setdefault("_parties", [party])
        record["_key"] = key
        made.append(record)
    return [{k: v for k, v in m.items() if not k.startswith("_")} for m in made]


# Ways to break one statement of a valid list, each with the message the planner must give for
# it (docs/format.md, "Problems of statements"). A breakage applies only to statements it can
# break on their own: ``applies`` says which.
BREAKAGES: dict[str, str] = {
    "unknown speaker": "'nobody' is neither a speaker nor a party of 'generated' (a new speaker is defined "
    "under 'speakers:' with its id, name and party)",
    "off the scale": "'most' is not a point on the scale of issue '{issue}' (choose from: {labels})",
    "no quote": "a statement needs its 'quote' (the words as reported)",
    "no source": "a statement needs at least one source",
    "original without language": "'quote_original' needs its 'language'",
    "unknown target": "clarifies unknown statement 's999'",
    "clarifies itself": "a statement cannot clarify itself",
    "verdict without proposal": "a 'verdict' needs the 'proposal' it answers",
    "about itself": "'about' names the statement's own party",
}


def _break(record: dict[str, Any], how: str) -> str | None:
    """Break ``record`` in place as ``how`` says; the message expected, or None when this
    record cannot be broken that way alone."""
    plain = "clarifies" not in record and "retracts" not in record
    message = BREAKAGES[how]
    if how == "unknown speaker":
        record["by"] = "nobody"
    elif how == "off the scale":
        if not plain or "issue" not in record or "position" not in record:
            return None
        record["position"] = "most"
        labels = ", ".join([*ISSUES[record["issue"]], "noncommittal"])
        message = message.format(issue=record["issue"], labels=labels)
    elif how == "no quote":
        del record["quote"]
    elif how == "no source":
        record["sources"] = []
    elif how == "original without language":
        record["quote_original"] = "Слова."
    elif how == "unknown target":
        if "retracts" in record:
            return None
        record["clarifies"] = "s999"
    elif how == "clarifies itself":
        if "retracts" in record:
            return None
        record["clarifies"] = record["id"]
    elif how == "verdict without proposal":
        if not plain or "position" not in record:
            return None
        record.pop("proposal", None)
        record["verdict"] = "reject"
    elif how == "about itself":
        if not plain or "position" not in record:
            return None
        listed = record.get("party")  # a joint statement: about one of its own parties
        own = listed[0] if isinstance(listed, list) else record["by"].removesuffix("-envoy")
        record["about"] = own
    return message


@st.composite
def broken_statements(draw: st.DrawFn) -> tuple[list[dict[str, Any]], str, str]:
    """Valid statements with one of them broken: (statements, the broken one's id, the message
    the planner must give for it)."""
    made = draw(statements(max_size=8))
    index = draw(st.integers(0, len(made) - 1))
    how = draw(st.sampled_from(sorted(BREAKAGES)))
    message = _break(made[index], how)
    assume(message is not None)
    assert message is not None
    return made, made[index]["id"], message


def backfill_order(stmts: list[dict[str, Any]], order: Any) -> list[dict[str, Any]]:
    """``stmts`` shuffled into an order in which a clarification or retraction follows its
    target."""
    waiting, ready = list(stmts), []
    order.shuffle(waiting)
    done: set[str] = set()
    while waiting:
        item = next(s for s in waiting if s.get("clarifies", s.get("retracts")) in (None, *done))
        waiting.remove(item)
        ready.append(item)
        done.add(item["id"])
    return ready
