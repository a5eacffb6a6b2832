"""Units: services, the bulk import (CSV and Excel) with per-row errors, meter roles, and
isolation between accounts."""

import io
from decimal import Decimal as D

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from openpyxl import Workbook

from contas.models import Role
from tds_testing import factories
from unidades import services
from unidades.importacao import unidades_import
from unidades.models import Medicao, Unidade

pytestmark = pytest.mark.django_db


def test_unit_validation_and_uniqueness(conta_a, conta_b):
    factories.make_unidade(conta=conta_a, bloco="A", numero="101", fracao_ideal="0.5")
    with pytest.raises(ValidationError) as exc:
        services.unidade_create(conta=conta_a, bloco=" A ", numero="101", fracao_ideal=D("0.1"))
    assert "Já existe uma unidade com este bloco e número." in exc.value.message_dict["numero"]
    with pytest.raises(ValidationError) as exc:
        services.unidade_create(conta=conta_a, numero="102", fracao_ideal=D("1.5"))
    assert "fracao_ideal" in exc.value.message_dict
    # The same block and number in another account is another unit.
    factories.make_unidade(conta=conta_b, bloco="A", numero="101")


CSV = (
    "Bloco;Número;Fração ideal;Responsável;E-mail\n"
    "A;101;0,25;Ana;ana@example.com\n"
    "A;102;0,25;Bruno;bruno@example.com\n"
).encode()


def test_import_csv_creates_then_updates(conta_a):
    result = unidades_import(conta=conta_a, filename="unidades.csv", data=CSV)
    assert (result.created, result.updated, result.errors) == (2, 0, [])
    again = CSV.replace(b"Ana;", b"Ana Maria;")
    result = unidades_import(conta=conta_a, filename="unidades.csv", data=again)
    assert (result.created, result.updated) == (0, 2)
    assert Unidade.objects.get(conta=conta_a, numero="101").responsavel == "Ana Maria"


def test_import_looks_existing_units_up_once(conta_a, django_assert_max_num_queries):
    rows = "".join(f"A;{n};0,01;;\n" for n in range(1, 41))
    data = ("bloco;numero;fracao_ideal;responsavel;email\n" + rows).encode()
    assert unidades_import(conta=conta_a, filename="u.csv", data=data).created == 40
    # Each row: the service's savepoint and release, its duplicate check and its write;
    # not a look-up of its own, nor a check that the account exists (242 queries when each
    # row did both).
    with django_assert_max_num_queries(4 * 40 + 5):
        assert unidades_import(conta=conta_a, filename="u.csv", data=data).updated == 40


def test_import_reports_every_bad_row_and_saves_nothing(conta_a):
    data = (
        b"bloco,numero,fracao_ideal,responsavel,email\n"
        b"A,101,0.2,Ana,ana@example.com\n"
        b"A,102,dois,Bruno,bruno@example.com\n"
        b"A,103,0.2,Carla,nao-e-email\n"
        b"A,101,0.2,Ana,ana@example.com\n"
        b",,0.1,,\n"
    )
    result = unidades_import(conta=conta_a, filename="u.csv", data=data)
    assert result.errors == [
        "Linha 3: fração ideal inválida (dois).",
        "Linha 4: e-mail do responsável: Informe um endereço de email válido.",
        "Linha 5: unidade repetida no arquivo.",
        "Linha 6: número: Este campo não pode estar vazio.",
    ]
    assert (result.created, result.updated) == (0, 0)
    assert not Unidade.objects.filter(conta=conta_a).exists()


def test_import_excel(conta_a):
    wb = Workbook()
    ws = wb.active
    ws.append(["bloco", "numero", "fracao_ideal", "responsavel", "email"])
    ws.append(["B", 201, 0.125, "Dora", "dora@example.com"])
    ws.append(["B", 202, -1, "Eva", ""])
    buf = io.BytesIO()
    wb.save(buf)
    result = unidades_import(conta=conta_a, filename="u.xlsx", data=buf.getvalue())
    assert result.errors == [
        "Linha 3: fração ideal: Certifique-se que este valor seja maior ou igual a 1E-8."
    ]
    ws.delete_rows(3)
    buf = io.BytesIO()
    wb.save(buf)
    result = unidades_import(conta=conta_a, filename="u.xlsx", data=buf.getvalue())
    assert result.created == 1
    u = Unidade.objects.get(conta=conta_a)
    assert (u.bloco, u.numero, u.fracao_ideal) == ("B", "201", D("0.125"))


def test_import_rejects_other_files(conta_a):
    assert unidades_import(conta=conta_a, filename="u.pdf", data=b"x").errors == [
        "Envie um arquivo .csv ou .xlsx."
    ]
    assert (
        "Não foi possível ler"
        in unidades_import(conta=conta_a, filename="u.xlsx", data=b"x").errors[0]
    )
    assert (
        "Faltam as colunas"
        in unidades_import(conta=conta_a, filename="u.csv", data=b"a;b\n1;2").errors[0]
    )


def test_one_main_meter_per_utility(conta_a):
    gw = factories.make_gateway(conta=conta_a)
    factories.make_medidor(gateway=gw, papel="PRINCIPAL", tipo="AGUA")
    factories.make_medidor(gateway=gw, papel="PRINCIPAL", tipo="GAS")  # another utility: fine
    second = factories.make_dispositivo(gateway=gw, tipo="AGUA")
    with pytest.raises(ValidationError, match="já é o medidor principal de Água"):
        services.medicao_set(dispositivo=second, papel="PRINCIPAL")
    with pytest.raises(ValidationError):
        services.medicao_set(dispositivo=second, papel="UNIDADE")  # without a unit
    services.medicao_set(dispositivo=second, papel="AREA_COMUM")
    assert Medicao.objects.get(dispositivo=second).papel == "AREA_COMUM"
    services.medicao_set(dispositivo=second, papel="")
    assert not Medicao.objects.filter(dispositivo=second).exists()


def test_meter_cannot_point_at_another_accounts_unit(conta_a, conta_b):
    gw = factories.make_gateway(conta=conta_a)
    d = factories.make_dispositivo(gateway=gw, tipo="AGUA")
    other = factories.make_unidade(conta=conta_b, numero="9")
    with pytest.raises(ValidationError):
        services.medicao_set(dispositivo=d, papel="UNIDADE", unidade=other)


def test_pages_and_import_upload(client, conta_a, admin_a):
    client.force_login(admin_a)
    r = client.post(
        reverse("unidades:unidade_import"),
        {"arquivo": _upload("unidades.csv", CSV)},
    )
    assert r.status_code == 302
    assert (
        client.get(reverse("unidades:unidade_list"))
        .content.decode()
        .count('data-testid="unidade-row"')
        == 2
    )
    bad = CSV + b"A;103;x;Carla;\n"
    r = client.post(reverse("unidades:unidade_import"), {"arquivo": _upload("u.csv", bad)})
    assert "Linha 4: fração ideal inválida (x)." in r.content.decode()
    gw = factories.make_gateway(conta=conta_a)
    d = factories.make_dispositivo(gateway=gw, tipo="AGUA")
    u = Unidade.objects.get(conta=conta_a, numero="101")
    r = client.post(
        reverse("unidades:medicao_set", args=[d.pk]),
        {f"d{d.pk}-papel": "UNIDADE", f"d{d.pk}-unidade": u.pk},
    )
    assert Medicao.objects.get(dispositivo=d).unidade == u
    assert d.codigo in client.get(reverse("unidades:unidade_detail", args=[u.pk])).content.decode()


def test_leitor_reads_but_cannot_write(client, conta_a):
    leitor = factories.make_member(conta=conta_a, role=Role.LEITOR).user
    client.force_login(leitor)
    assert client.get(reverse("unidades:unidade_list")).status_code == 200
    assert client.get(reverse("unidades:unidade_create")).status_code == 403
    assert client.post(reverse("unidades:unidade_import")).status_code == 403


def _upload(name, data):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data)


def test_meter_page_shows_each_meters_classification(client, conta_a, admin_a):
    gw = factories.make_gateway(conta=conta_a)
    u = factories.make_unidade(conta=conta_a, bloco="A", numero="101")
    factories.make_medidor(gateway=gw, papel="UNIDADE", unidade=u)
    factories.make_dispositivo(gateway=gw, tipo="GAS")  # not classified
    url = reverse("unidades:medicao_list")
    client.force_login(factories.make_member(conta=conta_a, role=Role.LEITOR).user)
    page = client.get(url).content.decode()
    assert page.count('data-testid="medicao-row"') == 2
    assert "Bloco A · 101" in page
    client.force_login(admin_a)
    page = client.get(url).content.decode()
    assert f'<option value="{u.pk}" selected>Bloco A · 101</option>' in page
    assert '<option value="" selected>— não classificado —</option>' in page


def test_unit_page_queries_do_not_grow_with_its_meters(client, conta_a, admin_a):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    u = factories.make_unidade(conta=conta_a, numero="101")
    factories.make_medidor(
        gateway=factories.make_gateway(conta=conta_a), papel="UNIDADE", unidade=u
    )
    url = reverse("unidades:unidade_detail", args=[u.pk])
    client.force_login(admin_a)
    with CaptureQueriesContext(connection) as one:
        client.get(url)
    for _ in range(3):  # three more meters, each on a gateway of its own
        gw = factories.make_gateway(conta=conta_a)
        factories.make_medidor(gateway=gw, papel="UNIDADE", unidade=u)
    with CaptureQueriesContext(connection) as four:
        page = client.get(url).content.decode()
    assert page.count(" — Água (") == 4
    assert len(four) == len(one)
