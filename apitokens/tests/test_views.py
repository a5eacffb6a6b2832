"""API token management: admins create and revoke; the secret is shown once, stored hashed."""

import re

import pytest
from django.urls import reverse

from apitokens.models import ApiToken
from apitokens.selectors import api_token_authenticate
from apitokens.services import api_token_create, token_hash


def _create(client, nome="ERP"):
    return client.post(reverse("apitokens:list"), {"nome": nome})


def test_admin_creates_token_shown_once_and_stored_hashed(client, admin_a, conta_a):
    client.force_login(admin_a)
    response = _create(client)
    assert response.status_code == 200
    raw = re.search(rb'id="new-token-value">([^<]+)<', response.content).group(1).decode()
    token = ApiToken.objects.get()
    assert token.conta == conta_a
    assert token.criado_por == admin_a
    assert token.token_hash == token_hash(raw)
    assert raw not in str(ApiToken.objects.values_list().get())
    assert api_token_authenticate(raw=raw) == token
    # Listing again never shows the secret.
    again = client.get(reverse("apitokens:list"))
    assert raw.encode() not in again.content
    assert token.prefixo.encode() in again.content


def test_blank_name_is_rejected_naming_the_field(client, admin_a):
    client.force_login(admin_a)
    response = _create(client, nome="  ")
    assert response.status_code == 200
    assert response.context["form"].errors["nome"]
    assert not ApiToken.objects.exists()


@pytest.mark.parametrize("role_user", ["operador_a", "leitor_a"])
def test_non_admins_cannot_manage_tokens(client, request, role_user):
    client.force_login(request.getfixturevalue(role_user))
    assert client.get(reverse("apitokens:list")).status_code == 403
    assert _create(client).status_code == 403


def test_revoke_disables_the_token(client, admin_a, conta_a):
    token, raw = api_token_create(conta=conta_a, nome="x")
    client.force_login(admin_a)
    response = client.post(reverse("apitokens:revoke", args=[token.pk]))
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert api_token_authenticate(raw=raw) is None


def test_other_accounts_token_is_404_and_unchanged(client, admin_a, conta_b):
    token, raw = api_token_create(conta=conta_b, nome="alheio")
    client.force_login(admin_a)
    assert client.post(reverse("apitokens:revoke", args=[token.pk])).status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None
    assert b"alheio" not in client.get(reverse("apitokens:list")).content
    assert api_token_authenticate(raw=raw) == token


def test_unknown_or_malformed_secrets_do_not_authenticate(conta_a):
    _, raw = api_token_create(conta=conta_a, nome="x")
    assert api_token_authenticate(raw=raw + "x") is None
    assert api_token_authenticate(raw="") is None
    assert api_token_authenticate(raw=raw.removeprefix("tds_")) is None


def test_a_token_with_a_validity_expires_and_the_list_shows_it_with_its_creator(
    client, admin_a, conta_a
):
    """Issue 12 item 9: tokens get an optional expiry and are listed with their creator."""
    import datetime as dt

    from django.utils import timezone

    client.force_login(admin_a)
    response = client.post(reverse("apitokens:list"), {"nome": "ERP 30d", "validade_dias": "30"})
    raw = re.search(rb'id="new-token-value">([^<]+)<', response.content).group(1).decode()
    token = ApiToken.objects.get()
    left = token.expires_at - timezone.now()
    assert dt.timedelta(days=29, hours=23) < left <= dt.timedelta(days=30)
    assert api_token_authenticate(raw=raw) == token
    page = client.get(reverse("apitokens:list")).content.decode()
    assert admin_a.email in page
    assert "Expira em" in page
    # Past its expiry the token no longer authenticates, and the list says so.
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert api_token_authenticate(raw=raw) is None
    api = client.get(reverse("telemetria:api_resumo"), HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert api.status_code == 401
    assert "expirado" in client.get(reverse("apitokens:list")).content.decode()
    # Without a validity it does not expire.
    client.post(reverse("apitokens:list"), {"nome": "sem prazo", "validade_dias": ""})
    assert ApiToken.objects.get(nome="sem prazo").expires_at is None
