"""The bill split (rateio), as pure Decimal arithmetic: no database, no rounding until the
end, and every step written down as a line of the unit's computation (audit trail).

Per utility: each unit's individual part is the utility's tariff applied to its own
consumption (bands with a minimum charge and the sewage percentage, or a flat price per
unit of consumption); a unit without a meter of that utility has no individual part (a
minimum charged to an unmetered unit is what STJ REsp 988.588 forbids). The common part
is what remains of the bill, split by ideal fraction, equally, or in proportion to the
individual consumption. The exact charges are then rounded to cents by the largest
remainder (ties: the units' order), so that they add up exactly to the bill.

When the units' individual parts exceed the bill (Σ units priced above what the building
paid, typically because Σ unit meters > the main meter), the common part would be
negative: it is set to zero and the individual parts are scaled down to the bill, flagged.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal, localcontext

from django.utils.formats import number_format
from django.utils.translation import gettext as _

CENT = Decimal("0.01")
ZERO = Decimal(0)

FAIXAS = "FAIXAS"
PRECO_FIXO = "PRECO_FIXO"
FRACAO_IDEAL = "FRACAO_IDEAL"
IGUAL = "IGUAL"
PROPORCIONAL = "PROPORCIONAL"


def brl(value: Decimal, places: int = 2) -> str:
    return "R$ " + number_format(
        value.quantize(Decimal(1).scaleb(-places)), places, force_grouping=True
    )


def qty(value: Decimal, unidade: str, places: int = 3) -> str:
    return f"{number_format(value, places, force_grouping=True)} {unidade}".strip()


@dataclass(frozen=True)
class Faixa:
    ate: Decimal | None  # upper limit of the band (inclusive); None: no limit
    preco: Decimal  # R$ per unit of consumption within the band


@dataclass(frozen=True)
class Tarifa:
    modo: str = PRECO_FIXO
    faixas: tuple[Faixa, ...] = ()
    preco_unitario: Decimal = ZERO
    valor_minimo: Decimal = ZERO  # per unit, before sewage
    esgoto_pct: Decimal = ZERO
    unidade: str = "m³"


@dataclass(frozen=True)
class UnidadeRateio:
    unidade_id: int
    rotulo: str
    fracao_ideal: Decimal
    consumo: Decimal | None  # None: the unit has no meter of this utility
    nota: str = ""  # e.g. "estimado: ..." written into its lines


@dataclass
class Cobranca:
    unidade_id: int
    consumo: Decimal | None
    individual: Decimal  # exact
    comum: Decimal  # exact
    valor: Decimal = ZERO  # rounded to cents
    linhas: list[str] = field(default_factory=list)


@dataclass
class Resultado:
    cobrancas: list[Cobranca]
    soma_unidades: Decimal
    consumo_principal: Decimal | None
    consumo_comum: Decimal | None
    valor_comum: Decimal
    alertas: list[str]


def valor_tarifa(tarifa: Tarifa, consumo: Decimal) -> tuple[Decimal, list[str]]:
    """The tariff's charge for one consumption, with its lines."""
    u = tarifa.unidade
    lines = []
    if tarifa.modo == FAIXAS:
        agua = ZERO
        anterior = ZERO
        for faixa in tarifa.faixas:
            limite = consumo if faixa.ate is None else min(consumo, faixa.ate)
            na_faixa = max(ZERO, limite - anterior)
            if na_faixa > 0:
                parcial = na_faixa * faixa.preco
                agua += parcial
                faixa_txt = (
                    _("acima de %(de)s") % {"de": qty(anterior, u, 0)}
                    if faixa.ate is None
                    else _("até %(ate)s") % {"ate": qty(faixa.ate, u, 0)}
                )
                lines.append(
                    _("Faixa %(faixa)s: %(q)s × %(p)s = %(v)s")
                    % {
                        "faixa": faixa_txt,
                        "q": qty(na_faixa, u),
                        "p": brl(faixa.preco, 4),
                        "v": brl(parcial, 4),
                    }
                )
            if faixa.ate is None or consumo <= faixa.ate:
                break
            anterior = faixa.ate
    else:
        agua = consumo * tarifa.preco_unitario
        lines.append(
            _("Consumo %(q)s × %(p)s = %(v)s")
            % {"q": qty(consumo, u), "p": brl(tarifa.preco_unitario, 4), "v": brl(agua, 4)}
        )
    if tarifa.valor_minimo > agua:
        lines.append(
            _("Valor mínimo aplicado: %(min)s (em vez de %(v)s)")
            % {"min": brl(tarifa.valor_minimo), "v": brl(agua, 4)}
        )
        agua = tarifa.valor_minimo
    total = agua
    if tarifa.esgoto_pct:
        esgoto = agua * tarifa.esgoto_pct / 100
        total += esgoto
        lines.append(
            _("Esgoto %(pct)s%% de %(v)s = %(e)s")
            % {"pct": number_format(tarifa.esgoto_pct, 2), "v": brl(agua, 4), "e": brl(esgoto, 4)}
        )
    return total, lines


def _pesos(unidades: Sequence[UnidadeRateio], metodo: str, alertas: list[str]):
    """(weight numerators, denominator, description) of the common-part split."""
    if metodo == FRACAO_IDEAL:
        total = sum((u.fracao_ideal for u in unidades), ZERO)
        if total > 0:
            return [u.fracao_ideal for u in unidades], total, "fracao"
        alertas.append(_("Frações ideais somam zero: parte comum dividida igualmente."))
    if metodo == PROPORCIONAL:
        consumos = [u.consumo or ZERO for u in unidades]
        total = sum(consumos, ZERO)
        if total > 0:
            return consumos, total, "proporcional"
        alertas.append(_("Consumo das unidades é zero: parte comum dividida igualmente."))
    return [Decimal(1)] * len(unidades), Decimal(len(unidades)), "igual"


def arredondar(valores: Sequence[Decimal], total: Decimal) -> list[Decimal]:
    """Rounds `valores` to cents so that they add up exactly to `total` (cents): each is
    floored, and the missing cents go one each to the largest remainders; ties go to the
    earlier position (callers order units by bloco, número, id)."""
    cents = [v * 100 for v in valores]
    floors = [c.to_integral_value(rounding=ROUND_FLOOR) for c in cents]
    falta = int(total * 100 - sum(floors, ZERO))
    order = sorted(range(len(valores)), key=lambda i: (-(cents[i] - floors[i]), i))
    n = len(valores)
    for k in range(abs(falta)):
        i = order[k % n] if falta > 0 else order[n - 1 - (k % n)]
        floors[i] += 1 if falta > 0 else -1
    return [(f / 100).quantize(CENT) for f in floors]


def calcular_rateio(
    *,
    unidades: Sequence[UnidadeRateio],
    tarifa: Tarifa,
    valor_total: Decimal,
    metodo: str,
    consumo_principal: Decimal | None,
) -> Resultado:
    """Every unit's charge for one utility's bill. `unidades` in their display order."""
    if not unidades:
        raise ValueError("no units to split the bill among")
    valor_total = valor_total.quantize(CENT)
    u = tarifa.unidade
    alertas: list[str] = []
    with localcontext() as ctx:
        ctx.prec = 34
        cobrancas = []
        for un in unidades:
            linhas = []
            if un.consumo is None:
                linhas.append(_("Sem medidor desta utilidade: sem parte individual."))
                individual = ZERO
            else:
                linhas.append(
                    _("Consumo: %(q)s%(nota)s") % {"q": qty(un.consumo, u), "nota": un.nota}
                )
                individual, tl = valor_tarifa(tarifa, un.consumo)
                linhas += tl
            cobrancas.append(Cobranca(un.unidade_id, un.consumo, individual, ZERO, linhas=linhas))
        soma = sum((un.consumo or ZERO for un in unidades), ZERO)
        consumo_comum = None if consumo_principal is None else consumo_principal - soma
        if consumo_comum is not None and consumo_comum < 0:
            alertas.append(
                _(
                    "Parte comum negativa: as unidades somam %(s)s, mais que o medidor principal "
                    "(%(p)s); diferença de %(d)s."
                )
                % {"s": qty(soma, u), "p": qty(consumo_principal, u), "d": qty(-consumo_comum, u)}
            )
        soma_individual = sum((c.individual for c in cobrancas), ZERO)
        valor_comum = valor_total - soma_individual
        if valor_comum < 0:
            fator = valor_total / soma_individual
            alertas.append(
                _(
                    "As partes individuais (%(i)s) excedem a conta (%(t)s): parte comum zerada e "
                    "partes individuais reduzidas proporcionalmente (fator %(f)s)."
                )
                % {"i": brl(soma_individual), "t": brl(valor_total), "f": number_format(fator, 6)}
            )
            for c in cobrancas:
                if c.individual:
                    reduzido = c.individual * fator
                    c.linhas.append(
                        _("Parte individual reduzida: %(v)s × %(f)s = %(r)s")
                        % {
                            "v": brl(c.individual, 4),
                            "f": number_format(fator, 6),
                            "r": brl(reduzido, 4),
                        }
                    )
                    c.individual = reduzido
            valor_comum = ZERO
        pesos, denominador, como = _pesos(unidades, metodo, alertas)
        for c, peso in zip(cobrancas, pesos, strict=True):
            c.linhas.append(_("Parte individual: %(v)s") % {"v": brl(c.individual, 4)})
            c.comum = valor_comum * peso / denominador
            if como == "fracao":
                how = _("fração ideal %(f)s de %(t)s") % {
                    "f": number_format(peso, 8),
                    "t": number_format(denominador, 8),
                }
            elif como == "proporcional":
                how = _("consumo %(c)s de %(t)s") % {"c": qty(peso, u), "t": qty(denominador, u)}
            else:
                how = _("1 de %(n)d unidades") % {"n": len(unidades)}
            c.linhas.append(
                _("Parte comum: %(vc)s × %(how)s = %(v)s")
                % {"vc": brl(valor_comum, 4), "how": how, "v": brl(c.comum, 4)}
            )
        exatos = [c.individual + c.comum for c in cobrancas]
        for c, exato, valor in zip(cobrancas, exatos, arredondar(exatos, valor_total), strict=True):
            c.valor = valor
            c.linhas.append(
                _("Total %(v)s (exato %(e)s; centavos pela regra do maior resto)")
                % {"v": brl(valor), "e": brl(exato, 6)}
            )
    return Resultado(cobrancas, soma, consumo_principal, consumo_comum, valor_comum, alertas)
