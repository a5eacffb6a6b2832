from django import forms
from django.utils.translation import gettext_lazy as _

from .models import RevocationReason

MAX_CSR_BYTES = 16 * 1024


class IssueForm(forms.Form):
    """Either a CSR (file or pasted PEM) or nothing: then the key is generated here."""

    csr_file = forms.FileField(
        label=_("Arquivo CSR (PEM)"),
        required=False,
        help_text=_("Preferível: o CSR gerado no gateway; a chave privada não sai do aparelho."),
    )
    csr = forms.CharField(
        label=_("ou cole o CSR"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6, "class": "form-control font-monospace"}),
        help_text=_(
            "Sem CSR, a plataforma gera a chave e a entrega uma única vez no arquivo .zip."
        ),
    )

    def clean(self):
        data = super().clean()
        upload = data.get("csr_file")
        if upload is not None:
            if upload.size > MAX_CSR_BYTES:
                self.add_error("csr_file", _("Arquivo grande demais para um CSR."))
                return data
            data["csr_pem"] = upload.read()
        elif (data.get("csr") or "").strip():
            data["csr_pem"] = data["csr"].strip().encode()
        else:
            data["csr_pem"] = None
        return data


class RevokeForm(forms.Form):
    reason = forms.ChoiceField(label=_("Motivo"), choices=RevocationReason.choices)
