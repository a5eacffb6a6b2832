"""Reminders while an alarm stays active and unacknowledged, escalation to the admins after
a while; both stop on acknowledgement or clearing."""

from datetime import timedelta

import pytest
from django.utils import timezone

from alarmes import services as alarmes
from contas.models import Role
from notificacoes import services
from notificacoes.entrega import compor_envios, entregar_pendentes
from notificacoes.lembretes import lembretes_e_escalonamentos
from notificacoes.models import EstadoNotificacao, Evento, Notificacao
from tds_testing import factories

from .helpers import fire, webhook_target

pytestmark = pytest.mark.django_db


def _eventos(**filters):
    return list(
        Notificacao.objects.filter(**filters).order_by("id").values_list("evento", flat=True)
    )


@pytest.fixture
def config(conta_a):
    return services.configuracao_update(
        conta=conta_a, lembrete_minutos=30, escalonamento_minutos=45
    )


def test_reminders_every_interval_until_acknowledged(conta_a, regra, webhook, config, admin_a):
    destino = webhook_target(conta_a, webhook.url)
    t0 = timezone.now()
    alarme = fire(regra, inicio=t0)

    lembretes_e_escalonamentos(now=t0 + timedelta(minutes=29))
    assert _eventos(destino=destino) == ["disparado"]
    lembretes_e_escalonamentos(now=t0 + timedelta(minutes=31))
    lembretes_e_escalonamentos(now=t0 + timedelta(minutes=32))  # same interval: nothing new
    assert _eventos(destino=destino) == ["disparado", "lembrete"]
    lembretes_e_escalonamentos(now=t0 + timedelta(minutes=61))
    assert _eventos(destino=destino) == ["disparado", "lembrete", "lembrete"]
    entregar_pendentes()
    got = webhook.wait_for(lambda e: sum(len(x["payload"]["eventos"]) for x in e) == 3)
    assert [ev["evento"] for x in got for ev in x["payload"]["eventos"]] == [
        "disparado", "lembrete", "lembrete",
    ]  # fmt: skip

    alarmes.alarm_acknowledge(alarme=alarme, usuario=admin_a)
    lembretes_e_escalonamentos(now=t0 + timedelta(minutes=200))
    assert _eventos(destino=destino) == ["disparado", "lembrete", "lembrete", "reconhecido"]


def test_after_a_pause_only_the_latest_reminder_is_sent(conta_a, regra, webhook, config):
    destino = webhook_target(conta_a, webhook.url)
    t0 = timezone.now()
    fire(regra, inicio=t0)
    lembretes_e_escalonamentos(now=t0 + timedelta(minutes=30 * 5 + 1))
    assert _eventos(destino=destino, evento=Evento.LEMBRETE) == ["lembrete"]


def test_escalation_reaches_every_admin_once_and_not_before_its_time(
    conta_a, regra, smtp, config, admin_a, operador_a
):
    other_admin = factories.make_member(conta=conta_a, role=Role.ADMIN).user
    services.preferencia_update(conta=conta_a, user=other_admin, receber_email=False,
                                receber_telegram=True, telegram_chat_id="777")  # fmt: skip
    t0 = timezone.now()
    fire(regra, inicio=t0)
    lembretes_e_escalonamentos(now=t0 + timedelta(minutes=44))
    assert not Notificacao.objects.filter(evento=Evento.ESCALONAMENTO).exists()
    lembretes_e_escalonamentos(now=t0 + timedelta(minutes=46))
    lembretes_e_escalonamentos(now=t0 + timedelta(minutes=90))
    escalated = Notificacao.objects.filter(evento=Evento.ESCALONAMENTO)
    assert sorted(escalated.values_list("canal", "endereco")) == sorted(
        [("email", admin_a.email), ("telegram", "777")]
    )
    entregar_pendentes()
    (mail,) = smtp.wait_for(lambda e: len(e) == 1)
    assert "sem reconhecimento (escalonado)" in mail["subject"]
    assert mail["to"] == [admin_a.email]


def test_a_pending_reminder_is_cancelled_when_the_alarm_is_cleared_first(
    conta_a, regra, webhook, config, settings
):
    settings.TDS_NOTIFY_GROUP_SECONDS = 60
    webhook_target(conta_a, webhook.url)
    t0 = timezone.now()
    alarme = fire(regra, inicio=t0 - timedelta(minutes=31))
    compor_envios(now=t0 + timedelta(minutes=2))  # the fired notice leaves
    lembretes_e_escalonamentos(now=t0)
    alarmes.alarm_clear(alarme=alarme, usuario=None)
    compor_envios(now=t0 + timedelta(minutes=5))
    lembrete = Notificacao.objects.get(evento=Evento.LEMBRETE)
    assert lembrete.estado == EstadoNotificacao.CANCELADA
    assert Notificacao.objects.get(evento=Evento.ENCERRADO).estado == EstadoNotificacao.AGRUPADA


def test_zero_turns_reminders_and_escalation_off(conta_a, regra, webhook):
    services.configuracao_update(conta=conta_a, lembrete_minutos=0, escalonamento_minutos=0)
    webhook_target(conta_a, webhook.url)
    t0 = timezone.now()
    fire(regra, inicio=t0)
    lembretes_e_escalonamentos(now=t0 + timedelta(days=2))
    assert _eventos() == ["disparado"]
