from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Escopo


class ApiTokenForm(forms.Form):
    nome = forms.CharField(
        label=_("Nome"),
        max_length=80,
        help_text=_("Para que serve o token, ex.: integração ERP."),
    )
    escopo = forms.ChoiceField(
        label=_("Escopo"),
        choices=Escopo.choices,
        initial=Escopo.LEITURA,
        required=False,  # absent: read-only, as every token was before scopes
        help_text=_("Escrita: criar/alterar regras de alarme, reconhecer e encerrar alarmes."),
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
