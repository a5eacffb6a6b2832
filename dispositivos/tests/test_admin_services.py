"""Issue 12 item 7: the admin cannot move a gateway to another account, and writes the
registry through the same services as the pages.

Before: changing a gateway's account in the admin left its devices and certificates in
the old account (whose members kept reading the new owner's readings), and the admin's
saves skipped the capacity check and the registry change notice.
"""

import time

import pytest
import redis
from django.conf import settings
from django.urls import reverse
from django_scopes import scopes_disabled

from contas.models import CustomUser
from dispositivos.events import registry_channel
from dispositivos.models import Dispositivo, Gateway
from tds_testing import factories

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def staff(client):
    user = CustomUser.objects.create_superuser(email="root@example.com", password="x-Senha-2026")
    client.force_login(user)
    return client


def _gateway_post(gateway, **changes) -> dict:
    data = {
        "conta": gateway.conta_id,
        "codigo": gateway.codigo,
        "nome": gateway.nome,
        "mac": gateway.mac,
        "descricao": "",
        "is_active": "on",
        "qte_max_dispositivos": gateway.qte_max_dispositivos,
        "intervalo_envio_segundos": gateway.intervalo_envio_segundos,
        "latitude": "",
        "longitude": "",
        "dispositivos-TOTAL_FORMS": "0",
        "dispositivos-INITIAL_FORMS": "0",
    }
    data.update(changes)
    return data


@pytest.fixture
def registry_notices():
    """Registry change notices heard on the real Redis channel the consumers listen to."""
    client = redis.Redis.from_url(settings.REDIS_URL)
    pubsub = client.pubsub()
    pubsub.subscribe(registry_channel())
    pubsub.get_message(timeout=5)  # the subscribe confirmation

    def wait_for(conta_id, timeout=5.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            message = pubsub.get_message(timeout=0.2)
            if (
                message
                and message["type"] == "message"
                and message["data"] == str(conta_id).encode()
            ):
                return True
        return False

    yield wait_for
    pubsub.close()
    client.close()


def test_the_account_of_a_gateway_is_read_only_in_the_admin(staff, conta_a, conta_b):
    gw = factories.make_gateway(conta=conta_a)
    factories.make_dispositivo(gateway=gw)
    url = reverse("admin:dispositivos_gateway_change", args=[gw.pk])
    page = staff.get(url)
    assert 'name="conta"' not in page.content.decode()
    response = staff.post(url, _gateway_post(gw, conta=conta_b.pk, nome="renomeado"))
    assert response.status_code == 302
    with scopes_disabled():
        gw.refresh_from_db()
        assert (gw.conta_id, gw.nome) == (conta_a.pk, "renomeado")
        assert set(Dispositivo.objects.filter(gateway=gw).values_list("conta_id", flat=True)) == {
            conta_a.pk
        }


def test_admin_gateway_edit_runs_the_services_checks_and_notices(staff, conta_a, registry_notices):
    gw = factories.make_gateway(conta=conta_a, qte_max_dispositivos=4)
    factories.make_dispositivo(gateway=gw)
    factories.make_dispositivo(gateway=gw)
    url = reverse("admin:dispositivos_gateway_change", args=[gw.pk])
    response = staff.post(url, _gateway_post(gw, qte_max_dispositivos=1))
    assert response.status_code == 200
    assert "o máximo não pode ser menor" in response.content.decode()
    with scopes_disabled():
        assert Gateway.objects.get(pk=gw.pk).qte_max_dispositivos == 4
    response = staff.post(url, _gateway_post(gw, nome="novo"))
    assert response.status_code == 302
    assert registry_notices(conta_a.pk), "no registry change notice for the consumers"


def test_admin_cannot_add_a_device_past_the_gateway_capacity(staff, conta_a):
    gw = factories.make_gateway(conta=conta_a, qte_max_dispositivos=1)
    factories.make_dispositivo(gateway=gw)
    response = staff.post(
        reverse("admin:dispositivos_dispositivo_add"),
        {
            "gateway": gw.pk,
            "codigo": "D09",
            "nome": "",
            "tipo": "AGUA",
            "tipo_medidor": "",
            "slave_id": 9,
            "register_modbus": 0,
            "fator_conversao": "1",
            "unidade": "",
            "is_active": "on",
        },
    )
    assert response.status_code == 200
    assert "já tem o máximo de 1 dispositivos" in response.content.decode()
    with scopes_disabled():
        assert Dispositivo.objects.filter(gateway=gw).count() == 1


def test_admin_cannot_move_a_device_to_another_accounts_gateway(staff, conta_a, conta_b):
    gw_a = factories.make_gateway(conta=conta_a)
    gw_b = factories.make_gateway(conta=conta_b)
    d = factories.make_dispositivo(gateway=gw_a)
    response = staff.post(
        reverse("admin:dispositivos_dispositivo_change", args=[d.pk]),
        {
            "gateway": gw_b.pk,
            "codigo": d.codigo,
            "nome": "",
            "tipo": d.tipo,
            "tipo_medidor": d.tipo_medidor,
            "slave_id": d.slave_id,
            "register_modbus": d.register_modbus,
            "fator_conversao": str(d.fator_conversao),
            "unidade": d.unidade,
            "is_active": "on",
        },
    )
    assert response.status_code == 200
    with scopes_disabled():
        d.refresh_from_db()
    assert (d.gateway_id, d.conta_id) == (gw_a.pk, conta_a.pk)


def test_admin_deletes_a_gateway_through_the_service(staff, conta_a, registry_notices):
    gw = factories.make_gateway(conta=conta_a)
    response = staff.post(
        reverse("admin:dispositivos_gateway_delete", args=[gw.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    with scopes_disabled():
        assert not Gateway.objects.filter(pk=gw.pk).exists()
    assert registry_notices(conta_a.pk)
