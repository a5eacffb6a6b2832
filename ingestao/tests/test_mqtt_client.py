"""BufferedClient (ingestao.mqtt): paho-mqtt reading the socket in large chunks must still
deliver every message intact and in order, whatever the packet boundaries in a read,
including packets larger than one read and a reconnect in the middle of a stream."""

import threading
import time

from ingestao.mqtt import BufferedClient, connect_properties, make_client
from tds_testing.mosquitto import BASE_CONFIG, PrivateMosquitto
from tds_testing.waiting import wait_for

from .helpers import Publisher

TOPIC = "tds-test/buffered/x"


def _subscriber(port: int, client_id: str):
    client, _ = make_client(url=f"mqtt://127.0.0.1:{port}", client_id=client_id)
    assert isinstance(client, BufferedClient)
    received: list[bytes] = []
    subscribed = threading.Event()
    client.on_message = lambda c, u, m: received.append(m.payload)
    client.on_connect = lambda c, u, f, rc, p: c.subscribe(TOPIC, qos=1)
    client.on_subscribe = lambda *a: subscribed.set()
    client.connect("127.0.0.1", port)
    client.loop_start()
    assert subscribed.wait(10), "subscription not acknowledged"
    return client, received


def test_every_message_arrives_intact_and_in_order(mosquitto):
    client, received = _subscriber(mosquitto.port, "buffered-sub")
    small = [f"message {i:05d} ".encode() * (1 + i % 7) for i in range(3000)]
    big = bytes(range(256)) * 2000  # 512 KB: more than one read of the buffer
    sent = [*small[:1500], big, *small[1500:]]
    pub = Publisher(mosquitto.port, "buffered-pub")
    for data in sent:
        pub.publish(TOPIC, data)
    pub.close()
    wait_for(lambda: len(received) >= len(sent), timeout=30, interval=0.02)
    client.disconnect()
    client.loop_stop()
    assert len(received) == len(sent)
    assert received == sent


def test_a_broker_restart_mid_stream_leaves_no_stale_bytes(mosquitto):
    client, received = _subscriber(mosquitto.port, "buffered-restart")
    client.reconnect_delay_set(min_delay=1, max_delay=1)
    pub = Publisher(mosquitto.port, "buffered-pub-1")
    for i in range(500):
        pub.publish(TOPIC, f"before {i}".encode())
    pub.close()
    wait_for(lambda: len(received) >= 500, timeout=30, interval=0.02)
    mosquitto.restart()
    reconnected = threading.Event()
    client.on_connect = lambda c, u, f, rc, p: (c.subscribe(TOPIC, qos=1), reconnected.set())
    assert reconnected.wait(20), "no reconnect after the broker restart"
    time.sleep(0.5)  # the subscription is re-established
    pub = Publisher(mosquitto.port, "buffered-pub-2")
    for i in range(500):
        pub.publish(TOPIC, f"after {i}".encode())
    pub.close()
    wait_for(lambda: len(received) >= 1000, timeout=30, interval=0.02)
    client.disconnect()
    client.loop_stop()
    after = [m for m in received if m.startswith(b"after")]
    assert after == [f"after {i}".encode() for i in range(500)]
    assert all(m.startswith((b"before", b"after")) for m in received)


def test_receive_maximum_not_the_broker_cap_bounds_a_v5_client(tmp_path):
    """What the README's troubleshooting says: the consumer (MQTT v5) may hold as many
    unacknowledged messages as its Receive Maximum asks, whatever the broker's
    max_inflight_messages; an MQTT 3.1.1 client gets the broker's cap."""
    config = BASE_CONFIG.replace("max_inflight_messages 10000", "max_inflight_messages 20")
    with PrivateMosquitto(config=config) as broker:
        held = {}
        for protocol in ("v5", "v311"):
            client, _ = make_client(
                url=broker.url, client_id=f"cap-{protocol}", v5=protocol == "v5", manual_ack=True
            )
            received: list[int] = []
            subscribed = threading.Event()
            client.on_message = lambda c, u, m, received=received: received.append(m.mid)
            client.on_connect = lambda c, u, f, rc, p: c.subscribe(TOPIC, qos=1)
            client.on_subscribe = lambda *a, subscribed=subscribed: subscribed.set()
            kwargs = {"properties": connect_properties(session_expiry=0, receive_maximum=500)}
            client.connect("127.0.0.1", broker.port, **(kwargs if protocol == "v5" else {}))
            client.loop_start()
            assert subscribed.wait(10)
            pub = Publisher(broker.port, f"cap-pub-{protocol}")
            for _ in range(1000):
                pub.publish(TOPIC, b"m")  # never acknowledged by the subscriber
            pub.close()
            wait_for(lambda r=received: len(r) >= 500, timeout=3, interval=0.02)
            time.sleep(0.3)
            held[protocol] = len(received)
            client.disconnect()
            client.loop_stop()
    assert held == {"v5": 500, "v311": 20}
