"""Publishes simulated telemetry for the registry's gateways (see ingestao.simulator)."""

import logging
import signal

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from dispositivos.management.commands.seed_demo import DEMO_INTERVAL_SECONDS
from ingestao.simulator import DIAGNOSTICS_SECONDS, Simulator, load_gateways

log = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Simulate gateways publishing telemetry over MQTT (QoS 1)."

    def add_arguments(self, parser):
        parser.add_argument("--gateways", type=int, default=None, help="how many (default: all)")
        parser.add_argument(
            "--interval",
            type=float,
            default=float(DEMO_INTERVAL_SECONDS),
            help="seconds between messages of a gateway (default: the demo gateways' interval)",
        )
        parser.add_argument(
            "--duration", type=float, default=float("inf"), help="seconds (default: until Ctrl-C)"
        )
        parser.add_argument(
            "--rate", type=float, default=0.0, help="load mode: readings per second in total"
        )
        parser.add_argument("--conta", default=None, help="only this account's gateways (slug)")
        parser.add_argument("--create-demo", action="store_true", help="run seed_demo first")
        parser.add_argument(
            "--recheck",
            type=float,
            default=5.0,
            help="seconds between checks that each gateway still exists, is active and simulated",
        )
        parser.add_argument(
            "--diagnostics",
            type=float,
            default=DIAGNOSTICS_SECONDS,
            help="seconds between each gateway's diagnostics message, as the agent's (0: none)",
        )
        parser.add_argument("--url", default=None, help="MQTT URL (default settings.MQTT_URL)")
        parser.add_argument("--ca-file", default="")
        parser.add_argument("--cert-file", default="")
        parser.add_argument("--key-file", default="")

    def handle(self, *args, **o):
        if o["create_demo"]:
            call_command("seed_demo", gateways=max(o["gateways"] or 3, 1))
            o["conta"] = o["conta"] or "demo"
        gateways = load_gateways(conta_slug=o["conta"], limit=o["gateways"])
        if not gateways:
            raise CommandError(
                "No active simulated gateway with devices (only the demo's gateways are"
                " simulated: try --create-demo)."
            )
        macs = [g.mac for g in gateways]  # the run drops those no longer simulated
        stopping = []
        signal.signal(signal.SIGTERM, lambda *a: stopping.append(1))
        signal.signal(signal.SIGINT, lambda *a: stopping.append(1))
        sim = Simulator(
            url=o["url"] or settings.MQTT_URL,
            gateways=gateways,
            ca_file=o["ca_file"],
            cert_file=o["cert_file"],
            key_file=o["key_file"],
        )
        sim.recheck_every = o["recheck"]
        sim.diagnostics_every = o["diagnostics"]
        self.stdout.write(
            f"Simulating {len(gateways)} gateway(s) on {o['url'] or settings.MQTT_URL}"
        )
        n = sim.run(
            interval=o["interval"],
            duration=o["duration"],
            rate=o["rate"],
            stop=lambda: bool(stopping),
        )
        self.stdout.write(f"Published {n} message(s).")
        _mark_stopped(macs)


def _mark_stopped(macs: list[str]) -> None:
    """The simulated gateways are offline once the simulator stops, whether or not the
    broker was still there to take their `offline` status (dispositivos.services
    .gateways_stopped)."""
    from django.db import DatabaseError
    from django_scopes import scopes_disabled

    from dispositivos.models import Gateway
    from dispositivos.services import gateways_stopped

    try:
        with scopes_disabled():
            ids = list(
                Gateway.objects.filter(simulado=True, mac__in=macs).values_list("pk", flat=True)
            )
        changes = gateways_stopped(gateway_ids=ids)
    except DatabaseError as exc:
        log.warning("event=sim_stopped gateways not marked offline (database: %s)", exc)
        return
    log.info("event=sim_stopped %d gateway(s) marked offline", len(changes))
