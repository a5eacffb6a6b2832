"""Hostile input (issue 12, items 4 and 5): a poisoned reading cannot slow its batch, a
batch the database still refuses is taken apart by halves, dead letters are bounded
(payload size, rows per gateway and hour, retention), no cache grows with what a
gateway sends, batches are bounded by bytes."""

import datetime as dt
import json
import time
import tracemalloc
from decimal import Decimal

import pytest
from django.db import connection
from django.urls import reverse

from certificados.mosquitto import BrokerOptions, render_conf
from ingestao import services, tasks
from ingestao.models import ContagemRejeicoes, MensagemRejeitada
from ingestao.registry import load_gateways
from ingestao.validation import parse_telemetry
from ingestao.worker import IngestWorker, Received, WorkerOptions
from tds_core.wire import topic_parts
from tds_testing.factories import PASSWORD
from telemetria.models import LeituraDispositivo

from .helpers import ROOT, payload, telemetry_topic

pytestmark = pytest.mark.django_db


def received(topic, data, mid=1, *, at=None):
    # QoS 0: nothing to acknowledge, so _process runs without a broker.
    return Received(1, mid, 0, topic, data, at or dt.datetime.now(tz=dt.UTC), time.monotonic())


@pytest.fixture
def worker(planta):
    w = IngestWorker(WorkerOptions(url="mqtt://127.0.0.1:1", client_id="t"))
    w.registry.reload()
    writes = []
    pipeline = w.pipeline
    write = pipeline.write

    def counting_write(prepared, **kwargs):
        writes.append(len(prepared.batch))
        return write(prepared, **kwargs)

    pipeline.write = counting_write
    w.writes = writes
    return w


def _batch(gw, n, poison_at, poison_reading):
    start = dt.datetime.now(tz=dt.UTC).replace(microsecond=0) - dt.timedelta(hours=1)
    batch = []
    for i in range(n):
        reading = {"dispositivo_codigo": "D01", "valor": 1000 + i, "unidade": "kWh"}
        if i == poison_at:
            reading = poison_reading
        data = payload(gw.mac, start + dt.timedelta(seconds=i), [reading])
        batch.append(received(telemetry_topic(gw.mac), data, i + 1))
    return batch


POISONS = {
    "tiny exponent": b'{"dispositivo_codigo": "D01", "valor": 1e-20000}',
    "rounds out of range": b'{"dispositivo_codigo": "D01", "valor": 99999999999.99995}',
    "NUL in unidade": b'{"dispositivo_codigo": "D01", "valor": 1, "unidade": "k\\u0000Wh"}',
    "lone surrogate in unidade": b'{"dispositivo_codigo": "D01", "valor": 1, "unidade": "\\ud800"}',
    "NUL in dispositivo_codigo": b'{"dispositivo_codigo": "D0\\u00001", "valor": 1}',
}


@pytest.mark.parametrize("poison", POISONS.values(), ids=POISONS.keys())
def test_one_poisoned_message_among_301_is_dead_lettered_and_the_300_commit_at_once(
    worker, planta, poison
):
    gw = planta["gateway"]
    batch = _batch(gw, 301, 150, None)
    bad = json.loads(batch[150].payload)
    bad["leituras"] = ["POISON"]
    batch[150].payload = json.dumps(bad).encode().replace(b'"POISON"', poison)

    started = time.monotonic()
    assert worker.pipeline._process(batch)
    elapsed = time.monotonic() - started

    assert LeituraDispositivo.objects.filter(dispositivo__gateway=gw).count() == 300
    dead = MensagemRejeitada.objects.get()
    assert dead.motivo in ("bad_value", "schema")  # named, not an internal error
    assert bytes(dead.payload) == batch[150].payload
    assert worker.writes == [301]  # one transaction: validation kept the poison out
    assert elapsed < 1.5, f"{elapsed:.2f} s (a message at a time took ~2 s)"


def test_rounding_like_the_column(planta):
    gw = planta["gateway"]
    entry = load_gateways()[gw.mac]
    mac, _ = topic_parts(telemetry_topic(gw.mac))
    now = dt.datetime.now(tz=dt.UTC)
    readings = [
        {"dispositivo_codigo": "D01", "valor": 0.00004},
        {"dispositivo_codigo": "D03", "valor": 123.45000000000002},
    ]
    out = parse_telemetry(
        topic_mac=mac, payload=payload(gw.mac, now, readings), gateway=entry, now=now
    )
    assert out.reason is None
    assert [r.valor for r in out.rows] == [Decimal("0.0000"), Decimal("123.4500")]


@pytest.fixture
def refuse_666(db):
    """A row the database refuses although validation accepts it (a trigger): what
    bisection is for (a constraint added later, a bug)."""
    with connection.cursor() as cur:
        cur.execute(
            """
            CREATE FUNCTION tds_test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NEW.valor = 666 THEN RAISE EXCEPTION 'refused by test trigger'; END IF;
                RETURN NEW;
            END $$;
            CREATE TRIGGER tds_test_refuse BEFORE INSERT ON tds_new_leitura_dispositivo
            FOR EACH ROW EXECUTE FUNCTION tds_test_refuse();
            """
        )


def test_a_batch_the_database_refuses_is_bisected_to_its_culprit(worker, planta, refuse_666):
    gw = planta["gateway"]
    batch = _batch(gw, 301, 200, {"dispositivo_codigo": "D01", "valor": 666})

    started = time.monotonic()
    assert worker.pipeline._process(batch)
    elapsed = time.monotonic() - started

    assert LeituraDispositivo.objects.filter(dispositivo__gateway=gw).count() == 300
    dead = MensagemRejeitada.objects.get()
    assert dead.motivo == "internal_error"
    assert "refused by test trigger" in dead.detalhe
    assert bytes(dead.payload) == batch[200].payload
    # The failed batch, then halves down to the one message: about 2·log2(301) + 1
    # transactions, not 301.
    assert len(worker.writes) <= 2 * 9 + 1, worker.writes
    assert elapsed < 3, f"{elapsed:.2f} s"


# -- dead letters -----------------------------------------------------------------------
def _reject(gw, i, *, size=100, at=None):
    body = b"\xff" + b"x" * (size - 1)  # not UTF-8
    return received(telemetry_topic(gw.mac), body, i, at=at)


def test_dead_letter_payload_is_truncated_with_its_original_size(worker, planta, settings):
    settings.TDS_DEAD_LETTER_PAYLOAD_BYTES = 4096
    gw = planta["gateway"]
    worker.consume_batch([_reject(gw, 1, size=60_000)])
    dead = MensagemRejeitada.objects.get()
    assert len(bytes(dead.payload)) == 4096
    assert dead.tamanho_payload == 60_000
    assert dead.payload_text(limit=10_000).endswith("…")


def test_repeated_rejects_of_one_gateway_are_counted_not_stored_past_the_threshold(
    worker, planta, settings
):
    settings.TDS_DEAD_LETTER_MAX_PER_HOUR = 20
    gw = planta["gateway"]
    hour = dt.datetime.now(tz=dt.UTC).replace(minute=5)
    worker.consume_batch([_reject(gw, i, at=hour) for i in range(15)])
    worker.consume_batch([_reject(gw, i, at=hour) for i in range(15)])
    worker.consume_batch([_reject(gw, i, at=hour) for i in range(100)])
    assert MensagemRejeitada.objects.count() == 20
    count = ContagemRejeicoes.objects.get()
    assert (count.quantidade, count.gateway_id, count.conta_id) == (130, gw.pk, gw.conta_id)
    assert worker.metrics.rejects == {"not_utf8": 130}  # every reject still counted
    # An unknown gateway is counted by its topic's MAC, apart from the known one.
    other = "02:00:00:00:00:77"
    worker.consume_batch([received(telemetry_topic(other), b"\xff", i, at=hour) for i in range(30)])
    assert MensagemRejeitada.objects.filter(gateway=None).count() == 20
    assert ContagemRejeicoes.objects.get(fonte=f"mac:{other}").quantidade == 30
    # The next hour starts again.
    worker.consume_batch([_reject(gw, 1, at=hour + dt.timedelta(hours=1))])
    assert MensagemRejeitada.objects.filter(gateway=gw).count() == 21


def test_dead_letter_text_is_stored_even_with_nul_and_lone_surrogates(planta):
    gw = planta["gateway"]
    services.rejeitadas_store(
        items=[
            {
                "recebida_em": dt.datetime.now(tz=dt.UTC),
                "topico": telemetry_topic(gw.mac),
                "payload": b"{}",
                "motivo": "schema",
                "detalhe": "codes: D\x001, \ud800",
                "gateway_id": gw.pk,
                "conta_id": gw.conta_id,
            }
        ]
    )
    assert MensagemRejeitada.objects.get().detalhe == "codes: D\\x001, \\ud800"


def test_retention_job_deletes_dead_letters_past_the_setting(planta, settings):
    settings.TDS_DEAD_LETTER_RETENTION_DAYS = 30
    gw = planta["gateway"]
    now = dt.datetime.now(tz=dt.UTC)
    items = [
        {
            "recebida_em": now - dt.timedelta(days=days),
            "topico": telemetry_topic(gw.mac),
            "payload": b"x",
            "motivo": "not_json",
            "detalhe": "",
            "gateway_id": gw.pk,
            "conta_id": gw.conta_id,
        }
        for days in (0, 29, 31, 400)
    ]
    services.rejeitadas_store(items=items)
    assert tasks.rejeitadas_purge() == 2
    kept = sorted((now - m.recebida_em).days for m in MensagemRejeitada.objects.all())
    assert kept == [0, 29]
    assert ContagemRejeicoes.objects.count() == 2


# -- unbounded growth --------------------------------------------------------------------
def test_long_macs_do_not_grow_any_cache(planta):
    gw = planta["gateway"]
    entry = load_gateways()[gw.mac]
    mac, _ = topic_parts(telemetry_topic(gw.mac))
    now = dt.datetime.now(tz=dt.UTC)
    messages = [
        payload(f"{i:06d}" + "a" * 60_000, now, [{"dispositivo_codigo": "D01", "valor": 1}])
        for i in range(300)
    ]
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for data in messages:
            out = parse_telemetry(topic_mac=mac, payload=data, gateway=entry, now=now)
            assert out.reason == "schema"
        del out
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert grown < 1_000_000, f"{grown} bytes kept after 300 messages of 60 KB MACs"


def test_a_batch_ends_at_its_byte_limit(planta):
    w = IngestWorker(
        WorkerOptions(url="mqtt://127.0.0.1:1", client_id="t", batch_max_bytes=4 * 2**20)
    )
    for i in range(10):
        w.pipeline.queue.put(received("tds_new/devices/x/telemetry", b"x" * 2**20, i))
    assert [len(w.pipeline._collect(wait=False)) for _ in range(3)] == [4, 4, 2]


def test_broker_packet_limit_follows_the_ingest_limit(settings, tmp_path):
    settings.TDS_INGEST_MAX_PAYLOAD_BYTES = 65536
    assert "max_packet_size 66560\n" in render_conf(BrokerOptions(out=tmp_path))
    assert "max_packet_size 66560\n" in (ROOT / "deploy" / "mosquitto-dev.conf").read_text()


def test_the_rejects_page_says_how_many_were_only_counted(
    client, worker, planta, admin_a, admin_b, settings
):
    settings.TDS_DEAD_LETTER_MAX_PER_HOUR = 5
    gw = planta["gateway"]
    worker.consume_batch([_reject(gw, i) for i in range(12)])
    assert client.login(email=admin_a.email, password=PASSWORD)
    page = client.get(reverse("ingestao:rejeitadas")).content.decode()
    assert 'data-testid="only-counted"' in page
    assert "Mais 7 rejeições repetidas foram apenas contadas" in page
    assert client.login(email=admin_b.email, password=PASSWORD)
    page = client.get(reverse("ingestao:rejeitadas")).content.decode()
    assert 'data-testid="only-counted"' not in page


def test_metrics_listen_on_loopback_only():
    """The Prometheus endpoint has no authentication: 127.0.0.1 unless configured."""
    from ingestao.metrics import IngestMetrics
    from tds_testing.mosquitto import free_port

    port = free_port()
    IngestMetrics(log_interval=60).serve(port)
    with open("/proc/net/tcp") as f:
        listening = [
            line.split()[1] for line in f.read().splitlines()[1:] if line.split()[3] == "0A"
        ]
    assert f"0100007F:{port:04X}" in listening  # 127.0.0.1:port
    assert f"00000000:{port:04X}" not in listening  # not 0.0.0.0
