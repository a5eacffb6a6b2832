"""The prices page on a phone (390 px, chromium): nothing scrolls sideways, and a price
typed with a comma is saved and shown back."""

import pytest

from contas.models import Role
from tds_testing import factories
from tds_testing.browser import CHROMIUM, SHOTS, launch_chromium, login

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed"),
]


@pytest.mark.django_db(transaction=True)
def test_prices_page_fits_a_phone(live_server):
    from playwright.sync_api import sync_playwright

    conta = factories.make_conta(nome="Condomínio Residencial Aurora")
    email = "sindica@condominio-exemplo.com.br"
    factories.make_member(conta=conta, role=Role.ADMIN, user=factories.make_user(email=email))
    with sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            page = browser.new_page(viewport={"width": 390, "height": 800}, locale="pt-BR")
            login(page, live_server.url, email)
            page.goto(f"{live_server.url}/conta/precos/")
            page.get_by_label("preço da água").fill("0,85")
            page.get_by_role("button", name="Salvar").click()
            page.get_by_text("Preços salvos.").wait_for()
            assert page.get_by_label("preço da água").input_value() == "0,8500"
            assert page.evaluate("document.documentElement.scrollWidth") <= 390
            page.screenshot(path=str(SHOTS / "precos-390.png"), full_page=True)
        finally:
            browser.close()
    conta.refresh_from_db()
    assert str(conta.preco_agua) == "0.8500"
