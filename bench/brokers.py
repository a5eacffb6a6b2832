"""Ingest through NATS JetStream vs through Mosquitto, in the same run (issue 11).

    .venv/bin/python bench/brokers.py            # quick (a few minutes)
    .venv/bin/python bench/brokers.py --full

For each broker (a private Mosquitto with the generated persistence settings; a private
single-node nats-server with JetStream and its MQTT listener, no TLS): the drain of a
backlog (MQTT QoS 1 publisher, 8 readings per message) by 1, 2 and 3 consumer processes
(`start_mqtt_consumer` on the shared subscription; `start_nats_consumer` on the durable
JetStream consumer), publish -> commit at a steady 2,000 readings/s (p50/p95/p99), and a
broker restart under a live gateway stream (SIGTERM, then kill -9): messages the broker
acknowledged vs stored. Phases and measures are bench/ingest.py's (same account, same
payloads, same clocks). Prints a table, writes bench/results/brokers[-full].json.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import ingest  # bench/ingest.py: the account, payloads, drain and latency phases
import paho.mqtt.client as mqtt
from benchdb import PRODUCTION_ENV

from tds_testing.gateways import T0, GatewayStream
from tds_testing.mosquitto import PrivateMosquitto
from tds_testing.nats import nats_server_bin, nats_server_version
from tds_testing.ports import free_port, wait_listening

RESULTS = ingest.RESULTS


class BenchNats:
    """A single JetStream node with an MQTT listener (plain TCP, no auth: bench only)."""

    def __init__(self):
        self.dir = Path(tempfile.mkdtemp(prefix="tds-bench-nats-"))
        self.client_port, self.port = free_port(), free_port()
        self.conf = self.dir / "nats.conf"
        self.conf.write_text(
            "server_name: bench\n"
            f"listen: 127.0.0.1:{self.client_port}\n"
            f'jetstream {{ store_dir: "{self.dir}/js" }}\n'
            f"mqtt {{ listen: 127.0.0.1:{self.port} }}\n"
        )
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(
            [nats_server_bin(), "-c", str(self.conf)],
            stdout=open(self.dir / "nats.log", "ab"),  # noqa: SIM115
            stderr=subprocess.STDOUT,
        )
        wait_listening(self.port, self.proc, what="nats-server")
        return self

    def restart(self, *, crash=False):
        self.proc.kill() if crash else self.proc.terminate()
        self.proc.wait(30)
        self.start()

    def close(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(30)
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()


def use_nats(nats: BenchNats | None):
    """Points bench/ingest's consumer start at start_nats_consumer (or back at MQTT)."""
    if nats is None:
        ingest.start_consumers, ingest.wait_connected = _mqtt_start, _mqtt_wait
        ingest.NATS_CONSUMERS = False
        ingest.MQTT_PROTOCOL = mqtt.MQTTv5
        return

    def start(port, k, logdir, extra=()):
        env = {
            **os.environ,
            "DATABASE_URL": ingest.db_url(),
            "NATS_URL": f"nats://127.0.0.1:{nats.client_port}",
            **PRODUCTION_ENV,
        }
        procs = []
        for i in range(k):
            metrics_port = free_port()
            proc = subprocess.Popen(
                [
                    sys.executable,
                    str(ingest.ROOT / "manage.py"),
                    "start_nats_consumer",
                    "--instance",
                    str(i + 1),
                    "--log-interval",
                    "5",
                    "--metrics-port",
                    str(metrics_port),
                    *extra,
                ],
                env=env,
                cwd=ingest.ROOT,
                stdout=open(logdir / f"consumer-{i}.log", "wb"),  # noqa: SIM115
                stderr=subprocess.STDOUT,
            )
            proc.metrics_port = metrics_port
            procs.append(proc)
        return procs

    def wait(logdir, k, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(
                "event=nats_subscribed"
                in (logdir / f"consumer-{i}.log").read_text("utf-8", "replace")
                for i in range(k)
            ):
                return
            time.sleep(0.1)
        raise RuntimeError("nats consumers did not subscribe")

    ingest.start_consumers, ingest.wait_connected = start, wait
    ingest.NATS_CONSUMERS = True
    ingest.MQTT_PROTOCOL = mqtt.MQTTv311


_mqtt_start, _mqtt_wait = ingest.start_consumers, ingest.wait_connected


def restart_case(broker, gateway, logdir, *, crash: bool, seconds: float) -> dict:
    """A gateway stream (3.1.1, persistent session, QoS 1, 100 msg/s) while the broker is
    restarted: messages acknowledged vs stored."""
    from django.db import connection
    from django_scopes import scopes_disabled

    with connection.cursor() as cur:
        cur.execute("DELETE FROM tds_new_leitura_dispositivo WHERE gateway_id = %s", [gateway.pk])
    procs = ingest.start_consumers(broker.port, 1, logdir, [])
    ingest.wait_connected(logdir, 1)
    with scopes_disabled():
        codes = [d.codigo for d in gateway.dispositivos.all()]
    stream = GatewayStream(
        port=broker.port, mac=gateway.mac, codes=codes, rate=100, client_id=f"bench-gw-{crash}"
    ).start()
    time.sleep(seconds / 2)
    broker.restart(crash=crash)
    time.sleep(seconds / 2)
    stream.stop()
    stream.drain(60)
    acked = set(stream.acknowledged())
    deadline = time.monotonic() + 30
    stored = set()
    while time.monotonic() < deadline:
        with connection.cursor() as cur:
            cur.execute(
                "SELECT DISTINCT time FROM tds_new_leitura_dispositivo WHERE gateway_id = %s",
                [gateway.pk],
            )
            stored = {int((t - T0).total_seconds()) for (t,) in cur.fetchall()}
        if acked <= stored:
            break
        time.sleep(0.5)
    stream.close()
    ingest.stop_all(procs)
    return {
        "crash": crash,
        "sent": stream.sent,
        "acknowledged": len(acked),
        "stored": len(stored & set(range(stream.sent))),
        "acknowledged_not_stored": len(acked - stored),
    }


def run_broker(name, make, conta, gateways, logdir, args) -> dict:
    out = {"drain": []}
    extra = ["--batch-size", str(args.batch_size), "--batch-wait-ms", "50"]
    for k in (1, 2, 3):
        with make() as broker:
            use_nats(broker if name == "nats" else None)
            print(f"{name}: {k} consumer(s) draining {args.backlog} messages ...", flush=True)
            out["drain"].append(
                ingest.drain(
                    broker.port,
                    conta,
                    gateways,
                    args.backlog,
                    k,
                    logdir,
                    ingest.phase_base(k),
                    extra,
                )
            )
    with make() as broker:
        use_nats(broker if name == "nats" else None)
        print(f"{name}: latency at 2000 readings/s for {args.seconds} s ...", flush=True)
        out["latency"] = ingest.latency(broker.port, conta, gateways, args.seconds, 2000, logdir)
    out["restart"] = []
    for crash in (False, True):
        with make() as broker:
            use_nats(broker if name == "nats" else None)
            print(
                f"{name}: broker {'kill -9' if crash else 'SIGTERM'} under a stream ...", flush=True
            )
            out["restart"].append(restart_case(broker, gateways[0], logdir, crash=crash, seconds=6))
    use_nats(None)
    return out


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true")
    parser.add_argument("--gateways", type=int, default=50)
    parser.add_argument("--batch-size", type=int, default=2000)
    args = parser.parse_args(argv)
    args.backlog = 50_000 if args.full else 5_000
    args.seconds = 30 if args.full else 5
    conta, gateways = ingest.setup_account(args.gateways)
    logdir = RESULTS / "brokers-logs"
    logdir.mkdir(parents=True, exist_ok=True)
    ingest.settle()
    out = {"full": args.full, "backlog": args.backlog, "nats_server": nats_server_version()}
    print(f"nats-server {out['nats_server']} ({nats_server_bin()})", flush=True)
    out["mosquitto"] = run_broker(
        "mosquitto",
        lambda: PrivateMosquitto(config=ingest.BROKER_CONFIG),
        conta,
        gateways,
        logdir,
        args,
    )
    out["nats"] = run_broker("nats", BenchNats, conta, gateways, logdir, args)
    print_table(out)
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / ("brokers-full.json" if args.full else "brokers.json")
    path.write_text(json.dumps(out, indent=2, default=str))
    print(f"wrote {path}")
    return out


def print_table(out):
    m, n = out["mosquitto"], out["nats"]
    print(f"\n{'measure':52} {'Mosquitto':>14} {'NATS':>14} {'NATS/Mosq':>9}")
    for dm, dn in zip(m["drain"], n["drain"], strict=True):
        a, b = dm["readings_per_s"], dn["readings_per_s"]
        label = f"drain {out['backlog']} msgs, {dm['consumers']} consumer(s), readings/s"
        print(f"{label:52} {a:14,.0f} {b:14,.0f} {b / a if a else 0:9.2f}")
        print(
            f"{'  lost / duplicated':52} {dm['lost']:>6} / {dm['duplicated']:<5} {dn['lost']:>6} / {dn['duplicated']:<5}"
        )
    for key in ("p50_ms", "p95_ms", "p99_ms"):
        a, b = m["latency"][key], n["latency"][key]
        print(
            f"{'publish -> commit at 2,000 readings/s, ' + key:52} {a:14.1f} {b:14.1f} {b / a if a else 0:9.2f}"
        )
    for rm, rn in zip(m["restart"], n["restart"], strict=True):
        label = f"broker {'kill -9' if rm['crash'] else 'SIGTERM'}: acknowledged / stored"
        print(
            f"{label:52} {rm['acknowledged']:>6} / {rm['stored']:<6} {rn['acknowledged']:>6} / {rn['stored']:<6}"
        )


if __name__ == "__main__":
    main()
