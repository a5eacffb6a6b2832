"""Celery application; the beat schedule is kept here, in code."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prj_tds_new.settings")

app = Celery("prj_tds_new")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

app.conf.beat_schedule = {}

# Gateway offline detection (dispositivos/status.py); period from settings.
app.conf.beat_schedule["dispositivos-gateways-check-offline"] = {
    "task": "dispositivos.gateways_check_offline",
    "schedule": float(os.environ.get("TDS_STATUS_CHECK_SECONDS", "30")),
}
