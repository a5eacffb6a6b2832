"""The statement job through a real Celery worker (subprocess) and the real Redis broker:
the page starts it, its progress is polled as JSON, the zip holds every unit's PDF and the
workbook; another account's job answers 404."""

import io
import time
import zipfile
from datetime import date
from decimal import Decimal as D

import pytest
from django.urls import reverse

from faturamento import services
from faturamento.models import GeracaoDemonstrativos
from tds_testing.celery_worker import queue_worker

from .test_views import FAIXAS, pdf_text

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("clean_store"),
    pytest.mark.slow,
]


@pytest.fixture
def worker(settings, tmp_path):
    """`celery worker` on a private queue, against the test database; it inherits this
    run's settings module and Redis namespace (TDS_INSTALLATION, set by the root conftest);
    the job's zip files go to tmp_path."""
    with queue_worker({"TDS_DEMONSTRATIVOS_DIR": str(tmp_path)}) as queue:
        settings.TDS_FATURAMENTO_QUEUE = queue
        settings.TDS_DEMONSTRATIVOS_DIR = tmp_path
        yield queue


def test_generate_all_statements_in_the_background(
    client, admin_a, admin_b, conta_a, condominio, worker
):
    periodo = services.periodo_abrir(conta=conta_a, referencia=date(2026, 10, 1))
    services.fatura_salvar(
        periodo=periodo, tipo="AGUA", valor_total=D("1000.01"), modo="FAIXAS", faixas=FAIXAS,
        valor_minimo=D(50), esgoto_pct=D(100), metodo_comum="FRACAO_IDEAL",
    )  # fmt: skip
    services.periodo_fechar(periodo=periodo, hoje=date(2026, 11, 10))
    client.force_login(admin_a)
    r = client.post(reverse("faturamento:geracao_iniciar", args=[periodo.pk]))
    assert r.status_code == 302
    geracao = GeracaoDemonstrativos.objects.get(periodo=periodo)
    page = client.get(reverse("faturamento:periodo_detail", args=[periodo.pk])).content.decode()
    assert 'role="progressbar"' in page

    status_url = reverse("faturamento:geracao_status", args=[geracao.pk])
    deadline = time.monotonic() + 120
    while (status := client.get(status_url).json())["status"] not in ("PRONTO", "ERRO"):
        assert time.monotonic() < deadline, status
        time.sleep(0.2)
    assert status["status"] == "PRONTO", status
    assert (status["feitos"], status["total"], status["percentual"]) == (3, 3, 100)

    r = client.get(status["download"])
    assert r["Content-Disposition"] == 'attachment; filename="demonstrativos-2026-10-v1.zip"'
    with zipfile.ZipFile(io.BytesIO(b"".join(r.streaming_content))) as zf:
        assert sorted(zf.namelist()) == [
            "a-101.pdf",
            "a-102.pdf",
            "b-201.pdf",
            "rateio-2026-10.xlsx",
        ]
        assert "R$ 320,01" in pdf_text(zf.read("a-101.pdf"))

    client.force_login(admin_b)
    assert client.get(status_url).status_code == 404
    assert client.get(status["download"]).status_code == 404
    # Nor can another account start one for this period.
    assert client.post(reverse("faturamento:geracao_iniciar", args=[periodo.pk])).status_code == 404
    assert GeracaoDemonstrativos.objects.count() == 1
