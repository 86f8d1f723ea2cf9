"""Exports: flat tables (parquet, csv, jsonl), PLOVER-style event records, scenario files.

The PLOVER mapping and its fallbacks are documented in docs/interchange.md.
"""

from __future__ import annotations

import io
import json
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from positions.codebook import Kind, Statement, Verdict
from positions.errors import QueryError
from positions.files import write_file
from positions.projections import Analysis, Tables
from positions.render import neutralised

STATEMENTS_SCHEMA: dict[str, Any] = {
    "negotiation": pl.String,
    "statement_id": pl.String,
    "kind": pl.String,
    "stated_on": pl.String,
    "date": pl.Date,
    "date_precision": pl.String,
    "party": pl.String,
    "speaker": pl.String,
    "speaker_name": pl.String,
    "issue": pl.String,
    "position": pl.String,
    "rank": pl.Int64,
    "terms": pl.String,
    "verdict": pl.String,
    "proposal": pl.String,
    "conditions": pl.String,
    "clarifies": pl.String,
    "retracts": pl.String,
    "about": pl.String,
    "attribution": pl.String,
    "confidence": pl.String,
    "channel": pl.String,
    "quote": pl.String,
    "quote_original": pl.String,
    "language": pl.String,
    "sources": pl.String,
    "notes": pl.String,
    "salience": pl.Float64,
    "hypothetical": pl.Boolean,
    "recorded_at": pl.String,
    "corrections": pl.Int64,
    "last_corrected_at": pl.String,
    "amendments": pl.Int64,
    "last_amended_at": pl.String,
    "ended_by": pl.String,
    "ended_how": pl.String,
}

EXTENSIONS = {
    ".parquet": "parquet",
    ".csv": "csv",
    ".jsonl": "jsonl",
    ".yaml": "yaml",
    ".yml": "yaml",
}
PLOVER_VERSION = "PLOVER 0.8 (positions mapping 1)"


def statements_frame(query: Tables, as_of: date | None = None) -> pl.DataFrame:
    """One row per statement with every field, both clocks and the coding in force."""
    return pl.DataFrame(query.statement_rows(as_of), schema=STATEMENTS_SCHEMA)


def plover_records(query: Analysis, as_of: date | None = None) -> list[dict[str, Any]]:
    """Each statement as a PLOVER-style event record (docs/interchange.md)."""
    negotiation = query.record.negotiation
    frame = statements_frame(query, as_of)
    records = []
    for row in frame.iter_rows(named=True):
        proposal = negotiation.proposals.get(row["proposal"] or "")
        issue = negotiation.issues.get(row["issue"] or "")
        event, mode, comment = _plover_event(row, issue.plover_mode if issue else None)
        if row["kind"] == Kind.CLAIM:
            recipient = row["about"]
        elif proposal is not None:
            recipient = ", ".join(proposal.proposers)  # every proposer of a joint one
        else:
            recipient = None
        sources = json.loads(row["sources"])
        first = sources[0] if sources else {}
        records.append(
            {
                "id": f"{negotiation.slug}:{row['statement_id']}",
                "event": event,
                "mode": mode,
                "context": [c for c in (row["issue"], row["proposal"]) if c],
                "actor": row["party"],
                "actor_speaker": row["speaker_name"],
                "recipient": recipient,
                "date": row["date"].isoformat(),
                "date_precision": row["date_precision"],
                "coded_date": row["last_corrected_at"] or row["recorded_at"],
                "text": row["quote"],
                "cite_info": {
                    "outlet": first.get("outlet"),
                    "url": first.get("url"),
                    "published": first.get("published"),
                    "sources": sources,
                    "codebook": f"positions:{negotiation.slug}",
                    "ontology": PLOVER_VERSION,
                },
                "coder": "positions",
                "comment": comment,
                "positions": {
                    "kind": row["kind"],
                    "issue": row["issue"],
                    "position": row["position"],
                    "rank": row["rank"],
                    "verdict": row["verdict"],
                    "proposal": row["proposal"],
                    "conditions": json.loads(row["conditions"]) if row["conditions"] else [],
                    "confidence": row["confidence"],
                    "attribution": row["attribution"],
                },
            }
        )
    return records


def _plover_event(
    row: dict[str, Any], issue_mode: str | None
) -> tuple[str | None, str | None, str]:
    kind, verdict = row["kind"], row["verdict"]
    if kind == Kind.RETRACTION:
        return None, None, f"retraction or denial of {row['retracts']}: no PLOVER category"
    if kind == Kind.CLARIFICATION and verdict is None:
        return None, None, f"clarification of {row['clarifies']}: no PLOVER category"
    prefix = f"clarification of {row['clarifies']}; " if kind == Kind.CLARIFICATION else ""
    if kind == Kind.CLAIM:
        prefix += f"claim by {row['party']} about {row['about']}; "
    if verdict == Verdict.ACCEPT:
        return "AGREE", None, prefix + "accepts the proposal"
    if verdict == Verdict.ACCEPT_WITH_CONDITIONS:
        conditions = "; ".join(json.loads(row["conditions"] or "[]"))
        return "AGREE", None, prefix + f"accepts with conditions: {conditions}"
    if verdict == Verdict.REJECT:
        return "REJECT", issue_mode, prefix + "rejects the proposal"
    if verdict == Verdict.UNDECIDED:
        return None, None, prefix + "undecided on the proposal (CAMEO 014): no PLOVER category"
    if row["position"] == "noncommittal":
        return None, None, prefix + "noncommittal remark: no PLOVER category"
    return None, None, prefix + f"states the position {row['position']}: PLOVER has no stance"


def scenario_document(query: Analysis) -> dict[str, Any]:
    """The whole record as a scenario file: definitions, statements as first recorded, and the
    corrections and amendments in the order they were recorded."""
    record = query.record
    n = record.negotiation

    def dump(model: Any) -> dict[str, Any]:
        return dict(model.model_dump(mode="json", exclude_none=True, exclude_defaults=True))

    proposals = []
    for proposal in n.proposals.values():
        data = dump(proposal)
        data["on"] = _on(proposal.on.to_scenario())
        proposals.append(data)
    originals = record.originals or {s.id: s for s in record.statements}
    statements = [
        _statement(s) for s in sorted(originals.values(), key=lambda s: (s.on.sort_key(), s.id))
    ]
    developments = []
    for dev in n.developments.values():
        data = dump(dev)
        data["on"] = _on(dev.on.to_scenario())
        developments.append(data)
    corrections = []
    for fix in record.corrections:
        data = dump(fix.correction)
        if fix.correction.on is not None:
            data["on"] = _on(fix.correction.on.to_scenario())
        corrections.append(data)
    amendments = [dump(change.amendment) for change in record.amendments]
    document: dict[str, Any] = {
        "negotiation": n.slug,
        "title": n.title,
        "parties": [dump(p) for p in n.parties.values()],
        "speakers": [dump(s) for s in n.speakers.values()],
        "issues": [dump(i) for i in n.issues.values()],
        "proposals": proposals,
        "salience": [dump(s) for s in n.salience.values()],
        "statements": statements,
        "developments": developments,
        "corrections": corrections,
        "amendments": amendments,
    }
    return {k: v for k, v in document.items() if v != []}


def _on(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in value.items()}
    return value


def _statement(statement: Statement) -> dict[str, Any]:
    data = statement.model_dump(
        mode="json",
        exclude_none=True,
        exclude_defaults=True,
        exclude={"party", "speaker", "on", "joint"},
    )
    out: dict[str, Any] = {"id": statement.id, "on": _on(statement.on.to_scenario())}
    if statement.joint:  # a joint statement: its parties as listed, and a speaker if one spoke
        if statement.speaker is not None:
            out["by"] = statement.speaker
        out["party"] = list(statement.parties)
    else:
        out["by"] = statement.speaker or statement.party
        if statement.speaker is not None:
            out["party"] = statement.party
    out.update({k: v for k, v in data.items() if k != "id"})
    out.setdefault("attribution", str(statement.attribution))
    return out


def write_export(
    query: Tables,
    what: str,
    fmt: str | None,
    out: Path,
    as_of: date | None,
    raw_csv: bool = False,
) -> int:
    """Write an export; return the number of rows (or statements) written. A csv file's
    cells that a spreadsheet would run as a formula are neutralised (`render.neutralised`)
    unless ``raw_csv``."""
    fmt = fmt or EXTENSIONS.get(out.suffix.lower())
    if fmt is None:
        raise QueryError(
            f"cannot tell the format of {out} from its extension: give --format "
            "(parquet, csv, jsonl, plover or yaml)"
        )
    if what == "scenario" and fmt != "yaml":
        raise QueryError("--what scenario writes YAML: use --format yaml or an .yaml file")
    if fmt == "yaml" and what != "scenario":
        raise QueryError(f"--format yaml is for --what scenario, not {what}")
    if fmt == "plover" and what != "statements":
        raise QueryError(f"--format plover is for --what statements, not {what}")
    if not out.parent.exists():
        raise QueryError(f"cannot write {out}: no directory {out.parent}")
    if what == "scenario":
        assert isinstance(query, Analysis)
        document = scenario_document(query)
        from positions.scenario import dump_scenario

        text = dump_scenario(document)
        _write_text(out, text)
        return len(document.get("statements", []))
    if fmt == "plover":
        assert isinstance(query, Analysis)
        records = plover_records(query, as_of)
        _write_text(out, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
        return len(records)
    if what == "statements":
        frame = statements_frame(query, as_of)
    elif what == "stance":
        frame = query.stance(as_of, claims=True)
    else:
        frame = query.history(as_of=as_of)
    if fmt == "parquet":
        # encoded in memory, then written: polars reports a failed write to a device as a
        # malformed file, not as the write error it is
        encoded = io.BytesIO()
        frame.write_parquet(encoded)
        write_file(out, encoded.getvalue())
    elif fmt == "csv":
        chosen = frame if raw_csv else neutralised(frame)
        write_file(out, lambda handle: chosen.write_csv(handle))
    else:
        write_file(out, frame.write_ndjson)
    return frame.height


def _write_text(out: Path, text: str) -> None:
    write_file(out, text.encode("utf-8"))
