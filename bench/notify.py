"""Notification benchmark: a burst of alarms delivered to webhook targets by a real Celery
worker; time from each alarm's commit to its arrival at the receiver.

    .venv/bin/python bench/notify.py            # 1,000 alarms across 100 targets
    .venv/bin/python bench/notify.py --full     # 10,000 alarms across 1,000 targets

1. A fresh bench database: one account, N gateways with one meter each, alarms/N rules per
   meter; one webhook target per gateway (filtered to it), all pointing at one real
   receiver process on loopback that verifies each signature and drops repeats by key.
2. A private Redis and a real `celery worker -B` subprocess (the production task and beat).
3. Cost in the transition: the burst is fired twice through `alarmes.services.alarm_fire`
   (one transaction per alarm, as the engine does), first with the outbox receiver
   disconnected, then connected; alarms per second of each.
4. The burst with notifications on is delivered; p50/p95/max of commit -> received, per
   alarm, with the grouping window in force (`--group-seconds`, default the setting's 5 s:
   a burst is grouped into one message per target, so the window is part of the latency).

Prints a table and writes bench/results/notify[-full].json.
"""

import argparse
import json
import sys
import time
from decimal import Decimal

from benchdb import ROOT, setup

setup("bench_notify", recreate=True)

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402
from django_scopes import scopes_disabled  # noqa: E402

from alarmes import services as alarmes  # noqa: E402
from alarmes.models import Alarme, RegraAlarme  # noqa: E402
from alarmes.signals import alarm_transitioned  # noqa: E402
from contas.models import Conta  # noqa: E402
from dispositivos import services as registry  # noqa: E402
from notificacoes import services  # noqa: E402
from notificacoes.models import Envio, Notificacao  # noqa: E402
from notificacoes.receivers import _write_outbox  # noqa: E402
from prj_tds_new.celery import app  # noqa: E402
from tds_testing.celery_worker import CeleryWorker  # noqa: E402
from tds_testing.notify_receivers import Receiver  # noqa: E402
from tds_testing.servers import PrivateRedis  # noqa: E402

SECRET = "bench-secret-0123456789abcdef"


def pct(values, p):
    values = sorted(values)
    k = (len(values) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def build(*, targets: int, alarms: int, webhook_url: str) -> list[RegraAlarme]:
    conta = Conta.objects.create(nome="Bench notificações", slug="bench-notify")
    per_gateway = alarms // targets
    regras = []
    for g in range(targets):
        gw = registry.gateway_create(
            conta=conta,
            codigo=f"GW{g:04d}",
            nome=f"Gateway {g}",
            mac=f"02:00:00:00:{g // 256:02x}:{g % 256:02x}",
        )
        disp = registry.dispositivo_create(
            gateway=gw, codigo="D01", tipo="TEMP", slave_id=1, register_modbus=0
        )
        destino = services.destino_create(
            conta=conta, nome=f"Webhook {g}", tipo="webhook",
            webhook_url=f"{webhook_url}/t/{g}", gateways=[gw],
        )  # fmt: skip
        services.destino_update(destino=destino, webhook_segredo=SECRET)
        rules = [
            RegraAlarme(conta=conta, nome=f"R{g}-{r}", tipo="limite", severidade="alto",
                        dispositivo=disp, limite_superior=Decimal(-10))
            for r in range(per_gateway)
        ]  # fmt: skip
        regras.append(RegraAlarme.objects.bulk_create(rules))
    # Interleave: alarm k on gateway k % targets, as a power cut hits many at once.
    return [regras[g][r] for r in range(per_gateway) for g in range(targets)]


def fire_all(regras) -> tuple[dict[int, float], float]:
    fired, started = {}, time.perf_counter()
    for regra in regras:
        alarme = alarmes.alarm_fire(
            regra=regra, gateway_id=regra.dispositivo.gateway_id,
            dispositivo_id=regra.dispositivo_id, inicio=timezone.now(), valor=Decimal(-5),
        )  # fmt: skip
        fired[alarme.pk] = time.time()
    return fired, time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--full", action="store_true")
    parser.add_argument("--group-seconds", type=float, default=settings.TDS_NOTIFY_GROUP_SECONDS)
    parser.add_argument("--timeout", type=float, default=300)
    args = parser.parse_args()
    targets, n_alarms = (1000, 10_000) if args.full else (100, 1000)

    with scopes_disabled(), Receiver("webhook", secret=SECRET) as receiver:
        t = time.perf_counter()
        regras = build(targets=targets, alarms=n_alarms, webhook_url=receiver.url)
        print(f"setup: {time.perf_counter() - t:.1f} s", flush=True)
        disp_cache = {}
        for r in regras:  # one query per device, not per alarm, while timing
            r.dispositivo = disp_cache.setdefault(r.dispositivo_id, r.dispositivo)

        # Phase 0: the same burst without the outbox receiver (alarms then closed by SQL).
        alarm_transitioned.disconnect(_write_outbox, dispatch_uid="notificacoes.outbox")
        _, seconds_off = fire_all(regras)
        print(f"burst without notifications: {seconds_off:.1f} s", flush=True)
        alarm_transitioned.connect(_write_outbox, dispatch_uid="notificacoes.outbox")
        with connection.cursor() as cur:
            cur.execute("UPDATE tds_new_alarme SET estado = 'encerrado', fim = now()")

        redis = PrivateRedis().start()
        app.conf.broker_url = redis.url
        settings.TDS_NOTIFY_GROUP_SECONDS = args.group_seconds
        worker = CeleryWorker(
            broker_url=redis.url,
            database_url=_database_url(),
            env={"TDS_NOTIFY_GROUP_SECONDS": str(args.group_seconds)},
        ).start()
        try:
            _wait_ready(worker)
            fired, seconds_on = fire_all(regras)
            print(f"burst with notifications: {seconds_on:.1f} s", flush=True)
            drained = _wait_delivered(receiver, set(fired), args.timeout)
            entries = receiver.entries()
        finally:
            worker.stop()
            redis.stop()

    latencies, duplicates, invalid = [], 0, 0
    for e in entries:
        if not e["valid"]:
            invalid += 1
            continue
        if e["duplicate"]:
            duplicates += 1
            continue
        for ev in e["payload"]["eventos"]:
            if ev["alarme"] in fired:
                latencies.append(e["t"] - fired[ev["alarme"]])
    delivered = len(latencies)
    result = {
        "alarms": n_alarms,
        "targets": targets,
        "group_seconds": args.group_seconds,
        "fire_rate_without_notifications": round(n_alarms / seconds_off, 1),
        "fire_rate_with_notifications": round(n_alarms / seconds_on, 1),
        "outbox_rows": Notificacao.objects.count(),
        "messages": Envio.objects.count(),
        "delivered_alarms": delivered,
        "duplicates_received": duplicates,
        "invalid_signatures": invalid,
        "drain_seconds": round(drained, 2),
        "latency_p50_s": round(pct(latencies, 50), 3) if latencies else None,
        "latency_p95_s": round(pct(latencies, 95), 3) if latencies else None,
        "latency_max_s": round(max(latencies), 3) if latencies else None,
        "open_alarms": Alarme.objects.filter(estado="ativo").count(),
    }
    print(f"{'measure':<44} result")
    for k, v in result.items():
        print(f"{k:<44} {v}")
    out = ROOT / "bench" / "results" / ("notify-full.json" if args.full else "notify.json")
    out.write_text(json.dumps(result, indent=2))
    ok = delivered == n_alarms and not invalid
    return 0 if ok else 1


def _database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def _wait_ready(worker, timeout=60) -> None:
    deadline = time.monotonic() + timeout
    while "ready" not in worker.output():
        if time.monotonic() > deadline:
            raise SystemExit(f"worker not ready:\n{worker.output()[-2000:]}")
        time.sleep(0.2)


def _wait_delivered(receiver, alarm_ids: set, timeout: float) -> float:
    """Seconds from now until every alarm arrived (at least once) at the receiver."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        got = {
            ev["alarme"] for e in receiver.entries() if e["valid"] for ev in e["payload"]["eventos"]
        }
        if alarm_ids <= got:
            return time.monotonic() - started
        time.sleep(0.25)
    return float("nan")


if __name__ == "__main__":
    with scopes_disabled():
        sys.exit(main())
