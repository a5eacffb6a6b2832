"""The one storage API for readings: the consumer, the jobs and the views use only this.

No caller knows which back end (native PostgreSQL or TimescaleDB) is in use.
"""

from .backend import backend_name, is_timescale
from .days import ConsumoDia, ConsumoPeriodo, consumption_by_day, consumption_by_period
from .insert import InsertResult, ReadingRow, insert_readings
from .queries import (
    DAY,
    MONTH,
    ConsumoMes,
    LatestReading,
    SeriesPoint,
    consumption_by_month,
    latest_readings_for_conta,
    readings_series_for_device,
)
from .rollups import RefreshResult, refresh_rollups

__all__ = [
    "DAY",
    "MONTH",
    "ConsumoDia",
    "ConsumoMes",
    "ConsumoPeriodo",
    "InsertResult",
    "LatestReading",
    "ReadingRow",
    "RefreshResult",
    "SeriesPoint",
    "backend_name",
    "consumption_by_day",
    "consumption_by_month",
    "consumption_by_period",
    "insert_readings",
    "is_timescale",
    "latest_readings_for_conta",
    "readings_series_for_device",
    "refresh_rollups",
]
