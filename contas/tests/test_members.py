"""Member management: admins list, add/invite, change roles and remove; the account
always keeps an admin; other roles get 403; another account's membership id is 404."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse

from contas import services
from contas.models import ContaMembership, Role
from tds_testing import factories
from tds_testing.forms import field_error

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, admin_a):
    client.force_login(admin_a)
    return client


def _member_urls(membership):
    return [
        reverse("contas:member_list"),
        reverse("contas:member_add"),
        reverse("contas:member_update", args=[membership.pk]),
        reverse("contas:member_remove", args=[membership.pk]),
    ]


def _snapshot():
    return list(ContaMembership.objects.order_by("pk").values())


def test_admin_sees_the_members(admin_client, admin_a, leitor_a, admin_b):
    page = admin_client.get(reverse("contas:member_list"))
    assert page.status_code == 200
    html = page.content.decode()
    assert admin_a.email in html
    assert leitor_a.email in html
    assert admin_b.email not in html  # another account's member


@pytest.mark.parametrize("role", [Role.OPERADOR, Role.LEITOR])
def test_operador_and_leitor_get_403_on_member_pages(client, conta_a, admin_a, role):
    user = factories.make_member(conta=conta_a, role=role).user
    client.force_login(user)
    target = ContaMembership.objects.get(user=admin_a)
    before = _snapshot()
    for url in _member_urls(target):
        assert client.get(url).status_code == 403, url
        assert client.post(url, {"email": "x@example.com", "role": "admin"}).status_code == 403
    assert _snapshot() == before
    assert not get_user_model().objects.filter(email="x@example.com").exists()


def test_anonymous_is_sent_to_login(client, admin_a):
    target = ContaMembership.objects.get(user=admin_a)
    for url in _member_urls(target):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))


def test_sidebar_shows_members_only_to_admins(client, conta_a, admin_a, operador_a):
    client.force_login(admin_a)
    assert (
        reverse("contas:member_list")
        in client.get(reverse("dispositivos:gateway_list")).content.decode()
    )
    client.force_login(operador_a)
    assert (
        reverse("contas:member_list")
        not in client.get(reverse("dispositivos:gateway_list")).content.decode()
    )


def _accept_link(message) -> str:
    return re.search(r"https?://\S+", message.body).group(0)


def test_add_existing_user_is_an_invitation_they_must_accept(
    client, admin_client, conta_a, admin_b, django_capture_on_commit_callbacks
):
    """Issue 12 item 9: before, an existing user was added at once, without being asked,
    and the admin's answer ("adicionado" vs "convite enviado") told whether the e-mail
    had an account."""
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("contas:member_add"),
            {"email": admin_b.email.upper(), "role": "operador"},
            follow=True,
        )
    assert f"Convite enviado para {admin_b.email}." in response.content.decode()
    membership = ContaMembership.objects.get(conta=conta_a, user=admin_b)
    assert (membership.role, membership.accepted_at) == (Role.OPERADOR, None)
    assert [m.to for m in mail.outbox] == [[admin_b.email]]
    assert _accept_link(mail.outbox[0]).endswith(reverse("contas:convites"))
    # Pending: no access to the account yet, not even to switch to it.
    client.force_login(admin_b)
    client.post(reverse("contas:switch"), {"conta": conta_a.pk})
    assert client.get(reverse("dispositivos:gateway_list")).context["active_conta"] != conta_a
    page = client.get(reverse("contas:convites")).content.decode()
    assert conta_a.nome in page
    response = client.post(
        reverse("contas:convite_responder", args=[membership.pk]), {"resposta": "aceitar"}
    )
    assert response.status_code == 302
    assert client.get(reverse("dispositivos:gateway_list")).context["active_conta"] == conta_a


def test_the_answer_does_not_reveal_whether_an_email_is_registered(
    admin_client, conta_a, admin_b, django_capture_on_commit_callbacks
):
    answers = {}
    for email in (admin_b.email, "ninguem@example.com"):
        with django_capture_on_commit_callbacks(execute=True):
            response = admin_client.post(
                reverse("contas:member_add"), {"email": email, "role": "leitor"}, follow=True
            )
        text = response.content.decode()
        row = next(r for r in text.split('data-testid="member-row"')[1:] if email in r)
        answers[email] = (
            response.status_code,
            text.count(email),
            "Convite enviado para" in text,
            "Convite pendente" in row,
            "Reenviar convite" in row,
        )
    assert answers[admin_b.email] == answers["ninguem@example.com"]
    assert answers[admin_b.email][2:] == (True, True, True)


def test_an_invitation_is_answered_only_by_its_user(
    client, admin_client, conta_a, admin_b, leitor_a
):
    admin_client.post(reverse("contas:member_add"), {"email": admin_b.email, "role": "leitor"})
    invite = ContaMembership.objects.get(conta=conta_a, user=admin_b)
    client.force_login(leitor_a)
    url = reverse("contas:convite_responder", args=[invite.pk])
    assert client.post(url, {"resposta": "aceitar"}).status_code == 404
    accepted = ContaMembership.objects.get(conta=conta_a, user=leitor_a)
    assert (
        client.post(
            reverse("contas:convite_responder", args=[accepted.pk]), {"resposta": "recusar"}
        ).status_code
        == 404
    )
    client.force_login(admin_b)
    assert client.post(url, {"resposta": "recusar"}).status_code == 302
    assert not ContaMembership.objects.filter(pk=invite.pk).exists()


def test_a_pending_admin_invitation_does_not_count_as_another_admin(admin_client, admin_a, admin_b):
    admin_client.post(reverse("contas:member_add"), {"email": admin_b.email, "role": "admin"})
    me = ContaMembership.objects.get(user=admin_a)
    with pytest.raises(services.ValidationError):
        services.member_remove(membership=me)


def test_invite_new_email_creates_user_and_sends_a_set_password_link(
    client, admin_client, conta_a, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("contas:member_add"), {"email": "Nova.Pessoa@Example.com", "role": "leitor"}
        )
    assert response.status_code == 302
    user = get_user_model().objects.get(email="nova.pessoa@example.com")
    assert not user.has_usable_password()
    invite = ContaMembership.objects.get(user=user)
    assert (invite.conta, invite.accepted_at) == (conta_a, None)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["nova.pessoa@example.com"]
    assert conta_a.nome in message.subject
    link = _accept_link(message)
    # The invitee follows the link, sets a password, logs in and accepts.
    client.logout()
    form_page = client.get(link, follow=True)
    assert form_page.context["validlink"]
    client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "Uma-senha-boa-2026", "new_password2": "Uma-senha-boa-2026"},
    )
    assert client.login(username="nova.pessoa@example.com", password="Uma-senha-boa-2026")
    page = client.get(reverse("dispositivos:gateway_list"))
    assert page.status_code == 302
    assert page.url == reverse("contas:convites")
    client.post(reverse("contas:convite_responder", args=[invite.pk]), {"resposta": "aceitar"})
    page = client.get(reverse("dispositivos:gateway_list"))
    assert page.context["active_conta"] == conta_a


def test_adding_an_existing_member_is_an_error_on_email(admin_client, leitor_a):
    response = admin_client.post(
        reverse("contas:member_add"), {"email": leitor_a.email, "role": "admin"}
    )
    assert field_error(response, "email") == "Este usuário já é membro da conta."
    assert ContaMembership.objects.get(user=leitor_a).role == Role.LEITOR


def test_invalid_email_and_role_errors_on_their_fields(admin_client):
    response = admin_client.post(
        reverse("contas:member_add"), {"email": "não-é-email", "role": "chefe"}
    )
    assert field_error(response, "email")
    assert field_error(response, "role")


def test_change_role(admin_client, leitor_a):
    m = ContaMembership.objects.get(user=leitor_a)
    response = admin_client.post(
        reverse("contas:member_update", args=[m.pk]), {"role": "operador"}, follow=True
    )
    m.refresh_from_db()
    assert m.role == Role.OPERADOR
    assert "Papel de" in response.content.decode()


def test_last_admin_cannot_be_demoted(admin_client, admin_a):
    m = ContaMembership.objects.get(user=admin_a)
    response = admin_client.post(reverse("contas:member_update", args=[m.pk]), {"role": "leitor"})
    assert "último" in field_error(response, "role")
    m.refresh_from_db()
    assert m.role == Role.ADMIN


def test_last_admin_cannot_be_removed(admin_client, admin_a):
    m = ContaMembership.objects.get(user=admin_a)
    response = admin_client.post(reverse("contas:member_remove", args=[m.pk]))
    assert response.status_code == 400
    assert "último administrador" in response.content.decode()
    assert ContaMembership.objects.filter(pk=m.pk).exists()


def test_an_admin_can_be_demoted_or_removed_when_another_admin_remains(
    admin_client, conta_a, admin_a
):
    other = factories.make_member(conta=conta_a, role=Role.ADMIN)
    admin_client.post(reverse("contas:member_update", args=[other.pk]), {"role": "leitor"})
    other.refresh_from_db()
    assert other.role == Role.LEITOR
    other.role = Role.ADMIN
    other.save()
    # Removing oneself is allowed while another admin remains.
    mine = ContaMembership.objects.get(user=admin_a)
    response = admin_client.post(reverse("contas:member_remove", args=[mine.pk]))
    assert response.status_code == 302
    assert not ContaMembership.objects.filter(pk=mine.pk).exists()


def test_remove_member_asks_for_confirmation(admin_client, leitor_a):
    m = ContaMembership.objects.get(user=leitor_a)
    url = reverse("contas:member_remove", args=[m.pk])
    assert leitor_a.email in admin_client.get(url).content.decode()
    assert ContaMembership.objects.filter(pk=m.pk).exists()
    admin_client.post(url)
    assert not ContaMembership.objects.filter(pk=m.pk).exists()
    assert get_user_model().objects.filter(pk=leitor_a.pk).exists()  # the login stays


def test_another_accounts_membership_id_is_404_and_changes_nothing(
    client, admin_a, admin_b, conta_b
):
    foreign = ContaMembership.objects.get(user=admin_b)
    extra = factories.make_member(conta=conta_b, role=Role.LEITOR)
    client.force_login(admin_a)
    before = _snapshot()
    for target in (foreign, extra):
        for name in ("contas:member_update", "contas:member_remove", "contas:member_resend_invite"):
            url = reverse(name, args=[target.pk])
            if name != "contas:member_resend_invite":  # POST-only
                assert client.get(url).status_code == 404
            assert client.post(url, {"role": "leitor"}).status_code == 404
    assert _snapshot() == before
    assert mail.outbox == []


def test_two_admins_demoting_each_other_keeps_one_admin(conta_a, admin_a):
    """Sequential version of the race the account-row lock prevents."""
    first = ContaMembership.objects.get(user=admin_a)
    second = factories.make_member(conta=conta_a, role=Role.ADMIN)
    services.member_change_role(membership=first, role=Role.LEITOR)
    with pytest.raises(services.ValidationError):
        services.member_change_role(membership=second, role=Role.LEITOR)
    assert ContaMembership.objects.filter(conta=conta_a, role=Role.ADMIN).count() == 1


def test_resend_invite_to_a_pending_member(
    admin_client, conta_a, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            reverse("contas:member_add"), {"email": "p@example.com", "role": "leitor"}
        )
    m = ContaMembership.objects.get(user__email="p@example.com")
    page = admin_client.get(reverse("contas:member_list")).content.decode()
    assert "Convite pendente" in page
    assert reverse("contas:member_resend_invite", args=[m.pk]) in page
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("contas:member_resend_invite", args=[m.pk]), follow=True
        )
    assert "Convite reenviado" in response.content.decode()
    assert [msg.to for msg in mail.outbox] == [["p@example.com"], ["p@example.com"]]


def test_resend_invite_refused_for_a_member_with_a_password(admin_client, leitor_a):
    m = ContaMembership.objects.get(user=leitor_a)
    response = admin_client.post(reverse("contas:member_resend_invite", args=[m.pk]), follow=True)
    assert "já definiu a senha" in response.content.decode()
    assert mail.outbox == []


def test_resend_invite_is_post_only_and_admin_only(client, conta_a, operador_a, leitor_a):
    m = ContaMembership.objects.get(user=leitor_a)
    url = reverse("contas:member_resend_invite", args=[m.pk])
    client.force_login(operador_a)
    assert client.post(url).status_code == 403
    assert client.get(url).status_code == 405
