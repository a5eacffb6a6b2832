"""Dashboard benchmark: warm latency of every dashboard request, and publish → screen.

    .venv/bin/python bench/dashboard.py            # modest data set (~140 k readings)
    .venv/bin/python bench/dashboard.py --full     # the 8.4 M-reading data set
    .venv/bin/python bench/dashboard.py --skip-screen

1. Builds (once, idempotently) an account "bench-dashboard" with gateways × 8 meters and
   readings every 10 min through the storage API (`insert_readings`, COPY); --full is
   20 gateways × 8 meters × 365 days = 8.4 M readings.
2. Starts `uvicorn prj_tds_new.asgi:application` and times, over real HTTP with a logged-in
   session, the page, each JSON endpoint and the first byte of a 30-day CSV export:
   `--warmup` untimed requests, then `--repeat` timed ones; target < 200 ms each.
3. Latency to the screen: chromium (Playwright) on the dashboard, a MutationObserver in
   the page stamps each new row of "latest readings"; `--readings` readings are published
   (every 100 ms) and p50/p95 of publish → visible are reported; target p95 ≤ 300 ms.
   The readings go over MQTT through a private Mosquitto and the real consumer
   (`manage.py start_mqtt_consumer`), which stores them and publishes their live event.

Prints a table and writes bench/results/dashboard[-full].json.
"""

import argparse
import datetime as dt
import http.client
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from benchdb import ROOT, setup

setup("bench_dashboard")

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402
from django_scopes import scopes_disabled  # noqa: E402

from contas.models import Conta, ContaMembership, Role  # noqa: E402
from dispositivos import services as registry  # noqa: E402
from dispositivos.models import Dispositivo, Gateway  # noqa: E402
from tds_core import wire  # noqa: E402
from tds_testing.browser import launch_chromium  # noqa: E402
from tds_testing.mosquitto import PrivateMosquitto  # noqa: E402
from tds_testing.uvicorn import UvicornServer  # noqa: E402
from tds_testing.waiting import wait_for  # noqa: E402
from telemetria import storage as storage_api  # noqa: E402
from telemetria.storage import ReadingRow, insert_readings  # noqa: E402
from telemetria.storage.backend import current  # noqa: E402

EMAIL = "bench-dashboard@example.com"
PASSWORD = "bench-dashboard-123"
TIPOS = ["ENERGIA", "ENERGIA", "ENERGIA", "AGUA", "AGUA", "GAS", "TEMP", "TEMP"]
STEP = dt.timedelta(minutes=10)


def pct(values, p):
    values = sorted(values)
    k = (len(values) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


# ---------------------------------------------------------------- data set
def build_dataset(*, slug: str, gateways: int, days: int) -> tuple[Conta, list[Dispositivo]]:
    with scopes_disabled():
        conta, _ = Conta.objects.get_or_create(slug=slug, defaults={"nome": f"Bench {slug}"})
        from django.contrib.auth import get_user_model

        user = get_user_model().objects.filter(email=EMAIL).first()
        if user is None:
            user = get_user_model().objects.create_user(email=EMAIL, password=PASSWORD)
        ContaMembership.objects.get_or_create(conta=conta, user=user, defaults={"role": Role.ADMIN})
        ContaMembership.objects.filter(user=user).exclude(conta=conta).delete()
        devices = []
        for g in range(gateways):
            codigo = f"BGW{g:03d}"
            gw = Gateway.objects.filter(conta=conta, codigo=codigo).first()
            if gw is None:
                tag = sum(map(ord, slug)) & 0xFF  # deterministic per data set
                mac = f"0e:{tag:02x}:{len(slug):02x}:00:{g // 256:02x}:{g % 256:02x}"
                gw = registry.gateway_create(
                    conta=conta,
                    codigo=codigo,
                    nome=f"Bench {g}",
                    mac=mac,
                    intervalo_envio_segundos=600,
                )
            for i, tipo in enumerate(TIPOS):
                d = Dispositivo.objects.filter(gateway=gw, codigo=f"D{i + 1:02d}").first()
                if d is None:
                    d = registry.dispositivo_create(
                        gateway=gw,
                        codigo=f"D{i + 1:02d}",
                        tipo=tipo,
                        slave_id=i + 1,
                        register_modbus=0,
                    )
                devices.append(d)
        Gateway.objects.filter(conta=conta).update(is_online=True, last_seen=timezone.now())
    with connection.cursor() as cur:
        cur.execute(
            "SELECT count(*) FROM tds_new_leitura_dispositivo WHERE conta_id = %s", [conta.pk]
        )
        have = cur.fetchone()[0]
    steps = int(dt.timedelta(days=days) / STEP)
    want = steps * len(devices)
    if have >= want:
        print(f"data set present: {have:,} readings")
        return conta, devices
    print(f"building data set: {want:,} readings ({len(devices)} meters × {steps:,} steps)…")
    end = timezone.now().replace(second=0, microsecond=0)
    start = end - steps * STEP
    # Day partitions first, as production has them (the daily maintenance job moves rows
    # out of the default partition): loaded into the default partition, the first run
    # measured a layout production never has, and the next run's migrate moved the rows.
    current().prepare_days(start.astimezone(dt.UTC).date(), end.astimezone(dt.UTC).date())
    t0 = time.monotonic()
    batch, total = [], 0
    for s in range(steps):
        when = start + s * STEP
        for d in devices:
            if d.tipo == "TEMP":
                valor = Decimal(20 + (s % 144) / 20).quantize(Decimal("0.01"))
            else:
                valor = Decimal(s) * Decimal("0.25") + d.pk
            batch.append(ReadingRow(when, conta.pk, d.gateway_id, d.pk, valor, d.unidade, None))
        if len(batch) >= 100_000:
            total += insert_readings(batch).inserted
            batch = []
            print(f"  {total:,} rows, {total / (time.monotonic() - t0):,.0f}/s", flush=True)
    if batch:
        total += insert_readings(batch).inserted
    with connection.cursor() as cur:
        cur.execute("ANALYZE tds_new_leitura_dispositivo")
    print(f"inserted {total:,} readings in {time.monotonic() - t0:.0f} s")
    return conta, devices


# ---------------------------------------------------------------- server
def session_cookie() -> str:
    client = Client()
    assert client.login(username=EMAIL, password=PASSWORD)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def timed_get(port, path, cookie, *, first_byte=False) -> tuple[float, int]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    t0 = time.perf_counter()
    conn.request("GET", path, headers={"Cookie": cookie, "Accept": "*/*"})
    resp = conn.getresponse()
    if first_byte:
        resp.read(1)
    else:
        resp.read()
    elapsed = (time.perf_counter() - t0) * 1000
    conn.close()
    return elapsed, resp.status


def bench_requests(port, cookie, conta, devices, *, warmup, repeat) -> list[dict]:
    gw = devices[0].gateway_id
    energia = devices[0].pk
    temp = next(d.pk for d in devices if d.tipo == "TEMP")
    requests = [
        ("page /telemetria/", reverse("telemetria:dashboard"), False),
        ("page gateway", reverse("telemetria:gateway", args=[gw]), False),
        ("api resumo", reverse("telemetria:api_resumo"), False),
        ("api gateways", reverse("telemetria:api_gateways"), False),
        ("api gateway detail", reverse("telemetria:api_gateway", args=[gw]), False),
        ("api dispositivos (latest)", reverse("telemetria:api_dispositivos"), False),
        ("api ultimas 50", reverse("telemetria:api_ultimas"), False),
        ("api consumo 6 meses", reverse("telemetria:api_consumo"), False),
    ]
    for periodo in ("1h", "24h", "7d", "30d"):
        requests.append(
            (
                f"api serie {periodo} (kWh)",
                reverse("telemetria:api_serie", args=[energia]) + f"?periodo={periodo}",
                False,
            )
        )
    requests.append(
        ("api serie 30d (°C)", reverse("telemetria:api_serie", args=[temp]) + "?periodo=30d", False)
    )
    requests.append(
        (
            "csv 30d first byte",
            reverse("telemetria:csv_gateway", args=[gw]) + "?periodo=30d&formato=br",
            True,
        )
    )
    results = []
    for name, path, first_byte in requests:
        for _ in range(warmup):
            timed_get(port, path, cookie, first_byte=first_byte)
        samples, statuses = [], set()
        for _ in range(repeat):
            ms, status = timed_get(port, path, cookie, first_byte=first_byte)
            samples.append(ms)
            statuses.add(status)
        results.append(
            {
                "request": name,
                "path": path,
                "status": sorted(statuses),
                "p50_ms": round(statistics.median(samples), 1),
                "p95_ms": round(pct(samples, 95), 1),
                "max_ms": round(max(samples), 1),
                "ok": statuses == {200} and pct(samples, 95) < 200,
            }
        )
    return results


# ---------------------------------------------------------------- screen latency
OBSERVER_JS = """
window.__arrivals = [];
new MutationObserver((muts) => {
  const t = performance.timeOrigin + performance.now();
  for (const m of muts) for (const n of m.addedNodes) {
    if (n.nodeType === 1 && n.cells) window.__arrivals.push([t, n.cells[n.cells.length - 1].textContent]);
  }
}).observe(document.getElementById('latest-body'), {childList: true});
"""


def bench_screen(port, cookie, conta, devices, *, readings) -> dict:
    from playwright.sync_api import sync_playwright

    dev = devices[0]
    # Values unique to this run: rows of earlier runs (re-rendered by a resync) must not
    # match this run's published values. Increasing between runs (no counter reset).
    base_value = 7_000_000 + (int(time.time()) % 10_000_000) * 1_000
    published: dict[int, float] = {}
    import paho.mqtt.client as mqtt

    broker = PrivateMosquitto().start()
    consumer_log = Path(tempfile.mkdtemp(prefix="tds-bench-dashboard-")) / "consumer.log"
    with open(consumer_log, "wb") as out:
        consumer = subprocess.Popen(
            [sys.executable, "manage.py", "start_mqtt_consumer"],
            cwd=ROOT,
            env={**os.environ, "MQTT_URL": broker.url, "LOG_LEVEL": "INFO"},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    mqtt_client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench-dashboard-pub")
    mqtt_client.connect("127.0.0.1", broker.port)
    mqtt_client.loop_start()
    log_text = lambda: consumer_log.read_text(errors="replace")  # noqa: E731
    wait_for(
        lambda: "event=mqtt_subscribed" in log_text(),
        timeout=60,
        what="the consumer subscribed",
        log=lambda: log_text()[-2000:],
    )
    gw = dev.gateway
    topic = wire.telemetry_topic(gw.mac)
    host_cookie = cookie.split("=", 1)
    with sync_playwright() as p:
        browser = launch_chromium(p)
        ctx = browser.new_context(locale="pt-BR")
        ctx.add_cookies(
            [{"name": host_cookie[0], "value": host_cookie[1], "domain": "127.0.0.1", "path": "/"}]
        )
        page = ctx.new_page()
        page.goto(f"http://127.0.0.1:{port}/telemetria/")
        page.wait_for_function(
            "document.documentElement.dataset.liveState === 'live'", timeout=15000
        )
        page.evaluate(OBSERVER_JS)
        start = timezone.now()
        for i in range(readings):
            valor = base_value + i
            when = start + dt.timedelta(milliseconds=10 * i)
            payload = wire.telemetry_payload(
                mac=gw.mac,
                timestamp=when,
                leituras=[{"dispositivo_codigo": dev.codigo, "valor": valor}],
            )
            published[valor] = time.time() * 1000
            mqtt_client.publish(topic, payload, qos=1)
            page.wait_for_timeout(100)
        page.wait_for_timeout(1500)
        arrivals = page.evaluate("window.__arrivals")
        final_state = page.evaluate("document.documentElement.dataset.liveState")
        browser.close()
    mqtt_client.loop_stop()
    mqtt_client.disconnect()
    consumer.terminate()
    consumer.wait(15)
    shutil.rmtree(consumer_log.parent, ignore_errors=True)
    broker.close()
    first_seen: dict[int, float] = {}
    for t, text in arrivals:  # the first time each value appears (a resync re-renders rows)
        cells = text.split(" ")
        digits = "".join(c for c in (cells[-2] if len(cells) >= 2 else "") if c.isdigit())
        if digits and int(digits) in published and int(digits) not in first_seen:
            first_seen[int(digits)] = t
    latencies = [first_seen[v] - published[v] for v in first_seen]
    missing = readings - len(latencies)
    return {
        "path": "mqtt → consumer → redis → sse → DOM",
        "readings": readings,
        "seen": len(latencies),
        "missing": missing,
        "live_state_at_end": final_state,
        "p50_ms": round(pct(latencies, 50), 1) if latencies else None,
        "p95_ms": round(pct(latencies, 95), 1) if latencies else None,
        "max_ms": round(max(latencies), 1) if latencies else None,
        "ok": bool(latencies) and missing == 0 and pct(latencies, 95) <= 300,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--full", action="store_true", help="8.4 M readings (20 gateways × 8 × 365 d)"
    )
    parser.add_argument("--gateways", type=int, default=4)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--readings", type=int, default=120)
    parser.add_argument("--skip-screen", action="store_true")
    args = parser.parse_args(argv)
    if args.full:
        args.gateways, args.days = 20, 365
    slug = "bench-dashboard-full" if args.full else f"bench-dashboard-{args.gateways}x{args.days}"
    conta, devices = build_dataset(slug=slug, gateways=args.gateways, days=args.days)
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM tds_new_leitura_dispositivo")
        table_rows = cur.fetchone()[0]
    t0 = time.monotonic()
    while storage_api.refresh_rollups().buckets:  # what the rollup beat job does
        pass
    print(f"rollups refreshed in {time.monotonic() - t0:.1f} s")
    cookie = session_cookie()
    server = UvicornServer()
    try:
        results = bench_requests(
            server.port, cookie, conta, devices, warmup=args.warmup, repeat=args.repeat
        )
        screen = (
            None
            if args.skip_screen
            else bench_screen(server.port, cookie, conta, devices, readings=args.readings)
        )
    finally:
        server.stop()
    print(
        f"\nDashboard requests, warm ({args.repeat} timed after {args.warmup} warm-up), "
        f"readings table: {table_rows:,} rows; target < 200 ms"
    )
    print(f"{'request':32} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}  ok")
    for r in results:
        print(
            f"{r['request']:32} {r['p50_ms']:8.1f} {r['p95_ms']:8.1f} {r['max_ms']:8.1f}  {'yes' if r['ok'] else 'NO'}"
        )
    if screen:
        print(
            f"\nLatency to the screen ({screen['path']}), {screen['seen']}/{screen['readings']} seen; target p95 ≤ 300 ms"
        )
        print(
            f"p50 {screen['p50_ms']} ms · p95 {screen['p95_ms']} ms · max {screen['max_ms']} ms  "
            f"{'ok' if screen['ok'] else 'NOT MET'}"
        )
    out = ROOT / "bench" / "results" / ("dashboard-full.json" if args.full else "dashboard.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "when": timezone.now().isoformat(),
                "table_rows": table_rows,
                "account_devices": len(devices),
                "gateways": args.gateways,
                "days": args.days,
                "requests": results,
                "screen": screen,
                "debug": settings.DEBUG,
            },
            indent=2,
            ensure_ascii=False,
        )
    )
    print(f"\nwritten {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
