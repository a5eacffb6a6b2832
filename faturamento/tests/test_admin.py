"""The admin lists units and billing rows (read-only for billing) and edits a unit through
the service."""

from datetime import date
from decimal import Decimal as D

import pytest
from django.urls import reverse

from faturamento import services
from tds_testing import factories

pytestmark = pytest.mark.django_db


def test_admin_pages(client, conta_a, condominio):
    staff = factories.make_user(is_staff=True, is_superuser=True)
    client.force_login(staff)
    periodo = services.periodo_abrir(conta=conta_a, referencia=date(2026, 10, 1))
    services.fatura_salvar(periodo=periodo, tipo="AGUA", valor_total=D(10), modo="PRECO_FIXO",
                           preco_unitario=D(1))  # fmt: skip
    services.periodo_fechar(periodo=periodo, hoje=date(2026, 11, 10))
    for name in ["unidade", "medicao", "moradorunidade"]:
        assert client.get(reverse(f"admin:unidades_{name}_changelist")).status_code == 200
    for name in ["periodo", "fatura", "cobranca", "configfaturamento", "geracaodemonstrativos"]:
        assert client.get(reverse(f"admin:faturamento_{name}_changelist")).status_code == 200
    assert (
        client.get(reverse("admin:faturamento_periodo_change", args=[periodo.pk])).status_code
        == 200
    )
    # Read-only: no delete of a closed period from the admin.
    r = client.post(reverse("admin:faturamento_periodo_delete", args=[periodo.pk]), {"post": "yes"})
    assert r.status_code == 403
    u = condominio["u101"]
    r = client.post(
        reverse("admin:unidades_unidade_change", args=[u.pk]),
        {"conta": conta_a.pk, "bloco": "A", "numero": "101", "fracao_ideal": "0.4",
         "responsavel": "Ana", "email": "ANA@EXAMPLE.COM"},
    )  # fmt: skip
    assert r.status_code == 302
    u.refresh_from_db()
    assert (u.fracao_ideal, u.email) == (D("0.4"), "ana@example.com")
