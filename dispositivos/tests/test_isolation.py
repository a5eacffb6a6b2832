"""Tenant isolation of the registry pages: account B's user asking for account A's ids
gets 404 (never 403, never data) and nothing changes; lists never show A's rows."""

import pytest
from django.urls import reverse

from dispositivos.models import Dispositivo, Gateway
from tds_testing import factories

pytestmark = pytest.mark.django_db

ID_URLS = [
    ("dispositivos:gateway_detail", "gateway"),
    ("dispositivos:gateway_update", "gateway"),
    ("dispositivos:gateway_delete", "gateway"),
    ("dispositivos:dispositivo_detail", "dispositivo"),
    ("dispositivos:dispositivo_update", "dispositivo"),
    ("dispositivos:dispositivo_delete", "dispositivo"),
]


def _snapshot():
    return (
        list(Gateway.objects.order_by("pk").values()),
        list(Dispositivo.objects.order_by("pk").values()),
    )


@pytest.fixture
def b_client(client, admin_b, conta_b):
    # B has its own registry too, so that "nothing found" is not the empty case.
    factories.make_dispositivo(gateway=factories.make_gateway(conta=conta_b, codigo="GW-B"))
    client.force_login(admin_b)
    return client


@pytest.mark.parametrize(("name", "kind"), ID_URLS)
def test_another_accounts_id_is_404_and_changes_nothing(b_client, registry_a, name, kind):
    gw, d = registry_a
    url = reverse(name, args=[gw.pk if kind == "gateway" else d.pk])
    before = _snapshot()
    get = b_client.get(url)
    assert get.status_code == 404
    assert gw.codigo not in get.content.decode()
    post = b_client.post(
        url,
        {
            "codigo": "HACK",
            "nome": "HACK",
            "mac": "02:00:00:00:00:99",
            "qte_max_dispositivos": 8,
            "intervalo_envio_segundos": 60,
            "gateway": gw.pk,
            "tipo": "AGUA",
            "slave_id": 99,
            "register_modbus": 1,
            "fator_conversao": "1",
        },
    )
    assert post.status_code == 404
    assert _snapshot() == before


def test_missing_id_is_the_same_404(b_client):
    assert b_client.get(reverse("dispositivos:gateway_detail", args=[987654])).status_code == 404


def test_add_device_for_another_accounts_gateway_is_404(b_client, registry_a):
    gw, _ = registry_a
    url = reverse("dispositivos:dispositivo_create") + f"?gateway={gw.pk}"
    before = _snapshot()
    assert b_client.get(url).status_code == 404
    assert b_client.post(url, {"gateway": gw.pk, "codigo": "D99"}).status_code == 404
    assert _snapshot() == before


def test_lists_and_search_never_show_another_accounts_rows(b_client, registry_a):
    gw, d = registry_a
    pages = [
        b_client.get(reverse("dispositivos:gateway_list")),
        b_client.get(reverse("dispositivos:gateway_list"), {"q": gw.codigo}),
        b_client.get(reverse("dispositivos:gateway_list"), {"q": gw.mac}),
        b_client.get(reverse("dispositivos:dispositivo_list")),
        b_client.get(reverse("dispositivos:dispositivo_list"), {"q": "Quadro"}),
        b_client.get(reverse("dispositivos:dispositivo_list"), {"gateway": gw.pk}),
        b_client.get(reverse("dispositivos:dispositivo_create")),
    ]
    for page in pages:
        html = page.content.decode()
        assert page.status_code == 200
        # (the search term itself is echoed in the search box and page links)
        assert "Gateway Aurora" not in html
        assert "Quadro Aurora" not in html
        for obj in getattr(page.context.get("page_obj"), "object_list", []):
            assert obj.conta_id != gw.conta_id
    assert gw.mac not in pages[0].content.decode()
    assert [g.codigo for g in pages[0].context["page_obj"]] == ["GW-B"]
    # A filter naming A's gateway matches nothing rather than showing A's devices.
    assert list(pages[5].context["page_obj"]) != [d]


def test_user_in_both_accounts_sees_only_the_active_one(client, conta_a, conta_b, registry_a):
    user = factories.make_member(conta=conta_b).user
    factories.make_member(conta=conta_a, user=user, role="leitor")
    gw_b = factories.make_gateway(conta=conta_b, codigo="GW-B")
    client.force_login(user)
    client.post(reverse("contas:switch"), {"conta": conta_b.pk})
    gw_a, _ = registry_a
    assert client.get(reverse("dispositivos:gateway_detail", args=[gw_a.pk])).status_code == 404
    assert client.get(reverse("dispositivos:gateway_detail", args=[gw_b.pk])).status_code == 200
    client.post(reverse("contas:switch"), {"conta": conta_a.pk})
    assert client.get(reverse("dispositivos:gateway_detail", args=[gw_a.pk])).status_code == 200
    assert client.get(reverse("dispositivos:gateway_detail", args=[gw_b.pk])).status_code == 404
