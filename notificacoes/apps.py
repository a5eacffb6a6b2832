from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificacoesConfig(AppConfig):
    name = "notificacoes"
    verbose_name = _("Notificações")

    def ready(self):
        from alarmes.links import register_alarm_link

        from . import receivers  # noqa: F401  (connects to alarmes.signals.alarm_transitioned)
        from .links import entregas_url

        # The alarm page links to its delivery log (alarmes does not import notificacoes).
        register_alarm_link(key="entregas", label=_("Registro de entregas"), url=entregas_url)
