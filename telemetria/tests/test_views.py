"""Dashboard and gateway telemetry pages: content, scoping, 404 across accounts."""

from django.urls import reverse


def test_dashboard_shows_cards_latest_and_devices(client, admin_a, planta_a, planta_b):
    client.force_login(admin_a)
    response = client.get(reverse("telemetria:dashboard"))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="card-dispositivos">2<' in html
    assert "GW-A1" in html
    assert "GW-B1" not in html
    assert "1.060 kWh" in html  # latest energy reading, pt-BR, like the live rows
    assert "1.059,5 kWh" in html
    assert response.context["cards"]["dispositivos"] == 2
    assert len(response.context["latest"]) == 50
    assert "chart.umd.min.js" in html


def test_dashboard_requires_login(client):
    response = client.get(reverse("telemetria:dashboard"))
    assert response.status_code == 302


def test_gateway_page_and_registry_panel(client, admin_a, planta_a, planta_b):
    client.force_login(admin_a)
    response = client.get(reverse("telemetria:gateway", args=[planta_a["gateway"].pk]))
    assert response.status_code == 200
    assert b'data-testid="gateway-telemetry"' in response.content
    assert b"dev-spark" in response.content
    registry = client.get(reverse("dispositivos:gateway_detail", args=[planta_a["gateway"].pk]))
    assert b'data-testid="gateway-telemetry"' in registry.content


def test_gateway_page_of_other_account_is_404(client, admin_a, planta_a, planta_b):
    client.force_login(admin_a)
    response = client.get(reverse("telemetria:gateway", args=[planta_b["gateway"].pk]))
    assert response.status_code == 404


def test_readings_page_lists_this_accounts_latest_readings(client, leitor_a, planta_a, planta_b):
    """The raw readings' own page (the dashboard links to it): the account's newest 100,
    newest first, stacked on a phone; another account's never."""
    client.force_login(leitor_a)
    dashboard = client.get(reverse("telemetria:dashboard")).content.decode()
    assert reverse("telemetria:leituras") in dashboard
    response = client.get(reverse("telemetria:leituras"))
    assert response.status_code == 200
    html = response.content.decode()
    latest = response.context["latest"]
    assert len(latest) == 100
    assert [r["time"] for r in latest] == sorted((r["time"] for r in latest), reverse=True)
    assert "GW-A1" in html
    assert "GW-B1" not in html
    assert "777" not in html
    assert "tds-stack" in html


def test_readings_page_is_not_for_a_resident(client, conta_a, planta_a):
    from contas.models import Role
    from tds_testing import factories

    morador = factories.make_member(conta=conta_a, role=Role.MORADOR).user
    client.force_login(morador)
    assert client.get(reverse("telemetria:leituras")).status_code == 403
