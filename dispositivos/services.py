"""Writes to the registry. Each service validates (full_clean) and is atomic; change
notices for running consumers go out after commit.

Validation errors are always keyed by the form field they belong to (``mac``,
``codigo``, ``slave_id``, ``gateway``...), so a form can show each on its field.
Uniqueness races that slip past validation (two requests at once) come back from
the database as IntegrityError and are turned into the same field errors.
"""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from contas.models import Conta

from .events import publish_registry_changed
from .gateway_config import gateway_config_bump
from .mac import normalize_mac
from .models import TIPO_DEFAULTS, Dispositivo, Gateway


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
    return {"mac": [ValidationError(_msg_mac_taken(), code="unique")]} if taken else {}


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
    data.pop("conta", None)
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


@transaction.atomic
def dispositivo_update(*, dispositivo: Dispositivo, **data) -> Dispositivo:
    new_gateway = data.pop("gateway", None)
    data.pop("conta", None)
    old_gateway_id = dispositivo.gateway_id
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
    _notify(dispositivo.conta_id)
    return dispositivo


@transaction.atomic
def dispositivo_delete(*, dispositivo: Dispositivo) -> None:
    conta_id = dispositivo.conta_id
    gateway_id = dispositivo.gateway_id
    dispositivo.delete()
    gateway_config_bump(gateway_ids=[gateway_id])
    _notify(conta_id)
