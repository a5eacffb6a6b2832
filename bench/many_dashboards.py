"""Many dashboards at once: N logged-in users (each with its own session) open the
dashboard page and its SSE stream at the same moment, against a running stream of live
events; uvicorn with several workers and the connection pool, as the production units
run it.

    .venv/bin/python bench/many_dashboards.py            # quick: 100 dashboards
    .venv/bin/python bench/many_dashboards.py --full     # 1,000 dashboards
    .venv/bin/python bench/many_dashboards.py --clients 300 --workers 4 --seconds 20

Reports: page and stream errors (anything but HTTP 200, or a stream that did not open),
page latency, publish -> event latency at every client (p50/p95/max over all events
received), events lost, and the peak connections: clients of a private Redis, PostgreSQL
backends on the bench database, and the web workers' own sockets besides the clients'.
Target (issue 12): no errors, p95 publish -> event <= 150 ms, connections bounded.
Writes bench/results/many_dashboards[-full].json.
"""

import argparse
import asyncio
import json
import os
import statistics
import sys
import threading
import time
from collections import Counter

from benchdb import ROOT, setup

setup("bench_many")

import psycopg  # noqa: E402
import redis  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY  # noqa: E402
from django.contrib.auth.hashers import make_password  # noqa: E402
from django.contrib.sessions.backends.db import SessionStore  # noqa: E402
from django.db import connection  # noqa: E402
from django_scopes import scopes_disabled  # noqa: E402

from contas.models import Conta, ContaMembership, CustomUser, Role  # noqa: E402
from tds_core.live import live_channel  # noqa: E402
from tds_testing import factories  # noqa: E402
from tds_testing.servers import private_redis, sse_open, uvicorn  # noqa: E402

USERS_PER_CONTA = 100
PAGE = "/telemetria/"
EVENTS = "/telemetria/eventos/"


def pct(values, p):
    if not values:
        return float("nan")
    values = sorted(values)
    k = (len(values) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def build_users(n: int) -> tuple[list[int], list[str]]:
    """n users in ceil(n / 100) accounts, with a gateway and a meter each; returns the
    account ids and one session cookie per user (sessions stored like a login's)."""
    password = make_password("bench-many-123")
    contas, cookies = [], []
    with scopes_disabled():
        for c in range((n + USERS_PER_CONTA - 1) // USERS_PER_CONTA):
            conta, created = Conta.objects.get_or_create(
                slug=f"bench-many-{c}", defaults={"nome": f"Bench muitos {c}"}
            )
            if created:
                gw = factories.make_gateway(
                    conta=conta, codigo=f"GW-{c}", mac=f"02:bb:00:00:{c // 256:02x}:{c % 256:02x}"
                )
                factories.make_dispositivo(gateway=gw, codigo="D01", tipo="ENERGIA")
            contas.append(conta.pk)
            for u in range(USERS_PER_CONTA):
                if len(cookies) == n:
                    break
                email = f"bench-many-{c}-{u}@example.com"
                user = CustomUser.objects.filter(email=email).first()
                if user is None:
                    user = CustomUser.objects.create(email=email, password=password)
                    ContaMembership.objects.create(conta=conta, user=user, role=Role.LEITOR)
                session = SessionStore()
                session[SESSION_KEY] = str(user.pk)
                session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
                session[HASH_SESSION_KEY] = user.get_session_auth_hash()
                session.create()
                cookies.append(f"{settings.SESSION_COOKIE_NAME}={session.session_key}")
    return contas, cookies


async def get_page(base: str, cookie: str) -> tuple[int, float]:
    host, port = base.removeprefix("http://").split(":")
    started = time.monotonic()
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(
        f"GET {PAGE} HTTP/1.1\r\nHost: {host}\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n".encode()
    )
    await writer.drain()
    body = await reader.read()
    writer.close()
    status = int(body.split(b" ", 2)[1]) if body else 0
    return status, time.monotonic() - started


async def dashboard(base, cookie, latencies, errors, opened) -> None:
    """One user: the page, then the stream, reading events until cancelled."""
    try:
        status, _ = await get_page(base, cookie)
        if status != 200:
            errors.append(f"page {status}")
            return
        status, reader, writer = await sse_open(base, EVENTS, cookie, timeout=120)
        if status != 200:
            errors.append(f"stream {status}")
            return
    except (OSError, TimeoutError, asyncio.IncompleteReadError) as exc:
        errors.append(f"{type(exc).__name__}: {exc}")
        return
    opened.append(1)
    try:
        while True:
            line = await reader.readline()
            if not line:
                errors.append("stream ended")
                return
            if line.startswith(b"data: "):
                event = json.loads(line[6:])
                latencies.append(time.time() - float(event["last_seen"]))
    except asyncio.CancelledError:
        writer.close()
        raise


def sample_connections(stop, peaks, redis_url, db_name, web_pids):
    r = redis.Redis.from_url(redis_url)
    admin = psycopg.connect(os.environ["DATABASE_URL"], autocommit=True)
    while not stop.is_set():
        clients = r.client_list()
        if len(clients) - 1 > peaks["redis"]:
            peaks["redis"] = len(clients) - 1
            names = Counter(c.get("name") or c.get("cmd") for c in clients)
            peaks["redis_by_name"] = dict(names.most_common(5))
        n = admin.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [db_name],
        ).fetchone()[0]
        peaks["postgres"] = max(peaks["postgres"], n)
        stop.wait(0.1)
    admin.close()


async def run(args, base, redis_url, contas, cookies) -> dict:
    latencies, errors, opened = [], [], []
    started = time.monotonic()
    tasks = [asyncio.create_task(dashboard(base, c, latencies, errors, opened)) for c in cookies]
    deadline = time.monotonic() + 300
    while len(opened) + len(errors) < len(cookies) and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    open_seconds = time.monotonic() - started
    # The running stream: an event per account every `interval`, stamped at publish.
    r = redis.Redis.from_url(redis_url)
    published = 0
    stop_at = time.monotonic() + args.seconds
    while time.monotonic() < stop_at:
        for conta_id in contas:
            event = {"type": "gateway_status", "gateway_id": 0, "is_online": True,
                     "last_seen": repr(time.time())}  # fmt: skip
            r.publish(live_channel(conta_id), json.dumps(event))
            published += 1
        await asyncio.sleep(args.interval)
    await asyncio.sleep(1.0)  # the last events in flight
    received = len(latencies)
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    per_conta = (len(cookies) + USERS_PER_CONTA - 1) // USERS_PER_CONTA
    expected = sum(
        min(USERS_PER_CONTA, len(cookies) - i * USERS_PER_CONTA) for i in range(per_conta)
    ) * (published // max(1, len(contas)))
    ms = [x * 1000 for x in latencies]
    return {
        "clients": len(cookies),
        "streams_opened": len(opened),
        "errors": len(errors),
        "error_kinds": sorted({e.split(":")[0] for e in errors}),
        "seconds_to_open_all": round(open_seconds, 2),
        "events_published": published,
        "events_expected_at_clients": expected,
        "events_received": received,
        "publish_to_event_ms": {
            "p50": round(pct(ms, 50), 1),
            "p95": round(pct(ms, 95), 1),
            "max": round(max(ms), 1) if ms else None,
            "mean": round(statistics.fmean(ms), 1) if ms else None,
        },
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--full", action="store_true", help="1,000 dashboards")
    parser.add_argument("--clients", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2, help="uvicorn workers")
    parser.add_argument("--pool", type=int, default=8, help="DB pool max size per worker")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of the stream")
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between events")
    args = parser.parse_args(argv)
    clients = args.clients or (1000 if args.full else 100)
    contas, cookies = build_users(clients)
    db_name = connection.settings_dict["NAME"]
    connection.close()
    peaks = {"redis": 0, "postgres": 0}
    with private_redis() as redis_url:
        env = {
            "REDIS_URL": redis_url,
            "DJANGO_DEBUG": "on",
            "DJANGO_DB_POOL_MAX_SIZE": str(args.pool),
            "LOG_LEVEL": "WARNING",
        }
        log = ROOT / "bench" / "results" / "many_dashboards-uvicorn.log"
        with uvicorn(env=env, workers=args.workers, log=log) as (base, _proc):
            stop = threading.Event()
            sampler = threading.Thread(
                target=sample_connections, args=(stop, peaks, redis_url, db_name, None)
            )
            sampler.start()
            try:
                result = asyncio.run(run(args, base, redis_url, contas, cookies))
            finally:
                stop.set()
                sampler.join()
    result.update(
        workers=args.workers,
        pool_max_per_worker=args.pool,
        peak_redis_clients=peaks["redis"],
        peak_redis_clients_by_name_or_command=peaks.get("redis_by_name", {}),
        peak_postgres_connections=peaks["postgres"],
    )
    print(f"{'measure':<40} value")
    for key, value in result.items():
        print(f"{key:<40} {value}")
    out = (
        ROOT
        / "bench"
        / "results"
        / ("many_dashboards-full.json" if args.full else "many_dashboards.json")
    )
    out.write_text(json.dumps(result, indent=2) + "\n")
    ok = result["errors"] == 0 and result["publish_to_event_ms"]["p95"] <= 150
    print("target met" if ok else "target NOT met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
