"""Gateway simulator: publishes the wire format for the demo's simulated gateways
(Gateway.simulado, set by seed_demo; never a user's own gateway).

Each device keeps a rising cumulative register (water, energy, gas: at the demo history's
pace for the local hour, telemetria.demo_history.hourly_consumption) or a wandering
temperature; devices with a fator_conversao other than 1 send the integer `raw` register
(value / fator), the others the engineering `valor`. Every simulated gateway announces
`online` (retained) and sets `offline` as its last will.
"""

import datetime as dt
import json
import logging
import random
import time
from dataclasses import dataclass, field
from decimal import Decimal

import paho.mqtt.client as mqtt
from django.utils import timezone
from django_scopes import scopes_disabled

from dispositivos.models import Gateway
from tds_core import wire
from telemetria.demo_history import hourly_consumption

from .mqtt import make_client

log = logging.getLogger(__name__)


# The first step of a meter counts the time since its last stored reading, up to this
# (the demo history ends the hour before `make run` started: its last hour is not lost).
MAX_GAP = dt.timedelta(hours=2)


@dataclass
class SimDevice:
    codigo: str
    tipo: str
    fator: Decimal
    value: float
    last: dt.datetime | None = None  # when `value` was read

    def step(self, now: dt.datetime, rng: random.Random) -> float:
        if self.tipo == "TEMP":
            self.value = max(-10.0, min(60.0, self.value + rng.uniform(-0.3, 0.3)))
        elif self.last is not None:
            hours = min(now - self.last, MAX_GAP).total_seconds() / 3600
            per_hour = hourly_consumption(self.tipo, timezone.localtime(now), rng)
            self.value += max(0.0, hours) * per_hour
        self.last = now
        return self.value

    def reading(self) -> dict:
        if self.fator != 1:
            return {
                "dispositivo_codigo": self.codigo,
                "raw": int(Decimal(str(self.value)) / self.fator),
            }
        return {"dispositivo_codigo": self.codigo, "valor": round(self.value, 4)}


@dataclass
class SimGateway:
    mac: str
    devices: list[SimDevice] = field(default_factory=list)
    config_versao: int | None = None  # the platform's configuration, as if applied
    interval: int = 60
    readings: int = 0  # per device, since the last diagnostics

    @property
    def telemetry_topic(self) -> str:
        return wire.telemetry_topic(self.mac)

    @property
    def status_topic(self) -> str:
        return wire.status_topic(self.mac)


START = {"ENERGIA": 1000.0, "AGUA": 100.0, "GAS": 50.0, "TEMP": 22.0}


def simulated_gateway_macs() -> set[str]:
    """MACs of the gateways the simulator may drive now: flagged `simulado` (the demo's
    own, set by seed_demo) and active. A user's gateway is never simulated."""
    with scopes_disabled():
        return set(
            Gateway.objects.filter(simulado=True, is_active=True).values_list("mac", flat=True)
        )


def load_gateways(*, conta_slug: str | None = None, limit: int | None = None, seed: int = 1):
    """The simulated gateways (simulated_gateway_macs) with their active devices; each
    cumulative meter continues from its last stored value, so restarting the simulator
    never makes a counter step back (which would be recorded as a meter event)."""
    from telemetria.storage import latest_per_device

    rng = random.Random(seed)  # noqa: S311 - simulated meter values
    with scopes_disabled():
        qs = (
            Gateway.objects.filter(simulado=True, is_active=True)
            .prefetch_related("dispositivos")
            .order_by("pk")
        )
        if conta_slug:
            qs = qs.filter(conta__slug=conta_slug)
        gateways = []
        for gw in qs[:limit] if limit else qs:
            active = [d for d in gw.dispositivos.all() if d.is_active]
            last = latest_per_device(conta_id=gw.conta_id, dispositivo_ids=[d.pk for d in active])
            devices = [
                SimDevice(
                    d.codigo,
                    d.tipo,
                    d.fator_conversao,
                    float(last[d.pk].valor)
                    if d.pk in last
                    else START.get(d.tipo, 0.0) * rng.uniform(0.5, 2),
                    last[d.pk].time if d.pk in last else None,
                )
                for d in active
            ]
            if devices:
                gateways.append(
                    SimGateway(gw.mac, devices, gw.config_versao, gw.intervalo_envio_segundos)
                )
    return gateways


DIAGNOSTICS_SECONDS = 60.0  # as the agent's default diagnostics interval


def diagnostics_payload(gw: SimGateway, when: dt.datetime) -> bytes:
    """What a healthy gateway agent reports (gateway_agent's diagnostics): the demo's
    gateway pages then show the agent's panel as a real one would fill it."""
    body = {
        "gateway_mac": gw.mac,
        "timestamp": wire.format_timestamp(when, timespec="seconds"),
        "agente": "tds-gateway/simulador",
        "config_versao": gw.config_versao,
        "intervalo_segundos": gw.interval,
        "outbox": {"pendentes": 0, "descartadas": 0, "mais_antiga": None},
        "relogio": {"ntp_sincronizado": True},
        "dispositivos": [
            {
                "dispositivo_codigo": d.codigo,
                "leituras": gw.readings,
                "timeouts": 0,
                "crc": 0,
                "excecoes": 0,
            }
            for d in gw.devices
        ],
    }
    gw.readings = 0
    return json.dumps(body, separators=(",", ":")).encode()


def telemetry_payload(gw: SimGateway, when: dt.datetime, rng) -> bytes:
    for d in gw.devices:
        d.step(when, rng)
    return wire.telemetry_payload(
        mac=gw.mac,
        timestamp=wire.format_timestamp(when, timespec="milliseconds"),
        leituras=[d.reading() for d in gw.devices],
    )


class Simulator:
    """One MQTT connection publishing for many gateways (the last will is per connection,
    so each simulated gateway gets its own client when there are few; in rate mode one
    shared client carries the load)."""

    def __init__(
        self, *, url: str, gateways: list[SimGateway], ca_file="", cert_file="", key_file=""
    ):
        self.url = url
        self.gateways = gateways
        self.tls = {"ca_file": ca_file, "cert_file": cert_file, "key_file": key_file}
        self.rng = random.Random(42)  # noqa: S311 - simulated meter values
        self.clients: list[mqtt.Client] = []
        self.published = 0
        self.recheck_every = 0.0  # seconds between checks that each gateway is still simulated
        self.diagnostics_every = 0.0  # seconds between diagnostics messages (0: none)

    def _diagnose(self, owners: dict) -> None:
        now = dt.datetime.now(tz=dt.UTC)
        for gw in self.gateways:
            owners[gw.mac].publish(
                wire.diagnostics_topic(gw.mac), diagnostics_payload(gw, now), qos=wire.QOS
            )

    def _drop_gone(self, owners: dict, last: dict) -> bool:
        """Stops publishing for gateways deleted, deactivated or no longer flagged
        simulated (announcing them offline); False when none is left."""
        keep = simulated_gateway_macs()
        for gw in [g for g in self.gateways if g.mac not in keep]:
            log.info("gateway %s is no longer simulated (deleted or inactive): stopping", gw.mac)
            owners[gw.mac].publish(gw.status_topic, wire.OFFLINE, qos=wire.QOS, retain=True)
            self.gateways.remove(gw)
            last.pop(gw.mac, None)
        return bool(self.gateways)

    def _client(self, client_id: str, will: SimGateway | None) -> mqtt.Client:
        client, addr = make_client(url=self.url, client_id=client_id, **self.tls)
        client.max_inflight_messages_set(1000)
        if will is not None:
            client.will_set(will.status_topic, wire.OFFLINE, qos=wire.QOS, retain=True)
        client.connect(addr.host, addr.port, keepalive=30)
        client.loop_start()
        self.clients.append(client)
        return client

    def run(self, *, interval: float, duration: float, rate: float = 0.0, stop=None) -> int:
        per_gateway = rate == 0 and len(self.gateways) <= 200
        if per_gateway:
            owners = {
                gw.mac: self._client(f"tds-sim-{gw.mac.replace(':', '')}", gw)
                for gw in self.gateways
            }
        else:
            shared = self._client(f"tds-sim-{int(time.time())}", None)
            owners = {gw.mac: shared for gw in self.gateways}
        for gw in self.gateways:
            owners[gw.mac].publish(gw.status_topic, wire.ONLINE, qos=wire.QOS, retain=True)
        if self.diagnostics_every:
            self._diagnose(owners)
        started = diagnosed = time.monotonic()
        last = {gw.mac: started for gw in self.gateways}
        msgs_per_second = (
            rate / max(1, sum(len(g.devices) for g in self.gateways) / len(self.gateways))
            if rate
            else 0
        )
        i = 0
        checked = started
        while time.monotonic() - started < duration and not (stop and stop()):
            if self.recheck_every and time.monotonic() - checked >= self.recheck_every:
                checked = time.monotonic()
                if not self._drop_gone(owners, last):
                    break
            if rate:
                gw = self.gateways[i % len(self.gateways)]
                target = started + (i + 1) / msgs_per_second
            else:
                gw = min(self.gateways, key=lambda g: last[g.mac])
                target = last[gw.mac] + interval
            delay = target - time.monotonic()
            if delay > 0:
                time.sleep(min(delay, 0.5))
                if delay > 0.5:
                    continue
            now = time.monotonic()
            payload = telemetry_payload(gw, dt.datetime.now(tz=dt.UTC), self.rng)
            last[gw.mac] = now
            owners[gw.mac].publish(gw.telemetry_topic, payload, qos=wire.QOS)
            gw.readings += 1
            self.published += 1
            i += 1
            if self.diagnostics_every and now - diagnosed >= self.diagnostics_every:
                diagnosed = now
                self._diagnose(owners)
        for gw in self.gateways:
            sent = owners[gw.mac].publish(gw.status_topic, wire.OFFLINE, qos=wire.QOS, retain=True)
            try:
                sent.wait_for_publish(5)
            except (RuntimeError, ValueError) as exc:
                # Ctrl-C on `make run`: honcho stops the broker at the same moment.
                log.warning(
                    "event=sim_stopped gateway=%s not announced offline (broker gone: %s)",
                    gw.mac,
                    exc,
                )
        for client in self.clients:
            client.disconnect()
            client.loop_stop()
        return self.published
