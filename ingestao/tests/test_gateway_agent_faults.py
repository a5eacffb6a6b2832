"""tds-gateway under faults, with the same real parts as test_gateway_agent.py: the
broker down for a minute while polling every second, and kill -9 in the middle of
draining the backlog. Every reading of the outage is stored exactly once afterwards."""

import datetime as dt
import math
import time

import pytest

from tds_testing import factories
from tds_testing.meters import MeterServer
from telemetria.models import LeituraDispositivo

from .agent_rig import AgentProcess, Platform, wait_for

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


def _stored_seconds(device, start: float, end: float) -> list[dt.datetime]:
    """Stored reading times of the whole seconds in [start, end]."""
    return list(
        LeituraDispositivo.objects.filter(
            dispositivo_id=device.pk,
            time__gte=dt.datetime.fromtimestamp(math.ceil(start), dt.UTC),
            time__lte=dt.datetime.fromtimestamp(math.floor(end), dt.UTC),
        ).values_list("time", flat=True)
    )


def _assert_every_second_once(device, start: float, end: float):
    times = _stored_seconds(device, start, end)
    expected = math.floor(end) - math.ceil(start) + 1
    assert len(times) == len(set(times)) == expected, (len(times), expected)


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
        platform.broker.start()
        wait_for(lambda: agent.outbox_depth() == 0, timeout=60, what="the backlog drained")
        # Readings of the seconds around the stop and start themselves may have been
        # published before the outage or after it: the minute between must be complete.
        window = (down_at + 1, up_at - 1)
        wait_for(
            lambda: (
                len(_stored_seconds(device, *window))
                >= math.floor(window[1]) - math.ceil(window[0]) + 1
            ),
            timeout=30,
            what="the outage's readings stored",
        )
        _assert_every_second_once(device, *window)
        assert up_at - down_at >= 59  # a full minute without the broker
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
    down_at = time.time()
    wait_for(lambda: agent.outbox_depth() >= 20, timeout=40, what="backlog")
    up_at = time.time()
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
    assert age < 2.0, f"newest reading {age:.1f} s old during the drain"
    agent.kill9()
    left = agent.outbox_depth()
    assert left > 5, "the kill should land while a backlog is left"
    again = AgentProcess(platform, crt=crt, key=key).start()
    try:
        wait_for(lambda: again.outbox_depth() == 0, timeout=60, what="the rest drained")
        window = (down_at + 1, up_at - 1)
        wait_for(
            lambda: (
                len(_stored_seconds(device, *window))
                >= math.floor(window[1]) - math.ceil(window[0]) + 1
            ),
            timeout=30,
            what="the outage's readings stored",
        )
        _assert_every_second_once(device, *window)
    finally:
        again.stop()
