"""Helpers of the notification tests (fixtures are in conftest.py)."""

from decimal import Decimal

from django.utils import timezone

from alarmes import services as alarmes
from notificacoes import services

SECRET = "segredo-de-teste-0123456789abcdef"


def make_regra(dispositivo, *, nome="Freezer quente", severidade="alto"):
    return alarmes.regra_create(
        conta=dispositivo.conta,
        nome=nome,
        tipo="limite",
        severidade=severidade,
        dispositivo=dispositivo,
        limite_superior=Decimal(-10),
    )


def fire(regra, *, dispositivo=None, inicio=None, valor="-5"):
    disp = dispositivo or regra.dispositivo
    return alarmes.alarm_fire(
        regra=regra,
        gateway_id=disp.gateway_id,
        dispositivo_id=disp.pk,
        inicio=inicio or timezone.now(),
        valor=Decimal(valor),
    )


def webhook_target(conta, url, **extra):
    destino = services.destino_create(
        conta=conta, nome=extra.pop("nome", "Integração"), tipo="webhook", webhook_url=url, **extra
    )
    services.destino_update(destino=destino, webhook_segredo=SECRET)
    return destino
