"""Every registry page as each role: admin, operador, leitor, anonymous."""

import pytest
from django.urls import reverse

from dispositivos.models import Dispositivo, Gateway
from tds_testing import factories

pytestmark = pytest.mark.django_db

EDITORS = ["admin", "operador"]
ROLES = ["admin", "operador", "leitor"]


def _read_urls(gw, d):
    return [
        reverse("dispositivos:gateway_list"),
        reverse("dispositivos:gateway_detail", args=[gw.pk]),
        reverse("dispositivos:dispositivo_list"),
        reverse("dispositivos:dispositivo_detail", args=[d.pk]),
    ]


def _write_urls(gw, d):
    return [
        reverse("dispositivos:gateway_create"),
        reverse("dispositivos:gateway_update", args=[gw.pk]),
        reverse("dispositivos:gateway_delete", args=[gw.pk]),
        reverse("dispositivos:dispositivo_create"),
        reverse("dispositivos:dispositivo_update", args=[d.pk]),
        reverse("dispositivos:dispositivo_delete", args=[d.pk]),
    ]


def _snapshot():
    return (
        list(Gateway.objects.order_by("pk").values()),
        list(Dispositivo.objects.order_by("pk").values()),
    )


@pytest.mark.parametrize("role", ROLES)
def test_every_role_reads_every_registry_page(as_role, registry_a, role):
    client = as_role(role)
    for url in _read_urls(*registry_a):
        page = client.get(url)
        assert page.status_code == 200, url
        assert "GW-A" in page.content.decode(), url


@pytest.mark.parametrize("role", EDITORS)
def test_editors_open_every_form(as_role, registry_a, role):
    client = as_role(role)
    for url in _write_urls(*registry_a):
        assert client.get(url).status_code == 200, url


def test_leitor_gets_403_on_every_write_page_and_nothing_changes(as_role, registry_a):
    client = as_role("leitor")
    before = _snapshot()
    for url in _write_urls(*registry_a):
        assert client.get(url).status_code == 403, url
        assert client.post(url, {"codigo": "X", "nome": "X"}).status_code == 403, url
    assert _snapshot() == before


def test_anonymous_is_sent_to_login_from_every_page(as_role, registry_a):
    client = as_role(None)
    before = _snapshot()
    for url in _read_urls(*registry_a) + _write_urls(*registry_a):
        for response in (client.get(url), client.post(url, {})):
            assert response.status_code == 302, url
            assert response.url.startswith(reverse("login") + "?next="), url
    assert _snapshot() == before


def test_user_without_account_gets_403(client, registry_a):
    client.force_login(factories.make_user())
    assert client.get(reverse("dispositivos:gateway_list")).status_code == 403


def test_leitor_sees_no_edit_buttons(as_role, registry_a):
    gw, d = registry_a
    client = as_role("leitor")
    pages = [client.get(url).content.decode() for url in _read_urls(gw, d)]
    for url in _write_urls(gw, d):
        assert all(url not in html for html in pages), url
    assert all("Excluir" not in html for html in pages)


@pytest.mark.parametrize("role", EDITORS)
def test_editors_see_the_edit_buttons(as_role, registry_a, role):
    gw, _d = registry_a
    client = as_role(role)
    detail = client.get(reverse("dispositivos:gateway_detail", args=[gw.pk])).content.decode()
    assert reverse("dispositivos:gateway_update", args=[gw.pk]) in detail
    assert reverse("dispositivos:gateway_delete", args=[gw.pk]) in detail
    assert f"{reverse('dispositivos:dispositivo_create')}?gateway={gw.pk}" in detail


# Write flows ------------------------------------------------------------------------------


def _gateway_post(**over):
    data = {
        "codigo": "GW-NOVO",
        "nome": "Gateway novo",
        "mac": "AA-BB-CC-00-11-22",
        "descricao": "",
        "is_active": "on",
        "qte_max_dispositivos": 8,
        "intervalo_envio_segundos": 60,
        "latitude": "-23.55",
        "longitude": "-46.63",
    }
    data.update(over)
    return data


@pytest.mark.parametrize("role", EDITORS)
def test_create_gateway(as_role, conta_a, role):
    client = as_role(role)
    response = client.post(reverse("dispositivos:gateway_create"), _gateway_post(), follow=True)
    gw = Gateway.objects.get(codigo="GW-NOVO")
    assert gw.conta == conta_a
    assert gw.mac == "aa:bb:cc:00:11:22"
    assert response.redirect_chain[-1][0] == reverse("dispositivos:gateway_detail", args=[gw.pk])
    assert "Gateway salvo." in response.content.decode()


def test_edit_gateway(as_role, registry_a):
    gw, _ = registry_a
    client = as_role("operador")
    response = client.post(
        reverse("dispositivos:gateway_update", args=[gw.pk]),
        _gateway_post(codigo="GW-A", nome="Renomeado", mac=gw.mac),
        follow=True,
    )
    gw.refresh_from_db()
    assert gw.nome == "Renomeado"
    assert "Gateway salvo." in response.content.decode()


def test_delete_gateway_asks_for_confirmation_first(as_role, registry_a):
    gw, _ = registry_a
    client = as_role("admin")
    url = reverse("dispositivos:gateway_delete", args=[gw.pk])
    page = client.get(url)
    assert "Excluir o gateway" in page.content.decode()
    assert (
        "1 dispositivo" in page.content.decode()
        or "dispositivo deste gateway" in page.content.decode()
    )
    assert Gateway.objects.filter(pk=gw.pk).exists()
    response = client.post(url, follow=True)
    assert not Gateway.objects.filter(pk=gw.pk).exists()
    assert not Dispositivo.objects.filter(gateway_id=gw.pk).exists()
    assert response.redirect_chain[-1][0] == reverse("dispositivos:gateway_list")
    assert "GW-A excluído" in response.content.decode()


def _device_post(gateway, **over):
    data = {
        "gateway": gateway.pk,
        "codigo": "D02",
        "nome": "Hidrômetro",
        "tipo": "AGUA",
        "tipo_medidor": "",
        "slave_id": 2,
        "register_modbus": 100,
        "fator_conversao": "0.001",
        "unidade": "",
        "is_active": "on",
    }
    data.update(over)
    return data


@pytest.mark.parametrize("role", EDITORS)
def test_create_device_with_type_defaults(as_role, registry_a, role):
    gw, _ = registry_a
    client = as_role(role)
    response = client.post(
        reverse("dispositivos:dispositivo_create"), _device_post(gw), follow=True
    )
    d = Dispositivo.objects.get(gateway=gw, codigo="D02")
    assert (d.unidade, d.tipo_medidor, d.conta_id) == ("m³", "ACUMULADO", gw.conta_id)
    assert "Dispositivo salvo." in response.content.decode()


def test_add_device_link_preselects_the_gateway(as_role, registry_a):
    gw, _ = registry_a
    client = as_role("admin")
    page = client.get(reverse("dispositivos:dispositivo_create") + f"?gateway={gw.pk}")
    assert page.context["form"]["gateway"].value() == gw.pk


def test_edit_device(as_role, registry_a):
    gw, d = registry_a
    client = as_role("operador")
    client.post(
        reverse("dispositivos:dispositivo_update", args=[d.pk]),
        _device_post(gw, codigo="D01", slave_id=d.slave_id, tipo="ENERGIA", unidade="Wh"),
    )
    d.refresh_from_db()
    assert (d.nome, d.unidade, d.register_modbus) == ("Hidrômetro", "Wh", 100)


def test_delete_device_with_confirmation(as_role, registry_a):
    gw, d = registry_a
    client = as_role("operador")
    url = reverse("dispositivos:dispositivo_delete", args=[d.pk])
    assert "Excluir o dispositivo" in client.get(url).content.decode()
    assert Dispositivo.objects.filter(pk=d.pk).exists()
    response = client.post(url, follow=True)
    assert not Dispositivo.objects.filter(pk=d.pk).exists()
    assert Gateway.objects.filter(pk=gw.pk).exists()
    assert "D01 excluído" in response.content.decode()


def test_gateway_detail_lists_its_devices_only(as_role, conta_a, registry_a):
    gw, d = registry_a
    other = factories.make_gateway(conta=conta_a, codigo="GW-OUTRO")
    factories.make_dispositivo(gateway=other, codigo="D77", slave_id=77)
    page = as_role("leitor").get(reverse("dispositivos:gateway_detail", args=[gw.pk]))
    assert [x.pk for x in page.context["dispositivos"]] == [d.pk]
    assert "D77" not in page.content.decode()


# Lists: search, filters, pagination ----------------------------------------------------------


def test_gateway_list_paginates_25_and_keeps_filters(as_role, conta_a):
    for n in range(30):
        factories.make_gateway(conta=conta_a, codigo=f"BLOCO-{n:02d}", nome=f"Bloco {n}")
    factories.make_gateway(conta=conta_a, codigo="PORTARIA", nome="Portaria")
    client = as_role("leitor")
    url = reverse("dispositivos:gateway_list")
    page1 = client.get(url, {"q": "bloco", "ativo": "sim"})
    assert len(page1.context["page_obj"].object_list) == 25
    assert page1.context["page_obj"].paginator.count == 30
    html = page1.content.decode()
    assert "?q=bloco&amp;ativo=sim&amp;page=2" in html
    page2 = client.get(url, {"q": "bloco", "ativo": "sim", "page": 2})
    codigos = [g.codigo for g in page2.context["page_obj"]]
    assert codigos == [f"BLOCO-{n:02d}" for n in range(25, 30)]


@pytest.mark.parametrize("page", ["999", "0", "abc", "-1", ""])
def test_out_of_range_or_bad_page_numbers_do_not_fail(as_role, conta_a, page):
    factories.make_gateway(conta=conta_a)
    response = as_role("leitor").get(reverse("dispositivos:gateway_list"), {"page": page})
    assert response.status_code == 200
    assert len(response.context["page_obj"].object_list) == 1


def test_gateway_list_status_filter(as_role, conta_a):
    on = factories.make_gateway(conta=conta_a, codigo="ON")
    off = factories.make_gateway(conta=conta_a, codigo="OFF")
    Gateway.objects.filter(pk=on.pk).update(is_online=True)
    client = as_role("leitor")
    url = reverse("dispositivos:gateway_list")
    assert [g.pk for g in client.get(url, {"status": "online"}).context["page_obj"]] == [on.pk]
    assert [g.pk for g in client.get(url, {"status": "offline"}).context["page_obj"]] == [off.pk]
    # An unknown filter value is ignored, not an error.
    assert client.get(url, {"status": "bogus"}).status_code == 200


def test_device_list_filters_by_tipo_and_gateway(as_role, conta_a, registry_a):
    gw, d = registry_a
    gw2 = factories.make_gateway(conta=conta_a)
    agua = factories.make_dispositivo(gateway=gw2, tipo="AGUA", codigo="A1", slave_id=3)
    client = as_role("leitor")
    url = reverse("dispositivos:dispositivo_list")
    assert [x.pk for x in client.get(url, {"tipo": "AGUA"}).context["page_obj"]] == [agua.pk]
    assert [x.pk for x in client.get(url, {"gateway": gw.pk}).context["page_obj"]] == [d.pk]
    assert [x.pk for x in client.get(url, {"q": "aurora"}).context["page_obj"]] == [d.pk]


def test_device_list_paginates_and_keeps_filters(as_role, conta_a):
    for _g in range(4):
        gw = factories.make_gateway(conta=conta_a, qte_max_dispositivos=8)
        for _ in range(8):
            factories.make_dispositivo(gateway=gw, tipo="AGUA")
    client = as_role("leitor")
    page = client.get(reverse("dispositivos:dispositivo_list"), {"tipo": "AGUA"})
    assert page.context["page_obj"].paginator.num_pages == 2
    assert "?tipo=AGUA&amp;page=2" in page.content.decode()
    page2 = client.get(reverse("dispositivos:dispositivo_list"), {"tipo": "AGUA", "page": 2})
    assert len(page2.context["page_obj"].object_list) == 7


def test_pages_are_in_portuguese_and_use_local_bootstrap(as_role, registry_a):
    html = as_role("admin").get(reverse("dispositivos:gateway_list")).content.decode()
    assert '<html lang="pt-br">' in html
    assert "Novo gateway" in html
    assert "/static/vendor/bootstrap-5.3.9/bootstrap.min.css" in html
    assert "cdn" not in html.lower()
    assert 'class="table-responsive"' in html


def test_other_apps_can_add_panels_to_the_gateway_page(as_role, registry_a, settings, tmp_path):
    from dispositivos import panels

    (tmp_path / "painel_teste.html").write_text(
        "<div data-testid='painel'>{{ gateway.codigo }} / {{ panel_context.extra }}</div>"
    )
    engine = {**settings.TEMPLATES[0], "DIRS": [*settings.TEMPLATES[0]["DIRS"], tmp_path]}
    settings.TEMPLATES = [engine, *settings.TEMPLATES[1:]]  # assignment resets the engines
    gw, d = registry_a
    panels.register_gateway_panel(
        slot="certificates",
        template_name="painel_teste.html",
        context=lambda request, gateway: {"extra": f"certs de {gateway.codigo}"},
    )
    (tmp_path / "painel_disp.html").write_text("<p>leituras de {{ dispositivo.codigo }}</p>")
    panels.register_gateway_panel(slot="dispositivo_telemetry", template_name="painel_disp.html")
    try:
        client = as_role("leitor")
        html = client.get(reverse("dispositivos:gateway_detail", args=[gw.pk])).content.decode()
        assert "GW-A / certs de GW-A" in html
        assert "leituras de" not in html
        html = client.get(reverse("dispositivos:dispositivo_detail", args=[d.pk])).content.decode()
        assert "leituras de D01" in html
        assert "certs de" not in html
    finally:
        panels.unregister_gateway_panel(template_name="painel_teste.html")
        panels.unregister_gateway_panel(template_name="painel_disp.html")
    with pytest.raises(ValueError, match="slot"):
        panels.register_gateway_panel(slot="nope", template_name="x.html")


def test_403_and_404_pages_are_in_portuguese(as_role, registry_a):
    gw, _ = registry_a
    client = as_role("leitor")
    forbidden = client.get(reverse("dispositivos:gateway_update", args=[gw.pk]))
    assert forbidden.status_code == 403
    assert "Acesso negado" in forbidden.content.decode()
    missing = client.get(reverse("dispositivos:gateway_detail", args=[gw.pk + 1000]))
    assert missing.status_code == 404
    assert "Página não encontrada" in missing.content.decode()


def test_device_list_of_a_big_account_filters_by_gateway_without_a_dropdown(
    client, admin_a, conta_a, settings, monkeypatch
):
    """Above GATEWAY_SELECT_MAX gateways the filter is no drop-down of every gateway (60 KB
    per page for 1,000); a link's ?gateway=<id> still filters."""
    from dispositivos.forms import DispositivoFilterForm

    monkeypatch.setattr(DispositivoFilterForm, "GATEWAY_SELECT_MAX", 2)
    gws = [factories.make_gateway(conta=conta_a, codigo=f"GW-L{n}") for n in range(3)]
    for gw in gws:
        factories.make_dispositivo(gateway=gw, codigo="D01")
    client.force_login(admin_a)
    html = client.get(reverse("dispositivos:dispositivo_list")).content.decode()
    assert '<select name="gateway"' not in html
    html = client.get(
        reverse("dispositivos:dispositivo_list"), {"gateway": gws[1].pk}
    ).content.decode()
    assert f'type="hidden" name="gateway" value="{gws[1].pk}"' in html
    assert "GW-L1" in html
    assert "GW-L0" not in html
