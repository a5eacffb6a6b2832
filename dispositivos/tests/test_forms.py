"""Each validation error, as a user sees it: on its own field of the rendered form
(Bootstrap is-invalid + invalid-feedback), nothing saved, typed values kept."""

from decimal import Decimal

import pytest
from django.urls import reverse

from dispositivos.models import Dispositivo, Gateway
from tds_testing import factories
from tds_testing.forms import field_error, fields_with_errors

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, admin_a):
    client.force_login(admin_a)
    return client


def _gateway_post(**over):
    data = {
        "codigo": "GW-NOVO",
        "nome": "Gateway novo",
        "mac": "aa:bb:cc:00:11:22",
        "qte_max_dispositivos": 8,
        "intervalo_envio_segundos": 60,
        "is_active": "on",
    }
    data.update(over)
    return data


def _post_gateway(client, **over):
    return client.post(reverse("dispositivos:gateway_create"), _gateway_post(**over))


def test_invalid_mac_error_on_mac_field(admin_client):
    response = _post_gateway(admin_client, mac="aa:bb:cc:dd:ee")
    assert response.status_code == 200
    assert "MAC inválido" in field_error(response, "mac")
    assert fields_with_errors(response) == {"mac"}
    assert 'value="aa:bb:cc:dd:ee"' in response.content.decode()  # nothing the user typed is lost
    assert not Gateway.objects.exists()


def test_mac_of_another_account_error_on_mac_field_without_naming_it(admin_client, conta_b):
    other = factories.make_gateway(conta=conta_b, codigo="SEGREDO-B", mac="aa:bb:cc:00:11:22")
    response = _post_gateway(admin_client, mac="AABBCC001122")
    message = field_error(response, "mac")
    assert message == "Este endereço MAC já está cadastrado na plataforma."
    html = response.content.decode()
    assert conta_b.nome not in html
    assert other.codigo not in html
    assert Gateway.objects.count() == 1


def test_duplicate_gateway_codigo_error_on_codigo_field(admin_client, conta_a):
    factories.make_gateway(conta=conta_a, codigo="GW-NOVO")
    response = _post_gateway(admin_client)
    assert response.status_code == 200  # not a 500 IntegrityError
    assert field_error(response, "codigo") == "Já existe um gateway com este código nesta conta."
    assert fields_with_errors(response) == {"codigo"}


def test_required_fields_errors_on_their_fields(admin_client):
    response = _post_gateway(admin_client, codigo="", nome="", mac="")
    assert fields_with_errors(response) == {"codigo", "nome", "mac"}


def test_gateway_edit_lowering_maximum_below_devices_error_on_field(admin_client, conta_a):
    gw = factories.make_gateway(conta=conta_a, qte_max_dispositivos=4)
    for _ in range(3):
        factories.make_dispositivo(gateway=gw)
    response = admin_client.post(
        reverse("dispositivos:gateway_update", args=[gw.pk]),
        _gateway_post(codigo=gw.codigo, mac=gw.mac, qte_max_dispositivos=2),
    )
    assert "3 dispositivos" in field_error(response, "qte_max_dispositivos")
    gw.refresh_from_db()
    assert gw.qte_max_dispositivos == 4


@pytest.fixture
def gw(conta_a):
    return factories.make_gateway(conta=conta_a, codigo="GW-A")


def _device_post(gateway, **over):
    data = {
        "gateway": gateway.pk,
        "codigo": "D01",
        "nome": "",
        "tipo": "ENERGIA",
        "tipo_medidor": "",
        "slave_id": 1,
        "register_modbus": 0,
        "fator_conversao": "1",
        "unidade": "",
        "is_active": "on",
    }
    data.update(over)
    return data


def _post_device(client, gateway, **over):
    return client.post(reverse("dispositivos:dispositivo_create"), _device_post(gateway, **over))


@pytest.mark.parametrize(
    ("field", "value", "text"),
    [
        ("slave_id", 0, "maior ou igual a 1"),
        ("slave_id", 248, "menor ou igual a 247"),
        ("register_modbus", -1, "maior ou igual a 0"),
        ("register_modbus", 65536, "menor ou igual a 65535"),
        ("fator_conversao", "0", "maior que zero"),
        ("fator_conversao", "-2", "maior que zero"),
        ("tipo", "VAPOR", "escolha válida"),
    ],
)
def test_device_range_errors_on_their_field(admin_client, gw, field, value, text):
    response = _post_device(admin_client, gw, **{field: value})
    assert text in field_error(response, field)
    assert fields_with_errors(response) == {field}
    assert not Dispositivo.objects.exists()


def test_duplicate_slave_id_error_on_slave_id(admin_client, gw):
    factories.make_dispositivo(gateway=gw, codigo="D01", slave_id=7)
    response = _post_device(admin_client, gw, codigo="D02", slave_id=7)
    assert "slave id" in field_error(response, "slave_id")
    assert fields_with_errors(response) == {"slave_id"}


def test_duplicate_device_codigo_error_on_codigo(admin_client, gw):
    factories.make_dispositivo(gateway=gw, codigo="D01", slave_id=1)
    response = _post_device(admin_client, gw, codigo="D01", slave_id=2)
    assert (
        field_error(response, "codigo") == "Já existe um dispositivo com este código neste gateway."
    )
    assert fields_with_errors(response) == {"codigo"}


def test_full_gateway_error_on_gateway_field(admin_client, conta_a):
    full = factories.make_gateway(conta=conta_a, codigo="CHEIO", qte_max_dispositivos=1)
    factories.make_dispositivo(gateway=full)
    response = _post_device(admin_client, full, codigo="D09", slave_id=9)
    assert "máximo de 1" in field_error(response, "gateway")
    assert Dispositivo.objects.filter(gateway=full).count() == 1


def test_device_gateway_choices_are_only_the_active_accounts(admin_client, gw, conta_b):
    foreign = factories.make_gateway(conta=conta_b, codigo="GW-DE-B")
    page = admin_client.get(reverse("dispositivos:dispositivo_create"))
    choices = [value for value, _ in page.context["form"].fields["gateway"].choices if value]
    assert [int(str(v)) for v in choices] == [gw.pk]
    assert "GW-DE-B" not in page.content.decode()
    # Posting another account's gateway id is "not a valid choice", on the gateway field.
    response = _post_device(admin_client, foreign)
    assert "escolha válida" in field_error(response, "gateway")
    assert not Dispositivo.objects.exists()


def test_all_errors_show_on_the_first_submit(admin_client, gw):
    """Range and format errors appear together with "required" ones, not one round later."""
    response = _post_device(admin_client, gw, tipo="", slave_id=300, register_modbus="")
    assert fields_with_errors(response) == {"tipo", "slave_id", "register_modbus"}
    gw_response = _post_gateway(admin_client, nome="", mac="xx")
    assert fields_with_errors(gw_response) == {"nome", "mac"}


def test_browser_asking_for_english_still_gets_portuguese(admin_client, gw):
    response = admin_client.post(
        reverse("dispositivos:dispositivo_create"),
        _device_post(gw, tipo=""),
        HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9",
    )
    assert field_error(response, "tipo") == "Este campo é obrigatório."


def test_device_takes_decimals_as_a_brazilian_types_them(admin_client, gw):
    response = _post_device(admin_client, gw, fator_conversao="0,01")
    assert response.status_code == 302, fields_with_errors(response)
    assert Dispositivo.objects.get().fator_conversao == Decimal("0.01")
    page = admin_client.get(
        reverse("dispositivos:dispositivo_update", args=[Dispositivo.objects.get().pk])
    )
    assert 'value="0,010000"' in page.content.decode()  # shown back with a comma


def test_device_ambiguous_factor_is_refused_on_its_field(admin_client, gw):
    response = _post_device(admin_client, gw, fator_conversao="1.234")
    assert "Número ambíguo" in field_error(response, "fator_conversao")
    assert not Dispositivo.objects.exists()


def test_gateway_takes_coordinates_with_a_comma(admin_client):
    response = _post_gateway(admin_client, latitude="-23,550520", longitude="-46,633308")
    assert response.status_code == 302, fields_with_errors(response)
    gw = Gateway.objects.get()
    assert (gw.latitude, gw.longitude) == (Decimal("-23.550520"), Decimal("-46.633308"))
