from datetime import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from contas.forms import ServiceModelForm, bootstrapify
from tds_core.forms import decimal_br_formfield

from .models import ConfigFaturamento, Fatura, Utilidade
from .services import faixas_text, parse_faixas


class ConfigForm(ServiceModelForm):
    class Meta:
        model = ConfigFaturamento
        formfield_callback = decimal_br_formfield
        fields = ["dia_fechamento", "perda_limite_pct"]
        localized_fields = ["perda_limite_pct"]


class AbrirPeriodoForm(forms.Form):
    referencia = forms.CharField(
        label=_("Mês de referência"),
        widget=forms.DateInput(attrs={"type": "month"}),
        help_text=_("Ex.: 2026-10"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        bootstrapify(self)

    def clean_referencia(self):
        text = self.cleaned_data["referencia"].strip()
        for fmt in ("%Y-%m", "%m/%Y"):
            try:
                return datetime.strptime(text, fmt).date().replace(day=1)  # noqa: DTZ007
            except ValueError:
                continue
        raise ValidationError(_("Informe o mês como AAAA-MM ou MM/AAAA."))


class FaturaForm(ServiceModelForm):
    tipo = forms.ChoiceField(label=_("Utilidade"), choices=Utilidade.choices)
    faixas_texto = forms.CharField(
        label=_("Faixas"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": "10 ; 4,50\n20 ; 7,10\n ; 12,00"}),
        help_text=_(
            'Uma faixa por linha: "até ; preço por unidade". Deixe o "até" da última vazio.'
        ),
    )

    class Meta:
        model = Fatura
        formfield_callback = decimal_br_formfield
        fields = [
            "valor_total", "consumo_concessionaria", "modo", "preco_unitario", "valor_minimo",
            "esgoto_pct", "metodo_comum", "usar_estimativas",
        ]  # fmt: skip
        localized_fields = "__all__"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance and self.instance.pk:
            self.fields["tipo"].initial = self.instance.tipo
            self.fields["tipo"].disabled = True
            self.fields["faixas_texto"].initial = faixas_text(self.instance.faixas)
        self.order_fields(["tipo", "valor_total", "consumo_concessionaria", "modo", "faixas_texto"])
        bootstrapify(self)

    def clean_faixas_texto(self):
        return parse_faixas(self.cleaned_data.get("faixas_texto", ""))


class CorrecaoForm(forms.Form):
    motivo = forms.CharField(
        label=_("Motivo da correção"), widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        bootstrapify(self)
