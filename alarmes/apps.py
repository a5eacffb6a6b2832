from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AlarmesConfig(AppConfig):
    name = "alarmes"
    verbose_name = _("Alarmes")

    def ready(self):
        from . import receivers  # noqa: F401  (rule-cache invalidation)
