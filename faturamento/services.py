"""Writes of billing. A period is edited only while open; closing computes and stores
every unit's charge (with its computation lines) and freezes the period; a correction is a
new version with a reason, and closing it marks the earlier version as replaced."""

from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _

from contas.models import Conta
from tds_core.numbers import AmbiguousNumber, parse_typed_decimal

from . import rateio, selectors
from .calendario import periodo_datas
from .models import (
    Cobranca,
    ConfigFaturamento,
    Fatura,
    ModoTarifa,
    Periodo,
    Situacao,
    StatusPeriodo,
)

FALTANDO = (Situacao.SEM_DADOS, Situacao.INCOMPLETO)  # a unit whose data is missing

FATURA_FIELDS = (
    "valor_total",
    "consumo_concessionaria",
    "modo",
    "faixas",
    "preco_unitario",
    "valor_minimo",
    "esgoto_pct",
    "metodo_comum",
    "usar_estimativas",
)


@transaction.atomic
def config_update(
    *, conta: Conta, dia_fechamento: int, perda_limite_pct: Decimal
) -> ConfigFaturamento:
    config, _created = ConfigFaturamento.objects.get_or_create(conta=conta)
    config.dia_fechamento = dia_fechamento
    config.perda_limite_pct = perda_limite_pct
    config.full_clean()
    config.save()
    return config


@transaction.atomic
def periodo_abrir(*, conta: Conta, referencia: date) -> Periodo:
    referencia = referencia.replace(day=1)
    if Periodo.objects.filter(conta=conta, referencia=referencia).exists():
        raise ValidationError(
            {
                "referencia": _("Já existe um período para %(mes)s.")
                % {"mes": date_format(referencia, "F/Y")}
            }
        )
    config = selectors.config_get(conta=conta)
    inicio, fim = periodo_datas(referencia=referencia, dia_fechamento=config.dia_fechamento)
    periodo = Periodo(conta=conta, referencia=referencia, inicio=inicio, fim=fim)
    periodo.full_clean()
    periodo.save()
    return periodo


def _locked_open(periodo: Periodo) -> Periodo:
    locked = Periodo.objects.select_for_update().get(pk=periodo.pk, conta_id=periodo.conta_id)
    if locked.status != StatusPeriodo.ABERTO:
        raise ValidationError(
            _("O período %(p)s está fechado e não pode ser alterado; abra uma correção.")
            % {"p": str(locked)}
        )
    return locked


def _validate_fatura(fatura: Fatura) -> None:
    errors = {}
    if fatura.modo == ModoTarifa.FAIXAS:
        if not fatura.faixas:
            errors["faixas"] = _("Informe ao menos uma faixa.")
        else:
            anterior = Decimal(0)
            for i, (ate, _preco) in enumerate(fatura.faixas):
                if ate in (None, ""):
                    if i != len(fatura.faixas) - 1:
                        errors["faixas"] = _("Só a última faixa pode não ter limite.")
                elif Decimal(ate) <= anterior:
                    errors["faixas"] = _("Os limites das faixas devem ser crescentes.")
                else:
                    anterior = Decimal(ate)
    elif fatura.preco_unitario is None:
        errors["preco_unitario"] = _("Informe o preço por unidade de consumo.")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def fatura_salvar(*, periodo: Periodo, tipo: str, **data) -> Fatura:
    """Creates or replaces the bill of `tipo` for an open period."""
    periodo = _locked_open(periodo)
    fatura = Fatura.objects.filter(conta_id=periodo.conta_id, periodo=periodo, tipo=tipo).first()
    fatura = fatura or Fatura(conta_id=periodo.conta_id, periodo=periodo, tipo=tipo)
    for name in FATURA_FIELDS:
        if name in data:
            setattr(fatura, name, data[name])
    fatura.full_clean(exclude=["faixas"], validate_unique=False)
    _validate_fatura(fatura)
    fatura.save()
    return fatura


@transaction.atomic
def fatura_excluir(*, fatura: Fatura) -> None:
    _locked_open(fatura.periodo)
    fatura.delete()


@transaction.atomic
def periodo_fechar(*, periodo: Periodo, user=None, hoje: date | None = None) -> Periodo:
    """Computes and stores every unit's charge for each bill, then freezes the period."""
    periodo = _locked_open(periodo)
    hoje = hoje or timezone.localdate()
    if hoje < periodo.fim:
        raise ValidationError(
            _("O período só pode ser fechado a partir de %(dia)s.")
            % {"dia": date_format(periodo.fim, "SHORT_DATE_FORMAT")}
        )
    faturas = selectors.faturas_of_periodo(periodo=periodo)
    if not faturas:
        raise ValidationError(_("Informe ao menos uma conta da concessionária antes de fechar."))
    conta = periodo.conta
    apuracao = selectors.apuracao(conta=conta, inicio=periodo.inicio, fim=periodo.fim)
    if not apuracao.unidades:
        raise ValidationError(_("Cadastre as unidades antes de fechar o período."))
    for fatura in faturas:
        _ratear(periodo, fatura, apuracao)
    if periodo.versao > 1:
        Periodo.objects.filter(
            conta_id=periodo.conta_id, referencia=periodo.referencia, status=StatusPeriodo.FECHADO
        ).update(status=StatusPeriodo.SUBSTITUIDO)
    periodo.status = StatusPeriodo.FECHADO
    periodo.fechado_em = timezone.now()
    periodo.fechado_por = user
    periodo.save(update_fields=["status", "fechado_em", "fechado_por", "updated_at"])
    return periodo


def _nota(item: selectors.ConsumoUnidade, unidade_medida: str, estimado: bool) -> str:
    if estimado:
        return _(" (estimado pela média da própria unidade; medido: %(m)s)") % {
            "m": rateio.qty(item.medido or Decimal(0), unidade_medida)
        }
    if item.situacao in FALTANDO:
        return " (" + _("dados incompletos, sem estimativa") + ")"
    return ""


def _ratear(periodo: Periodo, fatura: Fatura, apuracao: selectors.Apuracao) -> None:
    um = selectors.unidade_medida(fatura.tipo)
    itens = apuracao.por_tipo.get(fatura.tipo) or [
        selectors.ConsumoUnidade(u, fatura.tipo, None, Situacao.SEM_MEDIDOR)
        for u in apuracao.unidades
    ]
    entradas, estimados = [], []
    for item in itens:
        consumo, estimado = item.considerado(fatura.usar_estimativas)
        estimados.append(estimado)
        entradas.append(
            rateio.UnidadeRateio(
                item.unidade.pk,
                item.unidade.rotulo,
                item.unidade.fracao_ideal,
                consumo,
                _nota(item, um, estimado) if consumo is not None else "",
            )
        )
    principal = apuracao.principal.get(fatura.tipo)
    fonte_alerta = []
    if principal is None and fatura.consumo_concessionaria is not None:
        principal = fatura.consumo_concessionaria
        fonte_alerta.append(_("Sem dados do medidor principal: usado o consumo da concessionária."))
    result = rateio.calcular_rateio(
        unidades=entradas,
        tarifa=fatura.tarifa(um),
        valor_total=fatura.valor_total,
        metodo=fatura.metodo_comum,
        consumo_principal=principal,
    )
    faltando = [i.unidade.rotulo for i in itens if i.situacao in FALTANDO]
    if faltando:
        fonte_alerta.append(
            _("Unidades com dados faltando: %(u)s.") % {"u": ", ".join(faltando[:20])}
            + (" …" if len(faltando) > 20 else "")
        )
    cabecalho = _("Conta de %(tipo)s: %(v)s; consumo total %(c)s; comum %(vc)s.") % {
        "tipo": fatura.get_tipo_display(),
        "v": rateio.brl(fatura.valor_total),
        "c": "—" if principal is None else rateio.qty(principal, um),
        "vc": rateio.brl(result.valor_comum),
    }
    Cobranca.objects.bulk_create(
        [
            Cobranca(
                conta_id=periodo.conta_id,
                periodo=periodo,
                fatura=fatura,
                unidade=item.unidade,
                tipo=fatura.tipo,
                consumo_medido=item.medido,
                consumo=c.consumo,
                estimado=estimado,
                situacao=item.situacao,
                valor_individual=c.individual.quantize(Decimal("0.000001")),
                valor_comum=c.comum.quantize(Decimal("0.000001")),
                valor=c.valor,
                linhas=[cabecalho, *c.linhas],
            )
            for item, c, estimado in zip(itens, result.cobrancas, estimados, strict=True)
        ]
    )
    fatura.consumo_principal = principal
    fatura.soma_unidades = result.soma_unidades
    fatura.consumo_comum = result.consumo_comum
    fatura.valor_comum = result.valor_comum.quantize(Decimal("0.000001"))
    fatura.alertas = fonte_alerta + result.alertas
    fatura.save()


@transaction.atomic
def periodo_corrigir(*, periodo: Periodo, motivo: str) -> Periodo:
    """Opens version n+1 of a closed period, with the same bills, for a correction."""
    locked = Periodo.objects.select_for_update().get(pk=periodo.pk, conta_id=periodo.conta_id)
    if locked.status != StatusPeriodo.FECHADO:
        raise ValidationError(_("Só um período fechado pode ser corrigido."))
    motivo = (motivo or "").strip()
    if not motivo:
        raise ValidationError({"motivo": _("Informe o motivo da correção.")})
    if Periodo.objects.filter(
        conta_id=locked.conta_id, referencia=locked.referencia, status=StatusPeriodo.ABERTO
    ).exists():
        raise ValidationError(_("Já existe uma correção aberta para este mês."))
    ultima = (
        Periodo.objects.filter(conta_id=locked.conta_id, referencia=locked.referencia)
        .order_by("-versao")
        .values_list("versao", flat=True)
        .first()
    )
    nova = Periodo.objects.create(
        conta_id=locked.conta_id,
        referencia=locked.referencia,
        versao=ultima + 1,
        inicio=locked.inicio,
        fim=locked.fim,
        motivo=motivo,
    )
    for fatura in selectors.faturas_of_periodo(periodo=locked):
        Fatura.objects.create(
            conta_id=locked.conta_id,
            periodo=nova,
            tipo=fatura.tipo,
            **{name: getattr(fatura, name) for name in FATURA_FIELDS},
        )
    return nova


def parse_faixas(text: str) -> list[list]:
    """Bands typed one per line as "até ; preço" (decimal comma or point; an empty "até" is
    the open last band) -> [[ate|None, preco], ...] as strings. Raises ValidationError."""
    faixas = []
    for n, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.replace("\t", ";").split(";")]
        if len(parts) != 2:
            raise ValidationError(
                _('Linha %(n)d das faixas: use "até ; preço" (ex.: 10 ; 4,50).') % {"n": n}
            )
        try:
            ate = None if parts[0] in ("", "-", "∞") else parse_typed_decimal(parts[0])
            preco = parse_typed_decimal(parts[1])
        except AmbiguousNumber:
            raise ValidationError(
                _(
                    "Linha %(n)d das faixas: número ambíguo, use vírgula nos decimais "
                    "(1.000,00 ou 1,000)."
                )
                % {"n": n}
            ) from None
        except ArithmeticError:
            raise ValidationError(
                _("Linha %(n)d das faixas: número inválido.") % {"n": n}
            ) from None
        if preco < 0 or (ate is not None and ate <= 0):
            raise ValidationError(
                _("Linha %(n)d das faixas: valores devem ser positivos.") % {"n": n}
            )
        faixas.append([None if ate is None else str(ate), str(preco)])
    return faixas


def faixas_text(faixas: list) -> str:
    return "\n".join(
        f"{'' if ate is None else number_format(Decimal(ate))} ; {number_format(Decimal(preco))}"
        for ate, preco in faixas
    )
