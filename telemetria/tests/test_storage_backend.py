"""The back end in use is visible: management command and admin."""

import pytest
from django.core.management import call_command

from telemetria.storage import backend_name

pytestmark = pytest.mark.django_db


def test_command_prints_the_backend(capsys):
    call_command("storage_backend")
    assert capsys.readouterr().out.strip() in ("native", "timescaledb")
    assert capsys.readouterr().out == ""


def test_admin_shows_the_backend(client, django_user_model):
    admin = django_user_model.objects.create_superuser(email="root@example.com", password="x")
    client.force_login(admin)

    page = client.get("/admin/telemetria/backendarmazenamento/")

    assert page.status_code == 200
    expected = "TimescaleDB" if backend_name() == "timescaledb" else "PostgreSQL nativo"
    assert expected in page.content.decode()


def test_storage_sql_names_the_registry_tables_as_the_models_do():
    from dispositivos.models import Dispositivo, Gateway
    from telemetria.models import LeituraDispositivo
    from telemetria.storage import tables

    assert Dispositivo._meta.db_table == tables.DEVICES
    assert Gateway._meta.db_table == tables.GATEWAYS
    assert LeituraDispositivo._meta.db_table == tables.READINGS


@pytest.mark.django_db(transaction=True)
def test_storage_migrations_unapply_and_apply_again():
    """`migrate telemetria zero` removes the storage (the post_migrate maintenance must
    then find nothing to do, not fail), and `migrate` brings it back on the same back end."""
    from django.db import connection

    from telemetria.storage.backend import BACKEND_TABLE

    before = backend_name()
    call_command("migrate", "telemetria", "zero", verbosity=0)
    assert BACKEND_TABLE not in connection.introspection.table_names()
    call_command("migrate", verbosity=0)
    assert BACKEND_TABLE in connection.introspection.table_names()
    call_command("storage_backend")
    assert backend_name() == before
