"""Storage benchmark: insert_readings vs raw COPY, and query times on a realistic volume.

    python bench/storage.py            # quick: 80 devices x 1 reading/hour x 1 year (~0.7 M rows)
    python bench/storage.py --full     # 80 devices x 1 reading/5 min x 1 year (~8.4 M rows)

Runs in its own database (<DATABASE_URL's name>_bench, recreated each run) so the app's
data is untouched. Prints a table and writes JSON under bench/results/.
"""

import argparse
import json
import statistics
import time as clock
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from benchdb import ROOT, setup

DEVICES = 80
INSERT_ROWS = 40_000  # per method, in batches
BATCH = 1_000
QUERY_RUNS = 30


def _registry():
    from django_scopes import scopes_disabled

    from tds_testing import factories

    with scopes_disabled():
        conta = factories.make_conta(nome="Bench")
        devices = []
        for g in range(DEVICES // 8):
            gw = factories.make_gateway(conta=conta, codigo=f"GW{g:02d}")
            for _ in range(8):
                devices.append(factories.make_dispositivo(gateway=gw, tipo="ENERGIA"))
    return conta, devices


def _rows(devices, start: datetime, n: int):
    from telemetria.storage import ReadingRow

    rows = []
    for i in range(n):
        d = devices[i % len(devices)]
        t = start + timedelta(seconds=i // len(devices))
        rows.append(
            ReadingRow(t, d.conta_id, d.gateway_id, d.pk, Decimal(i) / 4, "kWh", {"raw": i})
        )
    return rows


def bench_insert(devices) -> dict:
    """Same rows shape and volume, alternating methods batch by batch."""
    from django.db import connection, transaction
    from psycopg.types.json import Jsonb

    from telemetria.storage import insert_readings
    from telemetria.storage.insert import _COPY_TYPES
    from telemetria.storage.tables import PENDING, READING_COLUMNS, READINGS

    base = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    api_rows = _rows(devices, base + timedelta(days=1), INSERT_ROWS)
    raw_rows = _rows(devices, base + timedelta(days=3), INSERT_ROWS)
    copy_sql = f"COPY {READINGS} ({', '.join(READING_COLUMNS)}) FROM STDIN (FORMAT BINARY)"
    api_s = raw_s = 0.0
    for i in range(0, INSERT_ROWS, BATCH):
        t0 = clock.perf_counter()
        with transaction.atomic():
            assert insert_readings(api_rows[i : i + BATCH]).inserted == BATCH
        api_s += clock.perf_counter() - t0

        t0 = clock.perf_counter()
        with transaction.atomic(), connection.cursor() as cur, cur.copy(copy_sql) as copy:
            copy.set_types(_COPY_TYPES)
            for r in raw_rows[i : i + BATCH]:
                copy.write_row((*r[:6], Jsonb(r.payload_raw)))
        raw_s += clock.perf_counter() - t0
    # Leave no trace: these rows lie ahead of the year loaded next, and would make the
    # queries' "today" hold readings later than the one inserted after the refresh.
    with connection.cursor() as cur:
        cur.execute(f"DELETE FROM {READINGS} WHERE time >= %s", [base + timedelta(days=1)])
        cur.execute(f"DELETE FROM {PENDING}")
    api_rate, raw_rate = INSERT_ROWS / api_s, INSERT_ROWS / raw_s
    return {
        "rows_per_method": INSERT_ROWS,
        "batch": BATCH,
        "api_rows_per_s": round(api_rate),
        "raw_copy_rows_per_s": round(raw_rate),
        "ratio": round(api_rate / raw_rate, 3),
    }


def load_year(devices, step_minutes: int) -> dict:
    """One year of cumulative registers ending now, generated in the database."""
    from django.db import connection

    from telemetria.storage import refresh_rollups
    from telemetria.storage.backend import current
    from telemetria.storage.partitions import maintain_partitions
    from telemetria.storage.tables import PENDING, READINGS

    end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    start = end - timedelta(days=365)
    t0 = clock.perf_counter()
    current().prepare_days(start.date(), end.date())
    maintain_partitions()
    ids = [d.pk for d in devices]
    gw = {d.pk: d.gateway_id for d in devices}
    with connection.cursor() as cur:
        cur.execute(
            f"""INSERT INTO {READINGS} (time, conta_id, gateway_id, dispositivo_id, valor, unidade)
                SELECT t, %(conta)s, (%(gw)s::jsonb ->> d::text)::bigint, d,
                       round((d * 1000 + extract(epoch FROM t - %(start)s) / 3600 * (1 + d %% 7))::numeric, 4),
                       'kWh'
                FROM unnest(%(ids)s::bigint[]) AS d,
                     generate_series(%(start)s::timestamptz, %(end)s, make_interval(mins => %(step)s)) AS t""",
            {
                "conta": devices[0].conta_id,
                "gw": json.dumps({str(k): v for k, v in gw.items()}),
                "ids": ids,
                "start": start,
                "end": end,
                "step": step_minutes,
            },
        )
        rows = cur.rowcount
        cur.execute(
            f"""INSERT INTO {PENDING} (dispositivo_id, bucket)
                SELECT d, b FROM unnest(%(ids)s::bigint[]) AS d,
                  generate_series(date_trunc('day', %(start)s::timestamptz, %(tz)s),
                                  %(end)s, interval '1 day') AS b""",
            {"ids": ids, "start": start, "end": end, "tz": "America/Sao_Paulo"},
        )
        cur.execute("ANALYZE")
    load_s = clock.perf_counter() - t0
    t0 = clock.perf_counter()
    refresh_rollups()
    refresh_s = clock.perf_counter() - t0
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE")
    # As in production between two rollup runs: today's buckets are pending (raw path).
    from telemetria.storage import insert_readings

    insert_readings(_rows(devices, end + timedelta(minutes=30), len(devices)))
    return {
        "rows": rows,
        "load_s": round(load_s, 1),
        "rollup_refresh_s": round(refresh_s, 1),
        "end": end,
    }


def insert_late_readings(devices, loaded_until: datetime) -> None:
    """One reading per device between two stored ones an hour before the last (a
    gateway's buffer flushed late): that day then needs the full recompute from raw."""
    from telemetria.storage import insert_readings

    late = loaded_until - timedelta(hours=1, seconds=150)
    assert insert_readings(_rows(devices, late, len(devices))).inserted == len(devices)


def _timed(fn) -> dict:
    for _ in range(3):
        fn()
    times = []
    for _ in range(QUERY_RUNS):
        t0 = clock.perf_counter()
        fn()
        times.append((clock.perf_counter() - t0) * 1000)
    times.sort()
    return {
        "p50_ms": round(statistics.median(times), 2),
        "p95_ms": round(times[int(len(times) * 0.95) - 1], 2),
    }


def bench_queries(conta, devices, loaded_until: datetime) -> dict:
    from telemetria.storage import (
        DAY,
        consumption_by_month,
        latest_readings_for_conta,
        readings_series_for_device,
    )

    today = date.today()
    first = date(today.year - 1, today.month, 1)
    end = datetime.now(UTC)
    dev = devices[17].pk

    def consumption():
        return consumption_by_month(
            conta_id=conta.pk, start=first, end=today.replace(day=28) + timedelta(days=4)
        )

    def series(bucket):
        return readings_series_for_device(
            conta_id=conta.pk,
            dispositivo_id=dev,
            start=end - timedelta(days=30),
            end=end,
            bucket=bucket,
        )

    assert len({m.mes for m in consumption()}) >= 12
    timings = {
        "consumption_12_months_account": _timed(consumption),
        "series_30_days_device_daily": _timed(lambda: series(DAY)),
        "series_30_days_device_hourly": _timed(lambda: series(timedelta(hours=1))),
        "latest_50_readings_account": _timed(
            lambda: latest_readings_for_conta(conta_id=conta.pk, limit=50)
        ),
    }
    insert_late_readings(devices, loaded_until)
    timings["consumption_12_months_account_after_late_readings"] = _timed(consumption)
    return timings


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="a reading every 5 min (8.4 M rows)")
    args = parser.parse_args(argv)
    step = 5 if args.full else 60
    setup("bench", recreate=True)
    from django_scopes import scopes_disabled

    from telemetria.storage import backend_name

    with scopes_disabled():
        conta, devices = _registry()
        insert = bench_insert(devices)
        volume = load_year(devices, step)
        queries = bench_queries(conta, devices, volume.pop("end"))
    result = {
        "benchmark": "storage",
        "backend": backend_name(),
        "scale": "full" if args.full else "quick",
        "devices": DEVICES,
        "reading_every_minutes": step,
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "insert": insert,
        "volume": volume,
        "queries": queries,
    }
    _print(result)
    out = ROOT / "bench" / "results" / f"storage-{result['backend']}-{result['scale']}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nwritten: {out.relative_to(ROOT)}")
    return result


def _print(r: dict) -> None:
    ins = r["insert"]
    print(f"\nStorage benchmark — back end {r['backend']}, {r['scale']} scale")
    print(f"{'insert (rows/s)':<38}{'value':>12}{'target':>12}")
    print(f"{'insert_readings (storage API)':<38}{ins['api_rows_per_s']:>12}")
    print(f"{'raw psycopg COPY':<38}{ins['raw_copy_rows_per_s']:>12}")
    ok = "ok" if ins["ratio"] >= 0.8 else "BELOW"
    print(f"{'ratio API / raw':<38}{ins['ratio']:>12}{'>= 0.8 ' + ok:>12}")
    v = r["volume"]
    print(
        f"\nvolume: {v['rows']:,} rows loaded in {v['load_s']} s, rollups {v['rollup_refresh_s']} s"
    )
    print(f"{'query (warm)':<52}{'p50 ms':>10}{'p95 ms':>10}{'< 50 ms':>10}")
    for name, t in r["queries"].items():
        ok = "ok" if t["p95_ms"] < 50 else "NO"
        print(f"{name:<52}{t['p50_ms']:>10}{t['p95_ms']:>10}{ok:>10}")


if __name__ == "__main__":
    main()
