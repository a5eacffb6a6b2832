"""Local days in America/Sao_Paulo, across DST changes (São Paulo had DST until 2019)."""

from datetime import UTC, date, datetime, timedelta

from tds_core.localtime import day_end, day_start, local_date, local_midnight


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def hours(start: datetime, end: datetime) -> timedelta:
    """Elapsed time (two datetimes of one zone subtract as wall clocks in Python)."""
    return end.astimezone(UTC) - start.astimezone(UTC)


def test_an_ordinary_day_starts_at_local_midnight():
    assert local_midnight(date(2026, 3, 10)) == utc(2026, 3, 10, 3)
    assert local_date(utc(2026, 3, 11, 2, 59)) == date(2026, 3, 10)  # 23:59 local
    assert day_start(utc(2026, 3, 11, 2, 59)) == utc(2026, 3, 10, 3)
    assert day_end(utc(2026, 3, 10, 3)) == utc(2026, 3, 11, 3)


def test_the_day_without_a_midnight_starts_when_the_clock_jumped_and_lasts_23_hours():
    # 2018-11-04 00:00 -03 did not exist: the clocks went to 01:00 -02 (= 03:00 UTC).
    start = local_midnight(date(2018, 11, 4))
    assert start == utc(2018, 11, 4, 3)
    assert (start.hour, start.utcoffset()) == (1, timedelta(hours=-2))
    assert day_start(utc(2018, 11, 4, 20)) == start
    assert hours(start, day_end(utc(2018, 11, 4, 20))) == timedelta(hours=23)
    assert local_midnight(date(2018, 11, 3)) == utc(2018, 11, 3, 3)
    assert hours(local_midnight(date(2018, 11, 3)), start) == timedelta(hours=24)


def test_the_day_dst_ended_lasts_25_hours():
    # 2019-02-17 00:00 -02 went back to 2019-02-16 23:00 -03.
    start = local_midnight(date(2019, 2, 16))
    assert start == utc(2019, 2, 16, 2)
    assert hours(start, day_end(start)) == timedelta(hours=25)
    assert local_date(utc(2019, 2, 17, 2, 30)) == date(2019, 2, 16)  # the repeated 23:30
