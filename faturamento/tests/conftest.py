"""A small condominium with water meters and known readings (see `condominio`)."""

from decimal import Decimal

import pytest

from tds_testing import factories
from tds_testing.readings import local
from tds_testing.readings import store_points as store


@pytest.fixture
def condominio(conta_a):
    """Closing day 10; the October 2026 period runs 2026-10-10 → 2026-11-09.

    101 (fraction 0.5): 100 → 110 → 120: 20 m³.
    102 (0.3): a register of 0–504 (wraps at 505): 500 → 503, rolls over to 2, then 10:
         3 + 4 + 8 = 15 m³.
    201 (0.2): no reading in the period; 31 m³ in Aug 10 → Sep 9 and 30 in Sep 10 → Oct 9,
         i.e. 1 m³/day of its own history: estimated 31 m³ for the 31-day period.
    Main meter: 5000 → 5080: 80 m³. A common-area meter: 3 m³.
    """
    from faturamento import services

    services.config_update(conta=conta_a, dia_fechamento=10, perda_limite_pct=Decimal(15))
    gw = factories.make_gateway(conta=conta_a, codigo="GW-COND")
    u101 = factories.make_unidade(conta=conta_a, bloco="A", numero="101", fracao_ideal="0.5",
                                  responsavel="Ana Souza", email="ana@example.com")  # fmt: skip
    u102 = factories.make_unidade(conta=conta_a, bloco="A", numero="102", fracao_ideal="0.3")
    u201 = factories.make_unidade(conta=conta_a, bloco="B", numero="201", fracao_ideal="0.2")
    m101 = factories.make_medidor(gateway=gw, papel="UNIDADE", unidade=u101)
    m102 = factories.make_medidor(gateway=gw, papel="UNIDADE", unidade=u102)
    m102.registro_maximo = 504
    m102.save(update_fields=["registro_maximo"])
    m201 = factories.make_medidor(gateway=gw, papel="UNIDADE", unidade=u201)
    principal = factories.make_medidor(gateway=gw, papel="PRINCIPAL")
    comum = factories.make_medidor(gateway=gw, papel="AREA_COMUM")
    store(m101, [(local(2026, 10, 9, 12), 100), (local(2026, 10, 20, 12), 110),
                 (local(2026, 11, 9, 20), 120)])  # fmt: skip
    store(m102, [(local(2026, 10, 9, 12), 500), (local(2026, 10, 15, 12), 503),
                 (local(2026, 10, 25, 12), 2), (local(2026, 11, 9, 20), 10)])  # fmt: skip
    store(m201, [(local(2026, 8, 10, 0, 30), 1000), (local(2026, 9, 9, 12), 1031),
                 (local(2026, 10, 9, 12), 1061)])  # fmt: skip
    store(principal, [(local(2026, 10, 9, 12), 5000), (local(2026, 11, 9, 20), 5080)])
    store(comum, [(local(2026, 10, 9, 12), 10), (local(2026, 11, 9, 20), 13)])
    return {
        "gateway": gw, "u101": u101, "u102": u102, "u201": u201, "m101": m101, "m102": m102,
        "m201": m201, "principal": principal, "comum": comum,
    }  # fmt: skip
