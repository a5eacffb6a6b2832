"""Perda na rede comum: a day whose common part (main meter − Σ units) exceeds the
account's limit becomes an alarm on the main meter; a day back under it clears it."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from alarmes import engine
from alarmes.models import TransicaoAlarme
from tds_testing import factories
from tds_testing.alarms import alarms, local
from tds_testing.readings import store_points


def _days(first, values):
    """A cumulative reading at 00:01 and 23:59 local of each day: day i consumes values[i]."""
    pts, v = [], Decimal(1000)
    for i, c in enumerate(values):
        day = first + timedelta(days=i)
        pts.append((local(day.year, day.month, day.day, 0, 1), v))
        v += c
        pts.append((local(day.year, day.month, day.day, 23, 59), v))
    return pts


@pytest.fixture
def predio(conta_a):
    from faturamento import services as faturamento

    faturamento.config_update(conta=conta_a, dia_fechamento=10, perda_limite_pct=Decimal(15))
    gw = factories.make_gateway(conta=conta_a, codigo="GW-BAL")
    u1 = factories.make_unidade(conta=conta_a, bloco="A", numero="101", fracao_ideal="0.5")
    u2 = factories.make_unidade(conta=conta_a, bloco="A", numero="102", fracao_ideal="0.5")
    principal = factories.make_medidor(gateway=gw, papel="PRINCIPAL", codigo="PRINC")
    m1 = factories.make_medidor(gateway=gw, papel="UNIDADE", unidade=u1, codigo="M101")
    m2 = factories.make_medidor(gateway=gw, papel="UNIDADE", unidade=u2, codigo="M102")
    # 10 March: 100 − (50 + 30) = 20 → 20.0 % > 15 %: fires.
    # 11 March: 100 − (50 + 40) = 10 → 10.0 %: clears.
    # 12 March: 100 − (45 + 30) = 25 → 25.0 %: a new alarm.
    first = date(2026, 3, 10)
    store_points(principal, _days(first, [100, 100, 100]))
    store_points(m1, _days(first, [50, 50, 45]))
    store_points(m2, _days(first, [30, 40, 30]))
    return {"principal": principal, "m1": m1}


def test_day_over_the_limit_fires_and_a_day_under_it_clears(admin_a, predio, rule):
    regra = rule(nome="Perda", tipo="perda_rede", dispositivo=predio["principal"])
    assert engine.evaluate_common_loss(local(2026, 3, 10, 12, 0)) == 0  # 9 March: no data
    assert alarms(regra) == []
    assert engine.evaluate_common_loss(local(2026, 3, 11, 0, 5)) == 1  # judges 10 March
    (a,) = alarms(regra)
    assert (a.estado, a.inicio, a.valor, a.dispositivo_id) == (
        "ativo",
        local(2026, 3, 10, 0, 0),
        Decimal(20),
        predio["principal"].pk,
    )
    assert "20%" in a.mensagem
    assert engine.evaluate_common_loss(local(2026, 3, 11, 3, 0)) == 0  # each day once
    r = Client()
    r.force_login(admin_a)
    html = r.get(reverse("alarmes:list")).content.decode()
    assert "Perda na rede comum de 20% no dia" in html
    assert r.get(reverse("alarmes:list")).context["counts"]["ativo"] == 1

    assert engine.evaluate_common_loss(local(2026, 3, 12, 0, 5)) == 1  # 11 March: 10 %
    (a,) = alarms(regra)
    assert (a.estado, a.fim) == ("encerrado", local(2026, 3, 12, 0, 0))
    assert engine.evaluate_common_loss(local(2026, 3, 13, 0, 5)) == 1  # 12 March: 25 %
    assert sorted((x.estado, x.valor) for x in alarms(regra)) == [
        ("ativo", Decimal(25)),
        ("encerrado", Decimal(20)),
    ]
    # Through alarm_fire/alarm_clear like any alarm (their signal feeds notificacoes).
    assert TransicaoAlarme.objects.filter(alarme__regra=regra).count() == 3
    assert engine.evaluate_windows(local(2026, 3, 13, 0, 6))["perda_rede"] == 0


def test_the_rule_targets_a_main_meter(predio, rule):
    with pytest.raises(ValidationError, match="medidor principal"):
        rule(nome="Perda", tipo="perda_rede", dispositivo=predio["m1"])
