"""The split computed by hand: bands, minimum charge, sewage, the three common-part
methods, the rounding remainder and a negative common part."""

from decimal import Decimal as D

import pytest

from faturamento.rateio import (
    FAIXAS,
    FRACAO_IDEAL,
    IGUAL,
    PRECO_FIXO,
    PROPORCIONAL,
    Faixa,
    Tarifa,
    UnidadeRateio,
    arredondar,
    calcular_rateio,
    valor_tarifa,
)

BANDS = Tarifa(
    modo=FAIXAS,
    faixas=(Faixa(D(10), D("4.00")), Faixa(D(20), D("6.00")), Faixa(None, D("10.00"))),
    valor_minimo=D("50.00"),
    esgoto_pct=D(80),
)


def un(i, consumo, fracao="0.25"):
    return UnidadeRateio(i, f"10{i}", D(fracao), None if consumo is None else D(consumo))


def test_bands_minimum_and_sewage():
    # 25 m³: 10 × 4 + 10 × 6 + 5 × 10 = 150; sewage 80 % = 120 → 270.
    assert valor_tarifa(BANDS, D(25))[0] == D(270)
    # 8 m³: 32 < minimum 50 → 50; sewage 40 → 90.
    value, lines = valor_tarifa(BANDS, D(8))
    assert value == D(90)
    assert any("Valor mínimo aplicado: R$ 50,00" in line for line in lines)
    # exactly on a band limit: 20 m³ = 40 + 60 = 100 → 180.
    assert valor_tarifa(BANDS, D(20))[0] == D(180)


@pytest.mark.parametrize(
    ("metodo", "expected"),
    [
        # individual: 10 → 40, 20 → 100, 0 → 0 (flat R$ 5 → 50, 100, 0); common 300 − 150 = 150.
        # fração ideal 0.5 / 0.3 / 0.2 → 75, 45, 30.
        (FRACAO_IDEAL, [D("125.00"), D("145.00"), D("30.00")]),
        # equal: 50 each.
        (IGUAL, [D("100.00"), D("150.00"), D("50.00")]),
        # proportional to 10 / 20 / 0 of 30: 50, 100, 0.
        (PROPORCIONAL, [D("100.00"), D("200.00"), D("0.00")]),
    ],
)
def test_three_common_part_methods(metodo, expected):
    flat = Tarifa(modo=PRECO_FIXO, preco_unitario=D(5))
    units = [un(1, 10, "0.5"), un(2, 20, "0.3"), un(3, 0, "0.2")]
    result = calcular_rateio(
        unidades=units, tarifa=flat, valor_total=D(300), metodo=metodo, consumo_principal=D(60)
    )
    assert [c.valor for c in result.cobrancas] == expected
    assert result.consumo_comum == D(30)
    assert result.valor_comum == D(150)
    assert sum(c.valor for c in result.cobrancas) == D(300)
    assert result.alertas == []


def test_rounding_remainder_goes_to_largest_remainders_then_unit_order():
    # R$ 100.00 among 3 equal units: 33.333… each; 1 cent left → the first unit.
    flat = Tarifa(modo=PRECO_FIXO, preco_unitario=D(0))
    result = calcular_rateio(
        unidades=[un(1, 0), un(2, 0), un(3, 0)],
        tarifa=flat,
        valor_total=D(100),
        metodo=IGUAL,
        consumo_principal=None,
    )
    assert [c.valor for c in result.cobrancas] == [D("33.34"), D("33.33"), D("33.33")]
    # Largest remainder first: 10.004, 10.006, 9.99 → floors 10.00, 10.00, 9.99 (29.99),
    # one cent to the .6 remainder.
    assert arredondar([D("10.004"), D("10.006"), D("9.99")], D("30.00")) == [
        D("10.00"),
        D("10.01"),
        D("9.99"),
    ]


def test_rounding_always_adds_up_exactly():
    flat = Tarifa(modo=PRECO_FIXO, preco_unitario=D("3.1415"))
    units = [un(i, str(D(i) * D("1.37")), str(D(1) / 7)) for i in range(1, 8)]
    result = calcular_rateio(
        unidades=units,
        tarifa=flat,
        valor_total=D("1234.57"),
        metodo=FRACAO_IDEAL,
        consumo_principal=D(100),
    )
    assert sum(c.valor for c in result.cobrancas) == D("1234.57")


def test_negative_common_part_is_flagged_and_individual_parts_scaled_to_the_bill():
    flat = Tarifa(modo=PRECO_FIXO, preco_unitario=D(10))
    # Units 30 + 20 = 50 m³ but the main meter says 40: common −10 m³; individual 300 + 200 =
    # 500 > bill 400 → scaled by 0.8: 240, 160; common part 0.
    result = calcular_rateio(
        unidades=[un(1, 30), un(2, 20)],
        tarifa=flat,
        valor_total=D(400),
        metodo=FRACAO_IDEAL,
        consumo_principal=D(40),
    )
    assert result.consumo_comum == D(-10)
    assert result.valor_comum == 0
    assert [c.valor for c in result.cobrancas] == [D("240.00"), D("160.00")]
    assert len(result.alertas) == 2
    assert "Parte comum negativa" in result.alertas[0]


def test_unit_without_meter_pays_no_minimum_only_its_common_share():
    result = calcular_rateio(
        unidades=[un(1, 8, "0.5"), un(2, None, "0.5")],
        tarifa=BANDS,
        valor_total=D(200),
        metodo=FRACAO_IDEAL,
        consumo_principal=D(12),
    )
    # Unit 1: minimum 50 + sewage 40 = 90; common 200 − 90 = 110 → 55 each.
    assert [c.valor for c in result.cobrancas] == [D("145.00"), D("55.00")]
    assert "Sem medidor" in result.cobrancas[1].linhas[0]
