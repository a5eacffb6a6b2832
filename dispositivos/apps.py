from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DispositivosConfig(AppConfig):
    name = "dispositivos"
    verbose_name = _("Gateways e dispositivos")
