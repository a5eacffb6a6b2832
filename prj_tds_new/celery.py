"""Celery application; the beat schedule is kept here, in code, its periods in settings."""

import os

from celery import Celery
from celery.schedules import crontab
from django.conf import settings

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prj_tds_new.settings")

app = Celery("prj_tds_new")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

app.conf.beat_schedule = {}

# Gateway offline detection (dispositivos.services.gateways_mark_offline).
app.conf.beat_schedule["dispositivos-gateways-check-offline"] = {
    "task": "dispositivos.gateways_check_offline",
    "schedule": settings.TDS_STATUS_CHECK_SECONDS,
}

# Certificates (certificados/tasks.py): flag those expiring within 30 days, refresh the CRL.
app.conf.beat_schedule["certificados-check-expiry"] = {
    "task": "certificados.certificates_check_expiry",
    "schedule": settings.TDS_CERT_CHECK_SECONDS,
}

# Time-series storage (telemetria/tasks.py): rollups of the buckets touched since the last
# run, and day partitions ahead / retention (native) or the retention policy (TimescaleDB).
app.conf.beat_schedule["telemetria-refresh-rollups"] = {
    "task": "telemetria.refresh_rollups",
    "schedule": settings.TDS_ROLLUP_SECONDS,
}
app.conf.beat_schedule["telemetria-maintain-storage"] = {
    "task": "telemetria.maintain_storage",
    "schedule": settings.TDS_PARTITION_SECONDS,
}

# Alarms (alarmes/tasks.py): window rules (leak nights, day consumption, median spikes, no
# data, gateway offline); each window is judged once, so the period only bounds the delay.
app.conf.beat_schedule["alarmes-evaluate-windows"] = {
    "task": "alarmes.evaluate_windows",
    "schedule": settings.TDS_ALARM_WINDOW_SECONDS,
}

# Dead letters (ingestao/tasks.py): older than TDS_DEAD_LETTER_RETENTION_DAYS are deleted.
app.conf.beat_schedule["ingestao-purge-rejeitadas"] = {
    "task": "ingestao.rejeitadas_purge",
    "schedule": settings.TDS_DEAD_LETTER_PURGE_SECONDS,
}

# Notifications (notificacoes/tasks.py): deliver what is due (a sweep behind the tasks queued
# on commit: it picks up what a lost task, a dead worker or a Redis outage left behind),
# reminders and escalation of open alarms, the daily digest at TDS_NOTIFY_DIGEST_HOUR.
_notify = {"options": {"queue": settings.TDS_NOTIFY_QUEUE}}
app.conf.beat_schedule["notificacoes-entregar"] = {
    "task": "notificacoes.entregar",
    "schedule": settings.TDS_NOTIFY_SWEEP_SECONDS,
    **_notify,
}
app.conf.beat_schedule["notificacoes-lembretes"] = {
    "task": "notificacoes.lembretes",
    "schedule": settings.TDS_NOTIFY_REMINDER_CHECK_SECONDS,
    **_notify,
}
app.conf.beat_schedule["notificacoes-resumo-diario"] = {
    "task": "notificacoes.resumo_diario",
    "schedule": crontab(minute=0, hour=settings.TDS_NOTIFY_DIGEST_HOUR),
    **_notify,
}
