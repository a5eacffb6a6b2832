"""The notification pages in a real browser at phone width, end to end: an admin creates a
webhook target, reads its secret, sends a test; a real Celery worker delivers it to a real
receiver that verifies the signature; the page shows it sent. Then own preferences."""

import time

import pytest
from django.db import connection
from django.urls import reverse

from contas.models import Role
from prj_tds_new.celery import app
from tds_testing import factories
from tds_testing.browser import CHROMIUM, launch_chromium, sign_in
from tds_testing.celery_worker import CeleryWorker, celery_broker
from tds_testing.notify_receivers import Receiver
from tds_testing.servers import PrivateRedis

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (bin/services.sh)"),
]


@pytest.fixture
def worker(settings):
    redis = PrivateRedis().start()
    broker = celery_broker(app, redis.url)
    broker.__enter__()
    settings.TDS_NOTIFY_ENQUEUE = True
    db = connection.settings_dict
    w = CeleryWorker(
        broker_url=redis.url,
        database_url=f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        env={"TDS_NOTIFY_SWEEP_SECONDS": "1"},
    ).start()
    try:
        yield w
    finally:
        w.stop()
        broker.__exit__(None, None, None)
        redis.stop()


@pytest.mark.parametrize("width", [390, 1280])
@pytest.mark.django_db(transaction=True)
def test_admin_creates_a_webhook_target_and_sends_a_test(live_server, worker, width):
    from playwright.sync_api import sync_playwright

    conta = factories.make_conta(nome="Condomínio Navegador")
    admin = factories.make_member(conta=conta, role=Role.ADMIN).user
    receiver = Receiver("webhook")  # port chosen now; started once the secret is known
    try:
        with sync_playwright() as p:
            browser = launch_chromium(p)
            try:
                page = browser.new_context(
                    viewport={"width": width, "height": 844}, locale="pt-BR"
                ).new_page()
                _walk_through(page, live_server.url, admin.email, receiver, width)
            finally:
                browser.close()
        (got,) = receiver.entries()
        assert got["valid"]
        assert got["payload"]["tipo"] == "teste"
    finally:
        receiver.stop()


def _fits(page, width):
    """The page's content fits the screen: nothing in <main> wider than the viewport (the
    shared navbar is the layout's business, tested with the layout)."""
    overflow = page.evaluate(
        """w => Array.from(document.querySelectorAll('main *'))
              .filter(e => e.getBoundingClientRect().right > w + 1 && !e.closest('.table-responsive'))
              .map(e => e.tagName + ' ' + (e.innerText || '').slice(0, 40))""",
        width,
    )
    assert not overflow, overflow


def _walk_through(page, base, email, receiver, width):
    page.goto(base + reverse("notificacoes:destino_list"))
    sign_in(page, email)
    page.wait_for_url("**/notificacoes/")
    assert "Nenhum destino" in page.inner_text("[data-testid=destinos]")
    _fits(page, width)

    page.click("[data-testid=novo-destino]")
    page.fill("#id_nome", "Integração síndico")
    page.select_option("#id_tipo", "webhook")
    page.fill("#id_webhook_url", receiver.url + "/tds")
    page.select_option("#id_severidade_minima", "alto")
    page.click("[data-testid=destino-form] button[type=submit]")
    page.wait_for_url("**/notificacoes/destinos/*/")
    assert "Destino salvo." in page.inner_text("main")
    _fits(page, width)

    receiver.secret = page.inner_text("[data-testid=segredo]").strip()
    receiver.start()
    page.click("[data-testid=enviar-teste]")
    page.wait_for_selector("text=Mensagem de teste na fila")
    deadline = time.monotonic() + 60
    while "HTTP 200" not in page.inner_text("[data-testid=envios]"):
        assert time.monotonic() < deadline, page.inner_text("[data-testid=envios]")
        time.sleep(0.5)
        page.reload()
    assert "enviada" in page.inner_text("[data-testid=envios]")
    _fits(page, width)

    page.goto(base + reverse("notificacoes:preferencias"))
    page.fill("#id_silencio_inicio", "22:00")
    page.fill("#id_silencio_fim", "07:00")
    page.check("#id_resumo_diario")
    page.click("[data-testid=preferencias-form] button[type=submit]")
    page.wait_for_selector("text=Preferências salvas.")
    assert page.input_value("#id_silencio_inicio") == "22:00"
    assert page.is_checked("#id_resumo_diario")
