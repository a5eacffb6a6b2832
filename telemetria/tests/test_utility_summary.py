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
    assert (agua["hoje"], agua["ontem"], agua["mes"], agua["mes_completo"]) == (15, 0, 35, 20)
    assert agua["mes_ant"] == 0  # Feb 1-14: the Feb 15 reading is not a whole day before today
    assert agua["mes_var"] is None
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


def _meter(conta, store, readings):
    gw = factories.make_gateway(conta=conta, codigo="GW-C")
    agua = factories.make_dispositivo(gateway=gw, codigo="D01", tipo="AGUA")
    store(agua, readings)
    refresh_rollups()


def test_comparisons_are_on_whole_days(conta_a, store):
    """At noon, today so far is never set against a whole day last month (it read as a
    fall every morning): yesterday against the same day last month, and this month up to
    yesterday against the same days last month."""
    _meter(
        conta_a,
        store,
        [
            (local(2026, 2, 13, 23, 0), 1000),
            (local(2026, 2, 14, 8, 0), 1004),
            (local(2026, 2, 14, 20, 0), 1010),  # Feb 14: 10
            (local(2026, 3, 13, 23, 0), 1100),  # Mar 13: 90
            (local(2026, 3, 14, 8, 0), 1106),
            (local(2026, 3, 14, 20, 0), 1112),  # Mar 14: 12
            (local(2026, 3, 15, 9, 0), 1115),  # today so far: 3
        ],
    )
    (agua,) = utility_summary(conta=conta_a, now=NOW)
    assert (agua["hoje"], agua["ontem"], agua["ontem_ant"]) == (3, 12, 10)
    assert agua["ontem_var"] == 20
    assert (agua["mes"], agua["mes_completo"], agua["mes_ant"]) == (105, 102, 10)
    assert agua["mes_var"] == 920


def test_first_day_of_the_month(conta_a, store):
    """On the 1st: yesterday is last month's last day, set against the month before's
    same day; the month has no whole day yet, and the card says so."""
    _meter(
        conta_a,
        store,
        [
            (local(2026, 1, 27, 23, 0), 500),
            (local(2026, 1, 28, 12, 0), 507),  # Jan 28: 7
            (local(2026, 2, 27, 23, 0), 600),
            (local(2026, 2, 28, 12, 0), 614),  # Feb 28: 14
            (local(2026, 3, 1, 9, 0), 616),  # today so far: 2
        ],
    )
    (agua,) = utility_summary(conta=conta_a, now=local(2026, 3, 1, 10, 0))
    assert (agua["hoje"], agua["ontem"], agua["ontem_ant"], agua["ontem_var"]) == (2, 14, 7, 100)
    assert (agua["mes"], agua["mes_completo"], agua["mes_var"]) == (2, None, None)
