"""The demo's simulator drives only the demo's own gateways, continues each meter from its
last stored value, and stops for a gateway that is deleted or deactivated meanwhile."""

import threading
import time
from decimal import Decimal as D

import paho.mqtt.client as mqtt
import pytest
from django.core.management import call_command
from django.db import connections
from django_scopes import scopes_disabled

from contas.models import Conta
from dispositivos import services as registry
from dispositivos.models import Gateway
from ingestao.simulator import Simulator, load_gateways
from tds_testing import factories
from tds_testing.readings import store_points, utc

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def demo():
    call_command("seed_demo", gateways=2)
    with scopes_disabled():
        return Conta.objects.get(slug="demo")


def test_only_the_demos_gateways_are_simulated(demo, conta_a):
    own = factories.make_gateway(conta=conta_a, codigo="GW-REAL")
    factories.make_dispositivo(gateway=own)
    with scopes_disabled():
        assert set(Gateway.objects.filter(simulado=True).values_list("conta_id", flat=True)) == {
            demo.pk
        }
    macs = {g.mac for g in load_gateways()}
    assert macs == {"02:00:00:de:00:01", "02:00:00:de:00:02"}
    assert own.mac not in macs


def test_each_meter_continues_from_its_last_stored_value(demo):
    with scopes_disabled():
        gw = Gateway.objects.get(mac="02:00:00:de:00:01")
        energia = gw.dispositivos.get(codigo="D01")
    store_points(energia, [(utc(2026, 11, 1, 10), D("709.32"))])
    (sim_gw,) = [g for g in load_gateways() if g.mac == gw.mac]
    d01 = next(d for d in sim_gw.devices if d.codigo == "D01")
    assert d01.value == pytest.approx(709.32)


def test_stops_for_a_deleted_and_an_inactive_gateway(demo, mosquitto):
    with scopes_disabled():
        gw1 = Gateway.objects.get(mac="02:00:00:de:00:01")
        gw2 = Gateway.objects.get(mac="02:00:00:de:00:02")
    seen: list[str] = []
    sub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    sub.on_message = lambda c, u, m: seen.append(m.topic)
    sub.connect("127.0.0.1", mosquitto.port)
    sub.subscribe("tds_new/devices/+/telemetry", qos=1)
    sub.loop_start()
    sim = Simulator(url=mosquitto.url, gateways=load_gateways())
    sim.recheck_every = 0.2
    result = {}

    def run():
        try:
            result["n"] = sim.run(interval=0.1, duration=30)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not any(gw1.mac in t for t in seen) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert any(gw1.mac in t for t in seen)
        registry.gateway_update(gateway=gw2, is_active=False)
        with scopes_disabled():
            Gateway.objects.get(pk=gw1.pk).delete()
        thread.join(timeout=10)
        assert not thread.is_alive()  # nothing left to simulate: it ended by itself
    finally:
        sub.loop_stop()
        sub.disconnect()
    assert sim.gateways == []
