"""The read-only JSON API of the telemetry (session or per-account API token)."""
