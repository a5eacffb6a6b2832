"""The project's local day (settings.TIME_ZONE, America/Sao_Paulo): its zone, the local
date of an instant, and the instants where local days start. Every app takes local
midnights from here.

A local midnight is built from the date (`datetime.combine` with the zone), never by
adding 24 h to another one: days under a DST change are 23 or 25 h long, and a day whose
midnight does not exist (São Paulo's 2018-11-04 began at 01:00) starts at the instant the
clock jumped (01:00 after the change).
"""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings


def zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def local_date(moment: datetime) -> date:
    """The local calendar date of the aware instant `moment`."""
    return moment.astimezone(zone()).date()


def local_midnight(day: date) -> datetime:
    """The aware instant local `day` starts, as a wall time that exists (01:00 on a day
    whose midnight was skipped: Python compares a skipped wall time unequal to every
    instant of another zone, UTC ones included)."""
    z = zone()
    return datetime.combine(day, time(0), tzinfo=z).astimezone(UTC).astimezone(z)


def day_start(moment: datetime) -> datetime:
    """The local midnight that starts the day of `moment`."""
    return local_midnight(local_date(moment))


def day_end(moment: datetime) -> datetime:
    """The local midnight that ends the day of `moment` (the next day's start)."""
    return local_midnight(local_date(moment) + timedelta(days=1))
