"""The demo's simulator drives only the demo's own gateways, continues each meter from its
last stored value, and stops for a gateway that is deleted or deactivated meanwhile."""

import os
import signal
import subprocess
import sys
import threading
import time
from decimal import Decimal as D
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from django.core.management import call_command
from django.db import connections
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from contas.models import Conta
from dispositivos import services as registry
from dispositivos.models import Gateway
from ingestao.simulator import Simulator, load_gateways
from tds_core import wire
from tds_testing import factories
from tds_testing.postgres import current_database_url
from tds_testing.readings import store_points, utc

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]


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


def _start_simulator(broker_url: str, *extra: str):
    env = dict(os.environ, DATABASE_URL=current_database_url(), MQTT_URL=broker_url)
    args = [sys.executable, str(ROOT / "manage.py"), "simulate_gateways", *extra]
    return subprocess.Popen(
        args, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _interrupt(proc) -> tuple[int, float, str]:
    """Ctrl-C: SIGINT, then (return code, seconds to exit, stderr)."""
    started = time.monotonic()
    proc.send_signal(signal.SIGINT)
    try:
        _out, err = proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        _out, err = proc.communicate()
        raise AssertionError(f"the simulator did not stop on SIGINT: {err}") from None
    return proc.returncode, time.monotonic() - started, err


@pytest.mark.slow
def test_ctrl_c_while_publishing_exits_0_without_a_traceback(demo, mosquitto):
    """`make run`'s simulator (Procfile) stops cleanly on Ctrl-C: exit code 0 within a few
    seconds, nothing on stderr that looks like a crash, and the gateways left offline."""
    status: dict[str, bytes] = {}
    telemetry: list[str] = []
    sub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)

    def on_message(client, userdata, msg):
        if msg.topic.endswith("/status"):
            status[msg.topic] = msg.payload
        else:
            telemetry.append(msg.topic)

    sub.on_message = on_message
    sub.connect("127.0.0.1", mosquitto.port)
    sub.subscribe("tds_new/devices/#", qos=1)
    sub.loop_start()
    proc = _start_simulator(mosquitto.url, "--conta", "demo", "--interval", "0.2")
    try:
        deadline = time.monotonic() + 30
        while not telemetry and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert telemetry, proc.poll() is not None and proc.communicate()
        code, seconds, err = _interrupt(proc)
        assert code == 0, err
        assert seconds < 5
        assert "Traceback" not in err, err
        assert "KeyboardInterrupt" not in err, err
        deadline = time.monotonic() + 5
        while set(status.values()) != {wire.OFFLINE} and time.monotonic() < deadline:
            time.sleep(0.05)
        assert status, "no status message seen"
        assert set(status.values()) == {wire.OFFLINE}, status
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
        sub.loop_stop()
        sub.disconnect()


@pytest.mark.slow
def test_ctrl_c_after_the_broker_stopped_exits_0_without_a_traceback(demo):
    """Ctrl-C on `make run` makes honcho stop every process at once: the broker may be gone
    before the simulator announces its gateways offline. It says so and exits 0 (it used to
    end with a paho traceback, "Message publish failed: The client is not currently
    connected"), and marks them offline in the registry itself (they stayed online until
    the next run's offline check)."""
    from tds_testing.mosquitto import PrivateMosquitto

    telemetry: list[str] = []
    # Online, as the consumer left them while the simulator ran (no consumer here).
    with scopes_disabled():
        Gateway.objects.filter(conta=demo).update(is_online=True, last_seen=timezone.now())
    with PrivateMosquitto() as broker:
        sub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
        sub.on_message = lambda client, userdata, msg: telemetry.append(msg.topic)
        sub.connect("127.0.0.1", broker.port)
        sub.subscribe("tds_new/devices/+/telemetry", qos=1)
        sub.loop_start()
        proc = _start_simulator(broker.url, "--conta", "demo", "--interval", "0.2")
        try:
            deadline = time.monotonic() + 30
            while not telemetry and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.05)
            assert telemetry, proc.poll() is not None and proc.communicate()
            sub.loop_stop()
            sub.disconnect()
            broker.stop()
            code, seconds, err = _interrupt(proc)
            assert code == 0, err
            assert seconds < 10
            assert "Traceback" not in err, err
            assert "not announced offline" in err, err
            # ...and yet the registry says they are offline: nothing else would (the
            # consumer and the beat job stop with it), until the next run.
            with scopes_disabled():
                states = set(Gateway.objects.filter(conta=demo).values_list("is_online", flat=True))
            assert states == {False}
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()


def test_meters_continue_at_the_demo_historys_pace_from_their_last_reading():
    """`make run` seeds hourly history up to the hour before it starts, then the simulator
    sends a reading every 10 s: an hour of it adds what an hour of history adds (a weekday
    10:00–11:00 in the building: 8 kWh ± 20 %, 0.08 m³ of water, 0.01 m³ of gas), and its
    first reading counts the time since the meter's last stored one. It used to add 72 kWh
    an hour (the dashboard's "Hoje" and the hour's bar ballooned within minutes) and to
    count nothing for the time before it started."""
    import datetime as dt
    import random

    from django.utils import timezone

    from ingestao.simulator import SimDevice

    start = timezone.make_aware(dt.datetime(2026, 11, 30, 10, 0))  # a Monday, local
    rng = random.Random(7)
    meters = {
        tipo: SimDevice("D", tipo, D(1), 100.0, last=start - dt.timedelta(minutes=30))
        for tipo in ("ENERGIA", "AGUA", "GAS")
    }
    for m in meters.values():
        m.step(start, rng)  # the first reading: the half hour since the last stored one
    assert meters["ENERGIA"].value - 100 == pytest.approx(4.0, rel=0.2)
    after_gap = {tipo: m.value for tipo, m in meters.items()}
    for i in range(1, 361):  # an hour of readings every 10 s
        for m in meters.values():
            m.step(start + dt.timedelta(seconds=10 * i), rng)
    hour = {tipo: m.value - after_gap[tipo] for tipo, m in meters.items()}
    assert hour["ENERGIA"] == pytest.approx(8.0, rel=0.2)
    assert hour["AGUA"] == pytest.approx(0.08, rel=0.2)
    assert hour["GAS"] == pytest.approx(0.01, rel=0.2)


@pytest.mark.slow
def test_the_demo_gateways_report_diagnostics_like_an_agent(demo, mosquitto, client, tmp_path):
    """The demo's gateway page shows the agent's panel filled ("Configuração em dia", the
    diagnostics line and each meter's counters), not "Sem diagnóstico": the simulator
    publishes what a healthy agent publishes, and the real consumer stores it."""
    from contas.models import Role
    from ingestao.models import DiagnosticoGateway
    from tds_testing.waiting import wait_for

    from .helpers import start_consumer, stop, wait_connected

    with scopes_disabled():
        gw = Gateway.objects.get(mac="02:00:00:de:00:01")
    log = tmp_path / "consumer.log"
    consumer = start_consumer(mosquitto.port, log_path=log)
    try:
        wait_connected(log)
        sim = Simulator(url=mosquitto.url, gateways=load_gateways())
        sim.diagnostics_every = 0.5
        result = {}
        thread = threading.Thread(
            target=lambda: result.setdefault("n", sim.run(interval=0.1, duration=2))
        )
        thread.start()
        thread.join(timeout=20)
        diag = wait_for(
            lambda: DiagnosticoGateway.objects.filter(gateway_id=gw.pk).first(),
            timeout=15,
            what="the simulated gateway's diagnostics",
        )
    finally:
        assert stop(consumer) == 0
        connections.close_all()
    assert diag.config_versao == gw.config_versao
    assert diag.outbox_pendentes == 0
    client.force_login(factories.make_member(conta=demo, role=Role.LEITOR).user)
    page = client.get(reverse("dispositivos:gateway_detail", args=[gw.pk])).content.decode()
    assert "Configuração em dia" in page
    assert "Sem diagnóstico" not in page
    assert 'data-testid="agent-health"' in page
    assert (
        page.count('data-testid="agent-device"') == gw.dispositivos.filter(is_active=True).count()
    )
