"""The step tables against the rules read literally (`tests.stepcheck`), with R13's mean in
`history` read from the parties' whole intervals on an issue however few its rows
(`SERIES_ROWS` 0), as long histories read it: the other half of the random records of
``test_steps.py``, in a module of its own so that the two halves run in parallel."""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings

from tests.stepcheck import RECORDS, check_against_the_rules, record
from tests.stores import BACKENDS, any_store


@pytest.mark.parametrize("backend", BACKENDS)
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=6)
@given(**RECORDS)
def test_the_step_tables_answer_as_the_rules_read_literally_when_r13_reads_whole_intervals(
    backend: str,
    tmp_path_factory: pytest.TempPathFactory,
    stmts: list[dict[str, Any]],
    order: Any,
    cuts: list[int],
    fixes: list[tuple[int, int, int]],
) -> None:
    from positions.queries import stance

    with (
        any_store(backend, tmp_path_factory.mktemp("steps")) as url,
        mock.patch.object(stance, "SERIES_ROWS", 0),
    ):
        app, times = record(url, stmts, order, cuts, fixes)
        check_against_the_rules(app, times)
