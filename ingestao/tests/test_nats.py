"""The NATS JetStream deployment with real nats-server processes on loopback (issue 11):
the config `nats_config` writes, gateways over MQTT 3.1.1 + mTLS with certificates the
PKI issued, the consumer process through the durable JetStream consumer."""

import subprocess

import paho.mqtt.client as mqtt
import pytest
from django.core.management import call_command

from certificados.models import RevocationReason
from certificados.services import certificado_revoke
from dispositivos.services import gateway_delete
from ingestao.nats_transport import NatsOptions, NatsTransport, servers_from_url
from tds_testing import factories
from tds_testing.gateways import GatewayStream, message
from tds_testing.nats import PrivateNats, gateway_tls, nats_server_bin
from tds_testing.waiting import wait_for

from .helpers import count_readings, stop
from .nats_util import start_nats_consumer, wait_subscribed

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def pki(tmp_path, settings):
    settings.TDS_PKI_DIR = tmp_path / "pki"
    settings.TDS_MOSQUITTO_DIR = ""
    settings.TDS_MOSQUITTO_PID_FILE = ""
    settings.TDS_MOSQUITTO_RELOAD_CMD = ""
    settings.TDS_NATS_DIR = ""
    settings.TDS_NATS_RELOAD_CMD = ""
    call_command("pki_init")
    return settings.TDS_PKI_DIR


def gateway_with_meters(conta, n_devices=3):
    gw = factories.make_gateway(conta=conta)
    devices = [factories.make_dispositivo(gateway=gw) for _ in range(n_devices)]
    return gw, devices


def connect(port, tls, client_id):
    """A one-shot gateway connection: (connected?, client)."""
    c = mqtt.Client(
        callback_api_version=mqtt.CallbackAPIVersion.VERSION2,
        client_id=client_id,
        protocol=mqtt.MQTTv311,
        clean_session=False,
    )
    ca, cert, key = tls
    c.tls_set(ca_certs=ca, certfile=cert, keyfile=key)
    try:
        c.connect("127.0.0.1", port, keepalive=5)
    except OSError:
        return False, c
    c.loop_start()
    ok = wait_for(c.is_connected, timeout=5, interval=0.05)
    return bool(ok), c


def test_nats_config_command_writes_a_valid_cluster(pki, tmp_path):
    out = tmp_path / "nats"
    call_command("nats_config", "--out", str(out), "--nodes", "3")
    for name in ("n1.conf", "n2.conf", "n3.conf", "auth.conf", "ca.crt"):
        assert (out / name).exists(), name
    n1 = (out / "n1.conf").read_text()
    assert "verify_and_map: true" in n1
    assert "stream_replicas: 3" in n1
    assert "nats-route://127.0.0.1:6223" in n1
    assert 'cert_file: "' + str(out.resolve()) + '/route.crt"' in n1  # routes over mutual TLS
    assert "pinned_certs:" in n1
    result = subprocess.run(
        [nats_server_bin(), "-t", "-c", str(out / "n2.conf")], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr + result.stdout


def test_identity_topics_and_revocation(pki, conta_a, conta_b, tmp_path, settings):
    gw_a, dev_a = gateway_with_meters(conta_a)
    gw_b, dev_b = gateway_with_meters(conta_b)
    gw_c, _ = gateway_with_meters(conta_b)
    tls_a = gateway_tls(gw_a, tmp_path / "gw")
    tls_b = gateway_tls(gw_b, tmp_path / "gw")
    tls_c = gateway_tls(gw_c, tmp_path / "gw")
    log = tmp_path / "consumer.log"
    with PrivateNats(nodes=1) as cluster:
        settings.TDS_NATS_DIR = str(cluster.dir)  # registry changes refresh this deployment
        port = cluster.nodes[0].mqtt_port
        proc = start_nats_consumer(cluster, log_path=log)
        try:
            wait_subscribed(log)
            ok, a = connect(port, tls_a, "gw-a")
            assert ok
            codes_a = [d.codigo for d in dev_a]
            a.publish(f"tds_new/devices/{gw_a.mac}/telemetry", message(gw_a.mac, 0, codes_a), qos=1)
            # gw_a speaking on gw_b's topic, with gw_b's MAC in the payload: refused by NATS
            codes_b = [d.codigo for d in dev_b]
            a.publish(
                f"tds_new/devices/{gw_b.mac}/telemetry", message(gw_b.mac, 1, codes_b), qos=1
            ).wait_for_publish(5)
            assert wait_for(lambda: count_readings([d.pk for d in dev_a]) == 3, timeout=15)
            ok_b, b = connect(port, tls_b, "gw-b")
            assert ok_b
            b.publish(
                f"tds_new/devices/{gw_b.mac}/telemetry", message(gw_b.mac, 2, codes_b), qos=1
            ).wait_for_publish(5)
            assert wait_for(lambda: count_readings([d.pk for d in dev_b]) == 3, timeout=15)
            assert count_readings([d.pk for d in dev_b]) == 3  # only gw_b's own message
            assert "Publish Violation" in cluster.log("n1")

            # Revocation (the service, as the UI does): the signal rewrites auth.conf
            # and reloads the node; the certificate is refused from then on.
            cert_a = gw_a.certificados.get()
            certificado_revoke(certificado=cert_a, reason=RevocationReason.KEY_COMPROMISE)
            assert wait_for(lambda: "Reloaded" in cluster.log("n1"), timeout=10), cluster.log("n1")[
                -3000:
            ]
            assert wait_for(lambda: not a.is_connected(), timeout=10)  # cut on reload
            a.loop_stop()
            ok, _ = connect(port, tls_a, "gw-a-again")
            assert not ok
            assert (
                "Authorization Violation" in cluster.log("n1")
                or "authorization" in cluster.log("n1").lower()
            )
            # A deleted gateway: its certificates are revoked, it is refused too.
            b.loop_stop()
            b.disconnect()
            gateway_delete(gateway=gw_c)
            ok, _ = connect(port, tls_c, "gw-c")
            assert not ok
            ok, _ = connect(port, tls_b, "gw-b-again")  # the others still connect
            assert ok
        finally:
            assert stop(proc) == 0
    text = log.read_text()
    assert "mode=nats-jetstream" in text


def test_revoking_one_of_two_certificates_refuses_that_one_only(pki, conta_a, tmp_path, settings):
    """A gateway holding two certificates: revoking the first refuses it (its open
    connection is closed on the reload) while the second keeps publishing."""
    gw, devices = gateway_with_meters(conta_a)
    tls_1 = gateway_tls(gw, tmp_path / "gw")
    tls_2 = gateway_tls(gw, tmp_path / "gw")
    first = gw.certificados.order_by("pk").first()
    log = tmp_path / "consumer.log"
    with PrivateNats(nodes=1) as cluster:
        settings.TDS_NATS_DIR = str(cluster.dir)
        port = cluster.nodes[0].mqtt_port
        proc = start_nats_consumer(cluster, log_path=log)
        try:
            wait_subscribed(log)
            ok_1, c1 = connect(port, tls_1, "gw-cert-1")
            ok_2, c2 = connect(port, tls_2, "gw-cert-2")
            assert ok_1
            assert ok_2
            certificado_revoke(certificado=first, reason=RevocationReason.SUPERSEDED)
            assert wait_for(lambda: "Reloaded" in cluster.log("n1"), timeout=10)
            assert wait_for(lambda: not c1.is_connected(), timeout=10)  # cut on reload
            c1.loop_stop()
            ok, _ = connect(port, tls_1, "gw-cert-1-again")
            assert not ok  # the revoked certificate is refused
            assert c2.is_connected()
            codes = [d.codigo for d in devices]
            c2.publish(
                f"tds_new/devices/{gw.mac}/telemetry", message(gw.mac, 0, codes), qos=1
            ).wait_for_publish(5)
            assert wait_for(lambda: count_readings([d.pk for d in devices]) == 3, timeout=15)
            c2.loop_stop()
            c2.disconnect()
            ok, _ = connect(port, tls_2, "gw-cert-2-again")
            assert ok  # and the valid one still connects
        finally:
            assert stop(proc) == 0


def stored_by_gateway(gateways) -> dict[str, dict[int, int]]:
    """gateway mac -> {message index: readings stored}."""
    from django.db import connection

    from tds_testing.gateways import T0

    out = {}
    with connection.cursor() as cur:
        for gw in gateways:
            cur.execute(
                "SELECT time, count(*) FROM tds_new_leitura_dispositivo WHERE gateway_id = %s"
                " GROUP BY time",
                [gw.pk],
            )
            out[gw.mac] = {int((t - T0).total_seconds()): n for t, n in cur.fetchall()}
    return out


def test_cluster_node_kill_and_consumer_kill_lose_nothing(pki, conta_a, tmp_path):
    """3 nodes, stream replicas 3, one gateway per node at 50 msg/s, two consumer
    processes; the node leading the stream the consumers read (with a gateway on it) is
    killed (-9), a new leader is elected, the node is restarted mid-stream, then consumer 1
    is killed (-9). Every message a gateway saw acknowledged is stored exactly once."""
    plants = [gateway_with_meters(conta_a) for _ in range(3)]
    tls = [gateway_tls(gw, tmp_path / "gw") for gw, _ in plants]
    logs = [tmp_path / "c1.log", tmp_path / "c2.log"]
    with PrivateNats(nodes=3) as cluster:
        consumers = [
            start_nats_consumer(cluster, log_path=logs[i], instance=i + 1) for i in range(2)
        ]
        streams = []
        try:
            for node in cluster.nodes:  # the routes carrying the replication are mutual TLS
                route = cluster.varz(node)["cluster"]
                assert route.get("tls_required"), route
                assert route.get("tls_verify"), route
            for log in logs:
                wait_subscribed(log)
            streams = [
                GatewayStream(
                    port=node.mqtt_port,
                    mac=gw.mac,
                    codes=[d.codigo for d in devices],
                    rate=50,
                    tls=t,
                ).start()
                for node, (gw, devices), t in zip(cluster.nodes, plants, tls, strict=True)
            ]
            sent = lambda: min(s.sent for s in streams)  # noqa: E731
            # Every gateway connected and acknowledged before the kill (not a time: on a
            # loaded machine a node's MQTT layer can take seconds to accept its first client,
            # and a gateway first connected after the kill would not be cut off by it).
            acked_min = lambda: min(len(s.delivered) for s in streams)  # noqa: E731
            assert wait_for(lambda: acked_min() >= 100, timeout=60), [s.connects for s in streams]
            # The LEADER of the stream the consumers read (with a gateway on it): the case
            # that lost acknowledged messages before (README). It stays down until the
            # other two have elected a new leader, so the election is always covered.
            leader = cluster.stream_leader()
            victim = next(n for n in cluster.nodes if n.name == leader)
            cluster.kill(victim)
            at = sent()
            assert wait_for(
                lambda: cluster.stream_leader() not in (None, victim.name), timeout=60
            ), "no new leader elected"
            assert wait_for(lambda: sent() >= at + 50, timeout=20)
            cluster.restart(victim)
            at = sent()
            assert wait_for(lambda: sent() >= at + 100, timeout=20)
            consumers[0].kill()  # kill -9 mid-stream: its unacked messages go to the other
            consumers[0].wait()
            at = sent()
            assert wait_for(lambda: sent() >= at + 100, timeout=20)
            for s in streams:
                s.stop()
            for s in streams:
                assert s.drain(timeout=30), f"{s.mac}: {s.sent - len(s.delivered)} never acked"
            acked = {s.mac: set(s.acknowledged()) for s in streams}
            wait_for(
                lambda: all(
                    acked[mac] <= set(got)
                    for mac, got in stored_by_gateway([gw for gw, _ in plants]).items()
                ),
                timeout=60,
            )
        finally:
            for node in cluster.nodes:
                for acc in cluster.jsz(node).get("account_details", []):
                    for st in acc.get("stream_detail", []):
                        cons = [
                            {
                                k: c.get(k)
                                for k in (
                                    "num_pending",
                                    "num_ack_pending",
                                    "num_redelivered",
                                    "num_waiting",
                                    "cluster",
                                )
                            }
                            for c in st.get("consumer_detail", [])
                        ]
                        print(
                            node.name,
                            st["name"],
                            st.get("state", {}).get("messages"),
                            st.get("cluster", {}).get("leader"),
                            cons,
                        )
            for s in streams:
                s.close()
            for c in consumers:
                if c.poll() is None:
                    assert stop(c) == 0
        stored = stored_by_gateway([gw for gw, _ in plants])
    for s in streams:
        print(s.mac, "sent", s.sent, "acked", len(acked[s.mac]), "stored", len(stored[s.mac]))
    for s in streams:
        got = stored[s.mac]
        lost = sorted(acked[s.mac] - set(got))
        assert not lost, f"{s.mac}: {len(lost)} acknowledged messages lost: {lost[:10]}"
        assert set(got.values()) == {3}, "a message stored partly or twice"
        assert len(got) >= 250
    victim_stream = streams[cluster.nodes.index(victim)]
    assert victim_stream.connects >= 2  # the gateway on the killed node was cut off, came back
    assert "event=nats_subscribed" in logs[1].read_text()


def test_a_clean_stop_closes_the_connection_completely(pki, caplog):
    """close() runs its disconnect on the transport's loop; that loop used to stop as soon
    as the fetch saw the connection closing, under the unfinished disconnect, and close()
    then gave up after its timeout (8 s of every stop; 15 s under a loaded CI)."""
    with PrivateNats(nodes=1) as cluster:
        env = cluster.consumer_env()
        for _ in range(5):
            transport = NatsTransport(
                NatsOptions(
                    servers=servers_from_url(env["NATS_URL"]),
                    ca_file=env["NATS_CA_FILE"],
                    cert_file=env["NATS_CERT_FILE"],
                    key_file=env["NATS_KEY_FILE"],
                )
            )
            transport.start(lambda received: None)
            assert transport.ready.wait(15)
            transport.close()
            assert not transport._thread.is_alive()
            assert transport._nc.is_closed
    assert "nats_close_incomplete" not in caplog.text
