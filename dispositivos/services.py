"""Writes to the registry. Each service validates (full_clean) and is atomic; change
notices for running consumers go out after commit.

Gateway status (`Gateway.is_online`, `Gateway.last_seen`) is written here only, at the end
of this module: the consumer applies what a batch of messages says
(`GatewayStatusBatch` + `gateways_touch`), the beat job takes silent gateways offline
(`gateways_mark_offline`), and both announce each change as a `gateway_status` live event.

Validation errors are always keyed by the form field they belong to (``mac``,
``codigo``, ``slave_id``, ``gateway``...), so a form can show each on its field.
Uniqueness races that slip past validation (two requests at once) come back from
the database as IntegrityError and are turned into the same field errors.
"""

import datetime as dt
import logging
from typing import NamedTuple

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import DateTimeField, ExpressionWrapper, F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from contas.models import Conta
from tds_core.live import gateway_status_event, publish_live_event
from tds_core.wire import normalize_mac

from .events import publish_registry_changed
from .gateway_config import gateway_config_bump
from .models import TIPO_DEFAULTS, Dispositivo, Gateway
from .signals import (
    dispositivo_meter_changed,
    dispositivo_regrouped,
    gateway_mac_changed,
    gateway_mac_check,
)

log = logging.getLogger(__name__)


def _msg_mac_taken() -> str:
    # Never says which account holds it: the MAC is global, the account is private.
    return _("Este endereço MAC já está cadastrado na plataforma.")


# (model, fields of the unique check) -> (form field, message factory)
_UNIQUE_FIELD_ERRORS = {
    (Gateway, ("mac",)): ("mac", _msg_mac_taken),
    (Gateway, ("conta", "codigo")): (
        "codigo",
        lambda: _("Já existe um gateway com este código nesta conta."),
    ),
    (Dispositivo, ("gateway", "codigo")): (
        "codigo",
        lambda: _("Já existe um dispositivo com este código neste gateway."),
    ),
    (Dispositivo, ("gateway", "modbus_host", "modbus_porta", "slave_id")): (
        "slave_id",
        lambda: _(
            "Este endereço Modbus (slave id) já é usado por outro dispositivo do mesmo "
            "barramento deste gateway."
        ),
    ),
}

# Database constraint name -> (form field, message factory), for IntegrityError races.
_CONSTRAINT_FIELD_ERRORS = {
    "uniq_gateway_conta_codigo": _UNIQUE_FIELD_ERRORS[(Gateway, ("conta", "codigo"))],
    "uniq_disp_gateway_codigo": _UNIQUE_FIELD_ERRORS[(Dispositivo, ("gateway", "codigo"))],
    "uniq_disp_gateway_bus_slave": _UNIQUE_FIELD_ERRORS[
        (Dispositivo, ("gateway", "modbus_host", "modbus_porta", "slave_id"))
    ],
}


def _notify(conta_id: int) -> None:
    transaction.on_commit(lambda: publish_registry_changed(conta_id=conta_id))


def _apply(instance, data: dict) -> None:
    for field, value in data.items():
        setattr(instance, field, value)


def _remap_unique_errors(model, exc: ValidationError) -> ValidationError:
    """Moves Django's generic "X with this A and B already exists" errors (which land
    on NON_FIELD_ERRORS for multi-field constraints) onto the field a user can fix."""
    errors: dict[str, list] = {}
    for field, field_errors in exc.error_dict.items():
        for error in field_errors:
            params = error.params or {}
            is_unique = error.code in ("unique", "unique_together")
            check = tuple(params.get("unique_check", ())) if is_unique else ()
            target = _UNIQUE_FIELD_ERRORS.get((model, check))
            if target is not None:
                name, message = target
                errors.setdefault(name, []).append(ValidationError(message(), code="unique"))
            else:
                errors.setdefault(field, []).append(error)
    return ValidationError(errors)


def _validate(instance, *, extra: dict | None = None) -> None:
    """full_clean() with field-keyed uniqueness errors, merged with `extra` errors."""
    errors: dict[str, list] = {k: list(v) for k, v in (extra or {}).items()}
    try:
        instance.full_clean()
    except ValidationError as exc:
        for field, field_errors in _remap_unique_errors(type(instance), exc).error_dict.items():
            for error in field_errors:
                if error.messages[0] not in {m for e in errors.get(field, []) for m in e.messages}:
                    errors.setdefault(field, []).append(error)
    if errors:
        raise ValidationError(errors)


def _mac_taken_errors(gateway: Gateway) -> dict:
    """The MAC is unique across ALL accounts; the scoped manager (and so Django's own
    unique check inside a request) only sees the active account, so look unscoped."""
    mac = normalize_mac(gateway.mac or "")
    if mac is None:
        return {}
    with scopes_disabled():
        taken = Gateway.objects.filter(mac=mac).exclude(pk=gateway.pk).exists()
    if taken:
        return {"mac": [ValidationError(_msg_mac_taken(), code="unique")]}
    refusals = gateway_mac_check.send(
        sender=Gateway, conta_id=gateway.conta_id, mac=mac, gateway_pk=gateway.pk
    )
    messages = [message for _receiver, message in refusals if message]
    return {"mac": [ValidationError(m, code="mac_claimed") for m in messages]} if messages else {}


def _save(instance) -> None:
    """save() in a savepoint; a unique violation from a concurrent request becomes the
    same field error validation would have given."""
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError as exc:
        constraint = getattr(getattr(exc.__cause__, "diag", None), "constraint_name", "") or ""
        if isinstance(instance, Gateway) and "mac" in constraint:
            target = _UNIQUE_FIELD_ERRORS[(Gateway, ("mac",))]
        else:
            target = _CONSTRAINT_FIELD_ERRORS.get(constraint)
        if target is None:
            raise
        name, message = target
        raise ValidationError({name: [ValidationError(message(), code="unique")]}) from exc


@transaction.atomic
def gateway_create(*, conta: Conta, **data) -> Gateway:
    data.pop("conta", None)
    gateway = Gateway(conta=conta, **data)
    _validate(gateway, extra=_mac_taken_errors(gateway))
    _save(gateway)
    _notify(conta.pk)
    return gateway


@transaction.atomic
def gateway_update(*, gateway: Gateway, **data) -> Gateway:
    """Changing the MAC sends `gateway_mac_changed` in the same transaction: the
    certificates app revokes the gateway's live certificates (their CN is the old MAC)."""
    data.pop("conta", None)
    with scopes_disabled():  # by primary key, of the gateway the caller already holds
        old_mac = Gateway.objects.filter(pk=gateway.pk).values_list("mac", flat=True).first()
    _apply(gateway, data)
    extra = _mac_taken_errors(gateway)
    count = Dispositivo.objects.filter(gateway_id=gateway.pk).count()
    if gateway.qte_max_dispositivos is not None and count > gateway.qte_max_dispositivos:
        extra.setdefault("qte_max_dispositivos", []).append(
            ValidationError(
                _("O gateway já tem %(n)d dispositivos; o máximo não pode ser menor.")
                % {"n": count}
            )
        )
    _validate(gateway, extra=extra)
    _save(gateway)
    gateway_config_bump(gateway_ids=[gateway.pk])
    if old_mac is not None and old_mac != gateway.mac:
        gateway_mac_changed.send(sender=Gateway, gateway=gateway, old_mac=old_mac)
    _notify(gateway.conta_id)
    return gateway


@transaction.atomic
def gateway_delete(*, gateway: Gateway) -> None:
    conta_id = gateway.conta_id
    gateway.delete()
    _notify(conta_id)


def _check_capacity(gateway: Gateway, *, exclude_pk=None) -> dict:
    """Errors when the gateway is full. The caller holds the gateway row lock, so two
    concurrent creations cannot both pass."""
    count = Dispositivo.objects.filter(gateway=gateway).exclude(pk=exclude_pk).count()
    if count >= gateway.qte_max_dispositivos:
        message = _("O gateway %(gw)s já tem o máximo de %(n)d dispositivos.") % {
            "gw": gateway.codigo,
            "n": gateway.qte_max_dispositivos,
        }
        return {"gateway": [ValidationError(message, code="gateway_full")]}
    return {}


def _lock_gateway(gateway: Gateway) -> Gateway:
    return Gateway.objects.select_for_update().get(pk=gateway.pk, conta_id=gateway.conta_id)


@transaction.atomic
def dispositivo_create(*, gateway: Gateway, **data) -> Dispositivo:
    data.pop("conta", None)
    data.pop("gateway", None)
    gateway = _lock_gateway(gateway)
    dispositivo = Dispositivo(gateway=gateway, conta_id=gateway.conta_id, **data)
    _validate(dispositivo, extra=_check_capacity(gateway))
    _save(dispositivo)
    gateway_config_bump(gateway_ids=[gateway.pk])
    _notify(gateway.conta_id)
    return dispositivo


def _follow_tipo_defaults(dispositivo: Dispositivo, data: dict) -> None:
    """When the tipo changes, a unit / meter kind still equal to the old tipo's default
    follows the new tipo (a water meter re-typed as energy should not keep m³)."""
    new_tipo = data.get("tipo")
    if not new_tipo or new_tipo == dispositivo.tipo:
        return
    old_unit, old_kind = TIPO_DEFAULTS.get(dispositivo.tipo, ("", ""))
    if data.get("unidade", dispositivo.unidade) == old_unit:
        data["unidade"] = ""
    if data.get("tipo_medidor", dispositivo.tipo_medidor) == old_kind:
        data["tipo_medidor"] = ""


# What decides whether a backwards step of the counter is a rollover (storage.sql).
METER_FIELDS = ("registro_maximo", "fator_conversao", "tipo_medidor")
# What decides where a device's consumption is summed (telemetria.storage.totals).
GROUP_FIELDS = ("gateway_id", "tipo", "unidade", "tipo_medidor")


@transaction.atomic
def dispositivo_update(*, dispositivo: Dispositivo, **data) -> Dispositivo:
    """Changing the register's maximum, the factor or the meter kind sends
    `dispositivo_meter_changed` in the same transaction: the stored day rollups judged
    the counter's backwards steps (rollover or not) with the old values. Changing the
    gateway, tipo, unidade or meter kind sends `dispositivo_regrouped`: the consumption
    totals per gateway and utility summed the device's history under the old ones."""
    new_gateway = data.pop("gateway", None)
    data.pop("conta", None)
    old_gateway_id = dispositivo.gateway_id
    with scopes_disabled():  # by primary key, of the device the caller already holds
        old_meter = (
            Dispositivo.objects.filter(pk=dispositivo.pk)
            .values(*dict.fromkeys(METER_FIELDS + GROUP_FIELDS))
            .first()
        )
    _follow_tipo_defaults(dispositivo, data)
    extra: dict = {}
    if new_gateway is not None and new_gateway.pk != dispositivo.gateway_id:
        if new_gateway.conta_id != dispositivo.conta_id:
            raise ValidationError({"gateway": _("Gateway inválido.")})
        new_gateway = _lock_gateway(new_gateway)
        extra = _check_capacity(new_gateway, exclude_pk=dispositivo.pk)
        dispositivo.gateway = new_gateway
    _apply(dispositivo, data)
    _validate(dispositivo, extra=extra)
    _save(dispositivo)
    gateway_config_bump(gateway_ids={old_gateway_id, dispositivo.gateway_id})
    changed = [f for f in METER_FIELDS if old_meter and old_meter[f] != getattr(dispositivo, f)]
    if changed:
        dispositivo_meter_changed.send(sender=Dispositivo, dispositivo=dispositivo, fields=changed)
    if old_meter and any(old_meter[f] != getattr(dispositivo, f) for f in GROUP_FIELDS):
        dispositivo_regrouped.send(
            sender=Dispositivo,
            dispositivo=dispositivo,
            old={f: old_meter[f] for f in GROUP_FIELDS},
        )
    _notify(dispositivo.conta_id)
    return dispositivo


@transaction.atomic
def dispositivo_delete(*, dispositivo: Dispositivo) -> None:
    conta_id = dispositivo.conta_id
    gateway_id = dispositivo.gateway_id
    dispositivo.delete()
    gateway_config_bump(gateway_ids=[gateway_id])
    _notify(conta_id)


# -- gateway status -----------------------------------------------------------------------
class StatusChange(NamedTuple):
    """A gateway whose online flag changed (committed by the caller's transaction)."""

    gateway_id: int
    conta_id: int
    is_online: bool
    last_seen: dt.datetime | None


class GatewayStatusBatch:
    """What a batch of a gateway's messages says about its status, applied in order:
    any accepted message (telemetry or `online`) means online and heard at that time;
    `offline` (the gateway's last will) means offline, keeping when it was last heard."""

    __slots__ = ("states",)

    def __init__(self) -> None:
        self.states: dict[int, tuple[dt.datetime | None, bool]] = {}  # id -> (seen, online)

    def heard(self, gateway_id: int, at: dt.datetime) -> None:
        prev = self.states.get(gateway_id)
        seen = at if prev is None or prev[0] is None else max(prev[0], at)
        self.states[gateway_id] = (seen, True)

    def went_offline(self, gateway_id: int) -> None:
        prev = self.states.get(gateway_id)
        self.states[gateway_id] = (prev[0] if prev else None, False)

    def __bool__(self) -> bool:
        return bool(self.states)


# One statement for the whole batch. Only rows that change are locked (in id order, so
# concurrent consumers never deadlock on them) and written; `last_seen` moves in steps
# of at least `resolution` seconds so a busy gateway is not rewritten on every batch.
_TOUCH_SQL = """
WITH v(id, seen, online) AS (
    SELECT * FROM unnest(%(ids)s::bigint[], %(seen)s::timestamptz[], %(online)s::boolean[])
), locked AS (
    SELECT g.id, g.is_online AS was_online
    FROM tds_new_gateway g JOIN v ON v.id = g.id
    WHERE g.is_online IS DISTINCT FROM v.online
       OR (v.seen IS NOT NULL
           AND (g.last_seen IS NULL OR g.last_seen < v.seen - make_interval(secs => %(res)s)))
    ORDER BY g.id
    FOR UPDATE OF g
)
UPDATE tds_new_gateway g
SET last_seen = greatest(g.last_seen, v.seen), is_online = v.online, updated_at = now()
FROM v JOIN locked ON locked.id = v.id
WHERE g.id = v.id
RETURNING g.id, g.conta_id, g.is_online, g.last_seen, locked.was_online
"""


def gateways_touch(*, batch: GatewayStatusBatch, resolution: float = 1.0) -> list[StatusChange]:
    """Applies a batch's gateway states in one UPDATE, in the caller's transaction.

    Returns the gateways whose online flag changed; the caller announces them after
    commit with `gateway_status_publish`.
    """
    states = batch.states
    if not states:
        return []
    ids = list(states)
    with connection.cursor() as cur:
        cur.execute(
            _TOUCH_SQL,
            {
                "ids": ids,
                "seen": [states[i][0] for i in ids],
                "online": [states[i][1] for i in ids],
                "res": resolution,
            },
        )
        rows = cur.fetchall()
    return [StatusChange(r[0], r[1], r[2], r[3]) for r in rows if r[4] != r[2]]


def gateway_status_publish(changes: list[StatusChange]) -> None:
    """One `gateway_status` live event per change, to its account's dashboards. Call it
    after commit."""
    for change in changes:
        publish_live_event(
            conta_id=change.conta_id,
            event=gateway_status_event(
                gateway_id=change.gateway_id,
                is_online=change.is_online,
                last_seen=change.last_seen,
            ),
        )


def gateways_stopped(*, gateway_ids) -> list[StatusChange]:
    """The process that *is* these gateways stopped (the demo's simulator on Ctrl-C): they
    are offline now, as their last will says. Under `make run` honcho stops the broker and
    the consumer with the simulator, so that last will usually reaches no one, and the beat
    job that would notice the silence stops too: without this the demo's gateways stayed
    online until the next run. Announced after commit, like the consumer's changes."""
    batch = GatewayStatusBatch()
    for gateway_id in gateway_ids:
        batch.went_offline(gateway_id)
    with transaction.atomic():
        changes = gateways_touch(batch=batch)
        transaction.on_commit(lambda: gateway_status_publish(changes))
    return changes


def offline_after_intervals() -> int:
    return max(1, int(settings.TDS_OFFLINE_AFTER_INTERVALS))


def gateways_mark_offline(*, now: dt.datetime | None = None) -> list[int]:
    """Marks silent gateways offline; returns their ids.

    A gateway is offline when nothing was heard from it for `TDS_OFFLINE_AFTER_INTERVALS`
    times its own reporting interval (`intervalo_envio_segundos`); the consumer puts it
    back online on its next message. Runs across accounts: the caller (a Celery task)
    disables scopes. The rows are locked (SKIP LOCKED) and re-checked in the same
    statement, so a gateway the consumer is just putting back online is left alone.
    """
    now = now or timezone.now()
    multiple = offline_after_intervals()
    deadline = ExpressionWrapper(
        F("last_seen") + F("intervalo_envio_segundos") * dt.timedelta(seconds=multiple),
        output_field=DateTimeField(),
    )
    with transaction.atomic():
        silent = (
            Gateway.objects.select_for_update(skip_locked=True)
            .annotate(deadline=deadline)
            .filter(is_online=True)
            .filter(Q(last_seen__isnull=True) | Q(deadline__lt=now))
            .values_list("pk", "conta_id", "last_seen")
        )
        rows = list(silent)
        if not rows:
            return []
        Gateway.objects.filter(pk__in=[pk for pk, _, _ in rows]).update(
            is_online=False, updated_at=now
        )
        changes = [StatusChange(pk, conta_id, False, last_seen) for pk, conta_id, last_seen in rows]
        transaction.on_commit(lambda: gateway_status_publish(changes))
    log.info("marked %d gateway(s) offline: %s", len(rows), [pk for pk, _, _ in rows])
    return [pk for pk, _, _ in rows]
