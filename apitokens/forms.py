from django import forms
from django.utils.translation import gettext_lazy as _


class ApiTokenForm(forms.Form):
    nome = forms.CharField(
        label=_("Nome"),
        max_length=80,
        help_text=_("Para que serve o token, ex.: integração ERP."),
    )

    validade_dias = forms.TypedChoiceField(
        label=_("Validade"),
        choices=[
            ("", _("sem validade (até ser revogado)")),
            (30, _("30 dias")),
            (90, _("90 dias")),
            (365, _("1 ano")),
        ],
        coerce=int,
        empty_value=None,
        required=False,
    )
