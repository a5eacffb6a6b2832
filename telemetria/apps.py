from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TelemetriaConfig(AppConfig):
    name = "telemetria"
    verbose_name = _("Telemetria")
