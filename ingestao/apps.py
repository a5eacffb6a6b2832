from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IngestaoConfig(AppConfig):
    name = "ingestao"
    verbose_name = _("Ingestão MQTT")

    def ready(self):
        from telemetria.selectors import register_dashboard_count

        from .selectors import rejeitadas_24h_count

        register_dashboard_count(name="rejeitadas_24h", count=rejeitadas_24h_count)
