"""Names shared by the storage modules (the SQL is written against these)."""

READINGS = "tds_new_leitura_dispositivo"
DEFAULT_PARTITION = "tds_new_leitura_dispositivo_default"
STAGING = "tds_new_leitura_staging"  # per-connection temporary table for COPY
PENDING = "tds_new_leitura_pendente"  # (dispositivo, day) touched since the last refresh
RESETS = "tds_new_consumo_reinicio"  # per-day counter-reset adjustment (sparse)
MONTH_RESETS = "tds_new_consumo_reinicio_mensal"  # the same per local month (sparse)
EVENTS = "tds_new_evento_medidor"  # backwards steps of cumulative meters (EventoMedidor)
DAILY = "tds_new_consumo_diario"  # rollup table (native) or continuous aggregate (Timescale)
MONTHLY = "tds_new_consumo_mensal"
# Consumption totals written by the rollup job (storage.totals), plain tables on both back
# ends: per (conta, gateway, tipo, unidade) and local day or month, and per (conta, tipo,
# unidade) and local day.
TOTALS_DAY = "tds_new_consumo_total_diario"
TOTALS_MONTH = "tds_new_consumo_total_mensal"
TOTALS_CONTA_DAY = "tds_new_consumo_total_conta"
TOTALS_CHANGE = "tds_new_consumo_total_mudanca"  # a group's day against the day before
TOTALS = (TOTALS_DAY, TOTALS_MONTH, TOTALS_CONTA_DAY, TOTALS_CHANGE)  # totals.py's tables
# The registry's tables (dispositivos' models; a test checks the names).
DEVICES = "tds_new_dispositivo"
GATEWAYS = "tds_new_gateway"

# Columns of the readings table, in COPY order.
READING_COLUMNS = (
    "time",
    "conta_id",
    "gateway_id",
    "dispositivo_id",
    "valor",
    "unidade",
    "payload_raw",
)
