"""The registry in a real browser (Debian's chromium through Playwright) at phone width:
login by e-mail, collapsed sidebar, scrollable table, an error shown on its field."""

from contextlib import contextmanager

import pytest
from django.urls import reverse

from contas.models import Role
from dispositivos.models import Gateway
from tds_testing import factories
from tds_testing.browser import CHROMIUM, launch_chromium, sign_in

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (bin/services.sh)"),
]


@contextmanager
def phone_page():
    """A chromium page at phone size. Playwright's sync API runs its own event loop (and
    greenlets), so test code must not touch the database while it is open: Django would
    open a second, never-closed connection in that context."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            context = browser.new_context(viewport={"width": 390, "height": 844}, locale="pt-BR")
            yield context.new_page()
        finally:
            browser.close()


@pytest.mark.django_db(transaction=True)
def test_registry_on_a_phone(live_server):
    conta = factories.make_conta(nome="Condomínio Celular")
    user = factories.make_member(conta=conta, role=Role.OPERADOR).user
    gw = factories.make_gateway(conta=conta, codigo="GW-CEL", nome="Bloco com um nome bem comprido")
    factories.make_dispositivo(gateway=gw)
    with phone_page() as page:
        _walk_through(page, live_server.url, user.email)
    assert not Gateway.objects.filter(codigo="GW-NOVO").exists()


def _walk_through(page, base_url, email):
    page.goto(base_url + reverse("dispositivos:gateway_list"))
    assert "/entrar/" in page.url  # anonymous → login
    sign_in(page, email.upper())
    page.wait_for_url("**/registro/gateways/")

    # Sidebar collapsed at phone width; the navbar toggler opens it.
    sidebar = page.locator("#tds-sidebar")
    assert not sidebar.is_visible()
    page.click(".navbar-toggler")
    sidebar.locator("text=Dispositivos").wait_for(state="visible")

    # The table scrolls inside its container instead of widening the page.
    assert page.locator(".table-responsive table").is_visible()
    page_width = page.evaluate("document.documentElement.scrollWidth")
    assert page_width <= 390

    # An invalid MAC: the message is shown under the MAC field.
    page.goto(base_url + reverse("dispositivos:gateway_create"))
    page.fill("#id_codigo", "GW-NOVO")
    page.fill("#id_nome", "Novo")
    page.fill("#id_mac", "12:34")
    page.click("main form button[type=submit]")
    error = page.locator("#id_mac_error")
    error.wait_for(state="visible")
    assert "MAC inválido" in error.inner_text()
    assert "is-invalid" in page.get_attribute("#id_mac", "class")
    assert page.input_value("#id_codigo") == "GW-NOVO"
