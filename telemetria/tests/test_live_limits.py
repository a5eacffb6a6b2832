"""What one user can hold open (issue 12, item 6), against a real uvicorn and a private
Redis: SSE streams share one pub/sub per web process and are capped per user; CSV
exports run in short transactions and are capped per account."""

import asyncio
import datetime as dt
import json
import time
from decimal import Decimal

import pytest
import redis
from django.db import connection
from django.test import Client
from django.urls import reverse

from tds_core.live import live_channel
from tds_testing import factories
from tds_testing.servers import private_redis, sse_next_event, sse_open, uvicorn
from telemetria import storage
from telemetria.storage import ReadingRow, insert_readings

EVENTS = "/telemetria/eventos/"


def _db_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}"


@pytest.fixture
def web(transactional_db):
    """uvicorn on the test database and a private Redis with maxclients 40 (the limit 45
    streams of one user used to exhaust)."""
    with private_redis(maxclients=40) as redis_url:
        env = {
            "DATABASE_URL": _db_url(),
            "REDIS_URL": redis_url,
            "TDS_SSE_MAX_STREAMS_PER_USER": "50",
            "TDS_SSE_HEARTBEAT_SECONDS": "5",
        }
        with uvicorn(env=env) as (base, _proc):
            yield base, redis.Redis.from_url(redis_url)


def _clients(r) -> int:
    return r.info("clients")["connected_clients"]


def test_45_streams_of_one_user_share_one_redis_connection(web, conta_a, leitor_a):
    base, r = web
    cookie = _cookie(leitor_a)
    before = _clients(r)

    async def scenario():
        streams = [await sse_open(base, EVENTS, cookie) for _ in range(45)]
        assert [s[0] for s in streams] == [200] * 45
        during = _clients(r)
        event = {"type": "gateway_status", "gateway_id": 1, "is_online": True, "last_seen": None}
        r.publish(live_channel(conta_a.pk), json.dumps(event))
        got = await asyncio.gather(*(sse_next_event(s[1], "gateway_status", 10) for s in streams))
        for _status, _reader, writer in streams:
            writer.close()
        return during, got

    during, got = asyncio.run(scenario())
    assert all(b'"gateway_id": 1' in data for data in got), got[:2]
    # One pub/sub plus a command connection for the slots, not one per stream.
    assert during - before <= 3, (before, during)


def test_streams_per_user_are_capped_and_released(web, conta_a, leitor_a, admin_a, settings):
    base, _redis = web
    cookie, other_cookie = _cookie(leitor_a), _cookie(admin_a)

    async def scenario():
        streams = [await sse_open(base, EVENTS, cookie) for _ in range(50)]
        assert {s[0] for s in streams} == {200}
        refused, *_ = await sse_open(base, EVENTS, cookie)
        other, _r, other_w = await sse_open(base, EVENTS, other_cookie)  # another user
        other_w.close()
        streams[0][2].close()  # one closed: its slot comes back
        deadline = time.monotonic() + 10
        while True:
            again, _r2, w2 = await sse_open(base, EVENTS, cookie)
            w2.close()
            if again == 200 or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.1)
        for s in streams[1:]:
            s[2].close()
        return refused, other, again

    assert asyncio.run(scenario()) == (429, 200, 200)


# -- CSV -------------------------------------------------------------------------------
@pytest.fixture
def readings(transactional_db, conta_a):
    gw = factories.make_gateway(conta=conta_a, codigo="GW-CSV")
    d = factories.make_dispositivo(gateway=gw, codigo="D01", tipo="ENERGIA")
    start = dt.datetime.now(tz=dt.UTC).replace(microsecond=0) - dt.timedelta(hours=2)
    rows = [
        ReadingRow(
            start + dt.timedelta(seconds=i), conta_a.pk, gw.pk, d.pk, Decimal(i), "kWh", None
        )
        for i in range(250)
    ]
    insert_readings(rows)
    return d, start


def test_export_holds_no_transaction_between_chunks(readings, conta_a):
    d, start = readings
    rows = storage.iter_readings(
        conta_id=conta_a.pk,
        dispositivo_ids=[d.pk],
        start=start,
        end=start + dt.timedelta(hours=1),
        chunk_size=100,
    )
    first = next(rows)  # the client has the first chunk and reads slowly
    assert first[2] == Decimal(0)
    assert not connection.in_atomic_block
    with connection.cursor() as cur:
        cur.execute("SELECT state FROM pg_stat_activity WHERE pid = pg_backend_pid()")
        assert cur.fetchone()[0] == "active"  # this query; no transaction left open
    assert connection.connection.info.transaction_status == 0  # psycopg: IDLE
    rest = list(rows)
    assert [r[2] for r in [first, *rest]] == [Decimal(i) for i in range(250)]


def test_concurrent_exports_per_account_are_capped(readings, admin_a, settings):
    settings.TDS_CSV_MAX_CONCURRENT_PER_CONTA = 2
    d, _start = readings
    client = Client()
    client.force_login(admin_a)
    url = reverse("telemetria:csv_dispositivo", args=[d.pk])
    first, second = client.get(url), client.get(url)
    assert (first.status_code, second.status_code) == (200, 200)
    third = client.get(url)
    assert third.status_code == 429
    assert "exportações" in third.json()["erro"]
    first.close()  # a finished (or abandoned) download gives its slot back
    fourth = client.get(url)
    assert fourth.status_code == 200
    for response in (second, fourth):
        b"".join(response.streaming_content)
        response.close()


def test_reconnect_delay_is_jittered():
    """Streams opened together must not all come back together: each tells the browser a
    reconnect delay of 1-5 s at random."""
    from telemetria.sse import live_stream

    async def first_frame():
        stream = live_stream(channel="tds:test:jitter", heartbeat=5, max_seconds=5)
        frame = await stream.__anext__()
        await stream.aclose()
        return int(frame.split("\n")[0].removeprefix("retry: "))

    async def twenty():
        return [await first_frame() for _ in range(20)]

    delays = asyncio.run(twenty())
    assert all(1000 <= d < 5000 for d in delays)
    assert len(set(delays)) > 5
