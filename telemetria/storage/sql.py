"""Helpers every storage module uses to write and run SQL: the one way the time zone
enters SQL (`tz_literal`), local midnights, running a query, and the account's devices."""

from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction

from tds_core.localtime import local_midnight, zone  # noqa: F401  (storage modules import them from here)

from .tables import DEVICES


def tz_literal() -> str:
    """The project's time zone (settings.TIME_ZONE) as a SQL string literal, validated
    against the tz database. Every local-day or local-month expression uses it."""
    name = settings.TIME_ZONE
    ZoneInfo(name)  # raises for anything that is not a zone name
    return "'" + name.replace("'", "") + "'"


def fetch(sql: str, params) -> list[tuple]:
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()


AGGREGATE_WORK_MEM = "32MB"


def fetch_without_jit(sql: str, params) -> list[tuple]:
    """fetch() with PostgreSQL's JIT off for this one statement: an account-wide aggregate
    over thousands of meters is estimated above jit_above_cost, and compiling it took
    longer than running it (Emission 114 ms of a 443 ms query; with JIT off the summary
    ran in about half the time: bench/big_account.py's account, 8,000 meters). And with
    AGGREGATE_WORK_MEM for its sorts and hashes: with the default 4 MB the summary of
    80,000 meters (240,000 day rows) sorted on disk three times (1.0–1.2 s → 0.76–0.81 s
    in memory; the memory is per sort or hash node of this one statement, for the few
    account-wide aggregates that use this function, whose results are cached)."""
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("SET LOCAL jit = off")
        cur.execute(f"SET LOCAL work_mem = '{AGGREGATE_WORK_MEM}'")
        cur.execute(sql, params)
        return cur.fetchall()


def device_kinds(conta_id: int, dispositivo_ids=None) -> dict[int, str]:
    """{id: tipo_medidor} of the account's devices (of those in `dispositivo_ids`), by id:
    a device of another account is simply absent."""
    sql = f"SELECT id, tipo_medidor FROM {DEVICES} WHERE conta_id = %s"
    params: list = [conta_id]
    if dispositivo_ids is not None:
        sql += " AND id = ANY(%s)"
        params.append(list(dispositivo_ids))
    return dict(fetch(sql + " ORDER BY id", params))


def device_meters(conta_id: int, dispositivo_ids=None) -> dict[int, tuple[str, Decimal | None]]:
    """{id: (tipo_medidor, register modulus or None)} of the account's devices (as
    device_kinds; the modulus as register_modulus: the value at which the register wraps)."""
    sql = f"""SELECT id, tipo_medidor, (registro_maximo + 1) * fator_conversao
              FROM {DEVICES} WHERE conta_id = %s"""
    params: list = [conta_id]
    if dispositivo_ids is not None:
        sql += " AND id = ANY(%s)"
        params.append(list(dispositivo_ids))
    return {i: (kind, modulus) for i, kind, modulus in fetch(sql + " ORDER BY id", params)}


# A backwards step of a cumulative register is a rollover (the register went past its
# maximum and restarted at zero) only when the consumption it implies, `modulus - previous
# + current`, is at most this fraction of the register's range: it came from near the
# maximum to near zero. Any other backwards step (a meter swap, a glitch, a simulator
# restarting from an older value) counts zero and re-bases the counter.
ROLLOVER_WINDOW = "0.1"


def register_modulus(device: str) -> str:
    """SQL for the engineering value at which the register of `device` (an alias of the
    devices table) wraps to zero: (registro_maximo + 1) × fator_conversao; NULL when the
    register has no configured maximum (then no backwards step is a rollover)."""
    return f"(({device}.registro_maximo + 1) * {device}.fator_conversao)"


def step_adjustment(previous: str, current: str, modulus: str) -> str:
    """SQL for what a step from `previous` to `current` adds to `current - previous` so
    that the sum is the consumption of that step. The one rule for both back ends, the
    daily, monthly and between-day steps and the meter events:
      forward step: 0 (consumption = current - previous);
      rollover (see ROLLOVER_WINDOW): modulus (consumption = modulus - previous + current);
      any other backwards step: previous - current (consumption 0; the counter re-bases)."""
    return f"""(CASE WHEN {current} >= {previous} THEN 0
        WHEN {is_rollover(previous, current, modulus)} THEN {modulus}
        ELSE {previous} - {current} END)"""


def is_rollover(previous: str, current: str, modulus: str) -> str:
    """SQL: the backwards step from `previous` to `current` is a rollover."""
    return f"""({current} < {previous} AND {modulus} IS NOT NULL
        AND {modulus} - {previous} + {current} <= {modulus} * {ROLLOVER_WINDOW}
        AND {current} < {modulus})"""


def step_consumption(valor: Decimal, anterior: Decimal, modulus: Decimal | None) -> Decimal:
    """Python twin of `anterior -> valor`'s consumption under step_adjustment: the
    increase; through the maximum for a rollover; zero for any other backwards step."""
    if valor >= anterior:
        return valor - anterior
    if (
        modulus is not None
        and modulus - anterior + valor <= modulus * _ROLLOVER
        and valor < modulus
    ):
        return modulus - anterior + valor
    return Decimal(0)


_ROLLOVER = Decimal(ROLLOVER_WINDOW)
