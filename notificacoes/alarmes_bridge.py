"""Everything this app reads of the alarm app, in one place (imports point one way:
notificacoes -> alarmes). An alarm transition becomes an `EventoAlarme` here."""

from alarmes.models import Alarme, EstadoAlarme, TipoTransicao, TransicaoAlarme
from dispositivos.models import Dispositivo

from .models import Evento
from .outbox import EventoAlarme

TRANSICAO_EVENTO = {
    TipoTransicao.DISPARO: Evento.DISPARADO,
    TipoTransicao.RECONHECIMENTO: Evento.RECONHECIDO,
    TipoTransicao.ENCERRAMENTO: Evento.ENCERRADO,
}  # comments are not notified


def _num(value) -> str:
    if value is None:
        return ""
    text = f"{value.normalize():f}" if hasattr(value, "normalize") else str(value)
    return text.replace(".", ",")


def snapshot(alarme: Alarme, *, em=None, usuario=None, comentario: str = "") -> dict:
    if alarme.dispositivo_id and not Alarme._meta.get_field("dispositivo").is_cached(alarme):
        # Device and gateway in one query (the transition's alarm comes without them).
        alarme.dispositivo = Dispositivo.objects.select_related("gateway").get(
            pk=alarme.dispositivo_id
        )
        alarme.gateway = alarme.dispositivo.gateway
    disp = alarme.dispositivo
    return {
        "regra": alarme.regra_nome,
        "tipo": alarme.tipo,
        "estado": alarme.estado,
        "dispositivo": (f"{disp.codigo} {disp.nome}".strip() if disp else ""),
        "gateway": f"{alarme.gateway.codigo} {alarme.gateway.nome}".strip(),
        "gateway_id": alarme.gateway_id,
        "dispositivo_id": alarme.dispositivo_id,
        "valor": _num(alarme.valor),
        "unidade": (disp.unidade if disp else ""),
        "mensagem": alarme.mensagem,
        "inicio": alarme.inicio.isoformat(),
        "em": (em or alarme.inicio).isoformat(),
        "usuario": getattr(usuario, "email", "") or "",
        "comentario": comentario,
    }


def evento_de_transicao(transicao: TransicaoAlarme) -> EventoAlarme | None:
    evento = TRANSICAO_EVENTO.get(transicao.tipo)
    if evento is None:
        return None
    alarme = transicao.alarme
    return EventoAlarme(
        conta_id=alarme.conta_id,
        alarme_id=alarme.pk,
        origem=f"transicao:{transicao.pk}",
        evento=evento,
        severidade=alarme.severidade,
        regra_id=alarme.regra_id,
        gateway_id=alarme.gateway_id,
        dados=snapshot(
            alarme, em=transicao.em, usuario=transicao.usuario, comentario=transicao.comentario
        ),
    )


def alarmes_abertos_nao_reconhecidos(ids) -> set[int]:
    """Of these alarm ids, those still active and unacknowledged."""
    return set(
        Alarme.objects.filter(pk__in=[i for i in ids if i], estado=EstadoAlarme.ATIVO).values_list(
            "pk", flat=True
        )
    )


def alarmes_ativos():
    """Every active (unacknowledged) alarm, for the reminder and escalation job."""
    return Alarme.objects.filter(estado=EstadoAlarme.ATIVO).select_related("dispositivo", "gateway")


def alarmes_para_resumo(*, conta_id: int, inicio, fim) -> dict:
    """For the daily digest: alarms open now, fired in [inicio, fim), cleared in it."""
    from alarmes.models import OPEN_STATES, SEVERIDADE_ORDEM

    base = Alarme.objects.filter(conta_id=conta_id).select_related("dispositivo", "gateway")

    def by_severity(qs):
        return sorted(qs, key=lambda a: (SEVERIDADE_ORDEM.get(a.severidade, 9), a.inicio))

    return {
        "abertos": by_severity(base.filter(estado__in=OPEN_STATES)),
        "disparados": by_severity(base.filter(inicio__gte=inicio, inicio__lt=fim)),
        "encerrados": by_severity(
            base.filter(estado=EstadoAlarme.ENCERRADO, fim__gte=inicio, fim__lt=fim)
        ),
    }
