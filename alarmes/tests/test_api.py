"""The alarm JSON API: shapes, roles and token scopes, 400 naming the field, 404 across
accounts (and nothing changed)."""

import json
from decimal import Decimal

import pytest
from django.test import Client

from alarmes import services
from alarmes.models import Alarme, RegraAlarme
from apitokens.services import api_token_create
from tds_testing import factories
from tds_testing.alarms import local

BASE = "/alarmes/api/v1"


def login(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def send(client, method, url, body=None, **extra):
    return getattr(client, method)(
        url, data=json.dumps(body) if body is not None else None,
        content_type="application/json", **extra,
    )  # fmt: skip


def bearer(conta, escopo="leitura") -> dict:
    _t, raw = api_token_create(conta=conta, nome=f"t-{escopo}", escopo=escopo)
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


@pytest.fixture
def a_alarm(temp, rule):
    regra = rule(dispositivo=temp, limite_superior=Decimal(10), severidade="alto")
    alarme = services.alarm_fire(
        regra=regra, gateway_id=temp.gateway_id, dispositivo_id=temp.pk,
        inicio=local(2026, 3, 1, 10, 0), valor=Decimal("12.5"),
    )  # fmt: skip
    return alarme


def test_create_read_patch_delete_rule_as_operador(operador_a, temp):
    c = login(operador_a)
    body = {"nome": "Freezer", "tipo": "limite", "severidade": "critico", "dispositivo": temp.pk,
            "limite_superior": "-10", "histerese": "1.5", "duracao_minutos": 5}  # fmt: skip
    r = send(c, "post", f"{BASE}/regras/", body)
    assert r.status_code == 201, r.content
    data = r.json()
    assert {k: data[k] for k in ("nome", "tipo", "severidade", "ativo", "dispositivo")} == {
        "nome": "Freezer", "tipo": "limite", "severidade": "critico", "ativo": True,
        "dispositivo": temp.pk,
    }  # fmt: skip
    assert (data["limite_superior"], data["histerese"], data["duracao_minutos"]) == (
        "-10.0000", "1.5000", 5,
    )  # fmt: skip
    rid = data["id"]
    assert c.get(f"{BASE}/regras/").json()["regras"][0]["id"] == rid
    r = send(c, "patch", f"{BASE}/regras/{rid}/", {"ativo": False, "limite_superior": "-8"})
    assert r.status_code == 200
    assert (r.json()["ativo"], r.json()["limite_superior"]) == (False, "-8.0000")
    assert send(c, "delete", f"{BASE}/regras/{rid}/").status_code == 204
    assert not RegraAlarme.objects.filter(pk=rid).exists()


def test_template_rule_with_exclusions(admin_a, gw, temp):
    other = factories.make_dispositivo(gateway=gw, codigo="T9", tipo="TEMP")
    r = send(login(admin_a), "post", f"{BASE}/regras/", {
        "nome": "Todos", "tipo": "limite", "tipo_dispositivo": "TEMP", "limite_superior": 30,
        "exclusoes": [other.pk]})  # fmt: skip
    assert r.status_code == 201, r.content
    assert (r.json()["tipo_dispositivo"], r.json()["exclusoes"]) == ("TEMP", [other.pk])


@pytest.mark.parametrize(
    ("body", "campo"),
    [
        ({"tipo": "limite", "limite_superior": 1}, "nome"),
        ({"nome": "x", "tipo": "chuva", "limite_superior": 1}, "tipo"),
        (
            {"nome": "x", "tipo": "limite", "severidade": "grave", "limite_superior": 1},
            "severidade",
        ),
        ({"nome": "x", "tipo": "limite"}, "limite_superior"),
        ({"nome": "x", "tipo": "limite", "limite_superior": "abc"}, "limite_superior"),
        (
            {"nome": "x", "tipo": "limite", "limite_superior": 1, "limite_inferior": 5},
            "limite_inferior",
        ),
        ({"nome": "x", "tipo": "limite", "limite_superior": 1, "histerese": -1}, "histerese"),
        ({"nome": "x", "tipo": "consumo", "limite_superior": 0}, "limite_superior"),
    ],
)
def test_bad_input_answers_400_naming_the_field(admin_a, temp, body, campo):
    body = {"dispositivo": temp.pk, **body}
    r = send(login(admin_a), "post", f"{BASE}/regras/", body)
    assert r.status_code == 400, r.content
    assert r.json()["campo"] == campo
    assert r.json()["erro"].startswith(f"{campo}: ")
    assert not RegraAlarme.objects.exists()


def test_a_rule_cannot_name_another_accounts_device(admin_a, b_objects):
    r = send(login(admin_a), "post", f"{BASE}/regras/", {
        "nome": "x", "tipo": "limite", "limite_superior": 1, "dispositivo": b_objects["disp"].pk})  # fmt: skip
    assert r.status_code == 400
    assert r.json()["campo"] == "dispositivo"
    assert RegraAlarme.objects.filter(conta=admin_a.memberships.get().conta).count() == 0


def test_other_accounts_ids_answer_404_and_nothing_changes(admin_a, b_objects):
    c = login(admin_a)
    rid, aid = b_objects["regra"].pk, b_objects["alarme"].pk
    assert c.get(f"{BASE}/regras/{rid}/").status_code == 404
    assert send(c, "patch", f"{BASE}/regras/{rid}/", {"nome": "hack"}).status_code == 404
    assert send(c, "delete", f"{BASE}/regras/{rid}/").status_code == 404
    assert c.get(f"{BASE}/alarmes/{aid}/").status_code == 404
    assert send(c, "post", f"{BASE}/alarmes/{aid}/reconhecer/", {}).status_code == 404
    assert send(c, "post", f"{BASE}/alarmes/{aid}/encerrar/", {}).status_code == 404
    assert c.get(f"{BASE}/alarmes/").json() == {"alarmes": []}
    assert c.get(f"{BASE}/regras/").json() == {"regras": []}
    assert RegraAlarme.objects.get(pk=rid).nome == "B"
    assert Alarme.objects.get(pk=aid).estado == "ativo"


def test_alarm_list_detail_ack_and_clear(operador_a, a_alarm):
    c = login(operador_a)
    items = c.get(f"{BASE}/alarmes/?estado=ativo").json()["alarmes"]
    assert [(a["id"], a["estado"], a["severidade"], a["valor"], a["inicio"], a["fim"])
            for a in items] == [
        (a_alarm.pk, "ativo", "alto", "12.5000", "2026-03-01T13:00:00Z", None)]  # fmt: skip
    assert items[0]["regra"] == a_alarm.regra_id
    assert items[0]["dispositivo"] == a_alarm.dispositivo_id
    r = send(c, "post", f"{BASE}/alarmes/{a_alarm.pk}/reconhecer/", {"comentario": "visto"})
    assert r.status_code == 200
    assert r.json()["estado"] == "reconhecido"
    assert c.get(f"{BASE}/alarmes/?estado=ativo").json()["alarmes"] == []
    r = send(c, "post", f"{BASE}/alarmes/{a_alarm.pk}/encerrar/")
    assert r.json()["estado"] == "encerrado"
    hist = c.get(f"{BASE}/alarmes/{a_alarm.pk}/").json()["historico"]
    assert [(h["tipo"], h["usuario"], h["comentario"]) for h in hist] == [
        ("disparo", None, ""), ("reconhecimento", operador_a.email, "visto"),
        ("encerramento", operador_a.email, ""),
    ]  # fmt: skip
    r = send(c, "post", f"{BASE}/alarmes/{a_alarm.pk}/encerrar/")
    assert (r.status_code, r.json()["campo"]) == (400, "estado")
    assert c.get(f"{BASE}/alarmes/?estado=fechado").json()["campo"] == "estado"


def test_leitor_reads_but_cannot_write(leitor_a, a_alarm, temp):
    c = login(leitor_a)
    assert c.get(f"{BASE}/alarmes/").status_code == 200
    assert send(c, "post", f"{BASE}/alarmes/{a_alarm.pk}/reconhecer/").status_code == 403
    r = send(c, "post", f"{BASE}/regras/", {"nome": "x", "tipo": "limite", "dispositivo": temp.pk,
                                            "limite_superior": 1})  # fmt: skip
    assert r.status_code == 403
    assert Alarme.objects.get(pk=a_alarm.pk).estado == "ativo"


def test_tokens_read_and_write_only_with_the_write_scope(conta_a, a_alarm):
    c = Client()
    assert c.get(f"{BASE}/alarmes/", **bearer(conta_a)).status_code == 200
    url = f"{BASE}/alarmes/{a_alarm.pk}/reconhecer/"
    assert send(c, "post", url, **bearer(conta_a)).status_code == 403
    r = send(c, "post", url, {"comentario": "via ERP"}, **bearer(conta_a, "escrita"))
    assert r.status_code == 200
    t = Alarme.objects.get(pk=a_alarm.pk).transicoes.get(tipo="reconhecimento")
    assert (t.usuario, t.comentario) == (None, "[token t-escrita] via ERP")


def test_token_of_another_account_sees_nothing_of_this_one(conta_b, a_alarm):
    r = Client().get(f"{BASE}/alarmes/{a_alarm.pk}/", **bearer(conta_b, "escrita"))
    assert r.status_code == 404


def test_no_credentials_401_and_session_writes_need_csrf(admin_a, a_alarm):
    assert Client().get(f"{BASE}/alarmes/").status_code == 401
    assert Client().get(f"{BASE}/alarmes/", HTTP_AUTHORIZATION="Bearer tds_nope").status_code == 401
    c = Client(enforce_csrf_checks=True)
    c.force_login(admin_a)
    assert send(c, "post", f"{BASE}/alarmes/{a_alarm.pk}/reconhecer/").status_code == 403
    assert Alarme.objects.get(pk=a_alarm.pk).estado == "ativo"


def test_openapi_docs_are_served(admin_a):
    c = login(admin_a)
    schema = c.get(f"{BASE}/openapi.json").json()
    assert f"{BASE}/regras/{{regra_id}}/" in schema["paths"]
    assert f"{BASE}/alarmes/{{alarme_id}}/encerrar/" in schema["paths"]
    docs = c.get(f"{BASE}/docs")
    assert docs.status_code == 200
    assert "/static/ninja/swagger-ui-bundle.js" in docs.content.decode()  # no CDN
