"""What a consumer configuration guarantees, said once at start-up, and the one that is refused.

Mosquitto (any 2.0/2.1 release without the persist-sqlite plugin) does not save `$share/...`
subscriptions: after a broker restart, until the consumers re-subscribe, every message
published is acknowledged to the gateway and dropped (issue 11: 89 of 1,301 in a 100 msg/s
stream). So:

- `mqtt-plain` (the default): one consumer, a plain subscription saved with its persistent
  session; nothing acknowledged is lost across broker restarts.
- `mqtt-shared` is refused unless the operator says what covers the window:
  `gateways-retry-v5` (every gateway speaks MQTT v5 and resends on PUBACK 0x10 or >= 0x80,
  the DESIGN.md contract), or `accept-loss` (logged as an error at every start).
- `nats`: a durable JetStream consumer shared by N processes; no window to cover.
"""

import logging
from dataclasses import dataclass

log = logging.getLogger(__name__)

GATEWAYS_RETRY_V5 = "gateways-retry-v5"
ACCEPT_LOSS = "accept-loss"


class DeliveryMisconfigured(Exception):
    """A configuration that would lose acknowledged messages without anybody noticing."""


@dataclass(frozen=True)
class Guarantee:
    mode: str
    level: int
    text: str

    def log(self) -> None:
        log.log(self.level, "event=delivery_guarantee mode=%s guarantee=%r", self.mode, self.text)


def guarantee_for(*, transport: str, shared: bool = False, override: str = "") -> Guarantee:
    if transport == "nats":
        return Guarantee(
            "nats-jetstream",
            logging.INFO,
            "durable JetStream consumer shared by every consumer process; a message is acked "
            "after its transaction commits and redelivered after a crash or ack timeout; "
            "stored exactly once (unique key); survives broker node restarts (replicated stream)",
        )
    if not shared:
        return Guarantee(
            "mqtt-plain",
            logging.INFO,
            "plain persistent subscription (saved by the broker with the session): every "
            "message the broker acknowledged is stored exactly once across consumer crashes "
            "and broker restarts; run ONE consumer process (several: NATS, see README)",
        )
    if override == GATEWAYS_RETRY_V5:
        return Guarantee(
            "mqtt-shared",
            logging.WARNING,
            "shared subscription: the broker forgets it on restart and answers PUBACK 0x10 "
            "until the consumers re-subscribe; nothing is lost ONLY IF every gateway speaks "
            "MQTT v5 and resends on PUBACK 0x10 or >= 0x80 (declared by --gateways-retry-v5)",
        )
    if override == ACCEPT_LOSS:
        return Guarantee(
            "mqtt-shared",
            logging.ERROR,
            "shared subscription WITH A LOSS WINDOW: after a broker restart, messages "
            "published before the consumers re-subscribe are acknowledged and DROPPED "
            "(accepted by --accept-loss-window)",
        )
    raise DeliveryMisconfigured(
        "shared subscriptions on Mosquitto lose every message published between a broker "
        "restart and the consumers' re-subscription (the broker does not save them). Run one "
        "consumer without --shared, move to NATS JetStream for several (README), or declare "
        "what covers the window: --gateways-retry-v5 (all gateways speak MQTT v5 and resend "
        "on PUBACK 0x10/>=0x80) or --accept-loss-window"
    )
