"""A campaign's day in quarter hours (``dialer.store.day_chart``): the wallboard's chart of the
abandon rate over the trailing hour and the talk share, from the attempts and the agent time the
runners write."""

from __future__ import annotations

import datetime as dt

import pytest

from dialer.errors import NotFound, ValidationError
from dialer.model import Outcome
from dialer.store.day_chart import QUARTER_S, day_bounds, day_points
from dialer.store.store import Store
from tests.dialer.conftest import make_campaign, utc
from tests.dialer.history_fixtures import past_attempt


def test_the_trailing_hour_sums_the_quarter_and_the_three_before_it() -> None:
    answers = {9: (10, 1), 10: (10, 0), 12: (20, 2), 13: (0, 0), 17: (5, 5)}
    points = day_points(10, 17, answers, {11: (600.0, 150.0)})
    rates = [p.abandon_rate_1h for p in points]
    # 10: quarters 7..10 -> 1/20; 11: 8..11 -> 1/20; 12: 9..12 -> 3/40; 13: 10..13 -> 2/30;
    # 14: 11..14 -> 2/20; 15: 12..15 -> 2/20; 16: 13..16 -> nothing live; 17: 5/5
    assert [1 / 20, 1 / 20, 3 / 40, 2 / 30, 2 / 20, 2 / 20, None, 1.0] == pytest.approx(rates)
    assert [None, 0.25] == [p.talk_share for p in points[:2]]
    assert (600.0, 150.0) == (points[1].logged_in_s, points[1].talking_s)
    assert dt.datetime.fromtimestamp(10 * QUARTER_S, dt.UTC) == points[0].start


@pytest.mark.parametrize(("day", "quarters"), [(dt.date(2026, 3, 29), 92), (dt.date(2026, 10, 25), 100),
                                                (dt.date(2026, 6, 1), 96)])
def test_a_day_has_the_quarters_of_its_hours_across_dst(day: dt.date, quarters: int) -> None:
    start, end = day_bounds(day, "Europe/Warsaw")
    assert quarters * QUARTER_S == end.timestamp() - start.timestamp()  # not end - start: wall time
    assert 0 == start.timestamp() % QUARTER_S


async def test_the_day_counts_calls_by_their_end_and_agent_time_as_written(store: Store) -> None:
    camp = await make_campaign(store, timezone="Europe/Warsaw")
    cid = (await store.get_campaign(camp)).id
    now = utc(2026, 6, 1, 10, 7)  # 12:07 in Warsaw
    for k, (outcome, end) in enumerate([
        (Outcome.ANSWERED, utc(2026, 6, 1, 9, 50)),
        (Outcome.ABANDONED, utc(2026, 6, 1, 9, 55)),
        (Outcome.ANSWERED, utc(2026, 6, 1, 10, 1)),
        (Outcome.NO_ANSWER, utc(2026, 6, 1, 10, 2)),  # not live: left out
        (Outcome.ABANDONED, utc(2026, 5, 31, 21, 50)),  # 23:50 the day before: the first hour's rate
    ]):
        await past_attempt(store, camp, outcome, end, number=f"+4851095{k:04d}")
    minute = utc(2026, 6, 1, 9, 46)
    after = minute + dt.timedelta(minutes=1)
    await store.record_occupancy(cid, [(minute, 120.0, 30.0), (after, 120.0, 60.0)])
    await store.record_occupancy(cid, [(minute, 60.0, 60.0)])  # a second runner's minute adds
    chart = await store.day_chart(camp, now=now)
    assert ("Europe/Warsaw", dt.date(2026, 6, 1)) == (chart.timezone, chart.day)
    assert 12 * 4 + 1 == len(chart.points)  # 00:00 .. the quarter under way (12:00-12:15)
    assert utc(2026, 5, 31, 22) == chart.points[0].start
    by_start = {p.start: p for p in chart.points}
    first = chart.points[0]
    assert (0, 0, 1.0) == (first.live, first.abandoned, first.abandon_rate_1h)  # 23:50's abandon
    q = by_start[utc(2026, 6, 1, 9, 45)]
    assert (2, 1, 0.5) == (q.live, q.abandoned, q.abandon_rate_1h)
    assert (300.0, 150.0, 0.5) == (q.logged_in_s, q.talking_s, q.talk_share)
    last = by_start[utc(2026, 6, 1, 10)]
    assert (1, 0, pytest.approx(1 / 3)) == (last.live, last.abandoned, last.abandon_rate_1h)
    assert last.talk_share is None  # nobody logged in
    # another day, another zone; the chart of another campaign is empty
    earlier = await store.day_chart(camp, day=dt.date(2026, 5, 31), timezone="UTC", now=now)
    assert (96, 1) == (len(earlier.points), sum(p.abandoned for p in earlier.points))
    other = await store.day_chart(await make_campaign(store), now=now)
    assert 0 == sum(p.live for p in other.points) + sum(p.logged_in_s for p in other.points)


async def test_a_bad_day_zone_or_campaign_is_refused_by_name(store: Store) -> None:
    camp = await make_campaign(store)
    now = utc(2026, 6, 1, 10)
    with pytest.raises(ValidationError, match="after today"):
        await store.day_chart(camp, day=dt.date(2026, 6, 2), timezone="UTC", now=now)
    with pytest.raises(ValidationError, match="400 days"):
        await store.day_chart(camp, day=dt.date(1, 1, 1), now=now)
    with pytest.raises(ValidationError, match="time zone"):
        await store.day_chart(camp, timezone="Mars/Olympus", now=now)
    with pytest.raises(NotFound):
        await store.day_chart("no such campaign", now=now)
    cid = (await store.get_campaign(camp)).id
    with pytest.raises(Exception, match="check"):  # a minute that is not whole is the caller's bug
        await store.record_occupancy(cid, [(utc(2026, 6, 1, 9, 0, 30), 1.0, 0.0)])
