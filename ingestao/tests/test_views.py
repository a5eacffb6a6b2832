"""The rejected-messages page: the account's own rejects only, filter and counts."""

import datetime as dt

import pytest
from django.urls import reverse

from ingestao import services
from tds_testing import factories
from tds_testing.factories import PASSWORD

pytestmark = pytest.mark.django_db


def reject(gateway, motivo, payload=b"{}", detalhe="d"):
    services.rejeitadas_store(
        items=[
            {
                "recebida_em": dt.datetime.now(tz=dt.UTC),
                "topico": f"tds_new/devices/{gateway.mac if gateway else 'x'}/telemetry",
                "payload": payload,
                "motivo": motivo,
                "detalhe": detalhe,
                "gateway_id": gateway.pk if gateway else None,
                "conta_id": gateway.conta_id if gateway else None,
            }
        ]
    )


@pytest.fixture
def data(conta_a, conta_b):
    gw_a = factories.make_gateway(conta=conta_a, codigo="GW-A")
    gw_b = factories.make_gateway(conta=conta_b, codigo="GW-B")
    reject(gw_a, "not_json", b"{oops", "detalhe-a1")
    reject(gw_a, "not_json", b"{oops2", "detalhe-a2")
    reject(gw_a, "unknown_device", detalhe="detalhe-a3")
    reject(gw_b, "bad_timestamp", detalhe="detalhe-b")
    reject(None, "unknown_gateway", detalhe="detalhe-orfa")
    return gw_a, gw_b


def login(client, user):
    assert client.login(email=user.email, password=PASSWORD)


def test_list_shows_only_own_account_with_counts_and_filter(client, admin_a, data):
    login(client, admin_a)
    page = client.get(reverse("ingestao:rejeitadas")).content.decode()
    assert "detalhe-a1" in page
    assert "detalhe-a3" in page
    assert "detalhe-b" not in page
    assert "detalhe-orfa" not in page
    assert 'data-testid="count-not_json"' in page
    counts = client.get(reverse("ingestao:rejeitadas")).context["counts"]
    assert [(c, n) for c, _, n in counts] == [("not_json", 2), ("unknown_device", 1)]
    filtered = client.get(reverse("ingestao:rejeitadas"), {"motivo": "unknown_device"})
    assert "detalhe-a3" in filtered.content.decode()
    assert "detalhe-a1" not in filtered.content.decode()


def test_detail_shows_payload_and_other_account_answers_404(client, admin_a, admin_b, data):
    from ingestao.models import MensagemRejeitada

    own = MensagemRejeitada.objects.get(detalhe="detalhe-a1")
    other = MensagemRejeitada.objects.get(detalhe="detalhe-b")
    orphan = MensagemRejeitada.objects.get(detalhe="detalhe-orfa")
    login(client, admin_a)
    response = client.get(reverse("ingestao:rejeitada_detail", args=[own.pk]))
    assert response.status_code == 200
    assert "{oops" in response.content.decode()
    assert client.get(reverse("ingestao:rejeitada_detail", args=[other.pk])).status_code == 404
    assert client.get(reverse("ingestao:rejeitada_detail", args=[orphan.pk])).status_code == 404
    assert MensagemRejeitada.objects.count() == 5  # nothing changed


def test_login_required(client):
    response = client.get(reverse("ingestao:rejeitadas"))
    assert response.status_code == 302
