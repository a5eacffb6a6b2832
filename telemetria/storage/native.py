"""Native PostgreSQL back end: readings range-partitioned by day (plus a DEFAULT
partition so no reading is refused), and daily/monthly rollup tables refreshed
incrementally from the pending-bucket log."""

from datetime import date, datetime, timedelta

from .sql import tz_literal
from .tables import DAILY, DEFAULT_PARTITION, MONTHLY, READINGS

AGGREGATE_COLUMNS_DDL = """
    conta_id bigint NOT NULL,
    dispositivo_id bigint NOT NULL,
    bucket timestamptz NOT NULL,
    n bigint NOT NULL,
    soma numeric NOT NULL,
    minimo numeric(15, 4) NOT NULL,
    maximo numeric(15, 4) NOT NULL,
    primeiro numeric(15, 4) NOT NULL,
    primeiro_em timestamptz NOT NULL,
    ultimo numeric(15, 4) NOT NULL,
    ultimo_em timestamptz NOT NULL,
    PRIMARY KEY (dispositivo_id, bucket)
"""


def create_schema(cur, readings_columns_ddl: str) -> None:
    cur.execute(f"CREATE TABLE {READINGS} ({readings_columns_ddl}) PARTITION BY RANGE (time)")
    cur.execute(f"CREATE TABLE {DEFAULT_PARTITION} PARTITION OF {READINGS} DEFAULT")
    for table in (DAILY, MONTHLY):
        cur.execute(f"CREATE TABLE {table} ({AGGREGATE_COLUMNS_DDL})")
        cur.execute(f"CREATE INDEX {table}_conta_bucket_idx ON {table} (conta_id, bucket)")


def drop_schema(cur) -> None:
    cur.execute(
        "SELECT relkind FROM pg_class WHERE relname = %s AND relnamespace = current_schema()::regnamespace",
        [DAILY],
    )
    row = cur.fetchone()
    if row and row[0] == "r":
        cur.execute(f"DROP TABLE {DAILY}, {MONTHLY}")
    cur.execute(f"DROP TABLE IF EXISTS {READINGS} CASCADE")


def refresh_aggregates(cur, claimed: str, params: dict) -> None:
    """Recompute the daily rows of the claimed (dispositivo_id, bucket) pairs from the raw
    readings, then the monthly rows of their months from the daily rows."""
    from .aggregates import AGGREGATE_COLUMNS, month_end, raw_daily, replace_rows

    replace_rows(
        cur,
        DAILY,
        claimed,
        AGGREGATE_COLUMNS,
        f"SELECT {AGGREGATE_COLUMNS} FROM ({raw_daily(claimed)}) AS r",
        params,
    )
    months = f"""SELECT DISTINCT dispositivo_id, date_trunc('month', bucket, {tz_literal()}) AS bucket
                 FROM ({claimed}) AS c"""
    replace_rows(
        cur,
        MONTHLY,
        months,
        AGGREGATE_COLUMNS,
        f"""SELECT d.conta_id, d.dispositivo_id, c.bucket, sum(d.n), sum(d.soma),
                   min(d.minimo), max(d.maximo),
                   (array_agg(d.primeiro ORDER BY d.bucket))[1], min(d.primeiro_em),
                   (array_agg(d.ultimo ORDER BY d.bucket DESC))[1], max(d.ultimo_em)
            FROM ({months}) AS c
            JOIN {DAILY} AS d ON d.dispositivo_id = c.dispositivo_id
             AND d.bucket >= c.bucket AND d.bucket < {month_end("c.bucket")}
            GROUP BY d.conta_id, d.dispositivo_id, c.bucket""",
        params,
    )


class NativeBackend:
    name = "native"

    def create_schema(self, cur, readings_columns_ddl: str) -> None:
        create_schema(cur, readings_columns_ddl)

    def drop_schema(self, cur) -> None:
        drop_schema(cur)

    def refresh_outside_transaction(self, *, days: list[datetime]) -> None:
        pass  # the rollup tables are plain tables: everything happens in the transaction

    def refresh_in_transaction(self, cur, *, claimed: str, params: dict) -> None:
        refresh_aggregates(cur, claimed, params)

    def maintain(self, *, today: date | None = None):
        from .partitions import maintain_day_partitions

        return maintain_day_partitions(today=today)

    def prepare_days(self, first: date, last: date) -> None:
        from .partitions import create_partition, existing_partitions

        day, existing = first, existing_partitions()
        while day <= last:
            if day not in existing:
                create_partition(day)
            day += timedelta(days=1)


BACKEND = NativeBackend()
