"""Issuing and revoking in a real browser (Debian's chromium through Playwright):
the gateway page's panel, the issue form, the one-time zip download, the status badges."""

import io
import zipfile

import pytest
from django.urls import reverse

from certificados.broker import gateway_endpoint
from contas.models import Role
from tds_testing import factories
from tds_testing.browser import CHROMIUM, launch_chromium, sign_in

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (bin/services.sh)"),
]


@pytest.mark.django_db(transaction=True)
def test_admin_issues_downloads_and_revokes_in_the_browser(live_server, pki_dir, tmp_path):
    from playwright.sync_api import sync_playwright

    conta = factories.make_conta(nome="Condomínio Navegador")
    user = factories.make_member(conta=conta, role=Role.ADMIN).user
    gw = factories.make_gateway(conta=conta, codigo="GW-NAV", mac="02:00:00:00:aa:01")
    base = live_server.url
    # No database access while Playwright's loop is open (see dispositivos/test_browser).
    with sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            page = browser.new_context(accept_downloads=True, locale="pt-BR").new_page()
            page.goto(base + reverse("login"))
            sign_in(page, user.email)
            page.wait_for_load_state()

            page.goto(base + reverse("dispositivos:gateway_detail", args=[gw.pk]))
            assert (
                page.locator(
                    "[data-slot=gateway-certificates] [data-testid=cert-status]"
                ).get_attribute("data-status")
                == "none"
            )
            page.click("[data-testid=cert-issue]")
            # A CSR for another MAC: the error is shown on the field, nothing issued.
            page.fill(
                "#id_csr",
                "-----BEGIN CERTIFICATE REQUEST-----\nbroken\n-----END CERTIFICATE REQUEST-----",
            )
            page.click("[data-testid=cert-issue-submit]")
            assert "não é um CSR" in page.locator("#id_csr_error").inner_text()
            page.fill("#id_csr", "")
            page.click("[data-testid=cert-issue-submit]")
            # A page says what was issued and where the gateway connects, then the download.
            page.wait_for_selector("[data-testid=cert-issued]")
            assert "GW-NAV" in page.inner_text("[data-testid=issued-gateway]")
            serial = page.inner_text("[data-testid=issued-serial]")
            fingerprint = page.inner_text("[data-testid=issued-fingerprint]")
            assert len(fingerprint.replace(":", "")) == 64
            assert " – " in page.inner_text("[data-testid=issued-validity]")
            broker_text = page.inner_text("[data-testid=issued-broker]")
            page.screenshot(path=str(tmp_path / "issued.png"), full_page=True)
            with page.expect_download() as download_info:
                page.click("[data-testid=cert-download]")
            zipped = download_info.value.path().read_bytes()
            # The same page on a phone: nothing sideways.
            page.set_viewport_size({"width": 360, "height": 780})
            page.reload()
            assert page.evaluate("document.scrollingElement.scrollWidth <= window.innerWidth"), (
                page.evaluate("document.scrollingElement.scrollWidth")
            )
            assert page.locator("[data-testid=issued-fingerprint]").is_visible()
            assert "já foi baixada" in page.inner_text("[data-testid=issued-key-note]")
            page.screenshot(path=str(tmp_path / "issued-phone.png"), full_page=True)
            page.set_viewport_size({"width": 1280, "height": 800})

            page.goto(base + reverse("dispositivos:gateway_list"))
            row = page.locator("[data-testid=gateway-row]", has_text="GW-NAV")
            assert row.locator("[data-testid=cert-status]").get_attribute("data-status") == "valid"

            page.goto(base + reverse("certificados:index"))
            page.click("[data-testid=cert-row] a >> nth=-1")
            page.select_option("select[name=reason]", "key_compromise")
            page.click("[data-testid=cert-revoke-form] button")
            page.wait_for_load_state()
            assert "não pode ser desfeita" in page.inner_text("main")  # asks first
            page.click("[data-testid=confirm-action]")
            page.wait_for_load_state()
            assert (
                page.locator("h1 [data-testid=cert-status]").get_attribute("data-status")
                == "revoked"
            )
            page.screenshot(path=str(tmp_path / "revoked.png"), full_page=True)
            page.goto(base + reverse("dispositivos:gateway_detail", args=[gw.pk]))
            page.screenshot(path=str(tmp_path / "gateway.png"), full_page=True)
        finally:
            browser.close()
    bundle = zipfile.ZipFile(io.BytesIO(zipped))
    readme = bundle.read("README.txt").decode()
    assert serial in readme
    assert fingerprint in readme
    # The page and the README name the same broker (the live server's settings).
    endpoint = gateway_endpoint()
    assert endpoint.address in broker_text
    assert endpoint.address in readme
    names = bundle.namelist()
    assert sorted(names) == [
        "02-00-00-00-aa-01.crt",
        "02-00-00-00-aa-01.key",
        "README.txt",
        "ca.crt",
    ]
