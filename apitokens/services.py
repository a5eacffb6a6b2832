"""Writes of API tokens: create (returns the token once) and revoke."""

import hashlib
import secrets
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from contas.models import Conta

from .models import ApiToken

TOKEN_PREFIX = "tds_"  # noqa: S105 (a public marker, not a secret)


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@transaction.atomic
def api_token_create(
    *,
    conta: Conta,
    nome: str,
    criado_por=None,
    escopo: str = "leitura",
    validade_dias: int | None = None,
) -> tuple[ApiToken, str]:
    """Creates a token (read-only, or `escopo="escrita"` for the alarm API's writes), valid
    for `validade_dias` days (None: until revoked); returns it with the raw secret, which
    is not stored anywhere."""
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        conta=conta,
        nome=nome.strip(),
        prefixo=raw[: len(TOKEN_PREFIX) + 6],
        token_hash=token_hash(raw),
        criado_por=criado_por,
        escopo=escopo,
        expires_at=timezone.now() + timedelta(days=validade_dias) if validade_dias else None,
    )
    token.full_clean()
    token.save()
    return token, raw


@transaction.atomic
def api_token_revoke(*, token: ApiToken) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at", "updated_at"])
    return token


def api_token_touch(*, token: ApiToken) -> None:
    """Records the last use, at most once a minute per token (one UPDATE, no read)."""
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
