"""python manage.py seed_demo_history — six months of hourly history for the demo's meters."""

import time

from django.core.management.base import BaseCommand

from telemetria.demo_history import seed_demo_history


class Command(BaseCommand):
    help = (
        "Seed six months of plausible hourly readings for the demo's simulated meters (idempotent)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--conta", default="demo", help="account slug (default: demo)")

    def handle(self, *args, conta, **options):
        started = time.monotonic()
        done = seed_demo_history(conta_slug=conta)
        self.stdout.write(
            f"Demo history: {done.readings} reading(s) for {done.meters} meter(s)"
            f" in {time.monotonic() - started:.1f} s"
        )
