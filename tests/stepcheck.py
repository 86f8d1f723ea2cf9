"""The step tables checked against the rules read literally: a store made from random
statements, imports and corrections at known recording times (`record`), and the checks that
its SQL answers equal the in-memory timeline over the replayed streams at every as-of day and
recording time (`check_against_the_rules`), and that its step tables equal a rebuild."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

from hypothesis import strategies as st

from positions.application import PositionsApplication
from positions.chart import timeline_data
from positions.codebook import Amendment, Correction
from positions.errors import PositionsError
from positions.projections import Analysis
from positions.queries.stance import StepQueries
from positions.scenario import parse_scenario
from positions.search import Search
from positions.steps import OWN
from positions.views.tables import TABLES
from tests.strategies import ISSUES, START, backfill_order, codebook, statements

T0 = datetime(2026, 1, 1, 9, tzinfo=UTC)
DAYS = [None, *(START + timedelta(days=n) for n in (-1, 0, 2, 3, 5, 8, 12, 14))]
"""As-of days: before the first statement, the strategies' busiest days, after the last."""
WHOLE_DAYS = (None, START + timedelta(days=5))


def scenario_of(data: dict[str, Any], name: str) -> Any:
    return parse_scenario(json.dumps(data, default=str), name)


def record(
    url: str,
    stmts: list[dict[str, Any]],
    order: Any,
    cuts: list[int],
    fixes: list[tuple[int, int, int]],
) -> tuple[PositionsApplication, list[datetime]]:
    """A store with ``stmts`` imported in parts (in a backfilling order), each part an hour
    after the last, then corrections and amendments an hour apart; the recording times, in
    order."""
    app = PositionsApplication.open(url, create=True)
    ready = backfill_order(stmts, order)
    bounds = sorted({0, len(ready), *(c % (len(ready) + 1) for c in cuts)})
    times: list[datetime] = []
    for n, (a, b) in enumerate(itertools.pairwise(bounds)):
        data: dict[str, Any] = {"negotiation": "generated", "statements": ready[a:b]}
        if n == 0:
            data = {**codebook(), **data}
        now = T0 + timedelta(hours=len(times))
        app.import_scenarios([scenario_of(data, f"part-{n}.json")], now=now)
        times.append(now)
    coded = [s for s in stmts if s.get("issue")]
    for which, what, to in fixes:
        if not coded:
            break
        target = coded[which % len(coded)]
        now = T0 + timedelta(hours=len(times))
        if what >= 3:  # an amendment: new words for the search, a source, a note
            text = {"quote": f"Amended water talks {to}"} if what == 3 else {"notes": "fire"}
            try:
                app.amend(
                    "generated",
                    Amendment(
                        statement=target["id"],
                        reason=f"r{len(times)}",
                        add_sources=[f"https://example.org/{to}"],
                        **text,
                    ),
                    now=now,
                )
            except PositionsError:
                continue  # the same amendment twice
            times.append(now)
            continue
        if what == 0:
            labels = [*ISSUES[target["issue"]], "noncommittal"]
            change: dict[str, Any] = {"position": labels[to % len(labels)]}
        elif what == 1:
            change = {"on": START + timedelta(days=to % 14)}
        else:
            change = {"issue": sorted(ISSUES)[to % 2], "position": "noncommittal"}
        try:
            app.correct(
                "generated",
                Correction(statement=target["id"], reason=f"r{len(times)}", **change),
                now=now,
            )
        except PositionsError:
            continue  # a correction the planner refuses (a date before its target's, say)
        times.append(now)
    return app, times


def answers(query: Any, as_of: date | None, whole: bool = False) -> dict[str, Any]:
    frames = {
        "stance": query.stance_rows(as_of, claims=True),
        "compare": query.compare_rows(as_of),
        "proposals": query.proposals(as_of).to_dicts(),
        "proposals with claims": query.proposals(as_of, claims=True).to_dicts(),
        "history": query.history(as_of=as_of).to_dicts(),
        "span": [query.span(sorted(ISSUES), as_of), query.span(["water"], as_of)],
    }
    if whole:  # the filters, at the recording time of now
        frames["compare of beta"] = query.compare_rows(as_of, "beta")
        frames["compare on border"] = query.compare_rows(as_of, None, "border")
        frames["proposals of alpha on water"] = query.proposals(as_of, "alpha", "water").to_dicts()
        frames["history from day 3 to 8"] = query.history(
            as_of=as_of, since=START + timedelta(days=3), until=START + timedelta(days=8)
        ).to_dicts()
        frames["latest 2 of beta from day 2"] = query.history(
            "beta", None, as_of, latest=2, since=START + timedelta(days=2)
        ).to_dicts()
        frames["border until day 5"] = query.history(
            None, "border", as_of, until=START + timedelta(days=5)
        ).to_dicts()
        frames["by beta's envoy"] = query.history(as_of=as_of, speaker="beta-envoy").to_dicts()
        for text in ("water", "strasse talks", "fire"):
            frames[f"search {text}"] = query.history(
                as_of=as_of, search=Search.parse(text)
            ).to_dicts()
        frames["search of beta on water, ceasefire"] = query.history(
            "beta", "water", as_of, search=Search.parse("Ceasefire")
        ).to_dicts()
        frames["search by alpha's envoy, latest 2"] = query.history(
            as_of=as_of, latest=2, speaker="alpha-envoy", search=Search.parse("tallinn")
        ).to_dicts()
        frames["digest searched"] = query.digest_rows(
            START + timedelta(days=2), START + timedelta(days=9), Search.parse("water")
        )
        frames["latest 2 of alpha by alpha's envoy on water"] = query.history(
            "alpha", "water", as_of, latest=2, speaker="alpha-envoy"
        ).to_dicts()
    for party, issue in (("alpha", "water"), ("beta", None), (None, "border")):
        frames[f"history {party} {issue}"] = query.history(party, issue, as_of).to_dicts()
    # at every recording time: a search finds only what was recorded by then
    frames["search tal*"] = query.history(as_of=as_of, search=Search.parse("tal*")).to_dicts()
    for party, issue, latest in (("beta", None, 3), (None, "border", 2), (None, None, 4)):
        frames[f"latest {latest} {party} {issue}"] = query.history(
            party, issue, as_of, latest=latest
        ).to_dicts()
    for party, issue in (("alpha", "water"), ("beta", "border")) if whole else ():
        frames[f"explain {party} {issue}"] = query.explain(party, issue, as_of).to_dicts()
    if whole:
        frames["gaps"] = [query.gaps(as_of).to_dicts(), query.gap_pairs(as_of).to_dicts()]
    if whole and as_of is not None:
        for start in (START, START + timedelta(days=3)):
            if start <= as_of:
                frames[f"diff {start}"] = query.diff(start, as_of).to_dicts()
    if whole and as_of in WHOLE_DAYS:  # the tables that list the record, less often
        frames["statements"] = query.statement_rows(as_of)
        frames["outlook"] = query.outlook(as_of).to_dicts()
        for issue in ISSUES:
            data = timeline_data(query, issue, as_of)
            frames[f"timeline {issue}"] = [
                data.steps.to_dicts(),
                data.points.to_dicts(),
                data.developments.to_dicts(),
            ]
    return frames


def positions_over_time(query: Any) -> dict[tuple[str, str, int], str | None]:
    """What `Tables.series` says is in force, for every party and issue on every day."""
    first = (START - timedelta(days=2)).toordinal()
    return {
        (issue, party, day): series.at(day)
        for issue in ISSUES
        for party, series in query.series(issue).items()
        for day in range(first, first + 40)
    }


def check_against_the_rules(
    app: PositionsApplication, times: list[datetime], listings: bool = True
) -> None:
    """The SQL answers equal the in-memory rules at every as-of day and recording time;
    ``listings``: also the tables that list the whole record (as it is now)."""
    assert app.views is not None
    app.catch_up()
    moments = [None, *(t + timedelta(minutes=30) for t in times), times[0]]
    for known_at in moments:
        oracle = Analysis(app.get_record_from_streams("generated", known_at))
        with StepQueries(app.views, "generated", known_at) as sql:
            whole = listings and known_at is None
            for day in DAYS:
                got, expected = answers(sql, day, whole), answers(oracle, day, whole)
                for frame in expected:  # one frame at a time, so that a failure names it
                    assert got[frame] == expected[frame], (frame, known_at, day)
                check_whole_tables_against_cells(sql, day or date.max)
            assert positions_over_time(sql) == positions_over_time(oracle), known_at


def check_whole_tables_against_cells(sql: StepQueries, day: date) -> None:
    """The intervals in force read for a whole table (`cells`) are those read cell by cell."""
    n = sql.negotiation
    for table, subjects in (("stances", n.issues), ("verdicts", n.proposals)):
        whole = {
            key[:2]: (c.source_id, c.tabling, c.value) for key, c in sql.cells(table, day).items()
        }
        one_by_one = {}
        for party in n.parties:
            for subject in subjects:
                c = sql.cell(table, party, subject, OWN, day)
                if c is not None:
                    one_by_one[(party, subject)] = (c.source_id, c.tabling, c.value)
        assert whole == one_by_one, (table, day)


def step_tables(app: PositionsApplication) -> dict[str, list[tuple[Any, ...]]]:
    assert app.views is not None
    found = {}
    with app.views.recorder.datastore.transaction(commit=False) as cursor:
        for table in TABLES:
            rows = app.views._tuples(
                cursor, app.views._sql(f"SELECT * FROM {{p}}positions_view_{table}"), []
            )
            found[table] = sorted(tuple(str(v) for v in row) for row in rows)
    return found


def check_against_a_rebuild(app: PositionsApplication) -> None:
    """The step tables as kept equal the step tables folded again from every event."""
    kept = step_tables(app)
    app.rebuild()
    assert step_tables(app) == kept


RECORDS = {
    "stmts": statements(),
    "order": st.randoms(use_true_random=False),
    "cuts": st.lists(st.integers(0, 40), max_size=3),
    "fixes": st.lists(
        st.tuples(st.integers(0, 30), st.integers(0, 4), st.integers(0, 20)), max_size=3
    ),
}
