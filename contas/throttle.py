"""Brute-force limits of the login and password reset pages.

The login (ours at /entrar/ and the admin's) is guarded by django-axes (settings.AXES_*);
the password reset form by django-ratelimit counters, per client address and per e-mail.
"""

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.shortcuts import render
from django.utils.translation import gettext as _
from django_ratelimit.core import is_ratelimited


def axes_username(request, credentials) -> str:
    """One lockout counter per e-mail whatever its case (login is case-insensitive)."""
    value = (credentials or {}).get("username") or request.POST.get("username", "")
    return str(value).strip().lower()


def _email_key(group, request) -> str:
    return request.POST.get("email", "").strip().lower()


class ThrottledPasswordResetView(auth_views.PasswordResetView):
    """Django's reset form, answering 429 past TDS_PASSWORD_RESET_RATE_IP requests from
    one address. Past TDS_PASSWORD_RESET_RATE_EMAIL for one e-mail it shows the usual
    "sent" page but sends nothing: the answer says nothing about the address."""

    def post(self, request, *args, **kwargs):
        if is_ratelimited(
            request,
            group="password_reset:ip",
            key="ip",
            rate=settings.TDS_PASSWORD_RESET_RATE_IP,
            method="POST",
            increment=True,
        ):
            return render(
                request,
                "registration/bloqueado.html",
                {"motivo": _("Muitos pedidos de redefinição de senha deste endereço.")},
                status=429,
            )
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        if is_ratelimited(
            self.request,
            group="password_reset:email",
            key=_email_key,
            rate=settings.TDS_PASSWORD_RESET_RATE_EMAIL,
            method="POST",
            increment=True,
        ):
            return super(auth_views.PasswordResetView, self).form_valid(form)  # no e-mail
        return super().form_valid(form)


class LoginLockoutBackend(AxesStandaloneBackend):
    """django-axes' lockout check for every authenticate() that comes with a request
    (the login pages). One without a request (the test client's login(), scripts) has no
    client address to key a lockout on and goes on to the password backend unchecked."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
