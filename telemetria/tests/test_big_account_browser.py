"""A big account's first screen in a real browser (chromium, real uvicorn), at desktop width
and at 375 px: the summary (top consumers, what changed) shows, the gateway search narrows
the list, and a gateway drills down to its devices."""

import datetime as dt
import tempfile
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

from dispositivos.models import Gateway
from tds_testing import factories
from tds_testing.browser import CHROMIUM, sign_in
from tds_testing.readings import store_points
from tds_testing.uvicorn import serving_test_database
from telemetria.storage import refresh_rollups

SHOTS = Path(tempfile.gettempdir()) / "tds-screenshots"
SHOTS.mkdir(parents=True, exist_ok=True)
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed"),
    pytest.mark.usefixtures("clean_store"),
]


@pytest.fixture
def big_server(transactional_db):
    """uvicorn on the test database, with a 'big account' threshold of 4 devices."""
    with serving_test_database(TDS_DASHBOARD_BIG_ACCOUNT="4") as url:
        yield url


@pytest.fixture
def big_plant(conta_a, conta_b):
    """30 gateways × 1 water meter with readings yesterday and the day before (GW-07
    doubles its consumption), and another account's gateway."""
    today = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    d2, d1 = today - dt.timedelta(days=2), today - dt.timedelta(days=1)
    for n in range(30):
        gw = factories.make_gateway(conta=conta_a, codigo=f"GW-{n:02d}", nome=f"Bloco {n}")
        agua = factories.make_dispositivo(gateway=gw, codigo="D01", tipo="AGUA", nome="Hidrômetro")
        rate = 20 if n == 7 else 10
        store_points(
            agua,
            [
                (d2 + dt.timedelta(hours=2), 100),
                (d2 + dt.timedelta(hours=20), 110),
                (d1 + dt.timedelta(hours=20), 110 + rate),
            ],
        )
    Gateway.objects.filter(conta=conta_a).update(is_online=True)
    factories.make_gateway(conta=conta_b, codigo="GW-OUTRA")
    refresh_rollups()  # the summary reads the totals the rollup job keeps


@pytest.mark.parametrize("width", [1366, 375])
def test_summary_search_and_drill_down(big_server, admin_a, big_plant, browser, width):
    page = browser.new_page(viewport={"width": width, "height": 900}, locale="pt-BR")
    page.goto(big_server + reverse("telemetria:dashboard"))
    sign_in(page, admin_a.email)
    page.wait_for_url("**/telemetria/")

    # The summary: GW-07 tops the changes; 20 of 30 gateways listed, never the other account's.
    mudancas = page.locator("[data-testid=mudancas] li").first
    assert "GW-07" in mudancas.inner_text()
    assert page.locator("#gateways-body tr").count() == 20
    assert "Mostrando 20 de 30" in page.inner_text("[data-testid=gateways-mais]")
    assert "GW-OUTRA" not in page.inner_text("main")
    # One series per utility in the monthly chart, not one per meter.
    page.wait_for_selector("#consumo-charts[data-loaded='1'] canvas")
    series = page.evaluate(
        "Chart.getChart(document.querySelector('#consumo-charts canvas')).data.datasets.length"
    )
    assert series == 1
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.screenshot(path=str(SHOTS / f"dashboard-big-{width}.png"), full_page=True)

    # Search, then drill down to the gateway's devices.
    page.fill("[data-testid=gateway-search] input[name=q]", "GW-29")
    page.click("[data-testid=gateway-search] button[type=submit]")
    page.wait_for_url("**/telemetria/?q=GW-29")
    assert page.locator("#gateways-body tr").count() == 1
    page.click("#gateways-body a:has-text('GW-29')")
    page.wait_for_selector("[data-testid=gateway-telemetry]")
    assert "Hidrômetro" in page.inner_text("[data-testid=gateway-telemetry]")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
