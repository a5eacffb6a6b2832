"""Billing pages through the test client: closing a period, the statement PDF (its text
read back with pdftotext), the workbook read back with openpyxl, and isolation: another
account's ids answer 404, a morador sees only their own unit."""

import io
import shutil
import subprocess
from datetime import date
from decimal import Decimal as D

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from contas.models import Role
from faturamento import services
from faturamento.models import Periodo
from tds_testing import factories
from unidades import services as unidades

pytestmark = pytest.mark.django_db
FAIXAS = [["10", "4.00"], ["20", "6.00"], [None, "10.00"]]


@pytest.fixture
def fechado(conta_a, condominio):
    periodo = services.periodo_abrir(conta=conta_a, referencia=date(2026, 10, 1))
    services.fatura_salvar(
        periodo=periodo, tipo="AGUA", valor_total=D("1000.01"), modo="FAIXAS", faixas=FAIXAS,
        valor_minimo=D(50), esgoto_pct=D(100), metodo_comum="FRACAO_IDEAL",
    )  # fmt: skip
    services.periodo_fechar(periodo=periodo, hoje=date(2026, 11, 10))
    return periodo


def pdf_text(data: bytes) -> str:
    assert data.startswith(b"%PDF")
    out = subprocess.run(
        [shutil.which("pdftotext"), "-layout", "-", "-"],
        input=data,
        capture_output=True,
        check=True,
    )
    return out.stdout.decode()


def test_close_through_the_pages(client, admin_a, conta_a, condominio):
    client.force_login(admin_a)
    r = client.post(reverse("faturamento:index"), {"referencia": "2026-10", "abrir": "1"})
    periodo = Periodo.objects.get(conta=conta_a)
    assert r.url == reverse("faturamento:periodo_detail", args=[periodo.pk])
    page = client.get(r.url).content.decode()
    assert "Sem dados" in page  # unit 201
    assert 'badge text-bg-warning" data-testid="periodo-status"' in page  # open
    assert "31,000 m³" in page  # its estimate
    r = client.post(
        reverse("faturamento:fatura_create", args=[periodo.pk]),
        {
            "tipo": "AGUA", "valor_total": "1000,01", "modo": "FAIXAS",
            "faixas_texto": "10 ; 4,00\n20 ; 6,00\n ; 10,00", "valor_minimo": "50",
            "esgoto_pct": "100", "metodo_comum": "FRACAO_IDEAL", "usar_estimativas": "on",
        },
    )  # fmt: skip
    assert r.status_code == 302, r.content.decode()
    # Closing waits for the period's end: the test's "today" is after 2026-11-10 anyway.
    r = client.post(reverse("faturamento:periodo_fechar", args=[periodo.pk]))
    periodo.refresh_from_db()
    assert periodo.status == "FECHADO"
    page = client.get(reverse("faturamento:periodo_detail", args=[periodo.pk])).content.decode()
    assert "R$ 320,01" in page
    assert 'badge text-bg-success" data-testid="periodo-status"' in page  # closed
    assert "R$ 468,00" in page


def test_bill_amounts_accept_the_thousands_separator(client, admin_a, conta_a):
    """A water bill of R$ 1.234,56 typed as a Brazilian writes it (it answered "Informe um
    número." and only "1234,56" went through)."""
    client.force_login(admin_a)
    periodo = services.periodo_abrir(conta=conta_a, referencia=date(2026, 10, 1))
    r = client.post(
        reverse("faturamento:fatura_create", args=[periodo.pk]),
        {
            "tipo": "AGUA", "valor_total": "1.234,56", "consumo_concessionaria": "1.020,5",
            "modo": "FAIXAS", "faixas_texto": "10 ; 4,00\n ; 10,00", "valor_minimo": "1.050,00",
            "esgoto_pct": "100", "metodo_comum": "FRACAO_IDEAL",
        },
    )  # fmt: skip
    assert r.status_code == 302, r.content.decode()
    fatura = periodo.faturas.get()
    assert fatura.valor_total == D("1234.56")
    assert fatura.consumo_concessionaria == D("1020.5")
    assert fatura.valor_minimo == D("1050")
    page = client.get(
        reverse("faturamento:fatura_update", args=[periodo.pk, fatura.pk])
    ).content.decode()
    assert 'value="1234,56"' in page


def test_statement_pdf_text(client, admin_a, fechado, condominio):
    client.force_login(admin_a)
    r = client.get(
        reverse("faturamento:demonstrativo_pdf", args=[fechado.pk, condominio["u201"].pk])
    )
    assert r.status_code == 200
    assert r["Content-Type"] == "application/pdf"
    text = pdf_text(r.content)
    assert "Demonstrativo de consumo e rateio" in text
    assert "Bloco B · 201" in text
    assert "Referência Outubro/2026" in text
    assert "10/10/2026 a 09/11/2026" in text
    assert "31,000 m³ *" in text  # estimated, marked
    assert "consumo estimado pela média da própria unidade" in text
    assert "Total a pagar" in text
    assert "R$ 468,00" in text
    # previous month (Sep 10 → Oct 9): 30 m³, 3.3 % more this month
    assert "30,000 m³ (3,3 %)" in text
    assert "Últimos 12 meses (m³)" in text
    assert "Esgoto 100,00% de R$ 210,0000 = R$ 210,0000" in text


def test_one_units_statement_reads_only_that_units_meters(
    client, admin_a, fechado, condominio, monkeypatch
):
    from faturamento import selectors

    asked = []
    real = selectors.consumption_by_date_ranges

    def spy(**kwargs):
        asked.append(sorted(kwargs["dispositivo_ids"]))
        return real(**kwargs)

    monkeypatch.setattr(selectors, "consumption_by_date_ranges", spy)
    client.force_login(admin_a)
    r = client.get(
        reverse("faturamento:demonstrativo_pdf", args=[fechado.pk, condominio["u201"].pk])
    )
    assert r.status_code == 200
    assert asked == [[condominio["m201"].pk]]


def test_workbook_read_back(client, admin_a, fechado, condominio):
    condominio["u101"].__class__.objects.filter(pk=condominio["u101"].pk).update(
        responsavel='=HYPERLINK("http://x")'
    )
    client.force_login(admin_a)
    r = client.get(reverse("faturamento:planilha_xlsx", args=[fechado.pk]))
    wb = load_workbook(io.BytesIO(r.content))
    assert wb.sheetnames == ["Água", "Resumo"]
    rows = list(wb["Água"].iter_rows(values_only=True))
    assert rows[0][:2] == ("Bloco", "Número")
    assert [(r[0], r[1], r[6], r[10]) for r in rows[1:4]] == [
        ("A", "101", "não", 320.01),
        ("A", "102", "não", 212.0),
        ("B", "201", "sim", 468.0),
    ]
    assert rows[4][10] == "=SUM(K2:K4)"
    # A name typed as a formula stays text (no formula injection into the manager's Excel).
    assert wb["Água"]["D2"].data_type == "s"
    assert wb["Água"]["K5"].data_type == "f"


def test_closed_period_rejects_edits_through_the_pages(client, admin_a, fechado):
    client.force_login(admin_a)
    fatura = fechado.faturas.get()
    r = client.post(
        reverse("faturamento:fatura_update", args=[fechado.pk, fatura.pk]),
        {"valor_total": "1", "modo": "PRECO_FIXO", "preco_unitario": "1", "metodo_comum": "IGUAL"},
    )
    assert r.status_code == 302
    fatura.refresh_from_db()
    assert fatura.valor_total == D("1000.01")
    r = client.post(
        reverse("faturamento:periodo_corrigir", args=[fechado.pk]), {"motivo": "Erro na conta"}
    )
    v2 = Periodo.objects.get(versao=2)
    assert r.url == reverse("faturamento:periodo_detail", args=[v2.pk])


def _urls(periodo, unidade, fatura):
    return [
        ("get", reverse("faturamento:periodo_detail", args=[periodo.pk])),
        ("get", reverse("faturamento:fatura_update", args=[periodo.pk, fatura.pk])),
        ("post", reverse("faturamento:fatura_excluir", args=[periodo.pk, fatura.pk])),
        ("post", reverse("faturamento:periodo_fechar", args=[periodo.pk])),
        ("post", reverse("faturamento:periodo_corrigir", args=[periodo.pk])),
        ("get", reverse("faturamento:planilha_xlsx", args=[periodo.pk])),
        ("get", reverse("faturamento:demonstrativo_pdf", args=[periodo.pk, unidade.pk])),
        ("post", reverse("faturamento:geracao_iniciar", args=[periodo.pk])),
        ("get", reverse("unidades:unidade_detail", args=[unidade.pk])),
        ("get", reverse("unidades:unidade_update", args=[unidade.pk])),
        ("post", reverse("unidades:unidade_delete", args=[unidade.pk])),
        ("post", reverse("unidades:morador_link", args=[unidade.pk])),
    ]


def test_another_accounts_ids_answer_404_and_change_nothing(client, admin_b, fechado, condominio):
    client.force_login(admin_b)
    fatura = fechado.faturas.get()
    for method, url in _urls(fechado, condominio["u101"], fatura):
        assert getattr(client, method)(url, {"motivo": "x"}).status_code == 404, url
    fechado.refresh_from_db()
    assert fechado.status == "FECHADO"
    assert Periodo.objects.count() == 1
    r = client.post(
        reverse("unidades:medicao_set", args=[condominio["m101"].pk]),
        {f"d{condominio['m101'].pk}-papel": ""},
    )
    assert r.status_code == 404
    assert condominio["m101"].medicao.papel == "UNIDADE"


@pytest.fixture
def morador_101(conta_a, condominio):
    membership = factories.make_member(conta=conta_a, role=Role.MORADOR)
    unidades.morador_link(membership=membership, unidade=condominio["u101"])
    return membership.user


def test_morador_sees_only_their_unit(client, morador_101, fechado, condominio):
    client.force_login(morador_101)
    assert client.get("/").url == reverse("faturamento:minha_unidade")
    page = client.get(reverse("faturamento:minha_unidade")).content.decode()
    assert "Bloco A · 101" in page
    assert "Outubro/2026" in page
    assert "Bloco A · 102" not in page
    r = client.get(reverse("faturamento:minha_demonstrativo_pdf", args=[fechado.pk]))
    assert "Bloco A · 101" in pdf_text(r.content)
    # Everything account-wide is closed to a morador: pages, other units' statements, API, SSE.
    fatura = fechado.faturas.get()
    for method, url in _urls(fechado, condominio["u102"], fatura):
        assert getattr(client, method)(url).status_code == 403, url
    for url in [
        reverse("telemetria:dashboard"),
        reverse("dispositivos:gateway_list"),
        reverse("unidades:unidade_list"),
        reverse("faturamento:index"),
        reverse("faturamento:balanco"),
        "/telemetria/api/v1/dispositivos/",
        f"/telemetria/exportar/dispositivos/{condominio['m102'].pk}.csv",
    ]:
        assert client.get(url).status_code == 403, url


def test_morador_without_unit_and_other_roles_get_403_on_the_resident_page(
    client, conta_a, admin_a
):
    client.force_login(factories.make_member(conta=conta_a, role=Role.MORADOR).user)
    assert client.get(reverse("faturamento:minha_unidade")).status_code == 403
    client.force_login(admin_a)
    assert client.get(reverse("faturamento:minha_unidade")).status_code == 403


def test_morador_of_another_account_closed_period_is_404(client, conta_b, fechado, condominio):
    other = factories.make_unidade(conta=conta_b, numero="1")
    membership = factories.make_member(conta=conta_b, role=Role.MORADOR)
    unidades.morador_link(membership=membership, unidade=other)
    client.force_login(membership.user)
    r = client.get(reverse("faturamento:minha_demonstrativo_pdf", args=[fechado.pk]))
    assert r.status_code == 404


def test_balance_page(client, admin_a, condominio):
    client.force_login(admin_a)
    r = client.get(reverse("faturamento:balanco"), {"tipo": "AGUA", "dias": "31"})
    assert r.status_code == 200
    assert b"balanco-chart" in r.content


def test_a_unit_with_charges_cannot_be_deleted(client, admin_a, fechado, condominio):
    unidade = condominio["u201"]
    unidades.medicao_set(dispositivo=condominio["m201"], papel="")  # unlink its meter first
    client.force_login(admin_a)
    r = client.post(reverse("unidades:unidade_delete", args=[unidade.pk]), follow=True)
    assert "cobranças em períodos fechados" in r.content.decode()
    unidade.refresh_from_db()
