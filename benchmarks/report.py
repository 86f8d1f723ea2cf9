"""docs/performance.md from benchmarks/results/latest.json (``python -m benchmarks.report``)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from benchmarks.run import CLI_BUDGET_S, FILE_COMMANDS_UP_TO

LIMITS_FILE = Path(__file__).resolve().parent / "limits.json"
"""What limits each figure, written by hand from the profiles (keys: import, stance, cli,
report, rebuild, memory, append, cold_start, postgres); shown under the tables."""


def _num(value: float | None, digits: int = 0) -> str:
    if value is None:
        return "—"
    return f"{value:,.{digits}f}"


def _not(result: dict[str, Any] | None) -> str | None:
    if not result:
        return "not measured"
    return f"not measured: {result['not_measured']}" if "not_measured" in result else None


def _times(ratio: float) -> str:
    """A ratio as ``N×``, with two significant digits below 10 (``0.031×``, ``4.2×``)."""
    return f"{ratio:,.0f}×" if ratio >= 10 else f"{ratio:.2g}×"


def _size(n: int) -> str:
    return (
        f"{n // 1_000_000}M"
        if n >= 1_000_000 and n % 1_000_000 == 0
        else f"{n // 1000}k"
        if n % 1000 == 0
        else str(n)
    )


def _met(ok: bool | None) -> str:
    return "—" if ok is None else ("met" if ok else "**not met**")


def summary(results: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per figure: what, value, baseline, ratio, target, met (None when not judged)."""
    rows: list[dict[str, Any]] = []
    sizes = sorted(results.get("sizes", {}).items(), key=lambda kv: int(kv[0]))
    for key, entry in sizes:
        n = int(key)
        imp, raw = entry.get("import_sqlite"), entry.get("raw_sqlite")
        value = None if _not(imp) else imp["statements_per_s"]
        base = None if _not(raw) else raw["rows_per_s"]
        ratio = value / base if value and base else None
        rows.append(
            {
                "figure": f"import, SQLite, {_size(n)} (statements/s)",
                "value": _num(value) if value else _not(imp),
                "baseline": (
                    f"{_num(base)} rows/s of {raw['mean_row_bytes']} B (executemany)"
                    if base
                    else _not(raw)
                ),
                "ratio": f"{ratio:.3f}" if ratio else "—",
                "target": "≥ 0.5",
                "met": _met(ratio >= 0.5 if ratio else None),
            }
        )
    for key, entry in sizes:
        n = int(key)
        query, duck = entry.get("query_sqlite"), entry.get("duckdb")
        value = None if _not(query) else query["stance_ms"]
        base = None if _not(duck) else duck["query_ms"]
        ratio = value / base if value is not None and base else None
        judged = n >= 1_000_000 and ratio is not None
        rows.append(
            {
                "figure": f"`stance_rows(as_of)` in process, all parties × issues, {_size(n)} (ms)",
                "value": (
                    f"{_num(value, 2)} (first call {_num(query['stance_first_ms'], 2)}; "
                    f"open {_num(query['open_ms'])}; compare {_num(query.get('compare_ms'), 2)}; "
                    f"proposals {_num(query.get('proposals_ms'), 2)})"
                    if value is not None
                    else _not(query)
                ),
                "baseline": f"{_num(base, 2)} ms (DuckDB arg_max)" if base else _not(duck),
                "ratio": _times(ratio) if ratio else "—",
                "target": "≤ 2× at 1M",
                "met": _met(ratio <= 2 if judged else None),  # type: ignore[operator]
            }
        )
    rows.extend(_cli_rows(results, sizes))
    for key, entry in sizes:
        n = int(key)
        rebuilt, floor = entry.get("rebuild_sqlite"), entry.get("rebuild_floor")
        value = None if _not(rebuilt) else rebuilt["events_per_s"]
        base = None if _not(floor) else floor["events_per_s"]
        rows.append(
            {
                "figure": f"rebuild the views, {_size(n)} (events/s)",
                "value": _num(value) if value else _not(rebuilt),
                "baseline": f"{_num(base)} events/s (read the log + write the rows, no fold)"
                if base
                else _not(floor),
                "ratio": f"{value / base:.2f}" if value and base else "—",
                "target": "≥ 0.8",
                "met": _met(value / base >= 0.8 if value and base else None),
            }
        )
    for key, entry in sizes:
        n = int(key)
        for phase, name in (("import_sqlite", "import"), ("query_sqlite", "query in process")):
            result = entry.get(phase)
            value = None if _not(result) else result["peak_rss_mb"]
            rows.append(
                {
                    "figure": f"peak memory, {name}, {_size(n)} (MB)",
                    "value": _num(value) if value else _not(result),
                    "baseline": "—",
                    "ratio": "—",
                    "target": "< 1,536 at 1M" if phase == "import_sqlite" else "—",
                    "met": _met(
                        value < 1536
                        if value and n >= 1_000_000 and phase == "import_sqlite"
                        else None
                    ),
                }
            )
    for key, entry in sizes:
        n = int(key)
        added, fresh = entry.get("append_sqlite"), entry.get("append_fresh")
        if not added:
            continue
        value = None if _not(added) else added["seconds"]
        base = None if _not(fresh) else fresh["seconds"]
        rows.append(
            {
                "figure": (
                    f"append {_num(added.get('statements'))} statements to the {_size(n)} "
                    "store (s; peak MB)"
                    if value is not None
                    else f"append to the {_size(n)} store (s; peak MB)"
                ),
                "value": f"{_num(value, 2)}; {_num(added['peak_rss_mb'])}"
                if value is not None
                else _not(added),
                "baseline": f"{_num(base, 2)} s; {_num(fresh['peak_rss_mb'])} MB (the same file "
                "into an empty store)"
                if base is not None
                else _not(fresh),
                "ratio": _times(value / base) if value is not None and base else "—",
                "target": "< 0.5 s at 1M",
                "met": _met(value < 0.5 if value is not None and n >= 1_000_000 else None),
            }
        )
    for key, entry in sizes:
        n = int(key)
        cli, fresh = entry.get("append_cli"), entry.get("append_fresh")
        if not cli:
            continue
        value = None if _not(cli) else cli["median_ms"] / 1000
        base = None if _not(fresh) else fresh["seconds"]
        rows.append(
            {
                "figure": f"`positions import` of the same file into the {_size(n)} store, "
                "a fresh process (s; peak MB)",
                "value": f"{_num(value, 2)}; {_num(cli.get('peak_rss_mb'))}"
                if value is not None
                else _not(cli),
                "baseline": f"{_num(base, 2)} s (the same file into an empty store, in process)"
                if base is not None
                else _not(fresh),
                "ratio": _times(value / base) if value is not None and base else "—",
                "target": "< 0.5 s at 1M",
                "met": _met(value < 0.5 if value is not None and n >= 1_000_000 else None),
            }
        )
    for key, entry in sizes:
        pg = entry.get("postgres")
        if not pg:
            continue
        n = int(key)
        imp, query = pg.get("import"), pg.get("query")
        sqlite_imp = entry.get("import_sqlite") or {}
        sqlite_query = entry.get("query_sqlite") or {}
        rows.append(
            {
                "figure": f"import, PostgreSQL, {_size(n)} (statements/s)",
                "value": _num(imp["statements_per_s"])
                if not _not(imp)
                else _not(pg if "not_measured" in pg else imp),
                "baseline": f"{_num(sqlite_imp.get('statements_per_s'))} (SQLite)",
                "ratio": "—",
                "target": "—",
                "met": "—",
            }
        )
        if not _not(query):
            rows.append(
                {
                    "figure": f"`stance_rows(as_of)` in process, PostgreSQL, {_size(n)} (ms)",
                    "value": f"{_num(query['stance_ms'], 2)} (open {_num(query['open_ms'])})",
                    "baseline": f"{_num(sqlite_query.get('stance_ms'), 2)} (SQLite)",
                    "ratio": "—",
                    "target": "—",
                    "met": "—",
                }
            )
            rows.append(
                {
                    "figure": f"peak memory, PostgreSQL import / queries, {_size(n)} (MB)",
                    "value": f"{_num(imp['peak_rss_mb'])} / {_num(query['peak_rss_mb'])}",
                    "baseline": "—",
                    "ratio": "—",
                    "target": "—",
                    "met": "—",
                }
            )
    cold = results.get("cold_start")
    if cold:
        value = None if _not(cold) else cold["compare_ms"]
        rows.append(
            {
                "figure": "cold start, `positions compare` on the seed (ms)",
                "value": _num(value) if value else _not(cold),
                "baseline": (
                    f"{_num(cold.get('python_ms'))} ms (`python -c pass`); "
                    f"{_num(cold.get('libraries_ms'))} ms (importing the libraries it loads)"
                )
                if value
                else "—",
                "ratio": f"{value / cold['python_ms']:.1f}×" if value else "—",
                "target": "< 400 ms",
                "met": _met(value < 400 if value else None),
            }
        )
    return rows


QUERY_COMMANDS = ("stance", "compare", "proposals", "history", "search", "stance_known")
"""The commands that answer a query: each within 1.5× of the seed and < 500 ms at 1M. The
others (`report`, `timeline`) write a file from the whole `Analysis`: each < 5 s at 100k."""


def _cli_rows(
    results: dict[str, Any], sizes: list[tuple[str, dict[str, Any]]]
) -> list[dict[str, Any]]:
    """One row per command and size: its median wall time as a fresh process and peak memory,
    beside the same command on the seed store in the same run."""
    rows: list[dict[str, Any]] = []
    asked_runs = int(results.get("cli_runs") or 0)
    for key, entry in sizes:
        n = int(key)
        found = entry.get("cli")
        if found is None:
            continue
        seed = entry.get("cli_seed") or {"not_measured": "the seed store was not measured"}
        seed_not = _not(seed)
        if _not(found):
            rows.append(
                {
                    "figure": f"commands, {_size(n)}",
                    "value": _not(found),
                    "baseline": "—",
                    "ratio": "—",
                    "target": "—",
                    "met": "—",
                }
            )
            continue
        peaks = []
        for name, result in found.items():
            base = None if seed_not else seed.get(name)
            value = None if _not(result) else result["median_ms"]
            base_ms = None if _not(base) else base["median_ms"]  # type: ignore[index]
            ratio = value / base_ms if value is not None and base_ms else None
            if name in QUERY_COMMANDS:
                target = "≤ 1.5× and < 500 ms at 1M"
                judged = n >= 1_000_000 and ratio is not None
                ok = ratio <= 1.5 and value < 500 if judged else None  # type: ignore[operator]
                if value is not None and result.get("peak_rss_mb"):
                    peaks.append((result["peak_rss_mb"], name))
            else:
                target = "< 5,000 ms at 100k"
                ok = value < 5000 if value is not None and n == 100_000 else None
            rows.append(
                {
                    "figure": f"`{result.get('command') or name}`, {_size(n)} (ms; peak MB)"
                    if not _not(result)
                    else f"`positions {name}`, {_size(n)} (ms; peak MB)",
                    "value": (
                        f"{_num(value)}; {_num(result.get('peak_rss_mb'))}"
                        + (
                            f" ({result['runs']} of {asked_runs} runs)"
                            if result.get("runs", 0) < asked_runs
                            else ""
                        )
                        if value is not None
                        else _not(result)
                    ),
                    "baseline": (
                        f"{_num(base_ms)} ms; {_num(base.get('peak_rss_mb'))} MB (seed store)"  # type: ignore[union-attr]
                        if base_ms is not None
                        else seed_not or _not(base)
                    ),
                    "ratio": _times(ratio) if ratio else "—",
                    "target": target,
                    "met": _met(ok),
                }
            )
        if peaks:
            peak, name = max(peaks)
            asked = sum(1 for name in found if name in QUERY_COMMANDS)
            rows.append(
                {
                    "figure": f"peak memory, query commands, {_size(n)} (MB)",
                    "value": f"{_num(peak)} (`{name}`"
                    + (f"; {len(peaks)} of {asked} measured)" if len(peaks) < asked else ")"),
                    "baseline": "—",
                    "ratio": "—",
                    "target": "< 200 at 1M",
                    "met": _met(peak < 200 if n >= 1_000_000 else None),
                }
            )
    return rows


def _hotspot_table(spots: Any) -> list[str]:
    if not isinstance(spots, dict) or "functions" not in spots:
        return [f"_{_not(spots) or 'not measured'}_", ""]
    lines = ["| function (self time) | self | total |", "| --- | ---: | ---: |"]
    for spot in spots["functions"]:
        lines.append(
            f"| `{spot['function']}` | {spot['self_share']:.0%} | {spot['total_share']:.0%} |"
        )
    modules = ", ".join(
        f"`{m['module']}` {m['self_share']:.0%}"
        for m in spots["modules"]
        if m["self_share"] >= 0.01
    )
    return [*lines, "", f"Self time by module: {modules}.", ""]


def phase_table(results: dict[str, Any]) -> list[str]:
    """The import of each size phase by phase (as it tells its progress), each beside the floor
    of its work measured in the same run: reading beside the files read and parsed by
    ``json.loads`` alone; writing beside ``executemany`` of as many rows at the raw rate; the
    views beside the rebuild's I/O floor for as many events. Planning has no floor: it is the
    rules' own work."""
    lines = [
        "| size | reading (s) | its floor | checking (s) | writing (s) | its floor | "
        "views (s) | their floor | import (s) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    found = False
    for key, entry in sorted(results.get("sizes", {}).items(), key=lambda kv: int(kv[0])):
        imp = entry.get("import_sqlite") or {}
        phases = imp.get("phases") or {}
        if _not(imp) or not phases:
            continue
        found = True
        read = entry.get("read_floor") or {}
        raw = entry.get("raw_sqlite") or {}
        floor = entry.get("rebuild_floor") or {}
        events = imp.get("stored_events") or imp.get("events") or 0
        write_floor = events / raw["rows_per_s"] if raw.get("rows_per_s") else None
        views_floor = events / floor["events_per_s"] if floor.get("events_per_s") else None

        def cell(value: float | None) -> str:
            return _num(value, 2) if value is not None else "—"

        lines.append(
            f"| {_size(int(key))} | {cell(phases.get('reading'))} | {cell(read.get('seconds'))} "
            f"| {cell(phases.get('checking'))} | {cell(phases.get('writing'))} "
            f"| {cell(write_floor)} | {cell(phases.get('views'))} | {cell(views_floor)} "
            f"| {cell(imp.get('seconds'))} |"
        )
    return [*lines, ""] if found else []


def render(results: dict[str, Any]) -> str:
    machine = results.get("machine", {})
    limits: dict[str, str] = {}
    if LIMITS_FILE.exists():
        limits = json.loads(LIMITS_FILE.read_text())
    lines = [
        "# Performance",
        "",
        "<!-- Generated by `make bench` (benchmarks/run.py) from benchmarks/results/latest.json;"
        " do not edit by hand. -->",
        "",
        "Figures from one run of `make bench`, each beside the baseline measured in the same run "
        "and its target. `make bench-quick` measures the 10k size alone. The synthetic "
        "negotiations come from `benchmarks/generate.py` (positions, verdicts, ~5% claims, ~5% "
        "clarifications, ~3% retractions, ~1% coding corrections, JSON files of 50,000 "
        "statements); every phase runs in its own process, and one that takes longer than "
        f"{_num(results.get('timeout_s'))} s is stopped and reported as not measured.",
        "",
        f"Run {results.get('when', '?')} at commit `{results.get('commit') or '?'}`"
        f"{' with uncommitted changes to positions/' if results.get('positions_modified') else ''}"
        " on "
        f"{machine.get('cpu', '?')}, {machine.get('cores', '?')} cores, "
        f"{machine.get('memory_gb', '?')} GB memory; Python {machine.get('python', '?')}, "
        f"SQLite {machine.get('sqlite', '?')}, {machine.get('system', '?')}.",
        "",
        "| figure | measured | baseline | ratio | target | |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for row in summary(results):
        lines.append(
            f"| {row['figure']} | {row['value']} | {row['baseline']} | {row['ratio']} | "
            f"{row['target']} | {row['met']} |"
        )
    lines += [
        "",
        "How each figure is taken:",
        "",
        "- **import**: `PositionsApplication.open(url, create=True).import_files(paths)`, all "
        "files in one call (reading, validation, planning, events, one transaction). The baseline "
        "is "
        "`sqlite3.executemany` of one row per statement (its JSON padded to the mean size of the "
        "stored events, `mean_row_bytes`) into a "
        "table shaped like eventsourcing's `stored_events`, WAL mode, one transaction, fresh file.",
        "- **query in process**: in a fresh process, open the store and resolve the "
        "negotiation (*open*, reported apart), then `app.get_tables(negotiation)`, which answers "
        "`stance`, `compare` and `proposals` by SQL on the bitemporal step tables of the views, "
        "and time `stance_rows(as_of)`: its first call, then the median of repeated calls; "
        "`compare_rows(as_of)` and `proposal_rows(as_of)` the same way. `as_of` is three "
        "quarters into the record. The DuckDB baseline is `arg_max(position, (day, seq))` per "
        "party and issue over the same statements in memory; it applies no clarification, "
        "retraction or correction.",
        "- **commands**: the real `.venv/bin/positions --store URL ...` run as a fresh process, "
        "as a user runs it, output to /dev/null: once to warm the file cache (when more than "
        "one run is asked for), then the median wall time of the runs that follow; a command "
        f"is not run again once its runs have taken {_num(CLI_BUDGET_S)} s in all (the number "
        "of timed runs is in the results). `stance`, "
        "`compare` and `proposals` ask about the "
        "same `as_of`, `history` about the generated negotiation's first party and issue, "
        "`search` is `history --search` of a quote's word and that issue's number (of "
        "`ceasefire` on the seed); "
        "`report` and `timeline` of one issue (which read every statement of the record or "
        "of an issue) run on "
        f"stores up to {_size(FILE_COMMANDS_UP_TO)}. Every command also runs on the seed store "
        "(`fixtures/ukraine-2025-03-13.yaml` imported into a fresh store), its runs taken in "
        "turn with the size's, so that a change in the machine's load falls on both; the ratio "
        "is to that figure. The peak memory is the command's own `VmHWM`, which a "
        "`sitecustomize` on the command's `PYTHONPATH` reads at exit.",
        "- **rebuild**: `PositionsApplication.rebuild()` in a fresh process, as `positions "
        "rebuild` runs it: empty the materialized views, read every event of the log, fold it "
        "and write the rows and the tracking position page by page; events in the store ÷ its "
        "time. The baseline, measured on the same store in the same run, is the rebuild's "
        "I/O alone: read every row of the log and write the views' statement rows into a table "
        "of the same shape in a fresh file, one transaction, nothing decoded or folded.",
        "- **memory**: the peak resident memory (`VmHWM`) of the import process, of the "
        "in-process query and of each command, each measured in the process itself.",
        "- **append**: after the other phases, `import_files` of one file of new statements "
        "(the negotiation's codebook, already recorded, and copies of its first statements "
        "under new ids) into the size's store; the baseline is the same file imported into an "
        "empty store, which records the codebook too.",
        "- **cold start**: median wall time of the real `.venv/bin/positions compare` process on "
        "the seed store, against `python -c pass` and against a `python -c` that only imports "
        "the third-party modules the command loads (`benchmarks.run.LIBRARIES`).",
        "",
        "## What limits each figure",
        "",
    ]
    for key, title in (
        ("import", "Import"),
        ("stance", "Query in process"),
        ("cli", "Commands"),
        ("report", "`report` and `timeline`"),
        ("rebuild", "Rebuild"),
        ("memory", "Memory"),
        ("append", "Append"),
        ("cold_start", "Cold start"),
        ("postgres", "PostgreSQL"),
    ):
        lines.append(f"- **{title}**: {limits.get(key, 'not yet profiled.')}")
    lines.append("")
    phases = phase_table(results)
    if phases:
        lines += [
            "### The import, phase by phase",
            "",
            "Each phase of the import as it tells its progress (`ImportProgress`: reading and "
            "validating the files, checking them against the record and planning the events, "
            "writing the events in one transaction, then bringing the views up to date), beside "
            "the floor of its work measured in the same run: the files read and parsed by "
            "`json.loads` alone; `executemany` of as many rows as the import stored, at the raw "
            "rate above; the rebuild's I/O floor for as many events. Planning has no floor: it is "
            "the rules' own work.",
            "",
            *phases,
        ]
    for key, entry in sorted(results.get("sizes", {}).items(), key=lambda kv: int(kv[0])):
        profile = entry.get("profile")
        if not profile:
            continue
        if "not_measured" in profile:
            lines += [f"Profiles at {_size(int(key))}: {profile['not_measured']}", ""]
            continue
        lines += [
            f"### Hotspots at {_size(int(key))} (pyinstrument)",
            "",
            "Share of the phase's time spent in the function itself (self) and in it with "
            "everything it calls (total). The full call trees are "
            "`benchmarks/results/profile-import.txt` and `profile-stance.txt`.",
            "",
            "The import:",
            "",
            *_hotspot_table(profile.get("import")),
            "The first `stance_rows(as_of)` call:",
            "",
            *_hotspot_table(profile.get("stance")),
        ]
    lines += [
        "## Raw results",
        "",
        "`benchmarks/results/latest.json` holds every figure above and more "
        "(first runs of each command, open times, generation time, row sizes, DuckDB load time).",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    source = Path(argv[0]) if argv else Path(__file__).resolve().parent / "results" / "latest.json"
    print(render(json.loads(source.read_text())), end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
