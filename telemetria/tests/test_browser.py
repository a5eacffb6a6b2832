"""The dashboard in a real browser: Debian's chromium through Playwright, against a real
uvicorn (ASGI) server on the test database, live events over Redis pub/sub → SSE.

Playwright's sync API runs an event loop in this thread, so database work while a
page is open goes through `in_thread()` (Django refuses sync DB calls from a thread
with a running loop).
"""

import datetime as dt
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from tds_core.live import publish_live_event
from tds_testing import factories
from tds_testing.browser import CHROMIUM, SHOTS, in_thread, login, wait_live
from tds_testing.postgres import current_database_url
from tds_testing.readings import store_points as store

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed"),
]


CHART_POINTS = (
    "(() => { const c = Chart.getChart(document.getElementById('serie-chart'));"
    " return c ? c.data.datasets[0].data.length : 0; })()"
)


def _reading_event(dispositivo, valor, when):
    return {
        "type": "readings",
        "readings": [
            {
                "gateway_id": dispositivo.gateway_id,
                "dispositivo_id": dispositivo.pk,
                "dispositivo_codigo": dispositivo.codigo,
                "time": when.isoformat(),
                "valor": valor,
                "unidade": dispositivo.unidade,
            }
        ],
    }


def test_dashboard_live_in_browser(uvicorn_server, admin_a, conta_a, planta_a, browser):
    energia = planta_a["energia"]
    page = browser.new_page(viewport={"width": 1366, "height": 900}, locale="pt-BR")
    login(page, uvicorn_server, admin_a.email)

    # Cards, a time series with data, the monthly consumption chart.
    assert page.inner_text("[data-testid=card-dispositivos]") == "2"
    assert page.inner_text("[data-testid=card-gw-online]") + page.inner_text(
        "[data-testid=card-gw-offline]"
    ) in ("01", "10")
    page.wait_for_function(f"{CHART_POINTS} > 0")
    page.wait_for_selector("#consumo-charts[data-loaded='1'] canvas")
    consumo = page.evaluate(
        "Chart.getChart(document.querySelector('#consumo-charts canvas')).data.datasets[0].data"
    )
    assert consumo[-1] > 0
    wait_live(page)

    # A new reading, stored and announced like the consumer does: on the page < 1 s.
    when = timezone.now().replace(microsecond=0)
    in_thread(store, energia, [(when, "4321.5")])
    published = time.monotonic()
    publish_live_event(conta_id=conta_a.pk, event=_reading_event(energia, "4321.5000", when))
    first_row = page.locator("#latest-body tr").first
    first_row.filter(has_text="4.321,5").wait_for(timeout=2000)
    assert time.monotonic() - published < 1.0
    assert page.locator("#latest-body tr").count() == 50

    # A status change: the gateway goes offline, the cards follow.
    gw = planta_a["gateway"]
    publish_live_event(
        conta_id=conta_a.pk,
        event={
            "type": "gateway_status",
            "gateway_id": gw.pk,
            "is_online": False,
            "last_seen": None,
        },
    )
    page.wait_for_function(
        f"document.querySelector('#gateways-body tr[data-gateway-id=\"{gw.pk}\"]').dataset.online === '0'",
        timeout=2000,
    )
    assert page.inner_text("[data-testid=card-gw-offline]") == "1"

    # Switching the range redraws the chart from the server.
    version = page.get_attribute("#serie-chart", "data-version")
    page.click("#serie-periodos [data-periodo='1h']")
    page.wait_for_function(
        f"document.getElementById('serie-chart').dataset.version !== '{version}'"
        " && document.getElementById('serie-chart').dataset.periodo === '1h'"
    )
    assert page.evaluate(CHART_POINTS) > 0
    # The caption says what the points are (the API's resumo), not just the bucket size.
    # Readings a minute apart in 10-second buckets, plus the live one just sent: seconds
    # after the last one, or in its bucket when the test reaches here < 10 s past the
    # fixture's whole minute ("um a cada 1 min"): the caption names both either way.
    caption = page.inner_text("#serie-info")
    assert "1 min" in caption, caption
    assert "(cada um, a média das leituras de 10 s)" in caption, caption
    page.click("#serie-periodos [data-periodo='7d']")
    page.wait_for_function("document.getElementById('serie-chart').dataset.periodo === '7d'")
    page.screenshot(path=str(SHOTS / "dashboard.png"), full_page=True)

    # The gateway page: latest value, status and a sparkline per device.
    page.goto(uvicorn_server + reverse("telemetria:gateway", args=[gw.pk]))
    page.wait_for_selector("canvas.dev-spark[data-points]")
    assert "4.321,5" in page.inner_text("[data-testid=gateway-telemetry]")
    page.screenshot(path=str(SHOTS / "gateway.png"), full_page=True)


def test_other_account_sees_none_of_it(
    uvicorn_server, admin_b, planta_a, planta_b, conta_a, browser
):
    page = browser.new_page(locale="pt-BR")
    login(page, uvicorn_server, admin_b.email)
    body = page.inner_text("main")
    assert "GW-B1" in body
    assert "GW-A1" not in body
    wait_live(page)
    energia = planta_a["energia"]
    publish_live_event(
        conta_id=conta_a.pk, event=_reading_event(energia, "9876.5000", timezone.now())
    )
    page.wait_for_timeout(1200)
    assert "9.876,5" not in page.inner_text("main")
    # The API answers 404 for the other account's device, with the session cookie.
    status = page.evaluate(
        f"fetch('{reverse('telemetria:api_serie', args=[energia.pk])}').then(r => r.status)"
    )
    assert status == 404


def test_dashboard_at_phone_width(uvicorn_server, admin_a, planta_a, browser):
    page = browser.new_page(
        viewport={"width": 390, "height": 844}, locale="pt-BR", is_mobile=True, has_touch=True
    )
    login(page, uvicorn_server, admin_a.email)
    page.wait_for_function(f"{CHART_POINTS} > 0")
    page.wait_for_selector("#consumo-charts[data-loaded='1'] canvas")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert page.locator("[data-testid=card-leituras-hoje]").is_visible()
    page.screenshot(path=str(SHOTS / "dashboard-phone.png"), full_page=True)


def test_polling_fallback_without_sse(uvicorn_server, admin_a, conta_a, planta_a, browser):
    """With the stream refused, the page polls the JSON API (no reload)."""
    page = browser.new_page(locale="pt-BR")
    page.route("**/telemetria/eventos/", lambda route: route.fulfill(status=503, body=""))
    login(page, uvicorn_server, admin_a.email)
    page.wait_for_function("document.documentElement.dataset.liveState === 'polling'")
    page.evaluate("window.__marker = 1")  # gone if the page reloads
    when = timezone.now().replace(microsecond=0) + dt.timedelta(seconds=1)
    in_thread(store, planta_a["energia"], [(when, "5555.25")])
    page.locator("#latest-body tr").first.filter(has_text="5.555,25").wait_for(timeout=8000)
    assert page.evaluate("window.__marker") == 1


def test_reading_published_over_mqtt_appears(uvicorn_server, mosquitto, admin_a, planta_a, browser):
    """Gateway → private Mosquitto → the real consumer → Redis → SSE → the open page."""
    import json

    import paho.mqtt.client as mqtt
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    env = {
        **os.environ,
        "DATABASE_URL": current_database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "MQTT_URL": mosquitto.url,
    }
    consumer = subprocess.Popen(
        [sys.executable, "manage.py", "start_mqtt_consumer"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    publisher = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="test-browser-gw")
    publisher.connect("127.0.0.1", mosquitto.port)
    publisher.loop_start()
    try:
        page = browser.new_page(locale="pt-BR")
        login(page, uvicorn_server, admin_a.email)
        wait_live(page)
        gw, energia = planta_a["gateway"], planta_a["energia"]
        seen = False
        # The consumer may still be subscribing: publish a new value every 0.5 s until one shows.
        for i in range(30):
            valor = 8800 + i
            payload = {
                "gateway_mac": gw.mac,
                "timestamp": (timezone.now() + dt.timedelta(seconds=i)).isoformat(),
                "leituras": [{"dispositivo_codigo": energia.codigo, "valor": valor}],
            }
            publisher.publish(f"tds_new/devices/{gw.mac}/telemetry", json.dumps(payload), qos=1)
            try:
                page.locator("#latest-body tr").first.filter(has_text="8.8").wait_for(timeout=500)
                seen = True
                break
            except PlaywrightTimeout:  # not there yet
                continue
        assert seen, "no reading published over MQTT reached the page"
    finally:
        publisher.loop_stop()
        publisher.disconnect()
        consumer.terminate()
        try:
            consumer.wait(15)
        except subprocess.TimeoutExpired:
            consumer.kill()


def test_pages_work_under_the_content_security_policy(uvicorn_server, admin_a, planta_a, browser):
    """The CSP forbids inline scripts and styles (and eval): nothing on the dashboard or a
    gateway page is blocked (chromium reports each violation on the console)."""
    page = browser.new_page(
        viewport={"width": 1366, "height": 900}, locale="pt-BR", bypass_csp=False
    )
    problems = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    failed = []
    page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
    response = page.goto(uvicorn_server + reverse("telemetria:dashboard"))
    assert "unsafe-inline" not in response.headers["content-security-policy"]
    login(page, uvicorn_server, admin_a.email)
    page.wait_for_selector("#consumo-charts[data-loaded='1'] canvas")
    deadline = time.monotonic() + 10
    while page.evaluate(CHART_POINTS) == 0 and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    assert page.evaluate(CHART_POINTS) > 0
    gw = planta_a["gateway"]
    page.goto(uvicorn_server + reverse("telemetria:gateway", args=[gw.pk]))
    page.wait_for_selector("canvas")
    assert [u for u in failed if not u.endswith("/favicon.ico")] == []
    assert [p for p in problems if not p.startswith("Failed to load resource")] == []


WIDER_THAN_VIEWPORT = """[...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5)
  .slice(0, 5).map(e => e.tagName + '#' + e.id + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))"""


@pytest.fixture
def long_names(planta_a):
    """Meters with names as long as a real building's, the demo's case that widened the page."""
    gw = planta_a["gateway"]
    for disp in (planta_a["energia"], planta_a["temp"]):
        disp.nome = "Medidor do bloco C, torre norte, área comum da garagem"
        disp.save()
    agua = factories.make_dispositivo(
        gateway=gw, codigo="D09", tipo="AGUA", nome="Hidrômetro geral da entrada de serviço"
    )
    store(agua, [(timezone.now() - dt.timedelta(minutes=5), 12345.678)])
    return planta_a


@pytest.mark.parametrize("width", [360, 390])
def test_every_page_fits_a_phone_and_latest_rows_stack(
    uvicorn_server, admin_a, long_names, browser, width
):
    gw, energia = long_names["gateway"], long_names["energia"]
    page = browser.new_page(
        viewport={"width": width, "height": 800}, locale="pt-BR", is_mobile=True, has_touch=True
    )
    login(page, uvicorn_server, admin_a.email)
    page.wait_for_function(f"{CHART_POINTS} > 0")
    page.wait_for_selector("#consumo-charts[data-loaded='1'] canvas")
    wide = page.evaluate(WIDER_THAN_VIEWPORT)
    assert page.evaluate("document.documentElement.scrollWidth") <= width, wide
    # A stacked row: gateway, device (by name), value and unit all visible within the screen.
    row = page.locator("#latest-body tr").first
    for cell in (".r-gateway", ".r-dispositivo", ".r-valor"):
        box = row.locator(cell).bounding_box()
        assert box["width"] > 0
        assert box["x"] + box["width"] <= width
    assert "GW-A1" in row.inner_text()
    assert "kWh" in row.inner_text() or "°C" in row.inner_text()
    if width == 390:
        page.screenshot(path=str(SHOTS / "dashboard-phone.png"), full_page=True)
    for url in (
        reverse("telemetria:gateway", args=[gw.pk]),
        reverse("dispositivos:dispositivo_detail", args=[energia.pk]),
        reverse("dispositivos:gateway_detail", args=[gw.pk]),
        reverse("dispositivos:dispositivo_list"),
        reverse("dispositivos:gateway_list"),
    ):
        page.goto(uvicorn_server + url)
        page.wait_for_load_state()
        assert page.evaluate("document.documentElement.scrollWidth") <= width, (
            url,
            page.evaluate(WIDER_THAN_VIEWPORT),
        )


def test_meters_by_name_one_chart_per_utility_and_late_readings_in_place(
    uvicorn_server, admin_a, conta_a, long_names, browser
):
    energia = long_names["energia"]
    gw = long_names["gateway"]
    page = browser.new_page(viewport={"width": 1366, "height": 900}, locale="pt-BR")
    login(page, uvicorn_server, admin_a.email)
    page.wait_for_selector("#consumo-charts[data-loaded='1'] canvas")
    # Energia (kWh) and Água (m³) each get their own chart; meters are named by nome.
    tipos = page.eval_on_selector_all("#consumo-charts canvas", "cs => cs.map(c => c.dataset.tipo)")
    assert sorted(tipos) == ["AGUA", "ENERGIA"]
    labels = page.evaluate(
        "Chart.getChart(document.querySelector('#consumo-charts canvas[data-tipo=ENERGIA]'))"
        ".data.datasets.map(d => d.label)"
    )
    assert labels == ["Medidor do bloco C, torre norte, área comum da garagem (D01) · GW-A1"]
    assert "Medidor do bloco C" in page.inner_text("#serie-dispositivo")
    wait_live(page)
    last_seen = page.get_attribute(
        f'#gateways-body tr[data-gateway-id="{gw.pk}"] .gw-last-seen', "data-time"
    )
    # A late reading (minutes old) replayed by the gateway: placed by its time, not on top,
    # and "Última comunicação" does not move backwards.
    late = timezone.now().replace(microsecond=0) - dt.timedelta(minutes=5, seconds=30)
    publish_live_event(conta_id=conta_a.pk, event=_reading_event(energia, "777.7000", late))
    page.locator("#latest-body tr", has_text="777,7").wait_for(timeout=3000)
    times = page.eval_on_selector_all(
        "#latest-body tr", "rows => rows.map(r => Date.parse(r.dataset.time))"
    )
    assert times == sorted(times, reverse=True)
    assert "777,7" not in page.locator("#latest-body tr").first.inner_text()
    after = page.get_attribute(
        f'#gateways-body tr[data-gateway-id="{gw.pk}"] .gw-last-seen', "data-time"
    )
    if last_seen:
        assert dt.datetime.fromisoformat(after) >= dt.datetime.fromisoformat(last_seen)


def test_readings_page_is_live_on_a_phone(uvicorn_server, admin_a, conta_a, planta_a, browser):
    """The raw readings' own page: a reading stored and announced on the account's stream
    shows on top without reload; stacked rows, nothing sideways at 390 px."""
    energia = planta_a["energia"]
    page = browser.new_page(
        viewport={"width": 390, "height": 844}, locale="pt-BR", is_mobile=True, has_touch=True
    )
    login(page, uvicorn_server, admin_a.email)
    page.click("[data-testid=leituras-link]")
    page.wait_for_url("**/telemetria/leituras/")
    wait_live(page)
    page.evaluate("window.__sameDocument = true")
    when = timezone.now().replace(microsecond=0) + dt.timedelta(seconds=30)
    in_thread(store, energia, [(when, 4321.5)])
    publish_live_event(conta_id=conta_a.pk, event=_reading_event(energia, "4321.5000", when))
    page.locator("#leituras-body tr").first.filter(has_text="4.321,5").wait_for(timeout=5000)
    assert page.evaluate("window.__sameDocument === true")
    first = page.locator("#leituras-body tr").first
    assert "GW-A1" in first.locator(".r-gateway").inner_text()
    assert "kWh" in first.locator(".r-valor").inner_text()
    # The viewport's width, not innerWidth: a phone browser widens innerWidth to fit an
    # overflowing page.
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 390
