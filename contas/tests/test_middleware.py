import pytest
from django.urls import reverse

from contas.middleware import SESSION_KEY
from contas.models import Role
from tds_testing import factories

pytestmark = pytest.mark.django_db


def test_user_in_two_accounts_switches_the_active_one(client, conta_a, conta_b):
    user = factories.make_member(conta=conta_a, role=Role.ADMIN).user
    factories.make_member(conta=conta_b, role=Role.LEITOR, user=user)
    client.force_login(user)

    page = client.get(reverse("dispositivos:gateway_list"))
    assert page.context["active_conta"] == conta_a

    client.post(reverse("contas:switch"), {"conta": conta_b.pk, "next": "/"})
    assert client.session[SESSION_KEY] == conta_b.pk
    page = client.get(reverse("dispositivos:gateway_list"))
    assert page.context["active_conta"] == conta_b


def test_switching_to_an_account_the_user_is_not_in_is_ignored(client, conta_a, conta_b):
    user = factories.make_member(conta=conta_a).user
    client.force_login(user)
    client.post(reverse("contas:switch"), {"conta": conta_b.pk})
    page = client.get(reverse("dispositivos:gateway_list"))
    assert page.context["active_conta"] == conta_a
