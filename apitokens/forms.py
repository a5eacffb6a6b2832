from django import forms
from django.utils.translation import gettext_lazy as _


class ApiTokenForm(forms.Form):
    nome = forms.CharField(
        label=_("Nome"),
        max_length=80,
        help_text=_("Para que serve o token, ex.: integração ERP."),
    )
