"""Reads of the alarm app, always for one account. Look-ups by id answer 404 for a
missing id and for another account's id alike."""

from datetime import timedelta

from django.db.models import Case, Count, IntegerField, Q, QuerySet, Value, When
from django.http import Http404
from django.utils import timezone

from contas.models import Conta

from .events import iso
from .models import OPEN_STATES, Alarme, EstadoAlarme, RegraAlarme, Severidade


def regra_list(*, conta: Conta, tipo: str = "", ativo: bool | None = None) -> QuerySet:
    qs = RegraAlarme.objects.filter(conta=conta).select_related("dispositivo", "gateway")
    if tipo:
        qs = qs.filter(tipo=tipo)
    if ativo is not None:
        qs = qs.filter(ativo=ativo)
    return qs.prefetch_related("exclusoes").order_by("nome", "pk")


def regra_get(*, conta: Conta, pk) -> RegraAlarme:
    try:
        return RegraAlarme.objects.select_related("dispositivo", "gateway").get(conta=conta, pk=pk)
    except (RegraAlarme.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


_OPEN_FIRST = Case(
    When(estado=EstadoAlarme.ATIVO, then=Value(0)),
    When(estado=EstadoAlarme.RECONHECIDO, then=Value(1)),
    default=Value(2),
    output_field=IntegerField(),
)
_SEVERITY_RANK = Case(
    *[When(severidade=s, then=Value(i)) for i, s in enumerate(Severidade.values)],
    output_field=IntegerField(),
)


def alarme_list(
    *,
    conta: Conta,
    estado: str = "",
    severidade: str = "",
    gateway_id=None,
    regra_id=None,
    dispositivo_id=None,
) -> QuerySet:
    """The account's alarms, open ones first (active before acknowledged), then the most
    severe and the newest. A gateway or rule id of another account matches nothing."""
    qs = Alarme.objects.filter(conta=conta).select_related("dispositivo", "gateway", "regra")
    if estado:
        qs = qs.filter(estado=estado)
    if severidade:
        qs = qs.filter(severidade=severidade)
    if gateway_id:
        qs = qs.filter(gateway_id=gateway_id)
    if regra_id:
        qs = qs.filter(regra_id=regra_id)
    if dispositivo_id:
        qs = qs.filter(dispositivo_id=dispositivo_id)
    return qs.annotate(_o=_OPEN_FIRST, _s=_SEVERITY_RANK).order_by("_o", "_s", "-inicio", "-pk")


def alarme_get(*, conta: Conta, pk) -> Alarme:
    try:
        return Alarme.objects.select_related(
            "dispositivo", "gateway", "regra", "reconhecido_por"
        ).get(conta=conta, pk=pk)
    except (Alarme.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def alarme_counts(*, conta: Conta) -> dict[str, int]:
    """{estado: n} for every state (zeros included)."""
    counts = dict.fromkeys(EstadoAlarme.values, 0)
    for row in Alarme.objects.filter(conta=conta).values("estado").annotate(n=Count("pk")):
        counts[row["estado"]] = row["n"]
    return counts


def open_alarm_count(*, conta: Conta | None) -> int:
    if conta is None:
        return 0
    return Alarme.objects.filter(conta=conta, estado__in=OPEN_STATES).count()


def open_alarms(*, conta: Conta, gateway_id=None, limit: int = 20) -> list[Alarme]:
    qs = alarme_list(conta=conta, gateway_id=gateway_id).filter(estado__in=OPEN_STATES)
    return list(qs[:limit])


def chart_alarm_marks(*, conta: Conta, gateway_id=None, days: int = 30, limit: int = 200) -> list:
    """Device alarms to mark on the charts (static/js/tds-chart-alarms.js): every open one,
    and those closed within the last `days` (a shaded span), newest first."""
    since = timezone.now() - timedelta(days=days)
    qs = (
        Alarme.objects.filter(conta=conta, dispositivo_id__isnull=False)
        .filter(Q(estado__in=OPEN_STATES) | Q(fim__gte=since))
        .order_by("-inicio", "-pk")
    )
    if gateway_id is not None:
        qs = qs.filter(gateway_id=gateway_id)
    return [
        {
            "id": a["pk"],
            "dispositivo_id": a["dispositivo_id"],
            "inicio": iso(a["inicio"]),
            "fim": iso(a["fim"]),
            "estado": a["estado"],
            "regra_nome": a["regra_nome"],
        }
        for a in qs.values("pk", "dispositivo_id", "inicio", "fim", "estado", "regra_nome")[:limit]
    ]


def alarme_history(*, alarme: Alarme) -> QuerySet:
    return alarme.transicoes.select_related("usuario").order_by("em", "pk")
