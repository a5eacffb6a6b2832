"""Reads of billing: periods, bills, charges, and the consumption of a period per unit and
utility ("apuração") through the storage API's meter semantics."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import QuerySet
from django.http import Http404

from contas.models import Conta
from dispositivos.models import TIPO_DEFAULTS
from tds_core.localtime import local_date, local_midnight
from telemetria.storage import consumption_by_date_ranges, consumption_by_day
from unidades.models import Papel, Unidade
from unidades.selectors import medicoes_for_conta

from .calendario import limites
from .models import (
    Cobranca,
    ConfigFaturamento,
    Fatura,
    GeracaoDemonstrativos,
    Periodo,
    Situacao,
    StatusPeriodo,
    Utilidade,
)

HISTORICO_PERIODOS = 3  # periods of a unit's own history behind an estimate
ZERO = Decimal(0)


def unidade_medida(tipo: str) -> str:
    return TIPO_DEFAULTS.get(tipo, ("",))[0]


def config_get(*, conta: Conta) -> ConfigFaturamento:
    return ConfigFaturamento.objects.filter(conta=conta).first() or ConfigFaturamento(conta=conta)


def periodo_list(*, conta: Conta) -> QuerySet:
    return Periodo.objects.filter(conta=conta).order_by("-referencia", "-versao")


def periodo_get(*, conta: Conta, pk) -> Periodo:
    try:
        return Periodo.objects.get(conta=conta, pk=pk)
    except (Periodo.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def fatura_get(*, periodo: Periodo, pk) -> Fatura:
    try:
        return Fatura.objects.get(conta_id=periodo.conta_id, periodo=periodo, pk=pk)
    except (Fatura.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def faturas_of_periodo(*, periodo: Periodo) -> list[Fatura]:
    return list(Fatura.objects.filter(conta_id=periodo.conta_id, periodo=periodo).order_by("tipo"))


def periodos_fechados(*, conta: Conta) -> QuerySet:
    return Periodo.objects.filter(conta=conta, status=StatusPeriodo.FECHADO).order_by("-referencia")


def cobrancas_of_periodo(*, periodo: Periodo, unidade: Unidade | None = None) -> QuerySet:
    qs = Cobranca.objects.filter(conta_id=periodo.conta_id, periodo=periodo)
    if unidade is not None:
        qs = qs.filter(unidade=unidade)
    return qs.select_related("unidade").order_by(
        "unidade__bloco", "unidade__numero", "unidade_id", "tipo"
    )


def geracao_get(*, conta: Conta, pk) -> GeracaoDemonstrativos:
    try:
        return GeracaoDemonstrativos.objects.select_related("periodo").get(conta=conta, pk=pk)
    except (GeracaoDemonstrativos.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def geracao_ultima(*, periodo: Periodo) -> GeracaoDemonstrativos | None:
    return (
        GeracaoDemonstrativos.objects.filter(conta_id=periodo.conta_id, periodo=periodo)
        .order_by("-created_at", "-pk")
        .first()
    )


# ---- apuração ---------------------------------------------------------------------------


@dataclass
class ConsumoUnidade:
    unidade: Unidade
    tipo: str
    medido: Decimal | None  # None: no meter of this utility
    situacao: str
    estimativa: Decimal | None = None
    nota: str = ""

    @property
    def com_medidor(self) -> bool:
        return self.situacao != Situacao.SEM_MEDIDOR

    def considerado(self, usar_estimativas: bool) -> tuple[Decimal | None, bool]:
        """(consumption used by the split, is it an estimate)."""
        if (
            usar_estimativas
            and self.estimativa is not None
            and self.situacao in (Situacao.SEM_DADOS, Situacao.INCOMPLETO)
        ):
            return self.estimativa, True
        return self.medido, False


@dataclass
class Apuracao:
    inicio: date
    fim: date
    unidades: list[Unidade]
    tipos: list[str]  # utilities with at least one classified meter
    por_tipo: dict[str, list[ConsumoUnidade]] = field(default_factory=dict)
    principal: dict[str, Decimal | None] = field(default_factory=dict)
    area_comum: dict[str, Decimal] = field(default_factory=dict)

    def faltando(self, tipo: str) -> list[ConsumoUnidade]:
        return [
            c
            for c in self.por_tipo.get(tipo, [])
            if c.situacao in (Situacao.SEM_DADOS, Situacao.INCOMPLETO)
        ]


def _rate(history) -> Decimal | None:
    """Average daily consumption over the periods with data, or None."""
    consumo = sum((h.consumo or ZERO for h in history), ZERO)
    dias = sum((h.fim - h.inicio).days for h in history)
    return consumo / dias if dias else None


def apuracao(*, conta: Conta, inicio: date, fim: date) -> Apuracao:
    """Each unit's consumption per utility in [inicio, fim), with what is missing.

    A meter without readings in the period, or none on its last day, is flagged; its
    estimate is the meter's own average daily consumption over the previous
    HISTORICO_PERIODOS periods (the days after its last reading, or the whole period)."""
    unidades = list(Unidade.objects.filter(conta=conta).order_by("bloco", "numero", "pk"))
    medicoes = medicoes_for_conta(conta_id=conta.pk)
    bounds = limites(inicio=inicio, antes=HISTORICO_PERIODOS)
    rows = consumption_by_date_ranges(
        conta_id=conta.pk, boundaries=bounds, dispositivo_ids=[m[0] for m in medicoes]
    )
    current, history = {}, defaultdict(list)
    for r in rows:
        if r.inicio == inicio:
            current[r.dispositivo_id] = r
        else:
            history[r.dispositivo_id].append(r)
    tipos = sorted({t for _d, t, _p, _u in medicoes}, key=Utilidade.values.index)
    result = Apuracao(inicio, fim, unidades, tipos)
    devices_of = defaultdict(list)
    for disp, tipo, papel, unidade_id in medicoes:
        if papel == Papel.UNIDADE:
            devices_of[(unidade_id, tipo)].append(disp)
        elif papel == Papel.PRINCIPAL:
            r = current.get(disp)
            result.principal[tipo] = r.consumo if r else None
        else:
            r = current.get(disp)
            result.area_comum[tipo] = result.area_comum.get(tipo, ZERO) + (r.consumo if r else ZERO)
    for tipo in tipos:
        result.principal.setdefault(tipo, None)
        result.por_tipo[tipo] = [
            _consumo_unidade(
                unidade, tipo, devices_of.get((unidade.pk, tipo), []), current, history,
                inicio=inicio, fim=fim,
            )
            for unidade in unidades
        ]  # fmt: skip
    return result


def _consumo_unidade(unidade, tipo, devs, current, history, *, inicio, fim) -> ConsumoUnidade:
    """One unit's consumption of one utility: the sum of its meters' periods, the worst of
    their states, and the estimate (each meter's measured part plus its own daily rate
    for the days it is missing)."""
    if not devs:
        return ConsumoUnidade(unidade, tipo, None, Situacao.SEM_MEDIDOR)
    ultimo_dia = local_midnight(fim - timedelta(days=1))
    medido = estimativa = ZERO
    sem_dados = incompletos = 0
    sem_historico = False
    for disp in devs:
        r = current.get(disp)
        faltam = 0
        if r is None:
            sem_dados += 1
            faltam = (fim - inicio).days
        else:
            medido += r.consumo or ZERO
            estimativa += r.consumo or ZERO
            if r.ultima_leitura < ultimo_dia:  # no reading on the period's last day
                incompletos += 1
                faltam = (fim - local_date(r.ultima_leitura)).days - 1
        if faltam:
            rate = _rate(history.get(disp, []))
            if rate is None:
                sem_historico = True
            else:
                estimativa += rate * faltam
    if sem_dados == len(devs):
        situacao = Situacao.SEM_DADOS
    elif sem_dados or incompletos:
        situacao = Situacao.INCOMPLETO
    else:
        return ConsumoUnidade(unidade, tipo, medido, Situacao.MEDIDO)
    item = ConsumoUnidade(unidade, tipo, medido, situacao)
    if sem_historico:
        item.nota = "sem_historico"
    else:
        item.estimativa = estimativa.quantize(Decimal("0.0001"))
    return item


# ---- history for statements and the balance ---------------------------------------------


def historico_unidades(
    *, conta: Conta, inicio: date, periodos: int = 12, unidade: Unidade | None = None
) -> dict:
    """{(unidade_id, tipo): {period start: consumption}} for the `periodos` periods ending
    with the one starting at `inicio` (measured, through the storage API); one unit's only
    when `unidade` is given."""
    medicoes = [
        m
        for m in medicoes_for_conta(conta_id=conta.pk)
        if m[2] == Papel.UNIDADE and (unidade is None or m[3] == unidade.pk)
    ]
    owner = {disp: (unidade_id, tipo) for disp, tipo, _p, unidade_id in medicoes}
    bounds = limites(inicio=inicio, antes=periodos - 1)
    result: dict = defaultdict(dict)
    if not owner:
        return result
    for r in consumption_by_date_ranges(
        conta_id=conta.pk, boundaries=bounds, dispositivo_ids=list(owner)
    ):
        key = owner[r.dispositivo_id]
        result[key][r.inicio] = result[key].get(r.inicio, ZERO) + (r.consumo or ZERO)
    return result


@dataclass
class DiaBalanco:
    dia: date
    principal: Decimal | None
    unidades: Decimal
    comum: Decimal | None
    perda_pct: Decimal | None
    acima_limite: bool


def balanco_diario(*, conta: Conta, tipo: str, inicio: date, fim: date) -> list[DiaBalanco]:
    """Main meter vs Σ unit meters per local day of [inicio, fim) for one utility."""
    medicoes = [m for m in medicoes_for_conta(conta_id=conta.pk) if m[1] == tipo]
    principal = {d for d, _t, p, _u in medicoes if p == Papel.PRINCIPAL}
    unidades = {d for d, _t, p, _u in medicoes if p == Papel.UNIDADE}
    if not medicoes:
        return []
    limite = config_get(conta=conta).perda_limite_pct
    main, units = defaultdict(lambda: None), defaultdict(lambda: ZERO)
    for r in consumption_by_day(
        conta_id=conta.pk, start=inicio, end=fim, dispositivo_ids=list(principal | unidades)
    ):
        if r.dispositivo_id in principal:
            main[r.dia] = (main[r.dia] or ZERO) + (r.consumo or ZERO)
        else:
            units[r.dia] += r.consumo or ZERO
    result = []
    day = inicio
    while day < fim:
        p = main[day]
        comum = None if p is None else p - units[day]
        pct = (comum * 100 / p).quantize(Decimal("0.1")) if p else None
        result.append(DiaBalanco(day, p, units[day], comum, pct, pct is not None and pct > limite))
        day += timedelta(days=1)
    return result
