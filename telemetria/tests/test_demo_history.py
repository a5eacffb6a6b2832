"""The demo's six months of history: every month has consumption, one leak night, one
meter swap recorded as a meter event, idempotent, and quick."""

import datetime as dt
import time
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db.models import Max, Min
from django.utils import timezone
from django_scopes import scopes_disabled

from contas.models import Conta
from dispositivos.models import Dispositivo
from telemetria.demo_history import LEAK_DAYS_AGO, seed_demo_history
from telemetria.models import EventoMedidor, LeituraDispositivo
from telemetria.selectors import monthly_consumption
from telemetria.storage import consumption_by_day

REGISTER_RANGE = {
    "uint16": (0, 2**16 - 1),
    "int16": (-(2**15), 2**15 - 1),
    "uint32": (0, 2**32 - 1),
    "int32": (-(2**31), 2**31 - 1),
    "float32": (-3.4e38, 3.4e38),
}

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("clean_store")]


@pytest.fixture
def drop_new_partitions(db):
    """The history creates six months of day partitions (native back end): drop those
    this test created, so that partition tests find the dates they expect free."""
    from django.db import connection

    from telemetria.storage import is_timescale
    from telemetria.storage.partitions import existing_partitions, partition_name

    before = set() if is_timescale() else existing_partitions()
    yield
    if is_timescale():
        return
    with connection.cursor() as cur:
        for day in existing_partitions() - before:
            cur.execute(f"DROP TABLE {partition_name(day)}")


@pytest.mark.usefixtures("drop_new_partitions")
def test_six_months_with_patterns_a_leak_and_a_swap():
    call_command("seed_demo", gateways=2)
    now = timezone.now()
    started = time.monotonic()
    done = seed_demo_history(now=now)
    elapsed = time.monotonic() - started
    assert done.meters == 8
    assert done.readings == 8 * 182 * 24
    assert elapsed < 120, elapsed
    with scopes_disabled():
        conta = Conta.objects.get(slug="demo")
        agua1 = Dispositivo.objects.get(gateway__codigo="GW-DEMO-01", codigo="D02")
        energia2 = Dispositivo.objects.get(gateway__codigo="GW-DEMO-02", codigo="D01")
        events = list(EventoMedidor.objects.filter(conta=conta))
    # Every one of the 6 months shown has consumption for every cumulative meter.
    months = monthly_consumption(conta=conta, meses=6, now=now)
    for d, values in months["linhas"]:
        if d.tipo != "TEMP":
            assert all(v is not None and v > 0 for v in values), (d, values)
    # The meter swap: one step back, counted zero, on the energy meter of GW-DEMO-02.
    assert [(e.dispositivo_id, e.tipo) for e in events] == [(energia2.pk, "RECUO")]
    # The leak night: that day's water is well above the days around it.
    today = timezone.localtime(now).date()
    days = {
        c.dia: c.consumo
        for c in consumption_by_day(
            conta_id=conta.pk,
            start=today - dt.timedelta(days=LEAK_DAYS_AGO + 8),
            end=today - dt.timedelta(days=LEAK_DAYS_AGO - 8),
            dispositivo_ids=[agua1.pk],
        )
    }
    leak_day = max(days, key=days.get)
    others = sorted(v for k, v in days.items() if k != leak_day)
    assert days[leak_day] > others[len(others) // 2] + 5  # 1.5 m³/h for 5 h on top
    # The leak night is within the Prévia's window: a "Vazamento" rule for water at 0,5
    # m³/h finds it (it was 45 days ago, and the Prévia showed "0 alarmes").
    from alarmes.models import RegraAlarme, TipoRegra
    from alarmes.preview import PREVIEW_DAYS, regra_preview

    leak_rule = RegraAlarme(
        conta=conta,
        nome="Vazamento",
        tipo=TipoRegra.VAZAMENTO,
        tipo_dispositivo="AGUA",
        vazao_minima=Decimal("0.5"),
    )
    with scopes_disabled():
        preview = regra_preview(regra=leak_rule, now=now)
    assert preview.total == 1, preview
    assert preview.by_device == {"GW-DEMO-01 · D02": 1}, preview.by_device
    # So is the meter swap (a meter event a user looks for among recent ones).
    assert now - events[0].time < dt.timedelta(days=PREVIEW_DAYS), events[0].time
    # Every value fits the register the registry says holds it (raw = valor / fator): an
    # energy meter of ~24,580 kWh was "uint16, fator 0,01" (at most 655.35 kWh), and the
    # rollover rule judges backwards steps by the register's width.
    with scopes_disabled():
        for d in Dispositivo.objects.filter(conta=conta):
            low, high = REGISTER_RANGE[d.tipo_dado]
            values = LeituraDispositivo.objects.filter(dispositivo_id=d.pk).aggregate(
                lo=Min("valor"), hi=Max("valor")
            )
            assert low <= values["lo"] / d.fator_conversao, (d, d.tipo_dado, values)
            assert values["hi"] / d.fator_conversao <= high, (d, d.tipo_dado, values)
            if d.tipo_medidor == "ACUMULADO":
                assert d.registro_maximo == high, (d, d.registro_maximo)
    # Again: nothing added.
    assert seed_demo_history(now=now).readings == 0
