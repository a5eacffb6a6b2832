"""Alarm transitions: one open alarm per (rule, device), each transition recorded and
signalled inside its transaction."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction

from alarmes import services
from alarmes.models import Alarme, EstadoAlarme, TransicaoAlarme
from alarmes.signals import alarm_transitioned
from tds_testing import factories

T0 = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)


@pytest.fixture
def regra(conta_a):
    gw = factories.make_gateway(conta=conta_a)
    disp = factories.make_dispositivo(gateway=gw, tipo="TEMP")
    return services.regra_create(
        conta=conta_a, nome="Freezer", tipo="limite", dispositivo=disp, limite_superior=Decimal(-10)
    )


def _fire(regra, **kw):
    return services.alarm_fire(
        regra=regra,
        gateway_id=regra.dispositivo.gateway_id,
        dispositivo_id=regra.dispositivo_id,
        inicio=kw.get("inicio", T0),
        valor=Decimal("-5"),
    )


@pytest.mark.django_db(transaction=True)
def test_second_fire_while_open_makes_no_twin_and_signal_runs_inside_the_transaction(regra):
    seen = []

    def receiver(sender, transicao, **kwargs):
        seen.append(
            (transicao.tipo, transicao.alarme_id, transaction.get_connection().in_atomic_block)
        )

    alarm_transitioned.connect(receiver)
    try:
        first = _fire(regra)
        assert first is not None
        assert _fire(regra) is None
        assert Alarme.objects.filter(regra=regra).count() == 1
        assert seen == [("disparo", first.pk, True)]
        services.alarm_clear(alarme=first, valor=Decimal("-12"))
        second = _fire(regra)
        assert second is not None
        assert second.pk != first.pk
        assert [s[0] for s in seen] == ["disparo", "encerramento", "disparo"]
    finally:
        alarm_transitioned.disconnect(receiver)


def test_ack_clear_comment_are_recorded_with_who(regra, admin_a):
    alarme = _fire(regra)
    services.alarm_acknowledge(alarme=alarme, usuario=admin_a, comentario="vendo")
    with pytest.raises(ValidationError):
        services.alarm_acknowledge(alarme=alarme, usuario=admin_a)
    services.alarm_comment(alarme=alarme, usuario=admin_a, comentario="técnico a caminho")
    services.alarm_clear(alarme=alarme, usuario=admin_a, comentario="resolvido")
    with pytest.raises(ValidationError):
        services.alarm_clear(alarme=alarme, usuario=admin_a)
    alarme.refresh_from_db()
    assert alarme.estado == EstadoAlarme.ENCERRADO
    assert alarme.fim is not None
    rows = list(
        TransicaoAlarme.objects.filter(alarme=alarme).values_list(
            "tipo", "estado_novo", "usuario", "comentario"
        )
    )
    assert rows == [
        ("disparo", "ativo", None, ""),
        ("reconhecimento", "reconhecido", admin_a.pk, "vendo"),
        ("comentario", "reconhecido", admin_a.pk, "técnico a caminho"),
        ("encerramento", "encerrado", admin_a.pk, "resolvido"),
    ]


def test_rule_cannot_name_another_accounts_device(conta_a, conta_b):
    gw_b = factories.make_gateway(conta=conta_b)
    disp_b = factories.make_dispositivo(gateway=gw_b)
    with pytest.raises(ValidationError) as exc:
        services.regra_create(
            conta=conta_a, nome="x", tipo="limite", dispositivo=disp_b, limite_superior=Decimal(1)
        )
    assert "dispositivo" in exc.value.message_dict


def test_delete_rule_closes_its_open_alarm_and_keeps_history(regra, admin_a):
    alarme = _fire(regra)
    services.regra_delete(regra=regra, usuario=admin_a)
    alarme.refresh_from_db()
    assert alarme.estado == "encerrado"
    assert alarme.regra_id is None
    assert alarme.regra_nome == "Freezer"


def test_a_fire_older_than_a_closed_alarm_of_the_same_pair_is_not_a_new_alarm(conta_a, rule):
    """Two consumers: one fires and clears while the other, which read the state before,
    fires the same condition again; the engine's fire (not_if_closed_since) must not open
    a second alarm."""
    from datetime import timedelta

    from alarmes import services
    from alarmes.models import Alarme
    from tds_testing import factories
    from tds_testing.readings import local

    gw = factories.make_gateway(conta=conta_a)
    disp = factories.make_dispositivo(gateway=gw, tipo="TEMP")
    regra = rule(dispositivo=disp, limite_superior=Decimal(10))
    t = local(2026, 3, 10, 14, 0)
    first = services.alarm_fire(regra=regra, gateway_id=gw.pk, dispositivo_id=disp.pk, inicio=t)
    services.alarm_clear(alarme=first, em=t + timedelta(minutes=5))
    again = services.alarm_fire(
        regra=regra, gateway_id=gw.pk, dispositivo_id=disp.pk, inicio=t, not_if_closed_since=True
    )
    assert again is None
    assert Alarme.objects.filter(regra=regra).count() == 1
    # A new condition after the clear opens a new alarm (also one starting at its end).
    later = services.alarm_fire(
        regra=regra,
        gateway_id=gw.pk,
        dispositivo_id=disp.pk,
        inicio=t + timedelta(minutes=5),
        not_if_closed_since=True,
    )
    assert later is not None
