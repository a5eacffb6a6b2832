"""Reads of certificates, always for one account."""

from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from contas.models import Conta

from .models import CertificadoDevice, Status


def certificado_list(*, conta: Conta, gateway_id=None) -> QuerySet:
    qs = CertificadoDevice.objects.filter(conta=conta).select_related("gateway", "issued_by")
    if gateway_id is not None:
        qs = qs.filter(gateway_id=gateway_id)
    return qs.order_by("-not_before", "-pk")


def certificado_get(*, conta: Conta, pk) -> CertificadoDevice:
    try:
        return CertificadoDevice.objects.select_related("gateway").get(conta=conta, pk=pk)
    except (CertificadoDevice.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def _status_of(certs, now) -> str:
    """A gateway's status: its best unrevoked certificate, else revoked, else none."""
    if not certs:
        return Status.NONE
    live = [c for c in certs if c.revoked_at is None]
    if not live:
        return Status.REVOKED
    return max(live, key=lambda c: c.not_after).status_at(now)


def certificate_status_for_gateways(*, conta: Conta, gateway_ids) -> dict[int, str]:
    """{gateway_id: status} (valid, expiring, expired, revoked, none) in one query."""
    ids = [int(i) for i in gateway_ids]
    by_gateway: dict[int, list] = {i: [] for i in ids}
    rows = CertificadoDevice.objects.filter(conta=conta, gateway_id__in=ids).only(
        "gateway_id", "not_after", "revoked_at"
    )
    for cert in rows:
        by_gateway[cert.gateway_id].append(cert)
    now = timezone.now()
    return {gid: _status_of(certs, now) for gid, certs in by_gateway.items()}
