"""tds-gateway under faults, with the same real parts as test_gateway_agent.py: the
broker down for a minute while polling every second, and kill -9 in the middle of
draining the backlog. Every reading of the outage is stored exactly once afterwards."""

import datetime as dt
import json
import time

import pytest

from tds_testing import factories
from tds_testing.meters import MeterServer
from tds_testing.waiting import wait_for
from telemetria.models import LeituraDispositivo

from .agent_rig import AgentProcess, Platform

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def rig(tmp_path, settings):
    platform = Platform(tmp_path, settings)
    meter = MeterServer(slave_ids=[1]).start()
    meter.set(1, 0, [42])
    conta = factories.make_conta()
    gw = factories.make_gateway(conta=conta, intervalo_envio_segundos=1)
    device = factories.make_dispositivo(
        gateway=gw, codigo="D01", slave_id=1, register_modbus=0,
        modbus_host="127.0.0.1", modbus_porta=meter.port,
    )  # fmt: skip
    crt, key = platform.gateway_identity(gw)
    platform.start_consumer()
    yield platform, device, crt, key
    meter.stop()
    platform.close()


def _stored(device, times: set[dt.datetime]) -> list[dt.datetime]:
    return list(
        LeituraDispositivo.objects.filter(dispositivo_id=device.pk, time__in=times).values_list(
            "time", flat=True
        )
    )


def _assert_stored_once(device, times: set[dt.datetime], agent_log: str) -> None:
    """Every reading the agent polled during the outage is stored, exactly once."""
    wait_for(
        lambda: len(set(_stored(device, times))) == len(times),
        timeout=30,
        what=f"the outage's readings stored; missing "
        f"{sorted(times - set(_stored(device, times)))[:5]}; agent log:\n{agent_log}",
    )
    stored = _stored(device, times)
    assert len(stored) == len(set(stored)) == len(times)


def test_broker_down_for_a_minute_loses_nothing(rig):
    platform, device, crt, key = rig
    agent = AgentProcess(platform, crt=crt, key=key).start()
    try:
        wait_for(
            lambda: LeituraDispositivo.objects.filter(dispositivo_id=device.pk).exists(),
            timeout=40,
            what=agent.tail(),
        )
        platform.broker.stop()
        down_at = time.time()
        # The agent keeps polling every second into its outbox for a minute.
        wait_for(lambda: agent.outbox_depth() >= 60, timeout=90, what="a minute of backlog")
        up_at = time.time()
        outage = agent.outbox_timestamps()
        platform.broker.start()
        wait_for(lambda: agent.outbox_depth() == 0, timeout=60, what="the backlog drained")
        assert up_at - down_at >= 59  # a full minute without the broker
        assert len(outage) >= 60  # one poll per second of the outage, each its own time
        _assert_stored_once(device, outage, agent.tail())
    finally:
        agent.stop()


def test_kill_9_while_draining_loses_and_duplicates_nothing(rig):
    platform, device, crt, key = rig
    # A slow drain (2 messages/s) so that the kill lands in the middle of it.
    agent = AgentProcess(platform, crt=crt, key=key, drain_rate=2, max_inflight=2).start()
    wait_for(
        lambda: LeituraDispositivo.objects.filter(dispositivo_id=device.pk).exists(),
        timeout=40,
        what=agent.tail(),
    )
    platform.broker.stop()
    wait_for(lambda: agent.outbox_depth() >= 20, timeout=40, what="backlog")
    outage = agent.outbox_timestamps()
    backlog = agent.outbox_depth()
    platform.broker.start()
    wait_for(lambda: 0 < agent.outbox_depth() <= backlog - 4, timeout=30, what="draining under way")
    # Live readings are not held back by the backlog: the newest stored reading is at
    # most one interval (1 s) old, plus transit, while the backlog is still draining.
    newest = (
        LeituraDispositivo.objects.filter(dispositivo_id=device.pk)
        .order_by("-time")
        .values_list("time", flat=True)
        .first()
    )
    age = time.time() - newest.timestamp()
    assert age < 2.5, f"newest reading {age:.1f} s old during the drain"
    agent.kill9()
    left = agent.outbox_depth()
    assert left > 5, "the kill should land while a backlog is left"
    again = AgentProcess(platform, crt=crt, key=key).start()
    try:
        wait_for(lambda: again.outbox_depth() == 0, timeout=60, what="the rest drained")
        _assert_stored_once(device, outage, again.tail())
    finally:
        again.stop()


def test_no_matching_subscriber_means_not_delivered(tmp_path, settings):
    """MQTT v5 PUBACK 0x10 ("no matching subscribers", e.g. before the consumer has
    subscribed): the agent keeps the readings and retries; once the consumer is there,
    every one of them is stored exactly once."""
    platform = Platform(tmp_path, settings)
    meter = MeterServer(slave_ids=[1]).start()
    meter.set(1, 0, [7])
    try:
        gw = factories.make_gateway(conta=factories.make_conta(), intervalo_envio_segundos=1)
        device = factories.make_dispositivo(
            gateway=gw, codigo="D01", slave_id=1, register_modbus=0,
            modbus_host="127.0.0.1", modbus_porta=meter.port,
        )  # fmt: skip
        crt, key = platform.gateway_identity(gw)
        # The agent has no config from the platform yet (no consumer, no publisher): give
        # it the one the platform would publish, as its cached config.
        from tds_gateway.outbox import Outbox

        from dispositivos.gateway_config import gateway_config_payload

        agent = AgentProcess(platform, crt=crt, key=key)
        box = Outbox(agent.outbox_path)
        gw.refresh_from_db()
        box.meta_set("config", json.dumps(gateway_config_payload(gateway=gw)))
        box.close()
        agent.start()
        try:
            # Broker up, nobody subscribed: every PUBACK says 0x10, nothing leaves.
            wait_for(lambda: agent.outbox_depth() >= 8, timeout=40, what=agent.tail())
            assert "not_delivered reason=0x10" in agent.tail()
            kept = agent.outbox_timestamps()
            platform.start_consumer()
            _assert_stored_once(device, kept, agent.tail())
            wait_for(lambda: agent.outbox_depth() <= 2, timeout=60, what="the backlog drained")
        finally:
            agent.stop()
    finally:
        meter.stop()
        platform.close()
