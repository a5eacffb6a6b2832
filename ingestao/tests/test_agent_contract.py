"""The agent (tds_gateway, no Django) and the platform agree on the wire: each side's
output is read by the other side's own parser, and the ACL grants the agent's topics."""

import datetime as dt
import json
import time
from collections import Counter
from decimal import Decimal

import pytest
from django_scopes import scopes_disabled
from tds_gateway import wire
from tds_gateway.agent import Agent
from tds_gateway.bootstrap import Bootstrap

from certificados.mosquitto import render_acl
from dispositivos import services as registry
from dispositivos.gateway_config import gateway_config_payload
from ingestao.models import DiagnosticoGateway, MensagemRejeitada, Motivo
from ingestao.selectors import gateway_agent_status
from ingestao.validation import parse_telemetry
from ingestao.worker import IngestWorker, Received, WorkerOptions
from tds_testing import factories

pytestmark = pytest.mark.django_db


def _received(topic, data, mid=1):
    return Received(1, mid, 1, topic, data, dt.datetime.now(tz=dt.UTC), time.monotonic())


@pytest.fixture
def worker(planta):
    w = IngestWorker(WorkerOptions(url="mqtt://127.0.0.1:1", client_id="t"))
    w.registry.reload()
    return w


@pytest.fixture
def agent(planta, tmp_path):
    """An agent object (not started: no broker) for the gateway of `planta`."""
    boot = Bootstrap("127.0.0.1", 1, "", "", "", str(tmp_path / "outbox.sqlite3"))
    a = Agent.__new__(Agent)
    a.boot, a.mac = boot, planta["gateway"].mac
    from tds_gateway.outbox import Outbox

    a.outbox = Outbox(boot.outbox_path)
    a._stats, a._last_errors = {}, {}
    return a


def test_config_from_the_registry_is_what_the_agent_accepts(planta):
    gw, (d1, _d2, d3) = planta["gateway"], planta["devices"]
    gw.refresh_from_db()
    before = gw.config_versao
    registry.dispositivo_update(
        dispositivo=d1,
        tipo_dado="float32",
        ordem_palavras="LITTLE",
        funcao_modbus="INPUT",
        modbus_host="10.0.0.9",
        modbus_porta=1502,
        fator_conversao=Decimal("0.001"),
    )
    registry.dispositivo_update(dispositivo=d3, is_active=False)
    gw.refresh_from_db()
    assert gw.config_versao == before + 2  # every change bumps the version
    config = wire.parse_config(json.dumps(gateway_config_payload(gateway=gw)).encode(), mac=gw.mac)
    assert config["versao"] == gw.config_versao
    by_code = {d["codigo"]: d for d in config["dispositivos"]}
    assert set(by_code) == {"D01", "D02"}  # the inactive D03 is not polled
    assert by_code["D01"] == {
        "codigo": "D01",
        "slave_id": d1.slave_id,
        "registrador": d1.register_modbus,
        "funcao": "input",
        "tipo_dado": "float32",
        "ordem_palavras": "little",
        "fator": Decimal("0.001"),
        "unidade": "kWh",
        "host": "10.0.0.9",
        "porta": 1502,
    }
    assert by_code["D02"]["fator"] == Decimal("0.01")


def test_a_device_moved_or_deleted_bumps_both_gateways(planta):
    gw, (d1, *_rest) = planta["gateway"], planta["devices"]
    other = factories.make_gateway(conta=planta["conta"])
    gw.refresh_from_db()
    v_gw, v_other = gw.config_versao, other.config_versao
    registry.dispositivo_update(dispositivo=d1, gateway=other)
    gw.refresh_from_db()
    other.refresh_from_db()
    assert (gw.config_versao, other.config_versao) == (v_gw + 1, v_other + 1)
    registry.dispositivo_delete(dispositivo=d1)
    other.refresh_from_db()
    assert other.config_versao == v_other + 2


def test_agent_telemetry_is_valid_for_the_consumer(planta):
    gw = planta["gateway"]
    with scopes_disabled():
        from ingestao.registry import load_gateways

        entry = load_gateways()[gw.mac]
    t = time.time() // 1
    leituras = [{"dispositivo_codigo": "D01", "valor": wire.reading_value(Decimal("700.0100"))}]
    [body] = wire.telemetry_payloads(mac=gw.mac, t=t, leituras=leituras)
    out = parse_telemetry(
        topic_mac=gw.mac, payload=body, gateway=entry, now=dt.datetime.now(tz=dt.UTC)
    )
    assert not out.reason, out.detail
    assert out.rows[0].valor == Decimal("700.01")
    assert out.rows[0].time == dt.datetime.fromtimestamp(t, dt.UTC)


def test_acl_grants_the_agent_its_topics_and_nothing_else():
    acl = render_acl()
    for kind in ("telemetry", "status", "diagnostics"):
        assert f"pattern write {wire.topic('%u', kind)}\n" in acl
    assert f"pattern read {wire.topic('%u', 'config')}\n" in acl
    assert "pattern readwrite" not in acl
    assert "topic write tds_new/devices/+/config" in acl  # the platform's publisher only


def test_agent_diagnostics_are_stored_and_shown(worker, planta, agent):
    gw = planta["gateway"]
    gw.refresh_from_db()
    agent.config = {"versao": gw.config_versao, "intervalo": 60.0, "dispositivos": [
        {"codigo": "D01"}, {"codigo": "D02"},
    ]}  # fmt: skip
    agent._stats = {"D01": Counter(leituras=60), "D02": Counter(timeouts=58, crc=2)}
    agent._last_errors = {"D02": "No response received"}
    body = wire.diagnostics_payload(**agent.diagnostics(time.time() + 120))  # clock 2 min ahead
    topic = wire.topic(gw.mac, "diagnostics")
    with scopes_disabled():
        worker.consume_batch([_received(topic, body)])
        diag = DiagnosticoGateway.objects.get(gateway=gw)
    assert diag.config_versao == gw.config_versao
    assert 100 < diag.desvio_relogio_segundos < 140
    status = gateway_agent_status(gateway=gw)
    assert status["config_em_dia"]
    d02 = next(d for d in status["dispositivos"] if d["dispositivo_codigo"] == "D02")
    assert d02["erros"] == 60
    assert d02["ultimo_erro"] == "No response received"

    # A new registry version: the page says the gateway runs an old configuration.
    registry.gateway_update(gateway=gw, intervalo_envio_segundos=30)
    gw.refresh_from_db()
    assert not gateway_agent_status(gateway=gw)["config_em_dia"]


def test_a_newer_diagnostics_message_replaces_the_gateways_row(worker, planta):
    gw = planta["gateway"]
    topic = wire.topic(gw.mac, "diagnostics")

    def message(versao, pendentes, mid):
        body = wire.diagnostics_payload(
            gateway_mac=gw.mac,
            timestamp="2026-01-01T00:00:00Z",
            config_versao=versao,
            outbox={"pendentes": pendentes},
        )
        return _received(topic, body, mid=mid)

    with scopes_disabled():
        worker.consume_batch([message(1, 5, 1)])
        first = DiagnosticoGateway.objects.get(gateway=gw)
        worker.consume_batch([message(2, 0, 2)])
        rows = list(DiagnosticoGateway.objects.filter(gateway=gw))
    assert len(rows) == 1
    assert (rows[0].pk, rows[0].created_at) == (first.pk, first.created_at)
    assert (rows[0].config_versao, rows[0].outbox_pendentes) == (2, 0)
    assert rows[0].recebido_em > first.recebido_em


def test_bad_diagnostics_become_dead_letters(worker, planta):
    gw = planta["gateway"]
    topic = wire.topic(gw.mac, "diagnostics")
    other = wire.diagnostics_payload(
        gateway_mac="02:00:00:00:99:99", timestamp="2026-01-01T00:00:00Z"
    )
    no_offset = wire.diagnostics_payload(gateway_mac=gw.mac, timestamp="2026-01-01T00:00:00")
    with scopes_disabled():
        worker.consume_batch(
            [
                _received(topic, b"{not json", mid=1),
                _received(topic, other, mid=2),
                _received(topic, no_offset, mid=3),
                _received(wire.topic("02:00:00:00:99:98", "diagnostics"), other, mid=4),
            ]
        )
        reasons = sorted(MensagemRejeitada.objects.values_list("motivo", flat=True))
        assert not DiagnosticoGateway.objects.exists()
    assert reasons == sorted(
        [Motivo.NOT_JSON, Motivo.MAC_MISMATCH, Motivo.BAD_TIMESTAMP, Motivo.UNKNOWN_GATEWAY]
    )


def test_saving_a_stale_gateway_never_reissues_a_config_version(planta):
    gw = planta["gateway"]
    stale = type(gw).objects.get(pk=gw.pk)
    registry.dispositivo_update(dispositivo=planta["devices"][0], register_modbus=77)
    fresh = type(gw).objects.get(pk=gw.pk)
    registry.gateway_update(gateway=stale, intervalo_envio_segundos=30)
    after = type(gw).objects.get(pk=gw.pk)
    assert after.config_versao == fresh.config_versao + 1


def test_agent_wire_agrees_with_the_platforms_wire_module():
    """tds_gateway.wire cannot import tds_core (it installs alone on the gateway); the
    two must spell the contract the same way."""
    from tds_core import wire as platform

    mac = "aa:bb:cc:dd:ee:ff"
    assert wire.topic(mac, "telemetry") == platform.telemetry_topic(mac)
    assert wire.topic(mac, "status") == platform.status_topic(mac)
    assert wire.topic(mac, "diagnostics") == platform.diagnostics_topic(mac)
    assert wire.topic(mac, "config") == platform.config_topic(mac)
    assert platform.parse_status(wire.STATUS_ONLINE.encode()) is True
    assert platform.parse_status(wire.STATUS_OFFLINE.encode()) is False
    assert platform.topic_parts(wire.topic(mac, "diagnostics")) == (mac, platform.DIAGNOSTICS)


def test_a_device_added_in_the_admin_bumps_the_config_version(admin_client, planta):
    gw = planta["gateway"]
    gw.refresh_from_db()
    before = gw.config_versao
    response = admin_client.post(
        "/admin/dispositivos/dispositivo/add/",
        {
            "gateway": gw.pk, "codigo": "D09", "nome": "", "tipo": "AGUA", "tipo_medidor": "",
            "slave_id": 9, "register_modbus": 10, "fator_conversao": "1", "unidade": "",
            "is_active": "on",
        },
    )  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:1000]
    gw.refresh_from_db()
    assert gw.config_versao == before + 1
    with scopes_disabled():
        added = type(planta["devices"][0]).objects.get(gateway=gw, codigo="D09")
    assert (added.funcao_modbus, added.tipo_dado, added.modbus_porta) == ("HOLDING", "uint16", 502)
