"""The navbar on a phone (360 and 390 px, chromium): the account name, the user's context,
is shown whole (it was cut to "Condomínio …"), the alarm count has a visible bell and an
accessible name (it was a bare "0"), nothing leaves the screen."""

import re

import pytest

from contas.models import Role
from tds_testing import factories
from tds_testing.browser import CHROMIUM, SHOTS, launch_chromium, login

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed"),
]

NOME = "Condomínio Residencial Aurora"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("width", [360, 390])
def test_phone_navbar_shows_the_account_and_a_labelled_alarm_count(live_server, width):
    from playwright.sync_api import sync_playwright

    conta = factories.make_conta(nome=NOME)
    email = "sindica.com.um.nome.comprido@condominio-exemplo.com.br"
    factories.make_member(conta=conta, role=Role.ADMIN, user=factories.make_user(email=email))
    with sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            page = browser.new_page(viewport={"width": width, "height": 800}, locale="pt-BR")
            login(page, live_server.url, email)
            label = page.locator("#conta-switcher .tds-nav-label")
            assert label.is_visible()
            assert label.inner_text() == NOME
            clipped = label.evaluate("el => el.scrollWidth > el.clientWidth")
            assert not clipped, "account name cut"
            alarms = page.get_by_role("link", name=re.compile(r"^Alarmes abertos\s*0$"))
            assert alarms.is_visible()
            assert page.locator("[data-testid=alarm-icon]").is_visible()
            assert page.get_by_role("button", name=email).is_visible()
            rights = page.evaluate(
                """() => Array.from(document.querySelectorAll(
                    'nav.navbar .navbar-brand, nav.navbar .nav-link')).map(
                    el => el.getBoundingClientRect().right)"""
            )
            assert max(rights) <= width
            assert page.evaluate("document.documentElement.scrollWidth") <= width
            page.screenshot(
                path=str(SHOTS / f"navbar-{width}.png"),
                clip={"x": 0, "y": 0, "width": width, "height": 160},
            )
            # The e-mail is read in the user menu.
            page.click("#user-menu")
            assert page.locator("#user-menu + .dropdown-menu").get_by_text(email).is_visible()
        finally:
            browser.close()
