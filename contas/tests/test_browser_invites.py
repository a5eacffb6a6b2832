"""Invitations in a real browser (Debian's chromium) at phone and desktop width: an
existing user invited to an account sees the banner, accepts, and lands in the account;
the login lockout page answers in Portuguese."""

from contextlib import contextmanager

import pytest
from django.urls import reverse

from contas import services
from contas.models import ContaMembership, Role
from tds_testing import factories
from tds_testing.browser import CHROMIUM, launch_chromium, sign_in

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (bin/services.sh)"),
]


@contextmanager
def browser_page(width, height):
    """Playwright runs its own event loop: no database access while the page is open."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            context = browser.new_context(
                viewport={"width": width, "height": height}, locale="pt-BR"
            )
            yield context.new_page()
        finally:
            browser.close()


def _login(page, base, email, password):
    page.goto(base + reverse("login"))
    sign_in(page, email, password)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("width", "height"), [(375, 812), (1280, 800)])
def test_invited_user_accepts_in_the_browser(live_server, width, height):
    old = factories.make_conta(nome="Conta Antiga")
    new = factories.make_conta(nome="Condomínio Convidante")
    user = factories.make_member(conta=old, role=Role.LEITOR).user
    services.member_add(conta=new, email=user.email, role=Role.OPERADOR, base_url=live_server.url)
    with browser_page(width, height) as page:
        _login(page, live_server.url, user.email, factories.PASSWORD)
        banner = page.locator("[data-testid=pending-invites]")
        banner.wait_for(state="visible")
        assert "1 convite pendente" in banner.inner_text()
        banner.locator("a").click()
        page.wait_for_url("**/conta/convites/")
        card = page.locator("[data-testid=convite]")
        assert "Condomínio Convidante" in card.inner_text()
        assert card.locator("button[value=aceitar]").is_visible()  # fits at phone width
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        card.locator("button[value=aceitar]").click()
        page.wait_for_url("**/telemetria/**")
        assert "Você agora é membro de Condomínio Convidante" in page.content()
        assert page.locator("[data-testid=pending-invites]").count() == 0
    m = ContaMembership.objects.get(conta=new, user=user)
    assert m.accepted_at is not None
    assert m.role == Role.OPERADOR


@pytest.mark.django_db(transaction=True)
def test_login_lockout_page_in_the_browser(live_server, settings):
    user = factories.make_member(conta=factories.make_conta(nome="C"), role=Role.ADMIN).user
    with browser_page(375, 812) as page:
        for _ in range(settings.AXES_FAILURE_LIMIT):
            _login(page, live_server.url, user.email, "errada")
        assert "Muitas tentativas" in page.locator("main").inner_text()
        _login(page, live_server.url, user.email, factories.PASSWORD)
        assert "Muitas tentativas" in page.locator("main").inner_text()
        assert "/entrar/" in page.url
