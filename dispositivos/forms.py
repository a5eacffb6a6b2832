"""Registry forms. They convert and render; the services validate and save (see
contas.forms.ServiceModelForm)."""

from django import forms
from django.core.validators import MinValueValidator
from django.utils.translation import gettext_lazy as _

from contas.forms import ServiceModelForm, bootstrapify
from contas.models import Conta
from tds_core.forms import decimal_br_formfield

from .form_mixins import ModbusDefaultsMixin
from .models import Dispositivo, Gateway, TipoDispositivo
from .selectors import gateway_choices


class GatewayForm(ServiceModelForm):
    class Meta:
        model = Gateway
        formfield_callback = decimal_br_formfield
        fields = [
            "codigo",
            "nome",
            "mac",
            "descricao",
            "is_active",
            "qte_max_dispositivos",
            "intervalo_envio_segundos",
            "latitude",
            "longitude",
        ]
        widgets = {"descricao": forms.Textarea(attrs={"rows": 3})}
        help_texts = {
            "mac": _(
                "Aceita AA:BB:CC:DD:EE:FF, aa-bb-cc-dd-ee-ff ou aabbccddeeff; "
                "é único em toda a plataforma. Trocar o MAC revoga os certificados válidos "
                "do gateway (o certificado leva o MAC): emita um novo depois."
            )
        }


class DispositivoForm(ModbusDefaultsMixin, ServiceModelForm):
    # Declared (not generated from the model) so that no unscoped queryset is built at
    # import; __init__ narrows it to the active account's gateways.
    gateway = forms.ModelChoiceField(label=_("Gateway"), queryset=Gateway.objects.none())

    class Meta:
        model = Dispositivo
        formfield_callback = decimal_br_formfield
        fields = [
            "gateway",
            "codigo",
            "nome",
            "tipo",
            "tipo_medidor",
            "slave_id",
            "register_modbus",
            "funcao_modbus",
            "tipo_dado",
            "ordem_palavras",
            "modbus_host",
            "modbus_porta",
            "fator_conversao",
            "registro_maximo",
            "unidade",
            "is_active",
        ]
        help_texts = {
            "unidade": _("Em branco: a unidade padrão do tipo (kWh, m³, °C…)."),
            "tipo_medidor": _("Em branco: o padrão do tipo (acumulado ou instantâneo)."),
        }

    def __init__(self, *args, conta: Conta, **kwargs):
        super().__init__(*args, **kwargs)
        # Only the active account's gateways: another account's id is "not a valid choice".
        self.fields["gateway"].queryset = gateway_choices(conta=conta)
        self.fields["tipo_medidor"].required = False
        self.fields["unidade"].required = False
        self._modbus_optional()
        # "> 0" is said by clean_fator_conversao, in words rather than as 0.000001.
        fator = self.fields["fator_conversao"]
        fator.validators = [v for v in fator.validators if not isinstance(v, MinValueValidator)]

    def clean(self):
        return self._modbus_defaults(super().clean())

    def clean_fator_conversao(self):
        value = self.cleaned_data["fator_conversao"]
        if value is not None and value <= 0:
            raise forms.ValidationError(
                _("O fator de conversão deve ser maior que zero."), code="min_value"
            )
        return value


class GatewayFilterForm(forms.Form):
    """List filters; an invalid value is ignored (the field is left out of cleaned_data)."""

    q = forms.CharField(label=_("Buscar"), required=False, max_length=100)
    status = forms.ChoiceField(
        label=_("Comunicação"),
        required=False,
        choices=[("", _("Todos")), ("online", _("Online")), ("offline", _("Offline"))],
    )
    ativo = forms.ChoiceField(
        label=_("Situação"),
        required=False,
        choices=[("", _("Todos")), ("sim", _("Ativos")), ("nao", _("Inativos"))],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        bootstrapify(self)

    def selector_kwargs(self) -> dict:
        self.is_valid()
        data = self.cleaned_data
        return {
            "search": data.get("q", ""),
            "online": {"online": True, "offline": False}.get(data.get("status", "")),
            "active": {"sim": True, "nao": False}.get(data.get("ativo", "")),
        }


class DispositivoFilterForm(forms.Form):
    q = forms.CharField(label=_("Buscar"), required=False, max_length=100)
    tipo = forms.ChoiceField(
        label=_("Tipo"), required=False, choices=[("", _("Todos")), *TipoDispositivo.choices]
    )
    gateway = forms.ModelChoiceField(
        label=_("Gateway"), required=False, queryset=Gateway.objects.none(), empty_label=_("Todos")
    )

    # Above this many gateways the filter is no drop-down (1,000 options were 60 KB of every
    # list page of bench/big_account.py's account): the search box matches the gateway's
    # code, and a link's ?gateway=<id> still filters (a hidden field keeps it).
    GATEWAY_SELECT_MAX = 100

    def __init__(self, *args, conta: Conta, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["gateway"].queryset = gateway_choices(conta=conta)
        if self.fields["gateway"].queryset.count() > self.GATEWAY_SELECT_MAX:
            self.fields["gateway"].widget = forms.HiddenInput()
        bootstrapify(self)

    def selector_kwargs(self) -> dict:
        self.is_valid()
        data = self.cleaned_data
        gateway = data.get("gateway")
        return {
            "search": data.get("q", ""),
            "tipo": data.get("tipo", ""),
            "gateway_id": gateway.pk if gateway else None,
        }
