"""Reads of API tokens."""

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django_scopes import scopes_disabled

from contas.models import Conta

from .models import ApiToken
from .services import TOKEN_PREFIX, token_hash


def api_token_list(*, conta: Conta) -> QuerySet:
    return ApiToken.objects.filter(conta=conta).select_related("criado_por")


def api_token_get(*, conta: Conta, pk) -> ApiToken:
    try:
        return ApiToken.objects.get(conta=conta, pk=pk)
    except (ApiToken.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def api_token_authenticate(*, raw: str) -> ApiToken | None:
    """The active (not revoked, not expired) token with this secret, with its account;
    None otherwise.

    The look-up is by hash across accounts (the token names its account), so it runs
    unscoped; the caller then scopes the request to `token.conta`.
    """
    if not raw.startswith(TOKEN_PREFIX) or len(raw) > 200:
        return None
    with scopes_disabled():
        return (
            ApiToken.objects.select_related("conta")
            .filter(token_hash=token_hash(raw), revoked_at__isnull=True, conta__is_active=True)
            .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now()))
            .first()
        )
