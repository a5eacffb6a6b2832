"""Writes of units, meter roles and resident links. Each service validates (full_clean)
and is atomic; errors are keyed by the form field they belong to."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import ProtectedError
from django.utils.translation import gettext as _

from contas.models import Conta, ContaMembership, Role
from dispositivos.models import Dispositivo

from .models import Medicao, MoradorUnidade, Papel, Unidade

UNIDADE_FIELDS = ("bloco", "numero", "fracao_ideal", "responsavel", "email")


def _validate_unidade(unidade: Unidade) -> None:
    unidade.bloco = (unidade.bloco or "").strip()
    unidade.numero = (unidade.numero or "").strip()
    unidade.email = (unidade.email or "").strip().lower()
    try:
        unidade.full_clean(exclude=["conta"], validate_constraints=False)  # set by the service
    except ValidationError as exc:
        errors = exc.error_dict
    else:
        errors = {}
    duplicate = (
        Unidade.objects.filter(
            conta_id=unidade.conta_id, bloco=unidade.bloco, numero=unidade.numero
        )
        .exclude(pk=unidade.pk)
        .exists()
    )
    if duplicate:
        errors.setdefault("numero", []).append(
            ValidationError(_("Já existe uma unidade com este bloco e número."), code="unique")
        )
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def unidade_create(*, conta: Conta, **data) -> Unidade:
    unidade = Unidade(conta=conta, **{k: data[k] for k in UNIDADE_FIELDS if k in data})
    _validate_unidade(unidade)
    unidade.save()
    return unidade


@transaction.atomic
def unidade_update(*, unidade: Unidade, **data) -> Unidade:
    for field in UNIDADE_FIELDS:
        if field in data:
            setattr(unidade, field, data[field])
    _validate_unidade(unidade)
    unidade.save()
    return unidade


@transaction.atomic
def unidade_delete(*, unidade: Unidade) -> None:
    if unidade.medicoes.exists():
        raise ValidationError(
            _("A unidade tem medidores vinculados; desvincule-os antes de excluí-la.")
        )
    try:
        unidade.delete()
    except ProtectedError:  # charges of closed periods keep their unit
        raise ValidationError(
            _("A unidade tem cobranças em períodos fechados e não pode ser excluída.")
        ) from None


@transaction.atomic
def medicao_set(
    *, dispositivo: Dispositivo, papel: str, unidade: Unidade | None = None
) -> Medicao | None:
    """Says what `dispositivo` measures; papel "" removes the classification."""
    Conta.objects.select_for_update().get(pk=dispositivo.conta_id)  # one main meter at a time
    if not papel:
        Medicao.objects.filter(conta_id=dispositivo.conta_id, dispositivo=dispositivo).delete()
        return None
    if papel not in Papel.values:
        raise ValidationError({"papel": _("Escolha o que o medidor mede.")})
    if dispositivo.tipo == "TEMP":
        raise ValidationError({"papel": _("Um termômetro não entra no rateio.")})
    if papel == Papel.UNIDADE:
        if unidade is None:
            raise ValidationError({"unidade": _("Escolha a unidade.")})
        if unidade.conta_id != dispositivo.conta_id:
            raise ValidationError({"unidade": _("Unidade inexistente.")})
    else:
        unidade = None
    if papel == Papel.PRINCIPAL:
        other = (
            Medicao.objects.filter(
                conta_id=dispositivo.conta_id,
                papel=Papel.PRINCIPAL,
                dispositivo__tipo=dispositivo.tipo,
            )
            .exclude(dispositivo=dispositivo)
            .select_related("dispositivo")
            .first()
        )
        if other is not None:
            raise ValidationError(
                {
                    "papel": _("%(codigo)s já é o medidor principal de %(tipo)s.")
                    % {"codigo": other.dispositivo.codigo, "tipo": dispositivo.get_tipo_display()}
                }
            )
    medicao, _created = Medicao.objects.update_or_create(
        conta_id=dispositivo.conta_id,
        dispositivo=dispositivo,
        defaults={"papel": papel, "unidade": unidade},
    )
    return medicao


@transaction.atomic
def morador_link(*, membership: ContaMembership, unidade: Unidade) -> MoradorUnidade:
    if membership.conta_id != unidade.conta_id:
        raise ValidationError({"membership": _("Membro inexistente.")})
    if membership.role != Role.MORADOR:
        raise ValidationError({"membership": _("Só um membro com o papel Morador tem unidade.")})
    link, _created = MoradorUnidade.objects.update_or_create(
        conta_id=unidade.conta_id, membership=membership, defaults={"unidade": unidade}
    )
    return link


@transaction.atomic
def morador_unlink(*, link: MoradorUnidade) -> None:
    link.delete()
