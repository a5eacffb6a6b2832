"""The gateway agent panel and the new Modbus fields in a real browser (Debian's
chromium through Playwright), at desktop and at phone width."""

import datetime as dt

import pytest
from django.urls import reverse
from django_scopes import scopes_disabled

from contas.models import Role
from ingestao.models import DiagnosticoGateway
from tds_testing import factories
from tds_testing.browser import CHROMIUM, launch_chromium, sign_in

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (bin/services.sh)"),
]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("width", [1280, 375])
def test_gateway_page_shows_the_agent_health(live_server, width):
    conta = factories.make_conta()
    user = factories.make_member(conta=conta, role=Role.OPERADOR).user
    gw = factories.make_gateway(conta=conta, codigo="GW-AG")
    d1 = factories.make_dispositivo(gateway=gw, codigo="D01")
    factories.make_dispositivo(gateway=gw, codigo="D02")
    gw.refresh_from_db()
    now = dt.datetime.now(dt.UTC)
    with scopes_disabled():
        DiagnosticoGateway.objects.create(
            conta=conta,
            gateway=gw,
            recebido_em=now,
            enviado_em=now + dt.timedelta(seconds=95),
            config_versao=gw.config_versao,
            outbox_pendentes=12,
            ntp_sincronizado=False,
            payload={
                "dispositivos": [
                    {"dispositivo_codigo": "D01", "leituras": 60, "timeouts": 0, "crc": 0, "excecoes": 0},
                    {"dispositivo_codigo": "D02", "leituras": 0, "timeouts": 60, "crc": 0,
                     "excecoes": 0, "ultimo_erro": "No response received after 0 retries"},
                ]
            },
        )  # fmt: skip
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            page = browser.new_context(
                viewport={"width": width, "height": 900}, locale="pt-BR"
            ).new_page()
            page.goto(live_server.url + reverse("dispositivos:gateway_detail", args=[gw.pk]))
            sign_in(page, user.email)
            page.wait_for_url(f"**/registro/gateways/{gw.pk}/")
            panel = page.locator("[data-testid=gateway-agent]")
            panel.scroll_into_view_if_needed()
            assert panel.locator("text=Configuração em dia").is_visible()
            assert panel.locator("text=NTP não sincronizado").is_visible()
            assert "95.0 s" in panel.inner_text() or "95,0 s" in panel.inner_text()
            row = panel.locator("[data-testid=agent-device][data-codigo=D02]")
            assert "table-warning" in row.get_attribute("class")
            # The page itself never scrolls sideways; the table scrolls inside its box.
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0

            # The device form offers the new Modbus fields.
            page.goto(live_server.url + reverse("dispositivos:dispositivo_update", args=[d1.pk]))
            for field in ("funcao_modbus", "tipo_dado", "ordem_palavras", "modbus_host"):
                page.locator(f"#id_{field}").scroll_into_view_if_needed()
                assert page.locator(f"#id_{field}").is_visible()
            page.select_option("#id_tipo_dado", "float32")
            page.click("main form button[type=submit]")
            page.wait_for_url(f"**/registro/dispositivos/{d1.pk}/")
            assert page.locator("text=float32").first.is_visible()
        finally:
            browser.close()
    d1.refresh_from_db()
    assert d1.tipo_dado == "float32"
