"""The registry: gateways and the Modbus meters (Dispositivo) they poll."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from contas.models import ContaOwnedModel
from tds_core.wire import normalize_mac


def validate_mac(value):
    if normalize_mac(value) is None:
        raise ValidationError(
            _("Endereço MAC inválido. Use AA:BB:CC:DD:EE:FF, aa-bb-cc-dd-ee-ff ou aabbccddeeff."),
            code="invalid_mac",
        )


class Gateway(ContaOwnedModel):
    codigo = models.CharField(_("código"), max_length=40)
    mac = models.CharField(
        _("endereço MAC"),
        max_length=17,
        unique=True,
        validators=[validate_mac],
        help_text=_("Único em toda a plataforma: o tópico MQTT identifica o gateway pelo MAC."),
    )
    nome = models.CharField(_("nome"), max_length=120)
    descricao = models.TextField(_("descrição"), blank=True)
    is_active = models.BooleanField(_("ativo"), default=True)
    is_online = models.BooleanField(_("online"), default=False)
    simulado = models.BooleanField(
        _("simulado"),
        default=False,
        editable=False,
        help_text=_(
            "Gateway da conta de demonstração: seus dados vêm do simulador, não de um medidor real."
        ),
    )
    last_seen = models.DateTimeField(_("última comunicação"), null=True, blank=True)
    latitude = models.DecimalField(
        _("latitude"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(-90)), MaxValueValidator(Decimal(90))],
    )
    longitude = models.DecimalField(
        _("longitude"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(-180)), MaxValueValidator(Decimal(180))],
    )
    qte_max_dispositivos = models.PositiveSmallIntegerField(
        _("máximo de dispositivos"),
        default=8,
        validators=[MinValueValidator(1), MaxValueValidator(64)],
    )
    intervalo_envio_segundos = models.PositiveIntegerField(
        _("intervalo de envio (s)"),
        default=60,
        validators=[MinValueValidator(1), MaxValueValidator(86400)],
        help_text=_("De quanto em quanto tempo o gateway publica; usado para detectar queda."),
    )
    # Bumped in the transaction of every registry change that alters what the gateway's
    # agent polls; the retained config message carries it and the agent reports it back.
    config_versao = models.PositiveIntegerField(_("versão da configuração"), default=1)
    config_publicada_versao = models.PositiveIntegerField(
        _("versão da configuração publicada"), default=0
    )

    class Meta:
        db_table = "tds_new_gateway"
        ordering = ["codigo"]
        verbose_name = _("gateway")
        verbose_name_plural = _("gateways")
        constraints = [
            models.UniqueConstraint(fields=["conta", "codigo"], name="uniq_gateway_conta_codigo"),
        ]
        indexes = [models.Index(fields=["conta", "is_online"], name="gateway_conta_online_idx")]

    def __str__(self):
        return f"{self.codigo} ({self.mac})"

    # Changed only by atomic UPDATEs (gateway_config_bump, the config publisher): a save()
    # of a gateway loaded earlier must not write back a stale version, which could
    # re-issue a version number the agent already runs with other content.
    CONFIG_FIELDS = ("config_versao", "config_publicada_versao")

    def save(self, *args, **kwargs):
        if not self._state.adding and self.pk and kwargs.get("update_fields") is None:
            kwargs["update_fields"] = [
                f.name
                for f in self._meta.concrete_fields
                if not f.primary_key and f.name not in self.CONFIG_FIELDS
            ]
        super().save(*args, **kwargs)

    def clean(self):
        super().clean()
        normalized = normalize_mac(self.mac or "")
        if normalized:
            self.mac = normalized


class TipoDispositivo(models.TextChoices):
    AGUA = "AGUA", _("Água")
    ENERGIA = "ENERGIA", _("Energia")
    GAS = "GAS", _("Gás")
    TEMP = "TEMP", _("Temperatura")


class TipoMedidor(models.TextChoices):
    """How consumption is computed from the readings."""

    ACUMULADO = "ACUMULADO", _("Registrador acumulado (consumo = último − primeiro)")
    INTERVALO = "INTERVALO", _("Por intervalo (consumo = soma)")
    INSTANTANEO = "INSTANTANEO", _("Instantâneo (mín/méd/máx)")


# Default unit and meter kind of each device type.
TIPO_DEFAULTS = {
    TipoDispositivo.AGUA: ("m³", TipoMedidor.ACUMULADO),
    TipoDispositivo.ENERGIA: ("kWh", TipoMedidor.ACUMULADO),
    TipoDispositivo.GAS: ("m³", TipoMedidor.ACUMULADO),
    TipoDispositivo.TEMP: ("°C", TipoMedidor.INSTANTANEO),
}


REGISTRO_16_BITS = Decimal(2**16 - 1)
REGISTRO_32_BITS = Decimal(2**32 - 1)  # the default: most meters' totalizers are 32-bit


class FuncaoModbus(models.TextChoices):
    HOLDING = "HOLDING", _("Holding registers (função 3)")
    INPUT = "INPUT", _("Input registers (função 4)")


class TipoDado(models.TextChoices):
    """How the register(s) are decoded: 16-bit types read one register, 32-bit two."""

    UINT16 = "uint16", _("Inteiro sem sinal 16 bits")
    INT16 = "int16", _("Inteiro com sinal 16 bits")
    UINT32 = "uint32", _("Inteiro sem sinal 32 bits")
    INT32 = "int32", _("Inteiro com sinal 32 bits")
    FLOAT32 = "float32", _("Ponto flutuante 32 bits (IEEE 754)")


class OrdemPalavras(models.TextChoices):
    """Order of the two 16-bit words of a 32-bit value (bytes are big-endian in each)."""

    BIG = "BIG", _("Palavra alta primeiro (ABCD)")
    LITTLE = "LITTLE", _("Palavra baixa primeiro (CDAB)")


class Dispositivo(ContaOwnedModel):
    """A Modbus meter polled by a gateway. `conta` repeats the gateway's so that
    constraints and indexes can start with the account."""

    gateway = models.ForeignKey(
        Gateway, on_delete=models.CASCADE, related_name="dispositivos", verbose_name=_("gateway")
    )
    codigo = models.CharField(_("código"), max_length=20, help_text=_("Ex.: D01"))
    nome = models.CharField(_("nome"), max_length=120, blank=True)
    tipo = models.CharField(_("tipo"), max_length=10, choices=TipoDispositivo.choices)
    tipo_medidor = models.CharField(
        _("tipo de medidor"), max_length=12, choices=TipoMedidor.choices, blank=True
    )
    slave_id = models.PositiveSmallIntegerField(
        _("endereço Modbus (slave id)"), validators=[MinValueValidator(1), MaxValueValidator(247)]
    )
    register_modbus = models.PositiveIntegerField(
        _("registrador Modbus"), validators=[MinValueValidator(0), MaxValueValidator(65535)]
    )
    funcao_modbus = models.CharField(
        _("função Modbus"), max_length=8, choices=FuncaoModbus.choices, default=FuncaoModbus.HOLDING
    )
    tipo_dado = models.CharField(
        _("tipo de dado"), max_length=8, choices=TipoDado.choices, default=TipoDado.UINT16
    )
    ordem_palavras = models.CharField(
        _("ordem das palavras"),
        max_length=8,
        choices=OrdemPalavras.choices,
        default=OrdemPalavras.BIG,
        help_text=_("Só para tipos de 32 bits."),
    )
    modbus_host = models.CharField(
        _("host Modbus TCP"),
        max_length=253,
        blank=True,
        help_text=_("Vazio: medidor no barramento serial (RS-485) do gateway."),
    )
    modbus_porta = models.PositiveIntegerField(
        _("porta Modbus TCP"),
        default=502,
        validators=[MinValueValidator(1), MaxValueValidator(65535)],
    )
    fator_conversao = models.DecimalField(
        _("fator de conversão"),
        max_digits=15,
        decimal_places=6,
        default=Decimal(1),
        validators=[MinValueValidator(Decimal("0.000001"))],
        help_text=_("Valor = leitura bruta (raw) × fator."),
    )
    registro_maximo = models.DecimalField(
        _("valor máximo do registrador"),
        max_digits=20,
        decimal_places=0,
        null=True,
        blank=True,
        default=REGISTRO_32_BITS,
        validators=[MinValueValidator(Decimal(1))],
        help_text=_(
            "Maior valor bruto que o registrador guarda antes de voltar a zero: 65535 (16 bits),"
            " 4294967295 (32 bits) ou, num totalizador decimal, 99999999 (8 dígitos). Uma volta"
            " a zero só conta consumo quando vem de perto desse máximo (× fator); qualquer outro"
            " recuo conta zero e fica registrado como evento do medidor. Vazio: nunca é volta."
        ),
    )
    unidade = models.CharField(_("unidade"), max_length=16, blank=True)
    is_active = models.BooleanField(_("ativo"), default=True)

    class Meta:
        db_table = "tds_new_dispositivo"
        ordering = ["gateway_id", "codigo"]
        verbose_name = _("dispositivo")
        verbose_name_plural = _("dispositivos")
        constraints = [
            models.UniqueConstraint(fields=["gateway", "codigo"], name="uniq_disp_gateway_codigo"),
            # One unit id per bus: the gateway's RS-485 bus (empty host) or a TCP endpoint,
            # where meters commonly all answer as unit 1.
            models.UniqueConstraint(
                fields=["gateway", "modbus_host", "modbus_porta", "slave_id"],
                name="uniq_disp_gateway_bus_slave",
            ),
            models.CheckConstraint(
                condition=models.Q(slave_id__gte=1, slave_id__lte=247), name="disp_slave_id_range"
            ),
            models.CheckConstraint(
                condition=models.Q(register_modbus__gte=0, register_modbus__lte=65535),
                name="disp_register_range",
            ),
            models.CheckConstraint(
                condition=models.Q(fator_conversao__gt=0), name="disp_fator_positive"
            ),
        ]
        indexes = [
            models.Index(fields=["conta", "gateway"], name="disp_conta_gateway_idx"),
            # The dashboard's count of consumption meters per (tipo, unidade): read from
            # the index alone (80,000 devices: 56 → 26 ms on bench/big_account.py --full).
            models.Index(  # the dashboard's meters and decimals per utility, index only
                fields=["conta", "tipo", "unidade", "fator_conversao"],
                condition=~models.Q(tipo_medidor="INSTANTANEO"),
                name="disp_conta_consumo_idx",
            ),
        ]

    def __str__(self):
        return f"{self.codigo} — {self.nome or self.get_tipo_display()}"

    def clean(self):
        super().clean()
        default_unit, default_kind = TIPO_DEFAULTS.get(self.tipo, ("", TipoMedidor.INSTANTANEO))
        if not self.unidade:
            self.unidade = default_unit
        if not self.tipo_medidor:
            self.tipo_medidor = default_kind
        if self.gateway_id and not self.conta_id:
            self.conta_id = self.gateway.conta_id
        wide = self.tipo_dado in (TipoDado.UINT32, TipoDado.INT32, TipoDado.FLOAT32)
        if wide and self.register_modbus is not None and self.register_modbus >= 65535:
            raise ValidationError(
                {
                    "register_modbus": _(
                        "Um valor de 32 bits ocupa dois registradores: use no máximo 65534."
                    )
                }
            )
        self.modbus_host = (self.modbus_host or "").strip()
