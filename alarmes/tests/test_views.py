"""Alarm pages: what each role sees and may do; another account's ids answer 404 and
change nothing; the Prévia counts what a rule would have fired."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from alarmes import services
from alarmes.models import Alarme, RegraAlarme
from tds_testing import factories
from tds_testing.alarms import ingest, local


def login(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


@pytest.fixture
def a_alarm(temp, rule):
    regra = rule(nome="Freezer", dispositivo=temp, limite_superior=Decimal(10))
    ingest(temp, [(local(2026, 3, 1, 10, 0), 12)])
    return Alarme.objects.get(regra=regra)


def test_list_shows_counts_filters_and_open_alarms_first(admin_a, a_alarm, temp, rule):
    closed_rule = rule(nome="Antigo", dispositivo=temp, limite_superior=Decimal(100))
    old = services.alarm_fire(
        regra=closed_rule, gateway_id=temp.gateway_id, dispositivo_id=temp.pk,
        inicio=local(2026, 3, 5, 10, 0),
    )  # fmt: skip
    services.alarm_clear(alarme=old, usuario=admin_a)
    c = login(admin_a)
    r = c.get(reverse("alarmes:list"))
    html = r.content.decode()
    assert r.status_code == 200
    table = html[html.index('id="alarm-list"') :]
    assert table.index("Freezer") < table.index("Antigo")  # open first, though older
    assert r.context["counts"] == {"ativo": 1, "reconhecido": 0, "encerrado": 1}
    r = c.get(reverse("alarmes:list"), {"estado": "encerrado"})
    assert [a.pk for a in r.context["page_obj"]] == [old.pk]
    r = c.get(reverse("alarmes:list"), {"regra": a_alarm.regra_id})
    assert [a.pk for a in r.context["page_obj"]] == [a_alarm.pk]
    # The navbar count of open alarms is on every page.
    assert 'data-testid="alarm-count" aria-live="polite">1<' in html


def test_detail_ack_comment_clear_as_operador(operador_a, a_alarm):
    c = login(operador_a)
    r = c.get(reverse("alarmes:detail", args=[a_alarm.pk]))
    assert r.status_code == 200
    assert r.context["chart"]["pontos"]  # the device's readings around the alarm
    assert 'data-testid="ack"' in r.content.decode()
    c.post(reverse("alarmes:ack", args=[a_alarm.pk]), {"comentario": "a caminho"})
    c.post(reverse("alarmes:comment", args=[a_alarm.pk]), {"comentario": "trocado o termostato"})
    c.post(reverse("alarmes:clear", args=[a_alarm.pk]))
    a_alarm.refresh_from_db()
    assert a_alarm.estado == "encerrado"
    hist = [(t.tipo, t.usuario_id, t.comentario) for t in a_alarm.transicoes.all()]
    assert hist == [
        ("disparo", None, "Valor 12 acima do limite 10"),
        ("reconhecimento", operador_a.pk, "a caminho"),
        ("comentario", operador_a.pk, "trocado o termostato"),
        ("encerramento", operador_a.pk, ""),
    ]
    html = c.get(reverse("alarmes:detail", args=[a_alarm.pk])).content.decode()
    assert "trocado o termostato" in html
    assert operador_a.email in html


def test_leitor_reads_but_cannot_act(leitor_a, a_alarm):
    c = login(leitor_a)
    r = c.get(reverse("alarmes:detail", args=[a_alarm.pk]))
    assert r.status_code == 200
    assert 'data-testid="ack"' not in r.content.decode()
    for name in ("ack", "clear", "comment"):
        assert c.post(reverse(f"alarmes:{name}", args=[a_alarm.pk])).status_code == 403
    assert c.get(reverse("alarmes:regra_create")).status_code == 403
    assert c.post(reverse("alarmes:regra_toggle", args=[a_alarm.regra_id])).status_code == 403
    assert c.post(reverse("alarmes:regra_delete", args=[a_alarm.regra_id])).status_code == 403
    a_alarm.refresh_from_db()
    assert a_alarm.estado == "ativo"
    assert a_alarm.transicoes.count() == 1
    assert c.get(reverse("alarmes:regra_list")).status_code == 200


def test_other_accounts_ids_answer_404_and_change_nothing(admin_a, b_objects):
    c = login(admin_a)
    aid, rid = b_objects["alarme"].pk, b_objects["regra"].pk
    assert c.get(reverse("alarmes:detail", args=[aid])).status_code == 404
    for name in ("ack", "clear", "comment"):
        r = c.post(reverse(f"alarmes:{name}", args=[aid]), {"comentario": "x"})
        assert r.status_code == 404
    assert c.get(reverse("alarmes:regra_update", args=[rid])).status_code == 404
    assert c.post(reverse("alarmes:regra_update", args=[rid]), {"nome": "x"}).status_code == 404
    assert c.post(reverse("alarmes:regra_toggle", args=[rid])).status_code == 404
    assert c.post(reverse("alarmes:regra_delete", args=[rid])).status_code == 404
    r = c.get(reverse("alarmes:list"), {"regra": rid})
    assert list(r.context["page_obj"]) == []
    assert "B" not in [x.nome for x in c.get(reverse("alarmes:regra_list")).context["regras"]]
    assert Alarme.objects.get(pk=aid).transicoes.count() == 1
    assert RegraAlarme.objects.get(pk=rid).ativo is True
    assert c.get(reverse("alarmes:resumo")).json()["abertos"] == 0


def _form(**data):
    base = {"nome": "Regra", "tipo": "limite", "severidade": "alto", "ativo": "on",
            "grandeza": "valor", "histerese": "0", "duracao_minutos": "0", "periodo": "hora",
            "vazao_minima": "0", "janela_inicio": "00:00", "janela_fim": "05:00",
            "noites_para_encerrar": "2", "intervalos": "3", "modo_anomalia": "contador",
            "fator_mediana": "3", "tolerancia_reset": "0"}  # fmt: skip
    base.update(data)
    return base


def test_rule_form_create_edit_toggle_delete(admin_a, temp):
    c = login(admin_a)
    r = c.post(reverse("alarmes:regra_create"), _form(dispositivo=temp.pk, limite_superior="30"))
    assert r.status_code == 302
    regra = RegraAlarme.objects.get()
    assert (regra.nome, regra.dispositivo_id, regra.limite_superior) == ("Regra", temp.pk, 30)
    r = c.post(
        reverse("alarmes:regra_update", args=[regra.pk]),
        _form(nome="Renomeada", dispositivo=temp.pk, limite_superior="35"),
    )
    assert r.status_code == 302
    c.post(reverse("alarmes:regra_toggle", args=[regra.pk]))
    regra.refresh_from_db()
    assert (regra.nome, regra.ativo) == ("Renomeada", False)
    c.post(reverse("alarmes:regra_delete", args=[regra.pk]))
    assert not RegraAlarme.objects.exists()


def test_rule_form_takes_decimal_commas_in_text_inputs(admin_a, temp):
    """Vazão mínima "0,5" (an <input type=number> turned it into "05" in chromium): the
    decimal fields are text inputs with the decimal keyboard and read pt-BR numbers."""
    c = login(admin_a)
    html = c.get(reverse("alarmes:regra_create")).content.decode()
    tag = re.search(r'<input[^>]*name="vazao_minima"[^>]*>', html).group(0)
    assert 'type="text"' in tag
    assert 'inputmode="decimal"' in tag
    r = c.post(
        reverse("alarmes:regra_create"),
        _form(dispositivo=temp.pk, limite_superior="1.234,5", vazao_minima="0,5", histerese="0,25"),
    )
    assert r.status_code == 302, r.content.decode()
    regra = RegraAlarme.objects.get()
    assert (regra.limite_superior, regra.vazao_minima, regra.histerese) == (
        Decimal("1234.5"), Decimal("0.5"), Decimal("0.25"),
    )  # fmt: skip


def test_rule_form_shows_errors_on_fields_and_saves_nothing(admin_a, temp):
    c = login(admin_a)
    r = c.post(reverse("alarmes:regra_create"), _form(dispositivo=temp.pk))
    assert r.status_code == 200
    assert "limite_superior" in r.context["form"].errors
    r = c.post(reverse("alarmes:regra_create"), _form(limite_superior="1"))
    assert "Escolha exatamente um alvo" in r.content.decode()
    assert not RegraAlarme.objects.exists()


def test_previa_counts_what_the_rule_would_have_fired(admin_a, temp):
    now = timezone.now().replace(microsecond=0)
    # Three excursions above 30 in the last days, one 40 days ago (outside the window).
    pts = [(now - timedelta(days=40), 50)]
    for days in (3, 2, 1):
        t = now - timedelta(days=days)
        pts += [(t, 20), (t + timedelta(minutes=1), 35), (t + timedelta(minutes=2), 20)]
    ingest(temp, pts)
    c = login(admin_a)
    r = c.post(
        reverse("alarmes:regra_create"),
        _form(dispositivo=temp.pk, limite_superior="30", previa="1"),
    )
    assert r.status_code == 200
    preview = r.context["preview"]
    assert preview.total == 3
    assert [a.valor for a in preview.alarms] == [35, 35, 35]
    assert all(a.fim is not None for a in preview.alarms)
    assert 'data-testid="preview-total"' in r.content.decode()
    assert not RegraAlarme.objects.exists()  # a preview saves nothing


def test_previa_values_carry_the_unit_and_the_measured_precision(admin_a, gw, temp):
    """A reading of 9,123 °C over a limit of 9 was listed as "9,1230" (no unit, four
    decimals); an hourly rate of an energy meter reading to 0,01 kWh is rounded to that."""
    now = timezone.now().replace(microsecond=0)
    t = now - timedelta(days=1)
    ingest(
        temp, [(t, 8), (t + timedelta(minutes=1), Decimal("9.123")), (t + timedelta(minutes=2), 8)]
    )
    c = login(admin_a)
    r = c.post(
        reverse("alarmes:regra_create"),
        _form(dispositivo=temp.pk, limite_superior="9", previa="1"),
    )
    values = re.findall(r'data-testid="preview-value">([^<]*)<', r.content.decode())
    assert values == ["9,123 °C"]
    from alarmes.preview import value_text

    assert value_text(2.34567, "kWh", Decimal("0.01"), per_hour=True) == "2,35 kWh/h"
    assert value_text(Decimal("110.6600"), "kWh", Decimal("0.01"), per_hour=False) == "110,66 kWh"


def test_previa_names_each_device_by_gateway_and_counts_all_its_alarms(
    admin_a, gw, temp, monkeypatch
):
    """A rule over every thermometer of the account: two gateways each have a "T01". The
    Prévia names a device with its gateway, and its per-device counts cover every alarm,
    not only the ones listed (it used to show one "T01" badge counting the listed rows)."""
    other = factories.make_dispositivo(
        gateway=factories.make_gateway(conta=gw.conta, codigo="GW-B"), codigo="T01", tipo="TEMP"
    )
    now = timezone.now().replace(microsecond=0)
    for disp, days in ((temp, (3, 2, 1)), (other, (2, 1))):
        pts = []
        for d in days:
            t = now - timedelta(days=d, hours=disp.pk)
            pts += [(t, 20), (t + timedelta(minutes=1), 35), (t + timedelta(minutes=2), 20)]
        ingest(disp, pts)
    monkeypatch.setattr("alarmes.preview.MAX_LISTED", 2)
    r = login(admin_a).post(
        reverse("alarmes:regra_create"),
        _form(tipo_dispositivo="TEMP", limite_superior="30", previa="1"),
    )
    html = r.content.decode()
    assert r.context["preview"].total == 5
    assert "GW-A · T01: 3<" in html
    assert "GW-B · T01: 2<" in html
    listed = html[html.index('data-testid="preview-total"') :]
    assert listed.count(" · GW-") == 2  # the two newest, each named with its gateway


def test_dashboard_and_gateway_pages_show_open_alarms(admin_a, a_alarm, gw):
    c = login(admin_a)
    for url in (
        reverse("telemetria:dashboard"),
        reverse("dispositivos:gateway_detail", args=[gw.pk]),
        reverse("telemetria:gateway", args=[gw.pk]),
    ):
        html = c.get(url).content.decode()
        assert f'data-alarm-id="{a_alarm.pk}"' in html, url


def test_pages_carry_the_alarms_to_mark_on_their_charts(admin_a, temp, rule, gw, b_objects):
    """Open alarms and those closed in the last 30 days, of this account's devices only
    (static/js/tds-chart-alarms.js draws them)."""
    import json
    import re

    now = timezone.now()
    regra = rule(nome="Freezer", dispositivo=temp, limite_superior=Decimal(10))
    old = services.alarm_fire(regra=regra, gateway_id=gw.pk, dispositivo_id=temp.pk,
                              inicio=now - timedelta(days=40))  # fmt: skip
    services.alarm_clear(alarme=old, em=now - timedelta(days=35))
    recent = services.alarm_fire(regra=regra, gateway_id=gw.pk, dispositivo_id=temp.pk,
                                 inicio=now - timedelta(days=3))  # fmt: skip
    services.alarm_clear(alarme=recent, em=now - timedelta(days=2))
    opened = services.alarm_fire(regra=regra, gateway_id=gw.pk, dispositivo_id=temp.pk,
                                 inicio=now - timedelta(hours=1))  # fmt: skip
    c = login(admin_a)
    for url in (
        reverse("telemetria:dashboard"),
        reverse("telemetria:gateway", args=[gw.pk]),
        reverse("dispositivos:gateway_detail", args=[gw.pk]),
    ):
        html = c.get(url).content.decode()
        block = re.search(r"data-alarm-marks-source[^>]*><script[^>]*>(.*?)</script>", html, re.S)
        marks = json.loads(block.group(1))
        assert sorted(m["id"] for m in marks) == sorted([recent.pk, opened.pk]), url
        assert {m["dispositivo_id"] for m in marks} == {temp.pk}
        assert next(m for m in marks if m["id"] == opened.pk)["fim"] is None
