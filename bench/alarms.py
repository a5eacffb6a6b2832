"""Alarm benchmark: what 1,000 active rules cost the ingest consumer, and how fast an
alarm reaches an open page.

    .venv/bin/python bench/alarms.py            # quick (about two minutes)
    .venv/bin/python bench/alarms.py --full     # bigger backlog, more alarms

One private Mosquitto; the database `<DATABASE_URL's name>_bench_alarms`; an account
"bench-alarms" with --gateways gateways x 8 cumulative meters (the payload of
bench/ingest.py: 8 readings a message).
1. throughput: a backlog of --messages messages queued in the consumer's persistent
   session, drained by one `manage.py start_mqtt_consumer`, timed from its first commit to
   the ack of its last message (its metrics endpoint; a batch is acked after its alarm
   evaluation); once with no rule, once with 1,000 active rules
   (limite on the value, limite on the hourly rate, consumption in the hour, counter
   anomaly, spread over the devices; thresholds never reached, so the run measures the
   evaluation, not alarm writes); --rounds alternations, medians reported with the ratio.
   With notifications on: a third drain per round, the same 1,000 rules plus one webhook
   target per gateway (filtered to it, pointing at a real receiver on loopback) and a
   real `celery worker -B` (private Redis) running meanwhile, as in production. No
   threshold is reached in any drain, so no alarm fires: this is what configured
   notifications and their worker cost ingest; bench/notify.py measures what each
   transition costs with its outbox.
2. latency: while a background stream runs (--rate messages/s), --alarms readings over a
   limit are published one at a time (each followed by one under it, which clears);
   latency = publish -> the "alarm" event the engine publishes after commit on the
   account's live channel, which the SSE view forwards to open pages as is.
3. Prévia: an account "bench-previa" with 100 devices (50 energy, 50 water; cumulative),
   a reading every 5 minutes for 31 days (built once, kept); the time of the 30-day
   preview of a template rule over all devices of a type, for each kind.
Prints a table and writes bench/results/alarms[-full].json.
"""

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from decimal import Decimal
from pathlib import Path

from benchdb import PRODUCTION_ENV, ROOT, setup

setup("bench_alarms")

import paho.mqtt.client as mqtt  # noqa: E402
import redis  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django_scopes import scopes_disabled  # noqa: E402

from alarmes.models import Alarme, RegraAlarme  # noqa: E402
from contas.models import Conta  # noqa: E402
from dispositivos import services as registry  # noqa: E402
from dispositivos.models import Dispositivo, Gateway  # noqa: E402
from tds_core.live import live_channel  # noqa: E402
from tds_testing.mosquitto import BASE_CONFIG, PrivateMosquitto, free_port  # noqa: E402

RESULTS = ROOT / "bench" / "results"
PER_MSG = 8
N_RULES = 1000


@scopes_disabled()
def setup_account(n_gateways: int):
    conta, _ = Conta.objects.get_or_create(slug="bench-alarms", defaults={"nome": "Bench alarms"})
    gateways = []
    for g in range(n_gateways):
        mac = f"02:ba:00:00:{g // 256:02x}:{g % 256:02x}"
        gw = Gateway.objects.filter(mac=mac).first() or registry.gateway_create(
            conta=conta, codigo=f"BA-{g:04d}", nome=f"Bench {g}", mac=mac
        )
        have = set(Dispositivo.objects.filter(gateway=gw).values_list("codigo", flat=True))
        for d in range(1, PER_MSG + 1):
            if f"D{d:02d}" not in have:
                registry.dispositivo_create(
                    gateway=gw, codigo=f"D{d:02d}", tipo="ENERGIA", slave_id=d, register_modbus=d
                )
        gateways.append(gw)
    return conta, gateways


@scopes_disabled()
def set_rules(conta, n: int) -> int:
    """n active rules over the account's devices, four kinds in turn; 0 deletes them."""
    from alarmes import services

    RegraAlarme.objects.filter(conta=conta).delete()
    Alarme.objects.filter(conta=conta).delete()
    devices = list(Dispositivo.objects.filter(conta=conta).order_by("pk"))
    kinds = [
        {"tipo": "limite", "limite_superior": Decimal("1e9")},
        {"tipo": "limite", "grandeza": "taxa", "limite_superior": Decimal("1e9")},
        {"tipo": "consumo", "periodo": "hora", "limite_superior": Decimal("1e9")},
        {"tipo": "anomalia", "modo_anomalia": "contador", "tolerancia_reset": Decimal("1e9")},
    ]
    for i in range(n):
        services.regra_create(
            conta=conta, nome=f"R{i}", dispositivo=devices[i % len(devices)], **kinds[i % 4]
        )
    return RegraAlarme.objects.filter(conta=conta, ativo=True).count()


def payload(mac: str, when: dt.datetime, i: int, over: int | None = None) -> bytes:
    leituras = [
        {"dispositivo_codigo": f"D{d:02d}", "valor": round(1000 + i * 0.01 + d, 2)}
        for d in range(1, PER_MSG + 1)
    ]
    if over is not None:
        leituras = [{"dispositivo_codigo": "D01", "valor": over}]
    ts = when.isoformat(timespec="microseconds").replace("+00:00", "Z")
    return json.dumps({"gateway_mac": mac, "timestamp": ts, "leituras": leituras}).encode()


def client(client_id: str) -> mqtt.Client:
    c = mqtt.Client(
        callback_api_version=mqtt.CallbackAPIVersion.VERSION2,
        client_id=client_id,
        protocol=mqtt.MQTTv5,
    )
    c.max_inflight_messages_set(1000)
    c.max_queued_messages_set(0)
    return c


def publish_all(port: int, msgs) -> None:
    pub = client("bench-alarms-pub")
    pub.connect("127.0.0.1", port)
    pub.loop_start()
    infos = [pub.publish(t, d, qos=1) for t, d in msgs]
    for info in infos:
        info.wait_for_publish(60)
    pub.disconnect()
    pub.loop_stop()


def db_url() -> str:
    s = connection.settings_dict
    return f"postgres://{s.get('USER') or 'postgres'}@{s.get('HOST') or '127.0.0.1'}:{s.get('PORT') or 5432}/{s['NAME']}"


def start_consumer(port: int, logdir: Path, extra=()) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": db_url(),
        "MQTT_URL": f"mqtt://127.0.0.1:{port}",
        **PRODUCTION_ENV,
    }
    metrics_port = free_port()
    log = open(logdir / "consumer.log", "ab")  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), "start_mqtt_consumer", "--client-id",
         "bench-alarms-0", "--log-interval", "5", "--metrics-port", str(metrics_port), *extra],
        env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    proc.metrics_port = metrics_port
    deadline = time.monotonic() + 30
    while "event=mqtt_subscribed" not in (logdir / "consumer.log").read_text(errors="replace"):
        if time.monotonic() > deadline:
            raise RuntimeError("consumer did not connect")
        time.sleep(0.1)
    return proc


def stop(proc) -> int:
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(60)
    except subprocess.TimeoutExpired:
        # A consumer that does not stop is a bug to report, not a reason to lose the run:
        # its threads' stacks (py-spy, when installed) go to the log, then kill -9.
        spy = Path(sys.executable).with_name("py-spy")
        if spy.exists():
            with open(
                Path(os.environ.get("TMPDIR", "/tmp")) / "bench-alarms" / "hang.txt", "a"
            ) as f:
                subprocess.run([str(spy), "dump", "--pid", str(proc.pid)], stdout=f, stderr=f)
        proc.kill()
        proc.wait()
        return -9


def counters(proc) -> dict:
    """The consumer's metrics: readings stored, messages acked (stored and hooks run)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{proc.metrics_port}/", timeout=2) as r:
            text = r.read().decode()
    except OSError:
        return {"stored": 0, "acked": 0}
    out = {"stored": 0, "acked": 0}
    for line in text.splitlines():
        if line.startswith("tds_ingest_readings_stored_total "):
            out["stored"] = int(float(line.split()[1]))
        elif line.startswith("tds_ingest_messages_acked_total "):
            out["acked"] = int(float(line.split()[1]))
    return out


def clear_readings(conta) -> None:
    with connection.cursor() as cur:
        cur.execute("DELETE FROM tds_new_leitura_dispositivo WHERE conta_id = %s", [conta.pk])
        cur.execute("VACUUM ANALYZE tds_new_leitura_dispositivo")


def drain(port, conta, gateways, n, logdir) -> dict:
    """Sessions created, a backlog of n messages queued, then the drain timed."""
    clear_readings(conta)
    (logdir / "consumer.log").unlink(missing_ok=True)
    stop(start_consumer(port, logdir))  # the persistent session exists
    base = dt.datetime.now(tz=dt.UTC).replace(minute=0, second=0, microsecond=0)
    base -= dt.timedelta(days=1)
    msgs = [
        (
            f"tds_new/devices/{gateways[i % len(gateways)].mac}/telemetry",
            payload(
                gateways[i % len(gateways)].mac,
                base + dt.timedelta(seconds=i // len(gateways)),
                i,
            ),
        )
        for i in range(n)
    ]
    publish_all(port, msgs)
    expected = n * PER_MSG
    proc = start_consumer(port, logdir)
    first = last = None
    deadline = time.monotonic() + 900
    while time.monotonic() < deadline:
        c = counters(proc)
        now = time.monotonic()
        if c["stored"] and first is None:
            first = (now, c["stored"])
        # done when every message is acked: stored AND its alarm evaluation run (the
        # consumer acks a batch only after its post-commit hooks)
        if c["acked"] >= n:
            last = now
            break
        time.sleep(0.05)
    code = stop(proc)
    seconds = last - first[0] if last and first else float("nan")
    return {
        "readings": expected,
        "seconds": seconds,
        "readings_per_s": (expected - first[1]) / seconds if last and first else 0.0,
        "exit_code": code,
    }


@contextlib.contextmanager
def notifications_on(conta, gateways):
    """One webhook target per gateway (filtered to it) at a real receiver, and a real
    Celery worker with beat on a private Redis, for the duration; yields the targets."""
    from notificacoes import services as notify
    from notificacoes.models import DestinoNotificacao
    from tds_testing.celery_worker import CeleryWorker
    from tds_testing.notify_receivers import Receiver
    from tds_testing.servers import PrivateRedis

    with scopes_disabled():
        DestinoNotificacao.objects.filter(conta=conta).delete()
    with Receiver("webhook", secret="bench-secret") as receiver:
        with scopes_disabled():
            for gw in gateways:
                d = notify.destino_create(
                    conta=conta, nome=f"Webhook {gw.codigo}", tipo="webhook",
                    webhook_url=f"{receiver.url}/t/{gw.pk}", gateways=[gw],
                )  # fmt: skip
                notify.destino_update(destino=d, webhook_segredo="bench-secret")
        redis_ = PrivateRedis().start()
        worker = CeleryWorker(broker_url=redis_.url, database_url=db_url()).start()
        try:
            deadline = time.monotonic() + 60
            while "ready" not in worker.output():
                if time.monotonic() > deadline:
                    raise RuntimeError("celery worker not ready")
                time.sleep(0.2)
            yield len(gateways)
        finally:
            worker.stop()
            redis_.stop()
            with scopes_disabled():
                DestinoNotificacao.objects.filter(conta=conta).delete()


def latency(port, conta, gateways, n_alarms: int, rate: int, logdir) -> dict:
    """publish -> the alarm's live event, with a background stream of `rate` msg/s."""
    from alarmes import services

    with scopes_disabled():
        RegraAlarme.objects.filter(conta=conta).delete()
        Alarme.objects.filter(conta=conta).delete()
        targets = list(
            Dispositivo.objects.filter(conta=conta, codigo="D01").select_related("gateway")
        )
        for d in targets:
            services.regra_create(
                conta=conta, nome=f"L{d.pk}", tipo="limite", dispositivo=d,
                limite_superior=Decimal(1_000_000),
            )  # fmt: skip
        set_extra = max(0, N_RULES - len(targets))
        devices = list(Dispositivo.objects.filter(conta=conta).exclude(codigo="D01"))
        for i in range(set_extra):
            services.regra_create(
                conta=conta, nome=f"Q{i}", tipo="limite", dispositivo=devices[i % len(devices)],
                limite_superior=Decimal("1e9"),
            )  # fmt: skip
    clear_readings(conta)
    proc = start_consumer(port, logdir, ["--batch-wait-ms", "10"])
    r = redis.Redis.from_url(settings.REDIS_URL)
    sub = r.pubsub(ignore_subscribe_messages=True)
    sub.subscribe(live_channel(conta.pk))
    sent: dict[str, float] = {}
    seen: dict[str, float] = {}
    stop_bg = threading.Event()

    def listen():
        while not stop_bg.is_set() or len(seen) < len(sent):
            m = sub.get_message(timeout=0.5)
            if m is None:
                if stop_bg.is_set() and time.monotonic() > listen.deadline:
                    return
                continue
            ev = json.loads(m["data"])
            if ev.get("type") == "alarm" and ev["alarme"]["estado"] == "ativo":
                key = ev["alarme"]["inicio"]
                seen.setdefault(key, time.monotonic())

    listen.deadline = float("inf")
    listener = threading.Thread(target=listen)
    listener.start()
    pub = client("bench-alarms-latency")
    pub.connect("127.0.0.1", port)
    pub.loop_start()

    def background():
        i = 0
        while not stop_bg.is_set():
            gw = gateways[i % len(gateways)]
            now = dt.datetime.now(tz=dt.UTC)
            pub.publish(f"tds_new/devices/{gw.mac}/telemetry", payload(gw.mac, now, i), qos=1)
            i += 1
            time.sleep(1 / rate)

    bg = threading.Thread(target=background)
    bg.start()
    time.sleep(2)
    for k in range(n_alarms):
        gw = gateways[k % len(gateways)]
        when = dt.datetime.now(tz=dt.UTC)
        if when.microsecond == 0:  # keep the key's ISO form identical to the event's
            when += dt.timedelta(microseconds=1)
        key = when.isoformat().replace("+00:00", "Z")
        sent[key] = time.monotonic()
        info = pub.publish(
            f"tds_new/devices/{gw.mac}/telemetry", payload(gw.mac, when, k, over=2_000_000), qos=1
        )
        info.wait_for_publish(10)
        time.sleep(0.25)  # the background stream's next reading of D01 clears it
    stop_bg.set()
    bg.join()
    listen.deadline = time.monotonic() + 10
    listener.join()
    pub.disconnect()
    pub.loop_stop()
    code = stop(proc)
    lat = sorted((seen[k] - sent[k]) * 1000 for k in sent if k in seen)
    # inclusive: percentiles within the samples (the default extrapolated p99 past the max)
    q = statistics.quantiles(lat, n=100, method="inclusive") if len(lat) >= 2 else lat * 99
    return {
        "alarms_published": len(sent),
        "alarms_seen": len(lat),
        "background_msgs_per_s": rate,
        "p50_ms": statistics.median(lat) if lat else None,
        "p95_ms": q[94] if lat else None,
        "p99_ms": q[98] if lat else None,
        "max_ms": lat[-1] if lat else None,
        "exit_code": code,
    }


@scopes_disabled()
def setup_preview_account():
    from telemetria.storage import ReadingRow, insert_readings

    conta, _ = Conta.objects.get_or_create(slug="bench-previa", defaults={"nome": "Bench previa"})
    devices = []
    for g in range(13):
        mac = f"02:bb:00:00:00:{g:02x}"
        gw = Gateway.objects.filter(mac=mac).first() or registry.gateway_create(
            conta=conta, codigo=f"BP-{g:02d}", nome=f"Previa {g}", mac=mac,
            intervalo_envio_segundos=300,
        )  # fmt: skip
        for d in range(1, 9):
            if g * 8 + d > 100:
                break
            tipo = "ENERGIA" if (g * 8 + d) % 2 else "AGUA"
            dev = Dispositivo.objects.filter(gateway=gw, codigo=f"D{d:02d}").first()
            devices.append(
                dev
                or registry.dispositivo_create(
                    gateway=gw, codigo=f"D{d:02d}", tipo=tipo, slave_id=d, register_modbus=d
                )
            )
    now = dt.datetime.now(tz=dt.UTC).replace(second=0, microsecond=0)
    start = now - dt.timedelta(days=31)
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM tds_new_leitura_dispositivo WHERE conta_id = %s AND time >= %s",
                    [conta.pk, start])  # fmt: skip
        have = cur.fetchone()[0]
    if have < 100 * 31 * 288 * 0.9:
        with connection.cursor() as cur:
            cur.execute("DELETE FROM tds_new_leitura_dispositivo WHERE conta_id = %s", [conta.pk])
        steps = 31 * 288
        for dev in devices:
            rows, v = [], 1000.0
            for i in range(steps):
                t = start + dt.timedelta(minutes=5 * i)
                local_h = (t - dt.timedelta(hours=3)).hour
                v += 0.02 if local_h < 6 else 0.1 + (i % 7) * 0.01  # night flow: leaks
                rows.append(ReadingRow(t, conta.pk, dev.gateway_id, dev.pk, Decimal(f"{v:.4f}"),
                                       dev.unidade, None))  # fmt: skip
            from django.db import transaction

            with transaction.atomic():
                insert_readings(rows)
    # Day rollups of everything pending, as the rollup job leaves them (200,000 buckets a
    # run: one run left this account's days behind the ingest drains' and the Prévia read
    # 30 days of raw readings: 3.4 s for a daily rule instead of 0.03 s).
    from telemetria.storage import refresh_rollups

    while refresh_rollups().buckets:
        pass
    return conta


@scopes_disabled()
def preview_times(conta) -> dict:
    from alarmes.models import RegraAlarme
    from alarmes.preview import regra_preview

    kinds = {
        "limite (valor)": {"tipo": "limite", "tipo_dispositivo": "ENERGIA",
                           "limite_superior": Decimal(3000), "duracao_minutos": 10},
        "limite (taxa)": {"tipo": "limite", "grandeza": "taxa", "tipo_dispositivo": "ENERGIA",
                          "limite_superior": Decimal("1.5"), "histerese": Decimal("0.2")},
        "consumo (hora)": {"tipo": "consumo", "periodo": "hora", "tipo_dispositivo": "ENERGIA",
                           "limite_superior": Decimal("1.6")},
        "consumo (dia)": {"tipo": "consumo", "periodo": "dia", "tipo_dispositivo": "ENERGIA",
                          "limite_superior": Decimal(30)},
        "vazamento": {"tipo": "vazamento", "tipo_dispositivo": "AGUA",
                      "vazao_minima": Decimal("0.1")},
        "sem dados": {"tipo": "sem_dados", "tipo_dispositivo": "AGUA", "intervalos": 3},
        "anomalia (contador)": {"tipo": "anomalia", "tipo_dispositivo": "ENERGIA"},
        "anomalia (mediana)": {"tipo": "anomalia", "modo_anomalia": "mediana",
                               "tipo_dispositivo": "ENERGIA"},
    }  # fmt: skip
    out = {}
    for name, data in kinds.items():
        regra = RegraAlarme(conta=conta, nome=name, **data)
        regra_preview(regra=regra)  # warm
        p = regra_preview(regra=regra)
        out[name] = {"seconds": p.seconds, "devices": p.devices, "alarms": p.total}
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--full", action="store_true")
    ap.add_argument("--gateways", type=int, default=None)
    ap.add_argument("--messages", type=int, default=None)
    ap.add_argument("--rounds", type=int, default=None)
    ap.add_argument("--alarms", type=int, default=None)
    ap.add_argument("--rate", type=int, default=100)
    ap.add_argument("--only-preview", action="store_true", help="phase 3 only")
    ap.add_argument(
        "--skip-notifications", action="store_true", help="no third drain (notifications on)"
    )
    ap.add_argument("--skip-preview", action="store_true", help="no phase 3 (Prévia)")
    a = ap.parse_args()
    if a.only_preview:
        times = preview_times(setup_preview_account())
        for name, r in times.items():
            print(
                f"  Prévia {name:<22}{r['seconds'] * 1000:>8.0f} ms  ({r['devices']} devices, {r['alarms']} alarms)"
            )
        return 0
    gateways_n = a.gateways or (125 if a.full else 25)
    messages = a.messages or (50_000 if a.full else 20_000)
    rounds = a.rounds or 3
    alarms = a.alarms or (200 if a.full else 40)

    conta, gateways = setup_account(gateways_n)
    logdir = Path(os.environ.get("TMPDIR", "/tmp")) / "bench-alarms"
    logdir.mkdir(exist_ok=True)
    result = {"machine": platform.node(), "gateways": gateways_n, "devices": gateways_n * PER_MSG}
    with PrivateMosquitto(config=BASE_CONFIG) as broker:
        without, with_rules, with_notify = [], [], []
        for _ in range(rounds):
            set_rules(conta, 0)
            without.append(drain(broker.port, conta, gateways, messages, logdir))
            result["active_rules"] = set_rules(conta, N_RULES)
            with_rules.append(drain(broker.port, conta, gateways, messages, logdir))
            if a.skip_notifications:
                continue
            with notifications_on(conta, gateways) as targets:
                with_notify.append(drain(broker.port, conta, gateways, messages, logdir))
                with_notify[-1]["targets"] = targets
        w0 = statistics.median(x["readings_per_s"] for x in without)
        w1 = statistics.median(x["readings_per_s"] for x in with_rules)
        w2 = statistics.median(x["readings_per_s"] for x in with_notify) if with_notify else None
        result["throughput"] = {
            "without_rules": without,
            "with_rules": with_rules,
            "with_rules_and_notifications": with_notify,
            "median_without": w0,
            "median_with": w1,
            "median_with_notifications": w2,
            "ratio": w1 / w0 if w0 else None,
            "ratio_with_notifications": w2 / w0 if w0 and w2 else None,
        }
        result["latency"] = latency(broker.port, conta, gateways, alarms, a.rate, logdir)
    set_rules(conta, 0)
    clear_readings(conta)
    result["previa"] = {} if a.skip_preview else preview_times(setup_preview_account())

    t, lat = result["throughput"], result["latency"]
    print(f"devices: {result['devices']}, active rules: {result['active_rules']}")
    print(f"{'ingest (readings/s)':<38}{'median':>12}")
    print(f"{'  without rules':<38}{t['median_without']:>12,.0f}")
    print(f"{'  with 1,000 active rules':<38}{t['median_with']:>12,.0f}")
    print(f"{'  ratio (target >= 0.9)':<38}{t['ratio']:>12.3f}")
    if with_notify:
        print(f"{'  with rules and notifications on':<38}{w2:>12,.0f}")
        print(f"{'  ratio (target >= 0.9)':<38}{t['ratio_with_notifications']:>12.3f}")
    print(
        f"publish -> alarm event: p50 {lat['p50_ms']:.0f} ms, p95 {lat['p95_ms']:.0f} ms, "
        f"p99 {lat['p99_ms']:.0f} ms, max {lat['max_ms']:.0f} ms ({lat['alarms_seen']}/{lat['alarms_published']} alarms, "
        f"background {lat['background_msgs_per_s']} msg/s)"
    )
    if result["previa"]:
        print("Prévia over 30 days, 100 devices (50 of the rule's type), a reading every 5 min:")
    for name, r in result["previa"].items():
        print(
            f"  {name:<24}{r['seconds'] * 1000:>8.0f} ms  ({r['devices']} devices, {r['alarms']} alarms)"
        )
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / ("alarms-full.json" if a.full else "alarms.json")
    out.write_text(json.dumps(result, indent=2, default=str))
    print(f"written: {out.relative_to(ROOT)}")
    ok = lat["alarms_seen"] == lat["alarms_published"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
