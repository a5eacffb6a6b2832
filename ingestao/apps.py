from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IngestaoConfig(AppConfig):
    name = "ingestao"
    verbose_name = _("Ingestão MQTT")
