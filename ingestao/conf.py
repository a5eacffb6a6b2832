"""Ingest tunables, read from settings (environment) with defaults."""

from django.conf import settings


def get(name: str, default):
    return getattr(settings, name, default)


def max_payload_bytes() -> int:
    return int(get("TDS_INGEST_MAX_PAYLOAD_BYTES", 65536))


def max_readings() -> int:
    return int(get("TDS_INGEST_MAX_READINGS", 64))


def max_future_seconds() -> int:
    return int(get("TDS_INGEST_MAX_FUTURE_SECONDS", 300))
