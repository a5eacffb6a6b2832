from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ContasConfig(AppConfig):
    name = "contas"
    verbose_name = _("Contas e usuários")
