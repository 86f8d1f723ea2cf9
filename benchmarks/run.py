"""The benchmark harness of issue 5: one run measures every figure beside its baseline.

``python -m benchmarks.run`` (``make bench``) generates synthetic negotiations at each size
(benchmarks/generate.py) and measures, side by side:

1. import throughput into an SQLite file through the real import path
   (``PositionsApplication.open(url, create=True).import_files(paths)``), beside
   ``sqlite3.executemany`` of one row per statement into a table shaped like eventsourcing's
   ``stored_events`` in a fresh file;
2. the queries in process: open the store (timed apart), then ``stance_rows(as_of)``,
   ``compare_rows(as_of)`` and ``proposal_rows(as_of)`` through ``app.get_tables`` (SQL on the
   step tables of the views), beside DuckDB's latest-per-key query (``arg_max``) over the same
   statements in memory;
2b. the real commands as a user runs them, each a fresh process run several times (median wall
   time and the command's own peak memory): ``stance``, ``compare``, ``proposals`` and
   ``history --party P --issue I`` on every size's store, plus ``report`` and ``timeline`` on
   stores up to 100k, each beside the same command on the seed store in the same run;
3. rebuilding the materialized views from the events (``positions rebuild``: empty them, read
   every event of the log, fold and write the rows), in events/s;
4. peak resident memory (``VmHWM``) of the import, the queries and each command: every phase
   runs in a subprocess of its own, killed after ``--timeout`` seconds (each run of a command
   too);
4c. appending a file of new statements to each size's store, beside the same file imported
   into an empty store, and as a user runs it (a fresh ``positions import`` process on a copy
   of the store, its summary of the cells moved included);
4b. the import and query figures on PostgreSQL (a fresh schema, dropped afterwards);
5. cold start of ``positions compare`` on the seed store against ``python -c pass``.

It writes ``benchmarks/results/latest.json`` and regenerates ``docs/performance.md``. A phase that
fails or runs out of time is recorded as ``{"not_measured": "..."}``; nothing is guessed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "latest.json"
DOC = ROOT / "docs" / "performance.md"
SEED = ROOT / "fixtures" / "ukraine-2025-03-13.yaml"
POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
SIZES = {"10k": 10_000, "100k": 100_000, "1M": 1_000_000}

TARGETS = {
    "import": "≥ 0.5 × raw executemany",
    "stance": "≤ 2 × DuckDB and < 100 ms (at 1M)",
    "rebuild": "≥ 200,000 events/s",
    "memory": "< 1.5 GB (at 1M)",
    "cold_start": "< 400 ms",
}


# ---------------------------------------------------------------------------------------------
# Phases: each runs in a child process (``python -m benchmarks.run --phase NAME ARGS_JSON``) and
# prints one JSON object as its last line of output.


def _maxrss_mb() -> float:
    """This process's peak resident memory: the high-water mark of its own memory map
    (``VmHWM``). Linux's ``ru_maxrss`` also keeps the parent's resident size from the fork
    before the child's exec, which would floor every phase at the harness's own size."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except (OSError, ValueError):
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _profiler(path: str | None) -> Any:
    if not path:
        return None
    from pyinstrument import Profiler

    return Profiler(interval=0.001)


def _finish_profile(profiler: Any, path: str | None) -> dict[str, Any] | None:
    if profiler is None or path is None:
        return None
    session = profiler.last_session
    Path(path).write_text(profiler.output_text(unicode=False, color=False, show_all=False))
    return hotspots(session)


def phase_import(args: dict[str, Any]) -> dict[str, Any]:
    """Import the files through the real path, in one call, as `positions import` does."""
    from positions.application import PositionsApplication

    profiler = _profiler(args.get("profile"))
    phases: dict[str, float] = {}
    begun: dict[str, float] = {}

    def told(phase: str, done: int, total: int) -> None:
        """The import's progress: each phase's time, from its start to its end."""
        now = time.perf_counter()
        begun.setdefault(phase, now)
        if done == total:
            phases[phase] = round(now - begun[phase], 3)

    started = time.perf_counter()
    if profiler:
        profiler.start()
    app = PositionsApplication.open(args["store"], create=True)
    try:
        result = app.import_files(args["files"], progress=told)
    finally:
        app.close()
    if profiler:
        profiler.stop()
    seconds = time.perf_counter() - started
    stored: dict[str, Any] = {}
    if args["store"].startswith("sqlite:///"):
        with sqlite3.connect(args["store"].removeprefix("sqlite:///")) as connection:
            count, mean = connection.execute(
                "SELECT count(*), avg(length(state)) FROM stored_events"
            ).fetchone()
        stored = {"stored_events": count, "mean_state_bytes": round(mean or 0)}
    return {
        **stored,
        "seconds": round(seconds, 3),
        "statements": result.statements,
        "definitions": result.definitions,
        "events": result.events,
        "statements_per_s": round(result.statements / seconds),
        "phases": phases,
        "events_per_s": round(result.events / seconds),
        "peak_rss_mb": _maxrss_mb(),
        "hotspots": _finish_profile(profiler, args.get("profile")),
    }


def _statement_rows(files: list[str]) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """Every statement of the files, in file order, and each speaker's party."""
    party_of: dict[str, str] = {}
    statements: list[dict[str, Any]] = []
    for path in files:
        data = json.loads(Path(path).read_text())
        for party in data.get("parties", ()):
            party_of[party["id"]] = party["id"]
        for speaker in data.get("speakers", ()):
            party_of[speaker["id"]] = speaker["party"]
        statements.extend(data.get("statements", ()))
    return party_of, statements


def phase_read_floor(args: dict[str, Any]) -> dict[str, Any]:
    """The floor of an import's reading: the files' bytes read and parsed by the standard
    library's JSON parser, nothing validated or kept."""
    started = time.perf_counter()
    statements = 0
    for path in args["files"]:
        statements += len(json.loads(Path(path).read_bytes()).get("statements", ()))
    return {"seconds": round(time.perf_counter() - started, 3), "statements": statements}


def phase_raw(args: dict[str, Any]) -> dict[str, Any]:
    """``executemany`` of one row per statement into a fresh file, in one transaction: the same
    table shape as eventsourcing's SQLite ``stored_events`` (its primary key, WAL mode), the
    statement's JSON as the state, padded with spaces to ``pad_to`` bytes (the mean size of the
    states the real import stored, so that both write the same bytes)."""
    party_of, statements = _statement_rows(args["files"])
    pad_to = int(args.get("pad_to") or 0)
    streams: dict[str, str] = {}
    versions: dict[str, int] = {}
    rows = []
    topic = "positions.events:StatementRecorded"
    for record in statements:
        party = party_of[record["by"]]
        stream = streams.setdefault(party, str(uuid.uuid5(uuid.NAMESPACE_URL, party)))
        version = versions[party] = versions.get(party, 0) + 1
        state = json.dumps(record).encode()
        rows.append((stream, version, topic, state.ljust(pad_to, b" ")))
    path = Path(args["db"])
    path.unlink(missing_ok=True)
    started = time.perf_counter()
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute(
        "CREATE TABLE stored_events (originator_id TEXT, originator_version INTEGER, "
        "topic TEXT, state BLOB, PRIMARY KEY (originator_id, originator_version))"
    )
    connection.execute("BEGIN")
    connection.executemany("INSERT INTO stored_events VALUES (?,?,?,?)", rows)
    connection.execute("COMMIT")
    connection.close()
    seconds = time.perf_counter() - started
    return {
        "seconds": round(seconds, 3),
        "rows": len(rows),
        "rows_per_s": round(len(rows) / seconds),
        "mean_row_bytes": round(sum(len(r[3]) for r in rows) / max(1, len(rows))),
        "peak_rss_mb": _maxrss_mb(),
    }


def phase_query(args: dict[str, Any]) -> dict[str, Any]:
    """Open the store (timed apart), then time the queries `stance`, `compare` and `proposals`
    run: ``stance_rows(as_of)`` (its first call, then the median of repeats),
    ``compare_rows(as_of)`` and ``proposal_rows(as_of)``, each answered by SQL on the step
    tables of the store's views."""
    from positions.application import PositionsApplication

    as_of = date.fromisoformat(args["as_of"])
    runs = int(args.get("runs", 5))
    started = time.perf_counter()
    app = PositionsApplication.open(args["store"])
    negotiation = app.resolve_negotiation(None)
    opened = time.perf_counter()
    profiler = _profiler(args.get("profile"))

    def median_ms(call: Any) -> float | None:
        times = []
        for _ in range(runs):
            again = time.perf_counter()
            call()
            times.append(time.perf_counter() - again)
        return round(statistics.median(times) * 1000, 2) if times else None

    try:
        tables_started = time.perf_counter()
        with app.get_tables(negotiation) as q:
            tables = time.perf_counter() - tables_started
            if profiler:
                profiler.start()
            first_started = time.perf_counter()
            stance = q.stance_rows(as_of)
            first = time.perf_counter() - first_started
            if profiler:
                profiler.stop()
            stance_ms = median_ms(lambda: q.stance_rows(as_of))
            compare = q.compare_rows(as_of)
            compare_ms = median_ms(lambda: q.compare_rows(as_of))
            proposals = q.proposal_rows(as_of)
            proposals_ms = median_ms(lambda: q.proposal_rows(as_of))
    finally:
        app.close()
    return {
        "open_ms": round((opened - started) * 1000, 1),
        "tables_ms": round(tables * 1000, 1),
        "stance_first_ms": round(first * 1000, 2),
        "stance_ms": stance_ms,
        "stance_rows": len(stance),
        "stance_positions": sum(1 for row in stance if row.get("position") is not None),
        "compare_ms": compare_ms,
        "compare_rows": len(compare),
        "proposals_ms": proposals_ms,
        "proposal_rows": len(proposals),
        "runs": runs,
        "as_of": args["as_of"],
        "peak_rss_mb": _maxrss_mb(),
        "hotspots": _finish_profile(profiler, args.get("profile")),
    }


def phase_rebuild(args: dict[str, Any]) -> dict[str, Any]:
    """Rebuild the materialized views from the events, as `positions rebuild` does."""
    from positions.application import PositionsApplication

    app = PositionsApplication.open(args["store"])
    try:
        started = time.perf_counter()
        events = app.rebuild()
        seconds = time.perf_counter() - started
        rows = len(app.views.statements()) if app.views is not None else 0
    finally:
        app.close()
    return {
        "seconds": round(seconds, 3),
        "events": events,
        "statement_rows": rows,
        "events_per_s": round(events / seconds) if seconds else None,
        "peak_rss_mb": _maxrss_mb(),
    }


def phase_rebuild_floor(args: dict[str, Any]) -> dict[str, Any]:
    """The rebuild's I/O alone: read every row of the store's log (plain tuples) and write the
    statement rows its views hold into a table of the same shape in a fresh file, one
    transaction, nothing decoded or folded. The rows to write are read first, untimed."""
    from positions.views.store import _DDL

    source = sqlite3.connect(args["store"].removeprefix("sqlite:///"))
    rows = source.execute("SELECT * FROM positions_view_statements").fetchall()
    table = next(s for s in _DDL if "positions_view_statements" in s).format(p="")
    path = Path(args["db"])
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    started = time.perf_counter()
    log = source.execute(
        "SELECT rowid, originator_id, originator_version, topic, state FROM stored_events "
        "ORDER BY rowid"
    ).fetchall()
    target = sqlite3.connect(path, isolation_level=None)
    target.execute("PRAGMA journal_mode=WAL")
    target.execute(table)
    target.execute("BEGIN")
    marks = ", ".join("?" for _ in rows[0]) if rows else ""
    if rows:
        target.executemany(f"INSERT INTO positions_view_statements VALUES ({marks})", rows)
    target.execute("COMMIT")
    target.close()
    seconds = time.perf_counter() - started
    source.close()
    return {
        "seconds": round(seconds, 3),
        "events": len(log),
        "statement_rows": len(rows),
        "events_per_s": round(len(log) / seconds) if seconds else None,
        "peak_rss_mb": _maxrss_mb(),
    }


def phase_duckdb(args: dict[str, Any]) -> dict[str, Any]:
    """DuckDB's latest-per-key query over the same statements, in memory: each party's latest
    own position per issue by date (then file order). It applies no clarification, retraction
    or correction: it is the floor a columnar engine sets for the same lookup."""
    try:
        import duckdb
    except ImportError:
        return {"not_measured": "duckdb is not installed (pip install -e '.[bench]')"}
    import polars as pl

    party_of, statements = _statement_rows(args["files"])
    frame = pl.DataFrame(
        {
            "party": [party_of[s["by"]] for s in statements],
            "issue": [s.get("issue") for s in statements],
            "day": [date.fromisoformat(s["on"].removeprefix("before ")) for s in statements],
            "seq": list(range(len(statements))),
            "position": [s.get("position") for s in statements],
            "about": [s.get("about") for s in statements],
        },
        schema={
            "party": pl.String,
            "issue": pl.String,
            "day": pl.Date,
            "seq": pl.Int64,
            "position": pl.String,
            "about": pl.String,
        },
    )
    with tempfile.TemporaryDirectory() as tmp:
        parquet = Path(tmp) / "statements.parquet"
        frame.write_parquet(parquet)
        del frame
        started = time.perf_counter()
        con = duckdb.connect(":memory:")
        con.execute(f"CREATE TABLE statements AS SELECT * FROM read_parquet('{parquet}')")
        loaded = time.perf_counter() - started
    query = (
        "SELECT party, issue, arg_max(position, struct_pack(day, seq)) AS position "
        "FROM statements WHERE day <= ? AND position IS NOT NULL AND about IS NULL "
        "AND issue IS NOT NULL GROUP BY party, issue"
    )
    as_of = date.fromisoformat(args["as_of"])
    rows = con.execute(query, [as_of]).fetchall()
    times = []
    for _ in range(args.get("runs", 5)):
        again = time.perf_counter()
        con.execute(query, [as_of]).fetchall()
        times.append(time.perf_counter() - again)
    return {
        "load_ms": round(loaded * 1000, 1),
        "query_ms": round(statistics.median(times) * 1000, 2),
        "rows": len(rows),
        "duckdb": duckdb.__version__,
        "peak_rss_mb": _maxrss_mb(),
    }


PHASES = {
    "import": phase_import,
    "read_floor": phase_read_floor,
    "raw": phase_raw,
    "query": phase_query,
    "rebuild": phase_rebuild,
    "rebuild_floor": phase_rebuild_floor,
    "duckdb": phase_duckdb,
}


def hotspots(session: Any, limit: int = 12) -> dict[str, list[dict[str, Any]]]:
    """Where a pyinstrument session spent its time: the functions with the largest self time
    (their own code; with the share of everything they call, counted once per stack), and self
    time summed by module."""
    total = session.duration or 1e-9
    own: dict[str, float] = {}
    inclusive: dict[str, float] = {}
    modules: dict[str, float] = {}
    prefix = str(ROOT) + "/"

    def name(frame: Any) -> tuple[str, str]:
        where = (frame.file_path_short or frame.file_path or "?").replace(prefix, "")
        return f"{frame.function} ({where}:{frame.line_no})", where

    def walk(frame: Any, stack: frozenset[str]) -> None:
        key, where = name(frame)
        self_time = frame.time
        for child in frame.children:
            if child.is_synthetic:  # pyinstrument's "[self]" and "[await]" leaves
                continue
            self_time -= child.time
        own[key] = own.get(key, 0.0) + self_time
        modules[where] = modules.get(where, 0.0) + self_time
        if key not in stack:
            inclusive[key] = inclusive.get(key, 0.0) + frame.time
        for child in frame.children:
            if not child.is_synthetic:
                walk(child, stack | {key})

    root = session.root_frame()
    if root is not None:
        walk(root, frozenset())
    functions = [
        {
            "function": key,
            "self_share": round(value / total, 3),
            "total_share": round(inclusive.get(key, 0.0) / total, 3),
        }
        for key, value in sorted(own.items(), key=lambda kv: -kv[1])[:limit]
    ]
    by_module = [
        {"module": key, "self_share": round(value / total, 3)}
        for key, value in sorted(modules.items(), key=lambda kv: -kv[1])[:limit]
    ]
    return {"functions": functions, "modules": by_module}


def _child_main(name: str, raw: str) -> int:
    result = PHASES[name](json.loads(raw))
    print(json.dumps(result))
    return 0


# ---------------------------------------------------------------------------------------------
# The parent: runs the phases with time limits, collects, writes results and the document.


def _rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        pass
    return 0.0


MEMORY_LIMIT_MB = 14 * 1024
"""A phase whose resident memory passes this is stopped: other work shares the machine."""


def _child_env() -> dict[str, str]:
    """Children import ``positions`` from this tree (not from wherever the virtualenv's
    editable install points), so that a run from a clean worktree measures that commit, and
    write the bytecode of what they import."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    # as a user's Python does, children keep the modules they compile (a shell that sets
    # PYTHONDONTWRITEBYTECODE would make every cold command compile the package again)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def run_phase(
    name: str, args: dict[str, Any], timeout: float, memory_mb: float = MEMORY_LIMIT_MB
) -> dict[str, Any]:
    """Run a phase in a child process; a failure, a timeout or too much memory is recorded,
    never raised."""
    command = [sys.executable, "-m", "benchmarks.run", "--phase", name, json.dumps(args)]
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        child = subprocess.Popen(
            command, cwd=ROOT, stdout=out, stderr=err, text=True, env=_child_env()
        )
        stopped = None
        while child.poll() is None:
            if time.perf_counter() - started > timeout:
                stopped = f"took longer than {timeout:.0f} s"
            elif _rss_mb(child.pid) > memory_mb:
                stopped = f"used more than {memory_mb:,.0f} MB of memory"
            if stopped:
                child.kill()
                child.wait()
                return {"not_measured": stopped}
            time.sleep(min(0.05, timeout / 10))
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if child.returncode != 0:
        tail = (stderr.strip().splitlines() or ["no output"])[-1]
        return {"not_measured": f"failed (exit {child.returncode}): {tail[:300]}"}
    result: dict[str, Any] = json.loads(stdout.strip().splitlines()[-1])
    result["wall_s"] = round(time.perf_counter() - started, 2)
    return result


def _measured(result: dict[str, Any] | None) -> bool:
    return bool(result) and "not_measured" not in (result or {})


SEED_AS_OF, SEED_PARTY, SEED_ISSUE = "2025-03-13", "russia", "ceasefire"
"""The date, party and issue the seed store's commands ask about (the seed article's day)."""

HWM_HOOK = '''"""Written by benchmarks/run.py: at exit, write this process's VmHWM (kB)."""
import atexit
import os

_OUT = os.environ.get("POSITIONS_BENCH_HWM")


def _report_peak():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                with open(_OUT, "w") as out:
                    out.write(line.split()[1])
                return


if _OUT:
    atexit.register(_report_peak)
'''
"""A ``sitecustomize`` put on the commands' ``PYTHONPATH``: each command reports the peak
resident memory of its own process when it exits. ``ru_maxrss`` of a child would keep the
harness's resident size from the fork before the exec, and the last ``VmHWM`` read by polling
misses whatever the command does after it."""

CLI_BUDGET_S = 60.0
"""A command that has taken this long in all is not run again (its median is of fewer runs)."""


def _seed_store(work: Path, timeout: float) -> str | dict[str, Any]:
    """The seed scenario imported into a fresh store: its URL, or why not."""
    store = work / "seed.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{store}{suffix}").unlink(missing_ok=True)
    positions = Path(sys.executable).parent / "positions"
    url = f"sqlite:///{store}"
    try:
        subprocess.run(
            [str(positions), "--store", url, "import", str(SEED)],
            env=_child_env(),
            check=True,
            capture_output=True,
            timeout=timeout,
        )
    except (subprocess.SubprocessError, OSError) as exc:
        return {"not_measured": f"could not import the seed: {exc}"}
    return url


SEARCHED = {SEED_ISSUE: "ceasefire"}
"""The words `search` looks for: on the seed, a word of three quotes; on a generated store,
one quote's word and an issue's number (one statement in about a hundred)."""


KNOWN_AT = "2100-01-01T00:00:00+00:00"
"""The recording time `stance --known-at` is asked as of: after every import, so that it reads
the rows in force now, as every past recording time is read (their recording intervals)."""


def cli_commands(as_of: str, party: str, issue: str, files: bool) -> dict[str, list[str]]:
    """The commands measured on a store, as a user types them after ``positions --store URL``;
    ``files``: also the ones that build the whole `Analysis` and write a file (``{out}`` is
    replaced by a file in a temporary folder)."""
    commands = {
        "stance": ["stance", "--as-of", as_of],
        "compare": ["compare", "--as-of", as_of],
        "proposals": ["proposals", "--as-of", as_of],
        "history": ["history", "--party", party, "--issue", issue],
        "search": ["history", "--search", SEARCHED.get(issue, "premature " + issue[-2:])],
        "stance_known": ["stance", "--as-of", as_of, "--known-at", KNOWN_AT],
    }
    if files:
        commands["report"] = ["report", "--out", "{out}/report.html"]
        commands["timeline"] = ["timeline", "--issue", issue, "--out", "{out}/timeline.svg"]
    return commands


class _Command:
    """One command run again and again as a fresh process: its wall times and peak memory."""

    def __init__(self, url: str, words: list[str], timeout: float, hook: Path, tmp: str) -> None:
        positions = Path(sys.executable).parent / "positions"
        self.argv = [str(positions), "--store", url, *(w.replace("{out}", tmp) for w in words)]
        self.words = words
        self.timeout = timeout
        self.tmp = Path(tmp)
        self.env = _child_env()
        self.env["PYTHONPATH"] = os.pathsep.join([str(hook), self.env["PYTHONPATH"]])
        self.times: list[float] = []
        self.peaks: list[float] = []
        self.failed: str | None = None

    def once(self) -> None:
        peak = self.tmp / f"hwm-{len(self.times)}"
        self.env["POSITIONS_BENCH_HWM"] = str(peak)
        started = time.perf_counter()
        try:
            done = subprocess.run(
                self.argv,
                cwd=self.tmp,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                timeout=self.timeout,
            )
        except subprocess.TimeoutExpired:
            self.failed = f"took longer than {self.timeout:.0f} s"
            return
        elapsed = time.perf_counter() - started
        if done.returncode != 0:
            tail = (done.stderr.decode(errors="replace").strip().splitlines() or ["-"])[-1]
            self.failed = f"failed (exit {done.returncode}): {tail[:300]}"
            return
        self.times.append(elapsed)
        with contextlib.suppress(OSError, ValueError):
            self.peaks.append(int(peak.read_text()) / 1024)

    def done(self, total: int) -> bool:
        return self.failed is not None or len(self.times) >= total or sum(self.times) > CLI_BUDGET_S

    def result(self) -> dict[str, Any]:
        if self.failed is not None:
            return {"not_measured": self.failed}
        timed = self.times[1:] if len(self.times) > 1 else self.times
        return {
            "median_ms": round(statistics.median(timed) * 1000, 1),
            "first_ms": round(self.times[0] * 1000, 1),
            "runs": len(timed),
            "peak_rss_mb": round(max(self.peaks), 1) if self.peaks else None,
            "command": " ".join(["positions", *(w.replace("{out}/", "") for w in self.words)]),
        }


def run_commands(
    commands: dict[str, tuple[str, list[str]]], runs: int, timeout: float, hook: Path
) -> dict[str, dict[str, Any]]:
    """Run each ``positions --store URL WORDS`` of ``commands`` as a fresh process ``runs``
    times (after one run that warms the file cache, when ``runs`` > 1), one run of each in
    turn, so that a change in the machine's load falls on all of them alike; output to
    /dev/null. For each: the median and first wall times and the peak resident memory of the
    command's own process. A run longer than ``timeout`` is stopped and the command recorded
    as not measured; a command whose runs have taken `CLI_BUDGET_S` in all is not run again."""
    total = runs + 1 if runs > 1 else runs
    with contextlib.ExitStack() as stack:
        running = {
            name: _Command(
                url, words, timeout, hook, stack.enter_context(tempfile.TemporaryDirectory())
            )
            for name, (url, words) in commands.items()
        }
        while not all(command.done(total) for command in running.values()):
            for command in running.values():
                if not command.done(total):
                    command.once()
        return {name: command.result() for name, command in running.items()}


def run_command(
    url: str, words: list[str], runs: int, timeout: float, hook: Path
) -> dict[str, Any]:
    """One command measured as `run_commands` does."""
    return run_commands({"command": (url, words)}, runs, timeout, hook)["command"]


def cli_phase(
    store: str,
    commands: dict[str, list[str]],
    seed: str | None,
    seed_commands: dict[str, list[str]],
    runs: int,
    timeout: float,
    work: Path,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Every command of ``commands`` on ``store``, each beside the same command of
    ``seed_commands`` on the ``seed`` store, their runs taken in turn (see `run_commands`)."""
    hook = _hook(work)
    found: dict[str, Any] = {}
    baseline: dict[str, Any] = {}
    for name, words in commands.items():
        shown = " ".join(w.replace("{out}/", "") for w in words)
        print(f"[bench]   positions {shown}", file=sys.stderr, flush=True)
        pair = {"store": (store, words)}
        if seed is not None and name in seed_commands:
            pair["seed"] = (seed, seed_commands[name])
        measured = run_commands(pair, runs, timeout, hook)
        found[name] = measured["store"]
        if "seed" in measured:
            baseline[name] = measured["seed"]
    return found, baseline


def _hook(work: Path) -> Path:
    """The folder of the ``sitecustomize`` that records a command's peak memory."""
    hook = work / "hwm-hook"
    hook.mkdir(parents=True, exist_ok=True)
    (hook / "sitecustomize.py").write_text(HWM_HOOK)
    return hook


def cold_start(url: str, runs: int, timeout: float) -> dict[str, Any]:
    """Median wall time of ``positions compare`` on the seed store, and of ``python -c pass``."""
    positions = Path(sys.executable).parent / "positions"

    def median_ms(command: list[str]) -> float:
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            subprocess.run(
                command, check=True, capture_output=True, timeout=timeout, env=_child_env()
            )
            times.append(time.perf_counter() - started)
        return round(statistics.median(times) * 1000, 1)

    median_ms([str(positions), "--store", url, "compare"])  # warm the file cache once
    compare = median_ms([str(positions), "--store", url, "compare"])
    python = median_ms([sys.executable, "-c", "pass"])
    libraries = median_ms([sys.executable, "-c", LIBRARIES])
    return {"compare_ms": compare, "python_ms": python, "libraries_ms": libraries, "runs": runs}


LIBRARIES = (
    "import pydantic.main, pydantic.types, eventsourcing.application, eventsourcing.sqlite, "
    "click, rich.console, rich.table, orjson"
)
"""The third-party modules ``positions compare`` loads, imported and nothing else: the floor
under the cold start that the project's own code cannot go below."""


def machine() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory_gb = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_gb = round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": memory_gb,
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "system": f"{platform.system()} {platform.release()}",
    }


def _git(*args: str) -> str | None:
    try:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
    except OSError:
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def _tree() -> dict[str, Any]:
    """The commit measured, and whether the code under measurement differed from it."""
    changed = _git("status", "--porcelain", "--", "positions")
    return {
        "commit": _git("rev-parse", "--short", "HEAD"),
        "positions_modified": bool(changed),
    }


def _as_of(generated: dict[str, Any]) -> str:
    """The day three quarters into the generated record: most statements count, some do not."""
    first = date(1900, 1, 1)
    last = date.fromisoformat(generated["last_day"])
    return date.fromordinal(first.toordinal() + (last - first).days * 3 // 4).isoformat()


def _postgres_available() -> str | None:
    try:
        import psycopg

        with psycopg.connect(
            "host=127.0.0.1 port=5432 user=postgres dbname=test", connect_timeout=5
        ):
            return None
    except Exception as exc:
        return f"PostgreSQL not reachable at 127.0.0.1:5432: {str(exc).strip().splitlines()[0]}"


def _drop_schema(schema: str) -> None:
    import psycopg

    with psycopg.connect(
        "host=127.0.0.1 port=5432 user=postgres dbname=test", autocommit=True, connect_timeout=5
    ) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def measure(options: argparse.Namespace) -> dict[str, Any]:
    from benchmarks.generate import generate

    work = Path(options.work)
    work.mkdir(parents=True, exist_ok=True)
    timeout = options.timeout
    results: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        **_tree(),
        "machine": machine(),
        "timeout_s": timeout,
        "cli_runs": options.cli_runs,
        "sizes": {},
    }
    seed: str | dict[str, Any] = {"not_measured": "skipped (--cli-runs 0 and --cold-runs 0)"}
    if options.cli_runs or options.cold_runs:
        print("[bench] seed store", file=sys.stderr, flush=True)
        seed = _seed_store(work, timeout)
    stored_bytes = 0  # the stored events' mean size, for a size whose import was not measured
    for label in options.sizes:
        size = SIZES.get(label) or int(label)
        print(f"[bench] {label}: generating {size} statements", file=sys.stderr, flush=True)
        folder = work / f"gen-{size}"
        generated = generate(size, folder, per_file=options.per_file).to_json()
        files = generated["files"]
        as_of = _as_of(generated)
        store = work / f"store-{size}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{store}{suffix}").unlink(missing_ok=True)
        entry: dict[str, Any] = {"generated": {k: v for k, v in generated.items() if k != "files"}}
        entry["generated"]["files"] = len(files)
        entry["generated"]["seconds"] = round(generated["seconds"], 2)
        results["sizes"][str(size)] = entry
        print(f"[bench] {label}: import into SQLite", file=sys.stderr, flush=True)
        entry["import_sqlite"] = run_phase(
            "import", {"store": f"sqlite:///{store}", "files": files}, timeout
        )
        print(f"[bench] {label}: raw executemany", file=sys.stderr, flush=True)
        entry["read_floor"] = run_phase("read_floor", {"files": files}, timeout)
        pad = entry["import_sqlite"].get("mean_state_bytes") or stored_bytes
        stored_bytes = pad
        entry["raw_sqlite"] = run_phase(
            "raw", {"files": files, "db": str(work / "raw.db"), "pad_to": pad}, timeout
        )
        if _measured(entry["import_sqlite"]):
            print(f"[bench] {label}: queries on SQLite", file=sys.stderr, flush=True)
            entry["query_sqlite"] = run_phase(
                "query",
                {"store": f"sqlite:///{store}", "as_of": as_of, "runs": options.runs},
                timeout,
            )
            if options.cli_runs:
                print(f"[bench] {label}: commands", file=sys.stderr, flush=True)
                files_too = size <= FILE_COMMANDS_UP_TO
                chosen = cli_commands(
                    as_of, generated["parties"][0], generated["issues"][0], files_too
                )
                if options.commands:
                    chosen = {k: v for k, v in chosen.items() if k in options.commands}
                entry["cli"], entry["cli_seed"] = cli_phase(
                    f"sqlite:///{store}",
                    chosen,
                    None if isinstance(seed, dict) else seed,
                    cli_commands(SEED_AS_OF, SEED_PARTY, SEED_ISSUE, files_too),
                    options.cli_runs,
                    timeout,
                    work,
                )
                if isinstance(seed, dict):
                    entry["cli_seed"] = seed
            print(f"[bench] {label}: rebuild the views", file=sys.stderr, flush=True)
            entry["rebuild_sqlite"] = run_phase("rebuild", {"store": f"sqlite:///{store}"}, timeout)
            entry["rebuild_floor"] = run_phase(
                "rebuild_floor",
                {"store": f"sqlite:///{store}", "db": str(work / "floor.db")},
                timeout,
            )
            print(f"[bench] {label}: append to the store", file=sys.stderr, flush=True)
            entry.update(_append(files, store, size, work, timeout))
        else:
            entry["query_sqlite"] = {"not_measured": "the import was not measured"}
            entry["rebuild_sqlite"] = {"not_measured": "the import was not measured"}
            entry["rebuild_floor"] = {"not_measured": "the import was not measured"}
            if options.cli_runs:
                entry["cli"] = {"not_measured": "the import was not measured"}
        print(f"[bench] {label}: DuckDB", file=sys.stderr, flush=True)
        entry["duckdb"] = run_phase(
            "duckdb", {"files": files, "as_of": as_of, "runs": options.runs}, timeout
        )
        if label == options.postgres or str(size) == options.postgres:
            entry["postgres"] = _postgres(files, as_of, options)
        if label == options.profile or str(size) == options.profile:
            entry["profile"] = _profile(files, as_of, work, size, options)
        for path in files:
            Path(path).unlink(missing_ok=True)
        if not options.keep:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{store}{suffix}").unlink(missing_ok=True)
                Path(f"{work / 'raw.db'}{suffix}").unlink(missing_ok=True)
                Path(f"{work / 'floor.db'}{suffix}").unlink(missing_ok=True)
        _write(results, options)  # partial results survive an interrupted run
    if options.cold_runs:
        print("[bench] cold start", file=sys.stderr, flush=True)
        results["cold_start"] = (
            seed if isinstance(seed, dict) else cold_start(seed, options.cold_runs, timeout)
        )
    else:
        results["cold_start"] = {"not_measured": "skipped (--cold-runs 0)"}
    _write(results, options)
    return results


FILE_COMMANDS_UP_TO = 100_000
"""`report` and `timeline`, which build the whole `Analysis`, run on stores up to this size."""

APPEND = 1_000
"""Statements appended to each size's store (a tenth of a smaller store)."""


def _append(files: list[str], store: Path, size: int, work: Path, timeout: float) -> dict[str, Any]:
    """Import a file of new statements into the size's store (after its other phases), and the
    same file into an empty store: what appending costs beside what the file itself costs."""
    from benchmarks.generate import appendix

    count = min(APPEND, max(1, size // 10))
    path = appendix(files, work / "append.json", count)
    fresh = work / "append-fresh.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{fresh}{suffix}").unlink(missing_ok=True)
    copy = work / "append-cli.db"
    for suffix in ("", "-wal", "-shm"):
        if Path(f"{store}{suffix}").exists():
            shutil.copyfile(f"{store}{suffix}", f"{copy}{suffix}")
            with open(f"{copy}{suffix}", "rb+") as copied:  # on the disk before it is timed:
                os.fsync(copied.fileno())  # else the import's commit flushes the whole copy
    hook = _hook(work)
    found = {
        "append_cli": run_command(f"sqlite:///{copy}", ["import", str(path)], 1, timeout, hook),
        "append_sqlite": run_phase(
            "import", {"store": f"sqlite:///{store}", "files": [path]}, timeout
        ),
        "append_fresh": run_phase(
            "import", {"store": f"sqlite:///{fresh}", "files": [path]}, timeout
        ),
    }
    for suffix in ("", "-wal", "-shm"):
        Path(f"{fresh}{suffix}").unlink(missing_ok=True)
        Path(f"{copy}{suffix}").unlink(missing_ok=True)
    Path(path).unlink(missing_ok=True)
    return found


def _postgres(files: list[str], as_of: str, options: argparse.Namespace) -> dict[str, Any]:
    problem = _postgres_available()
    if problem:
        return {"not_measured": problem}
    schema = f"bench_{os.getpid()}_{int(time.time())}"
    url = f"{POSTGRES_URL}?schema={schema}"
    print(f"[bench] PostgreSQL import and queries (schema {schema})", file=sys.stderr, flush=True)
    try:
        limit = options.postgres_timeout or options.timeout
        imported = run_phase("import", {"store": url, "files": files}, limit)
        queried = (
            run_phase("query", {"store": url, "as_of": as_of, "runs": options.runs}, limit)
            if _measured(imported)
            else {"not_measured": "the import was not measured"}
        )
    finally:
        _drop_schema(schema)
    return {"import": imported, "query": queried}


def _profile(
    files: list[str], as_of: str, work: Path, size: int, options: argparse.Namespace
) -> dict[str, Any]:
    """Import and stance again under pyinstrument; the full reports go beside the results."""
    try:
        import pyinstrument  # noqa: F401
    except ImportError:
        return {"not_measured": "pyinstrument is not installed (pip install -e '.[bench]')"}
    store = work / f"profile-{size}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{store}{suffix}").unlink(missing_ok=True)
    out = Path(options.out).parent
    out.mkdir(parents=True, exist_ok=True)
    print(f"[bench] profiling import and stance at {size}", file=sys.stderr, flush=True)
    imported = run_phase(
        "import",
        {"store": f"sqlite:///{store}", "files": files, "profile": str(out / "profile-import.txt")},
        options.timeout,
    )
    queried = (
        run_phase(
            "query",
            {
                "store": f"sqlite:///{store}",
                "as_of": as_of,
                "runs": 0,
                "profile": str(out / "profile-stance.txt"),
            },
            options.timeout,
        )
        if _measured(imported)
        else {"not_measured": "the import was not measured"}
    )
    for suffix in ("", "-wal", "-shm"):
        Path(f"{store}{suffix}").unlink(missing_ok=True)
    return {
        "size": size,
        "import": imported.get("hotspots") or imported,
        "stance": queried.get("hotspots") or queried,
    }


def _write(results: dict[str, Any], options: argparse.Namespace) -> None:
    out = Path(options.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1) + "\n")
    if options.doc:
        from benchmarks.report import render

        Path(options.doc).write_text(render(results))


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.run", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--sizes", default="10k,100k,1M", help="comma-separated: 10k, 100k, 1M or a number"
    )
    parser.add_argument("--work", default=str(Path(tempfile.gettempdir()) / "positions-bench"))
    parser.add_argument("--out", default=str(RESULTS))
    parser.add_argument(
        "--doc", default=str(DOC), help="the Markdown page to regenerate ('' for none)"
    )
    parser.add_argument("--timeout", type=float, default=600, help="seconds allowed for one phase")
    parser.add_argument(
        "--postgres-timeout", type=float, default=0, help="seconds for a PostgreSQL phase"
    )
    parser.add_argument("--runs", type=int, default=5, help="repeats of each timed query")
    parser.add_argument("--cold-runs", type=int, default=7)
    parser.add_argument(
        "--cli-runs",
        type=int,
        default=5,
        help="timed runs of each command as a fresh process, after one that warms the cache "
        "(0: none)",
    )
    parser.add_argument("--per-file", type=int, default=50_000, help="statements per scenario file")
    parser.add_argument(
        "--postgres", default="100k", help="the size also measured on PostgreSQL ('' for none)"
    )
    parser.add_argument(
        "--profile", default="100k", help="the size profiled with pyinstrument ('' for none)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the stores in --work")
    parser.add_argument(
        "--commands",
        default="",
        help="comma-separated: only these of the measured commands (stance, compare, "
        "proposals, history, search, stance_known, report, timeline); default all",
    )
    options = parser.parse_args(argv)
    options.sizes = [s.strip() for s in options.sizes.split(",") if s.strip()]
    options.commands = {c.strip() for c in options.commands.split(",") if c.strip()}
    return options


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--phase"]:
        return _child_main(argv[1], argv[2])
    options = parse(argv)
    results = measure(options)
    print(json.dumps({k: v for k, v in results.items() if k != "sizes"}, indent=1))
    print(f"[bench] wrote {options.out}" + (f" and {options.doc}" if options.doc else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
