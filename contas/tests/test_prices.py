"""The account's prices per unit: the account admin sets them as a Brazilian types
numbers; operador and leitor only read them; a page only ever touches the active account;
the dashboard shows the cost once a price is set."""

from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from contas import services
from contas.models import Conta, Role
from tds_testing import factories
from tds_testing.forms import field_error, fields_with_errors

pytestmark = pytest.mark.django_db

URL = reverse("contas:prices")


def _post(client, **over):
    data = {"preco_agua": "", "preco_energia": "", "preco_gas": ""}
    data.update(over)
    return client.post(URL, data)


def _prices(conta):
    conta.refresh_from_db()
    return (conta.preco_agua, conta.preco_energia, conta.preco_gas)


@pytest.fixture
def admin_client(client, admin_a):
    client.force_login(admin_a)
    return client


def test_admin_saves_prices_typed_in_pt_br(admin_client, conta_a):
    response = _post(admin_client, preco_agua="1.234,56", preco_energia="0,85", preco_gas="")
    assert response.status_code == 302
    assert response.url == URL
    assert _prices(conta_a) == (Decimal("1234.56"), Decimal("0.85"), None)
    page = admin_client.get(URL)
    html = page.content.decode()
    assert "Preços salvos." in html
    assert 'value="1234,5600"' in html  # shown back with a comma
    assert 'value="0,8500"' in html


def test_ambiguous_number_is_refused_on_its_field(admin_client, conta_a):
    response = _post(admin_client, preco_agua="1.234")
    assert response.status_code == 200
    assert field_error(response, "preco_agua").startswith(
        "Número ambíguo: use vírgula para os decimais"
    )
    assert fields_with_errors(response) == {"preco_agua"}
    assert 'value="1.234"' in response.content.decode()  # what the user typed is kept
    assert _prices(conta_a) == (None, None, None)


def test_negative_price_is_refused(admin_client, conta_a):
    response = _post(admin_client, preco_gas="-1,00")
    assert "maior ou igual a 0" in field_error(response, "preco_gas")
    assert _prices(conta_a) == (None, None, None)


def test_blank_clears_a_price(admin_client, conta_a):
    services.conta_prices_update(
        conta=conta_a, preco_agua=Decimal("12.5"), preco_energia=Decimal("0.9"), preco_gas=None
    )
    assert _post(admin_client, preco_energia="0,90").status_code == 302
    assert _prices(conta_a) == (None, Decimal("0.9"), None)


def test_service_validates_with_the_model(conta_a):
    with pytest.raises(ValidationError) as exc:
        services.conta_prices_update(
            conta=conta_a, preco_agua=Decimal(-1), preco_energia=None, preco_gas=None
        )
    assert "preco_agua" in exc.value.error_dict
    assert _prices(conta_a) == (None, None, None)


@pytest.mark.parametrize("role", [Role.OPERADOR, Role.LEITOR])
def test_operador_and_leitor_read_but_cannot_change(client, conta_a, role):
    services.conta_prices_update(
        conta=conta_a, preco_agua=Decimal("12.5"), preco_energia=None, preco_gas=None
    )
    client.force_login(factories.make_member(conta=conta_a, role=role).user)
    page = client.get(URL)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'value="12,5000"' in html
    assert "disabled" in html
    assert 'data-testid="prices-read-only"' in html
    assert _post(client, preco_agua="0,01").status_code == 403
    assert _prices(conta_a) == (Decimal("12.5"), None, None)


def test_morador_and_anonymous_get_nothing(client, conta_a):
    response = client.get(URL)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
    client.force_login(factories.make_member(conta=conta_a, role=Role.MORADOR).user)
    assert client.get(URL).status_code == 403
    assert _post(client, preco_agua="1,00").status_code == 403
    assert _prices(conta_a) == (None, None, None)


def test_another_accounts_admin_only_ever_edits_their_own(client, conta_a, conta_b, admin_b):
    services.conta_prices_update(
        conta=conta_a, preco_agua=Decimal("7.77"), preco_energia=None, preco_gas=None
    )
    client.force_login(admin_b)
    html = client.get(URL).content.decode()
    assert "7,7700" not in html
    assert conta_a.nome not in html
    # Naming account A in the request changes nothing: the page edits the active account.
    assert (
        client.post(URL, {"preco_agua": "1,00", "conta": conta_a.pk, "id": conta_a.pk}).status_code
        == 302
    )
    assert _prices(conta_a) == (Decimal("7.77"), None, None)
    assert _prices(conta_b) == (Decimal("1.00"), None, None)
    # Nor can B's admin switch into A (not a member) to reach it.
    client.post(reverse("contas:switch"), {"conta": conta_a.pk})
    assert "7,7700" not in client.get(URL).content.decode()


def test_only_the_price_fields_are_written(admin_client, conta_a):
    nome, slug = conta_a.nome, conta_a.slug
    _post(admin_client, preco_agua="1,00", nome="Outro", slug="outro", is_active="")
    conta = Conta.objects.get(pk=conta_a.pk)
    assert (conta.nome, conta.slug, conta.is_active) == (nome, slug, True)


def test_sidebar_links_to_the_prices_page(admin_client):
    html = admin_client.get(reverse("dispositivos:gateway_list")).content.decode()
    assert f'href="{URL}"' in html


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("clean_store")
def test_dashboard_shows_the_cost_once_the_admin_sets_a_price(client, conta_a, admin_a):
    from tds_testing.readings import store_points
    from telemetria.storage import refresh_rollups

    gw = factories.make_gateway(conta=conta_a, codigo="GW-P")
    agua = factories.make_dispositivo(gateway=gw, codigo="D01", tipo="AGUA")
    # 10 m³ today: a reading just before today (local) and one just after it began.
    midnight = timezone.make_aware(datetime.combine(timezone.localdate(), time()))
    store_points(
        agua, [(midnight - timedelta(minutes=30), 100), (midnight + timedelta(seconds=1), 110)]
    )
    refresh_rollups()
    client.force_login(admin_a)

    html = client.get(reverse("telemetria:dashboard")).content.decode()
    assert 'data-testid="custo"' not in html
    assert 'data-testid="custo-sem-preco"' in html  # the admin's hint, linking to the page
    assert f'href="{URL}"' in html

    assert _post(client, preco_agua="0,85").status_code == 302
    html = client.get(reverse("telemetria:dashboard")).content.decode()
    assert 'data-testid="custo-sem-preco"' not in html
    assert "Custo no mês (até agora): <strong>R$ 8,50</strong>" in html


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("clean_store")
def test_dashboard_hint_is_for_admins_only(client, conta_a, leitor_a):
    gw = factories.make_gateway(conta=conta_a, codigo="GW-P")
    factories.make_dispositivo(gateway=gw, codigo="D01", tipo="AGUA")
    client.force_login(leitor_a)
    html = client.get(reverse("telemetria:dashboard")).content.decode()
    assert 'data-testid="utility-AGUA"' in html
    assert 'data-testid="custo-sem-preco"' not in html


def test_django_admin_takes_prices_typed_in_pt_br(client, conta_a):
    client.force_login(_superuser())
    url = reverse("admin:contas_conta_change", args=[conta_a.pk])
    assert 'inputmode="decimal"' in client.get(url).content.decode()
    response = client.post(
        url,
        {
            "nome": conta_a.nome,
            "slug": conta_a.slug,
            "is_active": "on",
            "preco_agua": "1.234,56",
            "preco_energia": "0,85",
            "preco_gas": "",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
            "memberships-MIN_NUM_FORMS": "0",
            "memberships-MAX_NUM_FORMS": "1000",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert _prices(conta_a) == (Decimal("1234.56"), Decimal("0.85"), None)


def _superuser():
    from contas.models import CustomUser

    return CustomUser.objects.create_superuser(email="root@example.com", password="x-Senha-2026")
