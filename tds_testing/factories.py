"""Test data builders, in one place. They go through the services where one exists."""

import itertools

from django.contrib.auth import get_user_model

from contas.models import Conta, ContaMembership, Role
from dispositivos import services as registry
from dispositivos.models import Dispositivo, Gateway

_seq = itertools.count(1)
PASSWORD = "senha-de-teste-123"


def make_user(*, email: str | None = None, password: str = PASSWORD, **extra):
    n = next(_seq)
    return get_user_model().objects.create_user(
        email=email or f"user{n}@example.com", password=password, **extra
    )


def make_conta(*, nome: str | None = None) -> Conta:
    n = next(_seq)
    return Conta.objects.create(nome=nome or f"Conta {n}", slug=f"conta-{n}")


def make_member(*, conta: Conta, role: str = Role.ADMIN, user=None) -> ContaMembership:
    return ContaMembership.objects.create(conta=conta, user=user or make_user(), role=role)


def make_mac(n: int | None = None) -> str:
    n = next(_seq) if n is None else n
    raw = f"{0x02_00_00_00_00_00 + n:012x}"
    return ":".join(raw[i : i + 2] for i in range(0, 12, 2))


def make_gateway(*, conta: Conta, **data) -> Gateway:
    n = next(_seq)
    data.setdefault("codigo", f"GW{n:04d}")
    data.setdefault("nome", f"Gateway {n}")
    data.setdefault("mac", make_mac(n))
    return registry.gateway_create(conta=conta, **data)


def make_dispositivo(*, gateway: Gateway, **data) -> Dispositivo:
    existing = Dispositivo.objects.filter(gateway=gateway).count()
    data.setdefault("codigo", f"D{existing + 1:02d}")
    data.setdefault("tipo", "ENERGIA")
    data.setdefault("slave_id", existing + 1)
    data.setdefault("register_modbus", 0)
    return registry.dispositivo_create(gateway=gateway, **data)


def make_unidade(*, conta: Conta, numero: str, fracao_ideal="0.1", bloco: str = "", **data):
    from decimal import Decimal

    from unidades import services as unidades

    return unidades.unidade_create(
        conta=conta, bloco=bloco, numero=numero, fracao_ideal=Decimal(str(fracao_ideal)), **data
    )


def make_medidor(*, gateway: Gateway, papel: str, unidade=None, tipo: str = "AGUA", **data):
    """A device classified as a unit's, the common area's or the main meter."""
    from unidades import services as unidades

    dispositivo = make_dispositivo(gateway=gateway, tipo=tipo, **data)
    unidades.medicao_set(dispositivo=dispositivo, papel=papel, unidade=unidade)
    return dispositivo
