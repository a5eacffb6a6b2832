from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApitokensConfig(AppConfig):
    name = "apitokens"
    verbose_name = _("Tokens de API")
