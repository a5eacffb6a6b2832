"""`manage.py seed_demo` creates a usable demo account, and running it again changes nothing."""

import pytest
from django.core.management import call_command

from contas.models import ContaMembership, Role
from dispositivos.management.commands.seed_demo import DEMO_EMAIL, DEMO_PASSWORD
from dispositivos.models import Dispositivo, Gateway

pytestmark = pytest.mark.django_db


def test_seed_demo_is_idempotent_and_its_login_works(client, capsys):
    call_command("seed_demo")
    out = capsys.readouterr().out
    assert DEMO_EMAIL in out
    assert DEMO_PASSWORD in out
    counts = (Gateway.objects.count(), Dispositivo.objects.count())
    assert counts == (3, 12)
    call_command("seed_demo")
    assert (Gateway.objects.count(), Dispositivo.objects.count()) == counts
    membership = ContaMembership.objects.get(user__email=DEMO_EMAIL)
    assert membership.role == Role.ADMIN
    assert client.login(username=DEMO_EMAIL, password=DEMO_PASSWORD)
    page = client.get("/registro/gateways/")
    assert page.context["page_obj"].paginator.count == 3
    assert {d.unidade for d in Dispositivo.objects.all()} == {"kWh", "m³", "°C"}
