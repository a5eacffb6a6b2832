"""Big-account benchmark: one account of many gateways × 8 meters, every page and API page.

    .venv/bin/python bench/big_account.py             # 1,000 gateways × 8 meters (8,000)
    .venv/bin/python bench/big_account.py --full      # and 10,000 × 8 (80,000 meters)
    .venv/bin/python bench/big_account.py --gateways 200 --repeat 5

1. Builds (once, idempotently; rebuilt when its newest reading is older than 6 h, since the
   pages show "today") an account per shape with set-based SQL: gateways, devices and
   3 days of hourly readings (`generate_series`, one INSERT … SELECT each), the touched
   days logged as pending and the storage's rollup job run, as production's beat does.
   5 % of the gateways are offline; each meter has its own hourly rate, so "top
   consumers" has an answer.
2. Times every page and account-wide API page through Django's test client (the code the
   product runs, in-process, logged in as an admin of the account): `--warmup` untimed
   requests, then `--repeat` timed ones, p50/p95 and response size.
   Targets: a page ≤ 200 ms and ≤ 300 KB, an API page ≤ 100 ms (p95).

Prints a table and writes bench/results/big_account[-full].json.
"""

import argparse
import json
import statistics
import sys
import time

from benchdb import ROOT, setup

setup("bench_bigacct")

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402
from django_scopes import scopes_disabled  # noqa: E402

from contas.middleware import SESSION_KEY  # noqa: E402
from contas.models import Conta, ContaMembership, Role  # noqa: E402
from telemetria.storage import refresh_rollups  # noqa: E402
from telemetria.storage.backend import current  # noqa: E402
from telemetria.storage.sql import tz_literal  # noqa: E402
from telemetria.storage.tables import (  # noqa: E402
    DAILY,
    DEVICES,
    GATEWAYS,
    MONTHLY,
    PENDING,
    READINGS,
    RESETS,
    TOTALS,
)

PASSWORD = "bench-bigacct-123"
HOURS = 72
# (tipo, unidade, tipo_medidor) of the 8 meters of each gateway
METERS = [
    ("ENERGIA", "kWh", "ACUMULADO"),
    ("ENERGIA", "kWh", "ACUMULADO"),
    ("ENERGIA", "kWh", "ACUMULADO"),
    ("AGUA", "m³", "ACUMULADO"),
    ("AGUA", "m³", "ACUMULADO"),
    ("GAS", "m³", "ACUMULADO"),
    ("TEMP", "°C", "INSTANTANEO"),
    ("TEMP", "°C", "INSTANTANEO"),
]
PAGE_MS, PAGE_BYTES, API_MS = 200, 300_000, 100


def pct(values, p):
    values = sorted(values)
    k = (len(values) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


# ---------------------------------------------------------------- data set
def build(*, gateways: int, rebuild: bool = False) -> tuple[Conta, object]:
    slug = f"bench-big-{gateways}"
    email = f"{slug}@example.com"
    with scopes_disabled():
        conta, _ = Conta.objects.get_or_create(slug=slug, defaults={"nome": f"Bench {gateways}"})
        user = get_user_model().objects.filter(email=email).first()
        if user is None:
            user = get_user_model().objects.create_user(email=email, password=PASSWORD)
        ContaMembership.objects.get_or_create(conta=conta, user=user, defaults={"role": Role.ADMIN})
    with connection.cursor() as cur:
        cur.execute(f"SELECT max(time) FROM {READINGS} WHERE conta_id = %s", [conta.pk])
        newest = cur.fetchone()[0]
        cur.execute(f"SELECT count(*) FROM {GATEWAYS} WHERE conta_id = %s", [conta.pk])
        have = cur.fetchone()[0]
    fresh = newest is not None and timezone.now() - newest < timezone.timedelta(hours=6)
    if have == gateways and fresh and not rebuild:
        print(f"data set present: {gateways:,} gateways × 8 meters")
        return conta, user
    t0 = time.monotonic()
    end = timezone.now().replace(minute=0, second=0, microsecond=0)
    start = end - timezone.timedelta(hours=HOURS - 1)
    current().prepare_days(
        (start - timezone.timedelta(days=1)).date(), (end + timezone.timedelta(days=1)).date()
    )
    tag = conta.pk % 256
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(f"DELETE FROM {READINGS} WHERE conta_id = %s", [conta.pk])
        cur.execute(
            f"DELETE FROM {PENDING} WHERE dispositivo_id IN"
            f" (SELECT id FROM {DEVICES} WHERE conta_id = %s)",
            [conta.pk],
        )
        if have != gateways or rebuild:
            cur.execute(f"DELETE FROM {DEVICES} WHERE conta_id = %s", [conta.pk])
            cur.execute(f"DELETE FROM {GATEWAYS} WHERE conta_id = %s", [conta.pk])
            # MACs 0b:<tag>:<g as 4 bytes>, codes BG00001…; 1 in 20 offline.
            cur.execute(
                f"""INSERT INTO {GATEWAYS} (created_at, updated_at, codigo, mac, nome, descricao,
                       is_active, is_online, last_seen, qte_max_dispositivos,
                       intervalo_envio_segundos, conta_id, simulado, config_publicada_versao,
                       config_versao)
                    SELECT now(), now(), format('BG%%s', lpad(g::text, 5, '0')),
                           format('0b:%%s:%%s:%%s:%%s:%%s', lpad(to_hex(%(tag)s), 2, '0'),
                                  lpad(to_hex((g >> 24) & 255), 2, '0'),
                                  lpad(to_hex((g >> 16) & 255), 2, '0'),
                                  lpad(to_hex((g >> 8) & 255), 2, '0'),
                                  lpad(to_hex(g & 255), 2, '0')),
                           format('Bloco %%s', g), '', true, g %% 20 <> 7,
                           now() - CASE WHEN g %% 20 = 7 THEN interval '3 hours'
                                        ELSE interval '1 minute' END,
                           8, 3600, %(conta)s, false, 0, 1
                    FROM generate_series(1, %(n)s) AS g""",
                {"tag": tag, "n": gateways, "conta": conta.pk},
            )
            values = ", ".join(
                cur.mogrify("(%s, %s, %s, %s, %s)", [i + 1, t, u, k, f"D{i + 1:02d}"])
                for i, (t, u, k) in enumerate(METERS)
            )
            cur.execute(
                f"""INSERT INTO {DEVICES} (created_at, updated_at, codigo, nome, tipo,
                       tipo_medidor, slave_id, register_modbus, fator_conversao, unidade,
                       is_active, conta_id, gateway_id, registro_maximo, funcao_modbus,
                       modbus_host, modbus_porta, ordem_palavras, tipo_dado)
                    SELECT now(), now(), m.codigo, format('%%s %%s', m.tipo, g.codigo), m.tipo,
                           m.kind, m.slave, 0, 1, m.unidade, true, g.conta_id, g.id,
                           4294967295, 'HOLDING', '', 502, 'BIG', 'UINT16'
                    FROM {GATEWAYS} AS g
                    CROSS JOIN (VALUES {values}) AS m(slave, tipo, unidade, kind, codigo)
                    WHERE g.conta_id = %s""",
                [conta.pk],
            )
        # Hourly readings: a register growing at the meter's own rate (1–97 per hour,
        # a bit more in the last 24 h for every 13th meter: "what changed"), or a
        # temperature.
        cur.execute(
            f"""INSERT INTO {READINGS} (time, conta_id, gateway_id, dispositivo_id, valor,
                   unidade, payload_raw)
                SELECT t, d.conta_id, d.gateway_id, d.id,
                       CASE WHEN d.tipo_medidor = 'INSTANTANEO'
                            THEN 20 + (h %% 24) / 4.0
                            ELSE 1000 + h * (d.id %% 97 + 1)
                                 + CASE WHEN d.id %% 13 = 0 AND h > %(hours)s - 24
                                        THEN (h - %(hours)s + 24) * 50 ELSE 0 END END,
                       d.unidade, NULL
                FROM {DEVICES} AS d
                CROSS JOIN generate_series(0, %(hours)s - 1) AS h
                CROSS JOIN LATERAL (SELECT %(start)s::timestamptz + h * interval '1 hour') AS x(t)
                WHERE d.conta_id = %(conta)s""",
            {"hours": HOURS, "start": start, "conta": conta.pk},
        )
        rows = cur.rowcount
        cur.execute(
            f"""INSERT INTO {PENDING} (dispositivo_id, bucket, desde)
                SELECT dispositivo_id, date_trunc('day', time, {tz_literal()}), min(time)
                FROM {READINGS} WHERE conta_id = %s GROUP BY 1, 2""",
            [conta.pk],
        )
    built = time.monotonic() - t0
    while refresh_rollups(max_rows=500_000).buckets:
        pass
    with connection.cursor() as cur:  # as autovacuum leaves them (visibility map, statistics)
        for table in (READINGS, GATEWAYS, DEVICES, DAILY, MONTHLY, *TOTALS):
            cur.execute(f"VACUUM ANALYZE {table}")
    print(
        f"built {gateways:,} gateways × 8 meters, {rows:,} readings in {built:.1f} s,"
        f" rollups in {time.monotonic() - t0 - built:.1f} s"
    )
    return conta, user


# ---------------------------------------------------------------- requests
def requests_for(conta) -> list[tuple[str, str, str]]:
    from dispositivos.models import Dispositivo, Gateway

    with scopes_disabled():
        gw = Gateway.objects.filter(conta=conta).order_by("codigo").first()
        dev = Dispositivo.objects.filter(gateway=gw, tipo="ENERGIA").order_by("codigo").first()
    return [
        ("page", "dashboard /telemetria/", reverse("telemetria:dashboard")),
        ("page", "dashboard search ?q=", reverse("telemetria:dashboard") + "?q=BG0004"),
        ("page", "gateway telemetry", reverse("telemetria:gateway", args=[gw.pk])),
        ("page", "registry gateways", reverse("dispositivos:gateway_list")),
        ("page", "registry devices", reverse("dispositivos:dispositivo_list")),
        ("page", "registry devices ?q=", reverse("dispositivos:dispositivo_list") + "?q=BG0004"),
        ("page", "registry gateway", reverse("dispositivos:gateway_detail", args=[gw.pk])),
        ("page", "registry device", reverse("dispositivos:dispositivo_detail", args=[dev.pk])),
        ("api", "resumo", reverse("telemetria:api_resumo")),
        ("api", "gateways", reverse("telemetria:api_gateways")),
        ("api", "gateways ?q=", reverse("telemetria:api_gateways") + "?q=BG0004"),
        ("api", "gateway detail", reverse("telemetria:api_gateway", args=[gw.pk])),
        ("api", "dispositivos", reverse("telemetria:api_dispositivos")),
        ("api", "dispositivos ?q=", reverse("telemetria:api_dispositivos") + "?q=BG0004"),
        ("api", "consumo-mensal", reverse("telemetria:api_consumo")),
        ("api", "consumo-mensal ?por=tipo", reverse("telemetria:api_consumo") + "?por=tipo"),
        ("api", "leituras/ultimas", reverse("telemetria:api_ultimas")),
        ("api", "serie 24h", reverse("telemetria:api_serie", args=[dev.pk]) + "?periodo=24h"),
    ]


def next_page(client, path) -> str | None:
    """The second page's URL of a paginated API answer (its `next`), if any."""
    body = client.get(path).json()
    return body.get("next")


def measure(client, requests, *, warmup, repeat) -> list[dict]:
    results = []
    extra = []
    for kind, name, path in requests:
        if kind == "api" and (nxt := next_page(client, path)):
            extra.append((kind, name + " page 2", nxt))
    for kind, name, path in requests + extra:
        # Nothing is cached between requests: the summary and ?por=tipo are computed on
        # each (from the totals the rollup job keeps). `cold`: the first request of the
        # row, before the warm-up (the first after the previous row's requests).
        samples, statuses, size = [], set(), 0
        t0 = time.perf_counter()
        client.get(path)
        cold = (time.perf_counter() - t0) * 1000
        for _ in range(max(warmup - 1, 0)):
            client.get(path)
        for _ in range(repeat):
            t0 = time.perf_counter()
            resp = client.get(path)
            body = resp.content
            samples.append((time.perf_counter() - t0) * 1000)
            statuses.add(resp.status_code)
            size = len(body)
        p95 = pct(samples, 95)
        limit_ms = PAGE_MS if kind == "page" else API_MS
        results.append(
            {
                "kind": kind,
                "request": name,
                "path": path,
                "status": sorted(statuses),
                "cold_ms": round(cold, 1),
                "p50_ms": round(statistics.median(samples), 1),
                "p95_ms": round(p95, 1),
                "bytes": size,
                "ok": statuses == {200}
                and p95 <= limit_ms
                and (kind != "page" or size <= PAGE_BYTES),
            }
        )
    return results


def measure_totals(conta, *, repeat) -> list[dict]:
    """The summary's reads alone (selectors, no HTTP): the first call (cold) and `repeat`
    more; and what the totals cost the rollup job: its totals step, and the whole job, for
    a run in which every meter of the account reported today (the steady state of a live
    account, TDS_ROLLUP_SECONDS apart), each in a transaction rolled back afterwards."""
    from telemetria import selectors
    from telemetria.storage.rollups import CLAIMED
    from telemetria.storage.totals import refresh_totals

    out = []
    for name, call in (
        ("summary (selectors.dashboard_summary)", lambda: selectors.dashboard_summary(conta=conta)),
        (
            "per-utility months (?por=tipo)",
            lambda: selectors.monthly_consumption_totals(conta=conta),
        ),
    ):
        t0 = time.perf_counter()
        call()
        cold = (time.perf_counter() - t0) * 1000
        samples = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            call()
            samples.append((time.perf_counter() - t0) * 1000)
        out.append(
            {
                "request": name,
                "cold_ms": round(cold, 1),
                "p50_ms": round(statistics.median(samples), 1),
                "p95_ms": round(pct(samples, 95), 1),
            }
        )
    today = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT id FROM {DEVICES} WHERE conta_id = %s AND tipo_medidor <> 'INSTANTANEO'",
            [conta.pk],
        )
        devs = [r[0] for r in cur.fetchall()]
    params = {"devs": devs, "buckets": [today] * len(devs)}
    with transaction.atomic(), connection.cursor() as cur:
        t0 = time.perf_counter()
        groups = refresh_totals(cur, CLAIMED, params)
        step = (time.perf_counter() - t0) * 1000
        transaction.set_rollback(True)
    out.append({"request": f"rollup: totals step, {groups:,} groups", "cold_ms": round(step, 1)})
    with transaction.atomic():
        with connection.cursor() as cur:
            cur.execute(
                f"INSERT INTO {PENDING} (dispositivo_id, bucket, desde)"
                " SELECT unnest(%s::bigint[]), %s, NULL",
                [devs, today],
            )
        t0 = time.perf_counter()
        refresh_rollups(max_rows=len(devs))
        job = (time.perf_counter() - t0) * 1000
        transaction.set_rollback(True)
    out.append({"request": f"rollup: whole job, {len(devs):,} days", "cold_ms": round(job, 1)})
    with connection.cursor() as cur:  # the rolled-back rows, as autovacuum would clear them
        for table in (PENDING, DAILY, MONTHLY, RESETS, *TOTALS):
            cur.execute(f"VACUUM ANALYZE {table}")
    return out


def print_table(title, results):
    print(f"\n{title}")
    print(f"{'':5} {'request':32} {'cold ms':>8} {'p50 ms':>8} {'p95 ms':>8} {'KB':>8}  ok")
    for r in results:
        print(
            f"{r['kind']:5} {r['request']:32} {r.get('cold_ms', 0):8.1f} {r['p50_ms']:8.1f}"
            f" {r['p95_ms']:8.1f} {r['bytes'] / 1000:8.1f}  {'yes' if r['ok'] else 'NO'}"
        )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--full", action="store_true", help="also 10,000 gateways × 8 meters")
    parser.add_argument("--gateways", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--rebuild", action="store_true", help="build the data sets again")
    args = parser.parse_args()
    shapes = [args.gateways] + ([10 * args.gateways] if args.full else [])
    report, ok = {}, True
    for n in shapes:
        conta, user = build(gateways=n, rebuild=args.rebuild)
        client = Client(HTTP_HOST="localhost")
        client.force_login(user)
        session = client.session
        session[SESSION_KEY] = conta.pk
        session.save()
        results = measure(client, requests_for(conta), warmup=args.warmup, repeat=args.repeat)
        print_table(f"{n:,} gateways × 8 meters ({n * 8:,} meters, {HOURS} h hourly)", results)
        with scopes_disabled():
            totals = measure_totals(conta, repeat=args.repeat)
        for r in totals:
            print(
                f"{'':5} {r['request']:44} cold {r['cold_ms']:8.1f}"
                + (f"  p50 {r['p50_ms']:6.1f}  p95 {r['p95_ms']:6.1f}" if "p50_ms" in r else "")
            )
        report[f"{n}x8"] = results + totals
        ok = ok and all(r["ok"] for r in results)
    out = (
        ROOT / "bench" / "results" / ("big_account-full.json" if args.full else "big_account.json")
    )
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(
        f"\nwritten {out.relative_to(ROOT)}; targets: page ≤ {PAGE_MS} ms and ≤ 300 KB,"
        f" API page ≤ {API_MS} ms (p95)"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
