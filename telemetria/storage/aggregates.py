"""SQL building blocks shared by the rollup job and the read queries.

A daily bucket is a local day (settings.TIME_ZONE) per device, identified by its start
(a timestamptz at local midnight). Per bucket we keep n, soma, minimo, maximo,
primeiro/primeiro_em, ultimo/ultimo_em and `ajuste` (the sum of the previous value at
each counter reset inside the day), so that within-day consumption of a cumulative
meter is `ultimo - primeiro + ajuste`.

"Real-time" daily rows: the stored aggregate (rollup table or continuous aggregate) for
buckets that are not pending, plus the same aggregate computed from the raw readings
for the buckets still in the pending log. Results never depend on whether the rollup
job has run.
"""

from django.db import connection

from .sql import is_rollover, register_modulus, step_adjustment, tz_literal
from .tables import DAILY, DEVICES, PENDING, READINGS, RESETS

AGGREGATE_COLUMNS = (
    "conta_id, dispositivo_id, bucket, n, soma, minimo, maximo,"
    " primeiro, primeiro_em, ultimo, ultimo_em"
)


def day_end(expr: str) -> str:
    """SQL for the end of the local day starting at `expr`: the next local midnight.

    Truncated, not just `+ 1 day` on the wall clock: a day whose midnight does not exist
    (São Paulo's 2018-11-04 began at 01:00) starts at 01:00, and 01:00 + 1 day would
    reach one hour into the next day, counting that hour twice."""
    tz = tz_literal()
    return f"date_trunc('day', (({expr}) AT TIME ZONE {tz}) + interval '1 day') AT TIME ZONE {tz}"


def month_end(expr: str) -> str:
    """SQL for the end of the local month starting at `expr` (as day_end)."""
    tz = tz_literal()
    return (
        f"date_trunc('month', (({expr}) AT TIME ZONE {tz}) + interval '1 month') AT TIME ZONE {tz}"
    )


def replace_rows(cur, table: str, keys: str, columns: str, select: str, params: dict) -> None:
    """Replace the rows of `table` whose (dispositivo_id, bucket) are in the SQL relation
    `keys` with the rows of the SQL query `select` (for `columns`)."""
    cur.execute(
        f"""DELETE FROM {table} AS t USING ({keys}) AS k
            WHERE t.dispositivo_id = k.dispositivo_id AND t.bucket = k.bucket""",
        params,
    )
    cur.execute(f"INSERT INTO {table} ({columns}) {select}", params)


def raw_daily(buckets: str, span: tuple[str, str] | None = None) -> str:
    """Daily aggregates (with `ajuste`) computed from raw readings for the (dispositivo_id,
    bucket) pairs produced by the SQL relation `buckets`.

    Without `span` (the rollup job): one hash join over the devices and time span of
    `buckets` (partitions pruned at run time), not one probe per bucket: refreshing a year
    of buckets stays a single scan. With `span` (read queries: SQL for the first and the
    last bucket, as parameters): partitions or chunks pruned at plan time, and one index
    range probe per bucket, which spares the per-reading day arithmetic."""
    tz = tz_literal()
    if span:
        lo, hi = span[0], day_end(span[1])
        match = f"l.time >= b.bucket AND l.time < {day_end('b.bucket')}"
    else:
        lo = f"(SELECT min(bucket) FROM ({buckets}) AS x)"
        hi = f"(SELECT {day_end('max(bucket)')} FROM ({buckets}) AS x)"
        match = f"""date_trunc('day', l.time, {tz}) = b.bucket
         AND l.dispositivo_id = ANY(ARRAY(SELECT DISTINCT dispositivo_id FROM ({buckets}) AS x))"""
    return f"""
    SELECT conta_id, dispositivo_id, bucket, count(*) AS n, sum(valor) AS soma,
           min(valor) AS minimo, max(valor) AS maximo,
           min(primeiro) AS primeiro, min(time) AS primeiro_em,
           min(ultimo) AS ultimo, max(time) AS ultimo_em,
           coalesce(sum({step_adjustment("anterior", "valor", "modulo")})
                    FILTER (WHERE valor < anterior), 0) AS ajuste
    FROM (
        -- One sort per (device, day) serves lag, first and last.
        SELECT l.conta_id, b.dispositivo_id, b.bucket, l.time, l.valor,
               {register_modulus("dv")} AS modulo,
               lag(l.valor) OVER w AS anterior,
               first_value(l.valor) OVER w AS primeiro,
               last_value(l.valor) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING
                                           AND UNBOUNDED FOLLOWING) AS ultimo
        FROM ({buckets}) AS b
        JOIN {DEVICES} AS dv ON dv.id = b.dispositivo_id
        JOIN {READINGS} AS l
          ON l.dispositivo_id = b.dispositivo_id
         AND {match}
        WHERE l.time >= {lo} AND l.time < {hi}
        WINDOW w AS (PARTITION BY b.dispositivo_id, b.bucket ORDER BY l.time)
    ) AS r
    -- in the window's order (conta_id follows from the device): no sort for the grouping
    GROUP BY dispositivo_id, bucket, conta_id"""


def meter_events(days: str) -> str:
    """The backwards steps of the cumulative meters in the (dispositivo_id, bucket = local
    day) pairs of the SQL relation `days`, in EventoMedidor's columns: each reading lower
    than the one before it (the first reading of a day compared with the device's last
    reading before that day), typed VIRADA (rollover, counted) or RECUO (counted zero)."""
    modulus = register_modulus("dv")
    return f"""
    SELECT dv.conta_id, dv.id, k.bucket, e.time, e.anterior, e.valor,
           CASE WHEN {is_rollover("e.anterior", "e.valor", modulus)} THEN 'VIRADA'
                ELSE 'RECUO' END
    FROM ({days}) AS k
    JOIN {DEVICES} AS dv ON dv.id = k.dispositivo_id AND dv.tipo_medidor = 'ACUMULADO'
    LEFT JOIN LATERAL (
        SELECT p.valor FROM {READINGS} AS p
        WHERE p.dispositivo_id = k.dispositivo_id AND p.time < k.bucket
        ORDER BY p.time DESC LIMIT 1
    ) AS antes ON true
    CROSS JOIN LATERAL (
        SELECT time, valor, anterior FROM (
            SELECT l.time, l.valor, lag(l.valor, 1, antes.valor) OVER (ORDER BY l.time) AS anterior
            FROM {READINGS} AS l
            WHERE l.dispositivo_id = k.dispositivo_id
              AND l.time >= k.bucket AND l.time < {day_end("k.bucket")}
        ) AS s
        WHERE valor < anterior
    ) AS e"""


def pending_buckets(devices: str, lo: str, hi: str) -> str:
    return f"""SELECT DISTINCT dispositivo_id, bucket FROM {PENDING}
        WHERE dispositivo_id = ANY({devices}) AND bucket >= {lo} AND bucket < {hi}"""


def month_resets(months: str) -> str:
    """Counter-reset adjustment of the (dispositivo_id, bucket = local month start) pairs of
    the SQL relation `months`, from the stored daily rows: the days' `ajuste` plus the
    previous day's last value at each reset between two days of the month, so that
    within-month consumption is `ultimo - primeiro + ajuste` of the monthly row (the
    per-day steps telescope)."""
    return f"""
    SELECT dispositivo_id, bucket,
           sum(ajuste) + coalesce(sum({step_adjustment("ultimo_ant", "primeiro", "modulo")})
                                  FILTER (WHERE primeiro < ultimo_ant), 0)
             AS ajuste
    FROM (
        SELECT m.dispositivo_id, m.bucket, d.primeiro, coalesce(r.ajuste, 0) AS ajuste,
               lag(d.ultimo) OVER (PARTITION BY m.dispositivo_id, m.bucket ORDER BY d.bucket)
                 AS ultimo_ant,
               {register_modulus("dv")} AS modulo
        FROM ({months}) AS m
        JOIN {DEVICES} AS dv ON dv.id = m.dispositivo_id
        JOIN {DAILY} AS d ON d.dispositivo_id = m.dispositivo_id
         AND d.bucket >= m.bucket AND d.bucket < {month_end("m.bucket")}
        LEFT JOIN {RESETS} AS r ON r.dispositivo_id = d.dispositivo_id AND r.bucket = d.bucket
    ) AS days
    GROUP BY dispositivo_id, bucket"""


def _appended_daily(devices: str, first: str, last: str) -> str:
    """Pending days whose logged readings all came after the day's stored row (the usual
    case: readings arrive in order): the stored row merged with the readings later than
    its `ultimo_em`, a handful, instead of the whole day from raw.

    Sound because the stored row aggregates every reading of its day up to `ultimo_em`:
    a reading stored later is logged with `desde` <= its time, so one at or before
    `ultimo_em` sends the day to the full recompute (_late_buckets)."""
    return f"""
    SELECT d.conta_id, d.dispositivo_id, d.bucket, d.n + a.n, d.soma + coalesce(a.soma, 0),
           least(d.minimo, a.minimo), greatest(d.maximo, a.maximo),
           d.primeiro, d.primeiro_em, coalesce(a.ultimo, d.ultimo),
           greatest(d.ultimo_em, a.ultimo_em), coalesce(r.ajuste, 0) + a.ajuste
    FROM {DAILY} AS d
    LEFT JOIN {RESETS} AS r ON r.dispositivo_id = d.dispositivo_id AND r.bucket = d.bucket
    CROSS JOIN LATERAL (
        SELECT count(*) AS n, sum(valor) AS soma, min(valor) AS minimo, max(valor) AS maximo,
               (array_agg(valor ORDER BY time DESC))[1] AS ultimo, max(time) AS ultimo_em,
               coalesce(sum({step_adjustment("anterior", "valor", "modulo")})
                        FILTER (WHERE valor < anterior), 0) AS ajuste
        FROM (
            SELECT l.time, l.valor, lag(l.valor, 1, d.ultimo) OVER (ORDER BY l.time) AS anterior,
                   (SELECT {register_modulus("dv")} FROM {DEVICES} AS dv
                    WHERE dv.id = d.dispositivo_id) AS modulo
            FROM {READINGS} AS l
            WHERE l.dispositivo_id = d.dispositivo_id AND l.time > d.ultimo_em
              AND l.time < {day_end("d.bucket")}
              -- constant bounds: partitions/chunks pruned at plan time
              AND l.time >= {first} AND l.time < {day_end(last)}
        ) AS x
    ) AS a
    WHERE d.dispositivo_id = ANY({devices}) AND d.bucket >= {first} AND d.bucket <= {last}
      -- pending, and every logged reading later than the stored row (NULL: not pending)
      AND (SELECT bool_and(coalesce(p.desde > d.ultimo_em, false)) FROM {PENDING} AS p
           WHERE p.dispositivo_id = d.dispositivo_id AND p.bucket = d.bucket)"""


def _late_buckets(devices: str, first: str, last: str) -> str:
    """Pending days that need the full recompute from raw: no stored row, or a logged
    reading at or before the stored row's `ultimo_em` (late), or no `desde` logged."""
    return f"""SELECT p.dispositivo_id, p.bucket
        FROM {PENDING} AS p
        LEFT JOIN {DAILY} AS d ON d.dispositivo_id = p.dispositivo_id AND d.bucket = p.bucket
         AND d.bucket >= {first} AND d.bucket <= {last}  -- chunks pruned at plan time
        WHERE p.dispositivo_id = ANY({devices}) AND p.bucket >= {first} AND p.bucket <= {last}
        GROUP BY p.dispositivo_id, p.bucket
        HAVING NOT bool_and(coalesce(p.desde > d.ultimo_em, false))"""


# The device ids as a bigint[] parameter. Client-side binding sends a list of small ids as
# smallint[], and `bigint = ANY(smallint[])` is not hashed (the two sides' hash functions
# differ): each row is compared with every id. Cast, consumption_by_day over 8,000 meters
# went from 1.1–2.5 s to 0.55 s (bench/big_account.py's account).
DEVS = "%(devs)s::bigint[]"


def realtime_daily(devices: str, lo: str, hi: str, span: tuple[str, str] | None) -> str:
    """Real-time daily rows (AGGREGATE_COLUMNS + ajuste) of `devices` (SQL array) with
    bucket in [lo, hi). `span`: SQL for the first and last pending bucket in that range,
    or None when nothing is pending there (then the stored rows are the answer).

    Only buckets pending within `span` count as pending: one logged after the span was
    read (a concurrent insert) is served from its stored row, as if read a moment earlier.
    Pending days come from their stored row plus the readings after it when those
    readings arrived in order (_appended_daily), from raw otherwise (_late_buckets)."""
    stored = f"""
    SELECT d.conta_id, d.dispositivo_id, d.bucket, d.n, d.soma, d.minimo, d.maximo,
           d.primeiro, d.primeiro_em, d.ultimo, d.ultimo_em, coalesce(r.ajuste, 0) AS ajuste
    FROM {DAILY} AS d
    LEFT JOIN {RESETS} AS r ON r.dispositivo_id = d.dispositivo_id AND r.bucket = d.bucket
    WHERE d.dispositivo_id = ANY({devices}) AND d.bucket >= {lo} AND d.bucket < {hi}"""
    if span is None:
        return stored
    first, last = span
    # The pending check is an index probe for the rows within the span only (the planner's
    # estimate of the pending rows is often stale, and a join chosen on it can be slow).
    return f"""{stored}
      AND (d.bucket < {first} OR d.bucket > {last}
           OR NOT EXISTS (SELECT 1 FROM {PENDING} AS p
                          WHERE p.dispositivo_id = d.dispositivo_id AND p.bucket = d.bucket))
    UNION ALL
    {_appended_daily(devices, first, last)}
    UNION ALL
    {raw_daily(_late_buckets(devices, first, last), span)}"""


def pending_span(devs, lo, hi):
    """First and last pending bucket of `devs` in [lo, hi), or None."""
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT min(bucket), max(bucket) FROM {PENDING}"
            " WHERE dispositivo_id = ANY(%s::bigint[]) AND bucket >= %s AND bucket < %s",
            [devs, lo, hi],
        )
        first, last = cur.fetchone()
    return None if first is None else (first, last)


def realtime_daily_between(params: dict, lo: str, hi: str, span_key: str) -> str:
    """realtime_daily() for %(devs)s in [%(lo)s, %(hi)s) (keys of `params`); looks up the
    pending span and puts it into `params` under `<span_key>_lo` / `_hi`."""
    span = pending_span(params["devs"], params[lo], params[hi])
    if span is None:
        return realtime_daily(DEVS, f"%({lo})s", f"%({hi})s", None)
    params[f"{span_key}_lo"], params[f"{span_key}_hi"] = span
    return realtime_daily(
        DEVS, f"%({lo})s", f"%({hi})s", (f"%({span_key}_lo)s", f"%({span_key}_hi)s")
    )
