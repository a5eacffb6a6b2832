"""The registry in a real browser (Debian's chromium through Playwright) at phone width:
login by e-mail, collapsed sidebar, scrollable table, an error shown on its field."""

from contextlib import contextmanager
from itertools import pairwise

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


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("width", [1366, 390])
def test_gateway_details_labels_that_wrap_keep_their_space(live_server, width):
    """Endereço MAC and Última comunicação wrap in the details card; each label must end
    above the next one with a gap (they ran into each other)."""
    from django.utils import timezone
    from playwright.sync_api import sync_playwright

    conta = factories.make_conta(nome="Condomínio Detalhe")
    user = factories.make_member(conta=conta, role=Role.LEITOR).user
    gw = factories.make_gateway(conta=conta, codigo="GW-DL", nome="Portaria")
    Gateway.objects.filter(pk=gw.pk).update(last_seen=timezone.now())
    with sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            page = browser.new_page(viewport={"width": width, "height": 900}, locale="pt-BR")
            page.goto(live_server.url + reverse("dispositivos:gateway_detail", args=[gw.pk]))
            sign_in(page, user.email)
            page.wait_for_url(f"**/{gw.pk}/")
            boxes = page.evaluate(
                """() => Array.from(document.querySelectorAll('main dl.row > dt')).map(
                    dt => { const r = dt.getBoundingClientRect();
                            return [dt.textContent.trim(), r.top, r.bottom]; })"""
            )
            # The panel's live updates format a reading with the meter's decimals, as the
            # server does (tds-format.js): 93,620 next to 94,359, not 93,62.
            live = page.evaluate("[TDSFormat.number(93.62, 3), TDSFormat.number(94.359, 3)]")
            line = page.evaluate(
                "parseFloat(getComputedStyle(document.querySelector('main dl.row > dt')).lineHeight)"
            )
        finally:
            browser.close()
    assert live == ["93,620", "94,359"]
    assert any(bottom - top > 1.5 * line for _t, top, bottom in boxes), "no label wraps"
    for (name, _top, bottom), (nxt, top, _b) in pairwise(boxes):
        assert top - bottom >= 4, f"{name!r} runs into {nxt!r}: gap {top - bottom:.1f}px"
