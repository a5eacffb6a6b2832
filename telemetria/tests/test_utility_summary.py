"""The manager's cards: consumption per utility today and this month, against the same
period last month, and the cost where the account has a price. Hand-computed."""

from decimal import Decimal as D

import pytest
from django.urls import reverse

from tds_testing import factories
from tds_testing.readings import local
from telemetria.selectors import utility_summary
from telemetria.storage import refresh_rollups

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("clean_store")]

NOW = local(2026, 3, 15, 12, 0)


@pytest.fixture
def plant(conta_a, store):
    gw = factories.make_gateway(conta=conta_a, codigo="GW-U")
    agua = factories.make_dispositivo(
        gateway=gw, codigo="D01", tipo="AGUA", nome="Hidrômetro geral"
    )
    luz = factories.make_dispositivo(gateway=gw, codigo="D02", tipo="ENERGIA")
    litros = factories.make_dispositivo(gateway=gw, codigo="D03", tipo="AGUA", unidade="L")
    store(
        agua,
        [
            (local(2026, 2, 15, 8, 0), 100),
            (local(2026, 2, 15, 20, 0), 110),  # Feb 15: 10
            (local(2026, 2, 20, 8, 0), 130),  # after Feb 15: not in the comparison
            (local(2026, 3, 1, 8, 0), 150),  # Mar 1: 20
            (local(2026, 3, 15, 8, 0), 160),  # Mar 15: 10 + 5
            (local(2026, 3, 15, 11, 0), 165),
        ],
    )
    store(luz, [(local(2026, 3, 15, 1, 0), 1000), (local(2026, 3, 15, 9, 0), 1012.5)])
    store(litros, [(local(2026, 3, 15, 1, 0), 1), (local(2026, 3, 15, 9, 0), 99999)])
    refresh_rollups()  # the cards read the totals the rollup job keeps
    return {"agua": agua, "luz": luz}


def test_cards_per_utility_against_last_month_with_cost(conta_a, plant):
    conta_a.preco_agua = D("12.50")
    conta_a.save()
    agua, energia = utility_summary(conta=conta_a, now=NOW)
    assert (agua["nome"], agua["unidade"], agua["medidores"], agua["fora_da_soma"]) == (
        "Água",
        "m³",
        1,
        1,  # the meter in litres is not added to m³
    )
    assert (agua["hoje"], agua["hoje_ant"], agua["mes"], agua["mes_ant"]) == (15, 10, 35, 10)
    assert agua["mes_var"] == 250
    assert agua["custo_mes"] == D("437.50")
    assert (energia["hoje"], energia["mes"], energia["mes_ant"]) == (D("12.5"), D("12.5"), 0)
    assert energia["mes_var"] is None
    assert energia["custo_mes"] is None  # no price set


def test_dashboard_shows_the_cards(client, admin_a, conta_a, plant):
    conta_a.preco_agua = D("12.50")
    conta_a.save()
    client.force_login(admin_a)
    html = client.get(reverse("telemetria:dashboard")).content.decode()
    assert 'data-testid="utility-AGUA"' in html
    assert "R$ " in html
    assert 'data-testid="utility-GAS"' not in html  # no gas meter
