"""Statements benchmark: close a 500-unit condominium's period and generate every unit's
PDF statement plus the workbook into one zip (the background job's work). Target < 30 s.

    .venv/bin/python bench/statements.py            # 500 units, water only
    .venv/bin/python bench/statements.py --full     # 500 units × water, gas and energy

Builds (once, idempotently) an account "bench-statements" with `--units` units, one meter
per unit and utility plus a main meter, and a daily reading per meter for 14 months
(through the storage API's COPY insert). Then, timed: closing the October 2026 period
(the rateio of every bill through the storage API's consumption), and the statement job
run in-process exactly as the Celery worker runs it (`faturamento.jobs.geracao_executar`).
Prints a table and writes bench/results/statements[-full].json.
"""

import argparse
import datetime as dt
import json
import os
import random
import time
import zipfile
from decimal import Decimal
from zoneinfo import ZoneInfo

from benchdb import ROOT, setup

setup("bench_statements")

from django.db import connection  # noqa: E402
from django_scopes import scopes_disabled  # noqa: E402

from contas.models import Conta  # noqa: E402
from dispositivos import services as registry  # noqa: E402
from dispositivos.models import Dispositivo  # noqa: E402
from faturamento import jobs, services  # noqa: E402
from faturamento.models import GeracaoDemonstrativos, Periodo  # noqa: E402
from telemetria.storage import ReadingRow, insert_readings, refresh_rollups  # noqa: E402
from unidades import services as unidades  # noqa: E402
from unidades.models import Unidade  # noqa: E402

SP = ZoneInfo("America/Sao_Paulo")
REFERENCIA = dt.date(2026, 10, 1)
FAIXAS = [["10", "4.6"], ["20", "7.2"], ["50", "12.5"], [None, "15.8"]]
PER_GATEWAY = 64


def build_dataset(*, units: int, tipos: list[str]) -> Conta:
    slug = f"bench-statements-{units}-{'-'.join(tipos).lower()}"
    with scopes_disabled():
        conta, _ = Conta.objects.get_or_create(slug=slug, defaults={"nome": "Condomínio Bench"})
        if (
            Unidade.objects.filter(conta=conta).count() == units
            and Dispositivo.objects.filter(conta=conta).exists()
        ):
            return conta
        services.config_update(conta=conta, dia_fechamento=10, perda_limite_pct=Decimal(15))
        t0 = time.perf_counter()
        us = [
            unidades.unidade_create(
                conta=conta, bloco=f"{chr(65 + i // 100)}", numero=f"{(i % 100) + 1:03d}",
                fracao_ideal=Decimal(1) / units, responsavel=f"Morador {i + 1}",
                email=f"u{i + 1}@example.com",
            )
            for i in range(units)
        ]  # fmt: skip
        meters = [(u, t) for t in tipos for u in us] + [(None, t) for t in tipos]
        gateways = [
            registry.gateway_create(
                conta=conta, codigo=f"GW{g:02d}", nome=f"Gateway {g}", mac=f"02:bb:00:00:{g // 256:02x}:{g % 256:02x}",
                qte_max_dispositivos=PER_GATEWAY,
            )
            for g in range((len(meters) + PER_GATEWAY - 1) // PER_GATEWAY)
        ]  # fmt: skip
        rng = random.Random(16)
        start = dt.datetime(2025, 8, 10, 12, tzinfo=SP)
        days = (dt.date(2026, 11, 12) - start.date()).days  # through the period's end
        total_by_tipo = {t: [Decimal(0)] * days for t in tipos}
        rows = []
        devices = []
        for k, (unidade, tipo) in enumerate(meters):
            gw = gateways[k // PER_GATEWAY]
            d = registry.dispositivo_create(
                gateway=gw, codigo=f"D{k % PER_GATEWAY + 1:02d}", tipo=tipo,
                slave_id=k % PER_GATEWAY + 1, register_modbus=0,
            )  # fmt: skip
            unidades.medicao_set(
                dispositivo=d, papel="UNIDADE" if unidade else "PRINCIPAL", unidade=unidade
            )
            devices.append(d)
            valor = Decimal(rng.randint(0, 5000))
            for day in range(days):
                if unidade is None:
                    valor += total_by_tipo[tipo][day] * Decimal("1.08")  # 8 % common use
                else:
                    step = Decimal(rng.randint(0, 900)) / 1000
                    total_by_tipo[tipo][day] += step
                    valor += step
                if unidade is not None and k % 97 == 5 and day > days - 40:
                    continue  # a few units lose their meter's last weeks: estimates
                rows.append(ReadingRow(start + dt.timedelta(days=day), conta.pk, gw.pk, d.pk,
                                       valor, d.unidade, None))  # fmt: skip
            if len(rows) > 50_000:
                insert_readings(rows)
                rows = []
        insert_readings(rows)
        print(f"built {units} units, {len(devices)} meters in {time.perf_counter() - t0:.1f} s")
    return conta


def run(*, units: int, tipos: list[str]) -> dict:
    conta = build_dataset(units=units, tipos=tipos)
    with scopes_disabled():
        # As the rollup job (every minute) leaves it in production: nothing pending.
        while refresh_rollups().buckets:
            pass
        Periodo.objects.filter(conta=conta).delete()
        periodo = services.periodo_abrir(conta=conta, referencia=REFERENCIA)
        for tipo in tipos:
            services.fatura_salvar(
                periodo=periodo, tipo=tipo, valor_total=Decimal("80000.00") * (len(tipos) > 1 or 1),
                modo="FAIXAS", faixas=FAIXAS, valor_minimo=Decimal("45.00"),
                esgoto_pct=Decimal(100) if tipo == "AGUA" else Decimal(0), metodo_comum="FRACAO_IDEAL",
            )  # fmt: skip
        t0 = time.perf_counter()
        services.periodo_fechar(periodo=periodo, hoje=dt.date(2026, 11, 10))
        t_close = time.perf_counter() - t0
        geracao = GeracaoDemonstrativos.objects.create(conta=conta, periodo=periodo)
        t0, cpu0 = time.perf_counter(), time.process_time()
        geracao = jobs.geracao_executar(geracao_id=geracao.pk)
        t_job, cpu_job = time.perf_counter() - t0, time.process_time() - cpu0
        assert geracao.status == "PRONTO", geracao.erro
        with zipfile.ZipFile(geracao.arquivo) as zf:
            names = zf.namelist()
            size = sum(i.file_size for i in zf.infolist())
        total = sum(c.valor for c in periodo.cobrancas.all())
    connection.close()
    return {
        "units": units,
        "utilities": tipos,
        "close_s": round(t_close, 2),
        "statements_job_s": round(t_job, 2),
        "statements_job_cpu_s": round(cpu_job, 2),  # this process only (not PostgreSQL)
        "per_statement_ms": round(1000 * t_job / units, 1),
        "load_average_1m": round(os.getloadavg()[0], 1),  # the machine is shared: context
        "zip_entries": len(names),
        "zip_uncompressed_mb": round(size / 1e6, 1),
        "charges_total": str(total),
        "bills_total": str(Decimal("80000.00") * (len(tipos) > 1 or 1) * len(tipos)),
        "target_s": 30,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--full", action="store_true", help="water, gas and energy")
    parser.add_argument("--units", type=int, default=500)
    args = parser.parse_args()
    tipos = ["AGUA", "GAS", "ENERGIA"] if args.full else ["AGUA"]
    result = run(units=args.units, tipos=tipos)
    width = max(len(k) for k in result)
    for key, value in result.items():
        print(f"{key:<{width}}  {value}")
    out = ROOT / "bench" / "results" / f"statements{'-full' if args.full else ''}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2, default=str) + "\n")
    verdict = "OK" if result["statements_job_s"] < 30 else "SLOWER THAN TARGET"
    print(f"statements job: {result['statements_job_s']} s for {result['units']} units ({verdict})")


if __name__ == "__main__":
    main()
