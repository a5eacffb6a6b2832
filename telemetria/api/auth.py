"""Authentication of the JSON API and CSV export: the session, or an API token.

`Authorization: Bearer <token>` authenticates as the token's account (read-only); the
request then runs inside that account's scope, whatever the session says. Without the
header the logged-in user's active account is used. Failures answer JSON, not a login
redirect: 401 without valid credentials, 403 for a user without an account.
"""

from functools import wraps

from django.http import JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET
from django_scopes import scope

from apitokens.selectors import api_token_authenticate
from apitokens.services import api_token_touch
from contas.permissions import READ


def _error(status: int, message: str) -> JsonResponse:
    response = JsonResponse({"erro": message}, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="tds-new"'
    return response


def api_view(view):
    """GET only; resolves `request.conta` from a bearer token or the session."""

    @require_GET
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        header = request.headers.get("Authorization", "")
        if header:
            kind, _sep, raw = header.partition(" ")
            token = api_token_authenticate(raw=raw.strip()) if kind.lower() == "bearer" else None
            if token is None:
                return _error(401, _("Token de API inválido ou revogado."))
            api_token_touch(token=token)
            request.conta = token.conta
            request.api_token = token
            with scope(conta=token.conta):
                return view(request, *args, **kwargs)
        if not request.user.is_authenticated:
            return _error(401, _("Autenticação necessária (sessão ou token de API)."))
        if getattr(request, "conta", None) is None:
            return _error(403, _("Usuário sem conta ativa."))
        if request.membership.role not in READ:  # a morador sees only their unit's pages
            return _error(403, _("Seu papel não dá acesso aos dados da conta inteira."))
        return view(request, *args, **kwargs)

    return wrapper
