"""Schedules (seed 000): day selection, windows, run-at, intervals, DST, validation, parsing."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from dialer.errors import ScheduleError
from dialer.schedules.schedule import Frequency, Schedule, schedule_from_text
from dialer.schedules.text import format_weekdays, parse_int_set, parse_time, parse_weekdays, parse_window

UTC = dt.UTC
WAW = ZoneInfo("Europe/Warsaw")
NYC = ZoneInfo("America/New_York")
T = dt.time


def at(zone: ZoneInfo, year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0,
       *, fold: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=zone, fold=fold)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def window(start: str, end: str, **kw: object) -> Schedule:
    kw.setdefault("frequency", Frequency.DAILY)
    kw.setdefault("name", "S")
    return Schedule(window_start=parse_time(start, "from"), window_end=parse_time(end, "to"), **kw)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------- seed examples


def test_workdays_window_is_open_inside_and_closed_outside() -> None:
    workdays = window("09:00", "20:00", frequency=Frequency.WEEKLY,
                      weekdays=parse_weekdays("mon,tue,wed,thu,fri"), timezone="Europe/Warsaw")
    assert workdays.is_open(at(WAW, 2024, 6, 3, 9, 0))  # Monday
    assert workdays.is_open(at(WAW, 2024, 6, 3, 19, 59, 59))
    assert not workdays.is_open(at(WAW, 2024, 6, 3, 20, 0))
    assert not workdays.is_open(at(WAW, 2024, 6, 3, 8, 59, 59))
    assert not workdays.is_open(at(WAW, 2024, 6, 8, 12, 0))  # Saturday


def test_workdays_next_open_after_friday_evening_is_monday_morning() -> None:
    workdays = window("09:00", "20:00", frequency=Frequency.WEEKLY, weekdays=parse_weekdays("mon-fri"),
                      timezone="Europe/Warsaw")
    assert at(WAW, 2024, 6, 10, 9, 0) == workdays.next_open(at(WAW, 2024, 6, 7, 20, 30))
    assert at(WAW, 2024, 6, 7, 20, 0) == workdays.next_close(at(WAW, 2024, 6, 7, 12, 0))
    assert at(WAW, 2024, 6, 10, 20, 0) == workdays.next_close(at(WAW, 2024, 6, 7, 20, 30))


def test_next_open_returns_the_instant_itself_when_open_in_utc() -> None:
    s = window("09:00", "20:00", timezone="Europe/Warsaw")
    t = at(WAW, 2024, 6, 3, 10, 15, 7)
    result = s.next_open(t)
    assert t == result
    assert result is not None and result.tzinfo is UTC


def test_weekly_with_no_weekdays_means_every_day() -> None:
    s = window("10:00", "11:00", frequency=Frequency.WEEKLY)
    for day in range(3, 10):
        assert s.is_open(utc(2024, 6, day, 10, 30))


def test_run_at_fires_daily_and_is_open_for_that_minute_only() -> None:
    reports = Schedule("REPORTS", Frequency.DAILY, run_at=T(7, 30), timezone="Europe/Warsaw")
    assert at(WAW, 2024, 6, 3, 7, 30) == reports.next_run(at(WAW, 2024, 6, 3, 7, 0))
    assert at(WAW, 2024, 6, 4, 7, 30) == reports.next_run(at(WAW, 2024, 6, 3, 7, 30))  # strictly after
    assert reports.is_open(at(WAW, 2024, 6, 3, 7, 30, 59))
    assert not reports.is_open(at(WAW, 2024, 6, 3, 7, 31))
    assert not reports.is_window


def test_all_day_window_is_always_open_and_never_closes() -> None:
    s = window("00:00", "00:00", timezone="America/New_York")
    assert s.is_all_day
    for hour in (0, 5, 12, 23):
        assert s.is_open(at(NYC, 2024, 11, 3, hour, 59))
    assert s.next_close(utc(2024, 1, 1)) is None


def test_all_day_window_on_chosen_weekdays_closes_when_the_run_of_days_ends() -> None:
    s = window("00:00", "00:00", frequency=Frequency.WEEKLY, weekdays=parse_weekdays("sat,sun"))
    assert utc(2024, 6, 10) == s.next_close(utc(2024, 6, 8, 12))  # Sat noon -> Mon 00:00
    assert utc(2024, 6, 8) == s.next_open(utc(2024, 6, 5))


def test_window_crossing_midnight_belongs_to_the_day_it_starts_on() -> None:
    s = window("22:00", "06:00", frequency=Frequency.WEEKLY, weekdays=frozenset({4}))  # Friday
    assert s.is_open(utc(2024, 6, 7, 22, 0))  # Friday night
    assert s.is_open(utc(2024, 6, 8, 3, 0))  # Saturday 03:00
    assert not s.is_open(utc(2024, 6, 8, 6, 0))
    assert not s.is_open(utc(2024, 6, 7, 3, 0))  # Friday 03:00 belongs to Thursday's window
    assert utc(2024, 6, 8, 6, 0) == s.next_close(utc(2024, 6, 7, 23))


def test_window_ending_at_midnight_runs_to_the_end_of_the_day() -> None:
    s = window("20:00", "00:00")
    assert s.is_open(utc(2024, 6, 7, 23, 59, 59))
    assert not s.is_open(utc(2024, 6, 8, 0, 0))


def test_monthly_chosen_days_in_chosen_months() -> None:
    s = window("09:00", "17:00", frequency=Frequency.MONTHLY, months=parse_int_set("1,7", "months", 1, 12),
               days=parse_int_set("1,15", "days", 1, 31))
    assert s.is_open(utc(2024, 7, 15, 10))
    assert not s.is_open(utc(2024, 7, 16, 10))
    assert not s.is_open(utc(2024, 8, 15, 10))
    assert utc(2025, 1, 1, 9) == s.next_open(utc(2024, 7, 15, 18))


def test_monthly_with_no_choice_means_every_day() -> None:
    s = window("09:00", "17:00", frequency=Frequency.MONTHLY)
    assert all(s.is_open(utc(2024, 2, d, 12)) for d in range(1, 30))


def test_monthly_only_months_means_every_day_of_those_months() -> None:
    s = window("09:00", "17:00", frequency=Frequency.MONTHLY, months=frozenset({12}))
    assert utc(2024, 12, 1, 9) == s.next_open(utc(2024, 3, 1))
    assert s.is_open(utc(2024, 12, 31, 16))


def test_day_31_does_not_occur_in_shorter_months() -> None:
    s = Schedule("EOM", Frequency.MONTHLY, days=frozenset({31}), run_at=T(6, 0))
    assert utc(2024, 5, 31, 6) == s.next_run(utc(2024, 4, 1))
    assert utc(2024, 7, 31, 6) == s.next_run(utc(2024, 5, 31, 6))


def test_february_30th_never_fires_and_answers_none() -> None:
    s = Schedule("never", Frequency.MONTHLY, months=frozenset({2}), days=frozenset({30, 31}), run_at=T(6, 0))
    assert s.next_run(utc(2024, 1, 1)) is None
    assert s.next_open(utc(2024, 1, 1)) is None
    assert s.next_close(utc(2024, 1, 1)) is None
    assert not s.is_open(utc(2024, 2, 29, 6))


def test_february_29th_waits_for_a_leap_year_even_across_2100() -> None:
    s = Schedule("leap", Frequency.MONTHLY, months=frozenset({2}), days=frozenset({29}), run_at=T(6, 0))
    assert utc(2028, 2, 29, 6) == s.next_run(utc(2024, 3, 1))
    assert utc(2104, 2, 29, 6) == s.next_run(utc(2097, 1, 1))


def test_interval_ticks_inside_the_window_and_not_at_its_end() -> None:
    s = window("09:00", "10:00", interval_min=25)
    expected = [utc(2024, 6, 3, 9, 0), utc(2024, 6, 3, 9, 25), utc(2024, 6, 3, 9, 50)]
    assert expected == s.triggers(dt.date(2024, 6, 3))
    assert utc(2024, 6, 3, 9, 25) == s.next_run(utc(2024, 6, 3, 9, 0))
    assert utc(2024, 6, 4, 9, 0) == s.next_run(utc(2024, 6, 3, 9, 50))


def test_window_without_interval_triggers_at_its_start() -> None:
    s = window("22:00", "06:00")
    assert utc(2024, 6, 3, 22) == s.next_run(utc(2024, 6, 3, 22) - dt.timedelta(seconds=1))
    assert utc(2024, 6, 4, 22) == s.next_run(utc(2024, 6, 3, 22))


def test_inactive_schedule_is_never_open_and_never_runs() -> None:
    s = window("00:00", "00:00", active=False)
    assert not s.is_open(utc(2024, 6, 3, 12))
    assert s.next_open(utc(2024, 6, 3)) is None
    assert s.next_run(utc(2024, 6, 3)) is None
    assert s.next_close(utc(2024, 6, 3)) is None


def test_naive_datetimes_are_refused() -> None:
    s = window("09:00", "17:00")
    with pytest.raises(ScheduleError) as err:
        s.is_open(dt.datetime(2024, 6, 3, 12))
    assert "at" == err.value.field
    with pytest.raises(ScheduleError):
        s.next_open(dt.datetime(2024, 6, 3, 12))


def test_frequency_given_as_text_is_accepted() -> None:
    assert Frequency.WEEKLY is Schedule("x", "weekly", run_at=T(1, 0)).frequency  # type: ignore[arg-type]


# ---------------------------------------------------------------------------- DST


def test_warsaw_spring_forward_window_starting_in_the_gap_opens_at_three() -> None:
    # 2024-03-31: 02:00 CET -> 03:00 CEST, 02:xx does not exist.
    s = window("02:30", "08:00", timezone="Europe/Warsaw")
    assert utc(2024, 3, 31, 1, 0) == s.next_open(at(WAW, 2024, 3, 31, 0, 0))  # 03:00 CEST
    assert utc(2024, 3, 31, 6, 0) == s.next_close(at(WAW, 2024, 3, 31, 0, 0))  # 08:00 CEST
    assert not s.is_open(utc(2024, 3, 31, 0, 59, 59))


def test_warsaw_spring_forward_run_at_in_the_gap_fires_at_the_first_valid_instant() -> None:
    s = Schedule("R", Frequency.DAILY, run_at=T(2, 30), timezone="Europe/Warsaw")
    assert utc(2024, 3, 31, 1, 0) == s.next_run(at(WAW, 2024, 3, 31, 0, 0))
    assert s.is_open(utc(2024, 3, 31, 1, 0, 30))
    assert utc(2024, 4, 1, 0, 30) == s.next_run(utc(2024, 3, 31, 1, 0))  # back to 02:30 CEST


def test_warsaw_spring_forward_window_ending_in_the_gap_ends_at_three() -> None:
    s = window("01:00", "02:30", timezone="Europe/Warsaw")
    assert utc(2024, 3, 31, 1, 0) == s.next_close(at(WAW, 2024, 3, 31, 1, 10))


def test_warsaw_spring_forward_interval_ticks_skip_the_missing_hour() -> None:
    s = window("01:00", "05:00", interval_min=30, timezone="Europe/Warsaw")
    walls = [t.astimezone(WAW).strftime("%H:%M") for t in s.triggers(dt.date(2024, 3, 31))]
    assert ["01:00", "01:30", "03:00", "03:30", "04:00", "04:30"] == walls


def test_warsaw_fall_back_counts_both_repeated_hours_inside_a_window() -> None:
    # 2024-10-27: 03:00 CEST -> 02:00 CET, 02:xx happens twice.
    s = window("02:15", "02:45", timezone="Europe/Warsaw")
    assert s.is_open(at(WAW, 2024, 10, 27, 2, 20, fold=0))  # 00:20 UTC
    assert s.is_open(at(WAW, 2024, 10, 27, 2, 20, fold=1))  # 01:20 UTC
    assert not s.is_open(at(WAW, 2024, 10, 27, 2, 50, fold=0))
    assert utc(2024, 10, 27, 1, 15) == s.next_open(utc(2024, 10, 27, 0, 45))
    assert utc(2024, 10, 27, 0, 45) == s.next_close(utc(2024, 10, 27, 0, 20))


def test_warsaw_fall_back_window_spanning_the_change_lasts_an_hour_longer() -> None:
    s = window("01:00", "05:00", timezone="Europe/Warsaw")
    opened = s.next_open(at(WAW, 2024, 10, 27, 0, 0))
    closed = s.next_close(at(WAW, 2024, 10, 27, 0, 0))
    assert opened is not None and closed is not None
    assert dt.timedelta(hours=5) == closed - opened


def test_warsaw_fall_back_run_at_uses_the_first_occurrence_only() -> None:
    s = Schedule("R", Frequency.DAILY, run_at=T(2, 30), timezone="Europe/Warsaw")
    assert utc(2024, 10, 27, 0, 30) == s.next_run(at(WAW, 2024, 10, 27, 0, 0))
    assert utc(2024, 10, 28, 1, 30) == s.next_run(utc(2024, 10, 27, 0, 30))  # not 01:30 UTC the same day
    assert not s.is_open(utc(2024, 10, 27, 1, 30, 30))


def test_warsaw_fall_back_interval_ticks_once_in_the_repeated_hour() -> None:
    s = window("01:00", "04:00", interval_min=30, timezone="Europe/Warsaw")
    ticks = s.triggers(dt.date(2024, 10, 27))
    walls = [t.astimezone(WAW).strftime("%H:%M") for t in ticks]
    assert ["01:00", "01:30", "02:00", "02:30", "03:00", "03:30"] == walls
    assert ticks == sorted(set(ticks))


def test_new_york_calling_hours_follow_local_time_across_both_changes() -> None:
    # TCPA calling hours 08:00-21:00 local; DST starts 2024-03-10 and ends 2024-11-03.
    s = window("08:00", "21:00", timezone="America/New_York")
    assert utc(2024, 3, 9, 13) == s.next_open(utc(2024, 3, 9, 5))  # EST: 08:00 = 13:00 UTC
    assert utc(2024, 3, 10, 12) == s.next_open(utc(2024, 3, 10, 5))  # EDT: 08:00 = 12:00 UTC
    assert utc(2024, 11, 3, 13) == s.next_open(utc(2024, 11, 3, 5))  # EST again
    assert utc(2024, 11, 4, 2) == s.next_close(utc(2024, 11, 3, 14))  # 21:00 EST


def test_new_york_fall_back_repeated_one_oclock_hour_is_inside_a_window() -> None:
    s = window("01:00", "01:30", timezone="America/New_York")
    assert s.is_open(at(NYC, 2024, 11, 3, 1, 10, fold=0))
    assert s.is_open(at(NYC, 2024, 11, 3, 1, 10, fold=1))
    s2 = Schedule("R", Frequency.DAILY, run_at=T(1, 10), timezone="America/New_York")
    # 01:10 EDT, the first occurrence (aware datetimes in a fold never compare equal across zones).
    assert utc(2024, 11, 3, 5, 10) == s2.next_run(utc(2024, 11, 3, 0))


def test_new_york_spring_forward_run_at_in_the_gap() -> None:
    s = Schedule("R", Frequency.DAILY, run_at=T(2, 30), timezone="America/New_York")
    assert utc(2024, 3, 10, 7, 0) == s.next_run(utc(2024, 3, 10, 0))  # 03:00 EDT


# ---------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"name": " ", "run_at": T(7)}, "name"),
        ({"frequency": "hourly", "run_at": T(7)}, "frequency"),
        ({"run_at": T(7), "window_start": T(8), "window_end": T(9)}, "window"),
        ({}, "window"),
        ({"window_start": T(8)}, "window"),
        ({"window_start": T(8), "window_end": T(8)}, "window"),
        ({"run_at": T(7), "interval_min": 5}, "interval_min"),
        ({"window_start": T(8), "window_end": T(9), "interval_min": 0}, "interval_min"),
        ({"window_start": T(8), "window_end": T(9), "interval_min": 1441}, "interval_min"),
        ({"run_at": T(7), "timezone": "Mars/Base"}, "timezone"),
        ({"run_at": T(7), "timezone": "localtime"}, "timezone"),
        ({"run_at": T(7), "timezone": ""}, "timezone"),
        ({"run_at": T(7, 0, 30)}, "run_at"),
        ({"run_at": T(7), "weekdays": frozenset({1})}, "weekdays"),
        ({"run_at": T(7), "months": frozenset({1})}, "months"),
        ({"frequency": Frequency.WEEKLY, "run_at": T(7), "weekdays": frozenset({7})}, "weekdays"),
        ({"frequency": Frequency.MONTHLY, "run_at": T(7), "days": frozenset({0})}, "days"),
        ({"frequency": Frequency.MONTHLY, "run_at": T(7), "months": frozenset({13})}, "months"),
        ({"run_at": T(7, tzinfo=UTC)}, "run_at"),
    ],
)
def test_inconsistent_definitions_are_refused_naming_the_field(kwargs: dict[str, object], field: str) -> None:
    kwargs = {"name": "S", "frequency": Frequency.DAILY, **kwargs}
    with pytest.raises(ScheduleError) as err:
        Schedule(**kwargs)  # type: ignore[arg-type]
    assert field == err.value.field


def test_name_is_stripped_and_sets_are_frozen() -> None:
    s = Schedule(" W ", Frequency.WEEKLY, weekdays=[0, 1], run_at=T(7))  # type: ignore[arg-type]
    assert "W" == s.name
    assert frozenset({0, 1}) == s.weekdays


# ---------------------------------------------------------------------------- parsing


def test_parse_window_and_time() -> None:
    assert (T(9), T(20)) == parse_window("09:00-20:00")
    assert (T(9), T(20)) == parse_window(" 9:00 – 20:00 ")
    assert (T(0), T(0)) == parse_window("00:00-00:00")
    assert (T(22), T(6)) == parse_window("22:00-06:00")
    assert T(7, 30) == parse_time("07:30", "at")


@pytest.mark.parametrize(
    "text", ["", "09:00", "9-17", "09:00-24:00", "25:00-26:00", "09:60-10:00", "10:00-10:00"]
)
def test_parse_window_refuses_nonsense_naming_window(text: str) -> None:
    with pytest.raises(ScheduleError) as err:
        parse_window(text)
    assert "window" == err.value.field


def test_parse_time_names_the_given_field() -> None:
    with pytest.raises(ScheduleError) as err:
        parse_time("7.30", "at")
    assert "at" == err.value.field


def test_parse_weekdays_english_polish_numbers_and_ranges() -> None:
    assert frozenset({0, 1, 2, 3, 4}) == parse_weekdays("mon,tue,wed,thu,fri")
    assert frozenset({0, 1, 2, 3, 4}) == parse_weekdays("pn,wt,śr,cz,pt")
    assert frozenset({2, 5, 6}) == parse_weekdays("sr, so, nd")
    assert frozenset({0, 1, 2, 3, 4}) == parse_weekdays("1-5")
    assert frozenset({4, 5, 6, 0}) == parse_weekdays("Fri-Mon")
    assert frozenset() == parse_weekdays("")


def test_parse_weekdays_refuses_unknown_words() -> None:
    with pytest.raises(ScheduleError) as err:
        parse_weekdays("mon,funday")
    assert "weekdays" == err.value.field
    assert "funday" == err.value.value


def test_parse_int_set() -> None:
    assert frozenset({1, 15, 28, 29, 30, 31}) == parse_int_set("1,15,28-31", "days", 1, 31)
    assert frozenset() == parse_int_set(" ", "days", 1, 31)
    for bad in ("0", "32", "5-3", "x", "1-"):
        with pytest.raises(ScheduleError) as err:
            parse_int_set(bad, "days", 1, 31)
        assert "days" == err.value.field


def test_describe_gives_one_readable_line() -> None:
    workdays = window("09:00", "20:00", frequency=Frequency.WEEKLY, weekdays=parse_weekdays("pn-pt"),
                      timezone="Europe/Warsaw", interval_min=15)
    assert "weekly mon,tue,wed,thu,fri 09:00-20:00 every 15 min (Europe/Warsaw)" == workdays.describe()
    reports = Schedule("R", Frequency.DAILY, run_at=T(7, 30), active=False)
    assert "daily at 07:30 (UTC) inactive" == reports.describe()
    monthly = window("00:00", "00:00", frequency=Frequency.MONTHLY, months=frozenset({1, 7}),
                     days=parse_int_set("1,2,3,15,30,31", "days", 1, 31))
    assert "monthly months 1,7 days 1-3,15,30,31 all day (UTC)" == monthly.describe()


@given(st.frozensets(st.integers(0, 6)))
def test_format_weekdays_round_trips_through_parse(days: frozenset[int]) -> None:
    assert days == parse_weekdays(format_weekdays(days))


@given(st.frozensets(st.integers(1, 31)))
def test_described_day_sets_parse_back(days: frozenset[int]) -> None:
    s = Schedule("M", Frequency.MONTHLY, days=days, run_at=T(1))
    text = s.describe()
    described = text.split("days ", 1)[1].split(" ", 1)[0] if days else ""
    assert days == parse_int_set(described, "days", 1, 31)


def test_schedule_from_text_builds_the_command_line_examples() -> None:
    workdays = schedule_from_text("WORKDAYS", frequency="weekly", weekdays="mon,tue,wed,thu,fri",
                                  window="09:00-20:00", timezone="Europe/Warsaw")
    expected = Schedule("WORKDAYS", Frequency.WEEKLY, weekdays=frozenset(range(5)), window_start=T(9),
                        window_end=T(20), timezone="Europe/Warsaw")
    assert expected == workdays
    reports = schedule_from_text("REPORTS", frequency="daily", at="07:30")
    assert Schedule("REPORTS", Frequency.DAILY, run_at=T(7, 30)) == reports
    polish = schedule_from_text("P", frequency="Miesięcznie", months="1-3", days="1,15", window="00:00-00:00",
                                every="30")
    assert (frozenset({1, 2, 3}), frozenset({1, 15}), 30) == (polish.months, polish.days, polish.interval_min)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"frequency": "hourly", "at": "07:30"}, "frequency"),
        ({"frequency": "daily", "at": "7.30"}, "at"),
        ({"frequency": "daily", "window": "9-5"}, "window"),
        ({"frequency": "daily", "window": "09:00-17:00", "every": "ten"}, "every"),
        ({"frequency": "daily", "window": "09:00-17:00", "every": "0"}, "every"),
        ({"frequency": "daily", "at": "07:30", "every": "5"}, "every"),
        ({"frequency": "daily"}, "window"),
        ({"frequency": "weekly", "weekdays": "mon,xyz", "at": "07:30"}, "weekdays"),
        ({"frequency": "daily", "weekdays": "mon", "at": "07:30"}, "weekdays"),
        ({"frequency": "monthly", "days": "32", "at": "07:30"}, "days"),
        ({"frequency": "daily", "at": "07:30", "timezone": "Europe/Nowhere"}, "timezone"),
    ],
)
def test_schedule_from_text_names_the_option_at_fault(kwargs: dict[str, str], field: str) -> None:
    with pytest.raises(ScheduleError) as err:
        schedule_from_text("S", **kwargs)  # type: ignore[arg-type]  # text options only
    assert field == err.value.field


# ---------------------------------------------------------------------------- properties

ZONES = [
    "UTC", "Europe/Warsaw", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "America/Sao_Paulo",
]
# Instants near DST changes of the zones above, so hypothesis explores the hard days.
DST_EDGES = [
    utc(2024, 3, 31, 1), utc(2024, 10, 27, 1),  # Warsaw
    utc(2024, 3, 10, 7), utc(2024, 11, 3, 6),  # New York
    utc(2024, 4, 6, 15), utc(2024, 10, 5, 15, 30),  # Lord Howe (30-minute shift)
    utc(2018, 11, 4, 3), utc(2019, 2, 17, 2),  # Sao Paulo (midnight changes, last DST)
]

minutes_of_day = st.integers(0, 1439).map(lambda m: T(m // 60, m % 60))


@st.composite
def schedules(draw: st.DrawFn, active: bool | None = None) -> Schedule:
    freq = draw(st.sampled_from(list(Frequency)))
    kw: dict[str, object] = {}
    if freq is Frequency.WEEKLY:
        kw["weekdays"] = draw(st.frozensets(st.integers(0, 6)))
    elif freq is Frequency.MONTHLY:
        kw["months"] = draw(st.frozensets(st.integers(1, 12), max_size=4))
        kw["days"] = draw(st.frozensets(st.integers(1, 31), max_size=6))
    if draw(st.booleans()):
        kw["run_at"] = draw(minutes_of_day)
    else:
        start = draw(minutes_of_day)
        end = draw(minutes_of_day)
        if start == end:
            start = end = T(0)
        kw["window_start"], kw["window_end"] = start, end
        kw["interval_min"] = draw(st.none() | st.integers(1, 300))
    return Schedule(
        "P", freq, timezone=draw(st.sampled_from(ZONES)),
        active=draw(st.booleans()) if active is None else active, **kw,  # type: ignore[arg-type]
    )


instants = st.one_of(
    st.datetimes(dt.datetime(2015, 1, 1), dt.datetime(2035, 1, 1), timezones=st.just(UTC)),
    st.builds(lambda edge, s: edge + dt.timedelta(seconds=s), st.sampled_from(DST_EDGES),
              st.integers(-30 * 3600, 30 * 3600)),
)


def reference_is_open(s: Schedule, instant: dt.datetime) -> bool:
    """An independent wall-clock definition for window schedules (no interval arithmetic)."""
    zone = ZoneInfo(s.timezone)
    wall = instant.astimezone(zone).replace(tzinfo=None)
    assert s.window_start is not None and s.window_end is not None
    for day in (wall.date() - dt.timedelta(days=1), wall.date()):
        if not s.selects(day):
            continue
        start = dt.datetime.combine(day, s.window_start)
        end_day = day if s.window_end > s.window_start else day + dt.timedelta(days=1)
        if start <= wall < dt.datetime.combine(end_day, s.window_end):
            return True
    return False


@settings(max_examples=300, deadline=None)
@given(schedules(), instants)
def test_next_open_is_open_and_nothing_before_it_is(s: Schedule, t: dt.datetime) -> None:
    found = s.next_open(t)
    if not s.active:
        assert found is None
        return
    if found is None:  # only a schedule that can never fire (e.g. 30 February)
        assert s.frequency is Frequency.MONTHLY and s.days
        return
    assert found >= t
    assert s.is_open(found)
    gap = found - t
    samples = [t + gap * i / 64 for i in range(64)] + [found - dt.timedelta(microseconds=1)]
    if gap < dt.timedelta(hours=12):
        samples += [t + dt.timedelta(minutes=m) for m in range(int(gap / dt.timedelta(minutes=1)))]
    for sample in samples:
        if t <= sample < found:
            assert not s.is_open(sample), sample


@settings(max_examples=300, deadline=None)
@given(schedules(active=True), instants)
def test_window_is_open_agrees_with_a_wall_clock_reference(s: Schedule, t: dt.datetime) -> None:
    assume(s.is_window)
    assert reference_is_open(s, t) == s.is_open(t)


@settings(max_examples=300, deadline=None)
@given(schedules(active=True), instants)
def test_next_run_is_a_later_valid_trigger_and_none_is_skipped(s: Schedule, t: dt.datetime) -> None:
    found = s.next_run(t)
    if found is None:
        assert s.frequency is Frequency.MONTHLY and s.days
        return
    assert found > t
    zone = ZoneInfo(s.timezone)
    wall = found.astimezone(zone).replace(tzinfo=None)
    # It is one of the day's triggers (the day it starts on, or the day before for a window
    # crossing midnight) ...
    days = [wall.date() - dt.timedelta(days=1), wall.date()]
    assert any(found in s.triggers(day) for day in days)
    # ... at run-at or window_start + k*interval < window_end in wall-clock time, or at the
    # end of a DST gap that swallowed such a time.
    offset_before = (found - dt.timedelta(seconds=1)).astimezone(zone).utcoffset()
    at_gap_end = offset_before != found.astimezone(zone).utcoffset()
    if not at_gap_end:
        first = s.run_at if s.run_at is not None else s.window_start
        assert first is not None
        offset = (dt.datetime.combine(wall.date(), wall.time()) - dt.datetime.combine(wall.date(), first))
        minutes = int(offset.total_seconds() // 60) % 1440
        assert 0 == wall.second
        if s.interval_min is None:
            assert 0 == minutes
        else:
            assert 0 == minutes % s.interval_min
            assert s.is_open(found)  # the tick is inside the window
    # No trigger lies in (t, found).
    t_day = t.astimezone(zone).date()
    day = t_day - dt.timedelta(days=1)
    while day <= wall.date() and (day - t_day).days < 40:
        assert all(not (t < x < found) for x in s.triggers(day))
        day += dt.timedelta(days=1)


@settings(max_examples=200, deadline=None)
@given(schedules(), instants, st.sampled_from([*ZONES, "Pacific/Kiritimati", "America/Adak"]))
def test_is_open_does_not_depend_on_the_zone_the_instant_is_written_in(
    s: Schedule, t: dt.datetime, other: str
) -> None:
    assert s.is_open(t) == s.is_open(t.astimezone(ZoneInfo(other)))


@settings(max_examples=200, deadline=None)
@given(schedules(active=True), instants)
def test_next_close_ends_an_open_stretch(s: Schedule, t: dt.datetime) -> None:
    closed = s.next_close(t)
    opened = s.next_open(t)
    if closed is None:
        assert opened is None or (s.is_all_day and s.is_open(t))
        return
    assert opened is not None and opened < closed
    assert s.is_open(closed - dt.timedelta(microseconds=1))
    assert not s.is_open(closed)
    span = closed - opened
    assert all(s.is_open(opened + span * i / 32) for i in range(32))


@settings(max_examples=100, deadline=None)
@given(schedules(active=False), instants)
def test_inactive_schedules_are_never_open(s: Schedule, t: dt.datetime) -> None:
    assert not s.is_open(t)
    assert s.next_open(t) is None
    assert s.next_run(t) is None
