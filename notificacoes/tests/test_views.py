"""Notification pages: admins manage targets and settings, everyone reads; each member
edits their own preferences; another account's target or alarm log answers 404 and
nothing changes."""

import datetime as dt

import pytest
from django.urls import reverse

from notificacoes import services
from notificacoes.entrega import entregar_pendentes
from notificacoes.models import DestinoNotificacao, Envio, PreferenciaMembro
from tds_testing import factories

from .helpers import fire, make_regra, webhook_target

pytestmark = pytest.mark.django_db


@pytest.fixture
def destino_b(conta_b):
    return services.destino_create(conta=conta_b, nome="Alheio", tipo="email", email="b@b.com")


@pytest.fixture
def alarme_b(conta_b):
    gw = factories.make_gateway(conta=conta_b)
    disp = factories.make_dispositivo(gateway=gw, tipo="TEMP")
    return fire(make_regra(disp, nome="Regra alheia"))


def test_admin_creates_a_webhook_target_and_sees_its_secret(client, admin_a, conta_a, gateway_a):
    client.force_login(admin_a)
    response = client.post(
        reverse("notificacoes:destino_create"),
        {"nome": "ERP", "tipo": "webhook", "webhook_url": "https://erp.example.com/tds",
         "severidade_minima": "alto", "gateways": [gateway_a.pk], "ativo": "on"},
    )  # fmt: skip
    destino = DestinoNotificacao.objects.get()
    assert response.status_code == 302
    assert destino.conta == conta_a
    assert list(destino.gateways.all()) == [gateway_a]
    assert len(destino.webhook_segredo) == 64
    page = client.get(reverse("notificacoes:destino_detail", args=[destino.pk]))
    assert destino.webhook_segredo.encode() in page.content
    assert b"Enviar teste" in page.content


def test_bad_input_names_the_field_in_portuguese_and_saves_nothing(client, admin_a):
    client.force_login(admin_a)
    response = client.post(
        reverse("notificacoes:destino_create"),
        {
            "nome": "TG",
            "tipo": "telegram",
            "telegram_chat_id": "meu chat",
            "severidade_minima": "alto",
        },
    )
    assert response.status_code == 200
    assert "chat id do Telegram" in response.context["form"].errors["telegram_chat_id"][0]
    assert not DestinoNotificacao.objects.exists()


def test_another_accounts_gateway_cannot_be_a_filter(client, admin_a, conta_b):
    gw_b = factories.make_gateway(conta=conta_b)
    client.force_login(admin_a)
    response = client.post(
        reverse("notificacoes:destino_create"),
        {"nome": "X", "tipo": "email", "email": "x@x.com", "severidade_minima": "alto",
         "gateways": [gw_b.pk]},
    )  # fmt: skip
    assert response.status_code == 200
    assert "gateways" in response.context["form"].errors
    assert not DestinoNotificacao.objects.exists()


@pytest.mark.parametrize("role_user", ["operador_a", "leitor_a"])
def test_non_admins_read_but_cannot_manage(client, request, role_user, conta_a):
    destino = services.destino_create(conta=conta_a, nome="Zé", tipo="email", email="z@z.com")
    client.force_login(request.getfixturevalue(role_user))
    assert client.get(reverse("notificacoes:destino_list")).status_code == 200
    page = client.get(reverse("notificacoes:destino_detail", args=[destino.pk]))
    assert page.status_code == 200
    assert b"enviar-teste" not in page.content
    for name in ("destino_edit", "destino_delete", "destino_testar", "destino_novo_segredo"):
        assert client.post(reverse(f"notificacoes:{name}", args=[destino.pk])).status_code == 403
    assert client.post(reverse("notificacoes:destino_create"), {}).status_code == 403
    assert client.post(reverse("notificacoes:configuracao"), {}).status_code == 403
    assert not Envio.objects.exists()
    assert DestinoNotificacao.objects.get().nome == "Zé"


def test_bad_reminder_settings_show_the_targets_page_with_the_error(client, admin_a, conta_a):
    services.destino_create(conta=conta_a, nome="Portaria", tipo="email", email="p@p.com")
    client.force_login(admin_a)
    url = reverse("notificacoes:configuracao")
    response = client.post(url, {"lembrete_minutos": "-5", "escalonamento_minutos": "30"})
    assert response.status_code == 400
    text = response.content.decode()
    assert "Portaria" in text
    assert 'value="-5"' in text
    assert "is-invalid" in text
    response = client.post(url, {"lembrete_minutos": "20", "escalonamento_minutos": "30"})
    assert response.status_code == 302


def test_another_accounts_target_is_404_and_unchanged(client, admin_a, destino_b):
    client.force_login(admin_a)
    for name in ("destino_detail", "destino_edit", "destino_delete"):
        assert client.get(reverse(f"notificacoes:{name}", args=[destino_b.pk])).status_code == 404
    for name in ("destino_edit", "destino_delete", "destino_testar", "destino_novo_segredo"):
        response = client.post(reverse(f"notificacoes:{name}", args=[destino_b.pk]), {"nome": "x"})
        assert response.status_code == 404
    destino_b.refresh_from_db()
    assert destino_b.nome == "Alheio"
    assert not Envio.objects.exists()
    assert b"Alheio" not in client.get(reverse("notificacoes:destino_list")).content


def test_another_accounts_alarm_log_is_404(client, admin_a, alarme_b):
    client.force_login(admin_a)
    url = reverse("notificacoes:entregas_alarme", args=[alarme_b.pk])
    assert client.get(url).status_code == 404


def test_alarm_delivery_log_shows_who_when_status_and_error(
    client, leitor_a, conta_a, regra, webhook
):
    webhook_target(conta_a, webhook.url, nome="Integração ERP")
    services.destino_create(conta=conta_a, nome="Quebrado", tipo="telegram", telegram_chat_id="1")
    alarme = fire(regra)
    entregar_pendentes(budget_seconds=0.5)  # no Telegram API configured: that one fails
    client.force_login(leitor_a)
    page = client.get(reverse("notificacoes:entregas_alarme", args=[alarme.pk]))
    text = page.content.decode()
    assert page.status_code == 200
    assert "Integração ERP" in text
    assert '<span class="badge text-bg-success">enviada</span>' in text
    assert '<span class="badge text-bg-success">1. aceita</span>' in text
    assert "HTTP 200" in text
    assert "Quebrado" in text
    assert "nenhum token de bot do Telegram configurado" in text


def test_send_test_queues_one_message_per_channel(client, admin_a, conta_a):
    destino = services.destino_create(conta=conta_a, nome="E", tipo="email", email="e@e.com")
    client.force_login(admin_a)
    response = client.post(reverse("notificacoes:destino_testar", args=[destino.pk]), follow=True)
    assert "Mensagem de teste na fila para e@e.com" in response.content.decode()
    assert Envio.objects.get().assunto == "[TDS] Mensagem de teste"


def test_send_test_to_a_member_uses_their_channels_even_in_quiet_hours(
    client, admin_a, leitor_a, conta_a
):
    services.preferencia_update(
        conta=conta_a, user=leitor_a, receber_email=True, receber_telegram=True,
        telegram_chat_id="42", silencio_inicio=dt.time(0, 0), silencio_fim=dt.time(23, 59),
    )  # fmt: skip
    destino = services.destino_create(conta=conta_a, nome="M", tipo="membro", membro=leitor_a)
    client.force_login(admin_a)
    response = client.post(reverse("notificacoes:destino_testar", args=[destino.pk]), follow=True)
    assert f"Mensagem de teste na fila para {leitor_a.email}, 42" in response.content.decode()
    assert sorted(Envio.objects.values_list("canal", "endereco")) == [
        ("email", leitor_a.email),
        ("telegram", "42"),
    ]


def test_each_member_edits_only_their_own_preferences(client, leitor_a, admin_a, conta_a):
    client.force_login(leitor_a)
    response = client.post(
        reverse("notificacoes:preferencias"),
        {"receber_email": "on", "silencio_inicio": "22:00", "silencio_fim": "07:00",
         "resumo_diario": "on"},
    )  # fmt: skip
    assert response.status_code == 302
    pref = PreferenciaMembro.objects.get()
    assert pref.user == leitor_a
    assert pref.conta == conta_a
    assert pref.resumo_diario
    assert str(pref.silencio_inicio) == "22:00:00"


def test_half_quiet_hours_are_refused(client, leitor_a):
    client.force_login(leitor_a)
    response = client.post(reverse("notificacoes:preferencias"), {"silencio_inicio": "22:00"})
    assert response.status_code == 200
    assert response.context["form"].errors["silencio_fim"]
    assert not PreferenciaMembro.objects.exists()


def test_failing_target_is_shown_failing(client, admin_a, conta_a, regra, webhook, settings):
    settings.TDS_NOTIFY_FAILING_AFTER = 1
    destino = webhook_target(conta_a, webhook.url, nome="Instável")
    webhook.fail_next(5)
    fire(regra)
    entregar_pendentes(budget_seconds=0.3)
    client.force_login(admin_a)
    listing = client.get(reverse("notificacoes:destino_list")).content.decode()
    assert 'data-testid="falhando"' in listing
    detail = client.get(reverse("notificacoes:destino_detail", args=[destino.pk])).content.decode()
    assert "Este canal está falhando desde" in detail
    assert "HTTP 503" in detail


def test_the_alarm_page_links_to_its_delivery_log(client, leitor_a, regra):
    """alarmes does not import notificacoes: the link comes through alarmes.links."""
    alarme = fire(regra)
    client.force_login(leitor_a)
    page = client.get(reverse("alarmes:detail", args=[alarme.pk])).content.decode()
    url = reverse("notificacoes:entregas_alarme", args=[alarme.pk])
    assert f'href="{url}" data-testid="alarm-link-entregas">Registro de entregas<' in page
    assert client.get(url).status_code == 200
