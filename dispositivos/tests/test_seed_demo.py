"""`manage.py seed_demo` creates a usable demo account, and running it again changes nothing."""

from pathlib import Path

import pytest
from django.core.management import call_command

from contas.models import ContaMembership, Role
from dispositivos.management.commands.seed_demo import DEMO_EMAIL, DEMO_PASSWORD
from dispositivos.models import Dispositivo, Gateway, TipoDado

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


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


def _simulator_interval() -> float:
    """The interval `make run`'s simulator sends at: the Procfile's --interval, else the
    command's default."""
    from ingestao.management.commands.simulate_gateways import Command

    line = next(
        line
        for line in (ROOT / "Procfile").read_text().splitlines()
        if line.startswith("simulator:")
    )
    args = line.split("manage.py simulate_gateways", 1)[1].split()
    return Command().create_parser("manage.py", "simulate_gateways").parse_args(args).interval


def test_demo_gateways_say_what_the_simulator_does_and_start_at_config_version_1():
    """A new user's gateway page showed "Intervalo de envio 60 s" while the simulator
    sends every 10 s (the offline check waits 3 intervals), and "configuração atual: 5" on a
    new database (one bump per device added while seeding)."""
    call_command("seed_demo")
    interval = _simulator_interval()
    for gw in Gateway.objects.all():
        assert gw.intervalo_envio_segundos == interval, gw
        assert gw.config_versao == 1, gw
    call_command("seed_demo")
    assert set(Gateway.objects.values_list("config_versao", flat=True)) == {1}


def test_an_earlier_demo_is_brought_in_line():
    """A database seeded before (60 s, 16-bit registers) is corrected on the next
    `make run`; the configuration then changed, so its version moves."""
    call_command("seed_demo")
    Gateway.objects.update(intervalo_envio_segundos=60)
    Dispositivo.objects.update(tipo_dado=TipoDado.UINT16)
    call_command("seed_demo")
    assert set(Gateway.objects.values_list("intervalo_envio_segundos", flat=True)) == {10}
    kinds = dict(Dispositivo.objects.values_list("codigo", "tipo_dado").distinct())
    assert kinds == {"D01": "uint32", "D02": "uint32", "D03": "uint32", "D04": "int16"}
    assert all(v > 1 for v in Gateway.objects.values_list("config_versao", flat=True))
