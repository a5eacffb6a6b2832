"""Creates (idempotently) the demo account, its login, gateways and devices, and prints the login."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django_scopes import scopes_disabled

from contas.models import Conta, ContaMembership, Role
from dispositivos import services as registry
from dispositivos.models import Dispositivo, Gateway

DEMO_EMAIL = "demo@tds.local"
DEMO_PASSWORD = "demo-tds-2026"  # noqa: S105 - printed on purpose: it is the demo login
DEMO_DEVICES = [
    ("D01", "ENERGIA", "Quadro geral", "0.01"),
    ("D02", "AGUA", "Hidrômetro entrada", "0.001"),
    ("D03", "GAS", "Medidor de gás", "0.001"),
    ("D04", "TEMP", "Sala de máquinas", "0.1"),
]


class Command(BaseCommand):
    help = "Create the demo account with a login, 3 gateways and 4 devices each (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--gateways", type=int, default=3)

    @scopes_disabled()
    @transaction.atomic
    def handle(self, *args, gateways, **options):
        conta, _ = Conta.objects.get_or_create(slug="demo", defaults={"nome": "Condomínio Demo"})
        User = get_user_model()
        user = User.objects.filter(email=DEMO_EMAIL).first()
        if user is None:
            user = User.objects.create_user(email=DEMO_EMAIL, password=DEMO_PASSWORD)
        ContaMembership.objects.get_or_create(conta=conta, user=user, defaults={"role": Role.ADMIN})
        for n in range(1, gateways + 1):
            mac = f"02:00:00:de:00:{n:02x}"
            gateway = Gateway.objects.filter(mac=mac).first() or registry.gateway_create(
                conta=conta, codigo=f"GW-DEMO-{n:02d}", nome=f"Bloco {n}", mac=mac
            )
            for slave, (codigo, tipo, nome, fator) in enumerate(DEMO_DEVICES, start=1):
                if not Dispositivo.objects.filter(gateway=gateway, codigo=codigo).exists():
                    registry.dispositivo_create(
                        gateway=gateway,
                        codigo=codigo,
                        tipo=tipo,
                        nome=nome,
                        slave_id=slave,
                        register_modbus=slave * 2,
                        fator_conversao=fator,
                    )
        self.stdout.write(
            self.style.SUCCESS(f"Demo login: {DEMO_EMAIL} / {DEMO_PASSWORD}  (conta: {conta.nome})")
        )
