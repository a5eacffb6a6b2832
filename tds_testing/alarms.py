"""Alarm test helpers: readings stored through the storage API and handed to the alarm
engine as the consumer does after commit."""

from alarmes import engine
from alarmes.models import Alarme
from telemetria.storage import insert_readings

from .readings import local, row

__all__ = ["alarms", "ingest", "local", "row"]


def ingest(dispositivo, points) -> int:
    """Store [(time, valor)] and evaluate them as the consumer does after its commit."""
    rows = [row(dispositivo, t, v) for t, v in points]
    insert_readings(rows)
    return engine.evaluate_committed_readings(rows, cache=engine.RuleCache())


def alarms(regra):
    return list(Alarme.objects.filter(regra=regra).order_by("inicio", "id"))
