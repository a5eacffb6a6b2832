"""The one storage API for readings: the consumer, the jobs, the views and the benches use
only this package, and it is the only code that writes SQL on the readings.

By purpose:
  insert.py       insert_readings: a batch, exactly once (COPY + ON CONFLICT DO NOTHING)
  series.py       readings_series_for_device: a device's buckets (day, month or any width);
                  consumption_series_for_device: its consumption per bucket (billable rule)
  latest.py       latest_readings_for_conta, latest_per_device, readings_count
  consumption.py  consumption_by_month: per device and local month, by meter kind
  steps.py        consumption_steps, consumption_by_period (local hour/day), last_reading_times:
                  the alarm engine's reads, with the same meter semantics
  days.py         consumption_by_day, consumption_by_date_ranges: per local day, per run of
                  days (billing periods); readings_count_for_day
  totals.py       consumption_totals (per utility and day), consumption_totals_by_month,
                  top_gateways, gateway_changes: the totals the rollup job keeps per
                  (gateway, tipo, unidade, day), as of its last run
  export.py       iter_readings: every reading of a period, streamed (CSV)
  rollups.py      refresh_rollups: the job that keeps the daily/monthly aggregates;
                  rejudge_counter_steps: a device's register maximum changed
  partitions.py   maintain_partitions: the job that keeps day partitions / retention
Back end (native PostgreSQL or TimescaleDB): chosen once by the migration; the rest goes
through `backend.current()` (backend.py, native.py, timescale.py), so no caller knows
which one is in use.
"""

from .backend import backend_name, is_timescale
from .consumption import ConsumoMes, consumption_by_month
from .days import (
    ConsumoDia,
    ConsumoPeriodo,
    consumption_by_date_ranges,
    consumption_by_day,
    readings_count_for_day,
)
from .export import iter_readings
from .insert import InsertResult, ReadingRow, insert_readings
from .latest import (
    DeviceLatest,
    LatestReading,
    latest_per_device,
    latest_readings_for_conta,
    readings_count,
)
from .rollups import RefreshResult, refresh_rollups, rejudge_counter_steps
from .series import (
    DAY,
    MONTH,
    SeriesPoint,
    consumption_series_for_device,
    readings_series_for_device,
)
from .steps import (
    HOUR,
    PeriodConsumption,
    Step,
    backward_steps,
    consumption_by_period,
    consumption_steps,
    device_steps,
    last_reading_times,
    previous_from_recent,
    previous_from_rows,
    previous_readings,
    previous_readings_query,
    reading_gaps,
    recent_readings_query,
    steps_for_rows,
    threshold_samples,
)
from .totals import (
    MudancaGateway,
    TotalDia,
    TotalGateway,
    TotalMes,
    consumption_totals,
    consumption_totals_by_month,
    gateway_changes,
    top_gateways,
)

__all__ = [
    "DAY",
    "HOUR",
    "MONTH",
    "ConsumoDia",
    "ConsumoMes",
    "ConsumoPeriodo",
    "DeviceLatest",
    "InsertResult",
    "LatestReading",
    "MudancaGateway",
    "PeriodConsumption",
    "ReadingRow",
    "RefreshResult",
    "SeriesPoint",
    "Step",
    "TotalDia",
    "TotalGateway",
    "TotalMes",
    "backend_name",
    "backward_steps",
    "consumption_by_date_ranges",
    "consumption_by_day",
    "consumption_by_month",
    "consumption_by_period",
    "consumption_series_for_device",
    "consumption_steps",
    "consumption_totals",
    "consumption_totals_by_month",
    "device_steps",
    "gateway_changes",
    "insert_readings",
    "is_timescale",
    "iter_readings",
    "last_reading_times",
    "latest_per_device",
    "latest_readings_for_conta",
    "previous_from_recent",
    "previous_from_rows",
    "previous_readings",
    "previous_readings_query",
    "reading_gaps",
    "readings_count",
    "readings_count_for_day",
    "readings_series_for_device",
    "recent_readings_query",
    "refresh_rollups",
    "rejudge_counter_steps",
    "steps_for_rows",
    "threshold_samples",
    "top_gateways",
]
