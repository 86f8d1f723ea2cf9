"""Synthetic negotiations for the benchmarks: deterministic, valid, and fast to write.

``generate(statements, directory)`` writes one definitions file (parties, speakers, issues with
scales, proposals, salience) and statement files of at most ``per_file`` statements each, as JSON
scenario files (JSON is YAML; see docs/format.md). The same arguments always give the same bytes.

The mix of statements, by share of the total:

| kind | share | how |
| --- | --- | --- |
| position | ~77% | own position on an issue, some with terms |
| claim | ~5% | ``about`` another party |
| clarification | ~5% | clarifies an earlier position of the same party, half with a new one |
| retraction | ~3% | retracts an earlier position statement of the same party |
| verdict only | ~10% | a verdict on a proposal with no position of its own |

plus coding corrections (``corrections:``, ~1% of statements: a new position for a recorded
position statement) and imprecise "before" dates on ~2% of statements.

Run it alone: ``python -m benchmarks.generate 100000 /tmp/gen``.
"""

from __future__ import annotations

import json
import random
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

NEGOTIATION = "synthetic"
START = date(1900, 1, 1)
PER_DAY = 40
"""Statements per day on average: 1M statements span about 68 years (dates end at 2200)."""

SCALES = [
    ["all", "most", "half", "some", "none"],
    ["open", "monitored", "restricted", "closed"],
    ["immediate", "phased", "conditional", "deferred", "never"],
    ["full", "partial", "symbolic"],
]
OUTLETS = ["Example Wire", "Daily Record", "Morning Post", "Evening Herald", "State Radio"]
QUOTES = [
    "We will not accept any arrangement that leaves the question of {issue} open.",
    "Our position on {issue} has not changed and will not change under pressure.",
    "There is room for discussion on {issue}, provided the other side shows good faith.",
    "The delegation made clear that {issue} must be settled before anything else.",
    "We are ready to look at every proposal on {issue} that is put on the table.",
    "Any talk of {issue} is premature while the other side keeps its current demands.",
]
CONDITIONS = ["joint monitoring", "a fixed timetable", "guarantees from third parties"]
VERDICTS = ["accept", "accept_with_conditions", "undecided", "reject"]


@dataclass
class Generated:
    """What was written: the files, in import order, and the counts a benchmark checks."""

    statements: int
    files: list[str]
    parties: list[str]
    issues: list[str]
    speakers: int
    proposals: int
    corrections: int
    kinds: dict[str, int] = field(default_factory=dict)
    last_day: str = ""
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def shape(statements: int) -> tuple[int, int, int, int]:
    """Parties, issues, speakers per party and proposals for a negotiation of this size."""
    parties = 6 if statements < 100_000 else 10
    issues = 8 if statements < 100_000 else 16
    speakers = 4
    proposals = max(issues, min(2_000, statements // 500))
    return parties, issues, speakers, proposals


def _definitions(rng: random.Random, statements: int) -> dict[str, Any]:
    n_parties, n_issues, n_speakers, n_proposals = shape(statements)
    parties = [f"party-{p:02d}" for p in range(n_parties)]
    issues = [f"issue-{i:02d}" for i in range(n_issues)]
    ranks = ["head_of_state", "minister", "envoy", "spokesperson", "official"]
    speakers = [
        {
            "id": f"{party}-s{s}",
            "name": f"Speaker {s} of {party}",
            "party": party,
            "rank": ranks[s % len(ranks)],
        }
        for party in parties
        for s in range(n_speakers)
    ]
    issue_defs = [
        {
            "id": issue,
            "title": f"Issue {n}",
            "question": f"What does the party accept on issue {n}?",
            "scale": [
                {"label": label, "description": f"Accepts {label} on issue {n}."}
                for label in SCALES[n % len(SCALES)]
            ],
        }
        for n, issue in enumerate(issues)
    ]
    proposals = []
    for n in range(n_proposals):
        issue = n % n_issues
        proposals.append(
            {
                "id": f"plan-{n:04d}",
                "issue": issues[issue],
                "by": parties[n % n_parties],
                "on": (START + timedelta(days=n * 3)).isoformat(),
                "position": rng.choice(SCALES[issue % len(SCALES)]),
                "terms": {"years": 1 + n % 10},
                "title": f"Plan {n}",
                "sources": [{"outlet": rng.choice(OUTLETS), "published": START.isoformat()}],
            }
        )
    salience = [
        {"party": p, "issue": i, "value": rng.randint(10, 90)} for p in parties for i in issues
    ]
    return {
        "negotiation": NEGOTIATION,
        "title": "Synthetic negotiation",
        "parties": [{"id": p, "name": p.replace("-", " ").title()} for p in parties],
        "speakers": speakers,
        "issues": issue_defs,
        "proposals": proposals,
        "salience": salience,
    }


def generate(
    statements: int, directory: Path, *, per_file: int = 50_000, seed: int = 5
) -> Generated:
    """Write a negotiation of ``statements`` statements into ``directory``; return what it holds."""
    started = time.perf_counter()
    directory.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    definitions = _definitions(rng, statements)
    parties = [p["id"] for p in definitions["parties"]]
    issues = [i["id"] for i in definitions["issues"]]
    labels = {i["id"]: [p["label"] for p in i["scale"]] for i in definitions["issues"]}
    by_issue: dict[str, list[str]] = {i: [] for i in issues}
    for proposal in definitions["proposals"]:
        by_issue[proposal["issue"]].append(proposal["id"])
    proposal_day = {p["id"]: date.fromisoformat(p["on"]) for p in definitions["proposals"]}
    speakers: dict[str, list[str]] = {p: [] for p in parties}
    for speaker in definitions["speakers"]:
        speakers[speaker["party"]].append(speaker["id"])

    files = [directory / "00-definitions.json"]
    files[0].write_text(json.dumps(definitions, indent=1))

    # Targets for clarifications, retractions and corrections: each party's earlier position
    # statements (id, day, issue), each used at most once, drawn from a bounded recent window.
    targets: dict[str, list[tuple[str, date, str]]] = {p: [] for p in parties}
    kinds = {"position": 0, "verdict": 0, "claim": 0, "clarification": 0, "retraction": 0}
    corrections: list[dict[str, Any]] = []
    batch: list[dict[str, Any]] = []
    day = START
    rand = rng.random
    choice = rng.choice
    for n in range(statements):
        if n % PER_DAY == 0 and n:
            day += timedelta(days=1)
        party = choice(parties)
        issue = choice(issues)
        by = choice(speakers[party]) if rand() < 0.8 else party
        published = (day + timedelta(days=1)).isoformat()
        record: dict[str, Any] = {
            "id": f"st-{n:07d}",
            "on": day.isoformat(),
            "by": by,
            "quote": choice(QUOTES).format(issue=issue.replace("-", " ")),
            "sources": [
                {
                    "outlet": choice(OUTLETS),
                    "url": f"https://news.example.org/{day.year}/{n}",
                    "published": published,
                }
            ],
        }
        roll = rand()
        own = targets[party]
        usable = own and own[0][1] < day
        if roll < 0.08 and usable:
            index = rng.randrange(len(own))
            if own[index][1] >= day:
                index = 0
            target_id, _, target_issue = own.pop(index)
            if roll < 0.05:
                record["clarifies"] = target_id
                if rand() < 0.5:
                    record["position"] = choice(labels[target_issue])
                kinds["clarification"] += 1
            else:
                record["retracts"] = target_id
                record["attribution"] = "paraphrase"
                kinds["retraction"] += 1
        elif roll < 0.13:
            record["about"] = choice([p for p in parties if p != party])
            record["issue"] = issue
            record["position"] = choice(labels[issue])
            record["attribution"] = "claim"
            kinds["claim"] += 1
        elif roll < 0.23:
            plans = [p for p in by_issue[issue] if proposal_day[p] <= day]
            if plans:
                record["issue"] = issue
                record["proposal"] = choice(plans)
                verdict = choice(VERDICTS)
                record["verdict"] = verdict
                if verdict == "accept_with_conditions":
                    record["conditions"] = [choice(CONDITIONS)]
                kinds["verdict"] += 1
            else:
                record["issue"] = issue
                record["position"] = choice(labels[issue])
                kinds["position"] += 1
        else:
            record["issue"] = issue
            record["position"] = choice(labels[issue])
            if rand() < 0.15:
                record["terms"] = {"years": rng.randint(1, 20)}
            kinds["position"] += 1
            if rand() < 0.02:
                record["on"] = f"before {(day + timedelta(days=1)).isoformat()}"
            if rand() < 0.013:
                current = record["position"]
                corrections.append(
                    {
                        "statement": record["id"],
                        "reason": "Recoded after reading the full transcript.",
                        "position": choice([x for x in labels[issue] if x != current]),
                    }
                )
            else:
                own.append((record["id"], day, issue))
                if len(own) > 64:
                    del own[0]
        batch.append(record)
        if len(batch) == per_file or n == statements - 1:
            path = directory / f"{len(files):02d}-statements.json"
            part: dict[str, Any] = {"negotiation": NEGOTIATION, "statements": batch}
            if n == statements - 1 and corrections:
                part["corrections"] = corrections
            path.write_text(json.dumps(part, separators=(",", ":")))
            files.append(path)
            batch = []
    return Generated(
        statements=statements,
        files=[str(f) for f in files],
        parties=parties,
        issues=issues,
        speakers=len(definitions["speakers"]),
        proposals=len(definitions["proposals"]),
        corrections=len(corrections),
        kinds=kinds,
        last_day=day.isoformat(),
        seconds=time.perf_counter() - started,
    )


def appendix(files: list[str], path: Path, count: int) -> str:
    """A file of ``count`` new statements for the negotiation of ``files`` (its codebook, and
    copies of the first statements that qualify none, under new ids): what a team appends to
    a large store. Imported into an empty store, it records the codebook as well."""
    codebook = json.loads(Path(files[0]).read_text())
    made: list[dict[str, Any]] = []
    for name in files[1:]:
        for record in json.loads(Path(name).read_text()).get("statements", ()):
            if record.get("clarifies") or record.get("retracts"):
                continue
            made.append({**record, "id": f"appended-{len(made) + 1:05d}"})
            if len(made) == count:
                break
        if len(made) == count:
            break
    path.write_text(json.dumps({**codebook, "statements": made}, separators=(",", ":")))
    return str(path)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m benchmarks.generate STATEMENTS DIRECTORY", file=sys.stderr)
        return 2
    made = generate(int(argv[0]), Path(argv[1]))
    print(json.dumps(made.to_json() | {"files": len(made.files)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
