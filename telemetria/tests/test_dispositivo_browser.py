"""A device's own page in a real browser (Debian's chromium through Playwright), at desktop
and phone width: what its user sees is its chart drawn with points, consumption by day and
month equal to the hand-computed figures, its latest readings and its meter events.

A 16-bit register of 0.01 kWh (wraps at 655.36 kWh), one reading an hour:
645.50 → 650.20 (+4.70) → 3.10 (rollover: 655.36 − 650.20 + 3.10 = 8.26) → 1.00 (a step
back far from the maximum: 0) → 4.00 (+3.00).
"""

from datetime import timedelta
from decimal import Decimal as D

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format

from tds_testing import factories
from tds_testing.browser import CHROMIUM, SHOTS, sign_in
from tds_testing.readings import store_points
from telemetria.storage import refresh_rollups

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed"),
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("clean_store"),
]

VALUES = [D("645.50"), D("650.20"), D("3.10"), D("1.00"), D("4.00")]
STEPS = [D("0"), D("4.70"), D("8.26"), D("0"), D("3.00")]  # the first has no previous reading

CHART_Y = """(() => { const c = Chart.getChart(document.getElementById('disp-chart'));
  return c.data.datasets[0].data.map(p => p.y); })()"""
WIDER_THAN_VIEWPORT = """[...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5)
  .slice(0, 5).map(e => e.tagName + '#' + e.id + '.' + e.className)"""


def brl(value: D) -> str:
    """pt-BR with two places (the meter's precision: factor 0.01)."""
    return f"{value:,.2f}".replace(",", "X").replace(".", ",").replace("X", ".")


@pytest.fixture
def medidor(conta_a, admin_a):
    gw = factories.make_gateway(conta=conta_a, codigo="GW-PG")
    disp = factories.make_dispositivo(
        gateway=gw,
        codigo="D01",
        tipo="ENERGIA",
        nome="Quadro geral do bloco A",
        registro_maximo=65535,
        fator_conversao=D("0.01"),
    )
    start = timezone.now().replace(second=0, microsecond=0) - timedelta(hours=5)
    times = [start + timedelta(hours=i) for i in range(len(VALUES))]
    store_points(disp, list(zip(times, VALUES, strict=True)))
    refresh_rollups()  # the meter events are recorded by the rollup job
    by_day: dict = {}
    by_month: dict = {}
    for t, step in zip(times, STEPS, strict=True):
        day = timezone.localtime(t).date()
        by_day[day] = by_day.get(day, D(0)) + step
        by_month[day.replace(day=1)] = by_month.get(day.replace(day=1), D(0)) + step
    return {"dispositivo": disp, "times": times, "by_day": by_day, "by_month": by_month}


def _open(browser, base, email, dispositivo, width, *, bypass_csp=True):
    page = browser.new_page(
        viewport={"width": width, "height": 900},
        locale="pt-BR",
        is_mobile=width < 576,
        bypass_csp=bypass_csp,
    )
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on(
        "console",
        lambda m: (
            errors.append(m.text)
            if m.type == "error" and not m.text.startswith("Failed to load resource")
            else None
        ),
    )
    page.goto(base + reverse("dispositivos:dispositivo_detail", args=[dispositivo.pk]))
    sign_in(page, email)
    page.wait_for_selector("#disp-chart[data-version]")
    return page, errors


def _cells(page, testid):
    return page.eval_on_selector_all(
        f"[data-testid={testid}] tbody tr",
        "rows => rows.map(r => [...r.cells].map(c => c.innerText.trim()))",
    )


@pytest.mark.parametrize("width", [1366, 375])
def test_device_page_shows_chart_consumption_readings_and_events(
    live_server, admin_a, medidor, browser, width
):
    disp = medidor["dispositivo"]
    page, errors = _open(browser, live_server.url, admin_a.email, disp, width)

    # The chart: consumption per interval by default, one point per reading (2-min
    # buckets over 24 h), the rollover counted and the step back at zero; in kWh.
    assert page.get_attribute("#disp-chart", "data-modo") == "consumo"
    assert page.evaluate(CHART_Y) == pytest.approx([float(s) for s in STEPS])
    assert "kWh" in page.evaluate(
        "Chart.getChart(document.getElementById('disp-chart')).options.scales.y.title.text"
    )
    # The register on request.
    version = page.get_attribute("#disp-chart", "data-version")
    page.select_option("#disp-modo", "contador")
    page.wait_for_function(f"document.getElementById('disp-chart').dataset.version !== '{version}'")
    assert page.evaluate(CHART_Y) == pytest.approx([float(v) for v in VALUES])

    # Consumption by day and by month: the hand-computed figures, newest first.
    days = _cells(page, "consumo-dias")
    expected_days = sorted(medidor["by_day"].items(), reverse=True)
    assert [row[1] for row in days] == [f"{brl(v)} kWh" for _d, v in expected_days]
    months = dict(_cells(page, "consumo-meses"))
    for month, value in medidor["by_month"].items():
        with translation.override("pt-br"):
            label = date_format(month, "F \\d\\e Y")
        assert months[label] == f"{brl(value)} kWh"

    # The latest readings, newest first, with the meter's precision and the unit.
    readings = _cells(page, "ultimas-dispositivo")
    assert [row[1] for row in readings] == [f"{brl(v)} kWh" for v in reversed(VALUES)]
    first_time = timezone.localtime(medidor["times"][-1]).strftime("%d/%m/%Y %H:%M:%S")
    assert first_time in readings[0][0]

    # The meter events: the rollover (counted) and the step back (counted zero).
    events = page.inner_text("[data-testid=eventos-medidor]")
    assert "Virada do registrador" in events
    assert "650,20 → 3,10 kWh" in events
    assert "Recuo do contador" in events
    assert "3,10 → 1,00 kWh" in events

    # Nothing wider than the screen; on a phone the readings are stacked rows whose
    # value and unit are on screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= width, page.evaluate(
        WIDER_THAN_VIEWPORT
    )
    if width < 576:
        cell = page.locator("[data-testid=ultimas-dispositivo] tbody tr").first.locator("td").last
        box = cell.bounding_box()
        assert box["x"] >= 0
        assert box["x"] + box["width"] <= width
        assert page.locator("[data-testid=ultimas-dispositivo] thead").bounding_box()["height"] <= 1
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"dispositivo-{width}.png"), full_page=True)
    assert errors == []


@pytest.fixture
def termometro(conta_a, admin_a):
    gw = factories.make_gateway(conta=conta_a, codigo="GW-TP")
    disp = factories.make_dispositivo(gateway=gw, codigo="D02", tipo="TEMP", nome="Sala de bombas")
    start = timezone.now().replace(second=0, microsecond=0) - timedelta(hours=3)
    store_points(disp, [(start + timedelta(hours=i), v) for i, v in enumerate([21.5, 22.25, 23])])
    return disp


def test_an_instantaneous_meter_shows_its_value_and_no_consumption(
    live_server, admin_a, termometro, browser
):
    # Under the site's Content-Security-Policy: the page's scripts are not blocked.
    page, errors = _open(browser, live_server.url, admin_a.email, termometro, 375, bypass_csp=False)
    assert page.get_attribute("#disp-chart", "data-modo") == "valor"
    assert page.evaluate(CHART_Y) == pytest.approx([21.5, 22.25, 23])
    assert page.locator("#disp-modo").count() == 0  # no counter to switch to
    assert page.locator("[data-testid=consumo-dias]").count() == 0
    readings = _cells(page, "ultimas-dispositivo")
    assert [row[1] for row in readings] == ["23 °C", "22,25 °C", "21,5 °C"]
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    assert errors == []


def test_dashboard_series_counts_consumption_by_the_billable_rule(
    live_server, admin_a, medidor, browser
):
    """The dashboard's device series shows the server's consumption per interval: the
    register's rollover counts (8.26 kWh), the step back counts zero, as on the device
    page and in the bill (it used to take every step back as zero, rollover included)."""
    page, errors = _open(browser, live_server.url, admin_a.email, medidor["dispositivo"], 1366)
    page.goto(live_server.url + reverse("telemetria:dashboard"))
    page.wait_for_function(
        "(() => { const c = Chart.getChart(document.getElementById('serie-chart'));"
        f" return c && c.data.datasets[0].data.length === {len(STEPS)}; }})()"
    )
    serie_y = CHART_Y.replace("disp-chart", "serie-chart")
    assert page.evaluate(serie_y) == pytest.approx([float(s) for s in STEPS])
    assert not errors, errors


BAR_WIDTHS = """(id => { const c = Chart.getChart(document.getElementById(id));
  return c.getDatasetMeta(0).data.map(b => [b.x, b.width]); })"""


@pytest.fixture
def medidor_ao_vivo(conta_a, admin_a):
    """A day of hourly history, then a reading every 10 s (as `make run`'s simulator
    sends once it starts): the series mixes 1-hour and 10-second intervals."""
    gw = factories.make_gateway(conta=conta_a, codigo="GW-SIM")
    disp = factories.make_dispositivo(gateway=gw, codigo="D01", tipo="ENERGIA")
    now = timezone.now().replace(microsecond=0)
    hourly = [now - timedelta(hours=h) for h in range(20, 0, -1)]
    live = [now - timedelta(seconds=s) for s in range(60, -1, -10)]
    times = hourly + live
    store_points(disp, [(t, D(1000) + 5 * i) for i, t in enumerate(times)])
    return disp, len(hourly)


@pytest.mark.parametrize("page_name", ["dispositivo", "dashboard"])
def test_hourly_bars_stay_wide_once_readings_arrive_every_10_seconds(
    live_server, admin_a, medidor_ao_vivo, browser, page_name
):
    """Each consumption bar is as wide as its own interval allows: an hour's bar is not
    drawn as thin as the 10-second ones that follow it (Chart.js sizes every bar of a
    linear axis by the smallest gap between any two points: after a minute of `make
    run`, the 24-hour chart was a row of hairlines)."""
    disp, n_hourly = medidor_ao_vivo
    page, errors = _open(browser, live_server.url, admin_a.email, disp, 1366)
    canvas = "disp-chart"
    if page_name == "dashboard":
        page.goto(live_server.url + reverse("telemetria:dashboard"))
        page.wait_for_function(
            "(() => { const c = Chart.getChart(document.getElementById('serie-chart'));"
            " return c && c.data.datasets[0].data.length > 0; })()"
        )
        canvas = "serie-chart"
    bars = page.evaluate(BAR_WIDTHS + f"('{canvas}')")
    hour_px = bars[n_hourly - 1][0] - bars[n_hourly - 2][0]  # two hourly points apart
    assert hour_px > 20
    # The hourly bars (but the last, next to the 10-second ones) take most of an hour.
    assert min(w for _x, w in bars[1 : n_hourly - 1]) >= 0.5 * hour_px, bars
    assert errors == []


@pytest.fixture
def medidor_desde_ontem(medidor_ao_vivo):
    """medidor_ao_vivo with a reading before the 24 h window: its first point in the
    window has a consumption too (5 kWh, as every other)."""
    disp, _n = medidor_ao_vivo
    store_points(disp, [(timezone.now() - timedelta(hours=30), D(995))])
    return disp


def test_dashboard_consumption_bars_start_at_zero(
    live_server, admin_a, medidor_desde_ontem, browser
):
    """Every reading added 5 kWh: the dashboard's bars stand on a y axis from zero, as
    on the device page (its axis started near the smallest bar, so equal bars looked tiny
    and a 2 kWh hour looked like nothing next to a 9 kWh one)."""
    page, errors = _open(browser, live_server.url, admin_a.email, medidor_desde_ontem, 390)
    page.goto(live_server.url + reverse("telemetria:dashboard"))
    page.wait_for_function(
        "(() => { const c = Chart.getChart(document.getElementById('serie-chart'));"
        " return c && c.data.datasets[0].data.length > 0; })()"
    )
    assert min(page.evaluate(CHART_Y.replace("disp-chart", "serie-chart"))) >= 5
    assert page.evaluate("Chart.getChart(document.getElementById('serie-chart')).scales.y.min") == 0
    assert errors == []
