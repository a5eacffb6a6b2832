from django.core.management.base import BaseCommand

from telemetria.storage import backend_name
from telemetria.storage.backend import backend_details


class Command(BaseCommand):
    help = "Print the time-series back end in use (native or timescaledb)."

    def handle(self, *args, **options):
        details = backend_details()
        self.stdout.write(backend_name())
        if options["verbosity"] > 1:
            for key, value in details.items():
                self.stdout.write(f"  {key}: {value}")
