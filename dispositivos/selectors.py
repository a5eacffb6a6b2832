"""Reads of the registry, always for one account. Look-ups by id answer 404 for a
missing id and for another account's id alike."""

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from contas.models import Conta

from .models import Dispositivo, Gateway


def gateway_list(*, conta: Conta, search: str = "", online: bool | None = None) -> QuerySet:
    qs = Gateway.objects.filter(conta=conta).annotate(num_dispositivos=Count("dispositivos"))
    if search:
        qs = qs.filter(
            Q(codigo__icontains=search) | Q(nome__icontains=search) | Q(mac__icontains=search)
        )
    if online is not None:
        qs = qs.filter(is_online=online)
    return qs.order_by("codigo")


def gateway_get(*, conta: Conta, pk) -> Gateway:
    try:
        return Gateway.objects.get(conta=conta, pk=pk)
    except (Gateway.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def dispositivo_list(
    *, conta: Conta, search: str = "", tipo: str = "", gateway_id=None
) -> QuerySet:
    qs = Dispositivo.objects.filter(conta=conta).select_related("gateway")
    if search:
        qs = qs.filter(Q(codigo__icontains=search) | Q(nome__icontains=search))
    if tipo:
        qs = qs.filter(tipo=tipo)
    if gateway_id:
        qs = qs.filter(gateway_id=gateway_id)
    return qs.order_by("gateway__codigo", "codigo")


def dispositivo_get(*, conta: Conta, pk) -> Dispositivo:
    try:
        return Dispositivo.objects.select_related("gateway").get(conta=conta, pk=pk)
    except (Dispositivo.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
