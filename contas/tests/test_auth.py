"""Login by e-mail, logout, password change and reset (pt-BR pages, e-mail backend)."""

import re

import pytest
from django.core import mail
from django.urls import reverse

from tds_testing import factories

pytestmark = pytest.mark.django_db


def test_login_with_email_and_password(client, conta_a, admin_a):
    page = client.get(reverse("login"))
    assert "E-mail" in page.content.decode()
    response = client.post(
        reverse("login"), {"username": admin_a.email.upper(), "password": factories.PASSWORD}
    )
    assert response.status_code == 302
    assert client.get(reverse("dispositivos:gateway_list")).status_code == 200


def test_wrong_password_shows_error_in_portuguese(client, admin_a):
    response = client.post(reverse("login"), {"username": admin_a.email, "password": "errada"})
    assert response.status_code == 200
    assert "e-mail" in response.content.decode().lower()
    assert "_auth_user_id" not in client.session


def test_login_redirects_to_next(client, admin_a):
    target = reverse("dispositivos:dispositivo_list")
    response = client.post(
        reverse("login") + f"?next={target}",
        {"username": admin_a.email, "password": factories.PASSWORD, "next": target},
    )
    assert response.url == target


def test_logout_is_a_post_and_ends_the_session(client, admin_a):
    client.force_login(admin_a)
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get(reverse("dispositivos:gateway_list")).status_code == 302


def test_password_change(client, admin_a):
    client.force_login(admin_a)
    page = client.get(reverse("password_change"))
    assert "Alterar senha" in page.content.decode()
    response = client.post(
        reverse("password_change"),
        {
            "old_password": factories.PASSWORD,
            "new_password1": "Outra-senha-2026!",
            "new_password2": "Outra-senha-2026!",
        },
        follow=True,
    )
    assert "Senha alterada" in response.content.decode()
    client.logout()
    assert client.login(username=admin_a.email, password="Outra-senha-2026!")


def test_password_change_wrong_old_password_error_on_field(client, admin_a):
    from tds_testing.forms import field_error

    client.force_login(admin_a)
    response = client.post(
        reverse("password_change"),
        {
            "old_password": "nada",
            "new_password1": "Outra-senha-2026!",
            "new_password2": "Outra-senha-2026!",
        },
    )
    assert field_error(response, "old_password")


def test_password_reset_flow(client, admin_a):
    page = client.get(reverse("password_reset"))
    assert "Recuperar senha" in page.content.decode()
    response = client.post(reverse("password_reset"), {"email": admin_a.email}, follow=True)
    assert "Verifique seu e-mail" in response.content.decode()
    assert len(mail.outbox) == 1
    body = mail.outbox[0].body
    assert "redefinir a senha" in body
    link = re.search(r"https?://\S+", body).group(0)
    form_page = client.get(link, follow=True)
    assert form_page.context["validlink"]
    done = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "Nova-senha-2026!", "new_password2": "Nova-senha-2026!"},
        follow=True,
    )
    assert "Senha definida" in done.content.decode()
    assert client.login(username=admin_a.email, password="Nova-senha-2026!")
    # The link works once.
    client.logout()
    again = client.get(link, follow=True)
    assert not again.context["validlink"]


def test_password_reset_for_unknown_email_says_the_same_and_sends_nothing(client):
    response = client.post(reverse("password_reset"), {"email": "ninguem@example.com"}, follow=True)
    assert "Verifique seu e-mail" in response.content.decode()
    assert mail.outbox == []
