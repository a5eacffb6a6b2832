"""The wire contract with gateways (DESIGN.md, "Wire contract"): topics, subscription
filters, the shared-subscription group, payload encoding, status payloads, MAC
normalization and value limits.

The consumer, the simulator, the gateway agent, the broker ACL renderer, tests and
benches import these names instead of spelling topics or payloads themselves. Pure
Python: no Django, no database, so a gateway-side program can use it too.
"""

import datetime as dt
import json
import re
from decimal import Decimal

# -- topics -------------------------------------------------------------------------------
TOPIC_ROOT = "tds_new/devices"
TOPIC_PREFIX = TOPIC_ROOT + "/"
TELEMETRY = "telemetry"
STATUS = "status"
DIAGNOSTICS = "diagnostics"  # gateway -> platform: the agent's health, per interval
CONFIG = "config"  # platform -> gateway: retained, versioned; only that gateway reads it
TELEMETRY_FILTER = f"{TOPIC_ROOT}/+/{TELEMETRY}"
STATUS_FILTER = f"{TOPIC_ROOT}/+/{STATUS}"
DIAGNOSTICS_FILTER = f"{TOPIC_ROOT}/+/{DIAGNOSTICS}"
CONFIG_FILTER = f"{TOPIC_ROOT}/+/{CONFIG}"
QOS = 1

# The ingest consumer's identity: its certificate CN, its client-id prefix and the
# shared-subscription group its instances share.
CONSUMER_NAME = "tds-ingest"
SHARE_GROUP = CONSUMER_NAME


def telemetry_topic(mac: str) -> str:
    return f"{TOPIC_PREFIX}{mac}/{TELEMETRY}"


def status_topic(mac: str) -> str:
    return f"{TOPIC_PREFIX}{mac}/{STATUS}"


def diagnostics_topic(mac: str) -> str:
    return f"{TOPIC_PREFIX}{mac}/{DIAGNOSTICS}"


def config_topic(mac: str) -> str:
    return f"{TOPIC_PREFIX}{mac}/{CONFIG}"


def shared(topic_filter: str, group: str = SHARE_GROUP) -> str:
    """`$share/<group>/<filter>`: the broker hands each message to one group member."""
    return f"$share/{group}/{topic_filter}"


# NATS (the JetStream deployment): nats-server maps an MQTT topic to a subject by '/' -> '.'
# (a MAC holds no dot). A QoS 1 PUBLISH is acknowledged to the gateway only once the
# server has stored it in its own MQTT stream `$MQTT_msgs`, as `$MQTT.msgs.<subject>`
# (replicated, interest retention): the consumers read that stream with a durable consumer
# filtered on these subjects, so every message a gateway saw acknowledged is kept until a
# consumer acks it. (A stream of our own capturing `tds_new.devices.*.telemetry` is fed by
# a fire-and-forget publish the PUBACK does not wait for: it lost acknowledged messages
# when its leader node was killed; README.)
NATS_STREAM = "$MQTT_msgs"
NATS_STREAM_SUBJECTS = ["$MQTT.msgs.>"]
NATS_MQTT_PREFIX = "$MQTT.msgs."
NATS_LEGACY_STREAM = "TDS_TELEMETRY"  # what the consumers read before (nothing feeds it now)
NATS_SUBJECTS = [
    f"{NATS_MQTT_PREFIX}{TOPIC_ROOT.replace('/', '.')}.*.{kind}" for kind in (TELEMETRY, STATUS)
]


def nats_subject(mac: str, kind: str) -> str:
    """The subject a gateway's topic maps to (what its NATS user may publish on)."""
    return f"{TOPIC_ROOT.replace('/', '.')}.{mac}.{kind}"


def topic_of_subject(subject: str) -> str:
    """Subject of a message in `$MQTT_msgs` (or a plain NATS subject) -> the MQTT topic
    the gateway published."""
    return subject.removeprefix(NATS_MQTT_PREFIX).replace(".", "/")


# -- MAC addresses ------------------------------------------------------------------------
_HEX12 = re.compile(r"^[0-9a-f]{12}$")
_SEPARATED = re.compile(r"^[0-9a-f]{2}([:-])[0-9a-f]{2}(\1[0-9a-f]{2}){4}$")


def normalize_mac(value: str) -> str | None:
    """`AA:BB:CC:DD:EE:FF`, `aa-bb-cc-dd-ee-ff` or `aabbccddeeff` → `aa:bb:cc:dd:ee:ff`.

    Returns None for anything that is not a MAC address.
    """
    if not isinstance(value, str):
        return None
    candidate = value.strip().lower()
    if _SEPARATED.match(candidate):
        candidate = candidate.replace("-", "").replace(":", "")
    if not _HEX12.match(candidate):
        return None
    return ":".join(candidate[i : i + 2] for i in range(0, 12, 2))


_MACS: dict[str, str] = {}
_MACS_MAX = 65536


def cached_mac(value: str) -> str | None:
    """normalize_mac for the hot path: a gateway's MAC arrives with every message. Only
    what normalizes to a MAC is cached, keyed by at most 17 characters: a cache keyed on
    any payload string grew by 172 MB with 3,000 messages of 60 KB MACs."""
    mac = _MACS.get(value)
    if mac is None:
        mac = normalize_mac(value)
        if mac is not None and len(value) <= 17:
            if len(_MACS) >= _MACS_MAX:
                _MACS.clear()
            _MACS[value] = mac
    return mac


def topic_parts(topic: str) -> tuple[str | None, str | None]:
    """`tds_new/devices/{mac}/{kind}` -> (normalized mac or None, kind) or (None, None)."""
    if not topic.startswith(TOPIC_PREFIX):
        return None, None
    rest = topic[len(TOPIC_PREFIX) :].split("/")
    if len(rest) != 2:
        return None, None
    return cached_mac(rest[0]), rest[1]


# -- status -------------------------------------------------------------------------------
ONLINE = b"online"
OFFLINE = b"offline"  # also the gateway's MQTT last will


def parse_status(payload: bytes) -> bool | None:
    """`online` -> True, `offline` -> False (case and surrounding blanks ignored), else None."""
    text = status_text(payload)
    return True if text == "online" else False if text == "offline" else None


def status_text(payload: bytes) -> str:
    """A status payload as text, stripped and lower-cased (also for dead-letter details)."""
    return payload.decode("utf-8", errors="replace").strip().lower()


# -- telemetry payload --------------------------------------------------------------------
VALOR_LIMIT = Decimal("1e11")  # |valor| below this fits numeric(15, 4)
RAW_LIMIT = 10**20  # |raw| of a Modbus register
OLDEST = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)  # readings before this are bad timestamps
MAX_CODIGO = 20  # dispositivo_codigo length
MAX_UNIDADE = 16  # unidade length


def format_timestamp(when: dt.datetime, timespec: str = "auto") -> str:
    """An aware datetime as ISO 8601 in UTC with `Z` (`2026-02-18T14:30:00Z`)."""
    return when.astimezone(dt.UTC).isoformat(timespec=timespec).replace("+00:00", "Z")


def telemetry_payload(
    *,
    mac: str,
    timestamp: dt.datetime | str,
    leituras: list[dict],
    compact: bool = False,
    **extra,
) -> bytes:
    """The JSON a gateway publishes on its telemetry topic. Each reading is
    `{"dispositivo_codigo", "valor"}` or `{"dispositivo_codigo", "raw"}`, `unidade`
    optional. `compact`: no blanks after separators. `extra` adds top-level keys (tests
    of what the consumer tolerates)."""
    if isinstance(timestamp, dt.datetime):
        timestamp = format_timestamp(timestamp)
    return json.dumps(
        {"gateway_mac": mac, "timestamp": timestamp, "leituras": leituras, **extra},
        separators=(",", ":") if compact else None,
    ).encode()
