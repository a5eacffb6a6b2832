"""The alarm rule form in chromium: only the fields of the chosen kind are shown (hidden
ones are not reachable with Tab), and a decimal comma typed into Vazão mínima is kept
("0,5" became "05" in an <input type=number>). Without JS every field is on the page."""

from decimal import Decimal

import pytest
from django.urls import reverse

from alarmes.models import RegraAlarme
from contas.models import Role
from tds_testing import factories
from tds_testing.browser import CHROMIUM, launch_chromium, login

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed"),
]

LEAK = ["#id_vazao_minima", "#id_janela_inicio", "#id_janela_fim", "#id_noites_para_encerrar"]
LIMIT = ["#id_grandeza", "#id_limite_superior", "#id_limite_inferior", "#id_histerese"]
ANOMALY = ["#id_modo_anomalia", "#id_fator_mediana", "#id_tolerancia_reset"]


def test_without_js_every_field_is_there(client, admin_a):
    client.force_login(admin_a)
    html = client.get(reverse("alarmes:regra_create")).content.decode()
    for sel in LEAK + LIMIT + ANOMALY + ["#id_intervalos", "#id_periodo", "#id_gateway"]:
        assert f'id="{sel[1:]}"' in html
    assert " hidden" not in html.split("<form", 1)[1].split("</form>", 1)[0]


def _focus_order(page) -> list[str]:
    page.focus("#id_tipo")
    seen = []
    for _ in range(40):
        page.keyboard.press("Tab")
        el = page.evaluate("document.activeElement.id || document.activeElement.name || ''")
        if el in seen:
            break
        seen.append(el)
    return seen


@pytest.mark.django_db(transaction=True)
def test_fields_follow_the_kind_and_decimal_comma_is_kept(live_server):
    from playwright.sync_api import sync_playwright

    conta = factories.make_conta(nome="Condomínio Regras")
    user = factories.make_member(conta=conta, role=Role.ADMIN).user
    gw = factories.make_gateway(conta=conta, codigo="GW-R")
    factories.make_dispositivo(gateway=gw, codigo="A01", tipo="AGUA")
    with sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 900}, locale="pt-BR")
            login(page, live_server.url, user.email)
            page.goto(live_server.url + reverse("alarmes:regra_create"))

            page.select_option("#id_tipo", "gateway_offline")
            assert page.is_visible("#id_gateway")
            assert page.is_visible("label[for=id_gateway]")
            for sel in LEAK + LIMIT + ANOMALY + ["#id_dispositivo", "#id_exclusoes"]:
                assert not page.is_visible(sel), sel
            assert not page.is_visible("label[for=id_vazao_minima]")
            order = _focus_order(page)
            assert "id_gateway" in order
            assert not {"id_vazao_minima", "id_modo_anomalia", "id_fator_mediana"} & set(order)

            page.select_option("#id_tipo", "vazamento")
            for sel in LEAK:
                assert page.is_visible(sel), sel
            for sel in LIMIT + ANOMALY + ["#id_intervalos"]:
                assert not page.is_visible(sel), sel
            assert page.is_visible("#id_vazao_minima_helptext")  # help stays with its field

            page.fill("#id_nome", "Vazamento noturno")
            page.select_option("#id_tipo_dispositivo", "AGUA")
            page.locator("#id_vazao_minima").fill("")
            page.locator("#id_vazao_minima").press_sequentially("0,5")
            assert page.input_value("#id_vazao_minima") == "0,5"
            page.click("button[name=salvar]")
            page.wait_for_url("**/alarmes/regras/")
        finally:
            browser.close()
    regra = RegraAlarme.objects.get(nome="Vazamento noturno")
    assert (regra.tipo, regra.vazao_minima) == ("vazamento", Decimal("0.5"))
