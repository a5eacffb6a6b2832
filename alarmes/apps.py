from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AlarmesConfig(AppConfig):
    name = "alarmes"
    verbose_name = _("Alarmes")

    def ready(self):
        from ingestao.hooks import register_post_commit

        from . import receivers  # noqa: F401  (rule-cache invalidation)
        from .engine import evaluate_committed_readings

        register_post_commit(evaluate_committed_readings)
