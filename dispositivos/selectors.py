"""Reads of the registry, always for one account. Look-ups by id answer 404 for a
missing id and for another account's id alike."""

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from contas.models import Conta

from .models import Dispositivo, Gateway


def gateway_list(
    *,
    conta: Conta,
    search: str = "",
    online: bool | None = None,
    active: bool | None = None,
    with_device_count: bool = True,
) -> QuerySet:
    """The account's gateways with their device count (`num_dispositivos`; without it, a
    page of 20 out of 10,000 gateways does not group every gateway's devices first),
    optionally searched (código, nome, MAC) and filtered by online status and by active
    flag."""
    qs = Gateway.objects.filter(conta=conta)
    if with_device_count:
        qs = qs.annotate(num_dispositivos=Count("dispositivos"))
    search = (search or "").strip()
    if search:
        qs = qs.filter(
            Q(codigo__icontains=search) | Q(nome__icontains=search) | Q(mac__icontains=search)
        )
    if online is not None:
        qs = qs.filter(is_online=online)
    if active is not None:
        qs = qs.filter(is_active=active)
    return qs.order_by("codigo", "pk")


def gateway_device_counts(*, conta: Conta, gateway_ids) -> dict[int, int]:
    """{gateway id: number of devices} of the given gateways of the account."""
    rows = (
        Dispositivo.objects.filter(conta=conta, gateway_id__in=list(gateway_ids))
        .values("gateway_id")
        .annotate(n=Count("pk"))
    )
    return {r["gateway_id"]: r["n"] for r in rows}


def gateway_choices(*, conta: Conta) -> QuerySet:
    """Gateways a device of the account may be attached to."""
    return Gateway.objects.filter(conta=conta).order_by("codigo", "pk")


def gateway_get(*, conta: Conta, pk) -> Gateway:
    try:
        return Gateway.objects.get(conta=conta, pk=pk)
    except (Gateway.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def dispositivo_list(
    *, conta: Conta, search: str = "", tipo: str = "", gateway_id=None
) -> QuerySet:
    """The account's devices, optionally searched (código, nome, gateway código) and
    filtered by tipo and gateway. A gateway id of another account simply matches nothing."""
    qs = Dispositivo.objects.filter(conta=conta).select_related("gateway")
    search = (search or "").strip()
    if search:
        qs = qs.filter(
            Q(codigo__icontains=search)
            | Q(nome__icontains=search)
            | Q(gateway__codigo__icontains=search)
        )
    if tipo:
        qs = qs.filter(tipo=tipo)
    if gateway_id:
        qs = qs.filter(gateway_id=gateway_id)
    return qs.order_by("gateway__codigo", "codigo", "pk")


def dispositivo_list_for_gateway(*, gateway: Gateway) -> QuerySet:
    return Dispositivo.objects.filter(conta_id=gateway.conta_id, gateway=gateway).order_by(
        "codigo", "pk"
    )


def dispositivo_get(*, conta: Conta, pk) -> Dispositivo:
    try:
        return Dispositivo.objects.select_related("gateway").get(conta=conta, pk=pk)
    except (Dispositivo.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
