"""Delivery through the real channels on loopback (SMTP server, signed-webhook receiver,
Telegram stand-in), in-process: outbox rows written by the alarm transitions, delivery run."""

from datetime import time, timedelta

import pytest
from django.utils import timezone

from alarmes import services as alarmes
from contas.models import Role
from notificacoes import services
from notificacoes.entrega import compor_envios, entregar_pendentes
from notificacoes.models import (
    DestinoNotificacao,
    Envio,
    EstadoEnvio,
    EstadoNotificacao,
    Notificacao,
    ResultadoTentativa,
)
from tds_testing import factories

from .helpers import fire, make_regra, webhook_target

pytestmark = pytest.mark.django_db


def test_one_signed_webhook_per_transition_fired_acknowledged_cleared(
    conta_a, regra, webhook, admin_a
):
    webhook_target(conta_a, webhook.url)
    alarme = fire(regra)
    entregar_pendentes()
    alarmes.alarm_acknowledge(alarme=alarme, usuario=admin_a, comentario="verificando")
    entregar_pendentes()
    alarmes.alarm_clear(alarme=alarme, usuario=admin_a)
    entregar_pendentes()

    got = webhook.wait_for(lambda e: len(e) >= 3)
    assert [e["valid"] for e in got] == [True, True, True]
    assert len({e["key"] for e in got}) == 3
    eventos = [e["payload"]["eventos"][0] for e in got]
    assert [ev["evento"] for ev in eventos] == ["disparado", "reconhecido", "encerrado"]
    assert {ev["alarme"] for ev in eventos} == {alarme.pk}
    assert eventos[0]["regra"] == "Freezer quente"
    assert eventos[0]["valor"] == "-5"
    assert eventos[1]["usuario"] == admin_a.email
    assert eventos[1]["comentario"] == "verificando"
    assert got[0]["payload"]["id"] == got[0]["key"]
    assert Envio.objects.filter(estado=EstadoEnvio.ENVIADA).count() == 3
    # A comment is not a notification.
    alarmes.alarm_comment(alarme=alarme, usuario=admin_a, comentario="ok")
    assert Notificacao.objects.count() == 3


def test_member_target_gets_pt_br_email_over_smtp_with_key_as_message_id(
    conta_a, regra, smtp, admin_a
):
    services.destino_create(conta=conta_a, nome="Zelador", tipo="membro", membro=admin_a)
    alarme = fire(regra, valor="-4.5")
    stats = entregar_pendentes()
    assert stats["enviados"] == 1

    (mail,) = smtp.wait_for(lambda e: len(e) == 1)
    envio = Envio.objects.get()
    assert mail["to"] == [admin_a.email]
    assert (
        mail["subject"]
        == f"[TDS] Alto: Freezer quente — D01 Freezer ({regra.dispositivo.gateway.codigo} Bloco A) disparado"
    )
    assert "Alarme disparado" in mail["body"]
    assert "Valor: -4,5" in mail["body"]
    assert f"/alarmes/{alarme.pk}/" in mail["body"]
    assert mail["key"] == str(envio.chave_idempotencia)
    assert mail["message_id"] == f"<{envio.chave_idempotencia}@tds-new>"
    tentativa = envio.tentativas_log.get()
    assert tentativa.resultado == ResultadoTentativa.SUCESSO
    assert tentativa.status == "SMTP 250"


def test_telegram_chat_gets_the_message_through_the_bot_api(conta_a, regra, telegram):
    services.destino_create(
        conta=conta_a, nome="Plantão", tipo="telegram", telegram_chat_id="-1001234567890"
    )
    fire(regra)
    entregar_pendentes()
    (msg,) = telegram.wait_for(lambda e: len(e) == 1)
    assert msg["chat_id"] == "-1001234567890"
    assert msg["text"].startswith("[TDS] Alto: Freezer quente")
    assert Envio.objects.get().estado == EstadoEnvio.ENVIADA


def test_telegram_error_is_logged_with_the_apis_description(conta_a, regra, telegram):
    services.destino_create(conta=conta_a, nome="Errado", tipo="telegram", telegram_chat_id="404")
    fire(regra)
    entregar_pendentes(budget_seconds=0.5)
    envio = Envio.objects.get()
    assert envio.estado == EstadoEnvio.PENDENTE
    tentativa = envio.tentativas_log.first()
    assert tentativa.resultado == ResultadoTentativa.FALHA
    assert "chat not found" in tentativa.erro
    assert tentativa.status == "HTTP 400"


def test_failing_webhook_retries_with_backoff_logs_each_attempt_and_marks_the_target(
    conta_a, regra, webhook, settings
):
    settings.TDS_NOTIFY_FAILING_AFTER = 3
    destino = webhook_target(conta_a, webhook.url)
    webhook.fail_next(3)
    fire(regra)
    delays = []
    for _ in range(3):
        before = timezone.now()
        entregar_pendentes(budget_seconds=0.5)
        envio = Envio.objects.get()
        delays.append((envio.proxima_tentativa_em - before).total_seconds())
        Envio.objects.filter(pk=envio.pk).update(proxima_tentativa_em=timezone.now())
    destino.refresh_from_db()
    assert destino.falhando
    assert destino.falhas_consecutivas == 3
    assert "HTTP 503" in destino.ultimo_erro
    # Exponential: 0.2 s, 0.4 s, 0.8 s (base 0.2 in these tests).
    assert delays[0] < delays[1] < delays[2]
    assert delays[2] == pytest.approx(0.8, abs=0.15)

    entregar_pendentes()
    envio = Envio.objects.get()
    assert envio.estado == EstadoEnvio.ENVIADA
    assert [t.resultado for t in envio.tentativas_log.all()] == ["falha"] * 3 + ["sucesso"]
    destino.refresh_from_db()
    assert not destino.falhando
    assert destino.falhas_consecutivas == 0
    valid = [e for e in webhook.entries() if e["valid"] and not e["failed"]]
    assert len(valid) == 1


def test_gives_up_after_max_attempts(conta_a, regra, webhook, settings):
    settings.TDS_NOTIFY_MAX_ATTEMPTS = 2
    webhook_target(conta_a, webhook.url)
    webhook.fail_next(10)
    fire(regra)
    for _ in range(3):
        entregar_pendentes(budget_seconds=0.5)
        Envio.objects.update(proxima_tentativa_em=timezone.now())
    envio = Envio.objects.get()
    assert envio.estado == EstadoEnvio.FALHOU
    assert envio.tentativas == 2


def test_a_burst_is_grouped_into_one_message_per_target(conta_a, freezer, webhook, settings):
    settings.TDS_NOTIFY_GROUP_SECONDS = 30
    webhook_target(conta_a, webhook.url)
    regras = [make_regra(freezer, nome=f"Regra {i}") for i in range(40)]
    t0 = timezone.now()
    for r in regras:
        fire(r)
    # Nothing is due before the window closes; every row joined the first row's group.
    assert compor_envios(now=t0 + timedelta(seconds=1)) == 0
    assert Notificacao.objects.values("disponivel_em").distinct().count() == 1
    assert compor_envios(now=t0 + timedelta(seconds=31)) == 1
    entregar_pendentes()
    (got,) = webhook.wait_for(lambda e: len(e) == 1)
    assert len(got["payload"]["eventos"]) == 40
    assert got["payload"]["texto"].startswith("40 eventos de alarme")


def test_quiet_hours_silence_all_but_critico(conta_a, freezer, smtp, admin_a):
    now_local = timezone.localtime()
    services.preferencia_update(
        conta=conta_a,
        user=admin_a,
        silencio_inicio=(now_local - timedelta(hours=1)).time(),
        silencio_fim=(now_local + timedelta(hours=1)).time(),
    )
    services.destino_create(conta=conta_a, nome="Eu", tipo="membro", membro=admin_a)
    fire(make_regra(freezer, nome="Aviso", severidade="alto"))
    fire(make_regra(freezer, nome="Pane", severidade="critico"))
    entregar_pendentes()
    (mail,) = smtp.wait_for(lambda e: len(e) == 1)
    assert "Pane" in mail["subject"]
    assert Notificacao.objects.get(dados__regra="Aviso").estado == EstadoNotificacao.SILENCIADA


def test_quiet_hours_across_midnight():
    from notificacoes.models import PreferenciaMembro
    from notificacoes.outbox import em_silencio

    pref = PreferenciaMembro(silencio_inicio=time(22), silencio_fim=time(7))
    tz = timezone.get_current_timezone()
    at = lambda h, m=0: timezone.datetime(2026, 3, 10, h, m, tzinfo=tz)  # noqa: E731
    assert em_silencio(pref, at(23))
    assert em_silencio(pref, at(6, 59))
    assert not em_silencio(pref, at(7))
    assert not em_silencio(pref, at(21, 59))


def test_severity_rule_and_gateway_filters(conta_a, gateway_a, freezer, webhook):
    other_gw = factories.make_gateway(conta=conta_a)
    other_disp = factories.make_dispositivo(gateway=other_gw, tipo="TEMP")
    baixa = make_regra(freezer, nome="Baixa", severidade="baixo")
    alta = make_regra(freezer, nome="Alta", severidade="alto")
    alta_outro = make_regra(other_disp, nome="Alta outro", severidade="alto")
    webhook_target(conta_a, webhook.url, nome="Só alto+ do Bloco A", severidade_minima="alto",
                   gateways=[gateway_a])  # fmt: skip
    webhook_target(conta_a, webhook.url, nome="Só a regra Baixa", regras=[baixa])
    for r in (baixa, alta, alta_outro):
        fire(r)
    by_target = {
        d.nome: sorted(n.dados["regra"] for n in d.notificacoes.all())
        for d in DestinoNotificacao.objects.all()
    }
    assert by_target == {"Só alto+ do Bloco A": ["Alta"], "Só a regra Baixa": ["Baixa"]}


def test_a_removed_member_hears_nothing(conta_a, regra, smtp):
    membership = factories.make_member(conta=conta_a, role=Role.LEITOR)
    services.destino_create(conta=conta_a, nome="Ex", tipo="membro", membro=membership.user)
    membership.delete()
    fire(regra)
    assert not Notificacao.objects.exists()


def test_send_test_button_service_reaches_each_channel(conta_a, smtp, webhook, telegram, admin_a):
    alvos = [
        services.destino_create(conta=conta_a, nome="E-mail", tipo="email", email="a@b.com.br"),
        webhook_target(conta_a, webhook.url),
        services.destino_create(conta=conta_a, nome="TG", tipo="telegram", telegram_chat_id="42"),
    ]
    for d in alvos:
        services.destino_enviar_teste(destino=d)
    entregar_pendentes()
    assert smtp.wait_for(lambda e: len(e) == 1)[0]["subject"] == "[TDS] Mensagem de teste"
    assert webhook.wait_for(lambda e: len(e) == 1)[0]["payload"]["tipo"] == "teste"
    assert "mensagem de teste" in telegram.wait_for(lambda e: len(e) == 1)[0]["text"]


def test_a_pending_invitee_hears_nothing_and_is_not_escalated_to(conta_a, regra, smtp):
    membership = factories.make_member(conta=conta_a, role=Role.ADMIN)
    services.destino_create(conta=conta_a, nome="Convidado", tipo="membro", membro=membership.user)
    membership.accepted_at = None  # invited, not yet accepted: no access to the account
    membership.save(update_fields=["accepted_at"])
    fire(regra)
    assert not Notificacao.objects.exists()
    from notificacoes.outbox import EventoAlarme, admin_endpoints

    evento = EventoAlarme(conta_id=conta_a.pk, alarme_id=None, origem="x", evento="lembrete",
                          severidade="critico")  # fmt: skip
    assert admin_endpoints(evento, moment=timezone.now()) == []
