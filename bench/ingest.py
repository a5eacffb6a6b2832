"""Ingest benchmark: broker and database ceilings, this consumer, and the per-message ORM
baseline, with the same payloads (8 readings each), QoS 1, on this machine.

    .venv/bin/python bench/ingest.py            # modest sizes (about a minute)
    .venv/bin/python bench/ingest.py --full     # bigger backlog, longer latency run

Phases (one private Mosquitto with large queues and persistence; the database of
DATABASE_URL; an account "bench-ingest" with --gateways gateways x 8 meters):
1. broker ceiling: a backlog of N messages queued in a persistent session, drained by a
   QoS 1 subscriber (the consumer's own MQTT client class) that acks at once (same shape
   as the consumer's drain); also reported: live publish -> subscriber, which the Python
   publisher bounds.
2. database ceiling: raw binary COPY of the same rows straight into the readings table,
   into the same day partition the consumer writes.
3. this consumer at saturation: sessions created, a backlog of N messages queued in the
   persistent sessions, then `--consumers` processes of `manage.py start_mqtt_consumer`
   on the shared subscription drain it; rate = rows / time between first and last commit
   seen on the consumers' metrics endpoints (polling count(*) loaded the database being
   measured). Checked with count(*) afterwards: zero lost, zero duplicated.
4. latency: a steady 2,000 readings/s for --seconds; every reading is stamped with its
   publish time; its commit is seen by the live event the consumer publishes to Redis
   after commit (a slight over-estimate of publish -> commit).
5. baseline: a per-message ORM consumer as the original plan had it (Gateway.objects.get,
   bulk_create per message, one save per message, auto-ack) drains a smaller backlog,
   timing itself from its first to its last message.
Reading times are yesterday's (UTC), so every phase writes a day partition as production does.
Prints a table and writes bench/results/ingest[-full].json.
"""

import argparse
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

setup("bench_ingest")

import paho.mqtt.client as mqtt  # noqa: E402
import redis  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django_scopes import scopes_disabled  # noqa: E402
from paho.mqtt.packettypes import PacketTypes  # noqa: E402
from paho.mqtt.properties import Properties  # noqa: E402

from contas.models import Conta  # noqa: E402
from dispositivos import services as registry  # noqa: E402
from dispositivos.models import Dispositivo, Gateway  # noqa: E402
from ingestao.mqtt import BufferedClient  # noqa: E402
from tds_core import wire  # noqa: E402
from tds_core.live import live_channel  # noqa: E402
from tds_testing.mosquitto import BASE_CONFIG, PrivateMosquitto, free_port  # noqa: E402

RESULTS = ROOT / "bench" / "results"
READINGS_PER_MSG = 8
NATS_CONSUMERS = False  # bench/brokers.py sets it when the consumers are NATS ones
MQTT_PROTOCOL = mqtt.MQTTv5  # of the publishers; bench/brokers.py: 3.1.1 towards NATS
BROKER_CONFIG = BASE_CONFIG  # persistence on, large queues, `user root` (see tds_testing)


def phase_base(k: int) -> dt.datetime:
    """Reading times of phase k: yesterday (UTC) from 00:00 + 2k hours, so the rows land in
    a day partition as in production (not in the DEFAULT partition) and phases do not
    overlap (a phase spans less than two hours of reading time)."""
    today = dt.datetime.now(tz=dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return today - dt.timedelta(days=1) + dt.timedelta(hours=2 * k)


PHASE_SPAN = dt.timedelta(hours=2)


def clear_phase(conta_id: int, base: dt.datetime) -> None:
    """Rows left by an interrupted run would turn this run's inserts into duplicates."""
    with connection.cursor() as cur:
        cur.execute(
            "DELETE FROM tds_new_leitura_dispositivo WHERE conta_id = %s AND time >= %s AND time < %s",
            [conta_id, base, base + PHASE_SPAN],
        )


def settle() -> None:
    """Just before a timed phase: dead rows of earlier phases vacuumed and dirty pages
    flushed, so autovacuum and a checkpoint do not land inside it (without this, two
    consumers measured 93k and 133k readings/s in consecutive runs; with it, 140-145k)."""
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE tds_new_leitura_dispositivo")
        try:
            cur.execute("CHECKPOINT")  # superuser or pg_checkpoint only
        except Exception as exc:
            print(f"  (no CHECKPOINT before the phase: {str(exc).splitlines()[0]})")


def db_url() -> str:
    s = connection.settings_dict
    return f"postgres://{s.get('USER') or 'postgres'}@{s.get('HOST') or '127.0.0.1'}:{s.get('PORT') or 5432}/{s['NAME']}"


# -- data -------------------------------------------------------------------------------
@scopes_disabled()
def setup_account(n_gateways: int):
    conta, _ = Conta.objects.get_or_create(slug="bench-ingest", defaults={"nome": "Bench ingest"})
    gateways = []
    for g in range(n_gateways):
        mac = f"02:be:00:00:{g // 256:02x}:{g % 256:02x}"
        gw = Gateway.objects.filter(mac=mac).first() or registry.gateway_create(
            conta=conta, codigo=f"BENCH-{g:04d}", nome=f"Bench {g}", mac=mac
        )
        have = set(Dispositivo.objects.filter(gateway=gw).values_list("codigo", flat=True))
        for d in range(1, READINGS_PER_MSG + 1):
            if f"D{d:02d}" not in have:
                registry.dispositivo_create(
                    gateway=gw, codigo=f"D{d:02d}", tipo="ENERGIA", slave_id=d, register_modbus=d
                )
        gateways.append(gw)
    with connection.cursor() as cur:
        cur.execute("DELETE FROM tds_new_leitura_dispositivo WHERE conta_id = %s", [conta.pk])
    return conta, gateways


def payload(mac: str, when: dt.datetime, i: int) -> bytes:
    leituras = [
        {"dispositivo_codigo": f"D{d:02d}", "valor": round(1000 + i * 0.01 + d, 2)}
        if d % 2
        else {"dispositivo_codigo": f"D{d:02d}", "raw": 100000 + i}
        for d in range(1, READINGS_PER_MSG + 1)
    ]
    ts = wire.format_timestamp(when, timespec="microseconds")
    return wire.telemetry_payload(mac=mac, timestamp=ts, leituras=leituras)


def messages(gateways, n: int, base: dt.datetime):
    for i in range(n):
        gw = gateways[i % len(gateways)]
        yield (
            wire.telemetry_topic(gw.mac),
            payload(gw.mac, base + dt.timedelta(seconds=i // len(gateways)), i),
        )


def count_rows(conta_id: int, since: dt.datetime, until: dt.datetime) -> tuple[int, int]:
    with connection.cursor() as cur:
        cur.execute(
            "SELECT count(*), count(DISTINCT (dispositivo_id, time)) FROM tds_new_leitura_dispositivo"
            " WHERE conta_id = %s AND time >= %s AND time < %s",
            [conta_id, since, until],
        )
        return cur.fetchone()


# -- MQTT helpers -------------------------------------------------------------------------
def client(client_id: str, *, session: bool = False, buffered: bool = False) -> mqtt.Client:
    """`buffered`: the consumer's own client class (ingestao.mqtt.BufferedClient)."""
    c = (BufferedClient if buffered else mqtt.Client)(
        callback_api_version=mqtt.CallbackAPIVersion.VERSION2,
        client_id=client_id,
        protocol=MQTT_PROTOCOL,
    )
    c.max_inflight_messages_set(1000)
    c.max_queued_messages_set(0)
    return c


def connect(c: mqtt.Client, port: int, *, session: bool = False):
    if mqtt.MQTTv5 != MQTT_PROTOCOL:  # NATS speaks MQTT 3.1.1 only
        c.connect("127.0.0.1", port)
        c.loop_start()
        return
    props = None
    if session:
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = 3600
        props.ReceiveMaximum = 8000  # as the consumer with --batch-size 2000
    c.connect("127.0.0.1", port, clean_start=not session, properties=props)
    c.loop_start()


def publish_all(port: int, msgs, client_id="bench-pub") -> tuple[int, float]:
    pub = client(client_id)
    connect(pub, port)
    t0 = time.monotonic()
    infos = [pub.publish(topic, data, qos=1) for topic, data in msgs]
    for info in infos:
        info.wait_for_publish(60)
    elapsed = time.monotonic() - t0
    pub.disconnect()
    pub.loop_stop()
    return len(infos), elapsed


# -- phases -------------------------------------------------------------------------------
def broker_ceiling(port: int, gateways, n: int) -> dict:
    """Two figures: live (a subscriber connected while a publisher sends as fast as it
    can: bounded by the Python publisher) and drain (a backlog queued in a persistent
    session delivered to a QoS 1 subscriber that acks at once: the same shape as the
    consumer's drain, so this is the ceiling it is compared with). The subscriber uses
    the consumer's own MQTT client class, so the ceiling is not lower than the consumer's
    network path."""
    received = []
    marks = {}
    done = threading.Event()

    def on_message(c, u, m):
        received.append(1)
        if len(received) == 1:
            marks["first"] = time.monotonic()
        if len(received) >= n:
            marks["last"] = time.monotonic()
            done.set()

    def subscriber():
        sub = client("bench-sub", session=True, buffered=True)
        sub.on_message = on_message
        sub.on_connect = lambda c, u, f, rc, p: c.subscribe(
            wire.shared(wire.TELEMETRY_FILTER, "bench"), qos=1
        )
        connect(sub, port, session=True)
        return sub

    sub = subscriber()
    time.sleep(0.5)
    msgs = list(messages(gateways, n, dt.datetime(2024, 1, 1, tzinfo=dt.UTC)))
    t0 = time.monotonic()
    _, pub_s = publish_all(port, msgs)
    done.wait(120)
    live_s = time.monotonic() - t0
    live_n = len(received)
    sub.disconnect()
    sub.loop_stop()
    # drain: the session exists; queue a backlog while away, then reconnect
    publish_all(port, msgs)
    received.clear()
    marks.clear()
    done.clear()
    sub = subscriber()
    done.wait(120)
    sub.disconnect()
    sub.loop_stop()
    drain_s = marks.get("last", time.monotonic()) - marks.get("first", 0)
    return {
        "messages": n,
        "live_received": live_n,
        "live_seconds": live_s,
        "live_readings_per_s": live_n * READINGS_PER_MSG / live_s,
        "publish_msgs_per_s": n / pub_s,
        "drain_received": len(received),
        "drain_seconds": drain_s,
        "readings_per_s": len(received) * READINGS_PER_MSG / drain_s,
    }


def db_ceiling(conta, gateways, n_rows: int) -> dict:
    devices = {}
    with scopes_disabled():
        for d in Dispositivo.objects.filter(conta=conta).values_list("id", "gateway_id"):
            devices.setdefault(d[1], []).append(d[0])
    base = phase_base(0)
    clear_phase(conta.pk, base)
    rows = []
    i = 0
    while len(rows) < n_rows:
        gw = gateways[i % len(gateways)]
        t = base + dt.timedelta(seconds=i // len(gateways))
        for dev in devices[gw.pk]:
            rows.append((t, conta.pk, gw.pk, dev, Decimal("1000.25") + i, "kWh", None))
        i += 1
    rows = rows[:n_rows]
    settle()
    with connection.cursor() as cur:
        t0 = time.monotonic()
        with cur.copy(
            "COPY tds_new_leitura_dispositivo (time, conta_id, gateway_id, dispositivo_id, valor, unidade, payload_raw)"
            " FROM STDIN (FORMAT BINARY)"
        ) as copy:
            copy.set_types(["timestamptz", "int8", "int8", "int8", "numeric", "varchar", "jsonb"])
            for r in rows:
                copy.write_row(r)
        elapsed = time.monotonic() - t0
    return {"rows": len(rows), "seconds": elapsed, "readings_per_s": len(rows) / elapsed}


def start_consumers(port: int, k: int, logdir: Path, extra=()) -> list[subprocess.Popen]:
    """k consumer processes; each serves its Prometheus metrics on `proc.metrics_port`."""
    env = {
        **os.environ,
        "DATABASE_URL": db_url(),
        "MQTT_URL": f"mqtt://127.0.0.1:{port}",
        **PRODUCTION_ENV,
    }
    procs = []
    for i in range(k):
        log = open(logdir / f"consumer-{i}.log", "wb")  # noqa: SIM115
        metrics_port = free_port()
        proc = subprocess.Popen(
            [
                sys.executable,
                str(ROOT / "manage.py"),
                "start_mqtt_consumer",
                "--client-id",
                f"bench-ingest-{i}",
                "--log-interval",
                "5",
                "--metrics-port",
                str(metrics_port),
                *extra,
            ],
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        proc.metrics_port = metrics_port
        procs.append(proc)
    return procs


def stored_by(proc) -> int:
    """Readings the consumer has committed, from its metrics endpoint (polling count(*)
    instead loaded the database being measured)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{proc.metrics_port}/", timeout=2) as r:
            text = r.read().decode()
    except OSError:
        return 0
    for line in text.splitlines():
        if line.startswith("tds_ingest_readings_stored_total "):
            return int(float(line.split()[1]))
    return 0


def wait_connected(logdir: Path, k: int, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(
            "event=mqtt_subscribed" in (logdir / f"consumer-{i}.log").read_text(errors="replace")
            for i in range(k)
        ):
            return
        time.sleep(0.1)
    raise RuntimeError("consumers did not connect")


def stop_all(procs):
    for p in procs:
        p.send_signal(signal.SIGTERM)
    return [p.wait(30) for p in procs]


def drain(port, conta, gateways, n, k, logdir, base, extra=()) -> dict:
    """Create sessions, queue a backlog of n messages, then time the drain."""
    if k > 1 and "--shared" not in extra and not NATS_CONSUMERS:
        # Several MQTT consumers share the stream; no broker restart in this phase.
        extra = [*extra, "--shared", "--accept-loss-window"]
    clear_phase(conta.pk, base)
    for f in logdir.glob("consumer-*.log"):
        f.unlink()
    procs = start_consumers(port, k, logdir, extra)
    wait_connected(logdir, k)
    stop_all(procs)
    publish_all(port, messages(gateways, n, base))
    until = base + PHASE_SPAN
    expected = n * READINGS_PER_MSG
    settle()
    procs = start_consumers(port, k, logdir, extra)
    first = None
    t_last = None
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        total = sum(stored_by(p) for p in procs)
        now = time.monotonic()
        if total and first is None:
            first = (now, total)
        if total >= expected:
            t_last = now
            break
        time.sleep(0.05)
    per = [stored_by(p) for p in procs]
    codes = stop_all(procs)
    total, distinct = count_rows(conta.pk, base, until)
    seconds = (t_last - first[0]) if t_last and first else float("nan")
    return {
        "consumers": k,
        "messages": n,
        "expected": expected,
        "stored": total,
        "duplicated": total - distinct,
        "lost": expected - distinct,
        "seconds": seconds,
        "readings_per_s": (total - first[1]) / seconds if t_last and first and seconds > 0 else 0.0,
        "stored_per_consumer": per,
        "exit_codes": codes,
    }


def latency(port, conta, gateways, seconds: float, rate: int, logdir) -> dict:
    procs = start_consumers(port, 1, logdir, ["--batch-wait-ms", "10"])
    wait_connected(logdir, 1)
    r = redis.Redis.from_url(settings.REDIS_URL)
    sub = r.pubsub(ignore_subscribe_messages=True)
    sub.subscribe(live_channel(conta.pk))
    lat = []
    stop = threading.Event()

    def listen():
        while not stop.is_set():
            m = sub.get_message(timeout=0.2)
            if m:
                now = time.time()
                for rd in json.loads(m["data"]).get("readings", []):
                    t = dt.datetime.fromisoformat(rd["time"].replace("Z", "+00:00")).timestamp()
                    lat.append(now - t)

    listener = threading.Thread(target=listen)
    listener.start()
    pub = client("bench-steady")
    connect(pub, port)
    msgs_per_s = rate / READINGS_PER_MSG
    n = int(seconds * msgs_per_s)
    since = dt.datetime.now(tz=dt.UTC)
    infos = []
    t0 = time.monotonic()
    for i in range(n):
        target = t0 + i / msgs_per_s
        delay = target - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        gw = gateways[i % len(gateways)]
        infos.append(
            pub.publish(
                wire.telemetry_topic(gw.mac),
                payload(gw.mac, dt.datetime.now(tz=dt.UTC), i),
                qos=1,
            )
        )
    for info in infos:
        info.wait_for_publish(30)
    unacked = sum(1 for info in infos if not info.is_published())
    expected = n * READINGS_PER_MSG
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if (
            count_rows(conta.pk, since, dt.datetime.now(tz=dt.UTC) + dt.timedelta(hours=1))[0]
            >= expected
        ):
            break
        time.sleep(0.2)
    time.sleep(1)
    stop.set()
    listener.join()
    pub.disconnect()
    pub.loop_stop()
    stop_all(procs)
    stored, distinct = count_rows(
        conta.pk, since, dt.datetime.now(tz=dt.UTC) + dt.timedelta(hours=1)
    )
    lat.sort()

    def pct(p):
        return lat[min(len(lat) - 1, int(p / 100 * len(lat)))] * 1000 if lat else float("nan")

    return {
        "readings_per_s": rate,
        "seconds": seconds,
        "published": n * READINGS_PER_MSG,
        "unacked_by_broker": unacked,
        "stored": stored,
        "lost": n * READINGS_PER_MSG - distinct,
        "duplicated": stored - distinct,
        "observed": len(lat),
        "p50_ms": pct(50),
        "p95_ms": pct(95),
        "p99_ms": pct(99),
        "mean_ms": statistics.fmean(lat) * 1000 if lat else float("nan"),
    }


def baseline_consumer(port: int, expected_msgs: int) -> None:
    """The original plan's consumer: one message at a time through the ORM."""
    from telemetria.models import LeituraDispositivo

    done = threading.Event()
    count = [0]
    marks = {}

    def on_message(c, u, msg):
        data = json.loads(msg.payload)
        with scopes_disabled():
            gw = Gateway.objects.get(mac=data["gateway_mac"])
            devices = {d.codigo: d for d in Dispositivo.objects.filter(gateway=gw)}
            when = dt.datetime.fromisoformat(data["timestamp"].replace("Z", "+00:00"))
            objs = []
            for r in data["leituras"]:
                d = devices[r["dispositivo_codigo"]]
                valor = (
                    Decimal(str(r["valor"]))
                    if "valor" in r
                    else Decimal(r["raw"]) * d.fator_conversao
                )
                objs.append(
                    LeituraDispositivo(
                        time=when,
                        conta_id=gw.conta_id,
                        gateway=gw,
                        dispositivo=d,
                        valor=valor,
                        unidade=d.unidade,
                    )
                )
            LeituraDispositivo.objects.bulk_create(objs, ignore_conflicts=True)
            gw.last_seen = dt.datetime.now(tz=dt.UTC)
            gw.is_online = True
            gw.save()
        count[0] += 1
        marks.setdefault("first", (time.time(), count[0]))
        if count[0] >= expected_msgs:
            marks["last"] = (time.time(), count[0])
            done.set()

    c = client("bench-baseline", session=True)
    c.on_message = on_message
    c.on_connect = lambda cl, u, f, rc, p: cl.subscribe(wire.TELEMETRY_FILTER, qos=1)
    connect(c, port, session=True)
    done.wait(600)
    c.disconnect()
    c.loop_stop()
    print(json.dumps(marks), flush=True)  # read by baseline(): its own timing, no polling


def baseline(port, conta, gateways, n) -> dict:
    base = phase_base(3)
    clear_phase(conta.pk, base)
    env = {
        **os.environ,
        **PRODUCTION_ENV,
    }
    # create the session, then queue the backlog, then drain
    c = client("bench-baseline", session=True)
    c.on_connect = lambda cl, u, f, rc, p: cl.subscribe(wire.TELEMETRY_FILTER, qos=1)
    connect(c, port, session=True)
    time.sleep(0.5)
    c.disconnect()
    c.loop_stop()
    publish_all(port, messages(gateways, n, base))
    settle()
    out = subprocess.run(
        [sys.executable, __file__, "--baseline-consumer", str(port), str(n)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    marks = json.loads(out.stdout.strip().splitlines()[-1])
    (t_first, n_first), (t_last, n_last) = marks["first"], marks["last"]
    expected = n * READINGS_PER_MSG
    total, distinct = count_rows(conta.pk, base, base + PHASE_SPAN)
    seconds = t_last - t_first
    return {
        "messages": n,
        "stored": total,
        "lost": expected - distinct,
        "seconds": seconds,
        "readings_per_s": (n_last - n_first) * READINGS_PER_MSG / seconds,
    }


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true")
    parser.add_argument("--gateways", type=int, default=200)
    parser.add_argument("--consumers", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=2000)
    parser.add_argument("--baseline-consumer", nargs=2, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.baseline_consumer:
        baseline_consumer(*args.baseline_consumer)
        return {}
    backlog = 50_000 if args.full else 20_000
    broker_n = 50_000 if args.full else 10_000
    db_rows = 400_000 if args.full else 160_000
    base_n = 3_000 if args.full else 800
    lat_s = 30 if args.full else 10

    conta, gateways = setup_account(args.gateways)
    logdir = RESULTS / "ingest-logs"
    logdir.mkdir(parents=True, exist_ok=True)
    out = {
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
        },
        "full": args.full,
        "gateways": args.gateways,
    }
    extra = ["--batch-size", str(args.batch_size), "--batch-wait-ms", "50"]
    settle()  # the rows the previous run deleted at its end
    with PrivateMosquitto(config=BROKER_CONFIG) as broker:
        print("broker ceiling ...", flush=True)
        out["broker_ceiling"] = broker_ceiling(broker.port, gateways, broker_n)
    print("database ceiling ...", flush=True)
    out["db_ceiling"] = db_ceiling(conta, gateways, db_rows)
    results = []
    for k in sorted({1, args.consumers}):
        with PrivateMosquitto(config=BROKER_CONFIG) as broker:
            print(f"consumer x{k} draining {backlog} messages ...", flush=True)
            results.append(
                drain(
                    broker.port,
                    conta,
                    gateways,
                    backlog,
                    k,
                    logdir,
                    phase_base(k),
                    extra,
                )
            )
    out["consumer"] = results
    with PrivateMosquitto(config=BROKER_CONFIG) as broker:
        print(f"latency at 2000 readings/s for {lat_s} s ...", flush=True)
        out["latency"] = latency(broker.port, conta, gateways, lat_s, 2000, logdir)
    with PrivateMosquitto(config=BROKER_CONFIG) as broker:
        print(f"baseline draining {base_n} messages ...", flush=True)
        out["baseline"] = baseline(broker.port, conta, gateways, base_n)

    best = max(results, key=lambda r: r["readings_per_s"])
    lower = min(out["broker_ceiling"]["readings_per_s"], out["db_ceiling"]["readings_per_s"])
    out["summary"] = {
        "best_readings_per_s": best["readings_per_s"],
        "best_consumers": best["consumers"],
        "lower_ceiling": lower,
        "ratio_to_lower_ceiling": best["readings_per_s"] / lower,
        "ratio_to_baseline": best["readings_per_s"] / out["baseline"]["readings_per_s"],
        "p99_ms": out["latency"]["p99_ms"],
        "lost": sum(r["lost"] for r in results),
        "duplicated": sum(r["duplicated"] for r in results),
    }
    print_table(out)
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / ("ingest-full.json" if args.full else "ingest.json")
    path.write_text(json.dumps(out, indent=2, default=str))
    print(f"written {path.relative_to(ROOT)}")
    with connection.cursor() as cur:
        cur.execute("DELETE FROM tds_new_leitura_dispositivo WHERE conta_id = %s", [conta.pk])
    return out


def print_table(out):
    s = out["summary"]
    rows = [
        (
            "broker ceiling (backlog -> QoS 1 subscriber)",
            f"{out['broker_ceiling']['readings_per_s']:,.0f} readings/s",
            f"live publish -> subscriber {out['broker_ceiling']['live_readings_per_s']:,.0f}/s",
        ),
        (
            "database ceiling (raw COPY)",
            f"{out['db_ceiling']['readings_per_s']:,.0f} readings/s",
            "",
        ),
    ]
    for r in out["consumer"]:
        rows.append(
            (
                f"consumer x{r['consumers']} (drain {r['messages']:,} msgs)",
                f"{r['readings_per_s']:,.0f} readings/s",
                f"lost {r['lost']}, dup {r['duplicated']}, per process {r['stored_per_consumer']}",
            )
        )
    rows.append(
        (
            "baseline (per-message ORM)",
            f"{out['baseline']['readings_per_s']:,.0f} readings/s",
            f"lost {out['baseline']['lost']}",
        )
    )
    lat = out["latency"]
    rows.append(
        (
            f"latency @ {lat['readings_per_s']} readings/s",
            f"p50 {lat['p50_ms']:.0f} / p95 {lat['p95_ms']:.0f} / p99 {lat['p99_ms']:.0f} ms",
            f"{lat['observed']}/{lat['published']} observed",
        )
    )
    rows.append(("consumer / lower ceiling", f"{s['ratio_to_lower_ceiling']:.2f}", "target >= 0.6"))
    rows.append(("consumer / baseline", f"{s['ratio_to_baseline']:.1f}x", "target >= 10x"))
    w = max(len(r[0]) for r in rows)
    print()
    print("Ingest benchmark" + (" (--full)" if out["full"] else ""))
    for a, b, c in rows:
        print(f"  {a:<{w}}  {b:>32}  {c}")


if __name__ == "__main__":
    main()
