"""Creates (idempotently) the demo account, its login, gateways and devices, and prints the login."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django_scopes import scopes_disabled

from contas.models import Conta, ContaMembership, Role
from dispositivos import services as registry
from dispositivos.models import Dispositivo, Gateway, TipoDado

DEMO_EMAIL = "demo@tds.local"
DEMO_PASSWORD = "demo-tds-2026"  # noqa: S105 - printed on purpose: it is the demo login
# What the simulator (`simulate_gateways`, its default --interval) and the history
# (telemetria.demo_history) produce must fit what the registry says: the totalizers reach
# tens of thousands of kWh / hundreds of m³ (raw = value / fator), so they are 32-bit
# registers, as the default `registro_maximo` (2^32 - 1) the rollover rule judges by; the temperature can
# be negative: a signed 16-bit register.
DEMO_INTERVAL_SECONDS = 10
DEMO_DEVICES = [
    ("D01", "ENERGIA", "Quadro geral", "0.01", TipoDado.UINT32),
    ("D02", "AGUA", "Hidrômetro entrada", "0.001", TipoDado.UINT32),
    ("D03", "GAS", "Medidor de gás", "0.001", TipoDado.UINT32),
    ("D04", "TEMP", "Sala de máquinas", "0.1", TipoDado.INT16),
]
# What an earlier seed_demo wrote, brought in line on the next run (a value the user
# changed since is left alone).
OLD_INTERVAL_SECONDS = 60
OLD_TIPO_DADO = TipoDado.UINT16


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
            gateway = Gateway.objects.filter(mac=mac).first()
            created = gateway is None
            if created:
                gateway = registry.gateway_create(
                    conta=conta,
                    codigo=f"GW-DEMO-{n:02d}",
                    nome=f"Bloco {n}",
                    mac=mac,
                    intervalo_envio_segundos=DEMO_INTERVAL_SECONDS,
                )
            if gateway.conta_id != conta.pk:
                continue  # someone else's gateway holds the MAC: never touch it
            if not gateway.simulado:
                # Only the demo's own gateways are driven by the simulator.
                Gateway.objects.filter(pk=gateway.pk).update(simulado=True)
            if gateway.intervalo_envio_segundos == OLD_INTERVAL_SECONDS:
                registry.gateway_update(
                    gateway=gateway, intervalo_envio_segundos=DEMO_INTERVAL_SECONDS
                )
            for slave, (codigo, tipo, nome, fator, tipo_dado) in enumerate(DEMO_DEVICES, start=1):
                existing = Dispositivo.objects.filter(gateway=gateway, codigo=codigo).first()
                if existing is None:
                    registry.dispositivo_create(
                        gateway=gateway,
                        codigo=codigo,
                        tipo=tipo,
                        nome=nome,
                        slave_id=slave,
                        register_modbus=slave * 2,
                        fator_conversao=fator,
                        tipo_dado=tipo_dado,
                    )
                elif existing.tipo_dado == OLD_TIPO_DADO != tipo_dado:
                    registry.dispositivo_update(dispositivo=existing, tipo_dado=tipo_dado)
            if created:
                # Created in this transaction, so no configuration was published yet: it is
                # version 1, not 1 + one bump per device added above.
                Gateway.objects.filter(pk=gateway.pk).update(config_versao=1)
        self.stdout.write(
            self.style.SUCCESS(f"Demo login: {DEMO_EMAIL} / {DEMO_PASSWORD}  (conta: {conta.nome})")
        )
