"""tds-gateway: the TDS New gateway agent (Modbus RTU/TCP -> MQTT with store and forward)."""

__version__ = "0.1.0"
