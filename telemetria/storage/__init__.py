"""The one storage API for readings: the consumer, the jobs and the views use only this.

No caller knows which back end (native PostgreSQL or TimescaleDB) is in use.
"""

from .backend import backend_name, is_timescale
from .consumption import (
    HOUR,
    PeriodConsumption,
    Step,
    consumption_by_period,
    consumption_steps,
    last_reading_times,
)
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
    "HOUR",
    "MONTH",
    "ConsumoMes",
    "InsertResult",
    "LatestReading",
    "PeriodConsumption",
    "ReadingRow",
    "RefreshResult",
    "SeriesPoint",
    "Step",
    "backend_name",
    "consumption_by_month",
    "consumption_by_period",
    "consumption_steps",
    "insert_readings",
    "is_timescale",
    "last_reading_times",
    "latest_readings_for_conta",
    "readings_series_for_device",
    "refresh_rollups",
]
