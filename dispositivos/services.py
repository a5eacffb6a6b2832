"""Writes to the registry. Each service validates (full_clean) and is atomic; change
notices for running consumers go out after commit."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from contas.models import Conta

from .events import publish_registry_changed
from .models import Dispositivo, Gateway


def _notify(conta_id: int) -> None:
    transaction.on_commit(lambda: publish_registry_changed(conta_id=conta_id))


def _apply(instance, data: dict) -> None:
    for field, value in data.items():
        setattr(instance, field, value)


@transaction.atomic
def gateway_create(*, conta: Conta, **data) -> Gateway:
    gateway = Gateway(conta=conta, **data)
    gateway.full_clean()
    gateway.save()
    _notify(conta.pk)
    return gateway


@transaction.atomic
def gateway_update(*, gateway: Gateway, **data) -> Gateway:
    data.pop("conta", None)
    _apply(gateway, data)
    gateway.full_clean()
    if gateway.dispositivos.count() > gateway.qte_max_dispositivos:
        raise ValidationError(
            {
                "qte_max_dispositivos": _(
                    "O gateway já tem %(n)d dispositivos; o máximo não pode ser menor."
                )
                % {"n": gateway.dispositivos.count()}
            }
        )
    gateway.save()
    _notify(gateway.conta_id)
    return gateway


@transaction.atomic
def gateway_delete(*, gateway: Gateway) -> None:
    conta_id = gateway.conta_id
    gateway.delete()
    _notify(conta_id)


def _check_capacity(gateway: Gateway, *, exclude_pk=None) -> None:
    """Raises when the gateway is full. The caller holds the gateway row lock, so two
    concurrent creations cannot both pass."""
    count = Dispositivo.objects.filter(gateway=gateway).exclude(pk=exclude_pk).count()
    if count >= gateway.qte_max_dispositivos:
        raise ValidationError(
            {
                "gateway": _("O gateway %(gw)s já tem o máximo de %(n)d dispositivos.")
                % {"gw": gateway.codigo, "n": gateway.qte_max_dispositivos}
            }
        )


def _lock_gateway(gateway: Gateway) -> Gateway:
    return Gateway.objects.select_for_update().get(pk=gateway.pk, conta_id=gateway.conta_id)


@transaction.atomic
def dispositivo_create(*, gateway: Gateway, **data) -> Dispositivo:
    gateway = _lock_gateway(gateway)
    _check_capacity(gateway)
    dispositivo = Dispositivo(gateway=gateway, conta_id=gateway.conta_id, **data)
    dispositivo.full_clean()
    dispositivo.save()
    _notify(gateway.conta_id)
    return dispositivo


@transaction.atomic
def dispositivo_update(*, dispositivo: Dispositivo, **data) -> Dispositivo:
    new_gateway = data.pop("gateway", None)
    data.pop("conta", None)
    if new_gateway is not None and new_gateway.pk != dispositivo.gateway_id:
        if new_gateway.conta_id != dispositivo.conta_id:
            raise ValidationError({"gateway": _("Gateway inválido.")})
        new_gateway = _lock_gateway(new_gateway)
        _check_capacity(new_gateway, exclude_pk=dispositivo.pk)
        dispositivo.gateway = new_gateway
    _apply(dispositivo, data)
    dispositivo.full_clean()
    dispositivo.save()
    _notify(dispositivo.conta_id)
    return dispositivo


@transaction.atomic
def dispositivo_delete(*, dispositivo: Dispositivo) -> None:
    conta_id = dispositivo.conta_id
    dispositivo.delete()
    _notify(conta_id)
