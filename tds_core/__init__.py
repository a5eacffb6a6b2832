"""Project-wide building blocks below every app: the wire contract with gateways
(`tds_core.wire`) and the live events for open dashboards (`tds_core.live`).

Nothing here imports a project app, so every app (and the gateway agent) may import it.
"""
