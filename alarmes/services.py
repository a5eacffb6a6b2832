"""Writes of the alarm app: rules, and every alarm transition.

Each transition (fired, acknowledged, cleared, comment) is one transaction that writes
the alarm and a TransicaoAlarme row and sends `alarm_transitioned` inside it; the live
event for open pages goes out after commit.
"""

from datetime import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from contas.models import Conta

from .events import publish_alarm_event
from .models import (
    OPEN_STATES,
    Alarme,
    EstadoAlarme,
    RegraAlarme,
    TipoTransicao,
    TransicaoAlarme,
)
from .signals import alarm_transitioned

# --- alarm transitions -------------------------------------------------------------


def _open_count(conta_id: int) -> int:
    return Alarme.objects.filter(conta_id=conta_id, estado__in=OPEN_STATES).count()


def _record(
    *, alarme: Alarme, tipo: str, anterior: str, usuario, em, comentario="", valor=None
) -> TransicaoAlarme:
    transicao = TransicaoAlarme.objects.create(
        conta_id=alarme.conta_id,
        alarme=alarme,
        tipo=tipo,
        estado_anterior=anterior,
        estado_novo=alarme.estado,
        usuario=usuario,
        em=em,
        comentario=comentario,
        valor=valor,
    )
    alarm_transitioned.send(sender=Alarme, transicao=transicao)

    def publish():
        fresh = Alarme.objects.select_related("dispositivo", "gateway").get(pk=alarme.pk)
        publish_alarm_event(alarme=fresh, abertos=_open_count(alarme.conta_id))

    transaction.on_commit(publish)
    return transicao


# {guard}: with `not_if_closed_since`, not when an alarm of the same (rule, target) already
# closed after this one's start: the condition was judged already (another consumer fired
# and cleared it between this evaluator's read of the state and its insert); the unique
# index covers open alarms only.
_INSERT_OPEN = """
INSERT INTO tds_new_alarme (conta_id, regra_id, regra_nome, tipo, severidade, gateway_id,
    dispositivo_id, estado, inicio, valor, mensagem, created_at, updated_at)
SELECT %(conta)s, %(regra)s, %(nome)s, %(tipo)s, %(sev)s, %(gw)s, %(disp)s, 'ativo',
    %(inicio)s, %(valor)s, %(msg)s, now(), now()
WHERE {guard}
ON CONFLICT {target} DO NOTHING
RETURNING id"""
_TARGET_DEVICE = (
    "(regra_id, dispositivo_id)"
    " WHERE estado IN ('ativo', 'reconhecido') AND dispositivo_id IS NOT NULL"
)
_TARGET_GATEWAY = (
    "(regra_id, gateway_id) WHERE estado IN ('ativo', 'reconhecido') AND dispositivo_id IS NULL"
)
_SAME_DEVICE = "dispositivo_id = %(disp)s"
_SAME_GATEWAY = "gateway_id = %(gw)s AND dispositivo_id IS NULL"
_NOT_CLOSED_SINCE = """NOT EXISTS (
    SELECT 1 FROM tds_new_alarme
    WHERE regra_id = %(regra)s AND {same} AND estado = 'encerrado' AND fim > %(inicio)s)"""


def _lock_target(*, regra_id: int, gateway_id: int, dispositivo_id: int | None) -> None:
    """Serialises firing and clearing on one (rule, target) until the transaction ends.
    The partial unique index alone lets a twin through: an evaluator whose INSERT waits on
    another's clear of the open alarm inserts once that clear commits, its NOT EXISTS
    guard having been judged before (READ COMMITTED)."""
    target = f"d{dispositivo_id}" if dispositivo_id is not None else f"g{gateway_id}"
    with connection.cursor() as cur:
        cur.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
            [f"tds:alarme:{regra_id}:{target}"],
        )


def alarm_fire(
    *,
    regra: RegraAlarme,
    gateway_id: int,
    dispositivo_id: int | None,
    inicio: datetime,
    valor: Decimal | None = None,
    mensagem: str = "",
    em: datetime | None = None,
    not_if_closed_since: bool = False,
) -> Alarme | None:
    """Open an alarm of `regra` on the device (or the gateway when `dispositivo_id` is
    None); `em` is when it fired (default `inicio`, since when the condition held).
    None when one is already open (the partial unique index decides, so concurrent
    evaluators (two consumers, a redelivered batch, a job) never make twins), or, with
    `not_if_closed_since` (the reading-driven engine), when one of the same rule and
    target closed after `inicio` (the same condition, judged by another evaluator)."""
    target, same = (
        (_TARGET_GATEWAY, _SAME_GATEWAY)
        if dispositivo_id is None
        else (_TARGET_DEVICE, _SAME_DEVICE)
    )
    with transaction.atomic():
        _lock_target(regra_id=regra.pk, gateway_id=gateway_id, dispositivo_id=dispositivo_id)
        with connection.cursor() as cur:
            cur.execute(
                _INSERT_OPEN.format(
                    target=target,
                    guard=_NOT_CLOSED_SINCE.format(same=same) if not_if_closed_since else "true",
                ),
                {
                    "conta": regra.conta_id,
                    "regra": regra.pk,
                    "nome": regra.nome[:120],
                    "tipo": regra.tipo,
                    "sev": regra.severidade,
                    "gw": gateway_id,
                    "disp": dispositivo_id,
                    "inicio": inicio,
                    "valor": valor,
                    "msg": mensagem[:300],
                },
            )
            row = cur.fetchone()
        if row is None:
            return None
        alarme = Alarme.objects.get(pk=row[0])
        _record(
            alarme=alarme,
            tipo=TipoTransicao.DISPARO,
            anterior="",
            usuario=None,
            em=em or inicio,
            comentario=mensagem[:2000],
            valor=valor,
        )
    return alarme


def _locked(alarme: Alarme) -> Alarme:
    return Alarme.objects.select_for_update().get(pk=alarme.pk, conta_id=alarme.conta_id)


def alarm_acknowledge(*, alarme: Alarme, usuario, comentario: str = "") -> Alarme:
    """ativo -> reconhecido; a ValidationError for any other state."""
    with transaction.atomic():
        alarme = _locked(alarme)
        if alarme.estado != EstadoAlarme.ATIVO:
            raise ValidationError({"estado": _("Só um alarme ativo pode ser reconhecido.")})
        now = timezone.now()
        alarme.estado = EstadoAlarme.RECONHECIDO
        alarme.reconhecido_em = now
        alarme.reconhecido_por = usuario
        alarme.save(update_fields=["estado", "reconhecido_em", "reconhecido_por", "updated_at"])
        _record(
            alarme=alarme,
            tipo=TipoTransicao.RECONHECIMENTO,
            anterior=EstadoAlarme.ATIVO,
            usuario=usuario,
            em=now,
            comentario=comentario,
        )
    return alarme


def alarm_clear(
    *,
    alarme: Alarme,
    usuario=None,
    em: datetime | None = None,
    comentario: str = "",
    valor: Decimal | None = None,
    manual: bool | None = None,
) -> Alarme | None:
    """Open -> encerrado, by hand (`usuario`, or `manual` for an API token) or by the
    engine (neither). By hand, an alarm already closed is a ValidationError; for the
    engine it is None (a race with a person who closed it first)."""
    manual = usuario is not None if manual is None else manual
    with transaction.atomic():
        # The row first, then its target: a fire never waits on a row lock (its INSERT
        # conflicts with the open row and does nothing), so this order cannot deadlock,
        # and the clear's UPDATE still runs under the target's lock.
        alarme = _locked(alarme)
        if alarme.regra_id is not None:
            _lock_target(
                regra_id=alarme.regra_id,
                gateway_id=alarme.gateway_id,
                dispositivo_id=alarme.dispositivo_id,
            )
        if alarme.estado not in OPEN_STATES:
            if not manual:
                return None
            raise ValidationError({"estado": _("Este alarme já está encerrado.")})
        anterior = alarme.estado
        alarme.estado = EstadoAlarme.ENCERRADO
        alarme.fim = em or timezone.now()
        alarme.save(update_fields=["estado", "fim", "updated_at"])
        _record(
            alarme=alarme,
            tipo=TipoTransicao.ENCERRAMENTO,
            anterior=anterior,
            usuario=usuario,
            em=alarme.fim,
            comentario=comentario,
            valor=valor,
        )
    return alarme


def alarm_comment(*, alarme: Alarme, usuario, comentario: str) -> TransicaoAlarme:
    comentario = (comentario or "").strip()
    if not comentario:
        raise ValidationError({"comentario": _("Escreva um comentário.")})
    if len(comentario) > 2000:
        raise ValidationError({"comentario": _("No máximo 2000 caracteres.")})
    with transaction.atomic():
        alarme = _locked(alarme)
        return _record(
            alarme=alarme,
            tipo=TipoTransicao.COMENTARIO,
            anterior=alarme.estado,
            usuario=usuario,
            em=timezone.now(),
            comentario=comentario,
        )


# --- rules -------------------------------------------------------------------------

RULE_FIELDS = (
    "nome",
    "tipo",
    "severidade",
    "ativo",
    "descricao",
    "dispositivo",
    "gateway",
    "tipo_dispositivo",
    "grandeza",
    "limite_superior",
    "limite_inferior",
    "histerese",
    "duracao_minutos",
    "periodo",
    "vazao_minima",
    "janela_inicio",
    "janela_fim",
    "noites_para_encerrar",
    "intervalos",
    "modo_anomalia",
    "fator_mediana",
    "tolerancia_reset",
)


def regra_validate(regra: RegraAlarme, exclusoes=()) -> None:
    """Full validation of a rule, errors keyed by field (the form and the API show them)."""
    from .validation import validate_rule

    errors = {}
    try:
        regra.full_clean(exclude=["conta"], validate_constraints=False)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    try:
        validate_rule(regra, exclusoes)
    except ValidationError as exc:
        for k, v in exc.message_dict.items():
            errors.setdefault(k, v)
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def regra_create(*, conta: Conta, usuario=None, exclusoes=(), **data) -> RegraAlarme:
    unknown = set(data) - set(RULE_FIELDS)
    if unknown:
        raise TypeError(f"unknown rule fields: {sorted(unknown)}")
    regra = RegraAlarme(conta=conta, criado_por=usuario, **data)
    regra_validate(regra, exclusoes)
    regra.save()
    regra.exclusoes.set(list(exclusoes))
    return regra


@transaction.atomic
def regra_update(*, regra: RegraAlarme, exclusoes=None, **data) -> RegraAlarme:
    """Update the allowlisted fields given; `exclusoes` None keeps them."""
    unknown = set(data) - set(RULE_FIELDS)
    if unknown:
        raise TypeError(f"unknown rule fields: {sorted(unknown)}")
    for field in RULE_FIELDS:
        if field in data:
            setattr(regra, field, data[field])
    current = list(regra.exclusoes.all()) if exclusoes is None else list(exclusoes)
    regra_validate(regra, current)
    regra.save()
    if exclusoes is not None:
        regra.exclusoes.set(current)
    return regra


def regra_set_active(*, regra: RegraAlarme, ativo: bool) -> RegraAlarme:
    return regra_update(regra=regra, ativo=ativo)


@transaction.atomic
def regra_delete(*, regra: RegraAlarme, usuario=None) -> None:
    """Closes the rule's open alarms (recorded, by `usuario`), keeps its history (the
    alarms keep the rule's name), then deletes the rule."""
    for alarme in Alarme.objects.filter(regra=regra, estado__in=OPEN_STATES):
        alarm_clear(
            alarme=alarme, usuario=usuario, comentario=_("Regra excluída."), em=timezone.now()
        )
    regra.delete()
