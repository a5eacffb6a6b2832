"""Reads of units and meter roles, always for one account; look-ups by id answer 404 for
a missing id and another account's id alike."""

from django.db.models import Q, QuerySet
from django.http import Http404

from contas.models import Conta, ContaMembership, Role
from dispositivos.models import Dispositivo

from .models import Medicao, MoradorUnidade, Papel, Unidade


def unidade_list(*, conta: Conta, search: str = "") -> QuerySet:
    qs = Unidade.objects.filter(conta=conta)
    search = (search or "").strip()
    if search:
        qs = qs.filter(
            Q(bloco__icontains=search)
            | Q(numero__icontains=search)
            | Q(responsavel__icontains=search)
            | Q(email__icontains=search)
        )
    return qs.order_by("bloco", "numero", "pk")


def unidade_get(*, conta: Conta, pk) -> Unidade:
    try:
        return Unidade.objects.get(conta=conta, pk=pk)
    except (Unidade.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def dispositivos_with_medicao(*, conta: Conta) -> QuerySet:
    """The account's metering devices (not thermometers), each with its Medicao and unit
    joined: `getattr(d, "medicao", None)` reads it without a query."""
    return (
        Dispositivo.objects.filter(conta=conta)
        .exclude(tipo="TEMP")
        .select_related("gateway", "medicao__unidade")
        .order_by("tipo", "gateway__codigo", "codigo", "pk")
    )


def dispositivos_of_unidade(*, unidade: Unidade) -> QuerySet:
    return (
        Dispositivo.objects.filter(
            conta_id=unidade.conta_id, medicao__unidade=unidade, medicao__papel=Papel.UNIDADE
        )
        .select_related("gateway")  # the page names each meter's gateway
        .order_by("tipo", "codigo", "pk")
    )


def medicoes_for_conta(*, conta_id: int) -> list[tuple[int, str, str, int | None]]:
    """(dispositivo_id, tipo, papel, unidade_id) of every classified metering device."""
    return list(
        Medicao.objects.filter(conta_id=conta_id)
        .exclude(dispositivo__tipo="TEMP")
        .values_list("dispositivo_id", "dispositivo__tipo", "papel", "unidade_id")
    )


def morador_unidade(*, membership: ContaMembership | None) -> Unidade | None:
    """The unit a morador sees; None for anyone else or a morador not yet linked."""
    if membership is None or membership.role != Role.MORADOR:
        return None
    link = (
        MoradorUnidade.objects.filter(conta_id=membership.conta_id, membership=membership)
        .select_related("unidade")
        .first()
    )
    return link.unidade if link else None


def moradores_of_unidade(*, unidade: Unidade) -> QuerySet:
    return MoradorUnidade.objects.filter(conta_id=unidade.conta_id, unidade=unidade).select_related(
        "membership__user"
    )


def moradores_sem_unidade(*, conta: Conta) -> QuerySet:
    return (
        ContaMembership.objects.filter(conta=conta, role=Role.MORADOR, morador_unidade__isnull=True)
        .select_related("user")
        .order_by("user__email")
    )
