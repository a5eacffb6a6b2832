"""Registry validation and writes (services): each rule, with its error on the right field."""

import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django_scopes import scope

from dispositivos import services
from dispositivos.models import Dispositivo, Gateway, TipoMedidor
from tds_testing import factories

pytestmark = pytest.mark.django_db


def _errors(exc_info) -> dict[str, list[str]]:
    return exc_info.value.message_dict


# MAC -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed", ["AA:BB:CC:DD:EE:0F", "aa-bb-cc-dd-ee-0f", "aabbccddee0f", "  AABBCCDDEE0F "]
)
def test_mac_formats_are_accepted_and_stored_normalized(conta_a, typed):
    gw = services.gateway_create(conta=conta_a, codigo="GW1", nome="G", mac=typed)
    gw.refresh_from_db()
    assert gw.mac == "aa:bb:cc:dd:ee:0f"


@pytest.mark.parametrize("bad", ["aa:bb:cc:dd:ee", "zz:bb:cc:dd:ee:ff", "aa:bb-cc:dd:ee:ff", ""])
def test_invalid_mac_is_rejected_on_the_mac_field(conta_a, bad):
    with pytest.raises(ValidationError) as exc:
        services.gateway_create(conta=conta_a, codigo="GW1", nome="G", mac=bad)
    assert "mac" in _errors(exc)
    assert not Gateway.objects.exists()


def test_mac_is_unique_across_accounts_without_naming_the_other_account(conta_a, conta_b):
    services.gateway_create(conta=conta_a, codigo="GW1", nome="G", mac="aa:bb:cc:dd:ee:ff")
    with scope(conta=conta_b), pytest.raises(ValidationError) as exc:
        # Inside account B's scope, as in a request: the check must still see account A.
        services.gateway_create(conta=conta_b, codigo="GWX", nome="G", mac="AA-BB-CC-DD-EE-FF")
    message = " ".join(_errors(exc)["mac"])
    assert "já está cadastrado" in message
    assert conta_a.nome not in message
    assert "GW1" not in message
    assert Gateway.objects.filter(conta=conta_b).count() == 0


def test_mac_change_to_a_taken_one_is_rejected_on_update(conta_a, conta_b):
    factories.make_gateway(conta=conta_a, mac="02:00:00:00:aa:01")
    gw_b = factories.make_gateway(conta=conta_b)
    old_mac = gw_b.mac
    with scope(conta=conta_b), pytest.raises(ValidationError) as exc:
        services.gateway_update(gateway=gw_b, mac="02000000AA01")
    assert "mac" in _errors(exc)
    gw_b.refresh_from_db()
    assert gw_b.mac == old_mac


# codigo ----------------------------------------------------------------------------------


def test_gateway_codigo_is_unique_per_account_on_the_codigo_field(conta_a, conta_b):
    factories.make_gateway(conta=conta_a, codigo="GW-01")
    with scope(conta=conta_a), pytest.raises(ValidationError) as exc:
        services.gateway_create(conta=conta_a, codigo="GW-01", nome="G", mac=factories.make_mac())
    assert list(_errors(exc)) == ["codigo"]
    # The same codigo in another account is fine.
    with scope(conta=conta_b):
        services.gateway_create(conta=conta_b, codigo="GW-01", nome="G", mac=factories.make_mac())
    assert Gateway.objects.filter(codigo="GW-01").count() == 2


def test_integrity_error_race_on_codigo_becomes_a_field_error(conta_a):
    """A duplicate that slips past validation (a concurrent request) is still a field
    error from the database constraint, not a 500."""
    factories.make_gateway(conta=conta_a, codigo="GW-01")
    dup = Gateway(conta=conta_a, codigo="GW-01", nome="x", mac=factories.make_mac())
    with pytest.raises(ValidationError) as exc:
        services._save(dup)
    assert list(_errors(exc)) == ["codigo"]


def test_integrity_error_race_on_mac_becomes_a_field_error(conta_a, conta_b):
    gw = factories.make_gateway(conta=conta_a)
    dup = Gateway(conta=conta_b, codigo="GWX", nome="x", mac=gw.mac)
    with pytest.raises(ValidationError) as exc:
        services._save(dup)
    assert "já está cadastrado" in _errors(exc)["mac"][0]


# capacity --------------------------------------------------------------------------------


def test_gateway_cannot_hold_more_than_its_maximum(conta_a):
    gw = factories.make_gateway(conta=conta_a, qte_max_dispositivos=2)
    factories.make_dispositivo(gateway=gw)
    factories.make_dispositivo(gateway=gw)
    with pytest.raises(ValidationError) as exc:
        services.dispositivo_create(
            gateway=gw, codigo="D03", tipo="AGUA", slave_id=3, register_modbus=0
        )
    assert "máximo de 2" in _errors(exc)["gateway"][0]
    assert Dispositivo.objects.filter(gateway=gw).count() == 2


def test_maximum_cannot_be_lowered_below_the_current_devices(conta_a):
    gw = factories.make_gateway(conta=conta_a, qte_max_dispositivos=4)
    for _ in range(3):
        factories.make_dispositivo(gateway=gw)
    with pytest.raises(ValidationError) as exc:
        services.gateway_update(gateway=gw, qte_max_dispositivos=2)
    assert "qte_max_dispositivos" in _errors(exc)
    gw.refresh_from_db()
    assert gw.qte_max_dispositivos == 4


def test_moving_a_device_to_a_full_gateway_is_rejected(conta_a):
    full = factories.make_gateway(conta=conta_a, qte_max_dispositivos=1)
    factories.make_dispositivo(gateway=full)
    other = factories.make_gateway(conta=conta_a)
    d = factories.make_dispositivo(gateway=other, slave_id=9, codigo="D09")
    with pytest.raises(ValidationError) as exc:
        services.dispositivo_update(dispositivo=d, gateway=full)
    assert "gateway" in _errors(exc)
    d.refresh_from_db()
    assert d.gateway_id == other.pk


def test_device_cannot_move_to_another_accounts_gateway(conta_a, conta_b):
    d = factories.make_dispositivo(gateway=factories.make_gateway(conta=conta_a))
    foreign = factories.make_gateway(conta=conta_b)
    with pytest.raises(ValidationError) as exc:
        services.dispositivo_update(dispositivo=d, gateway=foreign)
    assert "gateway" in _errors(exc)
    d.refresh_from_db()
    assert d.gateway.conta_id == conta_a.pk


def _run_concurrently(*calls):
    """Runs each call in its own thread, released together; returns results/exceptions."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def worker(i, call):
        try:
            barrier.wait(timeout=10)
            results[i] = call()
        except Exception as exc:
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return results


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_requests_for_the_last_slot_exactly_one_wins(transactional_db):
    conta = factories.make_conta()
    gw = factories.make_gateway(conta=conta, qte_max_dispositivos=2)
    factories.make_dispositivo(gateway=gw)

    def add(codigo, slave):
        def call():
            with scope(conta=conta):  # as the middleware does for a request
                return services.dispositivo_create(
                    gateway=gw, codigo=codigo, tipo="ENERGIA", slave_id=slave, register_modbus=0
                )

        return call

    results = _run_concurrently(add("D10", 10), add("D11", 11))
    won = [r for r in results if isinstance(r, Dispositivo)]
    lost = [r for r in results if isinstance(r, ValidationError)]
    assert len(won) == 1, results
    assert len(lost) == 1, results
    assert "gateway" in lost[0].message_dict
    assert Dispositivo.objects.filter(gateway=gw).count() == 2


@pytest.mark.django_db(transaction=True)
def test_two_accounts_registering_the_same_mac_at_once_exactly_one_wins(transactional_db):
    contas = [factories.make_conta(), factories.make_conta()]

    def create(conta, codigo):
        def call():
            with scope(conta=conta):
                return services.gateway_create(
                    conta=conta, codigo=codigo, nome="G", mac="02:aa:bb:cc:dd:ee"
                )

        return call

    results = _run_concurrently(create(contas[0], "GA"), create(contas[1], "GB"))
    lost = [r for r in results if isinstance(r, ValidationError)]
    assert sum(isinstance(r, Gateway) for r in results) == 1, results
    assert len(lost) == 1, results
    assert "mac" in lost[0].message_dict
    assert Gateway.objects.filter(mac="02:aa:bb:cc:dd:ee").count() == 1


# device fields ---------------------------------------------------------------------------


@pytest.fixture
def gw(conta_a):
    return factories.make_gateway(conta=conta_a)


def _device(gw, **data):
    base = {"codigo": "D01", "tipo": "ENERGIA", "slave_id": 1, "register_modbus": 0}
    return services.dispositivo_create(gateway=gw, **{**base, **data})


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("slave_id", 0),
        ("slave_id", 248),
        ("register_modbus", -1),
        ("register_modbus", 65536),
        ("fator_conversao", Decimal(0)),
        ("fator_conversao", Decimal("-1.5")),
    ],
)
def test_out_of_range_device_values_are_rejected_on_their_field(gw, field, value):
    with pytest.raises(ValidationError) as exc:
        _device(gw, **{field: value})
    assert list(_errors(exc)) == [field]
    assert not Dispositivo.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [("slave_id", 1), ("slave_id", 247), ("register_modbus", 0), ("register_modbus", 65535)],
)
def test_range_limits_are_accepted(gw, field, value):
    assert _device(gw, **{field: value}).pk


def test_slave_id_is_unique_per_gateway(conta_a, gw):
    _device(gw, codigo="D01", slave_id=5)
    with pytest.raises(ValidationError) as exc:
        _device(gw, codigo="D02", slave_id=5)
    assert list(_errors(exc)) == ["slave_id"]
    # Same slave id on another gateway is fine.
    assert _device(factories.make_gateway(conta=conta_a), codigo="D02", slave_id=5).pk


def test_device_codigo_is_unique_per_gateway(conta_a, gw):
    _device(gw, codigo="D01", slave_id=1)
    with pytest.raises(ValidationError) as exc:
        _device(gw, codigo="D01", slave_id=2)
    assert list(_errors(exc)) == ["codigo"]
    assert _device(factories.make_gateway(conta=conta_a), codigo="D01", slave_id=2).pk


@pytest.mark.parametrize(
    ("tipo", "unidade", "medidor"),
    [
        ("ENERGIA", "kWh", TipoMedidor.ACUMULADO),
        ("AGUA", "m³", TipoMedidor.ACUMULADO),
        ("GAS", "m³", TipoMedidor.ACUMULADO),
        ("TEMP", "°C", TipoMedidor.INSTANTANEO),
    ],
)
def test_tipo_sets_default_unit_and_meter_kind_when_blank(gw, tipo, unidade, medidor):
    d = _device(gw, tipo=tipo, unidade="", tipo_medidor="")
    d.refresh_from_db()
    assert (d.unidade, d.tipo_medidor) == (unidade, medidor)


def test_explicit_unit_and_meter_kind_are_kept(gw):
    d = _device(gw, tipo="ENERGIA", unidade="Wh", tipo_medidor=TipoMedidor.INTERVALO)
    d.refresh_from_db()
    assert (d.unidade, d.tipo_medidor) == ("Wh", TipoMedidor.INTERVALO)


def test_device_conta_follows_its_gateway(gw):
    d = _device(gw)
    assert d.conta_id == gw.conta_id


def test_deleting_a_gateway_deletes_its_devices(gw):
    factories.make_dispositivo(gateway=gw)
    services.gateway_delete(gateway=gw)
    assert not Gateway.objects.filter(pk=gw.pk).exists()
    assert not Dispositivo.objects.exists()


def test_changing_tipo_moves_default_unit_and_kind_along(gw):
    d = _device(gw, tipo="AGUA")
    assert (d.unidade, d.tipo_medidor) == ("m³", TipoMedidor.ACUMULADO)
    services.dispositivo_update(
        dispositivo=d, tipo="TEMP", unidade=d.unidade, tipo_medidor=d.tipo_medidor
    )
    d.refresh_from_db()
    assert (d.unidade, d.tipo_medidor) == ("°C", TipoMedidor.INSTANTANEO)


def test_changing_tipo_keeps_a_custom_unit(gw):
    d = _device(gw, tipo="ENERGIA", unidade="Wh")
    services.dispositivo_update(dispositivo=d, tipo="GAS", unidade="Wh")
    d.refresh_from_db()
    assert d.unidade == "Wh"
