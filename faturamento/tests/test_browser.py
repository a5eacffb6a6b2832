"""Closing a period and downloading a statement in a real browser (Debian's chromium via
Playwright), at desktop width and at 375 px."""

import shutil
import subprocess

import pytest
from django.urls import reverse

from contas.models import Role
from tds_testing import factories
from tds_testing.browser import CHROMIUM, launch_chromium, sign_in

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("clean_store"),
    pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (bin/services.sh)"),
]


def login(page, base_url, email):
    page.goto(base_url + reverse("login"))
    sign_in(page, email)
    page.wait_for_url("**/telemetria/")


def test_close_a_period_and_download_a_statement(live_server, conta_a, condominio, tmp_path):
    email = factories.make_member(conta=conta_a, role=Role.ADMIN).user.email
    base = live_server.url
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            desktop = browser.new_context(viewport={"width": 1280, "height": 900}, locale="pt-BR",
                                          accept_downloads=True).new_page()  # fmt: skip
            problems = []  # chromium reports each CSP violation as a console error
            desktop.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            desktop.on("pageerror", lambda e: problems.append(str(e)))
            login(desktop, base, email)
            desktop.goto(base + reverse("faturamento:index"))
            desktop.fill("#id_referencia", "2026-10")
            desktop.click("[data-testid=abrir-periodo]")
            desktop.wait_for_url("**/faturamento/periodos/*/")
            assert "Sem dados" in desktop.inner_text("main")
            assert desktop.locator("[data-testid=faltando]").is_visible()
            desktop.click("[data-testid=fatura-add-AGUA]")
            desktop.fill("#id_valor_total", "1000,01")
            desktop.select_option("#id_modo", "FAIXAS")
            desktop.fill("#id_faixas_texto", "10 ; 4,00\n20 ; 6,00\n ; 10,00")
            desktop.fill("#id_valor_minimo", "50")
            desktop.fill("#id_esgoto_pct", "100")
            desktop.click("[data-testid=fatura-salvar]")
            desktop.wait_for_url("**/faturamento/periodos/*/")
            desktop.click("[data-testid=fechar-periodo]")
            desktop.locator("[data-testid=periodo-status]", has_text="Fechado").wait_for()
            rows = desktop.locator("[data-testid=cobranca-row]")
            assert rows.count() == 3
            assert "R$ 320,01" in rows.nth(0).inner_text()
            period_url = desktop.url
            with desktop.expect_download() as info:
                desktop.locator("[data-testid=cobranca-row]").nth(2).locator(
                    "a", has_text="PDF"
                ).click()
            desktop_pdf = tmp_path / "desktop.pdf"
            info.value.save_as(desktop_pdf)
            # The water balance chart draws under the Content-Security-Policy.
            desktop.goto(base + reverse("faturamento:balanco") + "?tipo=AGUA&dias=92")
            desktop.wait_for_function(
                "Chart.getChart(document.getElementById('balanco-chart')) !== undefined"
            )
            assert [p for p in problems if "Failed to load resource" not in p] == []

            phone = browser.new_context(viewport={"width": 375, "height": 812}, locale="pt-BR",
                                        accept_downloads=True).new_page()  # fmt: skip
            login(phone, base, email)
            phone.goto(period_url)
            assert phone.evaluate("document.documentElement.scrollWidth") <= 375
            assert phone.locator(".table-responsive").first.is_visible()
            with phone.expect_download() as info:
                phone.locator("[data-testid=cobranca-row]").nth(0).locator(
                    "a", has_text="PDF"
                ).click()
            phone_pdf = tmp_path / "phone.pdf"
            info.value.save_as(phone_pdf)
            with phone.expect_download() as info:
                phone.click("[data-testid=planilha]")
            assert info.value.suggested_filename == "rateio-2026-10-v1.xlsx"
        finally:
            browser.close()

    def text(path):
        return subprocess.run([shutil.which("pdftotext"), str(path), "-"], capture_output=True,
                              check=True).stdout.decode()  # fmt: skip

    assert "Bloco B · 201" in text(desktop_pdf)
    assert "R$ 468,00" in text(desktop_pdf)
    assert "Bloco A · 101" in text(phone_pdf)
    assert "R$ 320,01" in text(phone_pdf)
