import pytest

from contas.models import Role
from tds_testing import factories


@pytest.fixture
def registry_a(conta_a):
    """Account A's gateway with one device."""
    gw = factories.make_gateway(conta=conta_a, codigo="GW-A", nome="Gateway Aurora")
    d = factories.make_dispositivo(gateway=gw, codigo="D01", nome="Quadro Aurora")
    return gw, d


@pytest.fixture
def as_role(client, conta_a):
    """as_role("operador") → client logged in as a new member of account A with that role;
    as_role(None) → anonymous client."""

    def login(role):
        if role is not None:
            user = factories.make_member(conta=conta_a, role=Role(role)).user
            client.force_login(user)
        return client

    return login
