"""Registry selectors: filters work and no selector ever returns another account's rows."""

import re

import pytest
from django.http import Http404
from django.utils import timezone

from dispositivos import selectors
from dispositivos.models import Gateway
from tds_testing import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(conta_a, conta_b):
    """Two accounts with look-alike registries (same codigos, similar names)."""
    data = {}
    for conta, key in ((conta_a, "a"), (conta_b, "b")):
        gw = factories.make_gateway(conta=conta, codigo="GW-01", nome="Bloco Central")
        gw2 = factories.make_gateway(conta=conta, codigo="GW-02", nome="Portaria", is_active=False)
        Gateway.objects.filter(pk=gw.pk).update(is_online=True, last_seen=timezone.now())
        d1 = factories.make_dispositivo(gateway=gw, tipo="ENERGIA", nome="Quadro geral")
        d2 = factories.make_dispositivo(gateway=gw, tipo="AGUA", nome="Hidrômetro")
        d3 = factories.make_dispositivo(gateway=gw2, tipo="AGUA", nome="Hidrômetro portaria")
        data[key] = {"gw": gw, "gw2": gw2, "d1": d1, "d2": d2, "d3": d3}
    return data


def _pks(qs):
    return {obj.pk for obj in qs}


def test_gateway_list_only_the_accounts_gateways(world, conta_a):
    assert _pks(selectors.gateway_list(conta=conta_a)) == {
        world["a"]["gw"].pk,
        world["a"]["gw2"].pk,
    }


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"search": "gw-01"}, {"gw"}),
        ({"search": "portaria"}, {"gw2"}),
        ({"online": True}, {"gw"}),
        ({"online": False}, {"gw2"}),
        ({"active": True}, {"gw"}),
        ({"active": False}, {"gw2"}),
        ({"search": "bloco", "online": False}, set()),
    ],
)
def test_gateway_list_filters_never_leak(world, conta_a, kwargs, expected):
    got = _pks(selectors.gateway_list(conta=conta_a, **kwargs))
    assert got == {world["a"][k].pk for k in expected}


def test_gateway_list_search_by_mac(world, conta_a):
    mac = world["a"]["gw"].mac
    assert _pks(selectors.gateway_list(conta=conta_a, search=mac[-5:])) == {world["a"]["gw"].pk}
    other_mac = world["b"]["gw"].mac
    assert not _pks(selectors.gateway_list(conta=conta_a, search=other_mac))


def test_gateway_list_counts_devices(world, conta_a):
    counts = {g.codigo: g.num_dispositivos for g in selectors.gateway_list(conta=conta_a)}
    assert counts == {"GW-01": 2, "GW-02": 1}


def test_gateway_choices_only_the_accounts(world, conta_a):
    assert _pks(selectors.gateway_choices(conta=conta_a)) == {
        world["a"]["gw"].pk,
        world["a"]["gw2"].pk,
    }


def test_gateway_get_answers_404_for_another_accounts_id(world, conta_a):
    assert selectors.gateway_get(conta=conta_a, pk=world["a"]["gw"].pk) == world["a"]["gw"]
    for pk in (world["b"]["gw"].pk, 999_999, "abc", None):
        with pytest.raises(Http404):
            selectors.gateway_get(conta=conta_a, pk=pk)


def test_dispositivo_list_only_the_accounts_devices(world, conta_a):
    a = world["a"]
    assert _pks(selectors.dispositivo_list(conta=conta_a)) == {a["d1"].pk, a["d2"].pk, a["d3"].pk}


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"search": "hidr"}, {"d2", "d3"}),
        ({"search": "GW-02"}, {"d3"}),
        ({"tipo": "ENERGIA"}, {"d1"}),
        ({"tipo": "AGUA", "search": "portaria"}, {"d3"}),
    ],
)
def test_dispositivo_list_filters_never_leak(world, conta_a, kwargs, expected):
    got = _pks(selectors.dispositivo_list(conta=conta_a, **kwargs))
    assert got == {world["a"][k].pk for k in expected}


def test_dispositivo_list_by_gateway_id_of_another_account_is_empty(world, conta_a):
    assert _pks(selectors.dispositivo_list(conta=conta_a, gateway_id=world["a"]["gw2"].pk)) == {
        world["a"]["d3"].pk
    }
    assert not _pks(selectors.dispositivo_list(conta=conta_a, gateway_id=world["b"]["gw"].pk))


def test_dispositivo_list_for_gateway(world):
    a = world["a"]
    assert _pks(selectors.dispositivo_list_for_gateway(gateway=a["gw"])) == {a["d1"].pk, a["d2"].pk}


def test_dispositivo_get_answers_404_for_another_accounts_id(world, conta_a):
    assert selectors.dispositivo_get(conta=conta_a, pk=world["a"]["d1"].pk) == world["a"]["d1"]
    for pk in (world["b"]["d1"].pk, 999_999, "x"):
        with pytest.raises(Http404):
            selectors.dispositivo_get(conta=conta_a, pk=pk)


def _plan(qs) -> str:
    from django.db import connection

    sql, params = qs.query.sql_with_params()
    with connection.cursor() as cur:
        cur.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cur.fetchall())


def test_registry_search_has_trigram_indexes_it_can_use(world, conta_a):
    """Code, name (and the gateway's MAC) are searched through trigram indexes (migration
    0005), and the device search matches the gateway's code by the matching gateways' ids:
    a condition on the joined gateway's code cannot use an index, so it read every device
    of the account (the big-account bench's 80,000 devices: 59 ms per search, 1.4 ms
    now)."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT indexname FROM pg_indexes WHERE indexname LIKE '%%_trgm_idx'")
        names = {row[0] for row in cur.fetchall()}
    assert names == {
        "disp_codigo_trgm_idx",
        "disp_nome_trgm_idx",
        "gw_codigo_trgm_idx",
        "gw_nome_trgm_idx",
        "gw_mac_trgm_idx",
    }
    plan = _plan(selectors.dispositivo_list(conta=conta_a, search="GW-02"))
    filters = [line for line in plan.splitlines() if "~~" in line]
    # one condition on the device's own columns, OR-able with the indexes
    assert len(filters) == 1, plan
    assert "gateway_id" in filters[0], plan


def test_device_list_is_read_in_order(world, conta_a):
    """The device list (ordered by gateway código, then código) is read in the gateways'
    (conta, código) index order, a page at a time, not sorted as a whole (an account of
    80,000 devices)."""
    from django.db import connection, transaction

    qs = selectors.dispositivo_list(conta=conta_a)[:100]
    sql, params = qs.query.sql_with_params()
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("SET LOCAL enable_seqscan = off")
        cur.execute("SET LOCAL enable_sort = off")  # a full sort only if nothing else can
        cur.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cur.fetchall())
    assert not re.search(r"(^|->  )Sort  \(", plan), plan
