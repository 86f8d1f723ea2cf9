"""R1's order keys: times of day order a day's statements as instants, and the keys' text
(the step table's ``sort_key``) orders as the keys do and reads back as them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from datetime import time as TimeOfDay

from hypothesis import given
from hypothesis import strategies as st

from positions.codebook import StatedOn, slot_of
from positions.steps import key_of_text, key_text

OFFSETS = st.sampled_from([None, -12 * 60, -5 * 60, 0, 90, 14 * 60])
"""UTC offsets in minutes (None: a time without one, taken as UTC)."""


@st.composite
def times(draw: st.DrawFn) -> TimeOfDay:
    clock = TimeOfDay(draw(st.integers(0, 23)), draw(st.integers(0, 59)), draw(st.integers(0, 59)))
    offset = draw(OFFSETS)
    if offset is None:
        return clock
    return clock.replace(tzinfo=timezone(timedelta(minutes=offset)))


def _instant(day: date, at: TimeOfDay) -> datetime:
    moment = datetime.combine(day, at)
    return moment if at.tzinfo is not None else moment.replace(tzinfo=UTC)


@given(one=times(), other=times())
def test_times_of_one_day_order_as_the_instants_they_name(one: TimeOfDay, other: TimeOfDay) -> None:
    day = date(2025, 12, 20)
    first, second = _instant(day, one), _instant(day, other)
    assert (slot_of(None, one) < slot_of(None, other)) == (first < second)
    assert (slot_of(None, one) == slot_of(None, other)) == (first == second)


@given(at=times())
def test_a_day_without_a_time_orders_after_a_before_date_and_before_every_time(
    at: TimeOfDay,
) -> None:
    assert slot_of(date(2025, 1, 2), None) < slot_of(None, None) < slot_of(None, at)


KEYS = st.tuples(
    st.integers(1, 10**7 - 1),
    st.one_of(st.sampled_from([0, 1]), times().map(lambda t: slot_of(None, t))),
    st.integers(-1, 9998),
    st.from_regex(r"[a-z0-9][a-z0-9_.-]{0,20}", fullmatch=True),
)


@given(one=KEYS, other=KEYS)
def test_a_key_as_text_orders_as_the_key_and_reads_back_as_it(
    one: tuple[int, int, int, str], other: tuple[int, int, int, str]
) -> None:
    assert key_of_text(key_text(one)) == one
    assert (key_text(one) < key_text(other)) == (one < other)


def test_a_stated_date_time_keeps_its_day_as_written_and_shows_as_it_is_stored() -> None:
    late = StatedOn.model_validate("2025-12-20T23:30-05:00")
    assert (late.day, str(late)) == (date(2025, 12, 20), "2025-12-20T23:30:00-05:00")
    assert str(StatedOn.model_validate("2025-12-20 18:00Z")) == "2025-12-20T18:00:00Z"
    assert StatedOn.model_validate(late.to_scenario()) == late
