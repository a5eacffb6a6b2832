"""The database goes away for 10 s under a running consumer: it stops acking, retries
with backoff, resumes; nothing is lost or duplicated."""

import datetime as dt
import json
import os
import subprocess
import sys
import threading
import time

import psycopg
import pytest

from tds_testing.postgres import PrivatePostgres, available
from tds_testing.waiting import wait_for

from .helpers import (
    ROOT,
    Publisher,
    payload,
    start_consumer,
    stop,
    telemetry_topic,
    wait_connected,
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not available(), reason="no PostgreSQL 15 binaries"),
]

SETUP = """
import json
from django_scopes import scopes_disabled
from tds_testing import factories
with scopes_disabled():
    conta = factories.make_conta(nome="Outage")
    gw = factories.make_gateway(conta=conta, mac="02:00:00:0f:00:01")
    ds = [factories.make_dispositivo(gateway=gw, codigo=f"D0{i}") for i in (1, 2, 3, 4)]
print(json.dumps({"mac": gw.mac, "codigos": [d.codigo for d in ds]}))
"""


def manage(url, *args, stdin=None):
    env = {**os.environ, "DATABASE_URL": url, "TDS_TIMESCALE": "off"}
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        env=env,
        cwd=ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )


def count(url):
    with psycopg.connect(url) as conn:
        total, distinct = conn.execute(
            "SELECT count(*), count(DISTINCT (dispositivo_id, time)) FROM tds_new_leitura_dispositivo"
        ).fetchone()
    return total, distinct


@pytest.fixture
def pg():
    server = PrivatePostgres().init()
    yield server
    server.close()


def test_database_down_10s_mid_stream(pg, mosquitto, tmp_path):
    url = pg.create_database("tds_outage")
    manage(url, "migrate", "--noinput", "-v", "0")
    info = json.loads(manage(url, "shell", stdin=SETUP).stdout.strip().splitlines()[-1])
    log = tmp_path / "consumer.log"
    proc = start_consumer(mosquitto.port, database_url=url, log_path=log)
    wait_connected(log)
    pub = Publisher(mosquitto.port)
    n = 300  # over ~15 s
    t0 = dt.datetime(2026, 3, 2, tzinfo=dt.UTC)

    def feed():
        for i in range(n):
            leituras = [{"dispositivo_codigo": c, "valor": i} for c in info["codigos"]]
            pub.publish(
                telemetry_topic(info["mac"]),
                payload(info["mac"], t0 + dt.timedelta(seconds=i), leituras),
            )
            time.sleep(0.05)

    feeder = threading.Thread(target=feed)
    feeder.start()
    try:
        assert wait_for(lambda: count(url)[0] > 0, timeout=15)
        pg.stop()
        time.sleep(10)
        pg.start()
        feeder.join()
        pub.flush()
        expected = n * len(info["codigos"])
        assert wait_for(lambda: count(url)[0] >= expected, timeout=40), count(url)
        time.sleep(1)
        assert count(url) == (expected, expected)  # all there, none twice
    finally:
        code = stop(proc)
        pub.close()
    text = log.read_text()
    assert "event=db_error" in text  # it did see the outage and retried
    assert code == 0
    stats = [ln for ln in text.splitlines() if "event=ingest_stats" in ln][-1]
    assert " db_retries=" in stats
