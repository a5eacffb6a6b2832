"""Forms of the notification pages. They convert and render; the services validate."""

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from alarmes.models import RegraAlarme
from contas.forms import ServiceModelForm
from dispositivos.models import Gateway

from .models import ConfiguracaoNotificacao, DestinoNotificacao, PreferenciaMembro
from .outbox import membros


class DestinoForm(ServiceModelForm):
    # Declared empty: __init__ narrows each to the active account (no unscoped queryset).
    membro = forms.ModelChoiceField(
        label=_("Membro"), queryset=get_user_model().objects.none(), required=False
    )
    webhook_url = forms.URLField(
        label=_("URL do webhook"),
        max_length=500,
        required=False,
        assume_scheme="https",
        help_text=_(
            "Recebe um POST JSON assinado (HMAC-SHA256). WhatsApp e SMS: use o webhook do "
            "seu provedor."
        ),
    )
    gateways = forms.ModelMultipleChoiceField(
        label=_("Somente estes gateways"),
        queryset=Gateway.objects.none(),
        required=False,
        help_text=_("Nenhum marcado: todos os gateways."),
        widget=forms.CheckboxSelectMultiple,
    )
    regras = forms.ModelMultipleChoiceField(
        label=_("Somente estas regras"),
        queryset=RegraAlarme.objects.none(),
        required=False,
        help_text=_("Nenhuma marcada: todas as regras."),
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = DestinoNotificacao
        fields = [
            "nome",
            "tipo",
            "membro",
            "email",
            "webhook_url",
            "telegram_chat_id",
            "telegram_bot_token",
            "severidade_minima",
            "gateways",
            "regras",
            "ativo",
        ]
        help_texts = {
            "severidade_minima": _("Recebe alarmes desta severidade e das mais graves."),
        }
        widgets = {"telegram_bot_token": forms.PasswordInput(render_value=True)}

    def __init__(self, *args, conta, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["membro"].queryset = (
            get_user_model()
            .objects.filter(pk__in=membros(conta=conta).values("user_id"))
            .order_by("email")
        )
        self.fields["gateways"].queryset = Gateway.objects.filter(conta=conta).order_by("codigo")
        self.fields["regras"].queryset = RegraAlarme.objects.filter(conta=conta).order_by("nome")
        for name in ("gateways", "regras"):
            self.fields[name].widget.attrs["class"] = "form-check-input"


class PreferenciaForm(ServiceModelForm):
    class Meta:
        model = PreferenciaMembro
        fields = [
            "receber_email",
            "receber_telegram",
            "telegram_chat_id",
            "silencio_inicio",
            "silencio_fim",
            "resumo_diario",
        ]
        widgets = {
            "silencio_inicio": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "silencio_fim": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        }
        help_texts = {
            "silencio_inicio": _("Alarmes críticos chegam mesmo no silêncio."),
            "resumo_diario": _(
                "Todo dia de manhã: alarmes abertos, disparados e encerrados ontem, "
                "gateways offline e o consumo de ontem."
            ),
        }


class ConfiguracaoForm(ServiceModelForm):
    class Meta:
        model = ConfiguracaoNotificacao
        fields = ["lembrete_minutos", "escalonamento_minutos"]
