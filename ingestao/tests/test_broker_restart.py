"""Issue 11: the default deployment loses nothing across a broker restart or crash.

A gateway-like stream (MQTT 3.1.1, persistent session, QoS 1, automatic reconnect, 100
messages/s of 3 readings) into the default consumer (`start_mqtt_consumer` with no
options: a plain persistent subscription), while the private broker, configured with the
generated config's persistence settings, is stopped (SIGTERM) or killed (-9) and started
again. Every message the broker acknowledged must be stored exactly once.
"""

import time

import pytest
from django.db import connection

from tds_testing.gateways import T0, GatewayStream
from tds_testing.waiting import wait_for

from .helpers import start_consumer, stop, wait_connected

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def stored_messages(dispositivo_ids) -> dict[int, int]:
    """message index -> readings stored for it."""
    with connection.cursor() as cur:
        cur.execute(
            "SELECT time, count(*) FROM tds_new_leitura_dispositivo"
            " WHERE dispositivo_id = ANY(%s) GROUP BY time",
            [list(dispositivo_ids)],
        )
        return {int((t - T0).total_seconds()): n for t, n in cur.fetchall()}


def run_restart(broker, planta, logfile, *, crash: bool, extra=None, v5=False):
    gw, devices = planta["gateway"], planta["devices"]
    ids = [d.pk for d in devices]
    proc = start_consumer(broker.port, log_path=logfile, extra=extra)
    wait_connected(logfile)
    subscribed_at = time.time()
    stream = GatewayStream(
        port=broker.port, mac=gw.mac, codes=[d.codigo for d in devices], rate=100, v5=v5
    ).start()
    try:
        assert wait_for(lambda: stream.sent >= 150 and stored_messages(ids), timeout=20)
        if crash:
            # A kill -9 before the broker's first save after the subscription loses the
            # consumer's session (README: what a crash can lose); a consumer in production
            # has been subscribed far longer than Mosquitto's 2 s between saves.
            assert wait_for(lambda: broker.saved_after(subscribed_at), timeout=10)
        broker.restart(crash=crash)
        restarted_at = stream.sent
        assert wait_for(lambda: stream.sent >= restarted_at + 150, timeout=20)
        stream.stop()
        assert stream.drain(timeout=30), f"{stream.sent - len(stream.delivered)} never acked"
        acked = stream.acknowledged()
        wait_for(lambda: set(acked) <= set(stored_messages(ids)), timeout=20)
        stored = stored_messages(ids)
    finally:
        stream.close()
        assert stop(proc) == 0
    lost = sorted(set(acked) - set(stored))
    assert not lost, f"{len(lost)} acknowledged messages not stored: {lost[:20]}"
    assert set(stored.values()) == {len(devices)}, "a message stored partly or twice"
    assert set(stored) <= set(range(stream.sent))
    return stream


@pytest.mark.parametrize("crash", [False, True], ids=["sigterm", "kill-9"])
def test_default_consumer_loses_nothing_across_broker_restart(mosquitto, planta, logfile, crash):
    stream = run_restart(mosquitto, planta, logfile, crash=crash)
    assert stream.connects >= 2  # the gateway really was cut off and came back
    log = logfile.read_text()
    assert "mode=mqtt-plain" in log
    assert "$share" not in log


@pytest.mark.parametrize("crash", [False, True], ids=["sigterm", "kill-9"])
def test_shared_consumers_with_v5_gateways_that_retry(mosquitto, planta, tmp_path, crash):
    """Several consumers on Mosquitto: the broker forgets $share subscriptions on restart
    and answers PUBACK 0x10 until they are back; gateways following the v5 contract resend,
    so nothing is lost (the second consumer shares the stream all along)."""
    other = start_consumer(
        mosquitto.port,
        client_id="tds-ingest-test-2",
        log_path=tmp_path / "c2.log",
        extra=["--shared", "--gateways-retry-v5"],
    )
    try:
        wait_connected(tmp_path / "c2.log")
        stream = run_restart(
            mosquitto,
            planta,
            tmp_path / "c1.log",
            crash=crash,
            extra=["--shared", "--gateways-retry-v5"],
            v5=True,
        )
    finally:
        assert stop(other) == 0
    assert stream.refused > 0, "the window did not open: the test proves nothing"
    assert "event=delivery_guarantee mode=mqtt-shared" in (tmp_path / "c1.log").read_text()


def test_shared_without_cover_is_refused(mosquitto, logfile):
    proc = start_consumer(mosquitto.port, log_path=logfile, extra=["--shared"])
    assert proc.wait(30) != 0
    log = logfile.read_text()
    assert "event=delivery_misconfigured" in log
    assert "--gateways-retry-v5" in log  # says what to do
    assert "event=mqtt_subscribed" not in log


def test_shared_with_accepted_loss_runs_and_says_so(mosquitto, logfile):
    proc = start_consumer(
        mosquitto.port, log_path=logfile, extra=["--shared", "--accept-loss-window"]
    )
    try:
        wait_connected(logfile)
    finally:
        assert stop(proc) == 0
    line = next(ln for ln in logfile.read_text().splitlines() if "event=delivery_guarantee" in ln)
    assert "ERROR" in line
    assert "DROPPED" in line
