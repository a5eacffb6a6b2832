"""tds-gateway end to end with real parts: pymodbus servers as meters (TCP, and RTU on a
pseudo-terminal pair), the agent as a process with a certificate from our CA, the
generated Mosquitto (mTLS + ACL), the consumer process and the database."""

import datetime as dt
import json
import time
from decimal import Decimal

import pytest
from django.urls import reverse
from tds_gateway.decode import encode

from contas.models import Role
from ingestao.models import DiagnosticoGateway
from tds_testing import factories
from tds_testing.meters import MeterServer, PtyPair
from tds_testing.waiting import wait_for
from telemetria.models import LeituraDispositivo

from .agent_rig import AgentProcess, Platform

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def platform(tmp_path, settings):
    p = Platform(tmp_path, settings)
    yield p
    p.close()


@pytest.fixture
def meters():
    started = []

    def make(**kw):
        m = MeterServer(**kw).start()
        started.append(m)
        return m

    yield make
    for m in started:
        m.stop()


def _latest(device):
    return LeituraDispositivo.objects.filter(dispositivo_id=device.pk).order_by("-time").first()


def _diag(gateway):
    return DiagnosticoGateway.objects.filter(gateway_id=gateway.pk).first()


def test_register_values_reach_the_database_and_the_gateway_page(platform, meters, client):
    conta = factories.make_conta()
    gw = factories.make_gateway(conta=conta, intervalo_envio_segundos=1)
    tcp = meters(slave_ids=[1, 3])
    pty = PtyPair()
    rtu = meters(slave_ids=[7], serial_port=pty.meter_end)
    try:
        tcp.set(1, 10, encode(70_000, "uint32", "big"))  # -> 700.00 kWh with factor 0.01
        tcp.set(3, 2, encode(-125, "int16"), funcao="input")  # -> -12.5 °C with factor 0.1
        rtu.set(7, 20, encode(1234.5, "float32", "little"), funcao="input")
        d1 = factories.make_dispositivo(
            gateway=gw, codigo="D01", slave_id=1, register_modbus=10, tipo_dado="uint32",
            fator_conversao=Decimal("0.01"), modbus_host="127.0.0.1", modbus_porta=tcp.port,
        )  # fmt: skip
        d2 = factories.make_dispositivo(
            gateway=gw, codigo="D02", tipo="TEMP", slave_id=3, register_modbus=2,
            tipo_dado="int16", funcao_modbus="INPUT", fator_conversao=Decimal("0.1"),
            modbus_host="127.0.0.1", modbus_porta=tcp.port,
        )  # fmt: skip
        d3 = factories.make_dispositivo(
            gateway=gw, codigo="D03", tipo="AGUA", slave_id=7, register_modbus=20,
            tipo_dado="float32", ordem_palavras="LITTLE", funcao_modbus="INPUT",
        )  # fmt: skip
        crt, key = platform.gateway_identity(gw)
        platform.start_consumer()
        agent = AgentProcess(platform, crt=crt, key=key, serial_port=pty.agent_end).start()
        try:
            wait_for(
                lambda: all(_latest(d) for d in (d1, d2, d3)),
                timeout=40,
                what=f"a reading of each device; agent log:\n{agent.tail()}",
            )
            assert _latest(d1).valor == Decimal("700.00")
            assert _latest(d2).valor == Decimal("-12.5")
            assert _latest(d3).valor == Decimal("1234.5")
            gw.refresh_from_db()
            assert gw.is_online
            diag = wait_for(lambda: _diag(gw), timeout=10, what="diagnostics")
            assert diag.config_versao == gw.config_versao
            # What a user of the account sees: the dashboard's latest readings and the
            # gateway page saying the agent runs the current configuration.
            client.force_login(factories.make_member(conta=conta, role=Role.LEITOR).user)
            latest = client.get("/telemetria/api/v1/leituras/ultimas/?limite=10").json()
            assert "700" in str(latest)
            assert "1234.5" in str(latest)
            page = client.get(reverse("dispositivos:gateway_detail", args=[gw.pk]))
            assert "Configuração em dia" in page.content.decode()
        finally:
            agent.stop()
        assert agent.proc.returncode == 0
        assert agent.outbox_depth() == 0
    finally:
        pty.close()


def test_registry_change_is_polled_within_one_interval_and_a_dead_meter_shows_in_diagnostics(
    platform, meters, client
):
    conta = factories.make_conta()
    gw = factories.make_gateway(conta=conta, intervalo_envio_segundos=2)
    m1, m2 = meters(slave_ids=[1]), meters(slave_ids=[2])
    m1.set(1, 0, [11])
    m1.set(1, 5, [55])
    m2.set(2, 0, [22])
    d1 = factories.make_dispositivo(
        gateway=gw, codigo="D01", slave_id=1, register_modbus=0,
        modbus_host="127.0.0.1", modbus_porta=m1.port,
    )  # fmt: skip
    d2 = factories.make_dispositivo(
        gateway=gw, codigo="D02", slave_id=2, register_modbus=0,
        modbus_host="127.0.0.1", modbus_porta=m2.port,
    )  # fmt: skip
    crt, key = platform.gateway_identity(gw)
    platform.start_consumer()
    agent = AgentProcess(platform, crt=crt, key=key).start()
    try:
        wait_for(lambda: _latest(d1) and _latest(d2), timeout=40, what=agent.tail())
        assert _latest(d1).valor == Decimal(11)

        # A registry change in the UI (the device's edit form, as an operator): the agent
        # polls the new register within one interval (2 s) of the next tick.
        client.force_login(factories.make_member(conta=conta, role=Role.OPERADOR).user)
        form = {
            "gateway": gw.pk, "codigo": "D01", "nome": "", "tipo": "ENERGIA",
            "tipo_medidor": "", "slave_id": 1, "register_modbus": 5,
            "funcao_modbus": "HOLDING", "tipo_dado": "uint16", "ordem_palavras": "BIG",
            "modbus_host": "127.0.0.1", "modbus_porta": m1.port, "fator_conversao": "1",
            "unidade": "", "is_active": "on",
        }  # fmt: skip
        response = client.post(reverse("dispositivos:dispositivo_update", args=[d1.pk]), form)
        assert response.status_code == 302, response.content.decode()[:2000]
        changed = time.monotonic()
        wait_for(lambda: _latest(d1).valor == Decimal(55), timeout=15, what="the new register")
        elapsed = time.monotonic() - changed
        # One interval (2 s) plus transit; the config publisher is woken by the registry
        # notice (its sweep, every 15 s, would be too late).
        assert elapsed <= 2 + 2.5, f"new register first stored {elapsed:.1f} s after the change"
        gw.refresh_from_db()
        wait_for(
            lambda: _diag(gw) and _diag(gw).config_versao == gw.config_versao,
            timeout=10,
            what="the agent reporting the new version",
        )

        # A meter stops answering: its diagnostics say so, the other keeps reporting.
        m2.stop()
        stopped = dt.datetime.now(dt.UTC)

        def d2_failing():
            d = _diag(gw)
            devs = {x["dispositivo_codigo"]: x for x in d.payload["dispositivos"]}
            return devs["D02"]["timeouts"] > 0 and devs["D02"]["leituras"] == 0

        wait_for(d2_failing, timeout=15, what="D02 timeouts in diagnostics")
        m1.set(1, 5, [56])
        wait_for(lambda: _latest(d1).valor == Decimal(56), timeout=10, what="D01 still reporting")
        assert _latest(d1).time > stopped
        page = client.get(reverse("dispositivos:gateway_detail", args=[gw.pk])).content.decode()
        assert 'data-codigo="D02" class="table-warning"' in page
    finally:
        agent.stop()


def test_config_is_published_retained_and_only_its_gateway_reads_it(platform):
    conta = factories.make_conta()
    gw_a = factories.make_gateway(conta=conta, intervalo_envio_segundos=30)
    gw_b = factories.make_gateway(conta=conta)
    factories.make_dispositivo(gateway=gw_a, codigo="D01", slave_id=4, register_modbus=9)
    crt_a, key_a = platform.gateway_identity(gw_a)
    crt_b, key_b = platform.gateway_identity(gw_b)
    platform.start_consumer()
    gw_a.refresh_from_db()
    wait_for(
        lambda: type(gw_a).objects.get(pk=gw_a.pk).config_publicada_versao == gw_a.config_versao,
        timeout=30,
        what="the config published",
    )
    topic = f"tds_new/devices/{gw_a.mac}/config"
    other = platform.broker.subscriber(topic, cert=crt_b, key=key_b)
    own = platform.broker.subscriber(topic, cert=crt_a, key=key_a)
    try:
        got = own.get(timeout=10)
        assert got is not None, "the gateway did not receive its retained config"
        body = json.loads(got[1])
        assert body["versao"] == gw_a.config_versao
        assert body["intervalo_segundos"] == 30
        assert body["dispositivos"][0]["registrador"] == 9
        assert other.get(timeout=2) is None, "another gateway read this gateway's config"
    finally:
        other.close()
        own.close()
