"""Puts the active account on the request and runs the request inside its scope."""

from django.conf import settings
from django_scopes import scope, scopes_disabled

from .selectors import memberships_of_user

SESSION_KEY = "active_conta_id"


class ActiveContaMiddleware:
    """Sets `request.conta`, `request.membership` and `request.memberships`.

    The active account is kept in the session; when absent or no longer valid the
    user's first account is used. Everything after runs inside `scope(conta=...)`,
    so a tenant-owned query can only see the active account's rows. A user without
    an account gets an empty scope (sees nothing). The Django admin is the
    platform operator's cross-tenant tool and runs unscoped.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.admin_prefix = "/" + settings.ADMIN_URL

    def __call__(self, request):
        request.conta = None
        request.membership = None
        request.memberships = []
        if request.path.startswith(self.admin_prefix):
            with scopes_disabled():
                return self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            request.memberships = memberships_of_user(user=user)
            wanted = request.session.get(SESSION_KEY)
            chosen = next((m for m in request.memberships if m.conta_id == wanted), None)
            if chosen is None and request.memberships:
                chosen = request.memberships[0]
            if chosen is not None:
                request.membership = chosen
                request.conta = chosen.conta
        with scope(conta=request.conta if request.conta is not None else []):
            return self.get_response(request)
