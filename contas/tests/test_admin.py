"""The Django admin works for every registry and account model (platform operator)."""

import pytest
from django.urls import reverse

from contas.models import Conta, ContaMembership, CustomUser
from dispositivos.models import Dispositivo, Gateway
from tds_testing import factories

pytestmark = pytest.mark.django_db

MODELS = [CustomUser, Conta, ContaMembership, Gateway, Dispositivo]


@pytest.fixture
def superuser_client(client):
    user = CustomUser.objects.create_superuser(email="root@example.com", password="x-Senha-2026")
    client.force_login(user)
    return client


@pytest.fixture
def data(conta_a, conta_b, admin_a):
    for conta in (conta_a, conta_b):
        factories.make_dispositivo(gateway=factories.make_gateway(conta=conta))


def _url(model, action, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{action}", args=args)


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_changelist_add_and_change_pages_open(superuser_client, data, model):
    assert superuser_client.get(_url(model, "changelist")).status_code == 200
    assert superuser_client.get(_url(model, "changelist"), {"q": "a"}).status_code == 200
    assert superuser_client.get(_url(model, "add")).status_code == 200
    obj = model.objects.first()
    assert superuser_client.get(_url(model, "change", obj.pk)).status_code == 200


def test_admin_lists_every_accounts_gateways(superuser_client, data):
    page = superuser_client.get(_url(Gateway, "changelist"))
    assert page.context["cl"].result_count == 2


def test_admin_adds_a_device_whose_conta_follows_the_gateway(superuser_client, conta_b):
    gw = factories.make_gateway(conta=conta_b)
    response = superuser_client.post(
        _url(Dispositivo, "add"),
        {
            "gateway": gw.pk,
            "codigo": "D05",
            "nome": "",
            "tipo": "AGUA",
            "tipo_medidor": "",
            "slave_id": 5,
            "register_modbus": 10,
            "fator_conversao": "1",
            "unidade": "",
            "is_active": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    d = Dispositivo.objects.get(codigo="D05")
    assert d.conta_id == conta_b.pk
    assert d.unidade == "m³"


def test_non_staff_member_cannot_use_the_admin(client, admin_a):
    client.force_login(admin_a)
    response = client.get(_url(Gateway, "changelist"))
    assert response.status_code == 302
