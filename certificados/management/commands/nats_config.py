"""python manage.py nats_config --out DIR [--nodes 3] — a NATS JetStream server or cluster
for gateways (MQTT 3.1.1 over mTLS) and consumers (JetStream), see certificados/nats.py."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from certificados import nats
from certificados.pki import ca as pki


class Command(BaseCommand):
    help = (
        "Writes nN.conf per node, auth.conf (from the registry), ca.crt, "
        "server.crt/key, consumer.crt/key and (a cluster) route.crt/key into DIR. Run each "
        "node with nats-server 2.15 or later: nats-server -c DIR/nN.conf"
    )

    def add_arguments(self, parser):
        parser.add_argument("--out", required=True, type=Path)
        parser.add_argument("--nodes", type=int, default=1, help="cluster size (3 for R3)")
        parser.add_argument(
            "--node-host",
            action="append",
            default=[],
            help="host of node i (repeat per node; default: all on 127.0.0.1, ports consecutive)",
        )
        parser.add_argument("--bind", default="0.0.0.0")  # noqa: S104
        parser.add_argument("--client-port", type=int, default=4222)
        parser.add_argument("--mqtt-port", type=int, default=8883)
        parser.add_argument("--cluster-port", type=int, default=6222)
        parser.add_argument("--http-port", type=int, default=8222)
        parser.add_argument("--host", action="append", default=[], help="extra name in server.crt")
        parser.add_argument(
            "--renew", action="store_true", help="reissue server/consumer/route certs"
        )

    def handle(self, *args, **o):
        if o["nodes"] < 1:
            raise CommandError("--nodes must be at least 1")
        hosts = o["node_host"]
        if hosts and len(hosts) != o["nodes"]:
            raise CommandError("give --node-host once per node, or not at all")
        if hosts:  # one node per machine: the same ports everywhere
            nodes = [
                nats.Node(
                    f"n{i + 1}", h, o["client_port"], o["mqtt_port"], o["cluster_port"],
                    o["http_port"],
                )
                for i, h in enumerate(hosts)
            ]  # fmt: skip
        else:
            nodes = nats.nodes_on_one_host(
                count=o["nodes"],
                host="127.0.0.1",
                client=o["client_port"],
                mqtt=o["mqtt_port"],
                cluster=o["cluster_port"],
                http=o["http_port"],
            )
        opts = nats.NatsOptions(out=o["out"], nodes=nodes, bind=o["bind"])
        try:
            written = nats.nats_files_write(
                opts, hosts=tuple(o["host"]) + tuple(hosts), renew=o["renew"]
            )
        except pki.PkiError as exc:
            raise CommandError(str(exc)) from None
        out = o["out"].resolve()
        self.stdout.write(f"wrote {', '.join(written)} in {out}")
        for n in nodes:
            self.stdout.write(
                f"run:      nats-server -c {out}/{n.name}.conf   (gateways: mqtts://{n.host}:"
                f"{n.mqtt_port}, consumers: tls://{n.host}:{n.client_port})"
            )
        urls = ",".join(f"tls://{n.host}:{n.client_port}" for n in nodes)
        self.stdout.write(
            f"consumer: NATS_URL={urls} NATS_CA_FILE={out}/ca.crt NATS_CERT_FILE={out}/consumer.crt "
            f"NATS_KEY_FILE={out}/consumer.key TDS_NATS_REPLICAS={min(3, len(nodes))} "
            "python manage.py start_nats_consumer"
        )
        self.stdout.write(
            f"registry changes and revocations: set TDS_NATS_DIR={out} (auth.conf is "
            "rewritten there and the nodes get a SIGHUP)"
        )
