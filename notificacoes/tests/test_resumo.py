"""The daily digest on hand-computed data (America/Sao_Paulo), delivered over real SMTP."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from alarmes import services as alarmes
from contas.models import Role
from dispositivos.models import Gateway
from notificacoes import services
from notificacoes.entrega import entregar_pendentes
from notificacoes.models import Envio
from notificacoes.resumo import resumos_do_dia
from tds_testing import factories
from telemetria.storage import ReadingRow, insert_readings

from .helpers import make_regra

pytestmark = pytest.mark.django_db
SP = ZoneInfo("America/Sao_Paulo")
DIA = date(2026, 3, 10)


def local(*args) -> datetime:
    return datetime(*args, tzinfo=SP)


def store(disp, points):
    insert_readings(
        [
            ReadingRow(time=t, conta_id=disp.conta_id, gateway_id=disp.gateway_id,
                       dispositivo_id=disp.pk, valor=Decimal(str(v)), unidade=disp.unidade,
                       payload_raw=None)
            for t, v in points
        ]
    )  # fmt: skip


@pytest.fixture
def planta(conta_a):
    online = factories.make_gateway(conta=conta_a, codigo="GW-ON", nome="Portaria")
    offline = factories.make_gateway(conta=conta_a, codigo="GW-OFF", nome="Casa de bombas")
    Gateway.objects.filter(pk=online.pk).update(is_online=True)
    agua = factories.make_dispositivo(gateway=online, codigo="A01", tipo="AGUA")
    energia = factories.make_dispositivo(gateway=online, codigo="E01", tipo="ENERGIA")
    temp = factories.make_dispositivo(gateway=offline, codigo="T01", tipo="TEMP")
    # Water (m³, cumulative): the day before 100 -> 110 -> 120 = 20; the day 135 -> 150 = 30.
    store(agua, [(local(2026, 3, 8, 23), 100), (local(2026, 3, 9, 12), 110),
                 (local(2026, 3, 9, 23), 120), (local(2026, 3, 10, 12), 135),
                 (local(2026, 3, 10, 23), 150)])  # fmt: skip
    # Energy (kWh, cumulative): the day before 990 -> 1000 -> 1040 = 50; the day -> 1065 -> 1085 = 45.
    store(energia, [(local(2026, 3, 8, 23), 990), (local(2026, 3, 9, 0, 30), 1000),
                    (local(2026, 3, 9, 23, 30), 1040), (local(2026, 3, 10, 12), 1065),
                    (local(2026, 3, 10, 23), 1085)])  # fmt: skip
    store(temp, [(local(2026, 3, 10, 12), -18)])
    # Alarms: fired on the day and open; fired the day before and cleared on the day;
    # fired two days before, acknowledged, still open; fired after the day (not "fired").
    r1 = make_regra(temp, nome="Freezer quente", severidade="critico")
    r2 = make_regra(temp, nome="Porta aberta", severidade="medio")
    r3 = make_regra(temp, nome="Sensor instável", severidade="baixo")
    r4 = make_regra(temp, nome="Hoje cedo", severidade="alto")
    fire = lambda r, t: alarmes.alarm_fire(  # noqa: E731
        regra=r, gateway_id=temp.gateway_id, dispositivo_id=temp.pk, inicio=t, valor=Decimal(-5)
    )
    fire(r1, local(2026, 3, 10, 10))
    a2 = fire(r2, local(2026, 3, 9, 22))
    alarmes.alarm_clear(alarme=a2, em=local(2026, 3, 10, 8))
    a3 = fire(r3, local(2026, 3, 8, 9))
    alarmes.alarm_acknowledge(alarme=a3, usuario=None)
    fire(r4, local(2026, 3, 11, 6))


def test_digest_content_on_hand_computed_data(conta_a, admin_a, leitor_a, planta, smtp):
    services.preferencia_update(conta=conta_a, user=admin_a, resumo_diario=True)
    services.preferencia_update(conta=conta_a, user=leitor_a, resumo_diario=False)

    assert resumos_do_dia(dia=DIA) == 1
    assert resumos_do_dia(dia=DIA) == 0  # once per member and day
    entregar_pendentes()
    (mail,) = smtp.wait_for(lambda e: len(e) == 1)
    body = mail["body"]
    assert mail["to"] == [admin_a.email]
    assert mail["subject"] == (
        "[TDS] Resumo de 10/03/2026 — Condomínio Aurora: 3 alarme(s) aberto(s)"
    )
    assert mail["html"] is True
    assert "Alarmes abertos agora: 3" in body
    # Open ones, most severe first.
    opened = body.split("Alarmes abertos agora: 3\n")[1].split("\n\n")[0].splitlines()
    assert [line.split(" · ")[1] for line in opened] == [
        "Freezer quente",
        "Hoje cedo",
        "Sensor instável",
    ]
    assert "reconhecido" in opened[2]
    assert "Disparados no dia: 1\n• Crítico · Freezer quente · T01 (GW-OFF) · 10:00" in body
    assert "Encerrados no dia: 1\n• Médio · Porta aberta · T01 (GW-OFF) · 08:00" in body
    assert "Gateways offline: 1\n• GW-OFF Casa de bombas" in body
    assert "• Água: 30 m³ (anterior: 20 m³; +50,0%)" in body
    assert "• Energia: 45 kWh (anterior: 50 kWh; -10,0%)" in body
    assert "Temperatura" not in body
    assert Envio.objects.get().referencia == f"resumo:{conta_a.pk}:{admin_a.pk}:2026-03-10"


def test_digest_queries_do_not_grow_with_the_members(
    conta_a, admin_a, django_assert_max_num_queries
):
    """One account: the queries of a run with one member bound those of a run with seven
    (the digest is rendered once per account; who has it already is one query)."""
    services.preferencia_update(conta=conta_a, user=admin_a, resumo_diario=True)
    with CaptureQueriesContext(connection) as one_member:
        assert resumos_do_dia(dia=DIA) == 1
    for _ in range(6):
        member = factories.make_member(conta=conta_a, role=Role.LEITOR)
        services.preferencia_update(conta=conta_a, user=member.user, resumo_diario=True)
    with django_assert_max_num_queries(len(one_member)):
        assert resumos_do_dia(dia=DIA + timedelta(days=1)) == 7
    with django_assert_max_num_queries(len(one_member)):
        assert resumos_do_dia(dia=DIA + timedelta(days=1)) == 0  # once per member and day
    assert Envio.objects.count() == 8
    assert len({e.endereco for e in Envio.objects.filter(referencia__endswith="2026-03-11")}) == 7
