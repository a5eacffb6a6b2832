from django import forms
from django.utils.translation import gettext_lazy as _

from contas.forms import ServiceModelForm, bootstrapify
from tds_core.forms import DecimalBRField

from .models import Papel, Unidade


class UnidadeForm(ServiceModelForm):
    fracao_ideal = DecimalBRField(
        label=_("Fração ideal"), max_digits=10, decimal_places=8,
        help_text=Unidade._meta.get_field("fracao_ideal").help_text,
    )  # fmt: skip

    class Meta:
        model = Unidade
        fields = ["bloco", "numero", "fracao_ideal", "responsavel", "email"]


class ImportForm(forms.Form):
    arquivo = forms.FileField(
        label=_("Planilha (.csv ou .xlsx)"),
        help_text=_("Colunas: bloco, numero, fracao_ideal, responsavel, email (primeira linha)."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        bootstrapify(self)


class MedicaoForm(forms.Form):
    papel = forms.ChoiceField(
        label=_("Mede"), required=False, choices=[("", _("— não classificado —")), *Papel.choices]
    )
    unidade = forms.ModelChoiceField(
        label=_("Unidade"), queryset=Unidade.objects.none(), required=False
    )

    def __init__(self, *args, conta, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unidade"].queryset = Unidade.objects.filter(conta=conta).order_by(
            "bloco", "numero"
        )
        bootstrapify(self)


class MoradorLinkForm(forms.Form):
    membership = forms.ModelChoiceField(label=_("Morador"), queryset=None)

    def __init__(self, *args, queryset, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["membership"].queryset = queryset
        self.fields["membership"].label_from_instance = lambda m: m.user.email
        bootstrapify(self)
