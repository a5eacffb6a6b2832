"""The configuration a gateway's agent (`tds-gateway`) runs, built from the registry.

Every registry change that alters what a gateway polls bumps `Gateway.config_versao` in
the same transaction (services call `gateway_config_bump`). The ingest side
(ingestao/agent_config.py) publishes the payload built here, retained, on the gateway's
config topic whenever the published version lags behind; the agent reports the version
it runs in its diagnostics.
"""

from django.db.models import F

from .models import Dispositivo, FuncaoModbus, Gateway, OrdemPalavras


def gateway_config_bump(*, gateway_ids) -> None:
    ids = [i for i in gateway_ids if i]
    if ids:
        Gateway.objects.filter(pk__in=ids).update(config_versao=F("config_versao") + 1)


def gateway_config_payload(*, gateway: Gateway) -> dict:
    """The config message (see README, "Gateway agent"): interval and the active devices'
    Modbus addressing. `fator_conversao` travels as a string so no digit is lost."""
    devices = []
    if gateway.is_active:
        qs = Dispositivo.objects.filter(gateway_id=gateway.pk, is_active=True).order_by("codigo")
        devices = [
            {
                "dispositivo_codigo": d.codigo,
                "slave_id": d.slave_id,
                "registrador": d.register_modbus,
                "funcao": "input" if d.funcao_modbus == FuncaoModbus.INPUT else "holding",
                "tipo_dado": d.tipo_dado,
                "ordem_palavras": "little" if d.ordem_palavras == OrdemPalavras.LITTLE else "big",
                "fator_conversao": format(d.fator_conversao.normalize(), "f"),
                "unidade": d.unidade,
                "modbus_host": d.modbus_host,
                "modbus_porta": d.modbus_porta,
            }
            for d in qs
        ]
    return {
        "gateway_mac": gateway.mac,
        "versao": gateway.config_versao,
        "intervalo_segundos": gateway.intervalo_envio_segundos,
        "dispositivos": devices,
    }
