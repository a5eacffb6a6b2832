"""Forms of the alarm pages. Querysets are narrowed to the active account in __init__
(none is built at import, so nothing unscoped exists)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from contas.forms import ServiceModelForm, bootstrapify
from contas.models import Conta
from dispositivos.models import Dispositivo, Gateway
from tds_core.forms import decimal_br_formfield

from .models import EstadoAlarme, RegraAlarme, Severidade
from .services import RULE_FIELDS

# The service's rule fields, with the exclusions right after the target.
_TARGET_END = RULE_FIELDS.index("tipo_dispositivo") + 1
RULE_FORM_FIELDS = [*RULE_FIELDS[:_TARGET_END], "exclusoes", *RULE_FIELDS[_TARGET_END:]]


# Fields a blank leaves at the model's default.
_DEFAULTED = (
    "histerese",
    "vazao_minima",
    "fator_mediana",
    "tolerancia_reset",
    "duracao_minutos",
    "noites_para_encerrar",
    "intervalos",
    "janela_inicio",
    "janela_fim",
)


# The kinds each field applies to (what the engine reads for that kind); a field not
# listed applies to every kind. The page hides the others with JS (static/js/tds-rule-form.js);
# "_" marks the fields shown before a kind is chosen.
_ALL = "_ limite consumo vazamento sem_dados anomalia"
FIELD_KINDS = {
    "dispositivo": f"{_ALL} perda_rede",
    "gateway": f"{_ALL} gateway_offline",
    "tipo_dispositivo": _ALL,
    "exclusoes": _ALL,
    "grandeza": "limite",
    "limite_superior": "limite consumo",
    "limite_inferior": "limite",
    "histerese": "limite consumo",
    "duracao_minutos": "limite",
    "periodo": "consumo",
    "vazao_minima": "vazamento",
    "janela_inicio": "vazamento",
    "janela_fim": "vazamento",
    "noites_para_encerrar": "vazamento",
    "intervalos": "sem_dados",
    "modo_anomalia": "anomalia",
    "fator_mediana": "anomalia",
    "tolerancia_reset": "anomalia",
}
# Target fields: emptied when hidden, so a target left chosen for another kind does not
# make "exactly one target" fail on a field the user can no longer see.
TARGET_FIELDS = ("dispositivo", "gateway", "tipo_dispositivo", "exclusoes")


class RegraForm(ServiceModelForm):
    dispositivo = forms.ModelChoiceField(
        label=_("Dispositivo"), queryset=Dispositivo.objects.none(), required=False
    )
    gateway = forms.ModelChoiceField(
        label=_("Gateway"), queryset=Gateway.objects.none(), required=False
    )
    exclusoes = forms.ModelMultipleChoiceField(
        label=_("Dispositivos excluídos"),
        queryset=Dispositivo.objects.none(),
        required=False,
        help_text=_("Para regras de gateway ou de tipo: dispositivos que ficam de fora."),
    )

    class Meta:
        model = RegraAlarme
        formfield_callback = decimal_br_formfield
        fields = RULE_FORM_FIELDS
        widgets = {
            "descricao": forms.Textarea(attrs={"rows": 2}),
            "janela_inicio": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "janela_fim": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        }
        help_texts = {
            "tipo_dispositivo": _("Alvo: um dispositivo, um gateway ou todos de um tipo."),
            "limite_superior": _("Limite: valor ou taxa máxima. Consumo: consumo máximo."),
        }

    def __init__(self, *args, conta: Conta, **kwargs):
        super().__init__(*args, **kwargs)
        devices = Dispositivo.objects.filter(conta=conta).select_related("gateway")
        self.fields["dispositivo"].queryset = devices
        self.fields["gateway"].queryset = Gateway.objects.filter(conta=conta)
        self.fields["exclusoes"].queryset = devices
        self.fields["exclusoes"].widget.attrs["size"] = 4
        for name in ("dispositivo", "exclusoes"):
            self.fields[name].label_from_instance = lambda d: f"{d.gateway.codigo} · {d}"
        for name, kinds in FIELD_KINDS.items():
            self.fields[name].rule_kinds = kinds  # read by the template (data-rule-kinds)
            self.fields[name].rule_target = name in TARGET_FIELDS

    def service_kwargs(self) -> tuple[dict, list]:
        data = dict(self.cleaned_data)
        exclusoes = list(data.pop("exclusoes", []) or [])
        for name in _DEFAULTED:
            if data.get(name) is None:
                data.pop(name, None)  # blank: the model's default
        return data, exclusoes


class AlarmeFilterForm(forms.Form):
    estado = forms.ChoiceField(
        label=_("Estado"), required=False, choices=[("", _("Todos")), *EstadoAlarme.choices]
    )
    severidade = forms.ChoiceField(
        label=_("Severidade"), required=False, choices=[("", _("Todas")), *Severidade.choices]
    )
    gateway = forms.ModelChoiceField(
        label=_("Gateway"), required=False, queryset=Gateway.objects.none(), empty_label=_("Todos")
    )
    regra = forms.ModelChoiceField(
        label=_("Regra"),
        required=False,
        queryset=RegraAlarme.objects.none(),
        empty_label=_("Todas"),
    )

    def __init__(self, *args, conta: Conta, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["gateway"].queryset = Gateway.objects.filter(conta=conta)
        self.fields["regra"].queryset = RegraAlarme.objects.filter(conta=conta)
        bootstrapify(self)

    def selector_kwargs(self) -> dict:
        if not self.is_valid():
            return {}
        d = self.cleaned_data
        return {
            "estado": d.get("estado") or "",
            "severidade": d.get("severidade") or "",
            "gateway_id": d["gateway"].pk if d.get("gateway") else None,
            "regra_id": d["regra"].pk if d.get("regra") else None,
        }


class ComentarioForm(forms.Form):
    comentario = forms.CharField(
        label=_("Comentário"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"}),
    )
