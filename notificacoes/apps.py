from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificacoesConfig(AppConfig):
    name = "notificacoes"
    verbose_name = _("Notificações")

    def ready(self):
        from . import receivers  # noqa: F401  (connects to alarmes.signals.alarm_transitioned)
