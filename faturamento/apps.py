from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FaturamentoConfig(AppConfig):
    name = "faturamento"
    verbose_name = _("Faturamento e rateio")
