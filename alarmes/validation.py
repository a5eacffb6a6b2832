"""Cross-field checks of a rule: its target belongs to the rule's account, and the
parameters its kind needs are there. Errors are keyed by field."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from dispositivos.models import TipoDispositivo, TipoMedidor

from .models import Grandeza, RegraAlarme, TipoRegra

LEAK_TYPES = (TipoDispositivo.AGUA, TipoDispositivo.GAS)


def validate_rule(regra: RegraAlarme, exclusoes=()) -> None:
    errors: dict[str, str] = {}
    alvos = [
        regra.dispositivo_id is not None,
        regra.gateway_id is not None,
        bool(regra.tipo_dispositivo),
    ]
    if sum(alvos) != 1:
        errors["alvo"] = _("Escolha exatamente um alvo: dispositivo, gateway ou tipo.")
    # A rule can never name another account's device or gateway (the form and the API
    # already look ids up in the account; this is the last line).
    if regra.dispositivo_id is not None and regra.dispositivo.conta_id != regra.conta_id:
        errors["dispositivo"] = _("Dispositivo não encontrado.")
    if regra.gateway_id is not None and regra.gateway.conta_id != regra.conta_id:
        errors["gateway"] = _("Gateway não encontrado.")
    for d in exclusoes:
        if d.conta_id != regra.conta_id:
            errors["exclusoes"] = _("Dispositivo não encontrado.")
    if regra.dispositivo_id is not None and exclusoes:
        errors["exclusoes"] = _("Exclusões só valem para regras de gateway ou de tipo.")

    tipo = regra.tipo
    if tipo == TipoRegra.GATEWAY_OFFLINE:
        if regra.gateway_id is None:
            errors["gateway"] = _("Uma regra de gateway offline tem um gateway como alvo.")
    elif tipo == TipoRegra.LIMITE:
        sup, inf = regra.limite_superior, regra.limite_inferior
        if sup is None and inf is None:
            errors["limite_superior"] = _("Informe o limite superior, o inferior ou ambos.")
        elif sup is not None and inf is not None and inf >= sup:
            errors["limite_inferior"] = _("O limite inferior deve ser menor que o superior.")
        elif (
            sup is not None
            and inf is not None
            and regra.histerese
            and inf + regra.histerese > sup - regra.histerese
        ):
            errors["histerese"] = _("A histerese é maior que a metade da faixa entre os limites.")
        if (
            regra.grandeza == Grandeza.TAXA
            and regra.dispositivo_id is not None
            and regra.dispositivo.tipo_medidor == TipoMedidor.INSTANTANEO
        ):
            errors["grandeza"] = _("Taxa por hora só vale para medidores de consumo.")
    elif tipo == TipoRegra.CONSUMO:
        if regra.limite_superior is None or regra.limite_superior <= 0:
            errors["limite_superior"] = _("Informe o consumo máximo do período (maior que zero).")
    elif tipo == TipoRegra.VAZAMENTO:
        if regra.janela_inicio == regra.janela_fim:
            errors["janela_fim"] = _("A janela precisa ter início e fim diferentes.")
        if regra.dispositivo_id is not None and regra.dispositivo.tipo not in LEAK_TYPES:
            errors["dispositivo"] = _("Vazamento vale para medidores de água e gás.")
        if regra.tipo_dispositivo and regra.tipo_dispositivo not in LEAK_TYPES:
            errors["tipo_dispositivo"] = _("Vazamento vale para medidores de água e gás.")
    elif tipo == TipoRegra.PERDA_REDE:
        from unidades.models import Medicao, Papel

        if (
            regra.dispositivo_id is None
            or not Medicao.objects.filter(
                conta_id=regra.conta_id, dispositivo_id=regra.dispositivo_id, papel=Papel.PRINCIPAL
            ).exists()
        ):
            errors["dispositivo"] = _(
                "Perda na rede comum tem como alvo o medidor principal de uma utilidade "
                "(classifique-o em Unidades)."
            )
    if errors:
        raise ValidationError(errors)
