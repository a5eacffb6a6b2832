"""Issue 12 item 8: repeated failures lock out /entrar/, the admin login and the
password reset form (django-axes and django-ratelimit), with a pt-BR answer."""

import pytest
from django.core import mail
from django.urls import reverse

from contas.models import CustomUser
from tds_testing import factories

pytestmark = pytest.mark.django_db
LOCKED = "Muitas tentativas"


def _login(client, url, email, password, ip="10.0.0.1"):
    return client.post(url, {"username": email, "password": password}, REMOTE_ADDR=ip)


@pytest.mark.parametrize("url_name", ["login", "admin:login"])
def test_login_locks_after_repeated_failures(client, settings, url_name):
    user = CustomUser.objects.create_superuser(
        email="alvo@example.com", password="Senha-Certa-2026"
    )
    other = CustomUser.objects.create_superuser(
        email="outro@example.com", password="Senha-Certa-2026"
    )
    url = reverse(url_name)
    for attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        response = _login(client, url, user.email, f"errada-{attempt}")
        assert response.status_code == 200, attempt  # the form again, with its error
    # The last allowed failure, in another case: one counter per e-mail.
    assert _login(client, url, user.email.upper(), "errada").status_code == 429
    # Locked: even the right password is refused, in Portuguese, without checking it.
    locked = _login(client, url, user.email, "Senha-Certa-2026")
    assert locked.status_code == 429
    assert LOCKED in locked.content.decode()
    assert "_auth_user_id" not in client.session
    # Keyed on (e-mail, address): the same user elsewhere and another user here get in.
    assert _login(client, url, user.email, "Senha-Certa-2026", ip="10.0.0.2").status_code == 302
    client.logout()
    assert _login(client, url, other.email, "Senha-Certa-2026").status_code == 302


def test_a_success_resets_the_failure_count(client, settings):
    user = factories.make_member(conta=factories.make_conta(nome="C"), role="admin").user
    url = reverse("login")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        _login(client, url, user.email, "errada")
    assert _login(client, url, user.email, factories.PASSWORD).status_code == 302
    client.logout()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert _login(client, url, user.email, "errada").status_code == 200


def test_password_reset_is_throttled_per_address_and_per_email(client, settings):
    settings.TDS_PASSWORD_RESET_RATE_IP = "4/h"
    settings.TDS_PASSWORD_RESET_RATE_EMAIL = "2/h"
    user = CustomUser.objects.create_user(email="alvo@example.com", password="Senha-Certa-2026")
    url = reverse("password_reset")
    answers = [
        client.post(url, {"email": user.email}, REMOTE_ADDR="10.0.0.1", follow=True)
        for _ in range(3)
    ]
    # Per e-mail: the third request looks the same but sends nothing.
    assert all("Verifique seu e-mail" in a.content.decode() for a in answers)
    assert len(mail.outbox) == 2
    # Per address: past 4 requests from 10.0.0.1, a pt-BR 429, whatever the e-mail.
    assert client.post(url, {"email": "x@example.com"}, REMOTE_ADDR="10.0.0.1").status_code == 302
    refused = client.post(url, {"email": "y@example.com"}, REMOTE_ADDR="10.0.0.1")
    assert refused.status_code == 429
    assert LOCKED in refused.content.decode()
    assert client.post(url, {"email": "y@example.com"}, REMOTE_ADDR="10.0.0.9").status_code == 302
