"""Gateway agent benchmark (tds-gateway), on this machine, with real parts: pymodbus's
TCP server as the meters, the generated Mosquitto (mTLS), the agent as a process.

    .venv/bin/python bench/agent.py            # quick: 15 s per phase, 2,000-message backlog
    .venv/bin/python bench/agent.py --full     # 60 s per phase, 20,000-message backlog

1. CPU and memory: one agent polling 100 meters (one Modbus TCP endpoint, 100 unit ids,
   uint32 holding registers) every second, publishing to the broker (a subscriber acks);
   CPU from /proc/<pid>/stat over the phase, peak RSS from /proc/<pid>/status.
2. Backlog drain: N telemetry messages put in the agent's outbox before it starts, drain
   bound lifted (the default bound is 50 messages/s); rate = N / time to an empty outbox.
3. Poll -> commit latency through the agent: a registered gateway with 8 meters polled
   every second, the consumer process and the database; each reading's latency is the
   time its row is first seen in the database minus its poll tick (seen by a 10 ms
   polling query: over-estimates by up to 10 ms).
Prints a table and writes bench/results/agent[-full].json.
"""

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from benchdb import ROOT, setup

TMP = Path(tempfile.mkdtemp(prefix="tds-bench-agent-"))
os.environ["TDS_PKI_DIR"] = str(TMP / "pki")
setup("bench_agent")

import paho.mqtt.client as mqtt  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db.models import Max  # noqa: E402
from django_scopes import scopes_disabled  # noqa: E402
from tds_gateway import wire  # noqa: E402
from tds_gateway.decode import encode  # noqa: E402
from tds_gateway.outbox import Outbox  # noqa: E402

from certificados import services as cert_services  # noqa: E402
from certificados.pki import ca as pki  # noqa: E402
from certificados.tests.broker_util import GeneratedBroker  # noqa: E402
from contas.models import Conta  # noqa: E402
from dispositivos import services as registry  # noqa: E402
from dispositivos.models import Gateway  # noqa: E402
from tds_testing.meters import MeterServer  # noqa: E402
from telemetria.models import LeituraDispositivo  # noqa: E402

CLK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def bootstrap(broker, crt, key, outbox, **extra) -> Path:
    path = outbox.parent / "bootstrap.toml"
    more = "".join(f"{k} = {v}\n" for k, v in extra.items())
    path.write_text(
        f'[broker]\nhost = "127.0.0.1"\nport = {broker.port}\n'
        f'[tls]\nca_file = "{broker.out / "ca.crt"}"\ncert_file = "{crt}"\nkey_file = "{key}"\n'
        f'[modbus]\ntimeout = 0.5\n[outbox]\npath = "{outbox}"\n{more}'
    )
    return path


def start_agent(config: Path, log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "tds_gateway.cli", "run", "--config", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=log.open("ab"),
    )


def stop(proc):
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def acking_subscriber(broker) -> mqtt.Client:
    """Subscribes to every gateway's telemetry, so the broker PUBACKs 0x00 to the agent."""
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench-sub", protocol=mqtt.MQTTv5)
    c.tls_set(
        ca_certs=str(broker.out / "ca.crt"),
        certfile=str(broker.out / "consumer.crt"),
        keyfile=str(broker.out / "consumer.key"),
    )
    c.on_connect = lambda cl, *a: cl.subscribe("tds_new/devices/+/telemetry", qos=1)
    c.readings = 0

    def on_message(cl, userdata, msg):
        cl.readings += len(json.loads(msg.payload)["leituras"])

    c.on_message = on_message
    c.connect("127.0.0.1", broker.port)
    c.loop_start()
    return c


def identity(gateway) -> tuple[Path, Path]:
    issued = cert_services.certificado_issue(gateway=gateway)
    crt, key = TMP / f"{gateway.codigo}.crt", TMP / f"{gateway.codigo}.key"
    crt.write_text(issued.certificado.certificado_pem)
    pki.write_private(key, issued.key_pem)
    return crt, key


def unregistered_config(mac: str, port: int, n: int) -> str:
    devices = [
        {
            "dispositivo_codigo": f"M{i:03d}",
            "slave_id": i,
            "registrador": 0,
            "tipo_dado": "uint32",
            "fator_conversao": "0.01",
            "modbus_host": "127.0.0.1",
            "modbus_porta": port,
        }
        for i in range(1, n + 1)
    ]
    return json.dumps(
        {"gateway_mac": mac, "versao": 1, "intervalo_segundos": 1, "dispositivos": devices}
    )


def phase_cpu(broker, gateway, seconds: float, n_meters: int) -> dict:
    meters = MeterServer(slave_ids=range(1, n_meters + 1)).start()
    for i in range(1, n_meters + 1):
        meters.set(i, 0, encode(100_000 + i, "uint32"))
    crt, key = identity(gateway)
    d = TMP / "cpu"
    d.mkdir()
    box = Outbox(d / "outbox.sqlite3")
    box.meta_set("config", unregistered_config(gateway.mac, meters.port, n_meters))
    box.close()
    sub = acking_subscriber(broker)
    agent = start_agent(bootstrap(broker, crt, key, d / "outbox.sqlite3"), d / "agent.log")
    try:
        time.sleep(5)  # connect, first polls; then measure a steady state
        c0, t0, r0 = cpu_seconds(agent.pid), time.monotonic(), sub.readings
        time.sleep(seconds)
        c1, t1, r1 = cpu_seconds(agent.pid), time.monotonic(), sub.readings
        rss = rss_mb(agent.pid)
        depth = Outbox(d / "outbox.sqlite3")
        left = len(depth)
        depth.close()
    finally:
        stop(agent)
        sub.loop_stop()
        sub.disconnect()
        meters.stop()
    return {
        "meters": n_meters,
        "interval_s": 1,
        "cpu_percent_of_one_core": round(100 * (c1 - c0) / (t1 - t0), 1),
        "peak_rss_mb": round(rss, 1),
        "readings_per_s_received": round((r1 - r0) / (t1 - t0), 1),
        "outbox_left": left,
    }


def phase_drain(broker, gateway, n: int) -> dict:
    crt, key = identity(gateway)
    d = TMP / "drain"
    d.mkdir()
    box = Outbox(d / "outbox.sqlite3", max_messages=n + 10)
    t0 = time.time() - n
    leituras = [{"dispositivo_codigo": f"M{i:03d}", "valor": 1.5} for i in range(8)]
    topic = wire.topic(gateway.mac, "telemetry")
    box.add(
        [(topic, wire.telemetry_payloads(mac=gateway.mac, t=t0 + i, leituras=leituras)[0])
         for i in range(n)]
    )  # fmt: skip
    box.close()
    sub = acking_subscriber(broker)
    config = bootstrap(
        broker, crt, key, d / "outbox.sqlite3", drain_rate=1_000_000, max_inflight=100
    )
    started = time.monotonic()
    agent = start_agent(config, d / "agent.log")
    try:
        while True:
            box = Outbox(d / "outbox.sqlite3")
            left = len(box)
            box.close()
            if left == 0 or time.monotonic() - started > 300:
                break
            time.sleep(0.05)
        elapsed = time.monotonic() - started
    finally:
        stop(agent)
        sub.loop_stop()
        sub.disconnect()
    return {
        "messages": n,
        "seconds_incl_start": round(elapsed, 2),
        "messages_per_s": round(n / elapsed),
        "left": left,
    }


def phase_latency(broker, conta, seconds: float) -> dict:
    meters = MeterServer(slave_ids=range(1, 9)).start()
    with scopes_disabled():
        Gateway.objects.filter(codigo="BENCH-LAT").delete()
        gw = registry.gateway_create(
            conta=conta, codigo="BENCH-LAT", nome="latency", mac="02:be:0c:00:00:02",
            intervalo_envio_segundos=1,
        )  # fmt: skip
        devices = []
        for i in range(1, 9):
            meters.set(i, 0, encode(1000 + i, "uint16"))
            devices.append(
                registry.dispositivo_create(
                    gateway=gw,
                    codigo=f"D{i:02d}",
                    tipo="ENERGIA",
                    slave_id=i,
                    register_modbus=0,
                    fator_conversao=Decimal("0.1"),
                    modbus_host="127.0.0.1",
                    modbus_porta=meters.port,
                )
            )
    crt, key = identity(gw)
    env = {
        **os.environ,
        "MQTT_URL": f"mqtts://127.0.0.1:{broker.port}",
        "MQTT_CA_FILE": str(broker.out / "ca.crt"),
        "MQTT_CERT_FILE": str(broker.out / "consumer.crt"),
        "MQTT_KEY_FILE": str(broker.out / "consumer.key"),
    }
    consumer = subprocess.Popen(
        [sys.executable, "manage.py", "start_mqtt_consumer", "--client-id", "bench-agent-ingest"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=(TMP / "consumer.log").open("wb"),
    )  # fmt: skip
    d = TMP / "latency"
    d.mkdir()
    agent = start_agent(bootstrap(broker, crt, key, d / "outbox.sqlite3"), d / "agent.log")
    latencies, seen = [], set()
    first = devices[0].pk
    try:
        deadline = time.monotonic() + 60
        while not LeituraDispositivo.objects.filter(dispositivo_id=first).exists():
            if time.monotonic() > deadline:
                raise RuntimeError("no reading stored through the agent within 60 s")
            time.sleep(0.1)
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            last = LeituraDispositivo.objects.filter(dispositivo_id=first).aggregate(m=Max("time"))[
                "m"
            ]
            now = time.time()
            if last is not None and last not in seen:
                seen.add(last)
                latencies.append(now - last.timestamp())
            time.sleep(0.01)
    finally:
        stop(agent)
        stop(consumer)
        meters.stop()
    latencies = latencies[1:]  # the first may predate the measuring loop
    latencies.sort()
    return {
        "samples": len(latencies),
        "p50_ms": round(1000 * statistics.median(latencies)) if latencies else None,
        "p95_ms": round(1000 * latencies[int(0.95 * (len(latencies) - 1))]) if latencies else None,
        "max_ms": round(1000 * latencies[-1]) if latencies else None,
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--full", action="store_true")
    args = parser.parse_args()
    seconds = 60 if args.full else 15
    backlog = 20_000 if args.full else 2_000
    call_command("pki_init", verbosity=0) if not (TMP / "pki" / "ca.key").exists() else None
    broker = GeneratedBroker(TMP / "broker").start()
    try:
        with scopes_disabled():
            conta, _ = Conta.objects.get_or_create(
                slug="bench-agent", defaults={"nome": "bench-agent"}
            )
            Gateway.objects.filter(codigo__in=["BENCH-CPU"]).delete()
            gw = registry.gateway_create(
                conta=conta, codigo="BENCH-CPU", nome="cpu", mac="02:be:0c:00:00:01"
            )
        out = {
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
            "cpu_memory": phase_cpu(broker, gw, seconds, 100),
            "drain": phase_drain(broker, gw, backlog),
            "latency": phase_latency(broker, conta, seconds),
        }
    finally:
        broker.stop()
        shutil.rmtree(TMP, ignore_errors=True)
    c, d, la = out["cpu_memory"], out["drain"], out["latency"]
    print(
        f"{'agent, 100 meters every 1 s':<40} CPU {c['cpu_percent_of_one_core']} % of a core, peak RSS {c['peak_rss_mb']} MB, {c['readings_per_s_received']} readings/s received"
    )
    print(
        f"{'backlog drain':<40} {d['messages_per_s']} messages/s ({d['messages']} in {d['seconds_incl_start']} s incl. start)"
    )
    print(
        f"{'poll tick -> commit (8 meters, 1 s)':<40} p50 {la['p50_ms']} ms, p95 {la['p95_ms']} ms, max {la['max_ms']} ms ({la['samples']} samples)"
    )
    path = ROOT / "bench" / "results" / ("agent-full.json" if args.full else "agent.json")
    path.write_text(json.dumps(out, indent=2, default=str))
    print(f"written {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    with scopes_disabled():  # a bench, not a request: no account scope
        sys.exit(main())
