"""Reads of the dead letters, always for one account (rejects of unknown gateways belong
to no account and are only visible in the admin)."""

import datetime as dt

from django.conf import settings
from django.db.models import Count, F, QuerySet, Sum, Value
from django.db.models.functions import Greatest
from django.http import Http404

from contas.models import Conta

from .models import ContagemRejeicoes, MensagemRejeitada, Motivo


def rejeitada_list(*, conta: Conta, motivo: str = "") -> QuerySet:
    qs = MensagemRejeitada.objects.filter(conta=conta).select_related("gateway")
    if motivo:
        qs = qs.filter(motivo=motivo)
    return qs.order_by("-recebida_em", "-pk")


def rejeitada_counts(*, conta: Conta) -> list[tuple[str, str, int]]:
    """(code, label, count) per reason present in the account, most frequent first."""
    labels = dict(Motivo.choices)
    rows = (
        MensagemRejeitada.objects.filter(conta=conta)
        .values("motivo")
        .annotate(n=Count("pk"))
        .order_by("-n", "motivo")
    )
    return [(r["motivo"], labels.get(r["motivo"], r["motivo"]), r["n"]) for r in rows]


def rejeitada_get(*, conta: Conta, pk) -> MensagemRejeitada:
    try:
        return MensagemRejeitada.objects.select_related("gateway").get(conta=conta, pk=pk)
    except (MensagemRejeitada.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def rejeitada_count_since(*, conta: Conta, since) -> int:
    """The account's rejected messages received since `since` (the dashboard card)."""
    return MensagemRejeitada.objects.filter(conta=conta, recebida_em__gte=since).count()


def rejeitada_only_counted(*, conta: Conta) -> int:
    """The account's rejects that were counted but not stored (past
    TDS_DEAD_LETTER_MAX_PER_HOUR per gateway and hour), over the retention period."""
    limit = settings.TDS_DEAD_LETTER_MAX_PER_HOUR
    total = ContagemRejeicoes.objects.filter(conta=conta).aggregate(
        n=Sum(Greatest(F("quantidade") - Value(limit), Value(0)))
    )["n"]
    return total or 0


def rejeitadas_24h_count(*, conta: Conta, now: dt.datetime) -> int:
    """The dashboard card (registered with telemetria.selectors.register_dashboard_count)."""
    return rejeitada_count_since(conta=conta, since=now - dt.timedelta(hours=24))


def gateway_agent_status(*, gateway) -> dict:
    """What the gateway page shows about the gateway's agent: its latest diagnostics and
    whether it runs the current configuration (the version the registry holds)."""
    from .models import DiagnosticoGateway

    diag = DiagnosticoGateway.objects.filter(
        gateway_id=gateway.pk, conta_id=gateway.conta_id
    ).first()
    running = diag.config_versao if diag else None
    devices = []
    if diag:
        for d in diag.payload.get("dispositivos") or []:
            if isinstance(d, dict):
                errors = sum(
                    v
                    for k in ("timeouts", "crc", "excecoes", "invalidos")
                    if isinstance(v := d.get(k), int)
                )
                devices.append({**d, "erros": errors})
    return {
        "diagnostico": diag,
        "config_atual": gateway.config_versao,
        "config_publicada": gateway.config_publicada_versao >= gateway.config_versao,
        "config_em_uso": running,
        "config_em_dia": running is not None and running == gateway.config_versao,
        "dispositivos": devices,
    }
