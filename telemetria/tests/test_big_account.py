"""Big accounts: the dashboard's first screen summarises (per-utility totals, top consumers,
what changed) and lists gateways by search and attention; the account-wide APIs answer
pages. Another account's data never appears. Hand-computed."""

import json
import re
from datetime import date
from decimal import Decimal as D

import pytest
from django.urls import reverse

from dispositivos.models import Gateway
from tds_testing import factories
from tds_testing.readings import local, store_points
from telemetria.selectors import dashboard_summary
from telemetria.storage import refresh_rollups

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("clean_store")]

NOW = local(2026, 3, 15, 12, 0)


@pytest.fixture
def plant(conta_a, conta_b):
    """Account A: GW-1 and GW-2, one water meter each (Mar 13 and 14 readings); account B:
    a gateway consuming far more, which must never show on A's pages."""
    gw1 = factories.make_gateway(conta=conta_a, codigo="GW-1", nome="Bloco um")
    gw2 = factories.make_gateway(conta=conta_a, codigo="GW-2", nome="Bloco dois")
    a1 = factories.make_dispositivo(gateway=gw1, codigo="D01", tipo="AGUA")
    a2 = factories.make_dispositivo(gateway=gw2, codigo="D01", tipo="AGUA")
    store_points(
        a1,
        [
            (local(2026, 3, 13, 8, 0), 100),
            (local(2026, 3, 13, 20, 0), 110),  # Mar 13: 10
            (local(2026, 3, 14, 8, 0), 115),
            (local(2026, 3, 14, 20, 0), 140),  # Mar 14: 5 + 25 = 30
        ],
    )
    store_points(
        a2,
        [
            (local(2026, 3, 13, 8, 0), 500),
            (local(2026, 3, 13, 20, 0), 520),  # Mar 13: 20
            (local(2026, 3, 14, 8, 0), 525),
            (local(2026, 3, 14, 20, 0), 530),  # Mar 14: 10
        ],
    )
    gwb = factories.make_gateway(conta=conta_b, codigo="GW-B9", nome="Outra conta")
    b1 = factories.make_dispositivo(gateway=gwb, codigo="D01", tipo="AGUA")
    store_points(b1, [(local(2026, 3, 13, 8, 0), 0), (local(2026, 3, 14, 20, 0), 9999)])
    refresh_rollups()  # the summary reads the totals the rollup job keeps
    return {"gw1": gw1, "gw2": gw2, "gwb": gwb, "a1": a1, "a2": a2, "b1": b1}


def test_summary_top_consumers_and_what_changed(conta_a, plant):
    s = dashboard_summary(conta=conta_a, now=NOW)
    (agua,) = s["utilities"]
    assert (agua["mes"], agua["medidores"]) == (70, 2)  # 40 + 30
    (top,) = s["top"]
    assert [(r["gateway"].codigo, r["consumo"]) for r in top["gateways"]] == [
        ("GW-1", 40),
        ("GW-2", 30),
    ]
    assert [
        (m["gateway"].codigo, m["anteontem"], m["ontem"], m["delta"]) for m in s["mudancas"]
    ] == [
        ("GW-1", 10, 30, 20),  # +200 %
        ("GW-2", 20, 10, -10),  # -50 %
    ]
    assert s["mudancas"][0]["var"] == 200


def test_summary_shows_readings_once_the_rollup_job_has_run(conta_a, plant):
    """The summary is as of the rollup job's last run (TDS_ROLLUP_SECONDS apart): a
    reading that just arrived, late into yesterday, shows after the next run, with the
    day it re-opened and its effect on what changed."""
    store_points(plant["a1"], [(local(2026, 3, 14, 22, 0), 150)])
    assert dashboard_summary(conta=conta_a, now=NOW)["utilities"][0]["mes"] == 70
    refresh_rollups()
    s = dashboard_summary(conta=conta_a, now=NOW)
    assert s["utilities"][0]["mes"] == 80
    first = s["mudancas"][0]
    assert (first["gateway"].codigo, first["ontem"]) == ("GW-1", 40)


def _json_config(html: str) -> dict:
    raw = re.search(r'<script id="tds-config" type="application/json">(.*?)</script>', html, re.S)
    return json.loads(raw.group(1))


def test_small_account_dashboard_lists_everything(client, admin_a, plant):
    client.force_login(admin_a)
    html = client.get(reverse("telemetria:dashboard")).content.decode()
    assert "GW-1" in html
    assert "GW-2" in html
    assert "GW-B9" not in html
    config = _json_config(html)
    assert config["parcial"] is False
    assert {d["id"] for d in config["dispositivos"]} == {plant["a1"].pk, plant["a2"].pk}
    assert "?por=tipo" not in config["urls"]["consumo"]
    assert 'data-testid="utility-AGUA"' in html


def test_big_account_dashboard_shows_attention_first_and_searches(
    client, admin_a, conta_a, plant, settings
):
    settings.TDS_DASHBOARD_BIG_ACCOUNT = 1  # 2 devices: a "big" account
    gw2 = plant["gw2"]
    for n in range(25):
        factories.make_gateway(conta=conta_a, codigo=f"GW-X{n:02d}")
    Gateway.objects.filter(conta=conta_a).exclude(pk=gw2.pk).update(is_online=True)
    client.force_login(admin_a)
    html = client.get(reverse("telemetria:dashboard")).content.decode()
    rows = re.findall(r'data-gateway-id="(\d+)"', html)
    assert len(rows) == 20  # never every gateway at once
    assert rows[0] == str(gw2.pk)  # offline first
    assert "Mostrando 20 de 27 gateways." in html
    config = _json_config(html)
    assert config["parcial"] is True
    assert config["urls"]["consumo"].endswith("?por=tipo")

    html = client.get(reverse("telemetria:dashboard"), {"q": "GW-1"}).content.decode()
    assert re.findall(r'data-gateway-id="(\d+)"', html) == [str(plant["gw1"].pk)]
    assert [d["id"] for d in _json_config(html)["dispositivos"]] == [plant["a1"].pk]
    # Another account's gateway is not found, even by its exact code.
    html = client.get(reverse("telemetria:dashboard"), {"q": "GW-B9"}).content.decode()
    assert re.findall(r'data-gateway-id="(\d+)"', html) == []
    assert "Nenhum gateway encontrado." in html


def _all_pages(client, url, key):
    items, pages = [], 0
    while url:
        body = client.get(url).json()
        items += body[key]
        url = body["next"]
        pages += 1
    return items, pages


def test_apis_paginate_and_stay_in_the_account(client, admin_a, conta_a, plant):
    for n in range(3):
        gw = factories.make_gateway(conta=conta_a, codigo=f"GW-P{n}")
        factories.make_dispositivo(gateway=gw, codigo="D01", tipo="ENERGIA")
    client.force_login(admin_a)

    url = reverse("telemetria:api_dispositivos") + "?limite=2"
    first = client.get(url).json()
    assert len(first["dispositivos"]) == 2
    assert first["total"] == 5
    assert "cursor=2" in first["next"]
    items, pages = _all_pages(client, url, "dispositivos")
    assert pages == 3
    ids = [d["id"] for d in items]
    assert len(ids) == len(set(ids)) == 5
    assert plant["b1"].pk not in ids

    items, pages = _all_pages(client, reverse("telemetria:api_gateways") + "?limite=2", "gateways")
    assert pages == 3
    assert {g["codigo"] for g in items} == {"GW-1", "GW-2", "GW-P0", "GW-P1", "GW-P2"}
    assert {g["dispositivos"] for g in items} == {1}  # each gateway's device count

    found = client.get(reverse("telemetria:api_gateways"), {"q": "GW-B9"}).json()
    assert found == {"gateways": [], "next": None, "total": 0}
    found = client.get(reverse("telemetria:api_dispositivos"), {"q": "GW-P1"}).json()
    assert [d["gateway_codigo"] for d in found["dispositivos"]] == ["GW-P1"]

    items, pages = _all_pages(
        client, reverse("telemetria:api_consumo") + "?limite=4", "dispositivos"
    )
    assert pages == 2
    assert len(items) == 5
    assert client.get(reverse("telemetria:api_gateways"), {"limite": 501}).status_code == 400
    assert client.get(reverse("telemetria:api_consumo"), {"por": "x"}).status_code == 400


def test_monthly_totals_per_utility(client, admin_a, plant):
    client.force_login(admin_a)
    body = client.get(reverse("telemetria:api_consumo"), {"por": "tipo", "meses": 24}).json()
    (agua,) = body["tipos"]
    assert (agua["tipo"], agua["unidade"]) == ("AGUA", "m³")
    month = body["meses"].index("2026-03")
    assert D(agua["consumo"][month]) == 70  # 40 + 30; account B's 9,999 is not in it


def test_readings_of_the_day_from_rollups_equal_the_raw_count(conta_a, plant, store):
    """The "Leituras hoje" card reads the day rollups: stored rows, readings appended after
    the rollup job ran, and a late reading inside an already rolled-up day all count, as a
    count of the raw readings does."""
    from telemetria.storage import readings_count, readings_count_for_day, refresh_rollups

    def both(day):
        raw = readings_count(
            conta_id=conta_a.pk,
            start=local(2026, 3, day, 0, 0),
            end=local(2026, 3, day + 1, 0, 0),
        )
        return readings_count_for_day(conta_id=conta_a.pk, day=date(2026, 3, day)), raw

    assert both(14) == (4, 4)  # nothing rolled up yet: all pending
    refresh_rollups()
    assert both(14) == (4, 4)
    store(plant["a1"], [(local(2026, 3, 14, 22, 0), 150)])  # appended after the job
    store(plant["a2"], [(local(2026, 3, 14, 9, 0), 526)])  # late, inside the stored day
    assert both(14) == (6, 6)
    refresh_rollups()
    assert both(14) == (6, 6)
    assert both(13) == (4, 4)  # account B's readings never counted


def test_readings_of_the_day_read_the_accounts_rollup_rows_by_index(conta_a, plant, store):
    """ "Leituras hoje" reads the day's stored rows by the rollup's (conta_id, bucket)
    index, not by probing the primary key once per device of the account (80,000 meters:
    124 ms → 22 ms on bench/big_account.py --full)."""
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from telemetria.storage import readings_count_for_day, refresh_rollups
    from telemetria.storage.backend import NATIVE, backend_name

    if backend_name() != NATIVE:
        pytest.skip("the index is the native rollup table's")
    refresh_rollups()
    with CaptureQueriesContext(connection) as queries:
        readings_count_for_day(conta_id=conta_a.pk, day=date(2026, 3, 14))
    (count_sql,) = [q["sql"] for q in queries.captured_queries if "sum(n)" in q["sql"]]
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("SET LOCAL enable_seqscan = off")  # few rows here; see the index path
        cur.execute("EXPLAIN " + count_sql)
        plan = "\n".join(row[0] for row in cur.fetchall())
    assert "consumo_diario_conta_bucket_idx" in plan, plan


def test_account_wide_aggregates_sort_in_memory_for_that_statement_only(db):
    """The account-wide aggregates (the dashboard summary, "Leituras hoje", the per-utility
    chart) run with JIT off and a larger work_mem, so the summary of 80,000 meters sorts
    in memory, not on disk (1.0–1.2 → 0.76–0.81 s); the connection's settings are back
    to the defaults afterwards."""
    from telemetria.storage.sql import fetch, fetch_without_jit

    default = fetch("SELECT current_setting('work_mem'), current_setting('jit')", [])
    assert fetch_without_jit("SELECT current_setting('work_mem'), current_setting('jit')", []) == [
        ("32MB", "off")
    ]
    assert fetch("SELECT current_setting('work_mem'), current_setting('jit')", []) == default


def test_summary_reads_a_few_index_entries_not_every_meter(conta_a, plant):
    """The summary's per-gateway reads go down an index in the order they rank (the top
    consumers of the month, what changed yesterday: a few entries, whatever the number of
    gateways), and the count of consumption meters per utility is read from an index
    alone (80,000 meters: 56 → 26 ms, bench/big_account.py --full)."""
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        dashboard_summary(conta=conta_a, now=NOW)
    wanted = {
        "tds_new_consumo_total_mensal": "tds_new_consumo_total_mensal_rank_idx",
        "tds_new_consumo_total_mudanca": "tds_new_consumo_total_mudanca_rank_idx",
        'COUNT(*) AS "n"': "disp_conta_consumo_idx",
    }
    for marker, index in wanted.items():
        (sql,) = [q["sql"] for q in queries.captured_queries if marker in q["sql"]]
        with transaction.atomic(), connection.cursor() as cur:
            # few rows here: see the paths an account of thousands takes
            cur.execute("SET LOCAL enable_seqscan = off")
            cur.execute("SET LOCAL enable_sort = off")
            cur.execute("EXPLAIN " + sql)
            plan = "\n".join(row[0] for row in cur.fetchall())
        assert index in plan, plan
    # The meters per utility and their decimals: one index-only read. A second query
    # (SELECT DISTINCT with the model's ordering) returned every meter: 80,000 rows, 415
    # of the summary's 440 ms at 10,000 x 8 (bench/big_account.py --full).
    devices = [
        q["sql"] for q in queries.captured_queries if 'FROM "tds_new_dispositivo"' in q["sql"]
    ]
    assert len(devices) == 1, devices
    assert "fator_conversao" in devices[0]


def test_totals_keep_the_precision_the_meters_measure(client, admin_a, conta_a, plant):
    """A meter reading to 0,001 m³: its totals show three decimals even when they end in
    zeros ("10,000 → 30,000 m³", not "10 → 30" next to "94,359"), and on the gateway page
    its latest reading too."""
    from django.template.loader import render_to_string

    from dispositivos.models import Dispositivo

    Dispositivo.objects.filter(pk__in=[plant["a1"].pk, plant["a2"].pk]).update(
        fator_conversao=D("0.001")
    )
    s = dashboard_summary(conta=conta_a, now=NOW)
    html = " ".join(
        render_to_string("telemetria/partials/gateway_summary.html", {"summary": s}).split()
    )
    assert "10,000 → 30,000 m³" in html
    assert "40,000 m³" in html  # top consumers
    cards = " ".join(
        render_to_string(
            "telemetria/partials/utility_cards.html", {"utilities": s["utilities"]}
        ).split()
    )
    assert "70,000 m³" in cards
    client.force_login(admin_a)
    page = client.get(
        reverse("dispositivos:gateway_detail", args=[plant["gw1"].pk])
    ).content.decode()
    assert re.search(r'class="dev-valor" data-casas="3">140,000<', page)
