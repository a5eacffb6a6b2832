"""Closing a period on real readings through the storage API, computed by hand (see the
`condominio` fixture): bands, minimum, sewage, fraction split, the cent remainder, a
counter reset inside the period, a unit with no data estimated from its own history."""

from datetime import date
from decimal import Decimal as D

import pytest
from django.core.exceptions import ValidationError

from faturamento import selectors, services
from faturamento.models import Cobranca, Periodo, StatusPeriodo
from tds_testing import factories
from tds_testing.readings import local
from tds_testing.readings import store_points as store

pytestmark = pytest.mark.django_db

FAIXAS = [["10", "4.00"], ["20", "6.00"], [None, "10.00"]]


def abrir_com_conta(conta, valor="1000.01", **extra):
    periodo = services.periodo_abrir(conta=conta, referencia=date(2026, 10, 1))
    data = {
        "valor_total": D(valor), "modo": "FAIXAS", "faixas": FAIXAS, "valor_minimo": D(50),
        "esgoto_pct": D(100), "metodo_comum": "FRACAO_IDEAL",
    }  # fmt: skip
    data.update(extra)
    services.fatura_salvar(periodo=periodo, tipo="AGUA", **data)
    return periodo


def valores(periodo):
    return {c.unidade.numero: c.valor for c in selectors.cobrancas_of_periodo(periodo=periodo)}


def test_period_dates_follow_the_closing_day(conta_a, condominio):
    periodo = services.periodo_abrir(conta=conta_a, referencia=date(2026, 10, 1))
    assert (periodo.inicio, periodo.fim) == (date(2026, 10, 10), date(2026, 11, 10))


def test_apuracao_flags_the_unit_without_data_and_estimates_from_its_history(conta_a, condominio):
    ap = selectors.apuracao(conta=conta_a, inicio=date(2026, 10, 10), fim=date(2026, 11, 10))
    by_unit = {c.unidade.numero: c for c in ap.por_tipo["AGUA"]}
    assert by_unit["101"].medido == D(20)
    assert by_unit["102"].medido == D(15)  # 3 + 4 (rollover) + 8
    assert (by_unit["201"].situacao, by_unit["201"].medido) == ("SEM_DADOS", D(0))
    assert by_unit["201"].estimativa == D(31)  # 1 m³/day × 31 days
    assert ap.principal["AGUA"] == D(80)
    assert ap.area_comum["AGUA"] == D(3)


def test_close_computes_every_charge_adding_up_to_the_bill(conta_a, admin_a, condominio):
    periodo = abrir_com_conta(conta_a)
    services.periodo_fechar(periodo=periodo, user=admin_a, hoje=date(2026, 11, 10))
    # Individual (bands 10 × 4 + 10 × 6 + rest × 10, sewage 100 %):
    #   101: 20 m³ → 100 → 200;  102: 15 → 70 → 140;  201: 31 (estimated) → 210 → 420.
    # Common: 1000.01 − 760 = 240.01 × 0.5 / 0.3 / 0.2 = 120.005 / 72.003 / 48.002.
    # Exact 320.005 / 212.003 / 468.002: floors add to 1000.00; the cent goes to 101 (.5).
    assert valores(periodo) == {"101": D("320.01"), "102": D("212.00"), "201": D("468.00")}
    periodo.refresh_from_db()
    assert periodo.status == StatusPeriodo.FECHADO
    fatura = selectors.faturas_of_periodo(periodo=periodo)[0]
    assert (fatura.consumo_principal, fatura.soma_unidades, fatura.consumo_comum) == (
        D(80), D(66), D(14)
    )  # fmt: skip
    c201 = Cobranca.objects.get(periodo=periodo, unidade=condominio["u201"])
    assert c201.estimado
    assert c201.situacao == "SEM_DADOS"
    assert any("estimado" in line for line in c201.linhas)
    assert any("Unidades com dados faltando: Bloco B · 201" in a for a in fatura.alertas)
    c101 = Cobranca.objects.get(periodo=periodo, unidade=condominio["u101"])
    assert c101.linhas[-1].startswith("Total R$ 320,01")


def test_estimates_can_be_left_out(conta_a, condominio):
    periodo = abrir_com_conta(conta_a, valor="1000.00", usar_estimativas=False)
    services.periodo_fechar(periodo=periodo, hoje=date(2026, 11, 10))
    # 201 at 0 m³ pays the minimum 50 + sewage 50 = 100. Individual 200 + 140 + 100 = 440;
    # common 560 → 280 / 168 / 112.
    assert valores(periodo) == {"101": D("480.00"), "102": D("308.00"), "201": D("212.00")}


def test_closed_period_is_immutable_and_a_correction_is_a_new_version(conta_a, condominio):
    periodo = abrir_com_conta(conta_a)
    with pytest.raises(ValidationError, match="fechado a partir de"):
        services.periodo_fechar(periodo=periodo, hoje=date(2026, 11, 9))
    services.periodo_fechar(periodo=periodo, hoje=date(2026, 11, 10))
    with pytest.raises(ValidationError, match="fechado e não pode ser alterado"):
        services.fatura_salvar(periodo=periodo, tipo="AGUA", valor_total=D(1))
    with pytest.raises(ValidationError):
        services.periodo_corrigir(periodo=periodo, motivo=" ")

    # A late reading of unit 201 arrives: the closed version does not move.
    store(condominio["m201"], [(local(2026, 11, 9, 22), 1090)])  # 29 m³ since Oct 9
    before = valores(periodo)
    v2 = services.periodo_corrigir(periodo=periodo, motivo="Leitura atrasada da unidade 201")
    assert (v2.versao, v2.status, v2.motivo) == (2, "ABERTO", "Leitura atrasada da unidade 201")
    assert valores(periodo) == before
    services.periodo_fechar(periodo=v2, hoje=date(2026, 11, 12))
    periodo.refresh_from_db()
    assert periodo.status == StatusPeriodo.SUBSTITUIDO
    # 201 now measured: 29 m³ → 40 + 60 + 90 = 190 → 380. Individual 720; common 280.01.
    # 140.005 / 84.003 / 56.002 → 340.005 / 224.003 / 436.002; the cent to 101.
    assert valores(v2) == {"101": D("340.01"), "102": D("224.00"), "201": D("436.00")}
    assert sum(valores(v2).values()) == D("1000.01")
    assert Periodo.objects.filter(conta=conta_a).count() == 2


def test_bands_must_grow_and_flat_price_is_required(conta_a, condominio):
    periodo = services.periodo_abrir(conta=conta_a, referencia=date(2026, 10, 1))
    with pytest.raises(ValidationError) as exc:
        services.fatura_salvar(periodo=periodo, tipo="AGUA", valor_total=D(10), modo="FAIXAS",
                               faixas=[["20", "1"], ["10", "2"]])  # fmt: skip
    assert "crescentes" in str(exc.value)
    with pytest.raises(ValidationError) as exc:
        services.fatura_salvar(periodo=periodo, tipo="AGUA", valor_total=D(10), modo="PRECO_FIXO")
    assert "preço" in str(exc.value)
    assert services.parse_faixas("10 ; 4,50\n\n; 7,25") == [["10", "4.50"], [None, "7.25"]]
    with pytest.raises(ValidationError, match="Linha 1"):
        services.parse_faixas("dez ; 4")


def test_another_accounts_period_is_404(conta_a, conta_b, condominio):
    from django.http import Http404

    periodo = services.periodo_abrir(conta=conta_a, referencia=date(2026, 10, 1))
    with pytest.raises(Http404):
        selectors.periodo_get(conta=conta_b, pk=periodo.pk)


def test_water_balance_per_day(conta_a, condominio):
    days = selectors.balanco_diario(
        conta=conta_a, tipo="AGUA", inicio=date(2026, 11, 9), fim=date(2026, 11, 10)
    )
    # Nov 9: main 80 (its whole step), units 10 (101) + 8 (102) = 18 → common 62 (77.5 %).
    assert [(d.principal, d.unidades, d.comum, d.perda_pct, d.acima_limite) for d in days] == [
        (D(80), D(18), D(62), D("77.5"), True)
    ]


def test_incomplete_meter_and_meter_without_any_history(conta_a, condominio):
    gw = condominio["gateway"]
    u301 = factories.make_unidade(conta=conta_a, bloco="C", numero="301", fracao_ideal="0.1")
    u302 = factories.make_unidade(conta=conta_a, bloco="C", numero="302", fracao_ideal="0.1")
    m301 = factories.make_medidor(gateway=gw, papel="UNIDADE", unidade=u301)
    factories.make_medidor(gateway=gw, papel="UNIDADE", unidade=u302)  # never read
    # 1 m³/day of history, then 21 m³ in the period up to Oct 30 and silence afterwards.
    store(m301, [(local(2026, 8, 10, 0, 30), 2000), (local(2026, 9, 9, 12), 2031),
                 (local(2026, 10, 9, 12), 2061), (local(2026, 10, 30, 12), 2082)])  # fmt: skip
    ap = selectors.apuracao(conta=conta_a, inicio=date(2026, 10, 10), fim=date(2026, 11, 10))
    by_unit = {c.unidade.numero: c for c in ap.por_tipo["AGUA"]}
    # Oct 31 → Nov 9 missing: 10 days × 1 m³/day on top of the 21 measured.
    assert (by_unit["301"].situacao, by_unit["301"].medido, by_unit["301"].estimativa) == (
        "INCOMPLETO", D(21), D(31)
    )  # fmt: skip
    assert (by_unit["302"].situacao, by_unit["302"].estimativa, by_unit["302"].nota) == (
        "SEM_DADOS", None, "sem_historico"
    )  # fmt: skip

    periodo = abrir_com_conta(conta_a, valor="2000.00")
    services.periodo_fechar(periodo=periodo, hoje=date(2026, 11, 10))
    c302 = Cobranca.objects.get(periodo=periodo, unidade=u302)
    # No estimate: charged on 0 m³ (the minimum 50 + sewage 50), not marked as estimated.
    assert (c302.estimado, c302.consumo, c302.valor_individual) == (False, D(0), D(100))
    assert any("dados incompletos, sem estimativa" in line for line in c302.linhas)
    assert Cobranca.objects.get(periodo=periodo, unidade=u301).estimado
    assert sum(c.valor for c in Cobranca.objects.filter(periodo=periodo)) == D("2000.00")


def test_a_stale_statement_job_does_not_block_a_new_one(conta_a, condominio, settings, tmp_path):
    from datetime import timedelta

    from django.utils import timezone

    from faturamento import jobs
    from faturamento.models import GeracaoDemonstrativos

    settings.TDS_DEMONSTRATIVOS_DIR = tmp_path
    periodo = abrir_com_conta(conta_a)
    services.periodo_fechar(periodo=periodo, hoje=date(2026, 11, 10))
    first = jobs.geracao_iniciar(periodo=periodo)  # no worker runs it in this test
    assert jobs.geracao_iniciar(periodo=periodo) == first  # still queued: the same job
    GeracaoDemonstrativos.objects.filter(pk=first.pk).update(
        created_at=timezone.now() - timedelta(seconds=2 * settings.CELERY_TASK_TIME_LIMIT + 1)
    )
    second = jobs.geracao_iniciar(periodo=periodo)
    first.refresh_from_db()
    assert second != first
    assert (first.status, first.erro) == ("ERRO", "Tempo esgotado: o job não terminou.")
    # Run both by hand: only the newest zip stays on disk.
    done = jobs.geracao_executar(geracao_id=first.pk)
    newest = jobs.geracao_executar(geracao_id=second.pk)
    done.refresh_from_db()
    assert newest.status == "PRONTO"
    assert done.arquivo == ""
    assert [p.name for p in tmp_path.rglob("*.zip")] == [f"{second.pk}.zip"]


def test_bands_are_read_as_typed_in_pt_br():
    assert services.parse_faixas("10 ; 4,50\n1.000,5 ; 6.25\n\n ; 1.234,56") == [
        ["10", "4.50"],
        ["1000.5", "6.25"],
        [None, "1234.56"],
    ]
    for wrong in ("10 ; NaN", "abc ; 4,50", "10 ; 4,5,0"):
        with pytest.raises(ValidationError, match="número inválido"):
            services.parse_faixas(wrong)
